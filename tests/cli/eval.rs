//! `git orchestrate eval`: a fixture history replayed as tasks. Commits that add code and
//! tests (valid tasks), one that changes only docs, one whose tests already pass on its
//! parent, one whose tests fail on the commit; a scripted implementer that solves one task,
//! passes its own tests but not the hidden ones on another (a false pass), and writes the
//! right code without a test on a third (blocked, but solved). Checked: the candidates and
//! skip reasons, the table and summary, the JSON against its schemas, the refs (only under
//! `refs/orchestrate-eval/`), the prompts (never a hidden test), the user's checkout, index
//! and branches (untouched), `--resume` after kill -9, `--compare`, `--clean`, `-j 3`.

use std::path::PathBuf;

use serde_json::Value;

use crate::harness::*;

/// Runs every `tests/*.sh`; passes when all do.
const CHECK: &str = "#!/bin/sh\nstatus=0\nfor t in tests/*.sh; do\n  [ -e \"$t\" ] || continue\n  if sh \"$t\" >/dev/null 2>&1; then echo \"test $t ... ok\"; else echo \"test $t ... FAILED\"; status=1; fi\ndone\nexit $status\n";

/// A hidden test: `src/lib.rs` has `needle`; marked so a prompt that carried it is found.
fn hidden_test(task: &str, needle: &str) -> String {
    format!("# HIDDEN-TEST-{task}\ngrep -q '{needle}' src/lib.rs\n")
}

/// An edit block adding `line` after the widget, and optionally a test of its own.
fn edit(line: &str, own_test: Option<(&str, &str)>) -> String {
    let mut reply = format!(
        "src/lib.rs\n<<<<<<< SEARCH\npub fn widget() {{}}\n=======\npub fn widget() {{}}\n{line}\n>>>>>>> REPLACE\n"
    );
    if let Some((path, needle)) = own_test {
        reply.push_str(&format!(
            "\n{path}\n<<<<<<< SEARCH\n=======\ngrep -q '{needle}' src/lib.rs\n>>>>>>> REPLACE\n"
        ));
    }
    reply
}

/// The fixture: a repository whose range `BASE..main` holds, in order,
/// 1 `Add greet` (valid), 2 `Document the widget` (docs only), 3 `Tidy the widget` (its test
/// passes on the parent), 4 `Add count` (valid), 5 `Add farewell` (valid), 6 `Start shout`
/// (its test fails on the commit). Returns the repository and the range.
fn history() -> (TestRepo, String) {
    let repo = TestRepo::new();
    repo.write("check.sh", CHECK);
    repo.git(&["add", "check.sh"]);
    repo.git(&["commit", "-q", "-m", "Run the tests with check.sh"]);
    let base = repo.rev("HEAD");
    let mut lib = String::from("pub fn widget() {}\n");
    let mut commit =
        |subject: &str, body: &str, code: Option<&str>, test: Option<(&str, String)>| {
            if let Some(line) = code {
                lib = lib.replace(
                    "pub fn widget() {}\n",
                    &format!("pub fn widget() {{}}\n{line}\n"),
                );
                repo.write("src/lib.rs", &lib);
            }
            if let Some((path, content)) = &test {
                repo.write(path, content);
            }
            if code.is_none() && test.is_none() {
                repo.write(
                    "README.md",
                    "# Widget\n\nWidget turns sprockets into widgets, fast.\n",
                );
            }
            repo.git(&["add", "-A"]);
            repo.git(&["commit", "-q", "-m", &format!("{subject}\n\n{body}")]);
        };
    commit(
        "Add greet",
        "The widget should greet.",
        Some("pub fn greet() {}"),
        Some(("tests/greet.sh", hidden_test("greet", "fn greet()"))),
    );
    commit("Document the widget", "Say it is fast.", None, None);
    commit(
        "Tidy the widget",
        "A comment.",
        Some("// tidy"),
        Some(("tests/widget.sh", hidden_test("widget", "fn widget()"))),
    );
    commit(
        "Add count",
        "The widget should count.",
        Some("pub fn count() {}"),
        Some(("tests/count.sh", hidden_test("count", "fn count()"))),
    );
    commit(
        "Add farewell",
        "The widget should say farewell.",
        Some("pub fn farewell() {}"),
        Some((
            "tests/farewell.sh",
            hidden_test("farewell", "fn farewell()"),
        )),
    );
    commit(
        "Start shout",
        "Half done.",
        Some("pub fn shout() {}"),
        Some(("tests/shout.sh", hidden_test("shout", "fn shout_loud()"))),
    );
    (repo, format!("{base}..main"))
}

/// The implementer, by task: 1 solves (code and its own proving test), 4 passes its own test
/// with the wrong code (a false pass), 5 writes the right code with no test (blocked for no
/// proving test, yet solved).
fn implementer_body() -> String {
    format!(
        "case \"$ORCHESTRATE_ISSUE\" in\n1) cat <<'REPLY'\n{}\nREPLY\n;;\n4) cat <<'REPLY'\n{}\nREPLY\n;;\n*) cat <<'REPLY'\n{}\nREPLY\n;;\nesac",
        edit(
            "pub fn greet() {}",
            Some(("tests/greet_own.sh", "fn greet()"))
        ),
        edit(
            "pub fn counter() {}",
            Some(("tests/counter.sh", "fn counter()"))
        ),
        edit("pub fn farewell() {}", None),
    )
}

/// Configure the design models (approving), the implementer and the test command.
fn configure(repo: &TestRepo, extra: &str) {
    let implementer = repo.model("implementer", &implementer_body());
    repo.use_models(
        &[approved()],
        &format!(
            "[stages.impl]\nimplementer = \"{implementer}\"\ntest_command = \"sh check.sh\"\nmax_test_retries = 1\n{extra}"
        ),
    );
}

/// Everything about the user's repository the eval must leave alone: checkout, index,
/// branches and tags, byte for byte.
fn user_state(repo: &TestRepo) -> String {
    format!(
        "{}\nrefs:\n{}\nindex:{:?}",
        repo.checkout_state(),
        repo.git(&[
            "for-each-ref",
            "--format=%(refname) %(objectname)",
            "refs/heads",
            "refs/tags",
            "refs/remotes"
        ]),
        std::fs::read(repo.root.join(".git/index")).unwrap()
    )
}

/// Every ref of the repository.
fn all_refs(repo: &TestRepo) -> Vec<String> {
    repo.git(&["for-each-ref", "--format=%(refname)"])
        .lines()
        .map(str::to_string)
        .collect()
}

fn eval_dir(repo: &TestRepo) -> PathBuf {
    repo.root.join(".git/orchestrate/eval")
}

/// The id of the only (or last) eval run.
fn run_ids(repo: &TestRepo) -> Vec<String> {
    let mut ids: Vec<String> = std::fs::read_dir(eval_dir(repo))
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    ids.sort();
    ids
}

fn report(repo: &TestRepo, id: &str) -> Value {
    let text = std::fs::read_to_string(eval_dir(repo).join(id).join("report.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn status_of(report: &Value, task: u64) -> (String, Option<String>) {
    let c = report["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["task"] == task)
        .unwrap();
    (
        c["status"].as_str().unwrap().to_string(),
        c["reason"].as_str().map(str::to_string),
    )
}

fn judgement(report: &Value, task: u64) -> String {
    report["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["task"] == task)
        .unwrap_or_else(|| panic!("no task {task} in {report:#}"))["judgement"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn eval_replays_the_history_and_judges_with_the_hidden_tests() {
    let (repo, range) = history();
    configure(&repo, "");
    let before = user_state(&repo);
    let run = repo.run(&["eval", &range]);
    run.expect_code(0)
        .stderr_has("#2 ")
        .stderr_has("skipped, changes no test file")
        .stderr_has("skipped, its tests do not fail on the parent")
        .stderr_has("skipped, the tests fail on the commit itself")
        .stdout_has("solved 2/3 = 66.7 %")
        .stdout_has("1 false pass")
        .stdout_has("1 cautious (blocked but solved)");
    assert_eq!(
        user_state(&repo),
        before,
        "the user's checkout, index and branches"
    );

    let ids = run_ids(&repo);
    assert_eq!(ids.len(), 1);
    let report = report(&repo, &ids[0]);
    assert_eq!(status_of(&report, 1), ("valid".into(), None));
    assert_eq!(
        status_of(&report, 2),
        ("skipped".into(), Some("no_test_change".into()))
    );
    assert_eq!(
        status_of(&report, 3),
        ("skipped".into(), Some("passes_on_parent".into()))
    );
    assert_eq!(status_of(&report, 4), ("valid".into(), None));
    assert_eq!(status_of(&report, 5), ("valid".into(), None));
    assert_eq!(
        status_of(&report, 6),
        ("skipped".into(), Some("fails_on_commit".into()))
    );
    assert_eq!(report["chosen"], serde_json::json!([1, 4, 5]));
    assert_eq!(judgement(&report, 1), "passed_solved");
    assert_eq!(judgement(&report, 4), "false_pass");
    assert_eq!(judgement(&report, 5), "cautious");
    assert_eq!(report["summary"]["false_passes"], 1);
    crate::schema::assert_eval_report(&report, "report.json");

    // The table: one row per task with the stages' verdicts.
    let rows: Vec<String> = run
        .stdout
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(
        rows[0],
        "task commit triage lld spec impl solved tokens $ min"
    );
    let row = |task: &str| {
        let row = rows
            .iter()
            .find(|r| r.starts_with(&format!("{task} ")))
            .unwrap();
        row.split(' ').skip(2).take(6).collect::<Vec<_>>().join(" ")
    };
    assert_eq!(row("#1"), "passed approved approved passed yes 0");
    assert_eq!(row("#4"), "passed approved approved passed no (false");
    assert_eq!(row("#5"), "passed approved approved blocked yes 0");
    let markdown =
        std::fs::read_to_string(eval_dir(&repo).join(&ids[0]).join("report.md")).unwrap();
    assert!(markdown.contains("solved 2/3 = 66.7 %"), "{markdown}");

    // Refs: the user's own, and the run's under refs/orchestrate-eval/ only.
    let refs = all_refs(&repo);
    let ours: Vec<&String> = refs
        .iter()
        .filter(|r| !r.starts_with("refs/heads/main"))
        .collect();
    assert_eq!(ours.len(), 3, "{refs:?}");
    for r in &ours {
        assert!(
            r.starts_with(&format!("refs/orchestrate-eval/{}/", ids[0])),
            "{r}"
        );
    }
    // The kept branch holds the impl stage's code, and not the hidden test.
    let kept = format!("refs/orchestrate-eval/{}/4", ids[0]);
    assert!(
        repo.show(&kept, "src/lib.rs")
            .unwrap()
            .contains("fn counter()")
    );
    assert!(repo.show(&kept, "tests/count.sh").is_none());

    // No prompt of a task carried its hidden tests (by their mark, or their path).
    let calls = repo.calls();
    assert!(!calls.is_empty());
    for (i, call) in calls.iter().enumerate() {
        let prompt = repo.prompt(i + 1);
        let task = call
            .split("issue=")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap();
        let (mark, path) = match task {
            "1" => ("HIDDEN-TEST-greet", "tests/greet.sh"),
            "4" => ("HIDDEN-TEST-count", "tests/count.sh"),
            "5" => ("HIDDEN-TEST-farewell", "tests/farewell.sh"),
            other => panic!("a model was called for task {other}"),
        };
        assert!(
            !prompt.contains(mark),
            "call {call} saw its hidden test:\n{prompt}"
        );
        assert!(
            !prompt.contains(path),
            "call {call} saw its hidden test's path:\n{prompt}"
        );
    }
    // Nor did any prompt the scratch repositories' transcripts kept.
    for (path, text) in files_under(&eval_dir(&repo)) {
        if path.contains("/transcripts/") {
            let task = path
                .split("/tasks/")
                .nth(1)
                .unwrap()
                .split('/')
                .next()
                .unwrap();
            let mark = match task {
                "1" => "HIDDEN-TEST-greet",
                "4" => "HIDDEN-TEST-count",
                _ => "HIDDEN-TEST-farewell",
            };
            assert!(!text.contains(mark), "{path}");
        }
    }

    // --clean removes the run's refs and scratch repositories, and keeps its reports.
    let clean = repo.run(&["eval", "--clean", &ids[0]]);
    clean.expect_code(0).stderr_has("removed 3 ref(s)");
    assert_eq!(all_refs(&repo), vec!["refs/heads/main".to_string()]);
    assert!(eval_dir(&repo).join(&ids[0]).join("report.json").is_file());
    assert!(!eval_dir(&repo).join(&ids[0]).join("tasks/1/repo").exists());
    assert_eq!(user_state(&repo), before);
}

#[test]
fn limit_sample_and_json_choose_and_report() {
    let (repo, range) = history();
    configure(&repo, "");
    // A prompt template of the user's is part of the configuration measured.
    let template = format!(
        "{}\nPROMPT-OVERRIDE-MARK\n",
        include_str!("../../src/pipeline/prompts/lld-draft.md")
    );
    repo.write(".orchestrate/prompts/lld-draft.md", &template);
    let run = repo.run(&["eval", &range, "--limit", "1", "--json"]);
    run.expect_code(0);
    let lines: Vec<Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let last = lines.last().unwrap();
    assert_eq!(last["event"], "eval_finished");
    assert_eq!(last["chosen"], serde_json::json!([1]));
    assert_eq!(last["summary"]["solved"], 1);
    crate::schema::assert_eval_lines(&lines, "eval --json");
    let prompts: Vec<String> = (1..=repo.calls().len()).map(|n| repo.prompt(n)).collect();
    assert!(prompts.iter().any(|p| p.contains("PROMPT-OVERRIDE-MARK")));
    // Commits after the first valid one are not checked.
    assert_eq!(status_of(last, 4), ("not_checked".into(), None));

    // --sample picks valid tasks by the seed, reproducibly, and -j runs them side by side.
    let run = repo.run(&["eval", &range, "--sample", "2", "--seed", "3", "-j", "3"]);
    run.expect_code(0);
    let ids = run_ids(&repo);
    let chosen = report(&repo, &ids[1])["chosen"].clone();
    assert_eq!(chosen.as_array().unwrap().len(), 2, "{chosen}");
    let again = repo.run(&["eval", &range, "--sample", "2", "--seed", "3", "--json"]);
    again.expect_code(0);
    let ids = run_ids(&repo);
    assert_eq!(report(&repo, &ids[2])["chosen"], chosen);

    // --compare sets two runs side by side on the tasks both ran.
    let json = repo.run(&["eval", "--compare", &ids[1], &ids[2], "--json"]);
    json.expect_code(0);
    let document: Value = serde_json::from_str(&json.stdout).unwrap();
    crate::schema::assert_eval_comparison(&document, "eval --compare --json");
    assert_eq!(document["tasks"].as_array().unwrap().len(), 2);
    let cmp = repo.run(&["eval", "--compare", &ids[1], &ids[2]]);
    cmp.expect_code(0)
        .stdout_has("A solved")
        .stdout_has("solved by A only: 0, by B only: 0");
    let refs = all_refs(&repo);
    assert!(
        refs.iter()
            .all(|r| r == "refs/heads/main" || r.starts_with("refs/orchestrate-eval/")),
        "{refs:?}"
    );
}

#[test]
fn three_tasks_run_at_once() {
    let (repo, range) = history();
    configure(&repo, "");
    let before = user_state(&repo);
    let run = repo.run(&["eval", &range, "-j", "3"]);
    run.expect_code(0).stdout_has("solved 2/3 = 66.7 %");
    let ids = run_ids(&repo);
    let report = report(&repo, &ids[0]);
    assert_eq!(judgement(&report, 1), "passed_solved");
    assert_eq!(judgement(&report, 4), "false_pass");
    assert_eq!(judgement(&report, 5), "cautious");
    assert_eq!(user_state(&repo), before);
}

#[test]
fn a_killed_eval_resumes_without_running_finished_tasks_again() {
    let (repo, range) = history();
    // The implementer of task 4 says it was called, then hangs; the eval is killed then.
    let marker = repo.base().join("task-4-called");
    configure(&repo, "");
    let hanging = format!(
        "if [ \"$ORCHESTRATE_ISSUE\" = 4 ] && [ ! -e '{m}' ]; then touch '{m}'; sleep 5; fi\n{}",
        implementer_body(),
        m = marker.display()
    );
    repo.model("implementer", &hanging);
    let mut child = std::process::Command::new(BIN);
    repo.apply_env(&mut child);
    let mut child = child
        .args(["eval", &range])
        .current_dir(&repo.root)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while !marker.exists() {
        assert!(started.elapsed().as_secs() < 60, "task 4 never started");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let ids = run_ids(&repo);
    assert_eq!(ids.len(), 1);
    let dir = eval_dir(&repo).join(&ids[0]);
    assert!(dir.join("tasks/1/result.json").is_file());
    assert!(!dir.join("tasks/4/result.json").exists());
    let calls_before = repo.calls().len();

    // Another configuration for the tasks left is refused, not silently dropped.
    repo.run(&[
        "-c",
        "stages.impl.max_test_retries=0",
        "eval",
        "--resume",
        &ids[0],
    ])
    .expect_code(2)
    .stderr_has("keeps the configuration it started with")
    .stderr_has(&format!(
        "hint: go on as it started: git orchestrate eval --resume {}",
        ids[0]
    ));
    repo.run(&["eval", "--resume", &ids[0], "--budget", "3"])
        .expect_code(2)
        .stderr_has("keeps the budget it started with");
    assert!(!dir.join("tasks/4/result.json").exists());

    let resumed = repo.run(&["eval", "--resume", &ids[0]]);
    resumed.expect_code(0).stdout_has("solved 2/3 = 66.7 %");
    // Task 1 was not run again: no call for it after the kill.
    let after: Vec<String> = repo.calls()[calls_before..].to_vec();
    assert!(after.iter().all(|c| !c.contains("issue=1 ")), "{after:?}");
    assert_eq!(judgement(&report(&repo, &ids[0]), 4), "false_pass");
}

#[test]
fn eval_errors_say_what_to_do() {
    let (repo, _) = history();
    repo.run(&["eval", "--resume", "nope"])
        .expect_code(1)
        .stderr_has("no eval run `nope`")
        .stderr_has("hint:");
    repo.run(&["eval", "--compare", "a/b", "c"])
        .expect_code(1)
        .stderr_has("is not the name of an eval run")
        .stderr_has("hint:");
    repo.run(&["eval", "--budget", "0", "main"])
        .expect_code(2)
        .stderr_has("hint:");
    repo.run(&["eval", "no-such..main"])
        .expect_code(1)
        .stderr_has("error: `no-such..main` is not a range of commits of this repository")
        .stderr_has("hint: a range is what `git log no-such..main` accepts");
    assert!(
        run_ids(&repo).is_empty(),
        "a run that could not start keeps nothing"
    );
}

#[test]
fn the_issue_text_can_come_from_the_github_issue_a_commit_closes() {
    use crate::github::{TOKEN, github_ok, issue_json};
    use crate::vendors::Vendor;
    use wiremock::Mock;
    use wiremock::matchers::{method, path};

    let (repo, range) = history();
    configure(&repo, "");
    // A last commit that closes issue 12 (and finishes the shout the one before began).
    let lib = repo.read("src/lib.rs").replace(
        "pub fn widget() {}\n",
        "pub fn widget() {}\npub fn shout_loud() {}\npub fn wave() {}\n",
    );
    repo.write("src/lib.rs", &lib);
    repo.write("tests/wave.sh", &hidden_test("wave", "fn wave()"));
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "Add wave\n\nFixes #12"]);
    repo.git(&[
        "remote",
        "add",
        "origin",
        "https://github.com/acme/widgets.git",
    ]);
    let api = Vendor::start();
    api.mount(
        Mock::given(method("GET"))
            .and(path("/repos/acme/widgets/issues/12"))
            .respond_with(github_ok(issue_json(
                12,
                "Wave at the user",
                "The widget should wave.",
            ))),
    );
    let url = format!("github.api_url={}", api.url());
    let run = repo.run_env(
        &[("GITHUB_TOKEN", TOKEN)],
        &["-c", &url, "eval", &range, "--issue-text", "github"],
    );
    run.expect_code(0)
        .stderr_has("#1 ")
        .stderr_has("skipped, its message names no issue (Fixes #N)")
        .stderr_has("Add wave: task");
    let ids = run_ids(&repo);
    let report = report(&repo, &ids[0]);
    assert_eq!(report["chosen"], serde_json::json!([7]));
    assert_eq!(report["candidates"][6]["names_issue"], 12);
    let issue =
        std::fs::read_to_string(eval_dir(&repo).join(&ids[0]).join("tasks/7/issue.md")).unwrap();
    assert_eq!(issue, "# Wave at the user\n\nThe widget should wave.\n");
    // The models read the issue, not the commit message.
    let prompts: Vec<String> = (1..=repo.calls().len()).map(|n| repo.prompt(n)).collect();
    assert!(prompts.iter().any(|p| p.contains("Wave at the user")));
    assert!(!run.stdout.contains(TOKEN) && !run.stderr.contains(TOKEN));
}

#[test]
fn merges_takes_the_merged_pull_requests_of_the_first_parent_line() {
    let repo = TestRepo::new();
    repo.write("check.sh", CHECK);
    repo.git(&["add", "check.sh"]);
    repo.git(&["commit", "-q", "-m", "Run the tests with check.sh"]);
    let base = repo.rev("HEAD");
    // A pull request of two commits (code, then its test), merged; and a commit on main.
    repo.git(&["checkout", "-q", "-b", "greet"]);
    repo.write("src/lib.rs", "pub fn widget() {}\npub fn greet() {}\n");
    repo.git(&["commit", "-q", "-am", "Add greet"]);
    repo.write("tests/greet.sh", &hidden_test("greet", "fn greet()"));
    repo.git(&["add", "tests/greet.sh"]);
    repo.git(&["commit", "-q", "-m", "Test greet"]);
    repo.git(&["checkout", "-q", "main"]);
    repo.write("README.md", "# Widget\n\nFast.\n");
    repo.git(&["commit", "-q", "-am", "Docs"]);
    repo.git(&[
        "merge",
        "-q",
        "--no-ff",
        "greet",
        "-m",
        "Merge pull request #3: greet",
    ]);
    repo.git(&["branch", "-q", "-D", "greet"]);
    configure(&repo, "");
    let before = user_state(&repo);
    let run = repo.run(&["eval", &format!("{base}..main"), "--merges"]);
    run.expect_code(0)
        .stderr_has("has 1 commit(s), 1 changing tests and code")
        .stdout_has("solved 1/1 = 100.0 %");
    let report = report(&repo, &run_ids(&repo)[0]);
    assert_eq!(report["merges"], true);
    assert_eq!(
        report["candidates"][0]["hidden_tests"],
        serde_json::json!(["tests/greet.sh"])
    );
    assert_eq!(
        report["candidates"][0]["code_files"],
        serde_json::json!(["src/lib.rs"])
    );
    assert_eq!(judgement(&report, 1), "passed_solved");
    assert_eq!(user_state(&repo), before);
}

#[test]
fn ctrl_c_keeps_finished_tasks_and_says_how_to_resume() {
    use crate::faults::{Spawned, wait_until};
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;

    let (repo, range) = history();
    configure(&repo, "");
    // Task 4's implementer plants a hook in the user's repository, says it was called, then
    // hangs until it is stopped.
    let marker = repo.base().join("task-4-called");
    let hook = repo.root.join(".git/hooks/pre-push");
    let hanging = format!(
        "if [ \"$ORCHESTRATE_ISSUE\" = 4 ]; then echo planted > '{h}'; touch '{m}'; sleep 300; fi\n{}",
        implementer_body(),
        h = hook.display(),
        m = marker.display()
    );
    repo.model("implementer", &hanging);
    let run = Spawned::start(&repo, &["eval", &range]);
    wait_until("task 4's implementer is called", || marker.exists());
    kill(Pid::from_raw(run.pid()), Signal::SIGINT).unwrap();
    let run = run.finish();
    run.expect_code(130)
        .stderr_has("go on with: git orchestrate eval --resume");
    // Stopped, the task's change to the user's repository is undone all the same.
    assert!(!hook.exists());
    let ids = run_ids(&repo);
    let dir = eval_dir(&repo).join(&ids[0]);
    assert!(dir.join("tasks/1/result.json").is_file());
    assert!(!dir.join("tasks/4/result.json").exists());
    // The report holds what was finished.
    let report = report(&repo, &ids[0]);
    assert_eq!(report["tasks"].as_array().unwrap().len(), 1);
}

#[test]
fn a_model_that_plants_a_hook_and_a_branch_in_the_users_repository_is_an_error_and_undone() {
    // The task's programs work in a scratch repository; a `cmd:` model (never contained)
    // reaches the user's repository all the same. The check around the task finds it.
    let (repo, range) = history();
    configure(&repo, "");
    let git_dir = repo.root.join(".git");
    let planting = format!(
        "if [ \"$ORCHESTRATE_ISSUE\" = 4 ]; then\n  printf '#!/bin/sh\\n' > '{hooks}/pre-push'\n  chmod +x '{hooks}/pre-push'\n  git --git-dir='{git}' branch planted HEAD\n  echo planted > '{root}/planted.txt'\nfi\n{}",
        implementer_body(),
        hooks = git_dir.join("hooks").display(),
        git = git_dir.display(),
        root = repo.root.display(),
    );
    repo.model("implementer", &planting);
    let before = user_state(&repo);
    let run = repo.run(&["eval", &range]);
    run.expect_code(1).stderr_has(
        "#4 2894541: error: the task changed your repository outside its scratch repository: .git/hooks/pre-push was added (put back); the ref refs/heads/planted was added (put back); planted.txt in the checkout was added (left as it is)",
    );
    assert!(!git_dir.join("hooks/pre-push").exists());
    // The user's files are theirs to sort out: named, left alone.
    assert_eq!(repo.read("planted.txt"), "planted\n");
    std::fs::remove_file(repo.root.join("planted.txt")).unwrap();
    assert_eq!(user_state(&repo), before);
    let ids = run_ids(&repo);
    let report = report(&repo, &ids[0]);
    assert_eq!(judgement(&report, 4), "error");
    assert_eq!(judgement(&report, 1), "passed_solved");
}
