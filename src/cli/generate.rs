//! Shell completions and manual pages, generated from the clap definition and from nowhere
//! else: `git orchestrate completions` prints these scripts, and the files committed under
//! `completions/` and `man/` are these bytes (a test regenerates them and compares).
//!
//! Both are generated from the plain package version, never the commit the binary was built
//! from, so the committed files do not go stale with every commit. The completion scripts
//! hold no list of subcommands or values: they call `git-orchestrate` back for the candidates
//! (`complete.rs`).

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
/// the function clap_complete registers for `git-orchestrate`.
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
    _clap_complete_git_orchestrate git-orchestrate "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
}
"#;

/// clap_complete's zsh script registers its function with `compdef`, which does nothing when
/// the file is autoloaded from `fpath` as `_git-orchestrate` — the way compinit loads it, and
/// the function zsh's git completion calls for `git orchestrate` (with the words from
/// `orchestrate` on, which the program reads as it reads `git-orchestrate`'s). Loaded that
/// way, it completes at once; sourced, it registers.
const ZSH_AUTOLOAD: &str = r#"if [[ "${funcstack[1]}" == _git-orchestrate ]]; then
    _clap_dynamic_completer_git_orchestrate "$@"
else
    compdef _clap_dynamic_completer_git_orchestrate git-orchestrate
fi"#;

/// The line of clap_complete's zsh script that [`ZSH_AUTOLOAD`] replaces.
const ZSH_REGISTER: &str = "compdef _clap_dynamic_completer_git_orchestrate git-orchestrate";

/// fish's git completion completes `git orchestrate ...` with `git-orchestrate`'s
/// completions, and offers `orchestrate` after `git` — except fish 3.6.0's, whose loop over
/// the `git-*` programs on `PATH` keeps the `git-` in the subcommand's name (and whose list of
/// them is empty), so `git orchestrate <TAB>` offers only files. These are the rules that loop
/// means to add; where fish adds them too, the candidates are the same. They take effect when
/// fish reads the script at start-up (`conf.d`): `completions/` is read only for
/// `git-orchestrate <TAB>`.
const FISH_GIT_RULES: &str = "
# `git orchestrate <TAB>` through fish's own git completion (fish 3.6.0 leaves this out).
complete --command git --no-files --condition '__fish_git_needs_command' --arguments orchestrate --description 'Take an issue to a pull request'
complete --command git --no-files --condition '__fish_git_using_command orchestrate' --arguments '(__fish_git_complete_custom_command orchestrate)'
";

/// The completion script for `shell`: clap_complete's registration for its dynamic
/// completion, which calls this program back for the candidates (see `complete.rs`). The
/// bash script also completes `git orchestrate` through git's own bash completion, and the
/// fish one through fish's.
pub fn completion(shell: Shell) -> String {
    use clap_complete::env::{Bash, Elvish, EnvCompleter, Fish, Powershell, Zsh};
    let adapter: &dyn EnvCompleter = match shell {
        Shell::Zsh => &Zsh,
        Shell::Fish => &Fish,
        Shell::Elvish => &Elvish,
        Shell::PowerShell => &Powershell,
        // `Shell` may gain shells; bash is the script the others are checked against.
        _ => &Bash,
    };
    let mut script = Vec::new();
    // Writing into a Vec cannot fail.
    let _ =
        adapter.write_registration(super::complete::VAR, PROGRAM, PROGRAM, PROGRAM, &mut script);
    let mut script = String::from_utf8_lossy(&script).into_owned();
    match shell {
        Shell::Bash => script.push_str(GIT_BASH_SHIM),
        Shell::Zsh => script = script.replace(ZSH_REGISTER, ZSH_AUTOLOAD),
        Shell::Fish => script.push_str(FISH_GIT_RULES),
        _ => {}
    }
    script
}

/// The completion script for the shell named `name` (`bash`, `zsh`, ...), if it is one.
pub fn script_for(name: &str) -> Option<String> {
    SHELLS
        .into_iter()
        .find(|shell| shell.to_string() == name)
        .map(completion)
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
    let root = command.get_name() == PROGRAM;
    let page = finish_page(&String::from_utf8_lossy(&roff), root);
    pages.push((man.get_filename(), page.into_bytes()));
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        add_pages(sub, pages);
    }
}

/// What clap_mangen leaves out or gets wrong: the `-c` synopsis without its value (`[-c ]`),
/// and the sections a manual page has — EXIT STATUS on every page; ENVIRONMENT, FILES and
/// EXAMPLES on the main one; SEE ALSO — placed before VERSION.
fn finish_page(roff: &str, root: bool) -> String {
    let roff = roff.replace(r"[\fB\-c \fR]", r"[\fB\-c\fR \fIKEY=VALUE\fR]");
    let mut extra = String::from(EXIT_STATUS);
    if root {
        extra.push_str(ROOT_SECTIONS);
        extra.push_str(ROOT_SEE_ALSO);
    } else {
        extra.push_str(SUB_SEE_ALSO);
    }
    match roff.find(".SH VERSION") {
        Some(at) => format!("{}{extra}{}", &roff[..at], &roff[at..]),
        None => format!("{roff}{extra}"),
    }
}

const EXIT_STATUS: &str = r#".SH "EXIT STATUS"
.TP
\fB0\fR
Done, or stopped where asked (\fB\-\-until\fR, \fB\-\-dry\-run\fR).
.TP
\fB1\fR
An error: bad input, the configuration, git, or a provider after its retries. Nothing paid for is lost.
.TP
\fB2\fR
A usage error.
.TP
\fB3\fR
A stage blocked. Its work is committed on the issue branch with the verdict blocked; \fBgit orchestrate status\fR says why and what to do.
.TP
\fB4\fR
Waiting at a gate for a person: \fBgit orchestrate approve\fR or \fBreject\fR.
.TP
\fB130\fR
Interrupted (Ctrl\-C). The branch is at its last commit and the lock is released.
"#;

const ROOT_SECTIONS: &str = r#".SH ENVIRONMENT
.TP
\fBGITHUB_TOKEN\fR, \fBGH_TOKEN\fR
The GitHub token; without them, the GitHub CLI's login (\fBgh auth token\fR).
.TP
\fBANTHROPIC_API_KEY\fR, \fBGEMINI_API_KEY\fR, \fBGOOGLE_API_KEY\fR, \fBOPENAI_API_KEY\fR
Model keys. Keys are read from the environment only, never from files; \fBproviders.NAME.api_key_env\fR names another variable.
.TP
\fBGIT_ORCHESTRATE_LOG\fR
A tracing filter for diagnostics (\fB\-v\fR turns them on).
.TP
\fBNO_COLOR\fR
No colour. git's \fBcolor.orchestrate\fR and \fBcolor.ui\fR settings are honoured too.
.TP
\fBXDG_CONFIG_HOME\fR
Where the user's configuration is looked for.
.SH FILES
.TP
\fB.orchestrate.toml\fR
The repository's configuration (\fBgit orchestrate init\fR writes one).
.TP
\fB$XDG_CONFIG_HOME/git\-orchestrate/config.toml\fR
The user's configuration, below the repository's.
.TP
\fB.orchestrate/prompts/\fR
Prompt templates that override the built\-in ones, by name.
.TP
\fB<git\-common\-dir>/orchestrate/\fR
Local state: the issues' worktrees, locks, transcripts, work saved under recovered/, caches. Removing it loses nothing the branches hold; \fBgit orchestrate clean\fR removes it per issue.
.SH EXAMPLES
.TP
\fBgit orchestrate 42\fR
Take GitHub issue 42 through every stage to a pull request, stopping at the gate before it.
.TP
\fBgit orchestrate 7 \-\-issue\-file issue.md \-\-until spec\fR
The design documents only, from an issue written in a file.
.TP
\fBgit orchestrate run 12 13 14 \-j 2\fR
Three issues, two at a time, each in its own worktree.
.TP
\fBgit orchestrate status\fR
Where every issue stands, read from the branches.
.TP
\fBgit orchestrate approve 42\fR
Pass the gate issue 42 waits at; the next run goes on.
"#;

const ROOT_SEE_ALSO: &str = r#".SH "SEE ALSO"
\fBgit\fR(1), \fBgit\-worktree\fR(1), \fBgit\-interpret\-trailers\fR(1), \fBgit\-log\fR(1); the README of git\-orchestrate.
"#;

const SUB_SEE_ALSO: &str = r#".SH "SEE ALSO"
\fBgit\-orchestrate\fR(1)
"#;

/// The clap definition with the plain package version.
pub(super) fn command() -> Command {
    Cli::command().version(VERSION)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_have_the_sections_a_manual_page_has_and_the_c_synopsis_its_value() {
        let pages = man_pages();
        let text = |name: &str| {
            let (_, roff) = pages.iter().find(|(n, _)| n == name).unwrap();
            String::from_utf8_lossy(roff).into_owned()
        };
        let root = text("git-orchestrate.1");
        let mut last = 0;
        for section in [
            ".SH \"EXIT STATUS\"",
            ".SH ENVIRONMENT",
            ".SH FILES",
            ".SH EXAMPLES",
            ".SH \"SEE ALSO\"",
            ".SH VERSION",
        ] {
            let at = root
                .find(section)
                .unwrap_or_else(|| panic!("{section} missing"));
            assert!(at > last, "{section} out of order");
            last = at;
        }
        assert!(root.contains(r"[\fB\-c\fR \fIKEY=VALUE\fR]"));
        assert!(!root.contains(r"[\fB\-c \fR]"));
        let status = text("git-orchestrate-status.1");
        assert!(status.contains(".SH \"EXIT STATUS\""));
        assert!(status.contains(".SH \"SEE ALSO\"\n\\fBgit\\-orchestrate\\fR(1)"));
        assert!(!status.contains(".SH EXAMPLES"));
    }

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
        assert!(
            script.contains("_clap_complete_git_orchestrate() {"),
            "{script}"
        );
        assert!(script.contains("\n_git_orchestrate() {"), "{script}");
        assert!(
            script.contains("-F _clap_complete_git_orchestrate git-orchestrate\n"),
            "{script}"
        );
        assert!(!completion(Shell::Zsh).contains("\n_git_orchestrate() {"));
    }

    #[test]
    fn every_script_calls_the_program_on_path_with_the_programs_own_variable() {
        for shell in SHELLS {
            let script = completion(shell);
            assert!(
                script.contains(super::super::complete::VAR),
                "{shell}: {script}"
            );
            // Not the path of the binary that printed it: the committed files are the same
            // everywhere, and the program is found where it is installed.
            assert!(!script.contains("/target/"), "{shell}: {script}");
            assert!(script.contains("git-orchestrate"), "{shell}");
            assert_eq!(script_for(&shell.to_string()), Some(script));
        }
        assert_eq!(script_for("tcsh"), None);
    }

    #[test]
    fn the_zsh_script_completes_when_autoloaded_and_registers_when_sourced() {
        let script = completion(Shell::Zsh);
        assert!(script.starts_with("#compdef git-orchestrate\n"), "{script}");
        assert!(script.contains(ZSH_AUTOLOAD), "{script}");
        assert_eq!(script.matches(ZSH_REGISTER).count(), 1, "{script}");
    }

    #[test]
    fn the_fish_script_adds_the_git_subcommand_rules() {
        let script = completion(Shell::Fish);
        assert!(script.contains("--command git-orchestrate"), "{script}");
        assert!(script.ends_with(FISH_GIT_RULES), "{script}");
    }
}
