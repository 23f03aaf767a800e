//! Advice for each error a user can hit: the `hint:` lines under `error:`. Advice names
//! commands, flags, configuration keys and variables, so it is chosen here, at the command
//! line's edge, per error variant; the library's errors carry only what went wrong.

use std::path::Path;

use crate::config::{ConfigError, Origin, SandboxMode, redact_command};
use crate::forge::ForgeError;
use crate::git::GitError;
use crate::issue::IssueError;
use crate::llm::{FailureClass, LlmError};
use crate::ops::action::ActionError;
use crate::ops::init::InitError;
use crate::pipeline::{LockError, OVERRIDE_DIR, PipelineError};

pub fn pipeline(error: &PipelineError) -> Vec<String> {
    match error {
        PipelineError::Git(e) => git(e),
        PipelineError::Forge(e) => forge(e),
        PipelineError::IsPullRequest { .. } => vec![
            "give the number of the issue the pull request is for".into(),
        ],
        PipelineError::IssueNotOpen { number, .. } => vec![format!(
            "to work on it anyway: git orchestrate {number} --force"
        )],
        PipelineError::RecordNotPushed { remote, branch, .. } => vec![format!(
            "publish the record when the remote takes it: git push {remote} {branch} (here `git orchestrate status` already shows the pull request)"
        )],
        PipelineError::NoPullRequestBase { .. } => vec![
            "name the branch the pull request goes into: --base main".into(),
        ],
        PipelineError::NoBaseToMerge { .. } => vec![
            "name the branch to merge: --update-base --base main (or switch to it first)".into(),
        ],
        PipelineError::BaseConflict {
            issue,
            base,
            branch,
            ..
        } => vec![
            format!("{branch}, its worktree and your checkout are as they were"),
            format!(
                "merge it yourself and commit the resolution: `git switch {branch} && git merge {base}`, resolve, `git commit`, `git switch -`; then run `git orchestrate {issue}` again"
            ),
            "or run without --update-base: impl then works on the branch's code as it is".into(),
        ],
        PipelineError::Issue(e) => issue(e),
        PipelineError::Lock(e) => lock(e),
        PipelineError::Prompt(_) => prompt(),
        PipelineError::Model { source, .. } | PipelineError::ModelSetup { source, .. } => {
            llm(source)
        }
        PipelineError::NoDefaults { stage, role, .. } => vec![format!(
            "or give one for this run: -c stages.{stage}.{}=\"cmd:claude -p\"",
            role.name()
        )],
        PipelineError::NoPrice { model, .. } => {
            let id = model.split_once(':').map(|(_, m)| m).unwrap_or(model);
            vec![format!(
                "give its price in USD per million tokens:\n[prices.\"{id}\"]\ninput = 1.0\noutput = 2.0"
            )]
        }
        PipelineError::Unmetered { model, .. } => vec![
            "remove [budget] to use it: programs run through cmd: never report tokens".into(),
            format!(
                "or, if its calls cost nothing (a subscription, a local model), declare it free:\n[prices.\"{model}\"]\ninput = 0.0\noutput = 0.0"
            ),
        ],
        PipelineError::OverBudget { .. } => vec![
            "raise [budget] max_usd_per_issue or max_usd_per_stage (or [budget.stages]) to go on".into(),
        ],
        PipelineError::Llm(e) => llm(e),
        PipelineError::NoModel { stage, role } => vec![
            format!("name one in .orchestrate.toml, for example:\n[stages.{stage}]\n{} = \"cmd:claude -p\"", role.name()),
            format!("or for this run only: -c stages.{stage}.{}=\"cmd:claude -p\"", role.name()),
        ],
        PipelineError::BareRepository { .. } => vec![
            "run it in a clone with a work tree (`git clone` the repository, then run there)".into(),
        ],
        PipelineError::DetachedHead { .. } => vec![
            "name the base branch: --base main (or switch to a branch first)".into(),
        ],
        PipelineError::UnbornHead { .. } => vec![
            "make a first commit, or name a base that has commits: --base BRANCH".into(),
        ],
        PipelineError::BaseNotFound { .. } => {
            vec!["list branches with `git branch -a`; fetch a remote one first if needed".into()]
        }
        PipelineError::AmbiguousBranch { branches, .. } => vec![format!(
            "keep one and delete the others: git branch -D {}",
            branches.iter().skip(1).cloned().collect::<Vec<_>>().join(" ")
        )],
        PipelineError::BranchCheckedOut { .. } => vec![
            "switch that checkout to another branch (for example `git switch -`), then run again".into(),
        ],
        PipelineError::BranchBlocked {
            blocking, prefix, ..
        } => vec![
            format!(
                "rename that branch, for example: git branch -m {blocking} {}-old",
                blocking.replace('/', "-")
            ),
            format!(
                "or change orchestrator.branch_prefix (now \"{prefix}\") in .orchestrate.toml, for example to \"issues/\"; issue branches under the old prefix are then no longer found"
            ),
        ],
        PipelineError::CheckedOutDuringRun {
            branch,
            path,
            files,
            saved_to,
            ..
        } => match saved_to {
            Some(dir) => vec![
                format!(
                    "to commit the saved work on {branch} in that checkout, run:\n{}",
                    apply_saved(path, dir, files)
                ),
                "or switch that checkout to another branch (`git switch -`) and run again: finished stages are kept, this one runs again".into(),
            ],
            None => vec![
                "switch that checkout to another branch (`git switch -`), then run again: finished stages are kept".into(),
            ],
        },
        PipelineError::ResumeIncomplete { stage, .. } => vec![
            "run without --resume-from to finish the earlier stages first".into(),
            format!("or go on without it: --skip {stage}"),
        ],
        PipelineError::NoBranch { issue, prefix } => vec![format!(
            "start the issue first: git orchestrate {issue} (from GitHub; or --issue-file ISSUE.md); its branch will be {prefix}{issue}-..."
        )],
        PipelineError::WrongSettings { .. } => vec![
            "this is a bug in git-orchestrate: please report it with the command you ran".into(),
        ],
        PipelineError::NoTestCommand => vec![
            "say how to run the tests in .orchestrate.toml:\n[stages.impl]\ntest_command = \"make check\"".into(),
            "or for this run only: -c stages.impl.test_command='make check'".into(),
            "or stop before the code with --until spec".into(),
        ],
        PipelineError::IssueOnOtherHost { url_host, .. } => vec![
            format!("for a GitHub Enterprise server at {url_host}: -c github.api_url=https://{url_host}/api/v3 (or api_url under [github] in .orchestrate.toml)"),
            "for an issue on another forge (GitLab, Gitea...): write it to a file and run with --issue-file ISSUE.md".into(),
        ],
        PipelineError::Uncontained { .. } => vec![
            "`git orchestrate doctor` says what this machine offers: Landlock (Linux 5.13 or later, enabled at boot) and user namespaces (sysctl kernel.unprivileged_userns_clone=1, or AppArmor's restrict_unprivileged_userns=0)".into(),
            "to run uncontained anyway, knowing what it means: -c sandbox.mode=auto (contain what can be) or -c sandbox.mode=off".into(),
        ],
        PipelineError::Tests { .. } => vec![
            "check that the test command runs in a clean clone: stages.impl.test_command".into(),
        ],
        PipelineError::Protected { .. } => vec![
            "write stages.impl.protected as globs, as in .gitignore: [\".github/workflows/**\"]".into(),
        ],
        PipelineError::Worktree { .. } | PipelineError::SaveRecovered { .. } => vec![
            "check the permissions and free space of the repository's .git directory".into(),
            "`git orchestrate clean ISSUE` removes the issue's worktree; the next run makes it again".into(),
        ],
        PipelineError::WorktreeRemoved { issue, .. } => vec![
            format!("run `git orchestrate {issue}` again: the worktree is made again at the branch, and the stage starts over from the code there"),
            "if the agent keeps doing it, tell it in the prompt, or contain it: sandbox.mode = \"required\" lets it write only inside the worktree".into(),
        ],
        PipelineError::NotAtGate { issue, .. } => {
            vec![format!("`git orchestrate status {issue}` shows where the issue stands")]
        }
        PipelineError::BranchMoved { moved, saved_to } => {
            let mut hints = git(moved);
            if let Some(dir) = saved_to {
                hints.insert(
                    0,
                    format!("the work that could not be committed is saved in {}", dir.display()),
                );
            }
            hints
        }
        PipelineError::UnpushedBranch { issue, branch, .. } => vec![
            format!("push it first (git push -u origin {branch}), or delete it anyway: git orchestrate clean {issue} --branch --force"),
        ],
        PipelineError::OthersCommits { issue, branch, .. } => vec![
            format!("those commits are a person's work and exist only on this branch: `git log {branch}` shows them"),
            format!("to delete it anyway, with them: git orchestrate clean {issue} --branch --force"),
        ],
        PipelineError::UnsavedWorktree { issue, branch, .. } => {
            let branch = if *branch { " --branch" } else { "" };
            vec![
                format!("nothing of #{issue} was removed; once the place named above takes them (a writable directory with free space), clean again"),
                format!("or remove the worktree anyway, losing those changes: git orchestrate clean {issue}{branch} --force"),
            ]
        }
        PipelineError::RemoveState { .. } => vec![],
        PipelineError::Contained { model, .. } => vec![
            format!("{model} runs as you, outside any sandbox: it must answer on its standard output and write nothing in the repository"),
            "what could be undone (hooks, config, info/, refs) was; the files named in the checkout are as the program left them: `git status` shows them".into(),
        ],
        PipelineError::Interrupted => vec![],
    }
}

/// Shell commands that commit work saved under `dir` (its `files` and `COMMIT_MESSAGE`) on the
/// branch checked out in `checkout`, committing only those files whatever else is staged there.
/// One command per line, joined by `&&` so that pasting them stops at the first failure.
fn apply_saved(checkout: &Path, dir: &Path, files: &[String]) -> String {
    let quote = |path: &Path| sh_quote(&path.display().to_string());
    let cd = format!("cd {}", quote(checkout));
    let message = quote(&dir.join("COMMIT_MESSAGE"));
    if files.is_empty() {
        return format!("{cd} &&\ngit commit --only --allow-empty -F {message}");
    }
    let mut tops: Vec<&str> = files
        .iter()
        .map(|f| f.split('/').next().unwrap_or(f))
        .collect();
    tops.sort_unstable();
    tops.dedup();
    let sources: Vec<String> = tops.iter().map(|top| quote(&dir.join(top))).collect();
    let paths: Vec<String> = files.iter().map(|f| sh_quote(f)).collect();
    let paths = paths.join(" ");
    format!(
        "{cd} &&\ncp -R {} . &&\ngit add -- {paths} &&\ngit commit -F {message} -- {paths}",
        sources.join(" ")
    )
}

/// `text` as one word for `sh`: single-quoted unless it is plainly safe.
fn sh_quote(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+:@%,=".contains(c));
    if plain {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

/// Advice for an `eval` error (those of the pipeline go through [`pipeline`]).
pub fn eval(error: &crate::ops::eval::EvalError) -> Vec<String> {
    use crate::ops::eval::EvalError;
    match error {
        EvalError::Pipeline(e) => pipeline(e),
        EvalError::NoSuchRun { dir, .. } | EvalError::BadRunId { dir: Some(dir), .. } => {
            vec![format!(
                "the runs kept are the directories of {}; each run's id is printed when it starts",
                dir.display()
            )]
        }
        EvalError::BadRunId { dir: None, .. } => {
            vec!["a run id is what `git orchestrate eval` printed when the run started (20260107-093000)".into()]
        }
        EvalError::Io { path, .. } => vec![format!(
            "check the permissions and free space of {}",
            path.display()
        )],
        EvalError::BadRecord { path, .. } => vec![format!(
            "the file was changed by hand or by another version of git-orchestrate; remove {} to start that run again",
            path.display()
        )],
        EvalError::NoReport { run_id } => vec![format!(
            "finish it first: git orchestrate eval --resume {run_id}"
        )],
        EvalError::Range { range, .. } => vec![format!(
            "a range is what `git log {range}` accepts: main~20..main, v1.0..v1.1"
        )],
    }
}

pub fn action(error: &ActionError) -> Vec<String> {
    match error {
        ActionError::NotInActions { .. } => vec![
            "`git orchestrate action` is a step of a GitHub Actions workflow on `issues` and `issue_comment` events".into(),
            "to run an issue here instead: git orchestrate <ISSUE> (approve or reject with `git orchestrate approve|reject <ISSUE>`)".into(),
        ],
        ActionError::BadEvent { .. } => vec![
            "GitHub Actions writes that file for the event that started the job; run `action` only from a workflow triggered by `issues` or `issue_comment`".into(),
        ],
        ActionError::OtherRepository { event, .. } => vec![format!(
            "work with the event's repository: set github.repo = \"{event}\" in .orchestrate.toml, or point github.remote at it"
        )],
        ActionError::Pipeline(e) => pipeline(e),
        ActionError::NotPushed { run, push } => {
            let mut hints = pipeline(push);
            hints.extend(pipeline(run));
            hints.push("the decision or drafts of this job are lost with the runner: once the push works, comment the same `/orchestrate` command again".into());
            hints
        }
        ActionError::ReadEvent { .. } | ActionError::NoIssue => vec![],
    }
}

/// Advice for `init`; `github_action`: the workflow was asked for too.
pub fn init(error: &InitError, github_action: bool) -> Vec<String> {
    match error {
        InitError::Git(e) => git(e),
        InitError::BareRepository { .. } => vec![
            "run it in a clone with a work tree (`git clone` the repository, then run there)"
                .into(),
        ],
        InitError::Exists { path } => {
            let flags = if github_action {
                " --github-action"
            } else {
                ""
            };
            let mut hints = vec![format!(
                "to replace it with a new one: git orchestrate init{flags} --force (what {} says now is lost)",
                path.file_name()
                    .map(|n| n.to_string_lossy())
                    .unwrap_or_default()
            )];
            if !github_action {
                hints.push(
                    "to add only the GitHub Actions workflow, keeping it: git orchestrate init --github-action"
                        .into(),
                );
            }
            hints
        }
        InitError::Write { path, .. } => vec![format!(
            "check that you may write in {} (its permissions, a file in the way, free space)",
            path.parent().unwrap_or(path).display()
        )],
        InitError::Config(e) => config(e),
        InitError::Probe { .. } => vec![],
    }
}

pub fn config(error: &ConfigError) -> Vec<String> {
    match error {
        ConfigError::Read { .. } => vec![],
        ConfigError::Syntax { .. } => {
            vec!["fix the TOML syntax at that line (https://toml.io)".into()]
        }
        ConfigError::BadOverride { .. } => vec![
            "write -c KEY=VALUE with a dotted key, for example -c gates.after_lld=true".into(),
        ],
        ConfigError::Invalid {
            wrong_type: true,
            origin: Origin::Override { .. },
            ..
        } => vec![
            "-c reads VALUE as TOML: numbers and true/false as written, anything else as a string"
                .into(),
        ],
        ConfigError::Invalid {
            wrong_type: true, ..
        } => vec![
            "write the value with the type the key expects (strings need quotes; see the configuration section of the README)".into(),
        ],
        ConfigError::Invalid { hint, .. } => hint.iter().cloned().collect(),
    }
}

pub fn git(error: &GitError) -> Vec<String> {
    match error {
        GitError::NotARepository { .. } => vec![
            "run git orchestrate inside a git repository (or create one with `git init`)"
                .into(),
        ],
        GitError::ObjectFormat { .. } => vec![
            "git-orchestrate is built on libgit2, which reads SHA-1 repositories only: run it in a SHA-1 repository of the project (`git init --object-format=sha1`, the default)".into(),
        ],
        GitError::Reftable { .. } => vec![
            "convert the repository with `git refs migrate --ref-format=files`, or run in a clone that uses the files backend".into(),
        ],
        GitError::BranchMoved { branch, .. } => vec![
            format!("someone else committed to {branch} during the run; nothing of theirs was overwritten"),
            "look at the branch (`git log` it), then re-run: finished stages are kept and the run continues from the new tip".into(),
        ],
        GitError::Identity { .. } => vec![
            "tell git who you are: git config --global user.name \"Your Name\" && git config --global user.email you@example.com".into(),
        ],
        GitError::CheckedOut { .. } => vec![
            "switch that checkout to another branch (for example `git switch -`), then run again".into(),
        ],
        GitError::Spawn { .. } => vec!["make sure the `git` program is on PATH".into()],
        GitError::NotOurWorktree { issue, path } => vec![format!(
            "that place belongs to the issue's worktree: move {} elsewhere if you need it, or delete it with `git orchestrate clean {issue}`, then run again",
            path.display()
        )],
        GitError::WorktreeIo { .. } => vec![],
        GitError::PushRejected { remote, branch, .. } => vec![format!(
            "look at what was pushed (`git fetch {remote}` then `git log {remote}/{branch}`), then bring the branch up to date and run again"
        )],
        GitError::PushRefused { detail, .. } => {
            let mut hints = Vec::new();
            if !detail.is_empty() {
                hints.push(format!("the remote said: {detail}"));
            }
            hints.push("the remote's rules (a protected branch, a hook) refuse this push: push to another branch, or ask who owns the repository".into());
            hints
        }
        GitError::PushTimedOut { remote, .. } | GitError::PushFailed { remote, .. } => vec![
            format!("check that `git push {remote}` works on its own without asking for anything: a credential helper or an ssh agent must answer, since nothing here prompts"),
        ],
        GitError::FetchTimedOut { remote, .. } | GitError::FetchFailed { remote, .. } => vec![
            format!("check that `git fetch {remote}` works on its own without asking for anything: a credential helper or an ssh agent must answer, since nothing here prompts"),
        ],
        GitError::Open { .. }
        | GitError::Git { .. }
        | GitError::Command { .. }
        | GitError::Process { .. } => vec![],
    }
}

pub fn forge(error: &ForgeError) -> Vec<String> {
    let not_github = || {
        vec![
            "name the GitHub repository: -c github.repo=owner/name (or `repo` under [github] in .orchestrate.toml)".into(),
            "or work without GitHub: --issue-file ISSUE.md --until impl".into(),
        ]
    };
    match error {
        ForgeError::NotGitHub { .. } => {
            let mut hints = vec![
                "on GitHub Enterprise, set the API's root: -c github.api_url=https://HOST/api/v3"
                    .to_string(),
            ];
            hints.extend(not_github());
            hints
        }
        ForgeError::BadRepo { .. } => not_github(),
        ForgeError::NoRemote { remote } => {
            let mut hints = vec![format!(
                "add it: git remote add {remote} https://github.com/OWNER/REPO.git, or choose another remote with -c github.remote=NAME"
            )];
            hints.extend(not_github());
            hints
        }
        ForgeError::BadApiUrl { .. } => vec![
            "github.api_url is the REST API's root: https://github.example.com/api/v3 for GitHub Enterprise; unset for github.com".into(),
        ],
        ForgeError::NoToken { host } => vec![
            "export GITHUB_TOKEN=... (a token with access to the repository's issues, pull requests and contents)".into(),
            "or export GH_TOKEN=...".into(),
            format!("or log in with the GitHub CLI once: gh auth login --hostname {host}"),
            format!("or store a token for https://{host} in a git credential helper (`git credential fill` is asked, never prompting)"),
        ],
        ForgeError::BadCredentials { token_source, .. } => vec![format!(
            "the token from {token_source} is wrong, expired or revoked: replace it (GITHUB_TOKEN and GH_TOKEN are read before `gh auth token` and git's credential helpers)"
        )],
        ForgeError::RateLimited { .. } => vec![
            "run again after that time; finished stages are kept".into(),
            "or wait longer next time: -c github.max_wait=1h".into(),
        ],
        ForgeError::SecondaryRateLimited { .. } => vec![
            "run again in a few minutes; finished stages are kept".into(),
            "or wait longer next time: -c github.max_wait=10m".into(),
        ],
        ForgeError::NotFound { .. } => vec![
            "check the issue number and the repository (github.remote, github.repo)".into(),
            "a private repository needs a token that can read it (a classic token's `repo` scope, or a fine-grained token with Issues: read)".into(),
        ],
        ForgeError::Forbidden { .. } => vec![
            "the token needs write access to pull requests and contents (a classic token's `repo` scope)".into(),
        ],
        ForgeError::Unprocessable { .. } | ForgeError::Status { .. } => vec![
            "check that the base branch exists on GitHub (--base) and that the branch was pushed".into(),
        ],
        ForgeError::Network { dns: true, .. } => vec![
            "check this machine's network connection and DNS (and HTTPS_PROXY, where a proxy is needed), then run again: finished stages are kept".into(),
            "for GitHub Enterprise, check the host in github.api_url".into(),
        ],
        ForgeError::Server { .. } | ForgeError::Network { .. } | ForgeError::TimedOut { .. } => {
            vec![
                "run again later; finished stages are kept, and a pull request made meanwhile is found, not duplicated".into(),
                "GitHub's status: https://www.githubstatus.com".into(),
            ]
        }
        ForgeError::Malformed { .. } => vec![
            "check github.api_url: it must be the REST API's root (https://HOST/api/v3 for GitHub Enterprise)".into(),
        ],
    }
}

pub fn issue(error: &IssueError) -> Vec<String> {
    match error {
        IssueError::Read { .. } => {
            vec!["check the path given to --issue-file (relative paths start at the current directory)".into()]
        }
        IssueError::Empty { .. } => {
            vec!["write the issue in Markdown: a `# Title` line, then the description".into()]
        }
        IssueError::TooLarge { .. } => vec![
            "an issue is a title and a description: check that --issue-file names the issue's Markdown file, and link large material (logs, data) rather than pasting it".into(),
        ],
        IssueError::NotUtf8 { .. } => {
            vec!["save the file as UTF-8 (for example `iconv -t UTF-8`)".into()]
        }
    }
}

fn lock(error: &LockError) -> Vec<String> {
    match error {
        LockError::Busy { issue, .. } => vec![format!(
            "wait for that run to finish, or stop it; `git orchestrate status {issue}` shows its progress"
        )],
        LockError::Io { .. } => vec![],
    }
}

fn prompt() -> Vec<String> {
    vec![format!(
        "fix or remove the file; without it the built-in template is used ({OVERRIDE_DIR}/<name>.md)"
    )]
}

pub fn llm(error: &LlmError) -> Vec<String> {
    match error {
        LlmError::Retried { last: source, .. } => {
            let mut hints = llm(source);
            if source.class() == FailureClass::Transient {
                hints.push("finished stages are kept: run the same command again later to go on".into());
            }
            hints
        }
        LlmError::Spawn { .. } => vec!["check that `sh` can run on this machine".into()],
        LlmError::Exit {
            command, not_found, ..
        } => {
            if *not_found {
                let program = command.split_whitespace().next().unwrap_or(command);
                vec![format!(
                    "`{program}` was not found: install it, put it on PATH, or fix the model in .orchestrate.toml"
                )]
            } else {
                vec![format!(
                    "run `{}` by hand with the prompt on stdin to see what it does",
                    redact_command(command)
                )]
            }
        }
        LlmError::TimedOut { model, .. } => {
            let provider = model.split(':').next().unwrap_or("cmd");
            vec![format!(
                "raise the limit with [providers.{provider}] timeout = \"40m\" if the model needs longer"
            )]
        }
        LlmError::Empty { model, .. } if model.starts_with("cmd:") => vec![
            "a model program must print its answer on stdout; check that it reads the prompt from stdin".into(),
        ],
        LlmError::Empty { .. } => {
            vec!["the model produced no text; try again, or another model".into()]
        }
        LlmError::ReplyTooLarge { .. } => vec![
            "a model program must print only its answer on stdout; send logs and progress to stderr".into(),
        ],
        LlmError::NotText { model, .. } if model.starts_with("cmd:") => vec![
            "a model program must print its answer on stdout as UTF-8 text; check what it prints with `... | od -c | head`".into(),
        ],
        LlmError::NotText { .. } => vec![
            "the model sent something that is no document; try again, or another model".into(),
        ],
        LlmError::Unsupported { provider } => vec![format!(
            "the {provider} provider comes with the impl stage; drafters and reviewers can use cmd:, anthropic:, gemini:, openai: or ollama:"
        )],
        LlmError::MissingKey { provider, vars } if vars.iter().any(|v| v.starts_with("api_key_env")) => vec![
            format!("name the environment variable that holds its key: [providers.{provider}] api_key_env = \"MY_KEY_VAR\""),
        ],
        LlmError::MissingKey { provider, vars } => vec![
            format!("export {}=... (the key is read from the environment, never from files)", vars[0]),
            format!("or name the variable that holds it: [providers.{provider}] api_key_env = \"MY_KEY_VAR\""),
        ],
        LlmError::Http {
            provider,
            model,
            status,
            message,
            ..
        } => http_hints(provider, model, *status, message),
        LlmError::Connect {
            provider,
            dns: true,
            ..
        } => vec![
            "check this machine's network connection and DNS (and HTTPS_PROXY, where a proxy is needed), then run again: finished stages are kept".into(),
            format!("if the host name itself is wrong, fix [providers.{provider}] base_url"),
        ],
        LlmError::Connect { provider, url, .. } => vec![
            format!("check that {url} is right and the server is running ([providers.{provider}] base_url)"),
        ],
        LlmError::Idle { .. } | LlmError::Dropped { .. } => vec![
            "the connection or the provider failed mid-reply; run again to retry (finished stages are kept)".into(),
        ],
        LlmError::Malformed { model, .. } => {
            let provider = model.split(':').next().unwrap_or("the provider");
            vec![format!(
                "check that [providers.{provider}] base_url reaches the vendor's own API, or a proxy that passes its stream through unchanged"
            )]
        }
        LlmError::Truncated { model, .. } => {
            let provider = model.split(':').next().unwrap_or("the provider");
            vec![format!(
                "raise [providers.{provider}] max_output_tokens, or ask for a shorter document in the prompt templates"
            )]
        }
        LlmError::Refused { .. } => vec![
            "read the issue for content a provider may refuse, or use another model".into(),
        ],
        LlmError::Replay { .. } => vec![
            "a replay must run the same command, in the same repository state, as the recording".into(),
        ],
        LlmError::Replayed { .. } => vec![],
    }
}

fn http_hints(provider: &str, model: &str, status: u16, message: &str) -> Vec<String> {
    let key = match provider {
        "anthropic" => "ANTHROPIC_API_KEY".to_string(),
        "gemini" => "GEMINI_API_KEY (or GOOGLE_API_KEY)".to_string(),
        "openai" => "OPENAI_API_KEY".to_string(),
        other => format!("the key of [providers.{other}] (api_key_env)"),
    };
    // Gemini answers 400 to a bad key; OpenAI answers 429 to an account out of credit.
    if message.to_ascii_lowercase().contains("api key") && matches!(status, 400 | 401 | 403) {
        return vec![format!("the key was refused: check {key}")];
    }
    if message.contains("insufficient_quota") {
        return vec![format!(
            "the account behind {key} is out of credit: check its billing"
        )];
    }
    match status {
        401 => vec![format!("the key was refused: check {key}")],
        403 => vec![format!(
            "the key is valid but may not use {model}: check the key's permissions and {key}"
        )],
        404 => vec![format!(
            "check the model name `{model}` in .orchestrate.toml (and the provider's base_url)"
        )],
        400 | 413 | 422 => vec![format!(
            "the provider refused the request as invalid: check the model name `{model}` and [providers.{provider}] max_output_tokens"
        )],
        429 => vec![
            "this is the provider's rate limit or your quota, not your credentials: wait, then run again".into(),
            format!("or allow more retries: [providers.{provider}] max_retries"),
        ],
        500..=599 => vec![
            "this is the provider's capacity or an outage, not your credentials: wait, then run again".into(),
        ],
        _ => vec![],
    }
}

/// Advice for what `doctor` found wrong.
pub fn doctor(problem: &crate::ops::doctor::Problem) -> Vec<String> {
    use crate::llm::probe::ProbeError;
    use crate::ops::doctor::Problem;
    match problem {
        Problem::NoGit(_) => vec![
            "install git (https://git-scm.com/downloads) and make sure `git` is on PATH".into(),
        ],
        Problem::OldGit { need, .. } => vec![format!(
            "install git {need} or later (https://git-scm.com/downloads)"
        )],
        Problem::Repository(e) => git(e),
        Problem::Bare => vec![
            "run it in a clone with a work tree (`git clone` the repository, then run there)"
                .into(),
        ],
        Problem::Shallow => vec![
            "fetch the whole history: git fetch --unshallow".into(),
        ],
        Problem::PartialClone { remote } => vec![format!(
            "keep `{remote}` reachable during runs, or fetch everything once: git fetch --refetch {remote}"
        )],
        Problem::Detached => vec![
            "switch to a branch (git switch main), or name the base of a new issue branch: git orchestrate N --base main".into(),
        ],
        Problem::Unborn { .. } => vec![
            "commit something first: an issue branch starts from a commit".into(),
        ],
        Problem::Config(e) => config(e),
        Problem::NoModels { message } if !message.is_empty() => {
            // The list of everything that would do, after its first line (the check says it).
            let rest: Vec<&str> = message
                .lines()
                .skip(1)
                .map(|line| line.strip_prefix("  ").unwrap_or(line))
                .collect();
            vec![rest.join("\n")]
        }
        Problem::NoModels { .. } => vec![
            "name the models in .orchestrate.toml: [stages.lld] drafter = \"...\", reviewer = \"...\"".into(),
        ],
        Problem::Model(e) => llm(e),
        Problem::Probe(ProbeError::Llm(e)) => llm(e),
        Problem::Probe(ProbeError::TimedOut { provider, url, .. }) => vec![
            format!("check that {url} is right and the server is running ([providers.{provider}] base_url), and that this machine reaches it"),
        ],
        Problem::ProgramMissing { program, test: false } => vec![format!(
            "install `{program}` or put it on PATH; a path is read from the repository's root (cmd:./script.sh)"
        )],
        Problem::RunnerFails { command } => vec![
            format!("install what `{command}` needs (the project's test dependencies: `pip install -e '.[test]'`, `npm ci`, ...), so that it runs here as it will in a run"),
            "or set the command: [stages.impl] test_command = \"...\"".into(),
        ],
        Problem::ProgramMissing { program, test: true } => vec![
            format!("install `{program}` or put it on PATH"),
            "or set the command: [stages.impl] test_command = \"...\"".into(),
        ],
        Problem::GitHub(e) => pipeline(e),
        Problem::Forge(e) => forge(e),
        Problem::Scopes { private, .. } => {
            let scope = if *private { "repo" } else { "repo (or public_repo)" };
            vec![format!(
                "give the token the `{scope}` scope (https://github.com/settings/tokens), or use a fine-grained token with Issues: read, Pull requests: write and Contents: write"
            )]
        }
        Problem::CannotPush { repo } => vec![format!(
            "runs that stop before the pr stage work as they are; to open pull requests, the token needs write access to {repo} (Contents and Pull requests), or push to a fork: -c github.push_remote=fork"
        )],
        Problem::IssuesOff { .. } => vec![
            "turn issues on in the repository's settings, or give issues as files: --issue-file ISSUE.md".into(),
        ],
        Problem::Sandbox {
            mode: SandboxMode::Required,
        } => vec![
            "Landlock needs Linux 5.13 or later with landlock in the lsm= boot list; network and process containment need user namespaces (sysctl kernel.unprivileged_userns_clone=1, or AppArmor's kernel.apparmor_restrict_unprivileged_userns=0)".into(),
            "to run uncontained anyway, knowing what it means: sandbox.mode = \"auto\" or \"off\"".into(),
        ],
        Problem::Sandbox {
            mode: SandboxMode::Off,
        } => vec![
            "contain model-written code where this machine allows: remove sandbox.mode, or set it to \"auto\"".into(),
        ],
        Problem::SandboxPathMissing => vec![
            "create it (the tests or the agent will write there), or take it out of the [sandbox] list that names it".into(),
        ],
        Problem::Sandbox { .. } => vec![
            "Landlock needs Linux 5.13 or later with landlock in the lsm= boot list; network and process containment need user namespaces (sysctl kernel.unprivileged_userns_clone=1, or AppArmor's kernel.apparmor_restrict_unprivileged_userns=0)".into(),
            "to refuse to run tests and agents with less: sandbox.mode = \"required\"".into(),
        ],
        Problem::NoTestCommand => vec![
            "name it: [stages.impl] test_command = \"make check\" (or stop before impl: --until spec)".into(),
        ],
        Problem::StaleLock { issue } => vec![format!(
            "git orchestrate clean {issue} removes it (the next run of #{issue} also takes it over)"
        )],
        Problem::LeftoverWorktree { issue } => vec![format!(
            "git orchestrate clean {issue} removes it (the next run of #{issue} reuses it)"
        )],
        Problem::TooSlow { .. } => vec![
            "run `git orchestrate doctor --offline` to check everything but the network".into(),
        ],
    }
}
