//! What containment costs a program: the sandbox launcher's start-up, and a contained test
//! run against the same run uncontained.
//!
//! - **(a)** starting `true` directly, and through `git-orchestrate sandbox-exec` as an
//!   attempt's tests are started (Landlock writes, new user, PID and network namespaces, the
//!   inner launcher as process 1), and as where namespaces are not allowed (Landlock and the
//!   subreaper only). Target: the launcher adds under 5 ms to a plain spawn.
//! - **(b)** a Python package's own tests (`python3 -m unittest`, 40 test modules) run
//!   directly and contained, in turns. Target: not measurably slower (the ratio is printed).
//!
//! `cargo bench --bench launcher`; `GIT_BENCH_ITERS=N` sets the timed runs (default 30 after 5
//! warm-up runs). Without `--bench` (as `cargo test --benches` runs it) a smoke run.

mod common;

use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use common::{BenchResult, iterations, met, ms, ratio, timings};
use git_orchestrate::env::Env;

const BIN: &str = env!("CARGO_BIN_EXE_git-orchestrate");

fn main() -> BenchResult<ExitCode> {
    common::main(run)
}

fn run(env: &Env, work: &Path, full: bool) -> BenchResult<()> {
    let (warmup, iters) = iterations(env, full);
    let write = work.join("writable");
    std::fs::create_dir_all(&write)?;
    let probe = Command::new(BIN)
        .args(["sandbox-exec", "--probe"])
        .output()?;
    eprintln!(
        "this machine offers: {}",
        String::from_utf8_lossy(&probe.stdout).trim()
    );

    eprintln!("(a) starting `true`");
    let plain = timings("plain spawn", warmup, iters, || {
        time(&mut Command::new("true"))
    })?;
    let contained = timings("through the launcher (tests)", warmup, iters, || {
        time(
            Command::new(BIN)
                .args(launcher_args(&write, true))
                .arg("true"),
        )
    })?;
    let fallback = timings("through the launcher, no namespaces", warmup, iters, || {
        time(
            Command::new(BIN)
                .args(launcher_args(&write, false))
                .arg("true"),
        )
    })?;

    eprintln!("(b) a Python package's tests");
    let package = work.join("package");
    python_package(&package, 40)?;
    let unittest = ["python3", "-m", "unittest", "-q"];
    let (mut direct, mut sandboxed) = (Vec::new(), Vec::new());
    let tests_iters = if full { iters.min(15) } else { 1 };
    for round in 0..(tests_iters + warmup.min(2)) {
        let d = time(
            Command::new(unittest[0])
                .args(&unittest[1..])
                .current_dir(&package),
        )?;
        let s = time(
            Command::new(BIN)
                .args(launcher_args(&package, true))
                .args(unittest)
                .current_dir(&package),
        )?;
        if round >= warmup.min(2) {
            direct.push(d);
            sandboxed.push(s);
        }
    }
    let direct = common::summarise("unittest, direct", direct);
    let sandboxed = common::summarise("unittest, contained", sandboxed);

    let over = contained.median.saturating_sub(plain.median);
    let over_fallback = fallback.median.saturating_sub(plain.median);
    println!();
    println!("| | median | p90 |");
    println!("|---|---|---|");
    println!(
        "| (a) plain spawn of `true` | {} ms | {} ms |",
        ms(plain.median),
        ms(plain.p90)
    );
    println!(
        "| (a) through the launcher, as an attempt's tests | {} ms | {} ms |",
        ms(contained.median),
        ms(contained.p90)
    );
    println!(
        "| (a) through the launcher, no namespaces | {} ms | {} ms |",
        ms(fallback.median),
        ms(fallback.p90)
    );
    println!(
        "| (b) `python3 -m unittest`, 40 modules, direct | {} ms | {} ms |",
        ms(direct.median),
        ms(direct.p90)
    );
    println!(
        "| (b) the same, contained | {} ms | {} ms |",
        ms(sandboxed.median),
        ms(sandboxed.p90)
    );
    println!();
    println!(
        "launcher start-up over a plain spawn: {} ms with namespaces, {} ms without (target < 5 ms): {}",
        ms(over),
        ms(over_fallback),
        met(over < Duration::from_millis(5))
    );
    println!(
        "contained / direct test run: {:.2}",
        ratio(sandboxed.median, direct.median)
    );
    Ok(())
}

fn launcher_args(write: &Path, namespaces: bool) -> Vec<String> {
    let mut args = vec![
        "sandbox-exec".to_string(),
        "--write".into(),
        write.display().to_string(),
        "--no-network".into(),
    ];
    if !namespaces {
        args.push("--no-namespaces".into());
    }
    args.push("--".into());
    args
}

fn time(command: &mut Command) -> BenchResult<Duration> {
    let started = Instant::now();
    let status = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()?;
    let elapsed = started.elapsed();
    if !status.success() {
        return Err(format!("{command:?} failed: {status}").into());
    }
    Ok(elapsed)
}

/// A package of `modules` test modules, each with a few small tests.
fn python_package(dir: &Path, modules: usize) -> BenchResult<()> {
    std::fs::create_dir_all(dir.join("calc"))?;
    std::fs::write(
        dir.join("calc/__init__.py"),
        "def add(a, b):\n    return a + b\n\ndef mul(a, b):\n    return a * b\n",
    )?;
    for k in 0..modules {
        std::fs::write(
            dir.join(format!("test_calc_{k}.py")),
            format!(
                "import unittest\nimport tempfile\nfrom calc import add, mul\n\n\
                 class Calc{k}(unittest.TestCase):\n\
                 \x20   def test_add(self):\n        self.assertEqual(add({k}, 1), {k} + 1)\n\n\
                 \x20   def test_mul(self):\n        self.assertEqual(mul({k}, 2), {k} * 2)\n\n\
                 \x20   def test_tmp(self):\n        with tempfile.TemporaryDirectory() as d:\n            self.assertTrue(d)\n"
            ),
        )?;
    }
    Ok(())
}
