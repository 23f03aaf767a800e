//! `git orchestrate install-docs [--prefix DIR]`: the manual pages and completion scripts,
//! written where `man` and the shells find them without configuration.
//!
//! Without `--prefix`, the pages go to `share/man/man1` beside the directory this program is
//! installed in (`~/.cargo/bin` → `~/.cargo/share/man/man1`): man-db looks in
//! `<dir>/../share/man` for every `<dir>` on `PATH`, so `git orchestrate --help` (which git
//! turns into `man git-orchestrate`) then finds them. The scripts go to the user's own
//! directories that bash-completion and fish load from on their own, and zsh's beside the pages
//! (zsh reads only the directories on `fpath`, so the output says what to add). fish's goes to
//! `conf.d`, which fish reads at start-up, not to `completions/`, which it reads only for
//! `git-orchestrate <TAB>`: the script also completes `git orchestrate <TAB>`, which fish 3.6.0's
//! own git completion leaves out. With `--prefix DIR`, everything goes below `DIR/share`, as a
//! package would install it.

use std::path::{Path, PathBuf};

use clap_complete::Shell;

use super::{CliError, Exit, generate};
use crate::env::Env;
use crate::ui::Ui;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Install below DIR/share (man/man1, bash-completion/completions, zsh/site-functions,
    /// fish/vendor_conf.d) instead of beside this program and in your own directories.
    #[arg(long, value_name = "DIR")]
    prefix: Option<PathBuf>,
}

/// Where each file goes.
#[derive(Debug, PartialEq, Eq)]
struct Places {
    man: PathBuf,
    bash: PathBuf,
    zsh: PathBuf,
    fish: PathBuf,
}

impl Places {
    /// Below `prefix/share`, as a package installs them.
    fn under(prefix: &Path) -> Places {
        let share = prefix.join("share");
        Places {
            man: share.join("man").join("man1"),
            bash: share.join("bash-completion").join("completions"),
            zsh: share.join("zsh").join("site-functions"),
            fish: share.join("fish").join("vendor_conf.d"),
        }
    }

    /// Beside the program installed at `exe` (`<bin>/../share/man/man1`), and in the user's
    /// directories the shells load from by themselves.
    fn for_user(exe: &Path, env: &Env) -> Option<Places> {
        let prefix = exe.parent()?.parent()?;
        let home = env.non_empty("HOME").map(PathBuf::from)?;
        let data = env
            .non_empty("XDG_DATA_HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| home.join(".local").join("share"));
        let config = env
            .non_empty("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| home.join(".config"));
        let share = prefix.join("share");
        Some(Places {
            man: share.join("man").join("man1"),
            bash: data.join("bash-completion").join("completions"),
            zsh: share.join("zsh").join("site-functions"),
            fish: config.join("fish").join("conf.d"),
        })
    }
}

pub fn run(args: Args, env: &Env, ui: &Ui) -> Result<Exit, CliError> {
    let places = match &args.prefix {
        Some(prefix) => Places::under(prefix),
        None => {
            let exe = std::env::current_exe().map_err(|e| {
                CliError::new(
                    Exit::Error,
                    format!("cannot tell where this program is installed: {e}"),
                )
                .hint("name where to install: git orchestrate install-docs --prefix ~/.local")
            })?;
            Places::for_user(&exe, env).ok_or_else(|| {
                CliError::new(
                    Exit::Error,
                    "cannot tell where to install: HOME is not set, or the program is not in a bin directory",
                )
                .hint("name where to install: git orchestrate install-docs --prefix ~/.local")
            })?
        }
    };
    let pages = generate::man_pages();
    for (name, roff) in &pages {
        write(&places.man.join(name), roff)?;
    }
    ui.status(&format!(
        "manual pages: {} in {}",
        pages.len(),
        places.man.display()
    ));
    for (shell, dir) in [
        (Shell::Bash, &places.bash),
        (Shell::Zsh, &places.zsh),
        (Shell::Fish, &places.fish),
    ] {
        let file = dir.join(match shell {
            // bash-completion loads a command's script by the command's name.
            Shell::Bash => "git-orchestrate".to_string(),
            _ => generate::completion_file_name(shell),
        });
        write(&file, generate::completion(shell).as_bytes())?;
        ui.status(&format!("{shell} completions: {}", file.display()));
    }
    ui.status(&format!(
        "zsh reads completions only from fpath: add `fpath=({} $fpath)` to ~/.zshrc before compinit",
        places.zsh.display()
    ));
    if let Some(bin) = places
        .man
        .parent()
        .and_then(Path::parent)
        .and_then(Path::parent)
    {
        ui.status(&format!(
            "man finds the pages when {} is on PATH (or through MANPATH)",
            bin.join("bin").display()
        ));
    }
    Ok(Exit::Ok)
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    let failed = |e: std::io::Error| {
        CliError::new(
            Exit::Error,
            format!("could not write {}: {e}", path.display()),
        )
        .hint("choose a directory you can write to: --prefix DIR")
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(failed)?;
    }
    std::fs::write(path, bytes).map_err(failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pages_go_beside_the_program_and_the_scripts_to_the_users_directories() {
        let env = Env::from_pairs([("HOME", "/home/ada")]);
        let places =
            Places::for_user(Path::new("/home/ada/.cargo/bin/git-orchestrate"), &env).unwrap();
        assert_eq!(
            places,
            Places {
                man: "/home/ada/.cargo/share/man/man1".into(),
                bash: "/home/ada/.local/share/bash-completion/completions".into(),
                zsh: "/home/ada/.cargo/share/zsh/site-functions".into(),
                fish: "/home/ada/.config/fish/conf.d".into(),
            }
        );
        let env = Env::from_pairs([
            ("HOME", "/home/ada"),
            ("XDG_DATA_HOME", "/d"),
            ("XDG_CONFIG_HOME", "/c"),
        ]);
        let places = Places::for_user(Path::new("/usr/local/bin/git-orchestrate"), &env).unwrap();
        assert_eq!(places.man, PathBuf::from("/usr/local/share/man/man1"));
        assert_eq!(places.bash, PathBuf::from("/d/bash-completion/completions"));
        assert_eq!(places.fish, PathBuf::from("/c/fish/conf.d"));
        assert!(Places::for_user(Path::new("/x"), &Env::default()).is_none());
    }
}
