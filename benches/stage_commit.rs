//! Stage commits and `status` in a large repository.
//!
//! Generates a repository of 100,000 files and 10,000 commits with `git fast-import`, then
//! reports, as median and p90 of repeated runs:
//!
//! - (a) committing a stage artifact with the library ([`Repo::commit_files`]: a ~10 KB
//!   `docs/lld/<n>.md` plus its review log, message with orchestrate trailers), with the
//!   repository already open, and as the first commit of a process (open + identity + commit);
//! - (b) the real `git-orchestrate status 7` binary, as a process, on an issue branch holding
//!   triage, lld and spec commits; and (b') `status 9`, whose design was written by hand in
//!   the first commit, so that `status` walks the whole first-parent history;
//! - (c) `git add` + `git commit` of the same two files in the work tree, as processes;
//! - (d) `git-orchestrate status` with no issue, listing 1,000 issue branches (each with
//!   triage, lld and spec commits), as it runs every time but the first: each branch's
//!   status kept by its tip; and (d') the same with nothing kept, as after every branch moved
//!   (the status cache removed before each run; the history cache stays).
//!
//! - (e) the staleness check of `status 7` alone ([`stale::staleness`]: every stage's input
//!   hash from blob ids and templates, compared with its `Orchestrate-Input`, which here never
//!   matches, so the reason is read too: the worst case), with the repository open and the
//!   branch's history read; and (e') what the staleness check adds to a `status` of many
//!   issues answered from the status cache: loading the prompt templates and fingerprinting
//!   them into the cache's key.
//!
//! (a) and (c) are measured again in a small repository (1,000 files, 100 commits) to show
//! whether their cost grows with the number of files. The benchmark reports and never fails
//! on a missed target.
//!
//! Run with `cargo bench --bench stage_commit`; `GIT_BENCH_DIR` and `GIT_BENCH_ITERS` as in
//! `common`, which also generates the repositories and re-launches the benchmark in a
//! hermetic environment. Without `--bench` (as `cargo test --benches` runs it) only a quick
//! smoke run of the small repository is made.

mod common;

use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use git_orchestrate::config::{self, LoadOptions};
use git_orchestrate::env::Env;
use git_orchestrate::git::{CommitRequest, FileChange, ObjectId, Repo};
use git_orchestrate::llm::Usage;
use git_orchestrate::pipeline::branch::message::TRAILER_INPUT;
use git_orchestrate::pipeline::branch::{IssueState, Message, Verdict};
use git_orchestrate::pipeline::prompts::Prompts;
use git_orchestrate::pipeline::stale::{self, InputContext};
use git_orchestrate::stage::Stage;

use common::{
    BenchResult, HAND_WRITTEN_ISSUE, LARGE, SMALL, Shape, Summary, TITLE, git, lld, met, ms, ratio,
    thousands, timings,
};

/// The real binary, built by cargo in the same profile as this benchmark.
const BIN: &str = env!("CARGO_BIN_EXE_git-orchestrate");

const STAGE_COMMIT_TARGET_MS: f64 = 20.0;
const STATUS_TARGET_MS: f64 = 50.0;
const STATUS_ALL_TARGET_MS: f64 = 100.0;
const STALENESS_TARGET_MS: f64 = 1.0;
const STALENESS_ALL_TARGET_MS: f64 = 10.0;
/// How many issue branches `status` lists in (d).
const MANY_ISSUES: u64 = 1_000;

const DRAFTER: &str = "anthropic:claude-opus-4-5";
const REVIEWER: &str = "gemini:gemini-3-pro-preview";

/// Everything measured in one repository.
struct Measured {
    shape: Shape,
    commit_warm: Summary,
    commit_cold: Summary,
    status: Summary,
    status_deep: Summary,
    git_commit: Summary,
    status_all: Summary,
    status_all_cold: Summary,
    staleness: Summary,
    staleness_all: Summary,
}

fn main() -> BenchResult<ExitCode> {
    common::main(run)
}

fn run(env: &Env, work: &Path, full: bool) -> BenchResult<()> {
    let (warmup, iters) = common::iterations(env, full);
    let base_dir = common::base_dir(env, work)?;
    let shapes: Vec<Shape> = if full {
        vec![LARGE, SMALL]
    } else {
        eprintln!("no --bench argument: smoke run in the small repository only");
        vec![SMALL]
    };
    for &shape in &shapes {
        common::prepare(&base_dir.join(shape.dir_name()), shape)?;
    }
    common::sync_disk();
    let mut results = Vec::new();
    for &shape in &shapes {
        let dir = base_dir.join(shape.dir_name());
        eprintln!("measuring in {} ({})", dir.display(), shape.label());
        results.push(measure_repo(env, &dir, shape, warmup, iters)?);
    }
    print_report(&results, warmup, iters);
    if !full {
        println!(
            "(smoke run without --bench; for the numbers run `cargo bench --bench stage_commit`)"
        );
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Measuring
// ---------------------------------------------------------------------------------------------

fn measure_repo(
    env: &Env,
    dir: &Path,
    shape: Shape,
    warmup: usize,
    iters: usize,
) -> BenchResult<Measured> {
    let repo = Repo::open(dir, env)?;
    let main_tip = repo
        .branch_tip("main")?
        .ok_or("the generated repository has no main branch")?;

    // (b) first, on a branch with exactly the three design stages.
    issue_branch(&repo, "orchestrate/7-bench", main_tip, 7)?;
    let status = status_timings(dir, 7, warmup, iters)?;

    // (b') an issue whose design was written by hand in the first commit: `status` walks the
    // whole first-parent history to find the artifact's last change.
    let hand = HAND_WRITTEN_ISSUE;
    triage_commit(&repo, &format!("orchestrate/{hand}-bench"), main_tip, hand)?;
    let status_deep = status_timings(dir, hand, warmup, iters)?;

    // (d) every issue branch listed: MANY_ISSUES of them (made once; a reused repository
    // keeps them).
    for issue in 2_000..2_000 + MANY_ISSUES {
        let branch = format!("orchestrate/{issue}-bench-many");
        if repo.branch_tip(&branch)?.is_none() {
            issue_branch(&repo, &branch, main_tip, issue)?;
        }
    }
    let status_all = status_timings_of(dir, &[], "(d) git-orchestrate status", warmup, iters)?;
    let status_all_cold = status_timings_of(
        dir,
        &[],
        "(d') git-orchestrate status, nothing kept",
        warmup,
        iters,
    )?;

    // (e) the staleness check of issue 7 alone, and (e') what a cached `status` adds for it.
    let config = config::load(
        &LoadOptions {
            repo_root: Some(dir.to_path_buf()),
            ..LoadOptions::default()
        },
        env,
    )?;
    let tip = repo
        .branch_tip("orchestrate/7-bench")?
        .ok_or("the issue branch of (b) is gone")?;
    let state = IssueState::load(&repo, tip, &config, 7, None)?;
    let prompts = Prompts::load(Some(dir))?;
    let cx = InputContext {
        repo: &repo,
        config: &config,
        prompts: &prompts,
        issue: 7,
        issue_text: None,
    };
    let found = stale::staleness(&state, &cx)?;
    eprintln!("  staleness of #7: {found:?}");
    let staleness = timings("(e) staleness check", warmup, iters, || {
        let start = Instant::now();
        let found = stale::staleness(&state, &cx)?;
        let elapsed = start.elapsed();
        std::hint::black_box(found);
        Ok(elapsed)
    })?;
    let staleness_all = timings("(e') prompts for the status cache", warmup, iters, || {
        let start = Instant::now();
        let prompts = Prompts::load(Some(dir))?;
        let key = format!("{prompts:?}");
        let elapsed = start.elapsed();
        std::hint::black_box(key);
        Ok(elapsed)
    })?;

    // (a) with the repository open and the identity resolved, as inside one run.
    let branch = "orchestrate/8-bench-commits";
    let mut tip = triage_commit(&repo, branch, main_tip, 8)?;
    let mut issue = 1_000;
    let commit_warm = timings("(a) stage commit", warmup, iters, || {
        issue += 1;
        let files = lld_files(issue);
        let message = stage_message(Stage::Lld, issue);
        let start = Instant::now();
        tip = repo.commit_files(&CommitRequest {
            branch,
            expected_tip: Some(tip),
            base: tip,
            files: &files,
            message: &message,
        })?;
        Ok(start.elapsed())
    })?;

    // (a') the first commit of a process: open, resolve the identity (`git var`), commit.
    let commit_cold = timings("(a') first stage commit", warmup, iters, || {
        issue += 1;
        let files = lld_files(issue);
        let message = stage_message(Stage::Lld, issue);
        let start = Instant::now();
        let fresh = Repo::open(dir, env)?;
        tip = fresh.commit_files(&CommitRequest {
            branch,
            expected_tip: Some(tip),
            base: tip,
            files: &files,
            message: &message,
        })?;
        Ok(start.elapsed())
    })?;

    // (c) the same two files with git, in the work tree.
    let git_commit = timings("(c) git add + git commit", warmup, iters, || {
        issue += 1;
        let files = lld_files(issue);
        let message = stage_message(Stage::Lld, issue);
        for file in &files {
            let path = dir.join(&file.path);
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent)?;
            }
            fs::write(&path, &file.content)?;
        }
        let start = Instant::now();
        let mut add = vec!["add", "--"];
        add.extend(files.iter().map(|f| f.path.as_str()));
        git(dir, &add)?;
        git(dir, &["commit", "-q", "-m", &message])?;
        Ok(start.elapsed())
    })?;

    Ok(Measured {
        shape,
        commit_warm,
        commit_cold,
        status,
        status_deep,
        git_commit,
        status_all,
        status_all_cold,
        staleness,
        staleness_all,
    })
}

/// Create `branch` with the triage, lld and spec stages of `issue`, as a run would.
fn issue_branch(repo: &Repo, branch: &str, base: ObjectId, issue: u64) -> BenchResult<ObjectId> {
    let mut tip = triage_commit(repo, branch, base, issue)?;
    for (stage, files) in [
        (Stage::Lld, lld_files(issue)),
        (Stage::Spec, spec_files(issue)),
    ] {
        let message = stage_message(stage, issue);
        tip = repo.commit_files(&CommitRequest {
            branch,
            expected_tip: Some(tip),
            base: tip,
            files: &files,
            message: &message,
        })?;
    }
    Ok(tip)
}

/// The first commit of an issue branch: the brief, verdict `passed`; creates the branch.
fn triage_commit(repo: &Repo, branch: &str, base: ObjectId, issue: u64) -> BenchResult<ObjectId> {
    let files = [FileChange::file(
        format!("docs/issues/{issue}.md"),
        brief(issue),
    )];
    let message = Message::stage(Stage::Triage, issue, TITLE, Verdict::Passed).render();
    Ok(repo.commit_files(&CommitRequest {
        branch,
        expected_tip: None,
        base,
        files: &files,
        message: &message,
    })?)
}

fn status_timings(dir: &Path, issue: u64, warmup: usize, iters: usize) -> BenchResult<Summary> {
    let issue = issue.to_string();
    let name = format!("(b) git-orchestrate status {issue}");
    status_timings_of(dir, &[issue.as_str()], &name, warmup, iters)
}

/// `git-orchestrate status ARGS`, shown once (its first lines), then timed.
/// A name starting with `(d')` runs with no status cache: it is removed before each run.
fn status_timings_of(
    dir: &Path,
    args: &[&str],
    name: &str,
    warmup: usize,
    iters: usize,
) -> BenchResult<Summary> {
    let forget = name.starts_with("(d')");
    let cache = dir.join(".git/orchestrate/cache/status");
    let mut all = vec!["status"];
    all.extend_from_slice(args);
    let shown = all.join(" ");
    // Once with output, to show what is being timed and that it works.
    let output = Command::new(BIN)
        .args(&all)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()?;
    if !output.status.success() {
        return Err(format!(
            "`git-orchestrate {shown}` failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )
        .into());
    }
    eprintln!("  `git-orchestrate {shown}` prints:");
    let stdout = String::from_utf8_lossy(&output.stdout);
    for line in stdout.lines().take(12) {
        eprintln!("    | {line}");
    }
    if stdout.lines().count() > 12 {
        eprintln!("    | ... ({} lines)", stdout.lines().count());
    }
    timings(name, warmup, iters, || {
        if forget && cache.exists() {
            fs::remove_file(&cache)?;
        }
        let start = Instant::now();
        let status = Command::new(BIN)
            .args(&all)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()?;
        let elapsed = start.elapsed();
        if !status.success() {
            return Err(format!("`git-orchestrate {shown}` failed: {status}").into());
        }
        Ok(elapsed)
    })
}

// ---------------------------------------------------------------------------------------------
// Artifacts and messages
// ---------------------------------------------------------------------------------------------

fn stage_message(stage: Stage, issue: u64) -> String {
    let mut message = Message::stage(stage, issue, TITLE, Verdict::Approved);
    message
        .paragraph(format!(
            "Drafted by {DRAFTER}, approved by {REVIEWER} in round 2."
        ))
        .models(Some(DRAFTER), Some(REVIEWER))
        .rounds(2)
        // An input hash that never matches: the staleness check then also reads why.
        .trailer(TRAILER_INPUT, "0".repeat(40))
        .spend(
            Some(Usage {
                input: 18_234,
                output: 4_410,
                cached_input: 0,
                cache_write_input: 0,
            }),
            Some(0.2014),
        );
    message.render()
}

fn lld_files(issue: u64) -> Vec<FileChange> {
    vec![
        FileChange::file(format!("docs/lld/{issue}.md"), lld(issue)),
        FileChange::file(
            format!("docs/reviews/{issue}-lld.md"),
            review_log(issue, "lld"),
        ),
    ]
}

fn spec_files(issue: u64) -> Vec<FileChange> {
    vec![
        FileChange::file(format!("docs/specs/{issue}.md"), spec(issue)),
        FileChange::file(
            format!("docs/reviews/{issue}-spec.md"),
            review_log(issue, "spec"),
        ),
    ]
}

fn brief(issue: u64) -> String {
    format!(
        "# {TITLE}\n\n\
         Issue #{issue}.\n\n\
         ## Problem\n\n\
         When a run fails, users cannot see which model was called with which prompt, or how \
         long each step took, without reading the state directory by hand.\n\n\
         ## Expected behaviour\n\n\
         `git orchestrate --verbose` prints every model call (provider, model, round, tokens) \
         and every git operation with its duration to standard error.\n\n\
         ## Acceptance\n\n\
         - `--verbose` is accepted by every subcommand.\n\
         - Without it, the output is unchanged.\n\
         - `GIT_ORCHESTRATE_LOG` still takes precedence for fine-grained filtering.\n"
    )
}

fn spec(issue: u64) -> String {
    let mut doc = format!("# Implementation spec: {TITLE} (#{issue})\n\n");
    doc.push_str(
        "## Files\n\n\
         - `src/cli/mod.rs`: add `verbose` to `GlobalArgs`; pass it to `log_filter`.\n\
         - `src/ui/human.rs`: render debug events with elapsed time.\n\
         - `src/llm/mod.rs`: a span per model call.\n\n\
         ## Changes\n\n",
    );
    for step in 1..=24 {
        let _ = writeln!(
            doc,
            "{step}. In step {step}, extend the event with a `duration` field and render it as \
             milliseconds with one decimal; keep the JSON field names stable."
        );
    }
    doc.push_str(
        "\n## Test\n\n\
         - `tests/cli/verbose.rs`: `--verbose` lines on stderr, stdout unchanged.\n\
         - Unit test for `log_filter` precedence.\n",
    );
    doc
}

fn review_log(issue: u64, stage: &str) -> String {
    format!(
        "# Review log: {stage} for #{issue}\n\n\
         ## Round 1\n\n\
         Drafter: {DRAFTER}\nReviewer: {REVIEWER}\nVerdict: changes requested\n\n\
         - The design does not say what happens when standard error is closed.\n\
         - R3 should name which git operations count as slow.\n\
         - The test plan needs a filter for durations, or snapshots will be flaky.\n\n\
         ## Round 2\n\n\
         Drafter: {DRAFTER}\nReviewer: {REVIEWER}\nVerdict: approved\n\n\
         All three points are addressed: broken stderr is ignored, R3 lists fetch, push and \
         worktree creation, and the tests filter durations. Approved.\n"
    )
}

// ---------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------

/// A table row: its label, which measurement it shows, and the target.
type Row = (&'static str, fn(&Measured) -> Summary, &'static str);

fn print_report(results: &[Measured], warmup: usize, iters: usize) {
    let large = results.first();
    let small = results.get(1);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\nstage_commit: median and p90 of {iters} runs after {warmup} warm-up runs, in ms\n"
    );
    let mut header = format!("{:<44}", "operation");
    for r in results {
        let _ = write!(header, "| {:<32}", r.shape.label());
    }
    let _ = writeln!(out, "{header}| target");
    let mut sub = format!("{:<44}", "");
    for _ in results {
        let _ = write!(sub, "| {:>10} {:>10}           ", "median", "p90");
    }
    let _ = writeln!(out, "{sub}|");
    let _ = writeln!(out, "{}", "-".repeat(sub.len() + 30));

    let rows: [Row; 9] = [
        (
            "(a)  stage commit, library (repo open)",
            |m| m.commit_warm,
            "< 20 ms, flat in file count",
        ),
        (
            "(a') first stage commit of a process",
            |m| m.commit_cold,
            "(open + git var x2 + commit)",
        ),
        (
            "(b)  git-orchestrate status 7 (process)",
            |m| m.status,
            "< 50 ms",
        ),
        (
            "(b') status 9, hand-written lld at commit 1",
            |m| m.status_deep,
            "(walks the whole history)",
        ),
        (
            "(c)  git add + git commit (processes)",
            |m| m.git_commit,
            "(comparison)",
        ),
        (
            "(d)  git-orchestrate status, 1,000 issues",
            |m| m.status_all,
            "< 100 ms",
        ),
        (
            "(d') the same, every branch moved since",
            |m| m.status_all_cold,
            "(each branch's history read)",
        ),
        (
            "(e)  staleness check of status 7",
            |m| m.staleness,
            "< 1 ms added to status N",
        ),
        (
            "(e') its part of a cached status, 1,000",
            |m| m.staleness_all,
            "< 10 ms added to status",
        ),
    ];
    for (name, pick, target) in rows {
        let mut line = format!("{name:<44}");
        for r in results {
            let s = pick(r);
            let _ = write!(line, "| {:>10} {:>10}           ", ms(s.median), ms(s.p90));
        }
        let _ = writeln!(out, "{line}| {target}");
    }

    let _ = writeln!(out);
    if let Some(l) = large {
        let commit = l.commit_warm.median;
        let commit_ok = commit < Duration::from_secs_f64(STAGE_COMMIT_TARGET_MS / 1000.0);
        let _ = writeln!(
            out,
            "target: stage commit < {STAGE_COMMIT_TARGET_MS} ms in {}: {} ms -> {}",
            l.shape.label(),
            ms(commit),
            met(commit_ok)
        );
        if let Some(s) = small {
            let ratio = ratio(commit, s.commit_warm.median);
            // Flat: at most 1.5x the small repository's time plus 1 ms of noise.
            let flat = commit.as_secs_f64() <= s.commit_warm.median.as_secs_f64() * 1.5 + 0.001;
            let _ = writeln!(
                out,
                "target: stage commit does not grow with the number of files: {} ms vs {} ms in {} (x{ratio:.2}) -> {}",
                ms(commit),
                ms(s.commit_warm.median),
                s.shape.label(),
                met(flat)
            );
            let _ = writeln!(
                out,
                "        for comparison, git add + git commit: {} ms vs {} ms (x{:.2})",
                ms(l.git_commit.median),
                ms(s.git_commit.median),
                self::ratio(l.git_commit.median, s.git_commit.median)
            );
        }
        let status = l.status.median;
        let status_ok = status < Duration::from_secs_f64(STATUS_TARGET_MS / 1000.0);
        let _ = writeln!(
            out,
            "target: status < {STATUS_TARGET_MS} ms in {}: {} ms -> {}",
            l.shape.label(),
            ms(status),
            met(status_ok)
        );
        let all = l.status_all.median;
        let all_ok = all < Duration::from_secs_f64(STATUS_ALL_TARGET_MS / 1000.0);
        let _ = writeln!(
            out,
            "target: status of {MANY_ISSUES} issues < {STATUS_ALL_TARGET_MS} ms in {}: {} ms -> {}",
            l.shape.label(),
            ms(all),
            met(all_ok)
        );
        let stale = l.staleness.median;
        let _ = writeln!(
            out,
            "target: the staleness check adds < {STALENESS_TARGET_MS} ms to status N in {}: {} ms -> {}",
            l.shape.label(),
            ms(stale),
            met(stale < Duration::from_secs_f64(STALENESS_TARGET_MS / 1000.0))
        );
        let stale_all = l.staleness_all.median;
        let _ = writeln!(
            out,
            "target: it adds < {STALENESS_ALL_TARGET_MS} ms to status of {MANY_ISSUES} issues (cached): {} ms -> {}",
            ms(stale_all),
            met(stale_all < Duration::from_secs_f64(STALENESS_ALL_TARGET_MS / 1000.0))
        );
        let _ = writeln!(
            out,
            "        status with a hand-written design {} commits deep: {} ms",
            thousands(l.shape.commits),
            ms(l.status_deep.median)
        );
    }
    print!("{out}");
}
