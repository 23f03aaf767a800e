//! `git orchestrate eval` with stand-in models: how long validating a range takes, and the
//! tool's own work per task (all but model calls and test runs).
//!
//! A generated repository of 50 commits after its first: every fifth changes only docs, the
//! others each add a function to `src/lib.rs` and a test script `tests/tN.sh` that looks for
//! it (40 candidates, all valid). The test command (`sh check.sh`) runs every test script;
//! the models are shell scripts answering at once (approving reviewer; an implementer adding
//! the function the task's issue asks for, with a test of its own). The benchmark runs
//! `eval BASE..main --json`, and from its lines reports:
//!
//! - the validation of the range (`validation_ms` of the report), and per candidate;
//! - per task, the wall-clock time of its run and judging, and what remains of it once the
//!   model calls (`model_finished` events), the test runs (`tests_finished` events) and the
//!   judging's test run (`judge_ms`) are taken away: the tool's own work. Target: < 100 ms.
//!
//! Run with `cargo bench --bench eval` (all 40 tasks); without `--bench` (as `cargo test
//! --benches` runs it) a smoke run of 3 tasks. It reports, and never fails on a target.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::{Command, ExitCode};
use std::time::Instant;

use common::BenchResult;
use git_orchestrate::env::Env;
use serde_json::Value;

/// Commits generated after the first.
const COMMITS: usize = 50;

const CHECK: &str = "#!/bin/sh\nstatus=0\nfor t in tests/*.sh; do\n  [ -e \"$t\" ] || continue\n  sh \"$t\" || status=1\ndone\nexit $status\n";

fn main() -> BenchResult<ExitCode> {
    common::main(run)
}

fn git(dir: &Path, env: &Env, args: &[&str]) -> BenchResult<String> {
    let out = Command::new("git")
        .env_clear()
        .envs(env.pairs())
        .current_dir(dir)
        .args(args)
        .output()?;
    if !out.status.success() {
        return Err(format!("git {args:?}: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn write(path: &Path, content: &str) -> BenchResult<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    fs::write(path, content)?;
    Ok(())
}

fn executable(path: &Path, content: &str) -> BenchResult<()> {
    write(path, content)?;
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o755))?;
    Ok(())
}

/// The repository and its range.
fn generate(work: &Path, env: &Env) -> BenchResult<(std::path::PathBuf, String)> {
    let root = work.join("eval-repo");
    fs::create_dir_all(&root)?;
    git(&root, env, &["init", "-q", "-b", "main", "."])?;
    write(&root.join("README.md"), "# Widget\n")?;
    write(&root.join("src/lib.rs"), "pub fn widget() {}\n")?;
    write(&root.join("check.sh"), CHECK)?;
    git(&root, env, &["add", "."])?;
    git(&root, env, &["commit", "-q", "-m", "initial"])?;
    let base = git(&root, env, &["rev-parse", "HEAD"])?;
    let mut lib = String::from("pub fn widget() {}\n");
    for n in 1..=COMMITS {
        if n % 5 == 0 {
            write(
                &root.join("README.md"),
                &format!("# Widget\n\nRevision {n}.\n"),
            )?;
            git(&root, env, &["commit", "-q", "-am", &format!("Docs {n}")])?;
            continue;
        }
        lib = lib.replace(
            "pub fn widget() {}\n",
            &format!("pub fn widget() {{}}\npub fn f{n}() {{}}\n"),
        );
        write(&root.join("src/lib.rs"), &lib)?;
        write(
            &root.join(format!("tests/t{n}.sh")),
            &format!("grep -q 'fn f{n}()' src/lib.rs\n"),
        )?;
        git(&root, env, &["add", "-A"])?;
        git(
            &root,
            env,
            &[
                "commit",
                "-q",
                "-m",
                &format!("Add f{n}\n\nThe widget needs f{n}."),
            ],
        )?;
    }
    Ok((root, format!("{base}..main")))
}

/// Stand-in models and the configuration that names them.
fn configure(root: &Path, work: &Path) -> BenchResult<()> {
    let bin = work.join("models");
    let drafter = bin.join("drafter");
    executable(
        &drafter,
        "#!/bin/sh\ncat >/dev/null\ncat <<'DOC'\n# Design\n\n## Context and Goal\nWhy.\n\n## Proposed Changes\nsrc/lib.rs\n\n## Requirements\n1. R1\n\n## Files to Change\nsrc/lib.rs\n\n## Changes\nAdd the function.\n\n## Test Plan\n- T1\nDOC\n",
    )?;
    let reviewer = bin.join("reviewer");
    executable(
        &reviewer,
        "#!/bin/sh\ncat >/dev/null\necho '{\"verdict\": \"APPROVED\", \"rationale\": \"ok\", \"feedback_items\": []}'\n",
    )?;
    let implementer = bin.join("implementer");
    executable(
        &implementer,
        "#!/bin/sh\ncat >/dev/null\nf=\"f$ORCHESTRATE_ISSUE\"\nprintf 'src/lib.rs\\n<<<<<<< SEARCH\\npub fn widget() {}\\n=======\\npub fn widget() {}\\npub fn %s() {}\\n>>>>>>> REPLACE\\n\\ntests/own_%s.sh\\n<<<<<<< SEARCH\\n=======\\ngrep -q %s src/lib.rs\\n>>>>>>> REPLACE\\n' \"$f\" \"$f\" \"$f\"\n",
    )?;
    let cmd = |p: &Path| format!("cmd:{}", p.display());
    write(
        &root.join(".orchestrate.toml"),
        &format!(
            "[stages.lld]\ndrafter = \"{d}\"\nreviewer = \"{r}\"\n\n[stages.spec]\ndrafter = \"{d}\"\nreviewer = \"{r}\"\n\n[stages.impl]\nimplementer = \"{i}\"\ntest_command = \"sh check.sh\"\n",
            d = cmd(&drafter),
            r = cmd(&reviewer),
            i = cmd(&implementer)
        ),
    )?;
    Ok(())
}

fn run(env: &Env, work: &Path, full: bool) -> BenchResult<()> {
    let (root, range) = generate(work, env)?;
    configure(&root, work)?;
    let limit = if full { None } else { Some("3") };
    let mut args = vec!["eval", range.as_str(), "--json"];
    if let Some(limit) = limit {
        args.extend(["--limit", limit]);
    }
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_git-orchestrate"))
        .env_clear()
        .envs(env.pairs())
        .current_dir(&root)
        .args(&args)
        .output()?;
    let wall = started.elapsed();
    if !out.status.success() {
        return Err(format!(
            "eval exited with {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let report = lines
        .iter()
        .find(|l| l["event"] == "eval_finished")
        .ok_or("no report")?;
    // Model and test time per task, from the run events.
    let mut outside: BTreeMap<u64, u64> = BTreeMap::new();
    for line in &lines {
        let (Some(issue), Some(event)) = (line["issue"].as_u64(), line["event"].as_str()) else {
            continue;
        };
        if matches!(event, "model_finished" | "tests_finished") {
            *outside.entry(issue).or_default() += line["elapsed_ms"].as_u64().unwrap_or(0);
        }
    }
    let candidates = report["candidates"].as_array().map(Vec::len).unwrap_or(0);
    let checked = report["candidates"]
        .as_array()
        .map(|c| c.iter().filter(|c| c["status"] != "not_checked").count())
        .unwrap_or(0);
    let validation_ms = report["validation_ms"].as_u64().unwrap_or(0);
    println!(
        "eval of {candidates} commits ({checked} decided): {:.1} s wall-clock",
        wall.as_secs_f64()
    );
    println!(
        "validation: {validation_ms} ms, {:.1} ms per commit decided",
        validation_ms as f64 / checked.max(1) as f64
    );
    let mut own: Vec<u64> = Vec::new();
    for task in report["tasks"].as_array().into_iter().flatten() {
        let n = task["task"].as_u64().unwrap_or(0);
        let elapsed = task["elapsed_ms"].as_u64().unwrap_or(0);
        let judge = task["judge_ms"].as_u64().unwrap_or(0);
        let spent = outside.get(&n).copied().unwrap_or(0) + judge;
        own.push(elapsed.saturating_sub(spent));
    }
    own.sort_unstable();
    if let (Some(median), Some(max)) = (own.get(own.len() / 2), own.last()) {
        let p90 = own[(own.len() * 9 / 10).min(own.len() - 1)];
        println!(
            "tool's own work per task ({} tasks): median {median} ms, p90 {p90} ms, max {max} ms; target < 100 ms: {}",
            own.len(),
            if *median < 100 { "met" } else { "not met" }
        );
    }
    println!("summary: {}", report["summary"]);
    compare_with_run(env, &root)?;
    Ok(())
}

/// For comparison, the same work done by `git orchestrate run` (one issue, up to impl, the
/// same models and tests) in the same repository: what of a task's own work is the pipeline's.
fn compare_with_run(env: &Env, root: &Path) -> BenchResult<()> {
    let issue = root.join("..").join("issue-1000.md");
    write(
        &issue,
        "# Add f1000

The widget needs f1000.
",
    )?;
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_git-orchestrate"))
        .env_clear()
        .envs(env.pairs())
        .current_dir(root)
        .args(["run", "1000", "--until", "impl", "--json", "--issue-file"])
        .arg(&issue)
        .output()?;
    let wall = started.elapsed().as_millis() as u64;
    let outside: u64 = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| {
            matches!(
                l["event"].as_str(),
                Some("model_finished" | "tests_finished")
            )
        })
        .map(|l| l["elapsed_ms"].as_u64().unwrap_or(0))
        .sum();
    println!(
        "for comparison, `run` of one issue to impl: {} ms besides its models and tests (the process's whole wall-clock time)",
        wall.saturating_sub(outside)
    );
    Ok(())
}
