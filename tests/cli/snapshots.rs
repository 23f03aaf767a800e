//! What a person sees: the human output of runs, `status`, `--dry-run`, the main errors and
//! every command's help, as inline snapshots. Temporary paths, commit ids, elapsed times and
//! process ids are normalised ([`normalise`]); the harness fixes dates, identity and
//! `NO_COLOR`, and there is no terminal, so no spinner.

use crate::harness::{BRANCH, Run, TestRepo, approved, blocked, normalise};

/// A repository whose drafter is the good drafter and whose reviewer answers `replies`, both
/// named as installed programs are (`cmd:drafter`, found on `PATH`; see [`orchestrate`]), so that the
/// output holds no temporary path; `extra` is more configuration. And the issue file.
fn repo_with(replies: &[&str], extra: &str) -> (TestRepo, String) {
    let repo = TestRepo::new();
    repo.good_drafter();
    repo.reviewer("reviewer", replies);
    repo.config_models("cmd:drafter", "cmd:reviewer", extra);
    let issue = repo.default_issue();
    (repo, issue)
}

/// Run the binary with the test's model programs on `PATH`.
fn orchestrate(repo: &TestRepo, args: &[&str]) -> Run {
    repo.run_env(&[("PATH", repo.path_with_models())], args)
}

/// The exit code and the output of `run`, normalised: stdout where there is any, then stderr.
fn seen(repo: &TestRepo, run: &Run) -> String {
    let mut text = format!("exit {}\n", run.code);
    for (name, output) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
        if !output.is_empty() {
            text.push_str(&format!("--- {name}\n{output}"));
        }
    }
    normalise(repo, &text)
}

fn until_spec(repo: &TestRepo, issue: &str) -> Run {
    orchestrate(repo, &["7", "--issue-file", issue, "--until", "spec"])
}

// ---------------------------------------------------------------------------------------
// Runs

#[test]
fn a_run_to_the_spec() {
    let (repo, issue) = repo_with(&[approved()], "");
    let run = until_spec(&repo, &issue);
    insta::assert_snapshot!(seen(&repo, &run), @"
    exit 0
    --- stderr
           Issue #7 Add a --verbose flag on orchestrate/7-add-a-verbose-flag (new, from main)
        Starting triage: no brief yet
       Committed triage (passed) [ID]: docs/issues/7.md
        Finished triage: passed ([TIME], [ID])
        Starting lld: no design yet
                 lld round 1: drafter cmd:drafter answered ([TIME])
                 lld round 1: reviewer cmd:reviewer answered ([TIME])
        Reviewed lld round 1: APPROVED
       Committed lld (approved) [ID]: docs/lld/7.md, docs/reviews/7-lld.md
        Finished lld: approved in 1 round ([TIME], [ID])
        Starting spec: no implementation spec yet
                 spec round 1: drafter cmd:drafter answered ([TIME])
                 spec round 1: reviewer cmd:reviewer answered ([TIME])
        Reviewed spec round 1: APPROVED
       Committed spec (approved) [ID]: docs/specs/7.md, docs/reviews/7-spec.md
        Finished spec: approved in 1 round ([TIME], [ID])

      stage   result   detail               commit   time
      triage  done     passed               [ID]     [TIME]
      lld     done     approved in 1 round  [ID]     [TIME]
      spec    done     approved in 1 round  [ID]     [TIME]
      impl    not run  after --until spec
      pr      not run  after --until spec
    #7: stopped after spec, as asked (--until spec).
    ");
}

#[test]
fn a_run_the_reviewer_blocks() {
    let (repo, issue) = repo_with(
        &[&blocked("the issue asks for two incompatible formats")],
        "",
    );
    let run = until_spec(&repo, &issue);
    insta::assert_snapshot!(seen(&repo, &run), @"
    exit 3
    --- stderr
           Issue #7 Add a --verbose flag on orchestrate/7-add-a-verbose-flag (new, from main)
        Starting triage: no brief yet
       Committed triage (passed) [ID]: docs/issues/7.md
        Finished triage: passed ([TIME], [ID])
        Starting lld: no design yet
                 lld round 1: drafter cmd:drafter answered ([TIME])
                 lld round 1: reviewer cmd:reviewer answered ([TIME])
        Reviewed lld round 1: BLOCKED
       Committed lld (blocked) [ID]: docs/lld/7.md, docs/reviews/7-lld.md
         Blocked lld in 1 round ([TIME], [ID]): the reviewer blocked it: the issue asks for two incompatible formats

      stage   result   detail                                                                commit   time
      triage  done     passed                                                                [ID]     [TIME]
      lld     blocked  the reviewer blocked it: the issue asks for two incompatible formats  [ID]     [TIME]
      spec    not run
      impl    not run  after --until spec
      pr      not run  after --until spec
    error: #7 is blocked at lld: the reviewer blocked it: the issue asks for two incompatible formats
    hint: the last draft and its review are committed: see docs/lld/7.md and docs/reviews/7-lld.md
    hint: run `git orchestrate 7 --until spec` to try again from that draft, or edit docs/lld/7.md by hand and commit it
    ");
}

#[test]
fn a_run_stopped_at_a_gate() {
    let (repo, issue) = repo_with(&[approved()], "[gates]\nafter_lld = true\n");
    let run = until_spec(&repo, &issue);
    insta::assert_snapshot!(seen(&repo, &run), @r#"
    exit 4
    --- stderr
           Issue #7 Add a --verbose flag on orchestrate/7-add-a-verbose-flag (new, from main)
        Starting triage: no brief yet
       Committed triage (passed) [ID]: docs/issues/7.md
        Finished triage: passed ([TIME], [ID])
        Starting lld: no design yet
                 lld round 1: drafter cmd:drafter answered ([TIME])
                 lld round 1: reviewer cmd:reviewer answered ([TIME])
        Reviewed lld round 1: APPROVED
       Committed lld (approved) [ID]: docs/lld/7.md, docs/reviews/7-lld.md
        Finished lld: approved in 1 round ([TIME], [ID])
         Waiting at gate after_lld: review docs/lld/7.md, then go on with
                   git orchestrate approve 7
                   git orchestrate reject 7 -m "what to change"

      stage   result                      detail               commit   time
      triage  done                        passed               [ID]     [TIME]
      lld     done, waiting at after_lld  approved in 1 round  [ID]     [TIME]
      spec    not run
      impl    not run                     after --until spec
      pr      not run                     after --until spec
    "#);
}

#[test]
fn a_dry_run_of_a_new_issue() {
    let (repo, issue) = repo_with(&[approved()], "");
    let run = orchestrate(
        &repo,
        &["7", "--issue-file", &issue, "--until", "spec", "--dry-run"],
    );
    insta::assert_snapshot!(seen(&repo, &run), @"
    exit 0
    --- stdout
    Plan for #7 Add a --verbose flag
      branch: orchestrate/7-add-a-verbose-flag (new, from main)

      stage   action   why                         artifact           models                                      gate
      triage  run      no brief yet                docs/issues/7.md   triage none (the issue text is the brief)
      lld     run      no design yet               docs/lld/7.md      drafter cmd:drafter, reviewer cmd:reviewer  after_lld off
      spec    run      no implementation spec yet  docs/specs/7.md    drafter cmd:drafter, reviewer cmd:reviewer  after_spec off
      impl    not run  after --until spec          docs/reports/7.md                                              before_pr on
      pr      not run  after --until spec

    Nothing was changed (--dry-run).
    ");
}

#[test]
fn status_of_one_issue_and_of_all() {
    let (repo, issue) = repo_with(&[approved()], "");
    until_spec(&repo, &issue).expect_code(0);
    let issue = repo.issue("# Fix the widget's colours\n\nThey are wrong.\n");
    orchestrate(&repo, &["8", "--issue-file", &issue, "--until", "triage"]).expect_code(0);

    let one = orchestrate(&repo, &["status", "7"]);
    insta::assert_snapshot!(seen(&repo, &one), @"
    exit 0
    --- stdout
    #7 Add a --verbose flag
    branch: orchestrate/7-add-a-verbose-flag

    stage   state    verdict   rounds  drafter      reviewer      tokens  date              commit
    triage  done     passed    -       -            -             -       2026-01-01 00:00  [ID]
    lld     done     approved  1       cmd:drafter  cmd:reviewer  -       2026-01-01 00:00  [ID]
    spec    done     approved  1       cmd:drafter  cmd:reviewer  -       2026-01-01 00:00  [ID]
    impl    pending  -         -       -            -             -       -                 -
    pr      pending  -         -       -            -             -       -                 -

    next: impl comes next, and it needs a test command: stages.impl.test_command is not set, and none is detected at the branch's root (from Cargo.toml, a test script in package.json, a Python project file, go.mod, or a test target in the Makefile)
      set it in .orchestrate.toml ([stages.impl] test_command = \"pytest\"), or for one run with -c stages.impl.test_command=\"pytest\"
      then `git orchestrate 7` continues with impl
    ");
    let all = orchestrate(&repo, &["status"]);
    insta::assert_snapshot!(seen(&repo, &all), @"
    exit 0
    --- stdout
    issue  where         branch                                  title
    #7     impl pending  orchestrate/7-add-a-verbose-flag        Add a --verbose flag
    #8     lld pending   orchestrate/8-fix-the-widget-s-colours  Fix the widget's colours
    ");
    // With a test command, the next run goes on with impl, and status says just that.
    orchestrate(
        &repo,
        &["status", "7", "-c", "stages.impl.test_command=pytest"],
    )
    .expect_code(0)
    .stdout_has("next: `git orchestrate 7` continues with impl\n");
}

// ---------------------------------------------------------------------------------------
// After a weak model: drafts without their sections, reviews without a verdict

#[test]
fn a_drafter_that_never_writes_the_sections() {
    let (repo, issue) = repo_with(&[approved()], "");
    repo.model(
        "drafter",
        "printf '# Design\\n\\n## Context\\nWhy.\\n\\n## Requirements\\n\\n## Notes\\nSome.\\n'",
    );
    let run = orchestrate(&repo, &["7", "--issue-file", &issue, "--until", "lld"]);
    insta::assert_snapshot!(seen(&repo, &run), @"
    exit 3
    --- stderr
           Issue #7 Add a --verbose flag on orchestrate/7-add-a-verbose-flag (new, from main)
        Starting triage: no brief yet
       Committed triage (passed) [ID]: docs/issues/7.md
        Finished triage: passed ([TIME], [ID])
        Starting lld: no design yet
                 lld round 1: drafter cmd:drafter answered ([TIME])
      Incomplete lld round 1: missing sections: Proposed Changes, Test; empty: Requirements; the draft goes back to the drafter (fix 1 of 2)
                 lld round 1, fix 1 of 2: drafter cmd:drafter answered ([TIME])
      Incomplete lld round 1: missing sections: Proposed Changes, Test; empty: Requirements; the draft goes back to the drafter (fix 2 of 2)
                 lld round 1, fix 2 of 2: drafter cmd:drafter answered ([TIME])
      Incomplete lld round 1: missing sections: Proposed Changes, Test; empty: Requirements; the requests to fix it are used up, so the stage blocks
       Committed lld (blocked) [ID]: docs/lld/7.md, docs/reviews/7-lld.md
         Blocked lld ([TIME], [ID]): the draft still lacks required sections after 2 requests to fix them (missing sections: Proposed Changes, Test; empty: Requirements)

      stage   result   detail                                                                    commit   time
      triage  done     passed                                                                    [ID]     [TIME]
      lld     blocked  the draft still lacks required sections after 2 requests to fix them (m…  [ID]     [TIME]
      spec    not run  after --until lld
      impl    not run  after --until lld
      pr      not run  after --until lld
    error: #7 is blocked at lld: the draft still lacks required sections after 2 requests to fix them (missing sections: Proposed Changes, Test; empty: Requirements)
    hint: the last draft is committed, with no review: see docs/lld/7.md (docs/reviews/7-lld.md says why)
    hint: run `git orchestrate 7 --until lld` to try again from that draft, or edit docs/lld/7.md by hand and commit it
    ");
}

#[test]
fn reviews_without_a_verdict_and_the_review_log() {
    let (repo, issue) = repo_with(
        &["LGTM!", "Verdict: approved with changes: add tests first"],
        "",
    );
    let run = orchestrate(
        &repo,
        &[
            "7",
            "--issue-file",
            &issue,
            "--until",
            "lld",
            "-c",
            "stages.lld.max_revisions=1",
        ],
    );
    insta::assert_snapshot!(seen(&repo, &run), @"
    exit 3
    --- stderr
           Issue #7 Add a --verbose flag on orchestrate/7-add-a-verbose-flag (new, from main)
        Starting triage: no brief yet
       Committed triage (passed) [ID]: docs/issues/7.md
        Finished triage: passed ([TIME], [ID])
        Starting lld: no design yet
                 lld round 1: drafter cmd:drafter answered ([TIME])
                 lld round 1: reviewer cmd:reviewer answered ([TIME])
        Reviewed lld round 1: no verdict, counted as REVISE
                 lld round 2: drafter cmd:drafter answered ([TIME])
                 lld round 2: reviewer cmd:reviewer answered ([TIME])
        Reviewed lld round 2: an approval with conditions, counted as REVISE
       Committed lld (blocked) [ID]: docs/lld/7.md, docs/reviews/7-lld.md
         Blocked lld in 2 rounds ([TIME], [ID]): not approved after 1 revision (2 reviews); the last review did not approve without conditions

      stage   result   detail                                                                    commit   time
      triage  done     passed                                                                    [ID]     [TIME]
      lld     blocked  not approved after 1 revision (2 reviews); the last review did not appr…  [ID]     [TIME]
      spec    not run  after --until lld
      impl    not run  after --until lld
      pr      not run  after --until lld
    error: #7 is blocked at lld: not approved after 1 revision (2 reviews); the last review did not approve without conditions
    hint: the last draft and its reviews are committed: see docs/lld/7.md and docs/reviews/7-lld.md
    hint: run `git orchestrate 7 --until lld -c stages.lld.max_revisions=1` to try again from that draft, or edit docs/lld/7.md by hand and commit it
    ");
    let log = repo.show(BRANCH, "docs/reviews/7-lld.md").unwrap();
    insta::assert_snapshot!(normalise(&repo, &log), @"
    # Reviews: design for #7

    ## Attempt 1

    ### Round 1: no verdict, counted as REVISE

    Reviewer: cmd:reviewer

    The review had no verdict that could be read, so it was not taken as an approval.

    <details><summary>The reviewer's reply</summary>

    ```text
    LGTM!
    ```

    </details>

    ### Round 2: no verdict, counted as REVISE

    Reviewer: cmd:reviewer

    The review did not approve without conditions (“Verdict: approved with changes: add tests first”), so it was not taken as an approval.

    <details><summary>The reviewer's reply</summary>

    ```text
    Verdict: approved with changes: add tests first
    ```

    </details>

    Blocked: not approved after 1 revision (2 reviews); the last review did not approve without conditions
    ");
}

#[test]
fn a_stage_blocked_before_anything_was_written() {
    // Claude at a loopback server: the first run spends $0.0216 on lld; the second, asked to
    // redo lld within $0.02, is over budget before its first call.
    let vendor = crate::vendors::approving_anthropic();
    let repo = TestRepo::new();
    repo.config(&format!(
        "[providers.anthropic]\nbase_url = \"{}\"\n\n[stages.lld]\ndrafter = \"claude:opus-4.5\"\nreviewer = \"claude:sonnet\"\n",
        vendor.url()
    ));
    let issue = repo.default_issue();
    let lld = |extra: &[&str]| {
        let mut args = vec!["7", "--issue-file", &issue, "--until", "lld"];
        args.extend_from_slice(extra);
        crate::providers::run_with_anthropic_key(&repo, &args)
    };
    lld(&[]).expect_code(0);
    let run = lld(&[
        "--resume-from",
        "lld",
        "-c",
        "budget.max_usd_per_issue=0.02",
    ]);
    insta::assert_snapshot!(seen(&repo, &run), @"
    exit 3
    --- stderr
           Issue #7 Add a --verbose flag on orchestrate/7-add-a-verbose-flag (existing)
        Skipping triage: taken as it is (--resume-from)
        Starting lld: --resume-from lld
         Blocked lld ([TIME]): over budget: $0.0216 spent on #7 of its max_usd_per_issue $0.02 (lld $0.0216 of which earlier runs $0.0216)

      stage   result   detail                                                                    commit   time
      triage  skipped  taken as it is (--resume-from)                                            [ID]
      lld     blocked  over budget: $0.0216 spent on #7 of its max_usd_per_issue $0.02 (lld $0…           [TIME]
      spec    not run  after --until lld
      impl    not run  after --until lld
      pr      not run  after --until lld
    error: #7 is blocked at lld: over budget: $0.0216 spent on #7 of its max_usd_per_issue $0.02 (lld $0.0216 of which earlier runs $0.0216)
    hint: nothing new was committed for lld: no draft was written in this run
    hint: run `git orchestrate 7 --until lld -c budget.max_usd_per_issue=0.02` to try again, or commit docs/lld/7.md written by hand
    ");
}

#[test]
fn a_model_command_line_shows_what_is_not_a_secret() {
    let (repo, issue) = repo_with(&[approved()], "");
    repo.config_models(
        "cmd:LLM_USER_PATH=/opt/llm OPENAI_API_KEY=sk-proj-abcdefghijklmnop drafter",
        "cmd:reviewer",
        "",
    );
    let run = orchestrate(&repo, &["7", "--issue-file", &issue, "--until", "lld"]);
    insta::assert_snapshot!(seen(&repo, &run), @"
    exit 0
    --- stderr
           Issue #7 Add a --verbose flag on orchestrate/7-add-a-verbose-flag (new, from main)
        Starting triage: no brief yet
       Committed triage (passed) [ID]: docs/issues/7.md
        Finished triage: passed ([TIME], [ID])
        Starting lld: no design yet
                 lld round 1: drafter cmd:LLM_USER_PATH=/opt/llm OPENAI_API_KEY=*** drafter answered ([TIME])
                 lld round 1: reviewer cmd:reviewer answered ([TIME])
        Reviewed lld round 1: APPROVED
       Committed lld (approved) [ID]: docs/lld/7.md, docs/reviews/7-lld.md
        Finished lld: approved in 1 round ([TIME], [ID])

      stage   result   detail               commit   time
      triage  done     passed               [ID]     [TIME]
      lld     done     approved in 1 round  [ID]     [TIME]
      spec    not run  after --until lld
      impl    not run  after --until lld
      pr      not run  after --until lld
    #7: stopped after lld, as asked (--until lld).
    ");
}

#[test]
fn status_after_a_skipped_stage_names_the_blocked_one() {
    let (repo, issue) = repo_with(&[&blocked("the spec cannot follow the brief")], "");
    orchestrate(
        &repo,
        &["7", "--issue-file", &issue, "--skip-lld", "--until", "spec"],
    )
    .expect_code(3);
    let all = orchestrate(&repo, &["status"]);
    insta::assert_snapshot!(seen(&repo, &all), @"
    exit 0
    --- stdout
    issue  where         branch                            title
    #7     spec blocked  orchestrate/7-add-a-verbose-flag  Add a --verbose flag
    ");
}

// ---------------------------------------------------------------------------------------
// Errors

#[test]
fn no_issue_given() {
    let repo = TestRepo::new();
    let run = repo.run(&["run"]);
    insta::assert_snapshot!(seen(&repo, &run), @"
    exit 2
    --- stderr
    error: which issue? give its number: git orchestrate 7 --issue-file issue.md
    ");
    // With no arguments at all: the root help (snapshotted below), on stderr, exit 2.
    let bare_command = repo.run(&[]);
    bare_command.expect_code(2);
    assert_eq!(bare_command.stderr, repo.run(&["-h"]).stdout);
}

#[test]
fn no_model_configured_and_none_found() {
    let repo = TestRepo::new();
    // Nothing on this machine: no keys, no model programs on PATH, no Ollama answering.
    repo.config("[providers.ollama]\nbase_url = \"http://127.0.0.1:9\"\n");
    let issue = repo.default_issue();
    let run = repo.run_env(
        &[("PATH", repo.minimal_path())],
        &["7", "--issue-file", &issue, "--until", "lld"],
    );
    insta::assert_snapshot!(seen(&repo, &run), @"
        exit 1
        --- stderr
               Issue #7 Add a --verbose flag on orchestrate/7-add-a-verbose-flag (new, from main)
        error: no model is configured for stages.lld.drafter and stages.lld.reviewer, and none was found on this machine. Any one of these works:
          export ANTHROPIC_API_KEY=...   (Claude drafts; with GEMINI_API_KEY too, Gemini reviews)
          export GEMINI_API_KEY=...      (or GOOGLE_API_KEY)
          export OPENAI_API_KEY=...
          run a local Ollama (`ollama serve`, then `ollama pull llama3.2`)
          install the `claude`, `gemini` or `codex` command-line programs
        or name them in .orchestrate.toml:
          [stages.lld]
          drafter = \"claude:opus-4.5\"
          reviewer = \"gemini:3-pro-preview\"
        hint: or give one for this run: -c stages.lld.drafter=\"cmd:claude -p\"
        ");
}

#[test]
fn design_models_configured_but_no_implementer_and_none_found() {
    let (repo, issue) = repo_with(
        &[approved()],
        "[stages.impl]\ntest_command = \"true\"\n\n[providers.ollama]\nbase_url = \"http://127.0.0.1:9\"\n",
    );
    let run = repo.run_env(
        &[("PATH", repo.path_with_models())],
        &["7", "--issue-file", &issue, "--until", "impl"],
    );
    insta::assert_snapshot!(seen(&repo, &run), @"
        exit 1
        --- stderr
               Issue #7 Add a --verbose flag on orchestrate/7-add-a-verbose-flag (new, from main)
        error: no model is configured for stages.impl.implementer, and none was found on this machine. Any one of these works:
          export ANTHROPIC_API_KEY=...   (Claude drafts; with GEMINI_API_KEY too, Gemini reviews)
          export GEMINI_API_KEY=...      (or GOOGLE_API_KEY)
          export OPENAI_API_KEY=...
          run a local Ollama (`ollama serve`, then `ollama pull llama3.2`)
          install the `claude`, `gemini` or `codex` command-line programs
        or name it in .orchestrate.toml:
          [stages.impl]
          implementer = \"claude:opus-4.5\"
        hint: or give one for this run: -c stages.impl.implementer=\"cmd:claude -p\"
        ");
}

#[test]
fn an_unknown_configuration_key() {
    let (repo, issue) = repo_with(&[approved()], "");
    repo.config(
        "[stages.lld]\ndrafter = \"cmd:drafter\"\nreviewer = \"cmd:reviewer\"\nmax_revison = 2\n",
    );
    let run = until_spec(&repo, &issue);
    insta::assert_snapshot!(seen(&repo, &run), @"
    exit 1
    --- stderr
    error: invalid configuration in [TMP]/widget/.orchestrate.toml, line 4, key `stages.lld.max_revison`: unknown field `max_revison`, expected one of `drafter`, `reviewer`, `max_revisions`, `required_sections`
    hint: check the spelling against the configuration section of the README
    ");
}

#[test]
fn approve_when_no_gate_waits() {
    let (repo, issue) = repo_with(&[approved()], "");
    until_spec(&repo, &issue).expect_code(0);
    let run = orchestrate(&repo, &["approve", "7"]);
    insta::assert_snapshot!(seen(&repo, &run), @"
    exit 1
    --- stderr
    error: issue #7 is not waiting at a gate: no enabled gate has a finished stage waiting for a decision
    hint: `git orchestrate status 7` shows where the issue stands
    ");
}

#[test]
fn the_issue_branch_checked_out_in_the_users_checkout() {
    let (repo, issue) = repo_with(&[approved()], "");
    orchestrate(&repo, &["7", "--issue-file", &issue, "--until", "lld"]).expect_code(0);
    repo.git(&["switch", "-q", BRANCH]);
    let run = orchestrate(&repo, &["7", "--until", "spec"]);
    insta::assert_snapshot!(seen(&repo, &run), @"
    exit 1
    --- stderr
    error: orchestrate/7-add-a-verbose-flag is checked out in [TMP]/widget; orchestrate will not move a branch under a checkout
    hint: switch that checkout to another branch (for example `git switch -`), then run again
    ");
}

#[test]
fn a_bare_repository() {
    let repo = TestRepo::new();
    let bare = repo.base().join("widget.git");
    repo.git(&["clone", "-q", "--bare", ".", bare.to_str().unwrap()]);
    let issue = repo.default_issue();
    let out = repo
        .cmd()
        .current_dir(&bare)
        .args(["7", "--issue-file", &issue, "--until", "lld"])
        .output()
        .unwrap();
    insta::assert_snapshot!(seen(&repo, &Run::from(out)), @"
    exit 1
    --- stderr
    error: git orchestrate needs a work tree, and [TMP]/widget.git/ is a bare repository
    hint: run it in a clone with a work tree (`git clone` the repository, then run there)
    ");
}

#[test]
fn a_model_program_that_exits_non_zero() {
    let (repo, issue) = repo_with(&[approved()], "");
    repo.model(
        "drafter",
        "echo 'boom: the model is not loaded' >&2; exit 3",
    );
    let run = until_spec(&repo, &issue);
    insta::assert_snapshot!(seen(&repo, &run), @"
    exit 1
    --- stderr
           Issue #7 Add a --verbose flag on orchestrate/7-add-a-verbose-flag (new, from main)
        Starting triage: no brief yet
       Committed triage (passed) [ID]: docs/issues/7.md
        Finished triage: passed ([TIME], [ID])
        Starting lld: no design yet
    error: lld: the drafter (cmd:drafter) failed: model program `drafter` failed (exit status 3):
      | boom: the model is not loaded
    hint: run `drafter` by hand with the prompt on stdin to see what it does
    ");
}

// ---------------------------------------------------------------------------------------
// Help

#[test]
fn help_of_every_command() {
    let repo = TestRepo::new();
    let help = |args: &[&str]| {
        let run = repo.run(args);
        run.expect_code(0);
        seen(&repo, &run)
    };
    insta::assert_snapshot!(help(&["-h"]), @"
    exit 0
    --- stdout
    Take an issue to a pull request through a design-first LLM pipeline

    Usage: git orchestrate [OPTIONS] [ISSUE]...
           git orchestrate <COMMAND>

    Commands:
      run           Run the pipeline for issues (the default command)
      status        Show where issues stand, read from their branches
      approve       Pass the gate an issue is waiting at
      reject        Reject at the gate; the stage is revised with your feedback on the next run
      clean         Remove an issue's worktree and local run state; with --branch, its branch too
      action        In GitHub Actions: act on the event that started the job (a label, a command
                    comment)
      doctor        Check whether a run could start here, and say what to fix
      init          Write a commented .orchestrate.toml for this machine; --github-action adds a
                    workflow
      eval          Replay this repository's history as tasks, judged by the tests each commit added
      completions   Print the completion script for a shell (bash, zsh, fish, elvish, powershell)
      install-docs  Install the manual pages and completion scripts where man and the shells find them
      help          Print this message or the help of the given subcommand(s)

    Arguments:
      [ISSUE]...  The issue: a number (99), #99, or a GitHub issue URL

    Options:
          --issue <N>            The issue, as an option (same as the positional ISSUE)
          --issue-file <PATH>    Read the issue from a Markdown file (its first `# ` line is the title)
                                 instead of GitHub
          --until <STAGE>        Stop after this stage (triage, lld, spec, impl, pr); `--until spec`:
                                 design documents only
          --dry-run              Print the plan (each stage: run or skip and why, gates, models, branch,
                                 paths) and change nothing; no model is called
          --resume-from <STAGE>  Take earlier stages as they are on the branch; redo STAGE and
                                 everything after it
          --skip-lld             Do not run the lld stage, even if there is no design yet
          --skip-spec            Do not run the spec stage, even if there is no spec yet
          --skip <STAGE>         Do not run STAGE (repeatable)
          --gate-before-pr       Ask for approval before the pull request, whatever the configuration
                                 says
          --no-gate-before-pr    Do not ask for approval before the pull request
          --gate <NAME>          Turn on a gate for this run: after_lld, after_spec, before_pr
                                 (repeatable)
          --no-gate <NAME>       Turn off a gate for this run (repeatable)
          --base <BRANCH>        Base branch for a new issue branch and its pull request (default: the
                                 branch checked out now)
          --update-base          Merge the base branch into the issue branch before impl, in memory (a
                                 conflict changes nothing); while the branch holds only the design
                                 documents, impl starts from the base's current tip without it
          --allow-red-baseline   Take failures the tests already have on the unchanged tree as known:
                                 impl then requires only that no new test fails
                                 (stages.impl.allow_red_baseline)
          --force                Run on a closed or locked GitHub issue
          --keep-stale           Keep stages whose inputs changed since they were made (an edited issue,
                                 a hand-edited design) as they are, instead of redoing them
                                 (orchestrator.on_stale = \"keep\")
          --no-input             Never prompt; a gate stops the run (also when there is no terminal)
          --json                 Machine-readable events, one JSON object per line, on stdout
      -j, --jobs <N>             With several issues, run up to N at once (each in its own worktree);
                                 one table at the end says how each ended [default: 1]
      -c <KEY=VALUE>             Override a configuration key for this run; VALUE is read as TOML, else
                                 as a string (-c gates.after_lld=true, -c
                                 stages.lld.drafter=cmd:./draft.sh)
          --config <PATH>        Use this configuration file instead of the repository's
                                 .orchestrate.toml
      -v, --verbose...           Say more (diagnostics, every model call); GIT_ORCHESTRATE_LOG sets a
                                 tracing filter
      -q, --quiet                Say less: only errors, warnings and what a gate needs from you
      -h, --help                 Print help (see more with '--help')
      -V, --version              Print version
    ");
    insta::assert_snapshot!(help(&["run", "-h"]), @"
    exit 0
    --- stdout
    Run the pipeline for issues (the default command)

    Usage: git orchestrate run [OPTIONS] [ISSUE]...

    Arguments:
      [ISSUE]...  The issue: a number (99), #99, or a GitHub issue URL

    Options:
          --issue <N>            The issue, as an option (same as the positional ISSUE)
          --issue-file <PATH>    Read the issue from a Markdown file (its first `# ` line is the title)
                                 instead of GitHub
          --until <STAGE>        Stop after this stage (triage, lld, spec, impl, pr); `--until spec`:
                                 design documents only
          --dry-run              Print the plan (each stage: run or skip and why, gates, models, branch,
                                 paths) and change nothing; no model is called
          --resume-from <STAGE>  Take earlier stages as they are on the branch; redo STAGE and
                                 everything after it
          --skip-lld             Do not run the lld stage, even if there is no design yet
          --skip-spec            Do not run the spec stage, even if there is no spec yet
          --skip <STAGE>         Do not run STAGE (repeatable)
          --gate-before-pr       Ask for approval before the pull request, whatever the configuration
                                 says
          --no-gate-before-pr    Do not ask for approval before the pull request
          --gate <NAME>          Turn on a gate for this run: after_lld, after_spec, before_pr
                                 (repeatable)
          --no-gate <NAME>       Turn off a gate for this run (repeatable)
          --base <BRANCH>        Base branch for a new issue branch and its pull request (default: the
                                 branch checked out now)
          --update-base          Merge the base branch into the issue branch before impl, in memory (a
                                 conflict changes nothing); while the branch holds only the design
                                 documents, impl starts from the base's current tip without it
          --allow-red-baseline   Take failures the tests already have on the unchanged tree as known:
                                 impl then requires only that no new test fails
                                 (stages.impl.allow_red_baseline)
          --force                Run on a closed or locked GitHub issue
          --keep-stale           Keep stages whose inputs changed since they were made (an edited issue,
                                 a hand-edited design) as they are, instead of redoing them
                                 (orchestrator.on_stale = \"keep\")
          --no-input             Never prompt; a gate stops the run (also when there is no terminal)
          --json                 Machine-readable events, one JSON object per line, on stdout
      -j, --jobs <N>             With several issues, run up to N at once (each in its own worktree);
                                 one table at the end says how each ended [default: 1]
      -c <KEY=VALUE>             Override a configuration key for this run; VALUE is read as TOML, else
                                 as a string (-c gates.after_lld=true, -c
                                 stages.lld.drafter=cmd:./draft.sh)
          --config <PATH>        Use this configuration file instead of the repository's
                                 .orchestrate.toml
      -v, --verbose...           Say more (diagnostics, every model call); GIT_ORCHESTRATE_LOG sets a
                                 tracing filter
      -q, --quiet                Say less: only errors, warnings and what a gate needs from you
      -h, --help                 Print help
    ");
    insta::assert_snapshot!(help(&["status", "-h"]), @"
    exit 0
    --- stdout
    Show where issues stand, read from their branches

    Usage: git orchestrate status [OPTIONS] [ISSUE]

    Arguments:
      [ISSUE]  The issue (a number, #99, or a GitHub issue URL); without it, every issue with a branch

    Options:
          --json           Print JSON instead of a table
          --refresh        Read the issue from GitHub (one request per issue) to tell whether its brief
                           is stale; without it, status reads only the branches, offline
      -c <KEY=VALUE>       Override a configuration key for this run; VALUE is read as TOML, else as a
                           string (-c gates.after_lld=true, -c stages.lld.drafter=cmd:./draft.sh)
          --config <PATH>  Use this configuration file instead of the repository's .orchestrate.toml
      -v, --verbose...     Say more (diagnostics, every model call); GIT_ORCHESTRATE_LOG sets a tracing
                           filter
      -q, --quiet          Say less: only errors, warnings and what a gate needs from you
      -h, --help           Print help
    ");
    insta::assert_snapshot!(help(&["approve", "-h"]), @"
    exit 0
    --- stdout
    Pass the gate an issue is waiting at

    Usage: git orchestrate approve [OPTIONS] <ISSUE>

    Arguments:
      <ISSUE>  The issue (a number, #99, or a GitHub issue URL)

    Options:
          --gate <GATE>    The gate to pass (after_lld, after_spec, before_pr); default: the one the
                           issue waits at
      -c <KEY=VALUE>       Override a configuration key for this run; VALUE is read as TOML, else as a
                           string (-c gates.after_lld=true, -c stages.lld.drafter=cmd:./draft.sh)
          --config <PATH>  Use this configuration file instead of the repository's .orchestrate.toml
      -v, --verbose...     Say more (diagnostics, every model call); GIT_ORCHESTRATE_LOG sets a tracing
                           filter
      -q, --quiet          Say less: only errors, warnings and what a gate needs from you
      -h, --help           Print help
    ");
    insta::assert_snapshot!(help(&["reject", "-h"]), @"
    exit 0
    --- stdout
    Reject at the gate; the stage is revised with your feedback on the next run

    Usage: git orchestrate reject [OPTIONS] --message <TEXT> <ISSUE>

    Arguments:
      <ISSUE>  The issue (a number, #99, or a GitHub issue URL)

    Options:
      -m, --message <TEXT>  What should change: given to the drafter when the stage is revised
          --gate <GATE>     The gate to reject at; default: the one the issue waits at
      -c <KEY=VALUE>        Override a configuration key for this run; VALUE is read as TOML, else as a
                            string (-c gates.after_lld=true, -c stages.lld.drafter=cmd:./draft.sh)
          --config <PATH>   Use this configuration file instead of the repository's .orchestrate.toml
      -v, --verbose...      Say more (diagnostics, every model call); GIT_ORCHESTRATE_LOG sets a tracing
                            filter
      -q, --quiet           Say less: only errors, warnings and what a gate needs from you
      -h, --help            Print help
    ");
    insta::assert_snapshot!(help(&["clean", "-h"]), @"
    exit 0
    --- stdout
    Remove an issue's worktree and local run state; with --branch, its branch too

    Usage: git orchestrate clean [OPTIONS] <ISSUE|--all>

    Arguments:
      [ISSUE]...  The issues (numbers, #99, or GitHub issue URLs)

    Options:
          --all            Every issue that has a worktree or local state (with --branch, also every
                           issue branch)
          --branch         Delete the issue's branch too; one whose commits no remote-tracking branch
                           has needs --force. A branch with commits git orchestrate did not make (no
                           Orchestrate-* trailer) is never deleted by --all, and needs --force when its
                           issue is named
          --force          Also delete work saved from runs (recovered/), unpushed branches and branches
                           with a person's commits with --branch, and a worktree whose changes cannot be
                           saved
      -c <KEY=VALUE>       Override a configuration key for this run; VALUE is read as TOML, else as a
                           string (-c gates.after_lld=true, -c stages.lld.drafter=cmd:./draft.sh)
          --config <PATH>  Use this configuration file instead of the repository's .orchestrate.toml
      -v, --verbose...     Say more (diagnostics, every model call); GIT_ORCHESTRATE_LOG sets a tracing
                           filter
      -q, --quiet          Say less: only errors, warnings and what a gate needs from you
      -h, --help           Print help
    ");
    insta::assert_snapshot!(help(&["eval", "-h"]), @"
    exit 0
    --- stdout
    Replay this repository's history as tasks, judged by the tests each commit added

    Usage: git orchestrate eval [OPTIONS] <RANGE|--resume <RUN-ID>|--clean <RUN-ID>|--compare <A> <B>>

    Arguments:
      [RANGE]  The commits to replay (main~50..main, v1.0..v1.1): each that changes test files and other
               files is a candidate task

    Options:
          --merges               Take the range's first-parent merge commits (merged pull requests)
                                 instead of its commits
          --issue-text <SOURCE>  Where a task's issue text comes from: the commit message, or the GitHub
                                 issue it names (Fixes #12) [default: message] [possible values:
                                 message, github]
          --limit <N>            Run at most N valid tasks, the first ones of the range
          --sample <N>           Run N valid tasks chosen at random (reproducibly, with --seed)
          --seed <S>             The seed of --sample's choice [default: 1]
          --budget <USD>         The most a task may cost, in USD (budget.max_usd_per_issue)
      -j, --jobs <N>             Run up to N tasks at once, each in its own scratch repository and
                                 worktree [default: 1]
          --json                 Machine-readable output: the tasks' run events and the eval's own, one
                                 JSON object per line; the last line is the report
          --resume <RUN-ID>      Go on with an eval run that was stopped; finished tasks are not run
                                 again
          --clean <RUN-ID>       Remove an eval run's refs (refs/orchestrate-eval/RUN-ID/) and scratch
                                 repositories; its reports stay
          --compare <A> <B>      Set two eval runs side by side: which tasks each solved, and what each
                                 cost
      -c <KEY=VALUE>             Override a configuration key for this run; VALUE is read as TOML, else
                                 as a string (-c gates.after_lld=true, -c
                                 stages.lld.drafter=cmd:./draft.sh)
          --config <PATH>        Use this configuration file instead of the repository's
                                 .orchestrate.toml
      -v, --verbose...           Say more (diagnostics, every model call); GIT_ORCHESTRATE_LOG sets a
                                 tracing filter
      -q, --quiet                Say less: only errors, warnings and what a gate needs from you
      -h, --help                 Print help
    ");
    insta::assert_snapshot!(help(&["doctor", "-h"]), @"
    exit 0
    --- stdout
    Check whether a run could start here, and say what to fix

    Usage: git orchestrate doctor [OPTIONS]

    Options:
          --offline             Send no request: look for keys, tokens and programs without trying them
          --json                Print one JSON document instead of lines
          --timeout <DURATION>  The longest one network check may take (all of them together take at
                                most [TIME]) [default: [TIME]]
      -c <KEY=VALUE>            Override a configuration key for this run; VALUE is read as TOML, else
                                as a string (-c gates.after_lld=true, -c
                                stages.lld.drafter=cmd:./draft.sh)
          --config <PATH>       Use this configuration file instead of the repository's
                                .orchestrate.toml
      -v, --verbose...          Say more (diagnostics, every model call); GIT_ORCHESTRATE_LOG sets a
                                tracing filter
      -q, --quiet               Say less: only errors, warnings and what a gate needs from you
      -h, --help                Print help
    ");
    insta::assert_snapshot!(help(&["init", "-h"]), @"
    exit 0
    --- stdout
    Write a commented .orchestrate.toml for this machine; --github-action adds a workflow

    Usage: git orchestrate init [OPTIONS]

    Options:
          --github-action  Also write .github/workflows/orchestrate.yml: run on issues labelled
                           `orchestrate` and on `/orchestrate` comments. A .orchestrate.toml already
                           there is kept
          --force          Replace files that already exist (with --github-action, only the workflow)
      -c <KEY=VALUE>       Override a configuration key for this run; VALUE is read as TOML, else as a
                           string (-c gates.after_lld=true, -c stages.lld.drafter=cmd:./draft.sh)
          --config <PATH>  Use this configuration file instead of the repository's .orchestrate.toml
      -v, --verbose...     Say more (diagnostics, every model call); GIT_ORCHESTRATE_LOG sets a tracing
                           filter
      -q, --quiet          Say less: only errors, warnings and what a gate needs from you
      -h, --help           Print help
    ");
}

// ---------------------------------------------------------------------------------------
// The normalisation itself

#[test]
fn normalise_replaces_only_what_changes_between_runs() {
    let repo = TestRepo::new();
    let text = format!(
        "model {root}/bin/drafter in {base}/issue.md\n\
         Committed lld 3c8a911: took 0.4s, 12ms, 3m 04s and 1h 02m   \n\
         full id 86686dd0123456789abcdef0123456789abcdef0, lock held by pid 4242\n\
         stage  commit   time\n\
         lld    5e6f7a8  1.2s\n\
         kept: 1,200 in / 300 out tokens, $0.0135, 2 rounds, facade, 1234567s, v0.1.0, idle 1s\n",
        root = repo.root.parent().unwrap().display(),
        base = repo.base().display(),
    );
    insta::assert_snapshot!(normalise(&repo, &text), @"
    model [TMP]/bin/drafter in [TMP]/issue.md
    Committed lld [ID]: took [TIME], [TIME], [TIME] and [TIME]
    full id [ID], lock held by pid [PID]
    stage  commit   time
    lld    [ID]     [TIME]
    kept: 1,200 in / 300 out tokens, $0.0135, 2 rounds, facade, [TIME], v0.1.0, idle [TIME]
    ");
}

// ---------------------------------------------------------------------------------------
// Advice: what a person is told to do matches what the next run will do

/// An issue whose design is approved and whose tests already fail on the branch's code.
fn red_baseline() -> (TestRepo, String) {
    let (repo, issue) = crate::implement::impl_repo(
        &crate::harness::by_round(&[crate::implement::GOOD_EDIT]),
        "",
    );
    repo.write("src/lib.rs", "pub fn widget() {}\n// not yet\n");
    repo.git(&["commit", "-q", "-am", "red"]);
    (repo, issue)
}

#[test]
fn advice_after_a_red_baseline_and_a_rerun_that_commits_nothing_new() {
    let (repo, issue) = red_baseline();
    let run = repo.run(&["7", "--issue-file", &issue, "--until", "impl", "-q"]);
    insta::assert_snapshot!(seen(&repo, &run), @"
        exit 3
        --- stderr
        error: #7 is blocked at impl: the tests already fail on the unchanged tree (the baseline): tests::verbose_1; no model was called
        hint: docs/reports/7.md on the branch has the output
        hint: `git orchestrate 7` runs the tests again before it calls any model, and commits nothing new while the code and the result stay the same
        hint: fix them on the base branch: while orchestrate/7-add-a-verbose-flag holds only the tool's documents (no code yet), the next run starts impl from the base's current tip by itself
        hint: once orchestrate/7-add-a-verbose-flag holds code, `git orchestrate 7 --update-base` merges the base into it first; or commit the fix on orchestrate/7-add-a-verbose-flag itself
        hint: or, if those failures are known, set stages.impl.allow_red_baseline = true: only new failures then count
        ");
    let commits = repo.subjects(BRANCH).len();
    insta::assert_snapshot!(seen(&repo, &repo.run(&["status", "7"])), @"
        exit 0
        --- stdout
        #7 Add a --verbose flag
        branch: orchestrate/7-add-a-verbose-flag

        stage   state    verdict   rounds      drafter                                           reviewer                                       tokens  date              commit
        triage  done     passed    -           -                                                 -                                              -       2026-01-01 00:00  [ID]
        lld     done     approved  1           cmd:[TMP]/bin/drafter      cmd:[TMP]/bin/reviewer  -       2026-01-01 00:00  [ID]
        spec    done     approved  1           cmd:[TMP]/bin/drafter      cmd:[TMP]/bin/reviewer  -       2026-01-01 00:00  [ID]
        impl    blocked  blocked   0 attempts  cmd:[TMP]/bin/implementer  -                                              -       2026-01-01 00:00  [ID]
        pr      pending  -         -           -                                                 -                                              -       -                 -

        impl: blocked: the tests already fail on the unchanged tree (the baseline): tests::verbose_1; no model was called

        impl: tests \"sh check.sh\" failed

        next: impl is blocked before any model was called: the tests already fail on the unchanged tree (the baseline): tests::verbose_1; no model was called (docs/reports/7.md on the branch has the output)
          `git orchestrate 7` runs the tests again before it calls any model, and commits nothing new while the code and the result stay the same
          fix them on the base branch: while orchestrate/7-add-a-verbose-flag holds only the tool's documents (no code yet), the next run starts impl from the base's current tip by itself
          once orchestrate/7-add-a-verbose-flag holds code, `git orchestrate 7 --update-base` merges the base into it first; or commit the fix on orchestrate/7-add-a-verbose-flag itself
          or, if those failures are known, set stages.impl.allow_red_baseline = true: only new failures then count
        ");

    // Again, on the same code: the plan says no model is called; nothing new is committed.
    insta::assert_snapshot!(
        seen(&repo, &repo.run(&["7", "--issue-file", &issue, "--until", "impl", "--dry-run"])),
        @"
        exit 0
        --- stdout
        Plan for #7 Add a --verbose flag
          branch: orchestrate/7-add-a-verbose-flag (existing)

          stage   action   why                                                                                                                                   artifact           models                                                        gate
          triage  skip     done in [ID]                                                                                                                          docs/issues/7.md
          lld     skip     done in [ID]                                                                                                                          docs/lld/7.md                                                                    after_lld off
          spec    skip     done in [ID]                                                                                                                          docs/specs/7.md                                                                  after_spec off
          impl    run      blocked in [ID] before any model was called: the tests run again on the code on the branch, and a model only once they pass there  docs/reports/7.md  implementer cmd:[TMP]/bin/implementer  before_pr on
          pr      not run  after --until impl

        impl works in [TMP]/widget/.git/orchestrate/worktrees/7
          implementer: cmd:[TMP]/bin/implementer (answers with edit blocks), at most 4 attempts
          test command: `sh check.sh` (stages.impl.test_command)

        Nothing was changed (--dry-run).
        "
    );
    let again = repo.run(&["7", "--issue-file", &issue, "--until", "impl", "-q"]);
    insta::assert_snapshot!(seen(&repo, &again), @"
        exit 3
        --- stderr
        error: #7 is blocked at impl: the tests already fail on the unchanged tree (the baseline): tests::verbose_1; no model was called
        hint: nothing new was committed: the branch already records this block on the same code (docs/reports/7.md has the output)
        hint: `git orchestrate 7` runs the tests again before it calls any model, and commits nothing new while the code and the result stay the same
        hint: fix them on the base branch: while orchestrate/7-add-a-verbose-flag holds only the tool's documents (no code yet), the next run starts impl from the base's current tip by itself
        hint: once orchestrate/7-add-a-verbose-flag holds code, `git orchestrate 7 --update-base` merges the base into it first; or commit the fix on orchestrate/7-add-a-verbose-flag itself
        hint: or, if those failures are known, set stages.impl.allow_red_baseline = true: only new failures then count
        ");
    assert_eq!(
        repo.subjects(BRANCH).len(),
        commits,
        "no second blocked commit"
    );
    assert!(crate::implement::impl_calls(&repo).is_empty());

    // The fix lands on main, as the advice says: status shows main ahead, and the next run,
    // the branch holding no code yet, starts impl from main's tip and goes on to the
    // implementer.
    repo.write("src/lib.rs", "pub fn widget() {}\n");
    repo.git(&["commit", "-q", "-am", "fix the tests"]);
    let status = seen(&repo, &repo.run(&["status", "7"]));
    insta::assert_snapshot!(status.lines().take(5).collect::<Vec<_>>().join("\n"), @"
    exit 0
    --- stdout
    #7 Add a --verbose flag
    branch: orchestrate/7-add-a-verbose-flag
    base: main is 1 commit ahead of this branch's fork point (merge-base [ID])
    ");
    let run = seen(
        &repo,
        &repo.run(&["7", "--issue-file", &issue, "--until", "impl"]),
    );
    let said: Vec<&str> = run
        .lines()
        .filter(|l| l.starts_with("exit") || l.contains("Base"))
        .collect();
    insta::assert_snapshot!(said.join("\n"), @"
    exit 0
            Base impl starts from main at [ID] (1 commit newer); the documents were carried onto it in [ID]
    ");
    assert_eq!(crate::implement::impl_calls(&repo).len(), 1);
    // The implementer is not told the old baseline's failure as if it were its own.
    let prompt = crate::implement::impl_prompt(&repo, 1);
    assert!(prompt.contains("This is the first attempt."), "{prompt}");
}

#[test]
fn advice_when_the_test_command_is_not_found() {
    let (repo, issue) = crate::implement::impl_repo(
        &crate::harness::by_round(&[crate::implement::GOOD_EDIT]),
        "",
    );
    let run = repo.run(&[
        "7",
        "--issue-file",
        &issue,
        "--until",
        "impl",
        "-q",
        "-c",
        "stages.impl.test_command=no-such-test-runner",
    ]);
    insta::assert_snapshot!(seen(&repo, &run), @"
        exit 3
        --- stderr
        error: #7 is blocked at impl: the test command `no-such-test-runner` was not found (exit status 127); no model was called
        hint: docs/reports/7.md on the branch has the output
        hint: `git orchestrate 7` runs the tests again before it calls any model, and commits nothing new while the code and the result stay the same
        hint: set stages.impl.test_command to the command that runs the tests, or install the program it names
        ");
    insta::assert_snapshot!(seen(&repo, &repo.run(&["status", "7", "-c", "stages.impl.test_command=no-such-test-runner"])), @"
        exit 0
        --- stdout
        #7 Add a --verbose flag
        branch: orchestrate/7-add-a-verbose-flag

        stage   state    verdict   rounds      drafter                                           reviewer                                       tokens  date              commit
        triage  done     passed    -           -                                                 -                                              -       2026-01-01 00:00  [ID]
        lld     done     approved  1           cmd:[TMP]/bin/drafter      cmd:[TMP]/bin/reviewer  -       2026-01-01 00:00  [ID]
        spec    done     approved  1           cmd:[TMP]/bin/drafter      cmd:[TMP]/bin/reviewer  -       2026-01-01 00:00  [ID]
        impl    blocked  blocked   0 attempts  cmd:[TMP]/bin/implementer  -                                              -       2026-01-01 00:00  [ID]
        pr      pending  -         -           -                                                 -                                              -       -                 -

        impl: blocked: the test command `no-such-test-runner` was not found (exit status 127); no model was called

        impl: tests \"no-such-test-runner\" not found

        next: impl is blocked before any model was called: the test command `no-such-test-runner` was not found (exit status 127); no model was called (docs/reports/7.md on the branch has the output)
          `git orchestrate 7` runs the tests again before it calls any model, and commits nothing new while the code and the result stay the same
          set stages.impl.test_command to the command that runs the tests, or install the program it names
        ");
}

#[test]
fn advice_after_impl_blocks_with_and_without_code() {
    // Every reply is prose: nothing applies, no code is committed.
    let (repo, issue) = crate::implement::impl_repo(
        "echo 'I would change src/lib.rs.'",
        "max_test_retries = 1\n",
    );
    let run = repo.run(&["7", "--issue-file", &issue, "--until", "impl", "-q"]);
    insta::assert_snapshot!(seen(&repo, &run), @"
        exit 3
        --- stderr
        error: #7 is blocked at impl: the implementer repeated itself: attempt 2's reply was attempt 1's again, so another attempt would pay for the same result
        hint: no code was committed: docs/reports/7.md on the branch says what each attempt did and what the last one was told
        hint: run `git orchestrate 7 --until impl` to try again (the first attempt is told the last failure), perhaps with another implementer (stages.impl.implementer), or write the change yourself and commit it
        ");
    let status = repo.run(&["status", "7"]);
    let next = status.stdout.split("next: ").nth(1).unwrap_or_default();
    insta::assert_snapshot!(normalise(&repo, next), @"
        impl is blocked (docs/reports/7.md says why); `git orchestrate 7` tries again from the branch (with the last attempt's code, when it was committed), its first attempt told the last failure
          or fix the code on the branch yourself and commit it
        ");

    // Code that fails its tests every time: the code is committed, and a re-run goes on from it.
    let failing = "cat <<'REPLY'\nsrc/lib.rs\n<<<<<<< SEARCH\npub fn widget() {}\n=======\npub fn widget() {}\n// not yet\n>>>>>>> REPLACE\nREPLY";
    let (repo, issue) = crate::implement::impl_repo(failing, "max_test_retries = 1\n");
    let run = repo.run(&["7", "--issue-file", &issue, "--until", "impl", "-q"]);
    insta::assert_snapshot!(seen(&repo, &run), @"
        exit 3
        --- stderr
        error: #7 is blocked at impl: the implementer repeated itself: attempt 2's reply was attempt 1's again, so another attempt would pay for the same result
        hint: the last attempt's code and docs/reports/7.md (each attempt, the last failure) are committed on the branch
        hint: run `git orchestrate 7 --until impl` to try again from that code (the first attempt is told the last failure), or fix it yourself and commit
        ");
    let status = repo.run(&["status", "7"]);
    let next = status.stdout.split("next: ").nth(1).unwrap_or_default();
    insta::assert_snapshot!(normalise(&repo, next), @"
        impl is blocked (docs/reports/7.md says why); `git orchestrate 7` tries again from the branch (with the last attempt's code, when it was committed), its first attempt told the last failure
          or fix the code on the branch yourself and commit it
        ");
}
