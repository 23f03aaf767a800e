//! The check around every program the run starts (an agent's attempt, a test run, a `cmd:`
//! model): what a snapshot of the user's repository and the check after it cost.
//!
//! In the generated repository of 100,000 files and 10,000 commits (see `common`), with its
//! work tree checked out, reports the median and p90 of repeated runs of:
//!
//! - (a) the git directory's part of a snapshot ([`Repo::snapshot_git_dir`]: `HEAD`, the
//!   index's checksum, `config`, `hooks/`, `info/`, every ref);
//! - (b) a whole snapshot ([`Repo::snapshot`]: (a) and `git status` of the checkout with the
//!   untracked cache), against `git -c core.untrackedCache=true status --porcelain` as a
//!   process, run in turns;
//! - (c) the check after a program that changed nothing ([`Repo::contain`]);
//! - (d) a snapshot and the check together, as each program costs.
//!
//! The first snapshot of a process also reads the index's entries once (so that a later
//! rewrite of the index for its stat data alone is known for what it is); it is timed once,
//! before the warm-up runs. The benchmark reports and never fails on a missed target.
//!
//! Run with `cargo bench --bench containment`; `GIT_BENCH_DIR` and `GIT_BENCH_ITERS` as in
//! `common`. Without `--bench` (as `cargo test --benches` runs it) a quick smoke run in the
//! small repository (1,000 files) is made.

mod common;

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use git_orchestrate::env::Env;
use git_orchestrate::git::Repo;

use common::{BenchResult, Summary, ms, ratio, timings};

const GIT_DIR_TARGET_MS: f64 = 50.0;
/// The whole snapshot against `git status` with the untracked cache.
const STATUS_RATIO_TARGET: f64 = 1.1;

fn main() -> BenchResult<std::process::ExitCode> {
    common::main(run)
}

fn run(env: &Env, work: &Path, full: bool) -> BenchResult<()> {
    let (warmup, iters) = common::iterations(env, full);
    let (shape, dir) = common::measured_repository(env, work, full)?;
    let repo = Repo::open(&dir, env)?;
    // The untracked cache as the check keeps it, so both sides of (b) start alike.
    status_process(&dir)?;

    let start = Instant::now();
    repo.snapshot()?;
    let first = start.elapsed();

    let git_dir = timings("(a) snapshot, git directory", warmup, iters, || {
        let start = Instant::now();
        repo.snapshot_git_dir()?;
        Ok(start.elapsed())
    })?;
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for round in 0..warmup + iters {
        let start = Instant::now();
        repo.snapshot()?;
        let snapshot = start.elapsed();
        let start = Instant::now();
        status_process(&dir)?;
        let status = start.elapsed();
        if round >= warmup {
            ours.push(snapshot);
            theirs.push(status);
        }
    }
    let whole = common::summarise("(b) snapshot, whole", ours);
    let status = common::summarise("(b) git status (untracked cache)", theirs);
    let before = repo.snapshot()?;
    let index = dir.join(".git").join("index");
    let index_before = std::fs::read(&index)?;
    let check = timings("(c) after-check, nothing changed", warmup, iters, || {
        let start = Instant::now();
        let found = repo.contain(&before)?;
        if !found.is_empty() {
            return Err(format!("the check found changes nobody made: {found:?}").into());
        }
        Ok(start.elapsed())
    })?;
    let both = timings("(d) snapshot + after-check", warmup, iters, || {
        let start = Instant::now();
        let before = repo.snapshot()?;
        repo.contain(&before)?;
        Ok(start.elapsed())
    })?;

    if std::fs::read(&index)? != index_before {
        eprintln!("  (git status rewrote the index during (c))");
    }
    let under = |s: Summary, target: f64| s.median.as_secs_f64() * 1000.0 < target;
    let status_ratio = ratio(whole.median, status.median);
    let rows: Vec<common::Row<'_>> = vec![
        (
            "(a) snapshot: git directory's part",
            git_dir,
            format!("< {GIT_DIR_TARGET_MS} ms"),
            Some(under(git_dir, GIT_DIR_TARGET_MS)),
        ),
        (
            "(b) snapshot: whole",
            whole,
            format!("<= {STATUS_RATIO_TARGET} x git status (x{status_ratio:.2})"),
            Some(status_ratio <= STATUS_RATIO_TARGET),
        ),
        (
            "(b) git status, untracked cache",
            status,
            "(comparison)".into(),
            None,
        ),
        (
            "(c) after-check, nothing changed",
            check,
            String::new(),
            None,
        ),
        ("(d) snapshot + after-check", both, String::new(), None),
    ];
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\ncontainment in {}: median and p90 in ms of {iters} runs after {warmup} warm-up runs\n",
        shape.label()
    );
    common::table(&mut out, &rows, 38, 34);
    let _ = writeln!(
        out,
        "\nthe first snapshot of the process (reads the index's entries once): {} ms",
        ms(first)
    );
    print!("{out}");
    if !full {
        println!(
            "(smoke run without --bench; for the numbers run `cargo bench --bench containment`)"
        );
    }
    Ok(())
}

/// `git status` as the check runs it, as a process of its own.
fn status_process(dir: &Path) -> BenchResult<()> {
    let status = Command::new("git")
        .args([
            "-c",
            "core.untrackedCache=true",
            "status",
            "--porcelain=v1",
            "-z",
            "--no-renames",
        ])
        .current_dir(dir)
        .stdout(Stdio::null())
        .status()?;
    if !status.success() {
        return Err(format!("git status failed: {status}").into());
    }
    Ok(())
}
