//! Hermetic test repositories and scripted models.
//!
//! Every test gets a temporary directory holding a git repository, a `HOME`, and the model
//! programs it writes. git and the binary run with no user or system git configuration, a
//! fixed identity and fixed dates, `TZ=UTC`, and nothing else from the developer's environment.
//! Scripted models are real executables (`sh`) that log each call (stage, role, round, working
//! directory) and keep each prompt, so tests assert on what models were really asked.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

pub const BIN: &str = env!("CARGO_BIN_EXE_git-orchestrate");

/// The branch of issue 7 ("Add a --verbose flag", the default issue).
pub const BRANCH: &str = "orchestrate/7-add-a-verbose-flag";

/// The subjects of the stage commits on [`BRANCH`].
pub const TRIAGE_SUBJECT: &str = "orchestrate(triage): brief for #7 Add a --verbose flag";
pub const LLD_SUBJECT: &str = "orchestrate(lld): design for #7 Add a --verbose flag";
pub const SPEC_SUBJECT: &str = "orchestrate(spec): implementation spec for #7 Add a --verbose flag";

/// A brief a triage model could write for the default issue: it passes the default check
/// (`stages.triage.required_sections`, `stages.triage.min_chars`).
pub const GOOD_BRIEF: &str = "# Add a --verbose flag\n\n## Problem\nUsers cannot see what the widget does while it runs.\n\n## Goal\nA `--verbose` flag that prints each step.\n\n## Acceptance criteria\n1. `widget --verbose` prints one line per step.\n2. Without the flag the output is unchanged.\n";

/// A triage model script answering every call with `brief`.
pub fn brief_script(brief: &str) -> String {
    format!("cat <<'BRIEF'\n{brief}\nBRIEF")
}

/// A complete design (every default lld and spec section), marked with `tag`.
pub fn complete_doc(tag: &str) -> String {
    format!(
        "# Document {tag}\n\n## Context and Goal\nWhy ({tag}).\n\n## Proposed Changes\n| File | Change | Why |\n|---|---|---|\n| src/lib.rs | modify | {tag} |\n\n## Requirements\n1. R1 ({tag})\n\n## Files to Change\nsrc/lib.rs\n\n## Changes\nfn x() ({tag})\n\n## Test Plan\n- T1 -> R1 ({tag})\n"
    )
}

/// A model script body printing a complete document that names the stage and round.
pub fn draft_script() -> String {
    format!(
        "cat <<DOC\n{}\nDOC",
        complete_doc("$ORCHESTRATE_STAGE round $ORCHESTRATE_ROUND")
    )
}

pub fn approved() -> &'static str {
    "Looks right.\n\n```json\n{\"verdict\": \"APPROVED\", \"rationale\": \"complete and grounded\", \"feedback_items\": []}\n```\n"
}

pub fn revise(items: &[&str]) -> String {
    let items: Vec<String> = items.iter().map(|i| format!("\"{i}\"")).collect();
    format!(
        "{{\"verdict\": \"REVISE\", \"rationale\": \"needs work\", \"feedback_items\": [{}]}}\n",
        items.join(", ")
    )
}

pub fn blocked(why: &str) -> String {
    format!("{{\"verdict\": \"BLOCKED\", \"rationale\": \"{why}\", \"feedback_items\": []}}\n")
}

/// A model script body answering round (or attempt) N with `replies[N-1]`, the last one
/// after that.
pub fn by_round(replies: &[&str]) -> String {
    let mut body = String::from("case \"$ORCHESTRATE_ROUND\" in\n");
    for (i, reply) in replies.iter().enumerate() {
        let pattern = if i + 1 == replies.len() {
            "*".to_string()
        } else {
            (i + 1).to_string()
        };
        body.push_str(&format!("{pattern}) cat <<'REPLY'\n{reply}\nREPLY\n;;\n"));
    }
    body.push_str("esac");
    body
}

/// The one variable taken from the machine: where `git` and `sh` are.
#[allow(clippy::disallowed_methods)]
pub fn host_path() -> std::ffi::OsString {
    std::env::var_os("PATH").unwrap_or_default()
}

pub struct TestRepo {
    dir: TempDir,
    pub root: PathBuf,
    pub home: PathBuf,
    pub bin: PathBuf,
    pub logs: PathBuf,
}

impl TestRepo {
    /// A repository on `main` with one commit (README.md, src/lib.rs).
    pub fn new() -> TestRepo {
        let repo = TestRepo::empty();
        repo.git(&["init", "-q", "-b", "main", "."]);
        repo.write(
            "README.md",
            "# Widget\n\nWidget turns sprockets into widgets.\n",
        );
        repo.write("src/lib.rs", "pub fn widget() {}\n");
        repo.git(&["add", "."]);
        repo.git(&["commit", "-q", "-m", "initial"]);
        repo
    }

    /// A directory with no repository in it yet.
    pub fn empty() -> TestRepo {
        let dir = tempfile::Builder::new()
            .prefix("orchestrate-test-")
            .tempdir()
            .expect("temp dir");
        let base = dir.path().canonicalize().expect("canonical temp dir");
        let root = base.join("widget");
        let home = base.join("home");
        let bin = base.join("bin");
        let logs = base.join("logs");
        for d in [&root, &home, &bin, &logs, &logs.join("prompts")] {
            std::fs::create_dir_all(d).expect("mkdir");
        }
        // The scripted models, agents and test commands keep their logs outside the
        // repository: contained programs may write there, as a real agent writes its own state.
        let user_config = home.join(".config/git-orchestrate");
        std::fs::create_dir_all(&user_config).expect("mkdir");
        std::fs::write(
            user_config.join("config.toml"),
            format!(
                "[sandbox]\nwritable = [\"{logs}\"]\nagent_writable = [\"{logs}\"]\n",
                logs = logs.display()
            ),
        )
        .expect("write the user configuration");
        TestRepo {
            dir,
            root,
            home,
            bin,
            logs,
        }
    }

    pub fn base(&self) -> &Path {
        self.dir.path()
    }

    /// The hermetic environment every process of the test runs with.
    pub fn apply_env(&self, cmd: &mut Command) {
        cmd.env_clear()
            .env("PATH", host_path())
            .env("HOME", &self.home)
            .env("XDG_CONFIG_HOME", self.home.join(".config"))
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "Ada Author")
            .env("GIT_AUTHOR_EMAIL", "ada@example.com")
            .env("GIT_AUTHOR_DATE", "1767225600 +0000")
            .env("GIT_COMMITTER_NAME", "Ada Author")
            .env("GIT_COMMITTER_EMAIL", "ada@example.com")
            .env("GIT_COMMITTER_DATE", "1767225600 +0000")
            .env("GIT_EDITOR", "false")
            .env("TZ", "UTC")
            .env("LANG", "C")
            .env("NO_COLOR", "1")
            .env("TEST_LOGS", &self.logs);
    }

    /// Run git in the repository; panics on failure.
    pub fn git(&self, args: &[&str]) -> String {
        let out = self.git_output(args);
        assert!(
            out.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim_end().to_string()
    }

    pub fn git_output(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new("git");
        self.apply_env(&mut cmd);
        cmd.args(args)
            .current_dir(&self.root)
            .output()
            .expect("run git")
    }

    /// A PATH holding only `git`, `sh` and `cat`: no model program (`claude`, `gemini`, `codex`)
    /// the machine may have installed is visible.
    pub fn minimal_path(&self) -> PathBuf {
        let dir = self.base().join("minimal-bin");
        if !dir.exists() {
            std::fs::create_dir_all(&dir).expect("mkdir");
            for program in ["git", "sh", "cat"] {
                let found = std::env::split_paths(&host_path())
                    .map(|d| d.join(program))
                    .find(|p| p.is_file())
                    .unwrap_or_else(|| panic!("{program} is not on PATH"));
                std::os::unix::fs::symlink(found, dir.join(program)).expect("symlink");
            }
        }
        dir
    }

    /// `PATH` with the test's model programs first, so that `cmd:drafter` finds them as it
    /// would find a program a user installed.
    pub fn path_with_models(&self) -> std::ffi::OsString {
        let mut dirs = vec![self.bin.clone()];
        dirs.extend(std::env::split_paths(&host_path()));
        std::env::join_paths(dirs).expect("PATH")
    }

    /// The binary, ready to run in the repository.
    pub fn cmd(&self) -> assert_cmd::Command {
        let mut std_cmd = Command::new(BIN);
        self.apply_env(&mut std_cmd);
        std_cmd.current_dir(&self.root);
        assert_cmd::Command::from_std(std_cmd)
    }

    /// Run the binary with `args` and return (exit code, stdout, stderr).
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_env::<&str, &str>(&[], args)
    }

    /// Run the binary with `args` and these variables added to the hermetic environment.
    pub fn run_env<K, V>(&self, vars: &[(K, V)], args: &[&str]) -> Run
    where
        K: AsRef<std::ffi::OsStr>,
        V: AsRef<std::ffi::OsStr>,
    {
        let mut cmd = self.cmd();
        for (name, value) in vars {
            cmd.env(name, value);
        }
        Run::from(cmd.args(args).output().expect("run git-orchestrate"))
    }

    pub fn write(&self, path: &str, content: &str) {
        let full = self.root.join(path);
        std::fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
        std::fs::write(full, content).expect("write");
    }

    pub fn read(&self, path: &str) -> String {
        std::fs::read_to_string(self.root.join(path)).expect("read")
    }

    /// Write `.orchestrate.toml` (untracked, as a user would start).
    pub fn config(&self, toml: &str) {
        self.write(".orchestrate.toml", toml);
    }

    /// The usual configuration: `drafter` and `reviewer` for both lld and spec.
    pub fn config_models(&self, drafter: &str, reviewer: &str, extra: &str) {
        self.config(&format!(
            "[stages.lld]\ndrafter = \"{drafter}\"\nreviewer = \"{reviewer}\"\n\n[stages.spec]\ndrafter = \"{drafter}\"\nreviewer = \"{reviewer}\"\n\n{extra}"
        ));
    }

    /// An issue file outside the repository.
    pub fn issue(&self, text: &str) -> String {
        let path = self.base().join("issue.md");
        std::fs::write(&path, text).expect("write issue");
        path.to_string_lossy().into_owned()
    }

    pub fn default_issue(&self) -> String {
        self.issue(
            "# Add a --verbose flag\n\nUsers cannot see what the widget does.\nAdd `--verbose`.\n",
        )
    }

    /// Write an executable model script and return its `cmd:` name. The script body runs
    /// after the prompt has been saved to `$PROMPT` and the call logged.
    pub fn model(&self, name: &str, body: &str) -> String {
        let path = self.bin.join(name);
        let script = format!(
            "#!/bin/sh\nLOG=\"{logs}\"\nN=$(($(cat \"$LOG/count\" 2>/dev/null || echo 0) + 1))\necho $N > \"$LOG/count\"\nPROMPT=\"$LOG/prompts/$N-$ORCHESTRATE_STAGE-$ORCHESTRATE_ROLE-$ORCHESTRATE_ROUND.txt\"\ncat > \"$PROMPT\"\necho \"$ORCHESTRATE_STAGE $ORCHESTRATE_ROLE $ORCHESTRATE_ROUND issue=$ORCHESTRATE_ISSUE cwd=$(pwd) name={name}\" >> \"$LOG/calls\"\n{body}\n",
            logs = self.logs.display()
        );
        write_executable(&path, &script);
        format!("cmd:{}", path.display())
    }

    /// A drafter that answers every call with a complete document naming the round.
    pub fn good_drafter(&self) -> String {
        self.model("drafter", &draft_script())
    }

    /// A repository whose lld and spec drafter is [`TestRepo::good_drafter`] and whose
    /// reviewer answers as [`TestRepo::reviewer`] with `replies`, `extra` added to the
    /// configuration; and the default issue file.
    pub fn reviewed(replies: &[&str], extra: &str) -> (TestRepo, String) {
        let repo = TestRepo::new();
        let issue = repo.use_models(replies, extra);
        (repo, issue)
    }

    /// A repository with a good drafter and a reviewer that approves at once.
    pub fn approving(extra: &str) -> (TestRepo, String) {
        TestRepo::reviewed(&[approved()], extra)
    }

    /// Configure the good drafter and a reviewer answering `replies` for lld and spec, with
    /// `extra`; returns the default issue file.
    pub fn use_models(&self, replies: &[&str], extra: &str) -> String {
        let drafter = self.good_drafter();
        let reviewer = self.reviewer("reviewer", replies);
        self.config_models(&drafter, &reviewer, extra);
        self.default_issue()
    }

    /// A reviewer answering round N with `replies[N-1]` (the last one after that).
    pub fn reviewer(&self, name: &str, replies: &[&str]) -> String {
        self.model(name, &by_round(replies))
    }

    /// Every model call so far: `stage role round issue=N cwd=... name=...`.
    pub fn calls(&self) -> Vec<String> {
        std::fs::read_to_string(self.logs.join("calls"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// `stage role round` of every call, for compact assertions.
    pub fn call_roles(&self) -> Vec<String> {
        self.calls()
            .iter()
            .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
            .collect()
    }

    /// The prompt of the `n`th call (1-based).
    pub fn prompt(&self, n: usize) -> String {
        let dir = self.logs.join("prompts");
        let prefix = format!("{n}-");
        let entry = std::fs::read_dir(&dir)
            .expect("prompts dir")
            .flatten()
            .find(|e| e.file_name().to_string_lossy().starts_with(&prefix))
            .unwrap_or_else(|| panic!("no prompt for call {n}"));
        std::fs::read_to_string(entry.path()).expect("read prompt")
    }

    /// Subjects on `rev`'s first-parent history, newest first.
    pub fn subjects(&self, rev: &str) -> Vec<String> {
        self.git(&["log", "--first-parent", "--format=%s", rev])
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// Trailers of one commit, as `git interpret-trailers --parse` reads them.
    pub fn trailers(&self, rev: &str) -> Vec<(String, String)> {
        let message = self.git(&["log", "-1", "--format=%B", rev]);
        let mut cmd = Command::new("git");
        self.apply_env(&mut cmd);
        let mut child = cmd
            .args(["interpret-trailers", "--parse"])
            .current_dir(&self.root)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("spawn interpret-trailers");
        use std::io::Write;
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(message.as_bytes())
            .expect("write");
        let out = child.wait_with_output().expect("interpret-trailers");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.split_once(": "))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    pub fn trailer(&self, rev: &str, key: &str) -> Option<String> {
        self.trailers(rev)
            .into_iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    /// A file at a revision, if present.
    pub fn show(&self, rev: &str, path: &str) -> Option<String> {
        let out = self.git_output(&["show", &format!("{rev}:{path}")]);
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    pub fn branches(&self) -> Vec<String> {
        self.git(&["branch", "--format=%(refname:short)"])
            .lines()
            .map(str::to_string)
            .collect()
    }

    pub fn rev(&self, rev: &str) -> String {
        self.git(&["rev-parse", rev])
    }

    /// Everything that describes the user's checkout: HEAD, index, work tree, untracked files.
    pub fn checkout_state(&self) -> String {
        format!(
            "HEAD={}\nsymbolic={}\nstatus:\n{}\ndiff:\n{}\ncached:\n{}\nindex:\n{}",
            self.rev("HEAD"),
            self.git_output(&["symbolic-ref", "-q", "HEAD"])
                .stdout
                .len(),
            self.git(&[
                "status",
                "--porcelain=v1",
                "--untracked-files=all",
                "--ignored"
            ]),
            self.git(&["diff"]),
            self.git(&["diff", "--cached"]),
            self.git(&["ls-files", "--stage"]),
        )
    }

    /// Every file of the tool's local state (`.git/orchestrate/`: transcripts, recovered
    /// work), with its contents, sorted by path.
    pub fn state_files(&self) -> Vec<(String, String)> {
        let mut files = files_under(&self.root.join(".git/orchestrate"));
        files.sort();
        files
    }

    /// The prompts of the kept transcripts, in call order.
    pub fn transcript_prompts(&self) -> Vec<String> {
        self.state_files()
            .into_iter()
            .filter(|(path, _)| path.contains("/transcripts/"))
            .filter_map(|(_, text)| {
                let start = text.find("\n\n# Prompt\n\n")? + "\n\n# Prompt\n\n".len();
                let end = text.rfind("\n\n# Reply\n\n")?;
                Some(text[start..end].to_string())
            })
            .collect()
    }

    pub fn lock_path(&self, issue: u64) -> PathBuf {
        self.root
            .join(format!(".git/orchestrate/locks/{issue}.lock"))
    }
}

/// Write `content` at `path` as an executable file (a fake program, a model script).
pub fn write_executable(path: &Path, content: &str) {
    std::fs::write(path, content).expect("write program");
    let mut perms = std::fs::metadata(path).expect("stat").permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(path, perms).expect("chmod");
}

/// `text` as a snapshot should hold it: what changes from run to run replaced by a marker.
///
/// - the test's temporary directory (either spelling of it) by `[TMP]`;
/// - commit ids, short (7 hex digits) or full (40), by `[ID]` (padded to the id's width where
///   a table column follows, so that the table stays aligned);
/// - elapsed times (`0.4s`, `12ms`, `3m 04s`, `1h 02m`) by `[TIME]`;
/// - a process id after `pid ` by `[PID]`;
/// - white space at the end of a line is dropped (nobody sees it).
pub fn normalise(repo: &TestRepo, text: &str) -> String {
    let mut text = text.to_string();
    for dir in [repo.root.parent().expect("base"), repo.base()] {
        text = text.replace(&dir.display().to_string(), "[TMP]");
    }
    let text = replace_pids(&replace_times(&replace_ids(&text)));
    text.lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n")
}

/// `text` with each word (a run of letters, digits and `_`) of 7 or 40 hex digits made `[ID]`.
fn replace_ids(text: &str) -> String {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut out = String::new();
    let mut rest = text;
    while !rest.is_empty() {
        let (head, tail) = rest.split_at(rest.find(|c| !is_word(c)).unwrap_or(rest.len()));
        let hex = head
            .chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c));
        if hex && (head.len() == 7 || head.len() == 40) {
            out.push_str("[ID]");
            if tail.starts_with("  ") {
                out.push_str(&" ".repeat(head.len() - "[ID]".len()));
            }
        } else {
            out.push_str(head);
        }
        let (gap, next) = tail.split_at(tail.find(is_word).unwrap_or(tail.len()));
        out.push_str(gap);
        rest = next;
    }
    out
}

/// `text` with every `pid N` made `pid [PID]`.
fn replace_pids(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("pid ") {
        let (before, after) = rest.split_at(at + "pid ".len());
        out.push_str(before);
        let digits = after.chars().take_while(char::is_ascii_digit).count();
        let starts_word = at == 0 || !before[..at].ends_with(|c: char| c.is_ascii_alphanumeric());
        if digits > 0 && starts_word {
            out.push_str("[PID]");
            rest = &after[digits..];
        } else {
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// `text` with every elapsed time made `[TIME]`: a number standing on its own followed by
/// `s` or `ms`, or a pair such as `3m 04s` and `1h 02m`.
fn replace_times(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let digits_from = |i: usize| chars[i..].iter().take_while(|c| c.is_ascii_digit()).count();
    let ends_word = |i: usize| chars.get(i).is_none_or(|c| !c.is_ascii_alphanumeric());
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let starts_word = i == 0 || !(chars[i - 1].is_ascii_alphanumeric() || chars[i - 1] == '.');
        let whole = digits_from(i);
        if starts_word && whole > 0 {
            let mut end = i + whole;
            if chars.get(end) == Some(&'.') && digits_from(end + 1) > 0 {
                end += 1 + digits_from(end + 1);
            }
            let unit: String = chars[end..].iter().take(2).collect();
            let length = if unit == "ms" && ends_word(end + 2) {
                Some(end + 2)
            } else if unit.starts_with('s') && ends_word(end + 1) {
                Some(end + 1)
            } else if (unit.starts_with('m') || unit.starts_with('h'))
                && chars.get(end + 1) == Some(&' ')
                && digits_from(end + 2) > 0
            {
                let second = end + 2 + digits_from(end + 2);
                let small = if unit.starts_with('m') { 's' } else { 'm' };
                (chars.get(second) == Some(&small) && ends_word(second + 1)).then_some(second + 1)
            } else {
                None
            };
            if let Some(stop) = length {
                out.push_str("[TIME]");
                i = stop;
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// Every file under `dir`, with its contents (lossy); none if `dir` does not exist.
pub fn files_under(dir: &Path) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else if let Ok(bytes) = std::fs::read(&path) {
            found.push((
                path.display().to_string(),
                String::from_utf8_lossy(&bytes).into_owned(),
            ));
        }
    }
    found
}

/// The result of one run of the binary.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(out: Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

impl Run {
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Run {
        assert_eq!(
            self.code, code,
            "expected exit {code}, got {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub fn stderr_has(&self, text: &str) -> &Run {
        assert!(
            self.stderr.contains(text),
            "stderr lacks {text:?}:\n{}",
            self.stderr
        );
        self
    }

    #[track_caller]
    pub fn stdout_has(&self, text: &str) -> &Run {
        assert!(
            self.stdout.contains(text),
            "stdout lacks {text:?}:\n{}",
            self.stdout
        );
        self
    }
}
