//! The README's configuration reference is the embedded defaults, key by key: a test, so the
//! two cannot drift apart.

use std::collections::BTreeMap;

use toml::Value;

fn flatten(prefix: &str, value: &Value, out: &mut BTreeMap<String, Value>) {
    match value {
        Value::Table(table) => {
            for (key, inner) in table {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                flatten(&path, inner, out);
            }
        }
        other => {
            out.insert(prefix.to_string(), other.clone());
        }
    }
}

/// The README after each of `marks` in turn.
fn readme_after(marks: &[&str]) -> String {
    let mut rest =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for mark in marks {
        rest = rest
            .split_once(mark)
            .unwrap_or_else(|| panic!("the README has no {mark:?}"))
            .1
            .to_string();
    }
    rest
}

/// The first block fenced as `language` after each of `marks` in turn, in the README.
fn readme_block(marks: &[&str], language: &str) -> String {
    let rest = readme_after(marks);
    let fence = format!("```{language}\n");
    let block = rest
        .split_once(&fence)
        .unwrap_or_else(|| panic!("no {language} block after {marks:?}"))
        .1;
    block.split("\n```").next().unwrap().to_string()
}

/// The TOML block that follows "The defaults:" in the README's Configuration section.
fn readme_defaults() -> String {
    readme_block(&["\n## Configuration\n", "The defaults:"], "toml")
}

#[test]
fn the_readme_configuration_reference_is_the_embedded_defaults() {
    let embedded = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src/config/defaults.toml"
    ))
    .unwrap();
    let mut defaults = BTreeMap::new();
    let embedded: toml::Table = toml::from_str(&embedded).unwrap();
    flatten("", &Value::Table(embedded), &mut defaults);
    let text = readme_defaults();
    let shown_table: toml::Table = toml::from_str(&text)
        .unwrap_or_else(|e| panic!("the README's defaults are not TOML: {e}\n{text}"));
    let mut shown = BTreeMap::new();
    flatten("", &Value::Table(shown_table), &mut shown);

    // Every key the README shows is a default, with the same value.
    for (key, value) in &shown {
        assert_eq!(
            defaults.get(key),
            Some(value),
            "README shows {key} = {value}, the embedded defaults say {:?}",
            defaults.get(key)
        );
    }
    // Every default is there: in the reference, or (the HTTP providers' settings) in the
    // provider tables of the Models section.
    let providers = models_provider_tables();
    for (key, value) in &defaults {
        match shown.get(key).or_else(|| providers.get(key)) {
            Some(documented) => assert_eq!(
                documented, value,
                "the README shows {key} = {documented}, the embedded defaults say {value}"
            ),
            None => panic!("the README's configuration reference lacks {key}"),
        }
    }
}

/// The `[providers.*]` keys of the TOML blocks in the README's Models section.
fn models_provider_tables() -> BTreeMap<String, Value> {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let models = readme
        .split("\n## Models\n")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("a Models section");
    let mut out = BTreeMap::new();
    for block in models.split("```toml\n").skip(1) {
        let text = block.split("\n```").next().unwrap_or_default();
        if let Ok(table) = toml::from_str::<toml::Table>(text)
            && let Some(providers) = table.get("providers")
        {
            flatten("providers", providers, &mut out);
        }
    }
    out
}

/// The first `sh` block of the README's five-minute quickstart.
fn quickstart_block() -> String {
    readme_block(&["\n### Five minutes, no account needed\n"], "sh")
}

/// A newcomer pastes the quickstart into a shell, with `git-orchestrate` installed and nothing
/// else set up: it runs as written, and leaves what the README says it leaves.
#[test]
fn the_five_minute_quickstart_runs_as_written() {
    let machine = crate::harness::TestRepo::new();
    // "Installed": the binary on PATH under its own name, as `cargo install` puts it.
    let installed = machine.base().join("installed");
    std::fs::create_dir_all(&installed).unwrap();
    std::os::unix::fs::symlink(crate::harness::BIN, installed.join("git-orchestrate")).unwrap();
    let mut path = vec![installed];
    path.extend(std::env::split_paths(&machine.path_with_models()));

    let mut shell = std::process::Command::new("sh");
    machine.apply_env(&mut shell);
    let out = shell
        .env("PATH", std::env::join_paths(path).unwrap())
        .args(["-e", "-c", &quickstart_block()])
        .current_dir(machine.base())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the quickstart failed:\n{stdout}\n{stderr}"
    );

    // The plan, the status table and three commits, as the README says.
    assert!(
        stdout.contains("Plan for #7 Add a --verbose flag"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Nothing was changed (--dry-run)"),
        "{stdout}"
    );
    let log: Vec<&str> = stdout
        .lines()
        .filter(|l| l.contains(" orchestrate("))
        .collect();
    assert_eq!(log.len(), 3, "{stdout}");
    assert!(
        log[0].contains("orchestrate(spec): implementation spec for #7"),
        "{stdout}"
    );
    for stage in ["triage", "lld", "spec"] {
        // The status table comes after the plan, which has rows of the same names.
        let row = stdout
            .lines()
            .rev()
            .find(|l| l.split_whitespace().next() == Some(stage))
            .unwrap_or_else(|| panic!("status has no {stage} row:\n{stdout}"));
        assert!(row.contains("done"), "{row}");
    }

    // The checkout holds only what the newcomer wrote.
    let demo = machine.home.join("orchestrate-demo");
    let mut git = std::process::Command::new("git");
    machine.apply_env(&mut git);
    let status = git
        .args(["status", "--porcelain"])
        .current_dir(&demo)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&status.stdout),
        "?? .orchestrate.toml\n?? draft.sh\n?? issue.md\n?? review.sh\n"
    );
}

/// The first `sh` block after each of `marks` in turn, indented or not (in a list item), its
/// lines as written.
fn indented_block(marks: &[&str]) -> String {
    readme_after(marks)
        .lines()
        .skip_while(|l| l.trim() != "```sh")
        .skip(1)
        .take_while(|l| l.trim() != "```")
        .map(str::trim)
        .collect::<Vec<_>>()
        .join("\n")
}

/// The README's lines that install the completion scripts, pasted into a shell on a fresh
/// machine (a new HOME, nothing made yet, `git-orchestrate` installed): each runs, and the
/// scripts they install then complete subcommands and issue numbers (bash; fish where it is
/// installed, through its own git completion).
#[test]
fn the_readmes_completion_lines_work_in_a_fresh_home() {
    let machine = crate::harness::TestRepo::new();
    let installed = machine.base().join("installed");
    std::fs::create_dir_all(&installed).unwrap();
    std::os::unix::fs::symlink(crate::harness::BIN, installed.join("git-orchestrate")).unwrap();
    let mut path = vec![installed];
    path.extend(std::env::split_paths(&machine.path_with_models()));
    let path = std::env::join_paths(path).unwrap();
    let home = machine.base().join("fresh-home");
    std::fs::create_dir_all(&home).unwrap();
    let sh = |script: &str| {
        let mut shell = std::process::Command::new("sh");
        machine.apply_env(&mut shell);
        let out = shell
            .env("PATH", &path)
            .env("HOME", &home)
            .env_remove("XDG_CONFIG_HOME")
            .args(["-e", "-c", script])
            .current_dir(&machine.root)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{script}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    for (mark, file) in [
        (
            "- **bash**",
            ".local/share/bash-completion/completions/git-orchestrate",
        ),
        ("- **zsh**", ".zfunc/_git-orchestrate"),
        ("- **fish**", ".config/fish/conf.d/git-orchestrate.fish"),
    ] {
        let block = indented_block(&["**Completions.**", mark]);
        sh(&block);
        let written = std::fs::read_to_string(home.join(file))
            .unwrap_or_else(|_| panic!("{mark}: {file} was not written"));
        assert!(written.contains("git-orchestrate"), "{mark}");
    }
    // The bash script, as bash-completion would load it, completes a subcommand, and the
    // issues that have a branch in the repository it runs in.
    for branch in ["orchestrate/7-x", "orchestrate/12-y"] {
        machine.git(&["branch", branch]);
    }
    let script = home.join(".local/share/bash-completion/completions/git-orchestrate");
    let complete = |words: &str, current: &str, previous: &str| {
        let mut bash = std::process::Command::new("bash");
        machine.apply_env(&mut bash);
        let out = bash
            .env("PATH", &path)
            .env("HOME", &home)
            .args(["--norc", "-c"])
            .arg(format!(
                "source '{}'\nCOMP_WORDS=({words}); COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 )); COMP_LINE='{words}'; COMP_POINT=${{#COMP_LINE}}\n_clap_complete_git_orchestrate git-orchestrate '{current}' '{previous}'\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"",
                script.display()
            ))
            .current_dir(&machine.root)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    assert_eq!(
        complete("git-orchestrate sta", "sta", "git-orchestrate"),
        "status"
    );
    assert_eq!(
        complete("git-orchestrate approve ''", "", "approve")
            .lines()
            .filter(|l| !l.starts_with('-'))
            .collect::<Vec<_>>(),
        ["7", "12"]
    );
    // fish, where it is installed, reads the script the README put in conf.d.
    let fish = std::env::split_paths(&path)
        .map(|d| d.join("fish"))
        .find(|p| p.is_file());
    match fish {
        None => eprintln!("note: skipped the fish part: fish is not installed"),
        Some(fish) => {
            let mut cmd = std::process::Command::new(fish);
            machine.apply_env(&mut cmd);
            let out = cmd
                .env("PATH", &path)
                .env("HOME", &home)
                .env_remove("XDG_CONFIG_HOME")
                .args(["-c", "complete -C 'git orchestrate approve 1'"])
                .current_dir(&machine.root)
                .output()
                .unwrap();
            assert_eq!(
                String::from_utf8_lossy(&out.stdout),
                "12\torchestrate/12-y\n",
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}
