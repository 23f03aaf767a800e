//! Build script: records the commit the binary is built from, for `--version`.
//!
//! Sets `GIT_ORCHESTRATE_COMMIT` (`<short id> <commit date>`, empty outside a git checkout of
//! this crate) and `GIT_ORCHESTRATE_VERSION` (`0.1.0 (<short id> <date>)`, or the plain
//! version without a commit). The script runs again when the checkout's `HEAD` or the branch
//! it points to moves, and at no other time, so a build does not go stale by itself.

// Cargo talks to a build script through its environment and its stdout: this is the one
// program of the crate that reads one and prints to the other directly.
#![allow(clippy::disallowed_methods)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let version = env!("CARGO_PKG_VERSION");
    let commit = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .and_then(|dir| commit(&dir));
    let (commit, full) = match commit {
        Some(commit) => (commit.clone(), format!("{version} ({commit})")),
        None => (String::new(), version.to_string()),
    };
    println!("cargo:rustc-env=GIT_ORCHESTRATE_COMMIT={commit}");
    println!("cargo:rustc-env=GIT_ORCHESTRATE_VERSION={full}");
}

/// `<short id> <date>` of `HEAD`, when `dir` is the top of a git work tree (a source tarball
/// unpacked inside some other repository must not take that repository's commit).
fn commit(dir: &Path) -> Option<String> {
    let top = git(dir, &["rev-parse", "--show-toplevel"])?;
    if !same_dir(Path::new(&top), dir) {
        return None;
    }
    watch_head(dir);
    let id = git(dir, &["rev-parse", "--short=9", "HEAD"])?;
    let date = git(dir, &["log", "-1", "--format=%cs", "HEAD"])?;
    Some(format!("{id} {date}"))
}

/// Ask cargo to run this script again when `HEAD` changes: the `HEAD` file of this work tree
/// (`.git/HEAD`, or `.git/worktrees/<name>/HEAD` for a linked work tree, whose `.git` is a
/// file), and the branch it names, as a loose ref or in `packed-refs`. Only existing files are
/// named: cargo reruns on every build for a missing one.
fn watch_head(dir: &Path) {
    let Some(git_dir) = git(dir, &["rev-parse", "--git-dir"]).map(|d| dir.join(d)) else {
        return;
    };
    let common = git(dir, &["rev-parse", "--git-common-dir"])
        .map(|d| dir.join(d))
        .unwrap_or_else(|| git_dir.clone());
    watch(&git_dir.join("HEAD"));
    if let Some(reference) = git(dir, &["symbolic-ref", "-q", "HEAD"]) {
        let loose = common.join(&reference);
        if loose.is_file() {
            watch(&loose);
        } else if let Some(parent) = loose.parent().filter(|p| p.is_dir()) {
            // Packed for now: the loose file appears in this directory when the branch moves.
            watch(parent);
        }
    }
    watch(&common.join("packed-refs"));
}

fn watch(path: &Path) {
    if path.exists() {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// The trimmed output of `git args` run in `dir`, if it succeeded and said something.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new("git")
        .current_dir(dir)
        .args(args)
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8(output.stdout).ok()?.trim().to_string();
    (!text.is_empty()).then_some(text)
}
