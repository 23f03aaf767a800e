//! From a revision range to candidate tasks, without running anything: each commit's files
//! split into tests and code the way the impl stage's proof splits a change
//! ([`Classifier`]: test files by place and name, and the files that decide how the tests
//! run), the issue its message names, and a seeded choice of the order to check them in.

use super::report::{Candidate, CandidateStatus, SkipReason};
use crate::git::{FileChange, ObjectId, Repo};
use crate::pipeline::PipelineError;
use crate::pipeline::stages::implement::testfiles::{Classifier, Part};

/// A commit of the range, read.
pub struct Found {
    pub candidate: Candidate,
    pub commit: ObjectId,
    pub parent: Option<ObjectId>,
    /// The commit message: the task's issue text.
    pub message: String,
    /// The hidden tests, as the commit has them (content and mode, or deleted).
    pub hidden: Vec<FileChange>,
}

/// Every commit of a range (as [`Repo::commits_in`] lists it), numbered from 1, each a
/// candidate or skipped for what its files say. `command` is the test command, when one is
/// configured (its files count as tests too).
pub fn discover(
    repo: &Repo,
    commits: &[ObjectId],
    command: Option<&str>,
) -> Result<Vec<Found>, PipelineError> {
    let mut found = Vec::with_capacity(commits.len());
    for (index, commit) in commits.iter().enumerate() {
        found.push(read(repo, index as u64 + 1, *commit, command)?);
    }
    Ok(found)
}

/// Commit `commit` read as [`discover`] reads it, as task `task`.
pub fn discover_one(
    repo: &Repo,
    task: u64,
    commit: ObjectId,
    command: Option<&str>,
) -> Result<Found, PipelineError> {
    read(repo, task, commit, command)
}

fn read(
    repo: &Repo,
    task: u64,
    commit: ObjectId,
    command: Option<&str>,
) -> Result<Found, PipelineError> {
    let info = repo.commit_info(commit)?;
    let parent = repo.first_parent(commit)?;
    let mut hidden = Vec::new();
    let mut hidden_tests = Vec::new();
    let mut code_files = Vec::new();
    if let Some(parent) = parent {
        let exists = |path: &str| repo.read_file(parent, path).ok().flatten().is_some();
        let classifier = Classifier::new(command.unwrap_or_default(), &exists);
        for change in repo.commit_changes(parent, commit)? {
            let before = repo.read_file(parent, &change.path)?;
            let after =
                (change.kind != crate::git::FileKind::Deleted).then_some(change.content.as_slice());
            match classifier.part(&change.path, before.as_deref(), after) {
                Part::Noise => {}
                part if part.is_test() => {
                    hidden_tests.push(change.path.clone());
                    hidden.push(change);
                }
                _ => code_files.push(change.path.clone()),
            }
        }
    }
    let status = match (parent, hidden_tests.is_empty(), code_files.is_empty()) {
        (None, _, _) => skipped(SkipReason::RootCommit),
        (_, true, _) => skipped(SkipReason::NoTestChange),
        (_, false, true) => skipped(SkipReason::OnlyTests),
        _ => CandidateStatus::NotChecked,
    };
    Ok(Found {
        candidate: Candidate {
            task,
            commit: commit.to_string(),
            parent: parent.map(|p| p.to_string()),
            subject: info.summary.clone(),
            hidden_tests,
            code_files,
            names_issue: named_issue(&info.message),
            status,
        },
        commit,
        parent,
        message: info.message,
        hidden,
    })
}

fn skipped(reason: SkipReason) -> CandidateStatus {
    CandidateStatus::Skipped {
        reason,
        detail: None,
    }
}

/// The issue a commit message closes, as GitHub reads it: `Fixes #12`, `closes #3`,
/// `Resolved: #7` (the first one).
pub fn named_issue(message: &str) -> Option<u64> {
    const KEYWORDS: [&str; 9] = [
        "close", "closes", "closed", "fix", "fixes", "fixed", "resolve", "resolves", "resolved",
    ];
    let words: Vec<&str> = message.split_whitespace().collect();
    for pair in words.windows(2) {
        let keyword = pair[0].trim_end_matches(':').to_ascii_lowercase();
        if !KEYWORDS.contains(&keyword.as_str()) {
            continue;
        }
        let number = pair[1]
            .strip_prefix('#')
            .map(|n| n.trim_end_matches(|c: char| !c.is_ascii_digit()));
        if let Some(n) = number.and_then(|n| n.parse::<u64>().ok()) {
            return Some(n);
        }
    }
    None
}

/// The issue text of a commit message, as an issue file reads it: the subject as the title,
/// the rest (without trailers) as the body.
pub fn issue_file_text(subject: &str, body: &str) -> String {
    match body.trim() {
        "" => format!("# {subject}\n"),
        body => format!("# {subject}\n\n{body}\n"),
    }
}

/// The order to check candidates in: as they come, or shuffled by `seed` (so that the first
/// `n` valid ones are a uniform sample of the valid ones).
pub fn order(count: usize, seed: Option<u64>) -> Vec<usize> {
    let mut order: Vec<usize> = (0..count).collect();
    if let Some(seed) = seed {
        let mut state = seed;
        for i in (1..count).rev() {
            let j = (splitmix(&mut state) % (i as u64 + 1)) as usize;
            order.swap(i, j);
        }
    }
    order
}

/// SplitMix64: a small, well-mixed generator, enough to shuffle reproducibly.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_issue_a_message_closes_is_read_as_github_reads_it() {
        assert_eq!(named_issue("Add x\n\nFixes #12"), Some(12));
        assert_eq!(named_issue("closes #3."), Some(3));
        assert_eq!(named_issue("Resolved: #7"), Some(7));
        assert_eq!(named_issue("see #4, fixes nothing"), None);
        assert_eq!(named_issue("fix the #bug"), None);
    }

    #[test]
    fn a_seeded_order_is_a_reproducible_permutation() {
        assert_eq!(order(4, None), vec![0, 1, 2, 3]);
        let a = order(10, Some(7));
        assert_eq!(a, order(10, Some(7)));
        assert_ne!(a, order(10, Some(8)));
        let mut sorted = a.clone();
        sorted.sort();
        assert_eq!(sorted, (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn an_issue_file_has_the_subject_as_its_title() {
        assert_eq!(issue_file_text("Add x", ""), "# Add x\n");
        assert_eq!(issue_file_text("Add x", "Why.\n"), "# Add x\n\nWhy.\n");
    }
}
