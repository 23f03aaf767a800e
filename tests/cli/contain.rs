//! The sandbox: what an `agent:` program and an attempt's tests may touch on this machine
//! (Landlock and namespaces, through the `sandbox-exec` launcher), what the baseline keeps,
//! what `sandbox.mode` does where the kernel offers less, and that nothing they start
//! outlives the attempt. Each test asserts what the program could do, what the run said, and
//! the user's repository as it was.

use std::io::Read;
use std::net::TcpListener;
use std::path::Path;

use crate::harness::*;
use crate::implement::CHECK;
use crate::implement_faults::{agent, agent_repo, assert_stopped};

const BRANCH: &str = "orchestrate/7-add-a-verbose-flag";

/// Shell lines writing src/lib.rs with `verbose` and the test proving it (as the impl fault
/// tests' good agent does).
const AGENT_GOOD: &str = "printf 'pub fn widget() {}\\n\\npub fn verbose() -> bool {\\n    true\\n}\\n' > src/lib.rs\nmkdir -p tests\necho \"grep -q 'fn verbose' src/lib.rs\" > tests/verbose.sh";

/// A shell line trying `action` and logging `ok: what` or `denied: what` to `$LOG/tries`.
fn attempt(what: &str, action: &str) -> String {
    format!(
        "if ( {action} ) >/dev/null 2>&1; then echo 'ok: {what}' >> \"$LOG/tries\"; else echo 'denied: {what}' >> \"$LOG/tries\"; fi\n"
    )
}

fn tries(repo: &TestRepo) -> Vec<String> {
    std::fs::read_to_string(repo.logs.join("tries"))
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

/// The user's repository as a person would compare it: the checkout and index, every ref,
/// the configuration, hooks and `info/`.
fn user_repository(repo: &TestRepo) -> String {
    let git = repo.root.join(".git");
    let listing = |dir: &Path| {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .map(|e| {
                        let bytes = std::fs::read(e.path()).unwrap_or_default();
                        format!("{} {}", e.file_name().to_string_lossy(), bytes.len())
                    })
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names.join("\n")
    };
    format!(
        "{}\nrefs:\n{}\nconfig:\n{}\nhooks:\n{}\ninfo:\n{}",
        repo.checkout_state(),
        repo.git(&["for-each-ref", "--format=%(refname) %(objectname)"])
            .lines()
            .filter(|l| !l.starts_with(&format!("refs/heads/{BRANCH}")))
            .collect::<Vec<_>>()
            .join("\n"),
        std::fs::read_to_string(git.join("config")).unwrap(),
        listing(&git.join("hooks")),
        listing(&git.join("info")),
    )
}

/// Everything an agent must not be able to do, tried from its worktree, then its real work.
fn misbehaving_agent(repo: &TestRepo) -> String {
    let other = repo.base().join("other-repository");
    std::fs::create_dir_all(&other).unwrap();
    let mut body = String::new();
    for (what, action) in [
        (
            "checkout file",
            format!("echo x > '{}/planted.txt'", repo.root.display()),
        ),
        (
            "checkout readme",
            format!("echo x >> '{}/README.md'", repo.root.display()),
        ),
        ("home", "echo x > \"$HOME/planted\"".to_string()),
        (
            "other repository",
            format!("echo x > '{}/file'", other.display()),
        ),
        (
            "tmp outside",
            "echo x > /tmp/orchestrate-planted-$$".to_string(),
        ),
        (
            "pre-push hook",
            "echo 'echo pwned' > \"$(git rev-parse --git-common-dir)/hooks/pre-push\"".into(),
        ),
        ("hooksPath", "git config core.hooksPath /tmp".into()),
        ("alias", "git config alias.st '!touch /tmp/pwned'".into()),
        ("branch", "git branch planted".into()),
        ("tag", "git tag planted".into()),
        ("note", "git notes add -m planted HEAD".into()),
        (
            "fake branch",
            "git update-ref refs/heads/orchestrate/2-fake HEAD".into(),
        ),
        (
            "index",
            format!(
                "git -C '{}' add --intent-to-add README.md",
                repo.root.display()
            ),
        ),
        ("private tmp", "echo x > \"$TMPDIR/scratch\"".into()),
    ] {
        body.push_str(&attempt(what, &action));
    }
    body.push_str(AGENT_GOOD);
    body.push('\n');
    body.push_str(&attempt(
        "commit in the worktree",
        "git add -A && git -c user.name=A -c user.email=a@example.com commit -qm agent",
    ));
    body
}

#[test]
fn an_agent_writes_its_worktree_and_nothing_of_the_users() {
    let (repo, issue) = agent_repo("", "");
    let implementer = agent(&repo, "agent", &misbehaving_agent(&repo));
    let config = repo.read(".orchestrate.toml");
    let old = config
        .lines()
        .find(|l| l.starts_with("implementer = "))
        .unwrap();
    repo.config(&config.replace(old, &format!("implementer = \"{implementer}\"")));
    let before = user_repository(&repo);

    repo.run(&["7", "--issue-file", &issue, "--until", "impl"])
        .expect_code(0);

    let tries = tries(&repo);
    for denied in [
        "checkout file",
        "checkout readme",
        "home",
        "other repository",
        "tmp outside",
        "pre-push hook",
        "hooksPath",
        "alias",
        "branch",
        "tag",
        "note",
        "fake branch",
        "index",
    ] {
        assert!(
            tries.contains(&format!("denied: {denied}")),
            "{denied}: {tries:?}"
        );
    }
    // Its own work goes on: the private temp dir and commits in its worktree.
    assert!(tries.contains(&"ok: private tmp".to_string()), "{tries:?}");
    assert!(
        tries.contains(&"ok: commit in the worktree".to_string()),
        "{tries:?}"
    );
    assert!(
        repo.show(BRANCH, "src/lib.rs")
            .unwrap()
            .contains("pub fn verbose()")
    );
    assert!(!repo.home.join("planted").exists());
    assert!(!repo.base().join("other-repository/file").exists());
    assert_eq!(user_repository(&repo), before);
}

/// A test command that records whether it reached `port` on the loopback and could write to
/// the home directory, then runs the usual checks.
fn networked_check(port: u16) -> String {
    format!(
        r#"#!/bin/sh
if python3 -c "import socket; socket.create_connection(('127.0.0.1', {port}), 2)" 2>"$TEST_LOGS/net-error"; then
  echo connected >> "$TEST_LOGS/net"
else
  echo refused >> "$TEST_LOGS/net"
  cat "$TEST_LOGS/net-error"
  exit 1
fi
if echo x > "$HOME/written-by-tests" 2>/dev/null; then echo "home: written" >> "$TEST_LOGS/writes"; else echo "home: denied" >> "$TEST_LOGS/writes"; fi
case "$TMPDIR" in */git-orchestrate-tmp-*) echo "tmp: private" >> "$TEST_LOGS/writes";; *) echo "tmp: $TMPDIR" >> "$TEST_LOGS/writes";; esac
{}"#,
        CHECK.trim_start_matches("#!/bin/sh\n")
    )
}

/// A loopback server accepting connections for as long as the test runs.
fn loopback_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut stream = stream;
            let _ = stream.read(&mut [0u8; 16]);
        }
    });
    port
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn an_attempts_tests_have_no_network_and_write_only_the_worktree_but_the_baseline_has_both() {
    let port = loopback_server();
    let (repo, issue) = agent_repo(AGENT_GOOD, "max_test_retries = 1\n");
    repo.write("check.sh", &networked_check(port));
    repo.git(&["commit", "-qam", "networked tests"]);

    let run = repo.run(&["7", "--issue-file", &issue, "--until", "impl"]);
    run.expect_code(3);
    // The baseline (the user's own code) reached the server; the attempts' tests could not.
    let net = lines(&repo.logs.join("net"));
    assert_eq!(net[0], "connected", "{net:?}");
    assert!(net[1..].iter().all(|l| l == "refused"), "{net:?}");
    assert!(net.len() >= 2, "{net:?}");
    // The implementer is told why, plainly.
    let calls = repo.call_roles();
    let second = calls
        .iter()
        .position(|c| c == "impl implementer 2")
        .unwrap();
    let prompt = repo.prompt(second + 1);
    assert!(prompt.contains("the tests run without network"), "{prompt}");
    assert!(prompt.contains("new dependencies must already be available"));

    // With sandbox.test_network the attempt's tests reach it, and write only where they may.
    let (repo, issue) = agent_repo(AGENT_GOOD, "[sandbox]\ntest_network = true\n");
    repo.write("check.sh", &networked_check(port));
    repo.git(&["commit", "-qam", "networked tests"]);
    repo.run(&["7", "--issue-file", &issue, "--until", "impl"])
        .expect_code(0);
    assert!(
        lines(&repo.logs.join("net"))
            .iter()
            .all(|l| l == "connected")
    );
    let writes = lines(&repo.logs.join("writes"));
    // The baseline first: not confined, the user's TMPDIR. Then every contained run.
    assert_eq!(writes[0], "home: written", "{writes:?}");
    let contained = &writes[2..];
    assert!(!contained.is_empty(), "{writes:?}");
    for pair in contained.chunks(2) {
        assert_eq!(pair, ["home: denied", "tmp: private"], "{writes:?}");
    }
}

#[test]
fn nothing_the_tests_or_the_agent_detach_outlives_the_attempt() {
    let body = format!(
        "(setsid sh -c 'while true; do echo t >> \"$TEST_LOGS/agent.ticks\"; sleep 0.1; done' &)\nwhile [ ! -s \"$TEST_LOGS/agent.ticks\" ]; do sleep 0.05; done\n{AGENT_GOOD}"
    );
    let (repo, issue) = agent_repo(&body, "");
    repo.write(
        "check.sh",
        &format!(
            "#!/bin/sh\nif grep -q verbose src/lib.rs; then\n  (setsid sh -c 'while true; do echo t >> \"$TEST_LOGS/tests.ticks\"; sleep 0.1; done' &)\n  while [ ! -s \"$TEST_LOGS/tests.ticks\" ]; do sleep 0.05; done\nfi\n{}",
            CHECK.trim_start_matches("#!/bin/sh\n")
        ),
    );
    repo.git(&["commit", "-qam", "tests that leave a child"]);
    repo.run(&["7", "--issue-file", &issue, "--until", "impl"])
        .expect_code(0);
    assert!(repo.logs.join("agent.ticks").exists());
    assert!(repo.logs.join("tests.ticks").exists());
    assert_stopped(&repo.logs.join("agent.ticks"));
    assert_stopped(&repo.logs.join("tests.ticks"));
}

#[test]
fn required_refuses_where_the_kernel_offers_no_landlock_before_any_agent_runs() {
    let (repo, issue) = agent_repo(AGENT_GOOD, "[sandbox]\nmode = \"required\"\n");
    let run = repo.run_env(
        &[("GIT_ORCHESTRATE_SANDBOX_SIMULATE", "no-landlock")],
        &["7", "--issue-file", &issue, "--until", "impl"],
    );
    run.expect_code(1)
        .stderr_has("sandbox.mode is \"required\", but agents and tests cannot be contained here: writes cannot be confined")
        .stderr_has("hint: `git orchestrate doctor` says what this machine offers")
        .stderr_has("-c sandbox.mode=auto");
    assert!(
        !repo.call_roles().iter().any(|c| c.starts_with("impl ")),
        "{:?}",
        repo.call_roles()
    );
    assert_eq!(repo.subjects(BRANCH)[0], SPEC_SUBJECT);
}

#[test]
fn auto_runs_uncontained_where_it_cannot_and_says_so_once() {
    let body = format!("echo x > \"$HOME/planted\"\n{AGENT_GOOD}");
    let (repo, issue) = agent_repo(&body, "");
    let run = repo.run_env(
        &[(
            "GIT_ORCHESTRATE_SANDBOX_SIMULATE",
            "no-landlock,no-namespaces",
        )],
        &["7", "--issue-file", &issue, "--until", "impl"],
    );
    run.expect_code(0);
    assert_eq!(
        run.stderr
            .matches("warning: tests and agents run uncontained: writes cannot be confined")
            .count(),
        1,
        "{}",
        run.stderr
    );
    assert!(repo.home.join("planted").exists());
}

#[test]
fn off_runs_as_before_and_says_so() {
    let body = format!("echo x > \"$HOME/planted\"\n{AGENT_GOOD}");
    let (repo, issue) = agent_repo(&body, "[sandbox]\nmode = \"off\"\n");
    repo.run(&["7", "--issue-file", &issue, "--until", "impl"])
        .expect_code(0)
        .stderr_has("warning: tests and agents run uncontained: sandbox.mode is \"off\"");
    assert!(repo.home.join("planted").exists());
}

#[test]
fn json_says_how_the_run_is_contained() {
    let (repo, issue) = agent_repo(AGENT_GOOD, "");
    let run = repo.run(&["7", "--issue-file", &issue, "--until", "impl", "--json"]);
    run.expect_code(0);
    let event: serde_json::Value = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|e| e["event"] == "sandbox")
        .expect("a sandbox event");
    assert_eq!(event["mode"], "auto");
    assert!(event["landlock"].as_u64().unwrap() >= 1, "{event}");
    assert_eq!(event["network"], "namespace");
    assert_eq!(event["shortfall"], serde_json::Value::Null);
}

#[test]
fn doctor_says_what_the_machine_offers_and_what_a_run_will_do() {
    let (repo, _) = agent_repo(AGENT_GOOD, "");
    let run = repo.run(&["doctor", "--offline"]);
    assert!(
        run.stderr
            .lines()
            .chain(run.stdout.lines())
            .any(|l| l.starts_with("✓ sandbox: Landlock ABI")
                && l.contains("an attempt's tests run without network")),
        "{}{}",
        run.stdout,
        run.stderr
    );

    let run = repo.run_env(
        &[("GIT_ORCHESTRATE_SANDBOX_SIMULATE", "no-namespaces")],
        &["doctor", "--offline"],
    );
    let all = format!("{}{}", run.stdout, run.stderr);
    assert!(
        all.contains("! sandbox: Landlock ABI")
            && all.contains("no user namespaces: tests and agents run with less containment")
            && all.contains(
                "to refuse to run tests and agents with less: sandbox.mode = \"required\""
            ),
        "{all}"
    );

    let run = repo.run_env(
        &[("GIT_ORCHESTRATE_SANDBOX_SIMULATE", "no-landlock")],
        &["-c", "sandbox.mode=required", "doctor", "--offline"],
    );
    let all = format!("{}{}", run.stdout, run.stderr);
    assert_ne!(run.code, 0, "{all}");
    assert!(
        all.contains("✗ sandbox: sandbox.mode is \"required\", but agents and tests cannot be contained here: writes cannot be confined"),
        "{all}"
    );
}

#[test]
fn an_agent_cannot_hide_its_change_from_the_reading_through_the_worktrees_index() {
    // The change is made, then hidden from `git status` in every way the worktree's own index
    // offers: assume-unchanged and skip-worktree bits, and stat data refreshed to match.
    let body = format!(
        "{AGENT_GOOD}\ngit update-index -q --refresh\ngit update-index --assume-unchanged src/lib.rs\ngit update-index --skip-worktree README.md\necho 'hidden line' >> README.md"
    );
    let (repo, issue) = agent_repo(&body, "");
    repo.run(&["7", "--issue-file", &issue, "--until", "impl"])
        .expect_code(0);
    assert!(
        repo.show(BRANCH, "src/lib.rs")
            .unwrap()
            .contains("pub fn verbose()"),
        "the change to src/lib.rs was not committed"
    );
    assert!(
        repo.show(BRANCH, "README.md")
            .unwrap()
            .contains("hidden line"),
        "the change to README.md was not committed:\n{}",
        repo.show(BRANCH, "docs/reports/7.md").unwrap()
    );
}

#[test]
fn a_writable_path_that_does_not_exist_is_said_not_dropped_silently() {
    let (repo, issue) = agent_repo(
        AGENT_GOOD,
        "[sandbox]\nwritable = [\"~/.m2\"]\nagent_writable = [\"/nonexistent/agent-state\"]\n",
    );
    repo.run(&["7", "--issue-file", &issue, "--until", "impl"])
        .expect_code(0)
        .stderr_has("warning: sandbox.writable: ~/.m2 does not exist, so it was not made writable for tests and agents")
        .stderr_has("warning: sandbox.agent_writable: /nonexistent/agent-state does not exist");
    let run = repo.run(&["doctor", "--offline"]);
    let all = format!("{}{}", run.stdout, run.stderr);
    assert!(
        all.contains("! sandbox: Landlock ABI")
            && all.contains("sandbox.writable: ~/.m2, sandbox.agent_writable: /nonexistent/agent-state not made writable: it does not exist")
            && all.contains("hint: create it"),
        "{all}"
    );
}

#[test]
fn a_git_dir_in_the_environment_does_not_lead_the_agent_or_the_tests_to_the_users_repository() {
    let body = format!(
        "git rev-parse --absolute-git-dir > \"$TEST_LOGS/agent-git-dir\" 2>&1\n{AGENT_GOOD}"
    );
    let (repo, issue) = agent_repo(&body, "");
    repo.write(
        "check.sh",
        &format!(
            "#!/bin/sh\ngit rev-parse --absolute-git-dir >> \"$TEST_LOGS/tests-git-dir\" 2>&1\n{}",
            CHECK.trim_start_matches("#!/bin/sh\n")
        ),
    );
    repo.git(&["commit", "-qam", "tests that say which repository they see"]);
    let git_dir = repo.root.join(".git");
    repo.run_env(
        &[
            ("GIT_DIR", git_dir.as_os_str()),
            ("GIT_WORK_TREE", repo.root.as_os_str()),
        ],
        &["7", "--issue-file", &issue, "--until", "impl"],
    )
    .expect_code(0);
    let worktree_git = git_dir.join("worktrees");
    for file in ["agent-git-dir", "tests-git-dir"] {
        for line in lines(&repo.logs.join(file)) {
            assert!(
                Path::new(&line).starts_with(&worktree_git),
                "{file}: {line} is not the worktree's own git directory"
            );
        }
    }
}
