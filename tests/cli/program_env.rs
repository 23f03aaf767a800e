//! What `agent:` and `cmd:` programs see of the environment: their model keys, and no GitHub
//! token or other credential. Each program here writes its environment into a file the test
//! reads.

use crate::harness::*;
use crate::implement::CHECK;

/// Shell lines an agent runs to write `verbose` and the test proving it.
const AGENT_EDIT: &str = "printf 'pub fn widget() {}\\n\\npub fn verbose() -> bool {\\n    true\\n}\\n' > src/lib.rs\nmkdir -p tests\necho \"grep -q 'fn verbose' src/lib.rs\" > tests/verbose.sh";

/// Credentials no model program may see, with the values the run is given.
const CREDENTIALS: [(&str, &str); 6] = [
    ("GITHUB_TOKEN", "ghp_Zq8x3Lw0TestToken4Orchestrate9Pq2Rk7"),
    ("GH_TOKEN", "gho_Another0TestToken4Orchestrate9Pq2Rk"),
    (
        "AWS_SECRET_ACCESS_KEY",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    ),
    ("DEPLOY_SECRET", "s3cret-deploy-value"),
    ("DB_PASSWORD", "hunter2-hunter2"),
    ("NPM_TOKEN", "npm_0123456789abcdef0123456789abcdef"),
];

/// Model keys: Anthropic's, OpenAI's, and a configured provider's (`GATEWAY_KEY`).
const MODEL_KEYS: [(&str, &str); 3] = [
    ("ANTHROPIC_API_KEY", "sk-ant-api03-test-key-for-programs"),
    ("OPENAI_API_KEY", "sk-proj-test-key-for-programs"),
    ("GATEWAY_KEY", "gw-test-key-for-programs"),
];

/// A provider declared with its key in `GATEWAY_KEY` (never called).
const GATEWAY: &str = "[providers.gateway]\nkind = \"openai\"\nbase_url = \"http://127.0.0.1:9/v1\"\napi_key_env = \"GATEWAY_KEY\"\n";

/// Shell lines writing the environment to `$LOG/env-ROLE` (`LOG` is the test's log
/// directory, set by every model script).
const SAVE_ENV: &str = "env > \"$LOG/env-$ORCHESTRATE_ROLE\"";

/// A repository with check.sh committed; the run's models are configured by the caller.
fn repo() -> TestRepo {
    let repo = TestRepo::new();
    repo.write("check.sh", CHECK);
    repo.git(&["add", "check.sh"]);
    repo.git(&["commit", "-q", "-m", "tests"]);
    repo
}

/// The names in the environment a program saved as `role`.
fn seen(repo: &TestRepo, role: &str) -> Vec<String> {
    let path = repo.logs.join(format!("env-{role}"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("no environment saved by the {role}: {e}"));
    text.lines()
        .filter_map(|l| l.split_once('=').map(|(name, _)| name.to_string()))
        .collect()
}

fn run_with_everything(repo: &TestRepo, issue: &str, path: Option<&std::ffi::OsStr>) -> Run {
    let mut vars: Vec<(&str, std::ffi::OsString)> = CREDENTIALS
        .iter()
        .chain(&MODEL_KEYS)
        .map(|(k, v)| (*k, v.into()))
        .collect();
    vars.push(("CLAUDE_CODE_OAUTH_TOKEN", "sk-ant-oat01-test-oauth".into()));
    if let Some(path) = path {
        vars.push(("PATH", path.to_os_string()));
    }
    repo.run_env(&vars, &["7", "--issue-file", issue, "--until", "impl"])
}

#[test]
fn a_program_we_do_not_know_sees_every_model_key_and_no_other_credential() {
    let repo = repo();
    let drafter = repo.model("drafter", &format!("{SAVE_ENV}\n{}", draft_script()));
    let reviewer = repo.reviewer("reviewer", &[approved()]);
    let agent = repo
        .model("agent", &format!("{SAVE_ENV}\n{AGENT_EDIT}"))
        .replacen("cmd:", "agent:", 1);
    repo.config_models(
        &drafter,
        &reviewer,
        &format!(
            "[stages.impl]\nimplementer = \"{agent}\"\ntest_command = \"sh check.sh\"\n\n{GATEWAY}"
        ),
    );
    let issue = repo.default_issue();
    run_with_everything(&repo, &issue, None).expect_code(0);

    for role in ["drafter", "implementer"] {
        let names = seen(&repo, role);
        for (name, _) in CREDENTIALS {
            assert!(!names.iter().any(|n| n == name), "the {role} saw {name}");
        }
        for (name, _) in MODEL_KEYS {
            assert!(names.iter().any(|n| n == name), "the {role} lacks {name}");
        }
        // What programs need to work is still there.
        for name in ["PATH", "HOME", "ORCHESTRATE_ROLE", "TEST_LOGS"] {
            assert!(names.iter().any(|n| n == name), "the {role} lacks {name}");
        }
    }
}

#[test]
fn a_vendors_own_program_sees_only_its_vendors_keys_and_the_names_listed_to_pass() {
    let repo = repo();
    // A `claude` on PATH: drafts as a `cmd:` model and edits as an `agent:`.
    repo.model(
        "claude",
        &format!(
            "{SAVE_ENV}\ncase \"$ORCHESTRATE_ROLE\" in\nimplementer)\n{AGENT_EDIT}\n;;\n*)\n{}\n;;\nesac",
            draft_script()
        ),
    );
    let reviewer = repo.reviewer("reviewer", &[approved()]);
    repo.config_models(
        "cmd:claude -p",
        &reviewer,
        &format!(
            "[stages.impl]\nimplementer = \"agent:claude -p --permission-mode acceptEdits\"\ntest_command = \"sh check.sh\"\n\n[sandbox]\nagent_env = [\"NPM_TOKEN\"]\n\n{GATEWAY}"
        ),
    );
    let issue = repo.default_issue();
    run_with_everything(&repo, &issue, Some(&repo.path_with_models())).expect_code(0);

    for role in ["drafter", "implementer"] {
        let names = seen(&repo, role);
        let has = |name: &str| names.iter().any(|n| n == name);
        for name in ["ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN", "NPM_TOKEN"] {
            assert!(has(name), "the {role} lacks {name}");
        }
        for name in [
            "OPENAI_API_KEY",
            "GATEWAY_KEY",
            "GITHUB_TOKEN",
            "GH_TOKEN",
            "AWS_SECRET_ACCESS_KEY",
            "DEPLOY_SECRET",
            "DB_PASSWORD",
        ] {
            assert!(!has(name), "the {role} saw {name}");
        }
    }
    // Both were the `claude` found on PATH.
    let calls = repo.calls();
    for role in ["lld drafter", "impl implementer"] {
        assert!(
            calls
                .iter()
                .any(|c| c.starts_with(role) && c.ends_with("name=claude")),
            "{calls:?}"
        );
    }
}
