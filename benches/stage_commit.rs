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
//! - (c) `git add` + `git commit` of the same two files in the work tree, as processes.
//!
//! (a) and (c) are measured again in a small repository (1,000 files, 100 commits) to show
//! whether their cost grows with the number of files. The benchmark reports and never fails
//! on a missed target.
//!
//! Run with `cargo bench --bench stage_commit`. Environment:
//! - `GIT_BENCH_DIR=<dir>`: generate the repositories there and reuse them on later runs
//!   (they are reset to their generated state first); default: a temporary directory.
//! - `GIT_BENCH_ITERS=<n>`: timed runs per operation (default 30, after 5 warm-up runs).
//!
//! Without `--bench` (as `cargo test --benches` runs it) only a quick smoke run of the small
//! repository is made.
//!
//! Every git process and the library itself run in a hermetic environment: the benchmark
//! re-launches itself with a cleared environment (HOME and XDG_CONFIG_HOME in a temporary
//! directory, no global or system git configuration, a fixed identity), because the library
//! resolves the identity by running `git var` with the process's environment.

use std::error::Error;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use git_orchestrate::env::Env;
use git_orchestrate::git::{CommitRequest, FileChange, ObjectId, Repo};
use git_orchestrate::llm::Usage;
use git_orchestrate::pipeline::branch::{Message, Verdict};
use git_orchestrate::stage::Stage;

type BenchResult<T> = Result<T, Box<dyn Error>>;

/// The real binary, built by cargo in the same profile as this benchmark.
const BIN: &str = env!("CARGO_BIN_EXE_git-orchestrate");

/// Set in the re-launched, hermetic process: the temporary directory it works in.
const CHILD_VAR: &str = "GIT_ORCHESTRATE_BENCH_WORKDIR";

/// Variables passed from the caller's environment to the hermetic one.
const PASS_THROUGH: [&str; 4] = ["PATH", "GIT_BENCH_DIR", "GIT_BENCH_ITERS", "RUST_BACKTRACE"];

const STAGE_COMMIT_TARGET_MS: f64 = 20.0;
const STATUS_TARGET_MS: f64 = 50.0;

const TITLE: &str = "Add a --verbose flag";
const DRAFTER: &str = "anthropic:claude-opus-4-5";
const REVIEWER: &str = "gemini:gemini-3-pro-preview";

fn main() -> BenchResult<ExitCode> {
    let env = Env::from_process();
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    match env.non_empty(CHILD_VAR) {
        Some(work) => {
            let full = args.iter().any(|a| a == "--bench");
            run(&env, Path::new(work), full)?;
            Ok(ExitCode::SUCCESS)
        }
        None => relaunch(&env, &args),
    }
}

/// Run this program again with a hermetic environment rooted in a temporary directory.
fn relaunch(env: &Env, args: &[OsString]) -> BenchResult<ExitCode> {
    let work = tempfile::Builder::new()
        .prefix("git-orchestrate-bench-")
        .tempdir()?;
    let home = work.path().join("home");
    fs::create_dir_all(home.join(".config"))?;
    let mut child = Command::new(std::env::current_exe()?);
    child
        .args(args)
        .env_clear()
        .env(CHILD_VAR, work.path())
        .env("HOME", &home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Bench Author")
        .env("GIT_AUTHOR_EMAIL", "author@bench.invalid")
        .env("GIT_COMMITTER_NAME", "Bench Committer")
        .env("GIT_COMMITTER_EMAIL", "committer@bench.invalid")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("LC_ALL", "C")
        .env("NO_COLOR", "1");
    for name in PASS_THROUGH {
        if let Some(value) = env.get(name) {
            child.env(name, value);
        }
    }
    if env.get("PATH").is_none() {
        child.env("PATH", "/usr/local/bin:/usr/bin:/bin");
    }
    let status = child.status()?;
    if env.non_empty("GIT_BENCH_DIR").is_none() {
        eprintln!("removing {}", work.path().display());
    }
    drop(work);
    Ok(if status.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// How big a generated repository is.
#[derive(Clone, Copy)]
struct Shape {
    files: usize,
    commits: usize,
}

impl Shape {
    fn label(self) -> String {
        format!(
            "{} files, {} commits",
            thousands(self.files),
            thousands(self.commits)
        )
    }

    fn dir_name(self) -> String {
        format!("repo-{}-files-{}-commits", self.files, self.commits)
    }
}

/// Median and p90 of one operation in one repository.
#[derive(Clone, Copy)]
struct Summary {
    median: Duration,
    p90: Duration,
}

/// Everything measured in one repository.
struct Measured {
    shape: Shape,
    commit_warm: Summary,
    commit_cold: Summary,
    status: Summary,
    status_deep: Summary,
    git_commit: Summary,
}

fn run(env: &Env, work: &Path, full: bool) -> BenchResult<()> {
    let iters = env
        .non_empty("GIT_BENCH_ITERS")
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or(30);
    let (warmup, iters) = if full { (5, iters) } else { (1, 2) };
    let base_dir = env
        .non_empty("GIT_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| work.to_path_buf());
    fs::create_dir_all(&base_dir)?;

    let small = Shape {
        files: 1_000,
        commits: 100,
    };
    let large = Shape {
        files: 100_000,
        commits: 10_000,
    };
    let shapes: Vec<Shape> = if full {
        vec![large, small]
    } else {
        eprintln!("no --bench argument: smoke run in the small repository only");
        vec![small]
    };

    for &shape in &shapes {
        prepare(&base_dir.join(shape.dir_name()), shape)?;
    }
    // A fresh checkout (or the reset of a reused repository) leaves many dirty pages; writing
    // them back during the timed runs makes the first repository look slower than it is.
    eprintln!("flushing written files to disk (sync)");
    if let Err(e) = Command::new("sync").status() {
        eprintln!("  could not run sync ({e}); the first timings may be noisy");
    }
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
// Generating the repository
// ---------------------------------------------------------------------------------------------

/// Records the generated state, so `GIT_BENCH_DIR` can reuse a repository.
const MARKER: &str = "orchestrate-bench";

/// Bumped whenever the generated content changes, so an old repository is not reused.
const LAYOUT: u32 = 2;

/// The issue whose design was written by hand in the first commit, deep in history.
const HAND_WRITTEN_ISSUE: u64 = 9;

/// Make `dir` hold a repository of `shape` in its generated state, generating it or resetting
/// a reused one.
fn prepare(dir: &Path, shape: Shape) -> BenchResult<()> {
    let marker = dir.join(".git").join(MARKER);
    let expected = format!("v{LAYOUT}-{}-{}", shape.files, shape.commits);
    if let Ok(text) = fs::read_to_string(&marker) {
        let mut parts = text.split_whitespace();
        let (Some(layout), Some(tip)) = (parts.next(), parts.next()) else {
            return Err(format!("{} is not a benchmark marker", marker.display()).into());
        };
        if layout == expected {
            eprintln!("reusing {} ({})", dir.display(), shape.label());
            reset(dir, tip)?;
            return Ok(());
        }
        return Err(format!(
            "{} holds a repository generated differently ({layout}, this benchmark makes \
             {expected}); remove it first",
            dir.display()
        )
        .into());
    }
    if dir.exists() && fs::read_dir(dir)?.next().is_some() {
        return Err(format!("{} exists and is not a benchmark repository", dir.display()).into());
    }
    let start = Instant::now();
    eprintln!("generating {} in {}", shape.label(), dir.display());
    fs::create_dir_all(dir)?;
    git(dir, &["init", "-q", "-b", "main"])?;
    // No automatic gc or maintenance in the middle of a timed commit.
    git(dir, &["config", "gc.auto", "0"])?;
    git(dir, &["config", "maintenance.auto", "false"])?;
    fast_import(dir, shape)?;
    eprintln!(
        "  fast-import done in {:.1} s; checking out the work tree",
        start.elapsed().as_secs_f64()
    );
    let checkout = Instant::now();
    git(dir, &["reset", "-q", "--hard"])?;
    eprintln!(
        "  checkout done in {:.1} s",
        checkout.elapsed().as_secs_f64()
    );
    let tip = git(dir, &["rev-parse", "HEAD"])?;
    fs::write(&marker, format!("{expected} {tip}\n"))?;
    eprintln!(
        "  generated in {:.1} s in all",
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Bring a reused repository back to its generated state.
fn reset(dir: &Path, tip: &str) -> BenchResult<()> {
    git(dir, &["checkout", "-q", "-f", "main"])?;
    git(dir, &["reset", "-q", "--hard", tip])?;
    git(dir, &["clean", "-q", "-f", "-d", "--", "docs"])?;
    let refs = git(
        dir,
        &[
            "for-each-ref",
            "--format=%(refname)",
            "refs/heads/orchestrate/",
        ],
    )?;
    for name in refs.lines().filter(|l| !l.is_empty()) {
        git(dir, &["update-ref", "-d", name])?;
    }
    Ok(())
}

/// The path of generated source file `k`: 100 × 100 directories under `src/`.
fn source_path(k: usize) -> String {
    format!("src/d{:02}/d{:02}/f{k:06}.rs", k % 100, (k / 100) % 100)
}

fn source_content(k: usize, revision: usize) -> String {
    format!(
        "//! Module {k}, revision {revision}.\n\
         \n\
         use std::collections::BTreeMap;\n\
         \n\
         /// Combine `x` with this module's constants.\n\
         pub fn f{k}(x: u64, table: &BTreeMap<u64, u64>) -> u64 {{\n    \
             let base = table.get(&x).copied().unwrap_or({k});\n    \
             base.wrapping_mul({}).wrapping_add({revision})\n\
         }}\n",
        k.wrapping_mul(2_654_435_761) % 1_000_003
    )
}

/// Write the history with `git fast-import`: the first commit adds most files, every later
/// commit adds one file and modifies two.
fn fast_import(dir: &Path, shape: Shape) -> BenchResult<()> {
    // Three fixed files (README.md, docs/README.md and a hand-written design), the rest under
    // src/.
    let sources = shape.files.saturating_sub(3);
    let first = sources.saturating_sub(shape.commits.saturating_sub(1));
    let mut child = Command::new("git")
        .args(["fast-import", "--quiet", "--done"])
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()?;
    let stdin = child.stdin.take().ok_or("fast-import has no stdin")?;
    let mut out = BufWriter::with_capacity(1 << 20, stdin);
    let epoch = 1_600_000_000u64;
    let mut existing = first;
    for c in 0..shape.commits {
        let when = epoch + c as u64 * 3_600;
        let message = if c == 0 {
            "Initial import\n".to_string()
        } else {
            format!("Change {c}: add f{existing:06} and touch two modules\n")
        };
        writeln!(out, "commit refs/heads/main")?;
        writeln!(
            out,
            "author Bench Author <author@bench.invalid> {when} +0000"
        )?;
        writeln!(
            out,
            "committer Bench Committer <committer@bench.invalid> {when} +0000"
        )?;
        data(&mut out, message.as_bytes())?;
        if c == 0 {
            eprintln!("  commit 1: {} files", thousands(first + 3));
            inline(
                &mut out,
                "README.md",
                b"# bench\n\nA generated repository for the stage-commit benchmark.\n",
            )?;
            inline(
                &mut out,
                "docs/README.md",
                b"# Documents\n\nDesigns live in lld/, specs in specs/.\n",
            )?;
            inline(
                &mut out,
                &format!("docs/lld/{HAND_WRITTEN_ISSUE}.md"),
                lld(HAND_WRITTEN_ISSUE).as_bytes(),
            )?;
            for k in 0..first {
                inline(&mut out, &source_path(k), source_content(k, 0).as_bytes())?;
            }
        } else {
            if existing < sources {
                inline(
                    &mut out,
                    &source_path(existing),
                    source_content(existing, 0).as_bytes(),
                )?;
                existing += 1;
            }
            for k in [
                c.wrapping_mul(7_919) % existing,
                (c.wrapping_mul(104_729) + 13) % existing,
            ] {
                inline(&mut out, &source_path(k), source_content(k, c).as_bytes())?;
            }
        }
        writeln!(out)?;
        if (c + 1) % 1_000 == 0 {
            eprintln!("  commit {}/{}", c + 1, shape.commits);
        }
    }
    writeln!(out, "done")?;
    out.flush()?;
    drop(out);
    let status = child.wait()?;
    if !status.success() {
        return Err(format!("git fast-import failed: {status}").into());
    }
    Ok(())
}

fn data(out: &mut impl Write, bytes: &[u8]) -> std::io::Result<()> {
    writeln!(out, "data {}", bytes.len())?;
    out.write_all(bytes)?;
    writeln!(out)
}

fn inline(out: &mut impl Write, path: &str, bytes: &[u8]) -> std::io::Result<()> {
    writeln!(out, "M 100644 inline {path}")?;
    data(out, bytes)
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
    // Once with output, to show what is being timed and that it works.
    let output = Command::new(BIN)
        .args(["status", &issue])
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()?;
    if !output.status.success() {
        return Err(format!(
            "`git-orchestrate status {issue}` failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )
        .into());
    }
    eprintln!("  `git-orchestrate status {issue}` prints:");
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        eprintln!("    | {line}");
    }
    let name = format!("(b) git-orchestrate status {issue}");
    timings(&name, warmup, iters, || {
        let start = Instant::now();
        let status = Command::new(BIN)
            .args(["status", &issue])
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()?;
        let elapsed = start.elapsed();
        if !status.success() {
            return Err(format!("`git-orchestrate status {issue}` failed: {status}").into());
        }
        Ok(elapsed)
    })
}

/// Run `op` `warmup` times untimed, then `iters` times, and summarise the durations it reports.
fn timings(
    name: &str,
    warmup: usize,
    iters: usize,
    mut op: impl FnMut() -> BenchResult<Duration>,
) -> BenchResult<Summary> {
    for _ in 0..warmup {
        op()?;
    }
    let mut samples = Vec::with_capacity(iters);
    for _ in 0..iters {
        samples.push(op()?);
    }
    samples.sort();
    let summary = Summary {
        median: percentile(&samples, 50),
        p90: percentile(&samples, 90),
    };
    eprintln!(
        "  {name}: median {} ms, p90 {} ms",
        ms(summary.median),
        ms(summary.p90)
    );
    Ok(summary)
}

/// Nearest-rank percentile of sorted samples.
fn percentile(sorted: &[Duration], pct: usize) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (pct * sorted.len()).div_ceil(100).max(1);
    sorted[rank.min(sorted.len()) - 1]
}

/// Run `git ARGS` in `dir` and return its trimmed standard output.
fn git(dir: &Path, args: &[&str]) -> BenchResult<String> {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()?;
    if !output.status.success() {
        let mut shown = args.join(" ");
        if shown.len() > 80 {
            shown.truncate(80);
            shown.push_str("...");
        }
        return Err(format!(
            "`git {shown}` failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )
        .into());
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
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

/// A design document of about 10 KB with the sections the lld stage requires.
fn lld(issue: u64) -> String {
    let mut doc = format!("# Design: {TITLE} (#{issue})\n\n");
    let sections = [
        (
            "Context",
            "Runs call several models and git many times; when a stage blocks, the person at the \
             terminal sees the verdict but not the sequence of calls that led to it. The state \
             directory holds transcripts, but finding the right one means knowing its layout. \
             Issue #ISSUE asks for a flag that makes the tool narrate what it does.",
        ),
        (
            "Requirements",
            "R1. `--verbose` (short `-v`) is a global flag accepted before or after the \
             subcommand. R2. With it, each model call prints one line when it starts and one \
             when it ends, with provider, model, stage, round, token counts and duration. R3. \
             Git operations that can be slow (fetch, push, worktree creation) print one line \
             each. R4. Nothing changes on standard output, so scripts that parse `--json` keep \
             working. R5. `GIT_ORCHESTRATE_LOG` overrides the level chosen by the flag.",
        ),
        (
            "Proposed Changes",
            "The flag is parsed in `cli::GlobalArgs` and turned into a default `tracing` filter \
             (`git_orchestrate=debug`) unless `GIT_ORCHESTRATE_LOG` is set. The events the \
             pipeline already emits gain a `duration` field, and the human renderer prints \
             debug-level events as dimmed lines prefixed with the elapsed time since the start \
             of the run. Model providers wrap each call in a span carrying the model \
             specification and the round, so the end line can report tokens from `Usage`.",
        ),
        (
            "Interfaces",
            "```rust\npub struct GlobalArgs {\n    /// Narrate model calls and git operations on \
             standard error.\n    #[arg(short, long, global = true)]\n    pub verbose: bool,\n}\n\n\
             pub fn log_filter(env: &Env, verbose: bool) -> EnvFilter;\n```\n\n\
             The renderer receives events through the existing `EventSink`; no new trait is \
             needed.",
        ),
        (
            "Error handling",
            "A filter string in `GIT_ORCHESTRATE_LOG` that does not parse is reported once as a \
             warning and the flag's default is used instead. Writing a verbose line never fails \
             a run: a broken standard error is ignored, as for progress bars.",
        ),
        (
            "Alternatives",
            "A separate `--trace FILE` option writing JSON lines was considered; it is more \
             useful for tooling but does not help the person at the terminal, which is what the \
             issue asks for. It can be added later on top of the same spans.",
        ),
        (
            "Test",
            "Integration tests run the binary with `--verbose` against the scripted model \
             provider and check, with snapshot filters for durations, that each model call \
             produces a start and an end line on standard error and that standard output is \
             byte-for-byte the same as without the flag. A unit test covers the precedence of \
             `GIT_ORCHESTRATE_LOG` over the flag.",
        ),
        (
            "Risks",
            "Verbose output interleaves with progress bars; the renderer suspends the bar while \
             printing a line, as it already does for warnings. Token counts are only as good as \
             what each vendor reports; missing counts are shown as `-`.",
        ),
    ];
    let mut round = 0;
    while doc.len() < 10_000 {
        round += 1;
        for (heading, text) in sections {
            if round == 1 {
                let _ = write!(doc, "## {heading}\n\n");
            } else {
                let _ = write!(doc, "### {heading}, continued ({round})\n\n");
            }
            doc.push_str(&text.replace("ISSUE", &issue.to_string()));
            doc.push_str("\n\n");
        }
    }
    doc
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

    let rows: [Row; 5] = [
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
        let _ = writeln!(
            out,
            "        status with a hand-written design {} commits deep: {} ms",
            thousands(l.shape.commits),
            ms(l.status_deep.median)
        );
    }
    print!("{out}");
}

fn met(ok: bool) -> &'static str {
    if ok { "met" } else { "NOT MET" }
}

fn ratio(a: Duration, b: Duration) -> f64 {
    if b.is_zero() {
        0.0
    } else {
        a.as_secs_f64() / b.as_secs_f64()
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}
