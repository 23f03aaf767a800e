//! Messages that must not mislead: what the tool says a user should do, or what it found,
//! matches the machine and what a run would do.

use crate::harness::TestRepo;
use crate::vendors::closed_port;

/// Run `init` with git, sh, cat and the fake `programs` on PATH, no keys, and no Ollama.
fn init_with_programs(repo: &TestRepo, programs: &[&str]) -> crate::harness::Run {
    let dir = repo.base().join(format!("programs-{}", programs.join("-")));
    std::fs::create_dir_all(&dir).unwrap();
    for program in programs {
        crate::harness::write_executable(&dir.join(program), "#!/bin/sh\nexit 0\n");
    }
    let user = repo.home.join(".config/git-orchestrate");
    std::fs::create_dir_all(&user).unwrap();
    std::fs::write(
        user.join("config.toml"),
        format!(
            "[providers.ollama]\nbase_url = \"http://127.0.0.1:{}\"\n",
            closed_port()
        ),
    )
    .unwrap();
    let path = std::env::join_paths([dir, repo.minimal_path()]).unwrap();
    repo.run_env(&[("PATH", path.as_os_str())], &["init", "--force"])
}

#[test]
fn init_writes_python3_for_pytest_where_python_is_absent() {
    let repo = TestRepo::new();
    repo.write("pyproject.toml", "[project]\nname = \"widget\"\n");
    repo.git(&["add", "pyproject.toml"]);
    repo.git(&["commit", "-q", "-m", "python project"]);

    init_with_programs(&repo, &["python3"]).expect_code(0);
    let written = repo.read(".orchestrate.toml");
    assert!(
        written.contains("test_command = \"python3 -m pytest\""),
        "{written}"
    );

    init_with_programs(&repo, &["python", "python3"]).expect_code(0);
    let written = repo.read(".orchestrate.toml");
    assert!(
        written.contains("test_command = \"python -m pytest\""),
        "{written}"
    );
}

#[test]
fn github_out_of_reach_is_one_plain_sentence_with_the_host() {
    let (repo, _) = crate::implement::impl_repo("true", "");
    repo.git(&[
        "remote",
        "add",
        "origin",
        "https://github.com/acme/widgets.git",
    ]);
    let api = format!("github.api_url=http://127.0.0.1:{}", closed_port());
    let run = repo.run_env(
        &[("GITHUB_TOKEN", "ghp_0123456789abcdefghijklmnopqrstuvwxyzAB")],
        &["-c", &api, "40", "--until", "triage"],
    );
    run.expect_code(1)
        .stderr_has("could not reach GitHub for")
        .stderr_has("nothing accepted a connection at 127.0.0.1");
    for noise in ["Service Error", "Reqwest Error", "hyper"] {
        assert!(!run.stderr.contains(noise), "{noise}: {}", run.stderr);
    }
}

#[test]
fn a_slip_of_a_command_is_suggested_and_usage_errors_advise_dash_h() {
    let repo = TestRepo::new();
    let run = repo.run(&["stauts"]);
    run.expect_code(2);
    insta::assert_snapshot!(run.stderr, @"
        error: invalid value 'stauts' for '[ISSUE]...': `stauts` is not an issue, nor a command; did you mean `status`?

        For more information, try '-h'.
        ");
    // Under git, --help opens the manual, which may not be installed: the advice names -h.
    let run = repo.run(&["--no-such-flag"]);
    run.expect_code(2)
        .stderr_has("For more information, try '-h'.");
    assert!(!run.stderr.contains("--help"), "{}", run.stderr);
}

#[test]
fn install_docs_puts_pages_where_man_finds_them_and_scripts_where_shells_load_them() {
    let repo = TestRepo::new();
    let prefix = repo.base().join("prefix");
    std::fs::create_dir_all(prefix.join("bin")).unwrap();
    let run = repo.run(&["install-docs", "--prefix", prefix.to_str().unwrap()]);
    run.expect_code(0)
        .stderr_has(&format!(
            "manual pages: 12 in {}",
            prefix.join("share/man/man1").display()
        ))
        .stderr_has("zsh reads completions only from fpath");
    for file in [
        "share/man/man1/git-orchestrate.1",
        "share/man/man1/git-orchestrate-status.1",
        "share/bash-completion/completions/git-orchestrate",
        "share/zsh/site-functions/_git-orchestrate",
        "share/fish/vendor_conf.d/git-orchestrate.fish",
    ] {
        assert!(prefix.join(file).is_file(), "{file}");
    }
    // The scripts are those `completions` prints (which generated.rs runs in the shells).
    for (shell, file) in [
        ("bash", "share/bash-completion/completions/git-orchestrate"),
        ("zsh", "share/zsh/site-functions/_git-orchestrate"),
        ("fish", "share/fish/vendor_conf.d/git-orchestrate.fish"),
    ] {
        let printed = repo.run(&["completions", shell]);
        assert_eq!(
            std::fs::read_to_string(prefix.join(file)).unwrap(),
            printed.stdout,
            "{shell}"
        );
    }
    // man-db looks in <dir>/../share/man for every <dir> on PATH: with the prefix's bin on
    // PATH, `man git-orchestrate` (what `git orchestrate --help` runs) finds the page.
    let man = std::env::split_paths(&repo.path_with_models())
        .map(|dir| dir.join("man"))
        .find(|p| p.is_file());
    if let Some(man) = man {
        let mut cmd = std::process::Command::new(man);
        repo.apply_env(&mut cmd);
        let path = std::env::join_paths([prefix.join("bin"), repo.minimal_path()]).unwrap();
        let out = cmd
            .env("PATH", path)
            .env_remove("MANPATH")
            .args(["-w", "git-orchestrate"])
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            prefix
                .join("share/man/man1/git-orchestrate.1")
                .to_str()
                .unwrap()
        );
    } else {
        eprintln!("note: no man program here: where man looks was not checked");
    }

    // A place that cannot be written is said, with what to do.
    let blocked = repo.base().join("blocked");
    std::fs::write(&blocked, "a file, not a directory").unwrap();
    repo.run(&["install-docs", "--prefix", blocked.to_str().unwrap()])
        .expect_code(1)
        .stderr_has("could not write")
        .stderr_has("hint: choose a directory you can write to: --prefix DIR");
}
