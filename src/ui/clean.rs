//! `clean` output for people: a line per issue, what was removed and what was kept, and a
//! warning for changes removed unsaved.

use crate::ops::clean::{Cleaned, Kept, Removed, WorktreeWork};
use crate::pipeline::others_commits;

/// `#7: removed ...; kept ...`, or that there was nothing to remove.
pub fn render_cleaned(issue: u64, cleaned: &Cleaned) -> String {
    let removed: Vec<String> = cleaned
        .removed
        .iter()
        .map(|removed| match removed {
            Removed::Worktree { path, work } => {
                format!("worktree {}{}", path.display(), worktree_work(work))
            }
            Removed::Transcripts(_) => "transcripts".into(),
            Removed::Recovered(path) => format!("saved work {}", path.display()),
            Removed::StaleLock { pid: Some(pid) } => {
                format!("the lock left by a run that died (pid {pid})")
            }
            Removed::StaleLock { pid: None } => "the lock left by a run that died".into(),
            Removed::Branch { name, tip } => format!("branch {name} (was {})", tip.short()),
        })
        .collect();
    let kept: Vec<String> = cleaned
        .kept
        .iter()
        .map(|kept| match kept {
            Kept::Branch(name) => format!("branch {name} (--branch deletes it)"),
            Kept::OthersBranch { name, commits } => format!(
                "branch {name} ({}; only `git orchestrate clean {issue} --branch --force` deletes it)",
                others_commits(commits)
            ),
            Kept::Recovered(path) => format!(
                "work saved from runs in {} (--force deletes it)",
                path.display()
            ),
        })
        .collect();
    let mut line = format!("#{issue}: ");
    if removed.is_empty() {
        line.push_str("nothing to remove");
    } else {
        line.push_str(&format!("removed {}", removed.join(", ")));
    }
    if !kept.is_empty() {
        line.push_str(&format!("; kept {}", kept.join(", ")));
    }
    line
}

/// What became of the changes in a removed worktree, as said after its path.
fn worktree_work(work: &WorktreeWork) -> String {
    match work {
        WorktreeWork::None => String::new(),
        WorktreeWork::Saved {
            path,
            files,
            redacted,
        } => {
            let files = match files {
                1 => "1 file".to_string(),
                n => format!("{n} files"),
            };
            let secrets = match redacted.is_empty() {
                true => String::new(),
                false => {
                    let places: Vec<&str> = redacted.iter().map(|r| r.place.as_str()).collect();
                    format!(", secrets removed from {}", places.join(", "))
                }
            };
            format!(
                " (its changes no commit had, {files}, are saved in {}{secrets})",
                path.display()
            )
        }
        WorktreeWork::Lost { .. } => " (its changes no commit had were not saved)".into(),
    }
}

/// A warning for each worktree removed with changes that could not be saved (`--force`).
pub fn render_lost_work(issue: u64, cleaned: &Cleaned) -> Vec<String> {
    cleaned
        .removed
        .iter()
        .filter_map(|removed| match removed {
            Removed::Worktree {
                path,
                work: WorktreeWork::Lost { reason },
            } => Some(format!(
                "#{issue}: the worktree {} was removed with --force although its changes no commit had could not be saved ({reason}); they are gone",
                path.display()
            )),
            _ => None,
        })
        .collect()
}

/// `clean --all` when no issue has anything to clean.
pub fn render_nothing_to_clean() -> &'static str {
    "nothing to clean: no issue has a worktree or local state"
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::git::ObjectId;

    #[test]
    fn one_line_says_what_went_and_what_stayed() {
        let cleaned = Cleaned {
            removed: vec![
                Removed::Worktree {
                    path: PathBuf::from("/r/.git/orchestrate/worktrees/7"),
                    work: WorktreeWork::None,
                },
                Removed::Transcripts(PathBuf::from("/r/.git/orchestrate/transcripts/7")),
                Removed::Branch {
                    name: "orchestrate/7-x".into(),
                    tip: ObjectId::parse("0123456789abcdef0123456789abcdef01234567").unwrap(),
                },
            ],
            kept: vec![Kept::Recovered(PathBuf::from(
                "/r/.git/orchestrate/recovered/7",
            ))],
        };
        assert_eq!(
            render_cleaned(7, &cleaned),
            "#7: removed worktree /r/.git/orchestrate/worktrees/7, transcripts, branch orchestrate/7-x (was 0123456); kept work saved from runs in /r/.git/orchestrate/recovered/7 (--force deletes it)"
        );
        assert_eq!(
            render_cleaned(9, &Cleaned::default()),
            "#9: nothing to remove"
        );
    }

    #[test]
    fn the_worktrees_changes_and_a_persons_branch_are_said() {
        let id = ObjectId::parse("0123456789abcdef0123456789abcdef01234567").unwrap();
        let saved = Cleaned {
            removed: vec![Removed::Worktree {
                path: PathBuf::from("/r/w/7"),
                work: WorktreeWork::Saved {
                    path: PathBuf::from("/r/recovered/7/clean-worktree-1"),
                    files: 2,
                    redacted: vec![crate::pipeline::events::Redaction {
                        place: ".env".into(),
                        found: vec!["API_TOKEN".into()],
                    }],
                },
            }],
            kept: vec![Kept::OthersBranch {
                name: "orchestrate/7-mine".into(),
                commits: vec![(id, "My notes".into())],
            }],
        };
        assert_eq!(
            render_cleaned(7, &saved),
            "#7: removed worktree /r/w/7 (its changes no commit had, 2 files, are saved in /r/recovered/7/clean-worktree-1, secrets removed from .env); kept branch orchestrate/7-mine (it has 1 commit git orchestrate did not make (no Orchestrate-* trailer): 0123456 My notes; only `git orchestrate clean 7 --branch --force` deletes it)"
        );
        assert!(render_lost_work(7, &saved).is_empty());

        let lost = Cleaned {
            removed: vec![Removed::Worktree {
                path: PathBuf::from("/r/w/7"),
                work: WorktreeWork::Lost {
                    reason: "no room".into(),
                },
            }],
            kept: Vec::new(),
        };
        assert_eq!(
            render_cleaned(7, &lost),
            "#7: removed worktree /r/w/7 (its changes no commit had were not saved)"
        );
        assert_eq!(
            render_lost_work(7, &lost),
            vec![
                "#7: the worktree /r/w/7 was removed with --force although its changes no commit had could not be saved (no room); they are gone"
            ]
        );
    }
}
