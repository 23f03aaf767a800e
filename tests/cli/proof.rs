//! "Passed" means proven: an attempt whose tests pass is accepted only when the original tests
//! still pass with its code and a test fails without its change. Scripted text and agent
//! implementers for each way around it that was seen: an agent that touched only
//! `.gitignore`, the six shapes of test-weakening, a deleted executable test, a change with
//! no test or with one that passes anyway, the same reply again and again; and each blocked
//! reason in every place a user reads it.

use std::os::unix::fs::PermissionsExt;

use crate::harness::*;
use crate::implement::{
    BLOCKED_SUBJECT, GOOD_EDIT, IMPL_SUBJECT, PROVING_TEST, UNTESTED_EDIT, WRONG_EDIT, impl_calls,
    impl_prompt, impl_repo,
};
use crate::implement_faults::{agent, agent_repo, spec_repo};
use crate::schema::assert_events;

fn run_issue(repo: &TestRepo, issue: &str) -> Run {
    repo.run(&["7", "--issue-file", issue, "--until", "impl"])
}

fn report(repo: &TestRepo) -> String {
    repo.show(BRANCH, "docs/reports/7.md").unwrap()
}

/// The report on the branch holds `text`.
#[track_caller]
fn report_has(repo: &TestRepo, text: &str) {
    let report = report(repo);
    assert!(
        report.contains(text),
        "the report lacks {text:?}:\n{report}"
    );
}

/// The branch tip's commit message holds `text`.
#[track_caller]
fn message_has(repo: &TestRepo, text: &str) {
    let message = repo.git(&["log", "-1", "--format=%B", BRANCH]);
    assert!(
        message.contains(text),
        "the message lacks {text:?}:\n{message}"
    );
}

// ---------------------------------------------------------------------------------------------
// A Python package with its own small test runner, as a real project would have one.
// ---------------------------------------------------------------------------------------------

/// The runner: every `tests/test_*.py` function and every `tests/*.sh` (run as a program, so
/// it needs its executable bit), each a line in cargo's words.
const RUNNER: &str = r#"import glob, subprocess, sys, traceback
sys.dont_write_bytecode = True
sys.path.insert(0, "src")
failed = 0
print("running tests")
for path in sorted(glob.glob("tests/test_*.py")):
    scope = {}
    try:
        exec(compile(open(path).read(), path, "exec"), scope)
    except Exception:
        print(f"test {path} ... FAILED")
        traceback.print_exc(file=sys.stdout)
        failed += 1
        continue
    for name in sorted(scope):
        if name.startswith("test_") and callable(scope[name]):
            try:
                scope[name]()
                print(f"test {path}::{name} ... ok")
            except Exception:
                print(f"test {path}::{name} ... FAILED")
                traceback.print_exc(file=sys.stdout)
                failed += 1
for path in sorted(glob.glob("tests/*.sh")):
    run = subprocess.run(["sh", "-c", "./" + path], capture_output=True, text=True)
    if run.returncode == 0:
        print(f"test {path} ... ok")
    else:
        print(f"test {path} ... FAILED")
        print(run.stdout + run.stderr)
        failed += 1
print(f"test result: {'FAILED' if failed else 'ok'}. {failed} failed")
sys.exit(1 if failed else 0)
"#;

const CALC: &str = "def double(x):\n    return 2 * x\n";
const PY_TEST: &str = "from calc import double\n\n\ndef test_double():\n    result = double(2)\n    assert result == 4\n";
const SH_TEST: &str = "#!/bin/sh\nexec python3 -B -c 'import sys; sys.path.insert(0, \"src\"); from calc import double; sys.exit(0 if double(3) == 6 else 1)'\n";

/// Shell lines an agent runs to write the right code and the test that proves it.
const RIGHT: &str = "printf 'def double(x):\\n    return 2 * x\\n\\n\\ndef triple(x):\\n    return 3 * x\\n' > src/calc.py\nprintf 'from calc import triple\\n\\n\\ndef test_triple():\\n    assert triple(2) == 6\\n' > tests/test_triple.py";
/// The same, with `double` broken.
const WRONG: &str = "printf 'def double(x):\\n    return 3 * x\\n\\n\\ndef triple(x):\\n    return 3 * x\\n' > src/calc.py\nprintf 'from calc import triple\\n\\n\\ndef test_triple():\\n    assert triple(2) == 6\\n' > tests/test_triple.py";

/// A repository holding src/calc.py, `tests` (path, content, executable) and the runner,
/// whose spec names src/calc.py, and an agent implementer running `body`.
fn calc_repo(tests: BaseTests, body: &str, extra: &str) -> (TestRepo, String) {
    let repo = TestRepo::new();
    repo.write("src/calc.py", CALC);
    repo.write("run_tests.py", RUNNER);
    for (path, content, executable) in tests {
        repo.write(path, content);
        if *executable {
            let full = repo.root.join(path);
            std::fs::set_permissions(&full, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
    }
    repo.git(&["add", "."]);
    repo.git(&["commit", "-q", "-m", "calc"]);
    let doc = complete_doc("triple").replace("src/lib.rs", "src/calc.py");
    let drafter = repo.model("drafter", &format!("cat <<'DOC'\n{doc}\nDOC"));
    let reviewer = repo.reviewer("reviewer", &[approved()]);
    let implementer = agent(&repo, "agent", body);
    repo.config_models(
        &drafter,
        &reviewer,
        &format!(
            "[stages.impl]\nimplementer = \"{implementer}\"\ntest_command = \"python3 run_tests.py\"\n{extra}"
        ),
    );
    let issue = repo.issue("# Add a --verbose flag\n\nAdd `triple` beside `double`.\n");
    (repo, issue)
}

/// Test files of the base: path, content, executable.
type BaseTests<'a> = &'a [(&'a str, &'a str, bool)];

/// An agent that runs `first` in attempt 1 and `then` after.
fn rounds(first: &str, then: &str) -> String {
    format!("if [ \"$ORCHESTRATE_ROUND\" = 1 ]; then\n{first}\nelse\n{then}\nfi")
}

#[test]
fn each_way_of_weakening_a_test_is_caught_by_running_the_original() {
    let py: BaseTests = &[("tests/test_calc.py", PY_TEST, false)];
    let sh: BaseTests = &[("tests/check_cli.sh", SH_TEST, true)];
    // What the attempt does, the base's tests, how it weakens them, and the file it weakens.
    let shapes: [(&str, BaseTests, &str, &str); 6] = [
        (
            "a shell test's check replaced by true",
            sh,
            "printf '#!/bin/sh\\ntrue\\n' > tests/check_cli.sh",
            "tests/check_cli.sh",
        ),
        (
            "an executable test script emptied",
            sh,
            ": > tests/check_cli.sh",
            "tests/check_cli.sh",
        ),
        (
            "a test renamed to .disabled and a trivial one added",
            py,
            "mv tests/test_calc.py tests/test_calc.py.disabled\nprintf 'def test_ok():\\n    assert True\\n' > tests/test_ok.py",
            "tests/test_calc.py",
        ),
        (
            "the assertion commented out",
            py,
            "sed -i 's/    assert result/    # assert result/' tests/test_calc.py",
            "tests/test_calc.py",
        ),
        (
            "assert True",
            py,
            "sed -i 's/    assert result == 4/    assert True/' tests/test_calc.py",
            "tests/test_calc.py",
        ),
        (
            "an early return at the top of the test",
            py,
            "sed -i 's/^def test_double():/def test_double():\\n    return/' tests/test_calc.py",
            "tests/test_calc.py",
        ),
    ];
    for (shape, tests, tamper, file) in shapes {
        let (repo, issue) = calc_repo(tests, &rounds(&format!("{WRONG}\n{tamper}"), RIGHT), "");
        let run = run_issue(&repo, &issue);
        run.expect_code(0);
        assert!(
            run.stderr.contains(&format!(
                "Attempt 1 of 4: refused: the tests fail with {file} as on the base; undone"
            )),
            "{shape}:\n{}",
            run.stderr
        );
        assert!(
            run.stderr.contains("Attempt 2 of 4: the tests pass"),
            "{shape}:\n{}",
            run.stderr
        );
        let prompt = impl_prompt(&repo, 2);
        assert!(
            prompt.contains("So those changes hide failures of your code."),
            "{shape}: {prompt}"
        );
        assert!(prompt.contains(&format!("- {file} (")), "{shape}: {prompt}");
        // The original test stands on the branch, with the right code.
        let original = tests[0];
        assert_eq!(
            repo.show(BRANCH, original.0).as_deref(),
            Some(original.1),
            "{shape}"
        );
        assert!(
            repo.show(BRANCH, "src/calc.py")
                .unwrap()
                .contains("return 2 * x"),
            "{shape}"
        );
        assert_eq!(
            repo.trailer(BRANCH, "Orchestrate-Verdict").as_deref(),
            Some("passed"),
            "{shape}"
        );
    }
}

#[test]
fn a_deleted_executable_test_comes_back_executable_and_a_later_right_attempt_passes() {
    let tests: BaseTests = &[("tests/check_cli.sh", SH_TEST, true)];
    let (repo, issue) = calc_repo(
        tests,
        &rounds(&format!("{WRONG}\nrm tests/check_cli.sh"), RIGHT),
        "",
    );
    let run = run_issue(&repo, &issue);
    run.expect_code(0)
        .stderr_has("Attempt 1 of 4: refused: the tests fail with tests/check_cli.sh as on the base; undone")
        .stderr_has("Attempt 2 of 4: the tests pass");
    assert!(!run.stderr.contains("Permission denied"), "{}", run.stderr);
    assert!(impl_prompt(&repo, 2).contains("- tests/check_cli.sh (deleted)"));
    // Mode kept: the file is on the branch as on the base, so the commit does not touch it.
    let entry = repo.git(&["ls-tree", BRANCH, "tests/check_cli.sh"]);
    assert!(entry.starts_with("100755 "), "{entry}");
    let changed = repo.git(&["show", "--format=", "--name-only", BRANCH]);
    assert_eq!(
        changed,
        "docs/reports/7.md\nsrc/calc.py\ntests/test_triple.py"
    );
}

#[test]
fn a_change_with_no_test_is_told_to_add_one_and_passes_with_it() {
    let (repo, issue) = impl_repo(&by_round(&[UNTESTED_EDIT, PROVING_TEST]), "");
    run_issue(&repo, &issue)
        .expect_code(0)
        .stderr_has("Attempt 1 of 4: the tests pass, but no test proves the change")
        .stderr_has("impl attempt 2, proof (the code without the change, with its tests): failed")
        .stderr_has("Attempt 2 of 4: the tests pass");
    let prompt = impl_prompt(&repo, 2);
    assert!(
        prompt.contains("your change adds or changes no test"),
        "{prompt}"
    );
    assert!(
        prompt.contains("Add a test that fails without your change and passes with it"),
        "{prompt}"
    );
    report_has(
        &repo,
        "## Verification\n\n- **Proving tests**: on the code without the change, with only the change's test files (`tests/verbose.sh`) applied, `tests/verbose.sh` fail; with the change they pass.",
    );
    report_has(
        &repo,
        "- **Original tests**: the change modifies no test file of the base",
    );
    message_has(
        &repo,
        "`sh check.sh` passes; proven by tests/verbose.sh (failing without the change).",
    );
}

#[test]
fn a_test_that_passes_on_the_base_too_is_no_proof() {
    let trivial = "tests/trivial.sh\n<<<<<<< SEARCH\n=======\ntrue\n>>>>>>> REPLACE\n";
    let first = format!("{UNTESTED_EDIT}\n{trivial}");
    let (repo, issue) = impl_repo(&by_round(&[&first, PROVING_TEST]), "");
    run_issue(&repo, &issue)
        .expect_code(0)
        .stderr_has("impl attempt 1, proof (the code without the change, with its tests): passed")
        .stderr_has(
            "Attempt 1 of 4: the tests pass, but they pass without the change too: no proof",
        )
        .stderr_has("Attempt 2 of 4: the tests pass");
    let prompt = impl_prompt(&repo, 2);
    assert!(
        prompt.contains(
            "with only your test changes (`tests/trivial.sh`) applied, `sh check.sh` passes too"
        ),
        "{prompt}"
    );
}

/// A test command in cargo's words for Rust's inline tests: each `#[test] fn NAME` in
/// src/lib.rs is a passing test.
const INLINE_CHECK: &str = r#"#!/bin/sh
echo "running tests"
for name in $(sed -n 's/.*#\[test\] fn \([a-z_]*\).*/\1/p' src/lib.rs); do
  echo "test tests::$name ... ok"
done
echo "test result: ok."
"#;

#[test]
fn tests_inside_code_files_prove_a_change_by_a_new_test_name() {
    let with_test = "src/lib.rs\n<<<<<<< SEARCH\n#[test] fn widget_works() {}\n=======\n#[test] fn widget_works() {}\n#[test] fn verbose_works() { assert!(super::verbose()); }\n>>>>>>> REPLACE\n\nsrc/lib.rs\n<<<<<<< SEARCH\npub fn widget() {}\n=======\npub fn widget() {}\npub fn verbose() -> bool { true }\n>>>>>>> REPLACE\n";
    let without = "src/lib.rs\n<<<<<<< SEARCH\npub fn widget() {}\n=======\npub fn widget() {}\npub fn verbose() -> bool { true }\n>>>>>>> REPLACE\n";
    let (repo, issue) = impl_repo(&by_round(&[without, with_test]), "");
    repo.write(
        "src/lib.rs",
        "pub fn widget() {}\n\n#[cfg(test)]\nmod tests {\n#[test] fn widget_works() {}\n}\n",
    );
    repo.write("check.sh", INLINE_CHECK);
    repo.git(&["commit", "-q", "-am", "inline tests"]);
    run_issue(&repo, &issue)
        .expect_code(0)
        .stderr_has("Attempt 1 of 4: the tests pass, but no test proves the change")
        .stderr_has("Attempt 2 of 4: the tests pass");
    let prompt = impl_prompt(&repo, 2);
    assert!(
        prompt.contains("no test that `sh check.sh` names as passing is new"),
        "{prompt}"
    );
    report_has(
        &repo,
        "- **Proving tests** (by name: the tests are inside code files): `tests::verbose_works` did not exist on the base and pass with the change.",
    );
    message_has(&repo, "proven by name: tests::verbose_works (new, passing)");
}

#[test]
fn require_proof_false_accepts_green_and_says_no_proving_test() {
    let (repo, issue) = impl_repo(&by_round(&[UNTESTED_EDIT]), "require_proof = false\n");
    run_issue(&repo, &issue)
        .expect_code(0)
        .stderr_has("Attempt 1 of 4: the tests pass");
    assert_eq!(impl_calls(&repo).len(), 1);
    report_has(
        &repo,
        "> **No proving test.** The change was not required to include a test that fails without it (`stages.impl.require_proof = false`)",
    );
    message_has(&repo, "no proving test (stages.impl.require_proof = false)");
}

#[test]
fn a_spec_saying_no_test_can_prove_it_is_taken_at_its_word_and_said_so() {
    let doc = format!(
        "{}\nProving test: none — the change only documents the widget.\n",
        complete_doc("docs")
    );
    let (repo, issue) = spec_repo(&doc, &by_round(&[UNTESTED_EDIT]));
    run_issue(&repo, &issue).expect_code(0);
    report_has(
        &repo,
        "> **No proving test.** The spec says no test can prove this change (`Proving test: none — the change only documents the widget.`)",
    );
}

// ---------------------------------------------------------------------------------------------
// Changes that cannot be the implementation
// ---------------------------------------------------------------------------------------------

#[test]
fn an_agent_that_only_touches_gitignore_is_not_the_implementation() {
    // What Aider does by default before its model fails: it exits 0 all the same.
    let (repo, issue) = agent_repo(
        "echo '.aider*' >> .gitignore\necho 'chat' > .aider.chat.history.md\necho 'Model error: could not reach the API'",
        "max_test_retries = 1\n",
    );
    let reason = "no attempt changed the code the spec asks for (2 attempts)";
    let run = run_issue(&repo, &issue);
    run.expect_code(3)
        .stderr_has(
            "Attempt 1 of 2: not the implementation: only ignore files or editor and agent state",
        )
        .stderr_has(reason)
        .stderr_has("hint: no code was committed");
    assert!(!run.stderr.contains("tests pass"), "{}", run.stderr);
    assert_eq!(impl_calls(&repo).len(), 2);
    assert_eq!(repo.subjects(BRANCH)[0], BLOCKED_SUBJECT);
    // The agent's state is not committed.
    let changed = repo.git(&["show", "--format=", "--name-only", BRANCH]);
    assert_eq!(changed, "docs/reports/7.md");
    assert!(
        report(&repo).contains(
            "Left out (ignore files and editor or agent state the spec does not name): `.gitignore`."
        ),
        "{}",
        report(&repo)
    );
    let prompt = impl_prompt(&repo, 2);
    // Its chat history is ignored by the line it added: `.gitignore` is all it changed.
    assert!(
        prompt.contains("it changed only ignore files or editor and agent state (`.gitignore`), which cannot be the implementation"),
        "{prompt}"
    );
    assert!(prompt.contains("(it names `src/lib.rs`)"), "{prompt}");
    // No test ran after the change: no Orchestrate-Tests trailer.
    assert_eq!(repo.trailer(BRANCH, "Orchestrate-Tests"), None);
}

#[test]
fn a_change_only_outside_the_files_the_spec_names_is_not_the_implementation() {
    let readme =
        "README.md\n<<<<<<< SEARCH\n# Widget\n=======\n# Widget (verbose)\n>>>>>>> REPLACE\n";
    let (repo, issue) = impl_repo(&by_round(&[readme, GOOD_EDIT]), "");
    run_issue(&repo, &issue)
        .expect_code(0)
        .stderr_has(
            "Attempt 1 of 4: not the implementation: none of the files the spec names (src/lib.rs)",
        )
        .stderr_has("Attempt 2 of 4: the tests pass");
    let prompt = impl_prompt(&repo, 2);
    assert!(
        prompt.contains("it changed only files the spec does not name (`README.md`). The spec expects changes to `src/lib.rs`."),
        "{prompt}"
    );
}

// ---------------------------------------------------------------------------------------------
// Repeats, prompts, and blocked reasons everywhere a user reads them
// ---------------------------------------------------------------------------------------------

/// Run the issue and check that it blocks with `reason` everywhere a user reads it: the
/// error, the commit message, the report and `status`; the hint mentions committed code only
/// when `code`; `Orchestrate-Tests` is `tests` (absent when no test ran). Returns the run.
#[track_caller]
fn blocks_saying(
    repo: &TestRepo,
    issue: &str,
    reason: &str,
    code: bool,
    tests: Option<&str>,
) -> Run {
    let run = run_issue(repo, issue);
    run.expect_code(3)
        .stderr_has(&format!("is blocked at impl: {reason}"))
        .stderr_has(match code {
            true => "hint: the last attempt's code and docs/reports/7.md",
            false => "hint: no code was committed",
        });
    assert_eq!(repo.subjects(BRANCH)[0], BLOCKED_SUBJECT);
    message_has(repo, &format!("Blocked: {reason}"));
    report_has(repo, &format!("**Blocked**: {reason}"));
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Tests").as_deref(),
        tests,
        "Orchestrate-Tests"
    );
    repo.run(&["status", "7"])
        .expect_code(0)
        .stdout_has(&format!("impl: blocked: {reason}"));
    run
}

#[test]
fn the_same_reply_six_times_is_paid_for_twice() {
    let (repo, issue) = impl_repo(&by_round(&[WRONG_EDIT]), "max_test_retries = 5\n");
    let reason = "the implementer repeated itself: attempt 2's reply was attempt 1's again";
    // The tests ran (attempt 1): the trailer says how they ended.
    blocks_saying(&repo, &issue, reason, true, Some("\"sh check.sh\" failed"))
        .stderr_has("Attempt 2 of 6: the reply repeats the one before");
    assert_eq!(impl_calls(&repo).len(), 2);
}

#[test]
fn the_prompt_carries_the_last_failure_once_and_does_not_grow_with_the_attempts() {
    // Broken replies in between keep the loop going; the edit, once applied, is found
    // already applied and changes nothing.
    let stuck = "src/lib.rs\n<<<<<<< SEARCH\npub fn widget() {}\n=======\npub fn widget() {} // not yet\n>>>>>>> REPLACE\n";
    let replies: Vec<String> = (1..=6)
        .map(|n| match n % 2 {
            1 => stuck.to_string(),
            _ => format!("I could not do it (try {n})."),
        })
        .collect();
    let replies: Vec<&str> = replies.iter().map(String::as_str).collect();
    let (repo, issue) = impl_repo(&by_round(&replies), "max_test_retries = 5\n");
    run_issue(&repo, &issue).expect_code(3);
    assert_eq!(impl_calls(&repo).len(), 6);
    let prompts: Vec<String> = (1..=6).map(|n| impl_prompt(&repo, n)).collect();
    let feedback = |p: &str| {
        let at = p.find("## Attempt ").unwrap();
        p[at..].split_once("\n\n").unwrap().1.to_string()
    };
    for (i, prompt) in prompts.iter().enumerate() {
        assert!(
            prompt.matches("still holds").count() <= 1,
            "prompt {}: {prompt}",
            i + 1
        );
    }
    // Attempt 5 changed nothing: attempt 6's prompt carries that note and the standing test
    // failure (attempt 1's) once — no larger than attempt 2's prompt plus the note.
    let note = "Your previous reply changed nothing: every edit in it was already applied.\n\nThe last failure you were told of still holds:\n\n";
    assert!(prompts[5].contains(note), "{}", prompts[5]);
    assert_eq!(
        feedback(&prompts[5]),
        format!("{note}{}", feedback(&prompts[1]))
    );
    assert!(prompts[5].len() <= prompts[1].len() + note.len());
    // A reply that could not be applied is told so, with the standing failure beside it.
    assert!(prompts[2].contains("none of its edits were applied"));
    assert!(prompts[2].contains("tests::verbose_1"));
}

#[test]
fn replies_that_cannot_be_applied_block_with_what_they_were_and_no_test_trailer() {
    let whole = "Here is the new file:\n\n```rust\npub fn widget() {}\n\npub fn verbose() -> bool {\n    true\n}\n```\n";
    let whole_again = "The complete file:\n\n```rust\npub fn widget() {}\npub fn verbose() -> bool { true }\n```\n";
    let (repo, issue) = impl_repo(
        &by_round(&[whole, "I am not sure what to change.", whole_again]),
        "max_test_retries = 2\n",
    );
    let reason = "no reply could be applied (3 attempts: 2 whole files instead of edit blocks, 1 with no blocks)";
    let run = repo.run(&["7", "--issue-file", &issue, "--until", "impl", "--json"]);
    run.expect_code(3);
    let events = assert_events(&run, "a run whose replies cannot be applied");
    let end = events.last().unwrap();
    assert_eq!(end["outcome"], "blocked");
    assert_eq!(end["reason"], reason);
    assert_eq!(end["code"], false);
    let shapes: Vec<&str> = events
        .iter()
        .filter(|e| e["event"] == "attempt")
        .map(|e| e["shape"].as_str().unwrap())
        .collect();
    assert_eq!(shapes, ["whole_files", "no_blocks", "whole_files"]);
    assert_eq!(repo.trailer(BRANCH, "Orchestrate-Tests"), None);
    message_has(&repo, &format!("Blocked: {reason}."));
    let changed = repo.git(&["show", "--format=", "--name-only", BRANCH]);
    assert_eq!(changed, "docs/reports/7.md");
    // Without --json: the hint says no code was committed.
    let (repo, issue) = impl_repo(
        &by_round(&[whole, "I am not sure what to change.", whole_again]),
        "max_test_retries = 2\n",
    );
    blocks_saying(&repo, &issue, reason, false, None).stderr_has(
        "hint: no code was committed: docs/reports/7.md on the branch says what each attempt did",
    );
    let status = repo.run(&["status", "7"]);
    assert!(!status.stdout.contains("impl: tests"), "{}", status.stdout);
}

#[test]
fn an_agent_that_times_out_every_time_blocks_saying_so() {
    let (repo, issue) = agent_repo(
        "sleep 30",
        "max_test_retries = 1\n\n[providers.agent]\ntimeout = \"1s\"\n",
    );
    blocks_saying(&repo, &issue, "the agent timed out twice (1s)", false, None)
        .stderr_has("Attempt 1 of 2: the agent was stopped at its timeout (1s)");
}

#[test]
fn attempts_without_a_proving_test_block_saying_so() {
    let tweak = |n: u32| {
        format!(
            "src/lib.rs\n<<<<<<< SEARCH\npub fn widget() {{}}\n=======\npub fn widget() {{}}\n// tweak {n}\n>>>>>>> REPLACE\n"
        )
    };
    let (t2, t3) = (tweak(2), tweak(3));
    let (repo, issue) = impl_repo(
        &by_round(&[UNTESTED_EDIT, &t2, &t3]),
        "max_test_retries = 2\n",
    );
    blocks_saying(
        &repo,
        &issue,
        "no proving test after 3 attempts",
        true,
        Some("\"sh check.sh\" passed"),
    );
}

#[test]
fn the_proofs_events_match_the_schema_and_say_which_check_ran() {
    let (repo, issue) = impl_repo(&by_round(&[GOOD_EDIT]), "");
    let run = repo.run(&["7", "--issue-file", &issue, "--until", "impl", "--json"]);
    run.expect_code(0);
    let events = assert_events(&run, "a proven run");
    let checks: Vec<&str> = events
        .iter()
        .filter(|e| e["event"] == "tests_finished")
        .map(|e| e["check"].as_str().unwrap_or("none"))
        .collect();
    assert_eq!(checks, ["none", "none", "proof"]);
    assert_eq!(repo.subjects(BRANCH)[0], IMPL_SUBJECT);
}

#[test]
fn an_implementer_that_keeps_weakening_the_tests_blocks_saying_so() {
    let tests: BaseTests = &[("tests/check_cli.sh", SH_TEST, true)];
    let tamper = "printf '#!/bin/sh\\ntrue\\n' > tests/check_cli.sh";
    let (repo, issue) = calc_repo(
        tests,
        &format!("{WRONG}\n{tamper}"),
        "max_test_retries = 1\n",
    );
    blocks_saying(
        &repo,
        &issue,
        "the change still fails the original tests after 2 attempts",
        true,
        Some("\"python3 run_tests.py\" failed with the original test files"),
    );
    // What is committed is the code with the original test: the weakening never lands.
    assert_eq!(
        repo.show(BRANCH, "tests/check_cli.sh").as_deref(),
        Some(SH_TEST)
    );
    let entry = repo.git(&["ls-tree", BRANCH, "tests/check_cli.sh"]);
    assert!(entry.starts_with("100755 "), "{entry}");
}

/// A base test that writes `proof-run.log` (a file no ignore rule covers) whenever it runs
/// with a new Python test but without `triple` in the code: in the proof's runs only, never
/// in the baseline or an attempt's own run.
const LOGS_WITHOUT_TRIPLE: (&str, &str, bool) = (
    "tests/log.sh",
    "#!/bin/sh\nif ! grep -q triple src/calc.py && ls tests/test_*.py >/dev/null 2>&1; then\n    echo 'ran without the change' > proof-run.log\nfi\n",
    true,
);

/// The files the branch's tip commit changed.
fn committed(repo: &TestRepo) -> String {
    repo.git(&["show", "--format=", "--name-only", BRANCH])
}

#[test]
fn what_the_proofs_run_writes_is_neither_committed_nor_left_in_the_worktree() {
    // The worktree is not read after the proof's run: the change's files are put back and
    // the rest is removed with the reset after the commit.
    let (repo, issue) = calc_repo(&[LOGS_WITHOUT_TRIPLE], RIGHT, "");
    run_issue(&repo, &issue)
        .expect_code(0)
        .stderr_has("Attempt 1 of 4: the tests pass");
    assert_eq!(
        committed(&repo),
        "docs/reports/7.md\nsrc/calc.py\ntests/test_triple.py"
    );
    let worktree = repo.root.join(".git/orchestrate/worktrees/7");
    let worktree = worktree.to_str().unwrap();
    let status = repo.git(&[
        "-C",
        worktree,
        "status",
        "--porcelain",
        "--untracked-files=all",
    ]);
    assert_eq!(status, "", "{}", report(&repo));
    assert_eq!(
        repo.git(&["-C", worktree, "rev-parse", "HEAD"]),
        repo.git(&["rev-parse", BRANCH])
    );
}

#[test]
fn what_a_refused_proofs_run_wrote_is_not_taken_for_the_next_attempts_change() {
    // Attempt 1's test passes without the change too: refused after the proof's run, which
    // wrote proof-run.log. Attempt 2 must not be credited with that file.
    let trivial = "printf 'def double(x):\\n    return 2 * x\\n\\n\\ndef triple(x):\\n    return 3 * x\\n' > src/calc.py\nprintf 'def test_nothing():\\n    assert True\\n' > tests/test_nothing.py";
    let (repo, issue) = calc_repo(&[LOGS_WITHOUT_TRIPLE], &rounds(trivial, RIGHT), "");
    run_issue(&repo, &issue)
        .expect_code(0)
        .stderr_has("Attempt 1 of 4: the tests pass, but they pass without the change too")
        .stderr_has("Attempt 2 of 4: the tests pass");
    let files = committed(&repo);
    assert!(!files.contains("proof-run.log"), "{files}");
    report_has(
        &repo,
        "Left out (written by the test command, not by the implementer): `proof-run.log`.",
    );
}
