//! Why the stage blocked, in the words every place uses: the commit message, the report,
//! the `blocked` outcome (so `--json`, the terminal and the issue comment), and `status`,
//! which reads the commit message. Each reason says what happened with its numbers — the
//! tests still fail, no reply could be applied, the agent timed out, the implementer
//! repeated itself, no proving test — never "the tests fail" when no test ran.

use std::time::Duration;

use crate::pipeline::events::{AttemptResult, ContainedChange, RejectShape};

/// How attempts ended, grouped as the blocked reason counts them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    TestsFailed,
    NotApplied,
    AgentTimedOut,
    AgentFailed,
    NoChange,
    NotTheImplementation,
    OriginalsFail,
    NoProof,
    Contained,
}

fn kind(result: &AttemptResult) -> Option<Kind> {
    Some(match result {
        AttemptResult::Passed => return None,
        AttemptResult::TestsFailed | AttemptResult::Stagnated => Kind::TestsFailed,
        AttemptResult::EditsRejected { .. } => Kind::NotApplied,
        AttemptResult::AgentTimedOut { .. } => Kind::AgentTimedOut,
        AttemptResult::AgentFailed { .. } => Kind::AgentFailed,
        AttemptResult::NoChange | AttemptResult::Repeated => Kind::NoChange,
        AttemptResult::NotTheImplementation { .. } => Kind::NotTheImplementation,
        AttemptResult::OriginalTestsFail { .. } => Kind::OriginalsFail,
        AttemptResult::NoProof { .. } => Kind::NoProof,
        AttemptResult::Contained { .. } => Kind::Contained,
    })
}

/// The reason after the last attempt allowed: what the last attempt ran into, with the
/// numbers; when the attempts ended in different ways, how many ended each way.
pub fn exhausted(results: &[AttemptResult], retries: u32) -> String {
    let n = results.len();
    let kinds: Vec<Kind> = results.iter().filter_map(kind).collect();
    let Some(last) = kinds.last().copied() else {
        return format!("no attempt passed after {}", attempts(n));
    };
    let alike = kinds.iter().all(|k| *k == last);
    let head = match last {
        Kind::TestsFailed => format!(
            "the tests still fail after {} (stages.impl.max_test_retries = {retries})",
            attempts(n)
        ),
        Kind::NotApplied => {
            let shapes = shapes(results);
            if alike {
                format!("no reply could be applied ({}: {shapes})", attempts(n))
            } else {
                format!("the last reply could not be applied ({shapes})")
            }
        }
        Kind::AgentTimedOut => {
            let times = kinds.iter().filter(|k| **k == Kind::AgentTimedOut).count();
            let timeout = results.iter().rev().find_map(|r| match r {
                AttemptResult::AgentTimedOut { timeout_secs } => Some(*timeout_secs),
                _ => None,
            });
            format!(
                "the agent timed out {} ({})",
                times_word(times),
                humantime::format_duration(Duration::from_secs(timeout.unwrap_or(0)))
            )
        }
        Kind::AgentFailed => {
            let times = kinds.iter().filter(|k| **k == Kind::AgentFailed).count();
            let status = results.iter().rev().find_map(|r| match r {
                AttemptResult::AgentFailed { status, .. } => Some(status.as_str()),
                _ => None,
            });
            format!(
                "the agent failed {} ({})",
                times_word(times),
                status.unwrap_or("its exit status")
            )
        }
        Kind::NoChange => format!("the implementer changed nothing in {}", attempts(n)),
        Kind::NotTheImplementation => format!(
            "no attempt changed the code the spec asks for ({})",
            attempts(n)
        ),
        Kind::OriginalsFail => format!(
            "the change still fails the original tests after {}",
            attempts(n)
        ),
        Kind::NoProof => format!("no proving test after {}", attempts(n)),
        Kind::Contained => {
            let times = kinds.iter().filter(|k| **k == Kind::Contained).count();
            format!(
                "the user's repository was changed outside the worktree {} (by the agent or the tests)",
                times_word(times)
            )
        }
    };
    if alike {
        return head;
    }
    format!("{head}; {} in all: {}", attempts(n), breakdown(&kinds))
}

/// The loop stopped because the implementer repeated itself: `second`'s reply was
/// `first`'s again, or neither attempt changed anything.
pub fn repeated(first: u32, second: u32, nothing_changed: bool) -> String {
    if nothing_changed {
        format!(
            "the implementer repeated itself: attempt {second} changed nothing after attempt {first}, so another attempt would pay for the same result"
        )
    } else {
        format!(
            "the implementer repeated itself: attempt {second}'s reply was attempt {first}'s again, so another attempt would pay for the same result"
        )
    }
}

/// The baseline's tests changed the user's repository outside the worktree.
pub fn baseline_contained(changes: &[ContainedChange]) -> String {
    format!(
        "the tests change the repository outside the worktree on the unchanged tree (the baseline): {}; no model was called",
        ContainedChange::list(changes)
    )
}

/// The loop stopped because the tests failed the same way twice in a row.
pub fn stagnated(first: u32, second: u32) -> String {
    format!(
        "the tests failed the same way twice in a row (attempts {first} and {second}); another attempt would pay for the same result"
    )
}

/// `1 attempt`, `3 attempts`.
fn attempts(n: usize) -> String {
    format!("{n} attempt{}", if n == 1 { "" } else { "s" })
}

fn times_word(n: usize) -> String {
    match n {
        1 => "once".into(),
        2 => "twice".into(),
        n => format!("{n} times"),
    }
}

/// `2 whole files instead of edit blocks, 1 with no blocks`: the unappliable replies by
/// what they were.
fn shapes(results: &[AttemptResult]) -> String {
    let mut counts: Vec<(RejectShape, usize)> = Vec::new();
    for result in results {
        if let AttemptResult::EditsRejected { shape, .. } = result {
            match counts.iter_mut().find(|(s, _)| s == shape) {
                Some((_, n)) => *n += 1,
                None => counts.push((*shape, 1)),
            }
        }
    }
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    counts
        .iter()
        .map(|(shape, n)| format!("{n} {}", shape_words(*shape)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn shape_words(shape: RejectShape) -> &'static str {
    match shape {
        RejectShape::WholeFiles => "whole files instead of edit blocks",
        RejectShape::UnifiedDiff => "a diff instead of edit blocks",
        RejectShape::NoBlocks => "with no blocks",
        RejectShape::NoMatch => "with blocks that match nothing in the files",
        RejectShape::Refused => "editing paths that may not be changed",
        RejectShape::Unreadable => "with blocks that could not be read",
        RejectShape::Io => "that could not be written",
    }
}

/// `2 with failing tests, 1 not applied`.
fn breakdown(kinds: &[Kind]) -> String {
    let mut counts: Vec<(Kind, usize)> = Vec::new();
    for kind in kinds {
        match counts.iter_mut().find(|(k, _)| k == kind) {
            Some((_, n)) => *n += 1,
            None => counts.push((*kind, 1)),
        }
    }
    counts
        .iter()
        .map(|(kind, n)| {
            let words = match kind {
                Kind::TestsFailed => "with failing tests",
                Kind::NotApplied => "not applied",
                Kind::AgentTimedOut => "timed out",
                Kind::AgentFailed => "the agent failed",
                Kind::NoChange => "changing nothing",
                Kind::NotTheImplementation => "not touching the code the spec names",
                Kind::OriginalsFail => "failing the original tests",
                Kind::NoProof => "with no proving test",
                Kind::Contained => "changing the repository outside the worktree",
            };
            format!("{n} {words}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::events::NoProofWhy;

    fn rejected(shape: RejectShape) -> AttemptResult {
        AttemptResult::EditsRejected {
            problems: vec!["x".into()],
            count: 1,
            shape,
        }
    }

    #[test]
    fn each_way_of_failing_has_its_own_words() {
        let failed = vec![AttemptResult::TestsFailed; 4];
        assert_eq!(
            exhausted(&failed, 3),
            "the tests still fail after 4 attempts (stages.impl.max_test_retries = 3)"
        );
        let replies = [
            rejected(RejectShape::WholeFiles),
            rejected(RejectShape::NoBlocks),
            rejected(RejectShape::WholeFiles),
        ];
        assert_eq!(
            exhausted(&replies, 2),
            "no reply could be applied (3 attempts: 2 whole files instead of edit blocks, 1 with no blocks)"
        );
        let timed_out = vec![AttemptResult::AgentTimedOut { timeout_secs: 600 }; 2];
        assert_eq!(exhausted(&timed_out, 1), "the agent timed out twice (10m)");
        let unproven = vec![
            AttemptResult::NoProof {
                why: NoProofWhy::NoTest
            };
            3
        ];
        assert_eq!(exhausted(&unproven, 2), "no proving test after 3 attempts");
    }

    #[test]
    fn mixed_endings_are_counted() {
        let mixed = [
            rejected(RejectShape::NoBlocks),
            AttemptResult::NoProof {
                why: NoProofWhy::PassesWithout,
            },
            AttemptResult::TestsFailed,
        ];
        assert_eq!(
            exhausted(&mixed, 2),
            "the tests still fail after 3 attempts (stages.impl.max_test_retries = 2); 3 attempts in all: 1 not applied, 1 with no proving test, 1 with failing tests"
        );
    }

    #[test]
    fn repeats_and_stagnation_name_their_attempts() {
        assert!(repeated(1, 2, false).contains("attempt 2's reply was attempt 1's again"));
        assert!(repeated(2, 3, true).contains("attempt 3 changed nothing after attempt 2"));
        assert!(stagnated(2, 3).contains("(attempts 2 and 3)"));
    }
}
