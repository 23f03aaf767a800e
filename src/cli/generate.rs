//! Shell completions and manual pages, generated from the clap definition and from nowhere
//! else: `git orchestrate completions` prints these scripts, and the files committed under
//! `completions/` and `man/` are these bytes (a test regenerates them and compares).
//!
//! Both are generated from the plain package version, never the commit the binary was built
//! from, so the committed files do not go stale with every commit.

use clap::{Command, CommandFactory};
use clap_complete::{Generator, Shell};
use clap_mangen::Man;

use super::Cli;

/// The program the scripts complete and the pages are named after. `git orchestrate` runs it,
/// and `git orchestrate --help` opens `git-orchestrate(1)`.
const PROGRAM: &str = "git-orchestrate";

/// The package version, without the commit `--version` adds.
const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Every shell a script is generated for.
pub const SHELLS: [Shell; 5] = [
    Shell::Bash,
    Shell::Zsh,
    Shell::Fish,
    Shell::Elvish,
    Shell::PowerShell,
];

/// git's bash completion completes `git orchestrate ...` by calling `_git_orchestrate`, if
/// such a function exists (and first asks bash-completion to load `git-orchestrate`'s file).
/// It hands over the words from `orchestrate` on, as if `git-orchestrate` had been typed, to
/// the function clap generates for `git-orchestrate`.
const GIT_BASH_SHIM: &str = r#"
# `git orchestrate <TAB>`: git's completion calls `_git_orchestrate`. Complete the words
# after `orchestrate` as if `git-orchestrate` had been typed.
_git_orchestrate() {
    local i
    for (( i = 1; i < COMP_CWORD; i++ )); do
        [[ ${COMP_WORDS[i]} == orchestrate ]] && break
    done
    (( i < COMP_CWORD )) || return 0
    local words_after=(git-orchestrate "${COMP_WORDS[@]:i+1}")
    local cword_after=$(( COMP_CWORD - i ))
    local COMP_WORDS=("${words_after[@]}")
    local COMP_CWORD=$cword_after
    # git completes with `-o nospace` and adds its own spaces; these words need one.
    compopt +o nospace 2>/dev/null
    _git__orchestrate git-orchestrate "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
}
"#;

/// The completion script for `shell`. The bash script also completes `git orchestrate`
/// through git's own bash completion.
pub fn completion(shell: Shell) -> String {
    let mut command = command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, PROGRAM, &mut script);
    let mut script = String::from_utf8_lossy(&script).into_owned();
    if shell == Shell::Bash {
        script = fix_bash_subcommand_labels(&script);
        script.push_str(GIT_BASH_SHIM);
    }
    script
}

/// clap_complete's bash script names the state after `git-orchestrate status` as
/// `git__orchestrate__subcmd__status` where it finds the subcommand, but labels the `case` arm
/// that completes its options `git__subcmd__orchestrate__subcmd__status` (the program name's
/// hyphen escaped as a subcommand separator), so no option after a subcommand would ever
/// complete. Spell the arms as the lookup does; once clap_complete agrees with itself this
/// changes nothing.
fn fix_bash_subcommand_labels(script: &str) -> String {
    let separator = "__subcmd__";
    let wrong = format!("{}{separator}", PROGRAM.replace('-', separator));
    let right = format!("{}{separator}", PROGRAM.replace('-', "__"));
    script.replace(&wrong, &right)
}

/// The file name of `shell`'s script, as that shell looks for it (`_git-orchestrate` for
/// zsh's `fpath`, `git-orchestrate.fish`, ...).
pub fn completion_file_name(shell: Shell) -> String {
    shell.file_name(PROGRAM)
}

/// The manual pages, as (file name, roff source): `git-orchestrate.1`, then one page per
/// subcommand (`git-orchestrate-status.1`, ...), which the main page lists under
/// SUBCOMMANDS — the way git's own pages are split.
pub fn man_pages() -> Vec<(String, Vec<u8>)> {
    let mut root = command().disable_help_subcommand(true);
    root.build();
    let mut pages = Vec::new();
    add_pages(&root, &mut pages);
    pages
}

fn add_pages(command: &Command, pages: &mut Vec<(String, Vec<u8>)>) {
    // No date: a page dated by the build would differ from the committed one every day.
    let man = Man::new(command.clone()).source(format!("{PROGRAM} {VERSION}"));
    let mut roff = Vec::new();
    // Rendering into a Vec cannot fail: its writes always succeed.
    let _ = man.render(&mut roff);
    pages.push((man.get_filename(), roff));
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        add_pages(sub, pages);
    }
}

/// The clap definition with the plain package version.
fn command() -> Command {
    Cli::command().version(VERSION)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_named_after_the_program_and_its_subcommands() {
        let names: Vec<String> = man_pages().into_iter().map(|(name, _)| name).collect();
        assert_eq!(names[0], "git-orchestrate.1");
        assert!(names.contains(&"git-orchestrate-status.1".to_string()));
        assert!(!names.iter().any(|n| n.contains("help")), "{names:?}");
    }

    #[test]
    fn pages_carry_the_package_version_and_no_commit() {
        let (_, page) = &man_pages()[0];
        let page = String::from_utf8_lossy(page);
        let title = page.lines().find(|l| l.starts_with(".TH")).unwrap();
        assert_eq!(
            title,
            format!(".TH git-orchestrate 1  \"git-orchestrate {VERSION}\" ")
        );
        assert!(page.contains(&format!("v{VERSION}")), "{page}");
        let commit = env!("GIT_ORCHESTRATE_COMMIT");
        assert!(commit.is_empty() || !page.contains(commit), "{page}");
    }

    #[test]
    fn the_bash_script_defines_what_git_calls() {
        let script = completion(Shell::Bash);
        assert!(script.contains("_git__orchestrate() {"), "{script}");
        assert!(script.contains("_git_orchestrate() {"), "{script}");
        assert!(script.contains("complete -F _git__orchestrate"), "{script}");
        assert!(!completion(Shell::Zsh).contains("_git_orchestrate() {"));
        // Every state the lookup reaches has its arm.
        assert!(script.contains("cmd=\"git__orchestrate__subcmd__status\""));
        assert!(script.contains("        git__orchestrate__subcmd__status)"));
        assert!(!script.contains("git__subcmd__orchestrate"));
    }
}
