//! `run`: take one issue through the pipeline. The issue is read (from a file, from the
//! brief already on its branch, or from GitHub), its branch located and claimed, and the run
//! loop takes it from there.
//!
//! On a re-run the issue comes from the brief on the branch. When that brief records that the
//! issue came from GitHub, the issue is read again (one request) so that an edit made since
//! makes the brief stale; if GitHub cannot be reached, the run says so and goes on with the
//! brief's copy. Which text of the brief is the issue depends on who wrote it:
//!
//! - a triage model: its brief ends with the issue as read, in an `## Issue as filed` section
//!   ([`crate::issue::filed`]); that section is the issue, whatever the brief's verdict (a
//!   blocked brief keeps it too);
//! - nobody (no triage model): the brief is the normalised issue, so all of it is the issue;
//!   so is a brief a person committed;
//! - a brief that is not done (blocked, or a draft) and has no such section is the words of a
//!   model that failed, not the issue: the issue is read again, from GitHub.

use super::claim;
use crate::issue::{Issue, filed, parse_issue, read_issue_file};
use crate::pipeline::branch::{IssueBranch, IssueState};
use crate::pipeline::events::Warning;
use crate::pipeline::events::{Event, Outcome, Redaction};
use crate::pipeline::github;
use crate::pipeline::github::Connection;
use crate::pipeline::run::Claim;
use crate::pipeline::{PipelineError, RunIo, RunOptions, Session};
use crate::stage::Stage;

/// Run the pipeline for `opts.issue` in `session` (the run owns it from here).
pub async fn run(
    mut session: Session,
    opts: &RunOptions,
    io: &RunIo<'_>,
) -> Result<Outcome, PipelineError> {
    if session.repo.workdir().is_none() {
        return Err(PipelineError::BareRepository {
            path: session.repo.common_dir().to_path_buf(),
        });
    }
    let (issue, github) = match load_issue(&session, opts)? {
        // A brief made from a GitHub issue: the issue is read again (one request), so that
        // an edit made since makes the brief stale. Unreachable, the brief's copy stands.
        Some(filed) if filed.from_forge => match read_from_github(&mut session, opts, io).await {
            Ok((issue, connection)) => (issue, Some(connection)),
            Err(error) => {
                io.events.emit(Event::Warning(Warning::IssueNotRefreshed {
                    issue: opts.issue.number,
                    error: crate::error_chain::chain(&error),
                }));
                (filed.issue, None)
            }
        },
        Some(filed) => (filed.issue, None),
        None => {
            let (issue, connection) = read_from_github(&mut session, opts, io).await?;
            (issue, Some(connection))
        }
    };
    // The issue is what every prompt, the branch name and the brief are made of: secrets
    // pasted into it (a token the run knows, a key of a known shape) are removed here,
    // before any of them sees it.
    let issue = without_secrets(issue, &session, io);
    let located = IssueBranch::locate(
        &session.repo,
        &session.config.orchestrator.branch_prefix,
        issue.number,
        &issue.title,
        opts.base.as_deref(),
    )?;
    let claimed = claim(&session, issue.number, located, !opts.dry_run)?;
    if let Some(stale) = claimed.stale {
        io.events.emit(Event::StaleLockTakenOver {
            issue: issue.number,
            pid: stale.pid,
        });
    }
    let claim = Claim {
        issue,
        branch: claimed.branch,
        state: claimed.state,
        lock: claimed.lock,
        github,
    };
    crate::pipeline::run::run(session, claim, opts, io).await
}

/// `issue` with the secrets `session` knows masked in its title, body and comments; a
/// `redacted` event says what was removed (by name).
pub(crate) fn without_secrets(mut issue: Issue, session: &Session, io: &RunIo<'_>) -> Issue {
    let redactor = &session.redactor;
    let mut found: Vec<String> = Vec::new();
    let mut clean = |text: &mut String| {
        let redacted = redactor.redact(text);
        if redacted.found.is_empty() {
            return;
        }
        for name in &redacted.found {
            if !found.contains(name) {
                found.push(name.clone());
            }
        }
        *text = redacted.text.into_owned();
    };
    clean(&mut issue.title);
    clean(&mut issue.body);
    if let Some(origin) = issue.origin.as_mut() {
        for comment in &mut origin.comments {
            clean(&mut comment.body);
        }
    }
    if !found.is_empty() {
        io.events.emit(Event::Redacted(Redaction {
            place: format!("the text of issue #{}", issue.number),
            found,
        }));
    }
    issue
}

/// An issue read from a file or recovered from a brief.
struct Filed {
    issue: Issue,
    /// The brief records that the issue came from a forge (its source section's URL).
    from_forge: bool,
}

/// Issue `opts.issue` from GitHub: refused when it is a pull request, closed or locked unless
/// `--force`.
async fn read_from_github(
    session: &mut Session,
    opts: &RunOptions,
    io: &RunIo<'_>,
) -> Result<(Issue, Connection), PipelineError> {
    github::check_issue_host(session, &opts.issue)?;
    let target = github::target(session, opts.issue.repo.as_deref())?;
    let connection = github::connect(session, target, io).await?;
    let issue = github::read_issue(&connection, opts.issue.number, opts.force, io).await?;
    Ok((issue, connection))
}

/// The issue from `--issue-file`; else, on a re-run, from the brief already on the branch
/// (see the module's documentation for which part of it); `None`: read it from GitHub.
fn load_issue(session: &Session, opts: &RunOptions) -> Result<Option<Filed>, PipelineError> {
    Ok(recover_issue(session, opts)?.map(|(issue, brief)| Filed {
        from_forge: brief
            .as_deref()
            .and_then(crate::issue::source_url)
            .is_some(),
        issue,
    }))
}

/// [`load_issue`]'s issue, and the brief it came from (none for `--issue-file`).
fn recover_issue(
    session: &Session,
    opts: &RunOptions,
) -> Result<Option<(Issue, Option<String>)>, PipelineError> {
    let number = opts.issue.number;
    if let Some(path) = &opts.issue_file {
        return Ok(Some((read_issue_file(number, path)?, None)));
    }
    let prefix = &session.config.orchestrator.branch_prefix;
    let Some(branch) = IssueBranch::existing(&session.repo, prefix, number)? else {
        return Ok(None);
    };
    let Some(brief_path) = session.config.paths.artifact(Stage::Triage, number) else {
        return Ok(None);
    };
    let Some(bytes) = session.repo.read_file(branch.head(), &brief_path)? else {
        return Ok(None);
    };
    let text = String::from_utf8_lossy(&bytes);
    if let Some(issue) = filed::recover(&text) {
        return Ok(Some((parse_issue(number, issue), Some(text.to_string()))));
    }
    if text.trim().is_empty() {
        return Ok(None);
    }
    let state = IssueState::load(&session.repo, branch.head(), &session.config, number, None)?;
    if !state.stage(Stage::Triage).state.is_done() {
        return Ok(None);
    }
    Ok(Some((parse_issue(number, &text), Some(text.to_string()))))
}
