//! What a user installs is what was tested: the README and every other place the project
//! installs itself use the lockfile; `rust-version` is what the locked dependencies need; the
//! package carries its licences, changelog and tests, and describes itself.
//!
//! `cargo metadata` and `cargo package --list` run offline, from the registry cache a build of
//! the tests has filled (`.ci/run` also fetches the crates of every platform, so the whole
//! lockfile is read).

use std::path::Path;
use std::process::Command;

use serde_json::Value;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(file: &str) -> String {
    std::fs::read_to_string(root().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// `cargo ARGS` in the crate's directory, offline; `None` with what it said when it failed.
fn cargo(args: &[&str]) -> Result<String, String> {
    let out = Command::new(env!("CARGO"))
        .args(args)
        .arg("--offline")
        .current_dir(root())
        .output()
        .unwrap();
    if out.status.success() {
        Ok(String::from_utf8(out.stdout).unwrap())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// `1.90` or `1.90.1` as numbers, to compare.
fn version(text: &str) -> Vec<u64> {
    text.split('.')
        .map(|part| {
            part.parse()
                .unwrap_or_else(|_| panic!("not a version: {text}"))
        })
        .collect()
}

/// Every locked package's metadata: the whole lockfile when its crates are all in the cache,
/// else those of this platform, which a build of the tests has fetched.
fn metadata() -> Value {
    let all = cargo(&["metadata", "--format-version", "1", "--locked"]);
    let text = match all {
        Ok(text) => text,
        Err(why) => {
            let rustc = Command::new("rustc").arg("-vV").output().unwrap();
            let rustc = String::from_utf8(rustc.stdout).unwrap();
            let host = rustc
                .lines()
                .find_map(|l| l.strip_prefix("host: "))
                .unwrap();
            eprintln!(
                "note: not every locked crate is in cargo's cache ({}); reading those of {host} only (`cargo fetch --locked` fetches the rest)",
                why.lines().next().unwrap_or_default()
            );
            cargo(&[
                "metadata",
                "--format-version",
                "1",
                "--locked",
                "--filter-platform",
                host,
            ])
            .unwrap_or_else(|e| panic!("cargo metadata failed:\n{e}"))
        }
    };
    serde_json::from_str(&text).unwrap()
}

#[test]
fn rust_version_is_the_highest_the_locked_dependencies_declare() {
    let metadata = metadata();
    let packages = metadata["packages"].as_array().unwrap();
    let ours = packages
        .iter()
        .find(|p| p["name"] == env!("CARGO_PKG_NAME") && p["source"].is_null())
        .unwrap();
    let declared = ours["rust_version"]
        .as_str()
        .expect("Cargo.toml declares a rust-version");
    let (needed, by) = packages
        .iter()
        .filter(|p| !p["source"].is_null())
        .filter_map(|p| {
            let needs = p["rust_version"].as_str()?;
            Some((version(needs), format!("{} {}", p["name"], p["version"])))
        })
        .max()
        .unwrap();
    let needed_text = needed
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(".");
    assert_eq!(
        version(declared),
        needed,
        "Cargo.toml says rust-version = \"{declared}\", but the highest a locked dependency declares is {needed_text} ({by}): set rust-version = \"{needed_text}\""
    );
}

#[test]
fn the_package_carries_the_licences_the_changelog_and_the_manual() {
    let list = cargo(&["package", "--list", "--locked", "--allow-dirty"])
        .unwrap_or_else(|e| panic!("cargo package --list failed:\n{e}"));
    let files: Vec<&str> = list.lines().collect();
    for wanted in [
        "LICENSE-MIT",
        "LICENSE-APACHE",
        "CHANGELOG.md",
        "README.md",
        "Cargo.lock",
        "man/git-orchestrate.1",
        "completions/git-orchestrate.bash",
        "src/main.rs",
        "src/ops/init/orchestrate.yml",
        "tests/cli/main.rs",
    ] {
        assert!(
            files.contains(&wanted),
            "the package lacks {wanted}: {files:?}"
        );
    }
    for file in &files {
        assert!(
            !file.starts_with(".ci/") && !file.starts_with("target/"),
            "the package carries {file}"
        );
    }

    let mit = read("LICENSE-MIT");
    assert!(mit.starts_with("MIT License\n\nCopyright (c) the git-orchestrate authors\n"));
    assert!(mit.contains("THE SOFTWARE IS PROVIDED \"AS IS\", WITHOUT WARRANTY OF ANY KIND"));
    let apache = read("LICENSE-APACHE");
    assert!(
        apache.contains("Apache License\n                           Version 2.0, January 2004")
    );
    assert!(apache.contains("END OF TERMS AND CONDITIONS"));
}

#[test]
fn the_package_describes_itself() {
    let manifest: toml::Table = toml::from_str(&read("Cargo.toml")).unwrap();
    let package = manifest["package"].as_table().unwrap();
    assert_eq!(package["license"].as_str(), Some("MIT OR Apache-2.0"));
    for key in ["description", "repository", "homepage", "readme"] {
        let value = package.get(key).and_then(toml::Value::as_str);
        assert!(
            value.is_some_and(|v| !v.is_empty()),
            "Cargo.toml has no {key}"
        );
    }
    let keywords = package["keywords"].as_array().unwrap();
    // crates.io takes at most five, of at most 20 characters.
    assert!(!keywords.is_empty() && keywords.len() <= 5, "{keywords:?}");
    for keyword in keywords {
        assert!(keyword.as_str().unwrap().len() <= 20, "{keyword}");
    }
    let categories = package["categories"].as_array().unwrap();
    assert!(
        categories
            .iter()
            .any(|c| c.as_str() == Some("command-line-utilities")),
        "{categories:?}"
    );
}

/// Every `cargo install` the project tells someone to run, or runs, builds the locked
/// versions: the README, the changelog, CI's script and the workflow `init` writes.
#[test]
fn every_install_uses_the_lockfile() {
    let install = read("README.md")
        .split_once("\n## Install\n")
        .unwrap()
        .1
        .split("\n## ")
        .next()
        .unwrap()
        .to_string();
    assert!(
        install.contains("\ncargo install --locked --path .\n"),
        "{install}"
    );
    for file in [
        "README.md",
        "CHANGELOG.md",
        "ARCHITECTURE.md",
        ".ci/run",
        "src/ops/init/orchestrate.yml",
        "src/ops/init/install-from-source.yml",
        "tests/cli/main.rs",
    ] {
        let text = read(file);
        for line in text.lines().filter(|l| l.contains("cargo install ")) {
            let tail = line.split_once("cargo install ").unwrap().1;
            assert!(
                tail.contains("--locked"),
                "{file}: `cargo install` without --locked: {line}"
            );
        }
    }
}

/// A first build takes minutes; the README says how many on a small machine, before anyone
/// waits for it.
#[test]
fn the_readme_says_how_long_the_first_build_takes() {
    let readme = read("README.md");
    let install = readme
        .split_once("\n## Install\n")
        .unwrap()
        .1
        .split("\n## ")
        .next()
        .unwrap();
    assert!(
        install.contains("2 cores") && install.contains("minutes"),
        "{install}"
    );
}

#[test]
fn the_changelog_has_an_entry_for_this_version() {
    let changelog = read("CHANGELOG.md");
    assert!(changelog.starts_with("# Changelog\n"));
    assert!(changelog.contains("[Keep a Changelog](https://keepachangelog.com/"));
    assert!(changelog.contains("\n## [Unreleased]\n"));
    let heading = format!("\n## [{}] - ", env!("CARGO_PKG_VERSION"));
    let (_, entry) = changelog
        .split_once(&heading)
        .unwrap_or_else(|| panic!("no {heading:?} in CHANGELOG.md"));
    let date = &entry[..10];
    assert!(
        date.len() == 10
            && date.chars().enumerate().all(|(i, c)| if i == 4 || i == 7 {
                c == '-'
            } else {
                c.is_ascii_digit()
            }),
        "the entry's date is not YYYY-MM-DD: {date}"
    );
    let body = entry.split("\n## ").next().unwrap();
    assert!(body.contains("\n### Added\n"), "{body}");
    assert!(
        changelog.contains(&format!("\n[{}]: ", env!("CARGO_PKG_VERSION"))),
        "no link for the version"
    );
}
