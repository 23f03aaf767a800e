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
        let file = dir.join(program);
        std::fs::write(&file, "#!/bin/sh\nexit 0\n").unwrap();
        let mut perms = std::fs::metadata(&file).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
        std::fs::set_permissions(&file, perms).unwrap();
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
        .stderr_has("hint: to replace it with a new one: git orchestrate init --force");
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

/// Every `run:` value of every step.
fn run_lines(doc: &Yaml) -> Vec<String> {
    let mut out = Vec::new();
    for (_, job) in doc["jobs"].as_hash().unwrap() {
        for step in job["steps"].as_vec().unwrap() {
            if let Some(run) = step["run"].as_str() {
                out.push(run.to_string());
            }
        }
    }
    out
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
        .stderr_has("adapt the line marked ADAPT");
    load(&repo.root);
    let text = repo.read(WORKFLOW);
    assert!(!text.contains("secret-0123456789"));
    let doc = yaml(&text);

    // `on` is a key (YAML 1.2), not `true`.
    assert_eq!(strings(&doc["on"]["issues"]["types"]), ["labeled"]);
    assert_eq!(strings(&doc["on"]["issue_comment"]["types"]), ["created"]);
    assert_eq!(doc["on"].as_hash().unwrap().len(), 2);
    assert_eq!(
        doc["concurrency"]["group"].as_str(),
        Some("orchestrate-${{ github.event.issue.number }}")
    );
    assert_eq!(
        doc["concurrency"]["cancel-in-progress"].as_bool(),
        Some(false)
    );
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

    let jobs = doc["jobs"].as_hash().unwrap();
    assert_eq!(jobs.len(), 1);
    let job = &doc["jobs"]["orchestrate"];
    let condition = job["if"].as_str().unwrap();
    assert!(
        condition.contains("github.event.label.name == 'orchestrate'"),
        "{condition}"
    );
    assert!(
        condition.contains("startsWith(github.event.comment.body, '/orchestrate')"),
        "{condition}"
    );
    let env = job["env"].as_hash().unwrap();
    let env: Vec<(&str, &str)> = env
        .iter()
        .map(|(k, v)| (k.as_str().unwrap(), v.as_str().unwrap()))
        .collect();
    assert_eq!(
        env,
        [
            ("ANTHROPIC_API_KEY", "${{ secrets.ANTHROPIC_API_KEY }}"),
            ("GEMINI_API_KEY", "${{ secrets.GEMINI_API_KEY }}"),
            ("GITHUB_TOKEN", "${{ secrets.GITHUB_TOKEN }}"),
        ]
    );

    let steps = job["steps"].as_vec().unwrap();
    assert_eq!(steps[0]["uses"].as_str(), Some("actions/checkout@v4"));
    assert_eq!(steps[0]["with"]["fetch-depth"].as_i64(), Some(0));
    let runs = run_lines(&doc);
    assert!(
        runs.iter()
            .any(|r| r.contains("user.name \"github-actions[bot]\"")),
        "{runs:?}"
    );
    let adapt: Vec<&String> = runs.iter().filter(|r| r.contains("# ADAPT")).collect();
    assert_eq!(adapt.len(), 1, "{runs:?}");
    assert!(adapt[0].contains(
        "cargo install --locked --git https://github.com/OWNER/git-orchestrate git-orchestrate"
    ));
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
    actionlint(&repo.root.join(WORKFLOW));
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
    let env: Vec<&str> = doc["jobs"]["orchestrate"]["env"]
        .as_hash()
        .unwrap()
        .keys()
        .map(|k| k.as_str().unwrap())
        .collect();
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
    let env: Vec<&str> = doc["jobs"]["orchestrate"]["env"]
        .as_hash()
        .unwrap()
        .keys()
        .map(|k| k.as_str().unwrap())
        .collect();
    assert_eq!(env, ["GITHUB_TOKEN"]);
    assert!(text.contains("# ANTHROPIC_API_KEY: ${{ secrets.ANTHROPIC_API_KEY }}"));
    actionlint(&repo.root.join(WORKFLOW));
}

/// Check the workflow with `actionlint` when it is on PATH (`.ci/run` says whether); say so
/// and check nothing more when it is not.
fn actionlint(file: &Path) {
    #[allow(clippy::disallowed_methods)]
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path)
        .map(|d| d.join("actionlint"))
        .find(|p| p.is_file());
    let Some(program) = found else {
        eprintln!("note: actionlint is not on PATH; the workflow was checked as YAML only");
        return;
    };
    let out = std::process::Command::new(program)
        .arg("-no-color")
        .arg(file)
        .current_dir(file.parent().unwrap())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "actionlint:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
