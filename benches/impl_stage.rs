//! The impl stage's own work in a large repository: everything an attempt costs besides the
//! model and the test command.
//!
//! In the generated repository of 100,000 files and 10,000 commits (see `common`), reports
//! the median and p90 of repeated runs of:
//!
//! - (a) creating an issue's worktree ([`Repo::issue_worktree`] for a new issue number),
//!   against `git worktree add --detach` of the same commit as a process, run in turns; then
//!   reusing a clean worktree, as the next run of the stage does (one `git status`: a reused
//!   worktree is always read, whatever its clean marker says);
//! - (b) the repository map: [`RepoMap::build`] with the default options (24,000 tokens),
//!   cold, and through [`repomap::cached`] by tree id once it is stored; and whether the map
//!   keeps to its budget (bytes / 4);
//! - (c) [`edit::apply`] of a reply of 20 blocks to a file of 10,000 lines;
//! - (d) what an attempt of a text implementer does in the worktree besides the model and the
//!   tests: [`Worktree::begin_work`], [`edit::apply`] of a small reply and
//!   [`Worktree::changes_in`] for the paths it wrote (the stage reads a text implementer's
//!   change from those alone). For comparison, what an agent's attempt adds
//!   ([`Worktree::changes`]: the whole worktree, since an agent may write anywhere) and the
//!   [`Worktree::reset`] once per stage after its commit. The tamper guard is private to the
//!   stage and left out (it reads the changes already computed, in memory).
//! - (e) what an accepted attempt's proof costs besides its test runs: the whole change read
//!   against the base ([`Repo::entry_at`] per changed path), the attempt's files kept aside
//!   under the local state ([`StateDir::save_recovery`]), the code swapped for the base's
//!   ([`Worktree::put`]), the change read again ([`Worktree::changes_in`]), the attempt's files
//!   put back and the copy removed — twice, as when the change also touched a test of the
//!   base (the original tests' run swaps too). Which file is a test is decided in memory, from
//!   paths and the contents already read, and left out.
//! - (f) what an agent's accepted attempt costs besides the agent and its test runs: the whole
//!   worktree read [`AGENT_READS`] times ([`Worktree::read`]: `git status` with the
//!   untracked cache names the paths that may differ, only those are hashed) — when the agent
//!   exits and once after all its test runs, not after each —, the proof's swaps of (e), the
//!   [`Worktree::reset_after`] that reading (only the paths that differ, no `git status` of
//!   its own), and the
//!   check of the user's repository after each of its four programs (the agent, three test
//!   runs) as a contained run makes it: the git directory's part, `HEAD` and the index, the
//!   kernel having kept those programs off the checkout's files. Target: under 500 ms. Also
//!   measured: the same where the kernel offers no sandbox, each check then reading the
//!   checkout's files too (one `git status` of the user's checkout per program).
//!
//! Creating a worktree checks out every file, so (a)'s creation runs 3 times (after 1
//! warm-up run), whatever `GIT_BENCH_ITERS` says, and last; removing the worktree after each
//! run and writing the file system's dirty pages back (`sync`) are not timed. The benchmark reports and never fails on a missed target.
//!
//! Run with `cargo bench --bench impl_stage` (`GIT_BENCH_ONLY=f` for (f) alone);
//! `GIT_BENCH_DIR` and `GIT_BENCH_ITERS` as in
//! `common`. Without `--bench` (as `cargo test --benches` runs it) a quick smoke run in the
//! small repository (1,000 files) is made.

mod common;

use std::cell::Cell;
use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use git_orchestrate::edit::{self, Protected};
use git_orchestrate::env::Env;
use git_orchestrate::git::{FileChange, ObjectId, Repo, Worktree};
use git_orchestrate::pipeline::local::StateDir;
use git_orchestrate::repomap::{self, BYTES_PER_TOKEN, DEFAULT_BUDGET_TOKENS, RepoMap};

use common::{BenchResult, Shape, Summary, ms, ratio, source_path, summarise, thousands, timings};

const CREATE_RATIO_TARGET: f64 = 1.1;
const MAP_COLD_TARGET_MS: f64 = 1_000.0;
const MAP_WARM_TARGET_MS: f64 = 50.0;
const APPLY_TARGET_MS: f64 = 5.0;
const ATTEMPT_TARGET_MS: f64 = 100.0;
const PROOF_TARGET_MS: f64 = 50.0;
const AGENT_TARGET_MS: f64 = 500.0;

/// How often the stage reads an accepted agent attempt's changes from the worktree: once when
/// the agent exits and once after all its test runs (its own, the original tests', the
/// proof's), which the commit and the reset after it take.
const AGENT_READS: usize = 2;

/// The programs of an accepted agent attempt the user's repository is checked after: the
/// agent, its own test run, the original tests' run and the proof's.
const AGENT_CHECKS: usize = 4;

/// Timed runs of creating a worktree in a full run (after one warm-up run).
const CREATE_ITERS: usize = 3;

/// The issue whose worktree is reused, mapped and edited.
const ISSUE: u64 = 7;

/// The issue numbers worktrees are created for in (a), one per run.
const FIRST_NEW_ISSUE: u64 = 100_000;

/// Lines of the file (c) edits, and blocks in the reply.
const BIG_FILE_LINES: usize = 10_000;
const BIG_REPLY_BLOCKS: usize = 20;

fn main() -> BenchResult<ExitCode> {
    common::main(run)
}

/// Everything measured.
struct Measured {
    shape: Shape,
    create_lib: Summary,
    create_git: Summary,
    reuse: Summary,
    map_cold: Summary,
    map_warm: Summary,
    map_bytes: usize,
    map_files: usize,
    apply_big: Summary,
    attempt_apply: Summary,
    attempt_changes: Summary,
    attempt_reset: Summary,
    attempt: Summary,
    proof: Summary,
    agent_read: Summary,
    agent: Summary,
    agent_open: Summary,
}

fn run(env: &Env, work: &Path, full: bool) -> BenchResult<()> {
    let (warmup, iters) = common::iterations(env, full);
    let (shape, dir) = common::measured_repository(env, work, full)?;
    let (create_warmup, create_iters) = if full { (1, CREATE_ITERS) } else { (0, 1) };

    let repo = Repo::open(&dir, env)?;
    let tip = repo
        .branch_tip("main")?
        .ok_or("the generated repository has no main branch")?;

    // The worktree the rest works in, as a run of the stage leaves it: clean at the tip.
    repo.remove_issue_worktree(ISSUE)?;
    let worktree = repo.issue_worktree(ISSUE, tip)?.worktree;
    common::sync_disk();
    // `GIT_BENCH_ONLY=f`: an agent's attempt alone, to measure it in a quiet moment.
    if env.non_empty("GIT_BENCH_ONLY") == Some("f") {
        let rounds = (warmup, iters);
        let (read, agent) = agent_timings(&repo, &worktree, tip, shape, rounds, false)?;
        let (_, open) = agent_timings(&repo, &worktree, tip, shape, rounds, true)?;
        repo.remove_issue_worktree(ISSUE)?;
        let rows: Vec<common::Row<'_>> = vec![
            (
                "(f)  agent: one read of the changes",
                read,
                String::new(),
                None,
            ),
            (
                "(f)  agent attempt, contained (all)",
                agent,
                format!("< {AGENT_TARGET_MS} ms"),
                Some(agent.median.as_secs_f64() * 1000.0 < AGENT_TARGET_MS),
            ),
            (
                "(f)  agent attempt, no sandbox (all)",
                open,
                String::new(),
                None,
            ),
        ];
        let mut out = String::new();
        common::table(&mut out, &rows, 44, 28);
        print!("{out}");
        return Ok(());
    }
    // One timed reuse, which must find the worktree clean.
    let reuse_once = || -> BenchResult<std::time::Duration> {
        let start = Instant::now();
        let prepared = repo.issue_worktree(ISSUE, tip)?;
        let elapsed = start.elapsed();
        if prepared.created || !prepared.recovered.is_empty() {
            return Err("the clean worktree was not simply reused".into());
        }
        Ok(elapsed)
    };
    let reuse = timings("(a) reuse a clean worktree", warmup, iters, reuse_once)?;

    let (map_cold, map_warm, map_bytes, map_files) =
        map_timings(&repo, &worktree, work, tip, warmup, iters)?;
    let apply_big = big_apply(work, warmup, iters)?;
    let (attempt_apply, attempt_changes, attempt_reset, attempt, proof) =
        attempt_timings(&repo, &worktree, tip, shape, warmup, iters)?;
    let rounds = (warmup, iters);
    let (agent_read, agent) = agent_timings(&repo, &worktree, tip, shape, rounds, false)?;
    let (_, agent_open) = agent_timings(&repo, &worktree, tip, shape, rounds, true)?;
    repo.remove_issue_worktree(ISSUE)?;
    common::sync_disk();
    // Last: each run checks out and deletes every file, which leaves the file system busy.
    let (create_lib, create_git) = creation(&repo, &dir, tip, create_warmup, create_iters)?;

    print_report(
        &Measured {
            shape,
            create_lib,
            create_git,
            reuse,
            map_cold,
            map_warm,
            map_bytes,
            map_files,
            apply_big,
            attempt_apply,
            attempt_changes,
            attempt_reset,
            attempt,
            proof,
            agent_read,
            agent,
            agent_open,
        },
        (warmup, iters),
        (create_warmup, create_iters),
    );
    if !full {
        println!(
            "(smoke run without --bench; for the numbers run `cargo bench --bench impl_stage`)"
        );
    }
    Ok(())
}

/// (a) `Repo::issue_worktree` for a new issue against `git worktree add --detach`, in turns
/// so that the machine's state drifts alike for both. Removing each worktree is not timed.
fn creation(
    repo: &Repo,
    dir: &Path,
    tip: ObjectId,
    warmup: usize,
    iters: usize,
) -> BenchResult<(Summary, Summary)> {
    let plain = dir.join(".git").join("bench-worktrees");
    fs::create_dir_all(&plain)?;
    let (mut lib, mut git) = (Vec::new(), Vec::new());
    for round in 0..warmup + iters {
        let issue = FIRST_NEW_ISSUE + round as u64;
        let start = Instant::now();
        let prepared = repo.issue_worktree(issue, tip)?;
        let elapsed_lib = start.elapsed();
        if !prepared.created {
            return Err(format!("the worktree of #{issue} already existed").into());
        }
        repo.remove_issue_worktree(issue)?;
        common::sync_disk();

        let path = plain.join(round.to_string());
        let start = Instant::now();
        let status = Command::new("git")
            .args(["worktree", "add", "--detach", "--quiet"])
            .arg(&path)
            .arg(tip.to_string())
            .current_dir(dir)
            .stdin(Stdio::null())
            .status()?;
        let elapsed_git = start.elapsed();
        if !status.success() {
            return Err(format!("`git worktree add` failed: {status}").into());
        }
        common::git(
            dir,
            &["worktree", "remove", "--force", &path.to_string_lossy()],
        )?;
        common::sync_disk();
        eprintln!(
            "  (a) create, round {}: issue_worktree {} ms, git worktree add {} ms{}",
            round + 1,
            ms(elapsed_lib),
            ms(elapsed_git),
            if round < warmup { " (warm-up)" } else { "" }
        );
        if round >= warmup {
            lib.push(elapsed_lib);
            git.push(elapsed_git);
        }
    }
    Ok((
        summarise("(a) create: Repo::issue_worktree", lib),
        summarise("(a) create: git worktree add --detach", git),
    ))
}

/// (b) the map of the worktree, built cold and read back by tree id.
fn map_timings(
    repo: &Repo,
    worktree: &Worktree,
    work: &Path,
    tip: ObjectId,
    warmup: usize,
    iters: usize,
) -> BenchResult<(Summary, Summary, usize, usize)> {
    let options = repomap::Options::default();
    let root = worktree.path();
    let built = RepoMap::build(root, &options)?;
    let (bytes, files) = (built.render().len(), built.files());
    eprintln!(
        "  the map covers {} files in {} bytes; its last line: {}",
        thousands(files),
        thousands(bytes),
        built.render().lines().last().unwrap_or("")
    );
    let cold = timings("(b) RepoMap::build, cold", warmup, iters, || {
        let start = Instant::now();
        let map = RepoMap::build(root, &options)?;
        let text = map.render();
        let elapsed = start.elapsed();
        if text.len() != bytes {
            return Err("the map changed from one build to the next".into());
        }
        Ok(elapsed)
    })?;

    let cache = work.join("repomap-cache");
    let tree = repo.tree_id(tip)?.to_string();
    repomap::cached(&cache, &tree, &options, || RepoMap::build(root, &options))?;
    let builds = Cell::new(0);
    let warm = timings("(b) repomap::cached, warm", warmup, iters, || {
        let start = Instant::now();
        let text = repomap::cached(&cache, &tree, &options, || {
            builds.set(builds.get() + 1);
            RepoMap::build(root, &options)
        })?;
        let elapsed = start.elapsed();
        if text.len() != bytes {
            return Err("the cached map is not the map built".into());
        }
        Ok(elapsed)
    })?;
    if builds.get() > 0 {
        return Err(format!("the warm map was built {} times", builds.get()).into());
    }
    Ok((cold, warm, bytes, files))
}

/// (c) a reply of 20 blocks, spread over a file of 10,000 lines, applied in a temporary
/// directory; the file is written back before each run (not timed).
fn big_apply(work: &Path, warmup: usize, iters: usize) -> BenchResult<Summary> {
    let dir = tempfile::Builder::new().prefix("apply-").tempdir_in(work)?;
    let path = "src/big.rs";
    let mut original = String::new();
    for n in 0..BIG_FILE_LINES {
        let _ = writeln!(
            original,
            "    let value_{n} = table.get(&{n}).copied().unwrap_or({});",
            n.wrapping_mul(2_654_435_761) % 1_000_003
        );
    }
    let mut reply = String::from("Here are the changes.\n\n");
    let step = BIG_FILE_LINES / BIG_REPLY_BLOCKS;
    for b in 0..BIG_REPLY_BLOCKS {
        let first = b * step + step / 2;
        let search: String =
            original
                .lines()
                .skip(first)
                .take(3)
                .fold(String::new(), |mut acc, line| {
                    acc.push_str(line);
                    acc.push('\n');
                    acc
                });
        let replace = search.replace("unwrap_or(", "unwrap_or_default().max(");
        let _ = write!(
            reply,
            "{path}\n```rust\n<<<<<<< SEARCH\n{search}=======\n{replace}>>>>>>> REPLACE\n```\n\n"
        );
    }
    let protected = Protected::new(&[])?;
    let file = dir.path().join(path);
    fs::create_dir_all(dir.path().join("src"))?;
    timings("(c) edit::apply, 20 blocks", warmup, iters, || {
        fs::write(&file, &original)?;
        let start = Instant::now();
        let applied = edit::apply(dir.path(), &reply, &protected)?;
        let elapsed = start.elapsed();
        if applied.blocks != BIG_REPLY_BLOCKS || applied.already_applied != 0 {
            return Err(format!(
                "{} blocks, {} already applied",
                applied.blocks, applied.already_applied
            )
            .into());
        }
        Ok(elapsed)
    })
}

/// (d) an attempt's own work in the worktree: begin, apply a small reply (two files edited,
/// one created) and read the change back from the paths it wrote; then, untimed as part of
/// the attempt, the full scan an agent's attempt needs and the reset a stage ends with; and
/// (e) the proof's work for that change, were it accepted.
fn attempt_timings(
    repo: &Repo,
    worktree: &Worktree,
    tip: ObjectId,
    shape: Shape,
    warmup: usize,
    iters: usize,
) -> BenchResult<(Summary, Summary, Summary, Summary, Summary)> {
    let root = worktree.path();
    let mut reply = String::from("Two edits and a new module.\n\n");
    for k in [1, shape.files / 2] {
        let path = source_path(k);
        let text = fs::read_to_string(root.join(&path))?;
        let first = text.lines().next().ok_or("an empty source file")?;
        let edited = first.replacen('.', ", edited.", 1);
        let _ = write!(
            reply,
            "{path}\n```rust\n<<<<<<< SEARCH\n{first}\n=======\n{edited}\n>>>>>>> REPLACE\n```\n\n"
        );
    }
    reply.push_str(
        "src/verbose.rs\n```rust\n<<<<<<< SEARCH\n=======\n\
         //! Narrating what the tool does.\n\npub fn verbose() -> bool {\n    true\n}\n\
         >>>>>>> REPLACE\n```\n",
    );
    let protected = Protected::new(&[])?;
    let state = StateDir::new(repo.common_dir());
    let (mut apply, mut changes, mut reset, mut total, mut proof) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for round in 0..warmup + iters {
        let start = Instant::now();
        worktree.begin_work()?;
        let applied = edit::apply(root, &reply, &protected)?;
        let written: Vec<String> = applied.files.iter().map(|f| f.path.clone()).collect();
        let found = worktree.changes_in(repo, tip, &written)?;
        let end = Instant::now();
        proof_work(repo, worktree, &state, tip, &found)?;
        let after_proof = Instant::now();
        if worktree.changes_in(repo, tip, &written)? != found {
            return Err("the proof's swaps did not put the attempt's files back".into());
        }
        let end_check = Instant::now();
        let mut scanned = worktree.changes(repo, tip)?;
        let mut found = found;
        scanned.sort_by(|a, b| a.path.cmp(&b.path));
        found.sort_by(|a, b| a.path.cmp(&b.path));
        let after_scan = Instant::now();
        let scan_time = after_scan - end_check;
        worktree.reset(repo, tip)?;
        let after_reset = Instant::now();
        if applied.files.len() != 3 || found.len() != 3 || scanned != found {
            return Err(format!(
                "the reply wrote {} files and the changes hold {} (a full scan: {}), not 3",
                applied.files.len(),
                found.len(),
                scanned.len()
            )
            .into());
        }
        if round >= warmup {
            apply.push(end - start);
            changes.push(scan_time);
            reset.push(after_reset - after_scan);
            total.push(end - start);
            proof.push(after_proof - end);
        }
    }
    Ok((
        summarise("(d) begin_work + edit::apply + changes_in", apply),
        summarise("(d) Worktree::changes", changes),
        summarise("(d) Worktree::reset", reset),
        summarise("(d) attempt overhead", total),
        summarise("(e) proof overhead", proof),
    ))
}

/// (e) What the stage does around the proof's test runs for an accepted change `found`:
/// read each path on the base, then twice (the proof, the original tests): keep the attempt's
/// files aside, write the base's in their place, read the change, put the attempt's back,
/// drop the copy.
fn proof_work(
    repo: &Repo,
    worktree: &Worktree,
    state: &StateDir,
    tip: ObjectId,
    found: &[FileChange],
) -> BenchResult<()> {
    let paths: Vec<String> = found.iter().map(|c| c.path.clone()).collect();
    let origins = paths
        .iter()
        .map(|p| repo.entry_at(tip, p))
        .collect::<Result<Vec<_>, _>>()?;
    for _ in 0..2 {
        let kept = state.save_recovery(ISSUE, "impl-proof", found, "benchmark\n")?;
        for origin in &origins {
            worktree.put(origin)?;
        }
        worktree.changes_in(repo, tip, &paths)?;
        for now in found {
            worktree.put(now)?;
        }
        fs::remove_dir_all(kept)?;
    }
    Ok(())
}

/// (f) An agent's accepted attempt, as the stage handles it besides the agent and the test
/// runs: the agent's files are written (not timed: that is the agent's work), then the
/// changes are read when the agent exits and after the runs, the proof's swaps made twice
/// ([`proof_work`]'s keeping aside, putting and putting back), the user's repository checked
/// after each of [`AGENT_CHECKS`] programs (its files too when `checkout`, as where the
/// kernel offers no sandbox), and the worktree reset from the second reading. The stage resets to the commit it made of the change;
/// here, to the base, which touches the same paths. Returns one read of the changes and the
/// whole.
fn agent_timings(
    repo: &Repo,
    worktree: &Worktree,
    tip: ObjectId,
    shape: Shape,
    (warmup, iters): (usize, usize),
    checkout: bool,
) -> BenchResult<(Summary, Summary)> {
    let root = worktree.path();
    let state = StateDir::new(repo.common_dir());
    let edited: Vec<String> = [2, shape.files / 3].into_iter().map(source_path).collect();
    let created = "src/agent/verbose.rs";
    let (mut reads, mut totals) = (Vec::new(), Vec::new());
    let check = |before: &git_orchestrate::git::Snapshot| -> BenchResult<()> {
        let found = repo.contain_with(before, checkout)?;
        if !found.is_empty() {
            return Err(format!("the check found changes: {found:?}").into());
        }
        Ok(())
    };
    for round in 0..warmup + iters {
        worktree.begin_work()?;
        for path in &edited {
            let text = fs::read_to_string(root.join(path))?;
            fs::write(root.join(path), format!("{text}// edited by the agent\n"))?;
        }
        fs::create_dir_all(root.join("src/agent"))?;
        fs::write(
            root.join(created),
            "pub fn verbose() -> bool {\n    true\n}\n",
        )?;

        let start = Instant::now();
        // The snapshot the agent was watched from (the stage keeps the last one that found
        // nothing, so this is once per stage, not per attempt).
        let before = match checkout {
            true => repo.snapshot()?,
            false => repo.snapshot_git_dir()?,
        };
        check(&before)?;
        let read = Instant::now();
        let found = worktree.changes(repo, tip)?;
        let first = read.elapsed();
        for _ in 1..AGENT_CHECKS {
            check(&before)?;
        }
        proof_work(repo, worktree, &state, tip, &found)?;
        // After all the attempt's runs: what they wrote, and what the reset touches.
        let after = worktree.read(repo, tip)?;
        if after.changes != found {
            return Err("the proof's swaps did not put the agent's files back".into());
        }
        worktree.reset_after(repo, tip, &after)?;
        let elapsed = start.elapsed();
        if found.len() != 3 {
            return Err(
                format!("the agent wrote 3 files; the changes hold {}", found.len()).into(),
            );
        }
        if round >= warmup {
            reads.push(first);
            totals.push(elapsed);
        }
    }
    Ok((
        summarise("(f) Worktree::changes after an agent", reads),
        summarise("(f) an agent's attempt overhead", totals),
    ))
}

// ---------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------

fn print_report(m: &Measured, (warmup, iters): (usize, usize), create: (usize, usize)) {
    let under = |s: Summary, target_ms: f64| s.median.as_secs_f64() * 1000.0 < target_ms;
    let create_ratio = ratio(m.create_lib.median, m.create_git.median);
    let budget_bytes = DEFAULT_BUDGET_TOKENS * BYTES_PER_TOKEN;
    let within = m.map_bytes as u64 <= budget_bytes;
    let rows: Vec<common::Row<'_>> = vec![
        (
            "(a)  create: Repo::issue_worktree",
            m.create_lib,
            format!("<= {CREATE_RATIO_TARGET} x git (x{create_ratio:.2})"),
            Some(create_ratio <= CREATE_RATIO_TARGET),
        ),
        (
            "(a)  create: git worktree add --detach",
            m.create_git,
            "(comparison)".into(),
            None,
        ),
        (
            "(a)  reuse a clean worktree (git status)",
            m.reuse,
            "(one git status)".into(),
            None,
        ),
        (
            "(b)  repository map, cold (build)",
            m.map_cold,
            format!("< {MAP_COLD_TARGET_MS} ms"),
            Some(under(m.map_cold, MAP_COLD_TARGET_MS)),
        ),
        (
            "(b)  repository map, warm (cached)",
            m.map_warm,
            format!("< {MAP_WARM_TARGET_MS} ms"),
            Some(under(m.map_warm, MAP_WARM_TARGET_MS)),
        ),
        (
            "(c)  edit::apply, 20 blocks, 10,000 lines",
            m.apply_big,
            format!("< {APPLY_TARGET_MS} ms"),
            Some(under(m.apply_big, APPLY_TARGET_MS)),
        ),
        (
            "(d)  begin_work + apply + changes_in (3 files)",
            m.attempt_apply,
            String::new(),
            None,
        ),
        (
            "(d') an agent's attempt adds: changes (full scan)",
            m.attempt_changes,
            String::new(),
            None,
        ),
        (
            "(d') once per stage: Worktree::reset",
            m.attempt_reset,
            String::new(),
            None,
        ),
        (
            "(d)  text attempt overhead",
            m.attempt,
            format!("< {ATTEMPT_TARGET_MS} ms"),
            Some(under(m.attempt, ATTEMPT_TARGET_MS)),
        ),
        (
            "(e)  an accepted attempt's proof, no tests",
            m.proof,
            format!("< {PROOF_TARGET_MS} ms"),
            Some(under(m.proof, PROOF_TARGET_MS)),
        ),
        (
            "(f)  agent: one read of the changes",
            m.agent_read,
            String::new(),
            None,
        ),
        (
            "(f)  agent attempt, contained (all)",
            m.agent,
            format!("< {AGENT_TARGET_MS} ms"),
            Some(under(m.agent, AGENT_TARGET_MS)),
        ),
        (
            "(f)  agent attempt, no sandbox (all)",
            m.agent_open,
            "(+ 4 git status of the checkout)".into(),
            None,
        ),
    ];
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\nimpl_stage in {}: median and p90 in ms of {iters} runs after {warmup} warm-up runs \
         (creating a worktree: {} runs after {})\n",
        m.shape.label(),
        create.1,
        create.0
    );
    common::table(&mut out, &rows, 44, 28);
    let _ = writeln!(
        out,
        "\nthe map: {} bytes for {} files, {} tokens at 4 bytes a token, budget {} -> {}",
        thousands(m.map_bytes),
        thousands(m.map_files),
        thousands(m.map_bytes.div_ceil(BYTES_PER_TOKEN as usize)),
        thousands(DEFAULT_BUDGET_TOKENS as usize),
        if within { "within" } else { "OVER BUDGET" }
    );
    let _ = writeln!(
        out,
        "an agent's accepted attempt reads the whole worktree's changes {AGENT_READS} times (when \
         the agent exits, once after all its test runs); (f) is that, with the proof's swaps, \
         the reset and the check of your repository after each of its {AGENT_CHECKS} programs"
    );
    let _ = writeln!(
        out,
        "(the tamper guard is private to the stage and not measured; it works on the changes \
         in memory)"
    );
    print!("{out}");
}
