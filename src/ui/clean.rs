//! `clean` output for people: a line per issue, what was removed and what was kept.

use crate::ops::clean::{Cleaned, Kept, Removed};

/// `#7: removed ...; kept ...`, or that there was nothing to remove.
pub fn render_cleaned(issue: u64, cleaned: &Cleaned) -> String {
    let removed: Vec<String> = cleaned
        .removed
        .iter()
        .map(|removed| match removed {
            Removed::Worktree(path) => format!("worktree {}", path.display()),
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
                Removed::Worktree(PathBuf::from("/r/.git/orchestrate/worktrees/7")),
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
}
