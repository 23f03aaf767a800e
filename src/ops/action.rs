//! `action`: what to do about the GitHub Actions event that started the job, and doing it.
//!
//! The event is read from the file GitHub names in `GITHUB_EVENT_PATH` (its kind in
//! `GITHUB_EVENT_NAME`), never from text a workflow pastes into a command line, so a comment
//! is only ever data. Deciding is pure ([`decide`]: event in, [`Decision`] out); carrying a
//! decision out ([`act`]) uses the other operations: a gate decision ([`super::gate`]), then
//! a run ([`super::run`]) with no one to ask.
//!
//! A job starts from a fresh checkout and its work is gone when it ends, so the issue's
//! branch lives on the remote between jobs: it is fetched when it is not here, and pushed
//! when the run stops at a gate, blocks, fails or is interrupted (the `pr` stage pushes it
//! when the run completes).
//! A run that stops at a gate comments on the issue with what it needs.

use std::path::PathBuf;

use serde::Deserialize;

use super::{claim, gate};
use crate::env::Env;
use crate::forge::RepoId;
use crate::issue::{IssueRef, plain_line};
use crate::pipeline::branch::IssueBranch;
use crate::pipeline::events::Outcome;
use crate::pipeline::gate::Recorded;
use crate::pipeline::github;
use crate::pipeline::{PipelineError, RunIo, RunOptions, Session};
use crate::stage::{Gate, Stage};

/// The label whose addition starts a run.
pub const LABEL: &str = "orchestrate";
/// The command a comment starts with.
pub const COMMAND: &str = "/orchestrate";

/// What an event asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Run the issue.
    Run,
    /// Pass the gate the issue waits at, then run.
    Approve,
    /// Reject at the gate the issue waits at with this feedback, then run (which revises).
    Reject(String),
    /// Nothing to do.
    Ignore(Ignored),
}

/// Why an event asks for nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ignored {
    /// An event other than `issues` and `issue_comment`.
    UnsupportedEvent(String),
    /// An `issues` event other than `labeled` (`opened`, `edited`, ...).
    IssueAction(String),
    /// A label other than [`LABEL`] was added.
    OtherLabel(String),
    /// An `issue_comment` event other than `created` (`edited`, `deleted`).
    CommentAction(String),
    /// A comment on a pull request.
    PullRequest,
    /// A comment by a bot (this tool's own comments among them).
    Bot(String),
    /// A comment whose first line is not an `/orchestrate` command.
    NotACommand,
    /// `/orchestrate` followed by something it does not know.
    UnknownCommand(String),
    /// `/orchestrate reject` with nothing after it.
    RejectWithoutFeedback,
    /// A command from an account without write access to the repository.
    NoWriteAccess { login: String, association: String },
}

/// A decision about one issue of one repository.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decided {
    pub decision: Decision,
    /// The issue the event is about; `None` for an event about no issue (then the decision
    /// is [`Decision::Ignore`]).
    pub issue: Option<u64>,
    /// The repository the event came from (`repository.full_name`).
    pub repo: Option<String>,
    /// Who caused the event (`sender.login`).
    pub sender: Option<String>,
}

impl Decided {
    fn ignore(reason: Ignored) -> Decided {
        Decided {
            decision: Decision::Ignore(reason),
            issue: None,
            repo: None,
            sender: None,
        }
    }
}

/// Why the event could not be read, or what was asked could not be done.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    #[error(
        "${variable} is not set: `action` reads the event of the GitHub Actions job it runs in"
    )]
    NotInActions { variable: &'static str },
    #[error("cannot read the event file {}", .path.display())]
    ReadEvent {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the event file {} is not a GitHub `{event}` event", .path.display())]
    BadEvent {
        path: PathBuf,
        event: String,
        source: serde_json::Error,
    },
    #[error("the event names no issue to act on")]
    NoIssue,
    #[error("the event is from {event}, but runs here work with {run}")]
    OtherRepository { event: String, run: String },
    #[error(transparent)]
    Pipeline(Box<PipelineError>),
    /// The run failed, and what it had committed could not be pushed either.
    #[error(
        "{}; and the branch could not be pushed, so this job's commits are not on the remote: {}",
        crate::error_chain::chain(&**.run),
        crate::error_chain::chain(&**.push)
    )]
    NotPushed {
        run: Box<PipelineError>,
        push: Box<PipelineError>,
    },
}

impl From<PipelineError> for ActionError {
    fn from(error: PipelineError) -> ActionError {
        ActionError::Pipeline(Box::new(error))
    }
}

/// The event of the job: its kind from `GITHUB_EVENT_NAME`, its payload from the file
/// `GITHUB_EVENT_PATH` names.
pub fn read_event(env: &Env) -> Result<Decided, ActionError> {
    let name = env
        .non_empty("GITHUB_EVENT_NAME")
        .ok_or(ActionError::NotInActions {
            variable: "GITHUB_EVENT_NAME",
        })?;
    let path = env
        .non_empty("GITHUB_EVENT_PATH")
        .map(PathBuf::from)
        .ok_or(ActionError::NotInActions {
            variable: "GITHUB_EVENT_PATH",
        })?;
    let payload = std::fs::read(&path).map_err(|source| ActionError::ReadEvent {
        path: path.clone(),
        source,
    })?;
    decide(name, &payload).map_err(|source| ActionError::BadEvent {
        path,
        event: name.to_string(),
        source,
    })
}

/// What event `name` with `payload` (its JSON, as GitHub writes it for a workflow) asks for.
/// An event of another kind is not read at all.
pub fn decide(name: &str, payload: &[u8]) -> Result<Decided, serde_json::Error> {
    if !matches!(name, "issues" | "issue_comment") {
        return Ok(Decided::ignore(Ignored::UnsupportedEvent(name.to_string())));
    }
    let event: EventJson = serde_json::from_slice(payload)?;
    if event.issue.number == 0 {
        // The command line refuses issue 0 too: GitHub numbers issues from 1.
        return Err(<serde_json::Error as serde::de::Error>::custom(
            "issue.number is 0, and GitHub numbers issues from 1",
        ));
    }
    let decision = match name {
        "issues" => issues_decision(&event),
        _ => comment_decision(&event),
    };
    Ok(Decided {
        decision,
        issue: Some(event.issue.number),
        repo: Some(event.repository.full_name),
        sender: event.sender.map(|s| plain_line(&s.login)),
    })
}

fn issues_decision(event: &EventJson) -> Decision {
    if event.action != "labeled" {
        return Decision::Ignore(Ignored::IssueAction(plain_line(&event.action)));
    }
    match &event.label {
        Some(label) if label.name.eq_ignore_ascii_case(LABEL) => Decision::Run,
        Some(label) => Decision::Ignore(Ignored::OtherLabel(plain_line(&label.name))),
        None => Decision::Ignore(Ignored::OtherLabel(String::new())),
    }
}

fn comment_decision(event: &EventJson) -> Decision {
    if event.action != "created" {
        return Decision::Ignore(Ignored::CommentAction(plain_line(&event.action)));
    }
    if event.issue.pull_request.is_some() {
        return Decision::Ignore(Ignored::PullRequest);
    }
    let Some(comment) = &event.comment else {
        return Decision::Ignore(Ignored::NotACommand);
    };
    if comment.user.kind.as_deref() == Some("Bot") {
        return Decision::Ignore(Ignored::Bot(plain_line(&comment.user.login)));
    }
    let decision = command(comment.body.as_deref().unwrap_or_default());
    if matches!(decision, Decision::Ignore(_)) {
        return decision;
    }
    let association = comment.author_association.as_deref().unwrap_or("NONE");
    if !matches!(association, "OWNER" | "MEMBER" | "COLLABORATOR") {
        return Decision::Ignore(Ignored::NoWriteAccess {
            login: plain_line(&comment.user.login),
            association: plain_line(association),
        });
    }
    decision
}

/// The command a comment body gives: its first line, trimmed, is `/orchestrate`,
/// `/orchestrate approve` or `/orchestrate reject FEEDBACK`, where the feedback is everything
/// after `reject`, every line of it.
pub fn command(body: &str) -> Decision {
    let body = body.replace("\r\n", "\n");
    let body = body.trim_start();
    let first = body.lines().next().unwrap_or_default().trim();
    let Some(rest) = word_after(first, COMMAND) else {
        return Decision::Ignore(Ignored::NotACommand);
    };
    let rest = rest.trim();
    if rest.is_empty() {
        return Decision::Run;
    }
    if rest == "approve" {
        return Decision::Approve;
    }
    if word_after(rest, "reject").is_some() {
        // The feedback runs from after `reject` on the first line to the end of the body.
        let after_command = word_after(body, COMMAND).unwrap_or_default().trim_start();
        let feedback = word_after(after_command, "reject")
            .unwrap_or_default()
            .trim();
        return match feedback.is_empty() {
            true => Decision::Ignore(Ignored::RejectWithoutFeedback),
            false => Decision::Reject(feedback.to_string()),
        };
    }
    Decision::Ignore(Ignored::UnknownCommand(plain_line(
        &first.chars().take(80).collect::<String>(),
    )))
}

/// What follows `word` at the start of `text`, when `word` is a whole word there.
fn word_after<'t>(text: &'t str, word: &str) -> Option<&'t str> {
    let rest = text.strip_prefix(word)?;
    match rest.chars().next() {
        None => Some(rest),
        Some(c) if c.is_whitespace() => Some(rest),
        Some(_) => None,
    }
}

/// What carrying out a decision came to.
#[derive(Debug)]
pub struct Acted {
    /// The gate decision recorded first (approve, reject).
    pub recorded: Option<Recorded>,
    /// How the run ended.
    pub outcome: Outcome,
    /// The branch pushed at the end (waiting at a gate, blocked), if one was.
    pub pushed: Option<String>,
    /// The comment posted on the issue, if one was.
    pub comment: Option<String>,
}

/// Carry out `decided` (not an [`Decision::Ignore`]): `session` fetches the branch, records a
/// gate decision, pushes and comments; `run_session` is the run's own. The job holds a token
/// that can write to the repository, so tests and agents run contained or not at all unless
/// the configuration says otherwise (`sandbox.mode`).
pub async fn act(
    mut session: Session,
    mut run_session: Session,
    decided: &Decided,
    io: &RunIo<'_>,
) -> Result<Acted, ActionError> {
    let (Some(issue), Some(event_repo)) = (decided.issue, decided.repo.as_deref()) else {
        return Err(ActionError::NoIssue);
    };
    let target = github::target(&session, None)?;
    if !event_repo.eq_ignore_ascii_case(&target.repo.to_string()) {
        return Err(ActionError::OtherRepository {
            event: event_repo.to_string(),
            run: target.repo.to_string(),
        });
    }
    let remote = push_remote(&session);
    fetch_branch(&session, &remote, issue).await?;
    let recorded = match &decided.decision {
        Decision::Ignore(_) | Decision::Run => None,
        Decision::Approve => Some(gate::approve(&session, issue, None)?),
        Decision::Reject(feedback) => Some(gate::reject(&session, issue, None, feedback)?),
    };
    run_session
        .config
        .sandbox
        .mode
        .get_or_insert(crate::config::SandboxMode::Required);
    let options = RunOptions::new(IssueRef {
        host: None,
        number: issue,
        repo: None,
    });
    let outcome = match super::run::run(run_session, &options, io).await {
        Ok(outcome) => outcome,
        Err(error) => {
            // What this job committed (a person's decision, drafts that were paid for) is
            // only in this runner's clone: push it, or the next job starts without it.
            return Err(match push_branch(&session, &remote, issue, io).await {
                Ok(_) => error.into(),
                Err(push) => ActionError::NotPushed {
                    run: Box::new(error),
                    push: Box::new(push),
                },
            });
        }
    };
    let mut acted = Acted {
        recorded,
        outcome,
        pushed: None,
        comment: None,
    };
    let body = match &acted.outcome {
        Outcome::Waiting { gate } => {
            let branch = push_branch(&session, &remote, issue, io).await?;
            let body = gate_comment(
                &session,
                &target.host.web,
                &target.repo,
                issue,
                branch.as_deref().unwrap_or_default(),
                *gate,
            );
            acted.pushed = branch;
            body
        }
        Outcome::Blocked { stage, reason, .. } => {
            let branch = push_branch(&session, &remote, issue, io).await?;
            let body = blocked_comment(
                &target.host.web,
                &target.repo,
                branch.as_deref(),
                *stage,
                reason,
            );
            acted.pushed = branch;
            body
        }
        Outcome::Interrupted => {
            // The job is being cancelled: what was committed before the stop goes up first.
            acted.pushed = push_branch(&session, &remote, issue, io).await?;
            return Ok(acted);
        }
        // The `pr` stage pushed the branch and linked the issue.
        Outcome::Completed | Outcome::StoppedAfter { .. } | Outcome::Planned => return Ok(acted),
    };
    let connection = github::connect(&mut session, target, io).await?;
    let body = session.redactor.clean(&body);
    connection
        .call(io, connection.forge().comment_issue(issue, &body))
        .await?;
    acted.comment = Some(body);
    Ok(acted)
}

/// The remote the issue's branch is pushed to, and fetched from.
fn push_remote(session: &Session) -> String {
    let github = &session.config.github;
    github
        .push_remote
        .clone()
        .unwrap_or_else(|| github.remote.clone())
}

/// Fetch the issue's branch from `remote` when there is none here (a fresh checkout); one
/// that is here is the record, as for every other command.
async fn fetch_branch(session: &Session, remote: &str, issue: u64) -> Result<(), PipelineError> {
    let prefix = &session.config.orchestrator.branch_prefix;
    if IssueBranch::existing(&session.repo, prefix, issue)?.is_some() {
        return Ok(());
    }
    let pattern = format!("{prefix}{issue}-*");
    let timeout = session.config.github.push_timeout;
    Ok(session
        .repo
        .fetch_branches(remote, &pattern, timeout)
        .await?)
}

/// Push the issue's branch to `remote` (never forced, hooks and model keys as for the `pr`
/// stage), under the issue's lock; its name, or `None` when the run made no branch (it
/// blocked before its first commit).
async fn push_branch(
    session: &Session,
    remote: &str,
    issue: u64,
    io: &RunIo<'_>,
) -> Result<Option<String>, PipelineError> {
    let prefix = &session.config.orchestrator.branch_prefix;
    let Some(existing) = IssueBranch::existing(&session.repo, prefix, issue)? else {
        return Ok(None);
    };
    let claimed = claim(session, issue, existing, true)?;
    let branch = claimed.branch;
    let timeout = session.config.github.push_timeout;
    let (options, skipped) = crate::pipeline::push::options(session);
    if let Some(skipped) = skipped {
        io.events.emit(skipped);
    }
    session
        .repo
        .push(remote, branch.head(), &branch.name, timeout, &options)
        .await?;
    Ok(Some(branch.name))
}

/// `https://HOST/OWNER/NAME/blob/BRANCH/PATH`.
fn blob_url(web: &str, repo: &RepoId, branch: &str, path: &str) -> String {
    format!("{web}/{repo}/blob/{branch}/{path}")
}

/// The comment that says what a gate needs: the document to read, and the replies that go on.
fn gate_comment(
    session: &Session,
    web: &str,
    repo: &RepoId,
    issue: u64,
    branch: &str,
    gate: Gate,
) -> String {
    let stage = gate.stage();
    let document = match stage {
        Stage::Lld => "design",
        Stage::Spec => "implementation spec",
        _ => "implementation report",
    };
    let next = match gate {
        Gate::AfterLld => "the implementation spec is written next",
        Gate::AfterSpec => "the code is written next",
        Gate::BeforePr => "the branch is pushed and the pull request opened",
    };
    let revised = match stage {
        Stage::Lld => "the design is revised with your words",
        Stage::Spec => "the spec is revised with your words",
        _ => "the code is revised with your words",
    };
    let mut out = format!(
        "git-orchestrate is waiting at the `{gate}` gate of #{issue}: the {document} needs a person's decision.\n\n"
    );
    match session.config.paths.artifact(stage, issue) {
        Some(path) => out.push_str(&format!(
            "Read it: [`{path}`]({}) on `{branch}`.\n\n",
            blob_url(web, repo, branch, &path)
        )),
        None => out.push_str(&format!(
            "Read it on the branch: {web}/{repo}/tree/{branch}\n\n"
        )),
    }
    out.push_str(
        "Reply with a comment whose first line is one of these (accounts with write access only):\n\n",
    );
    out.push_str(&format!("- `{COMMAND} approve`: {next};\n"));
    out.push_str(&format!(
        "- `{COMMAND} reject <what to change>`: {revised} (everything after `reject`, every line), then this gate asks again.\n"
    ));
    out
}

/// The comment that says a stage blocked, and where its last work is.
fn blocked_comment(
    web: &str,
    repo: &RepoId,
    branch: Option<&str>,
    stage: Stage,
    reason: &str,
) -> String {
    // The reason may hold text from a model or the issue: fenced, it mentions no one.
    let fence = crate::issue::fence_for(reason);
    let mut out = format!(
        "git-orchestrate is blocked at the `{stage}` stage:\n\n{fence}\n{reason}\n{fence}\n\n"
    );
    if let Some(branch) = branch {
        out.push_str(&format!(
            "The last work is on the branch: {web}/{repo}/tree/{branch}\n\n"
        ));
    }
    out.push_str(&format!(
        "Change what blocked it (the branch, the configuration), then reply `{COMMAND}` to run again.\n"
    ));
    out
}

/// The parts of a webhook payload `action` reads; GitHub sends many more.
#[derive(Deserialize)]
struct EventJson {
    action: String,
    issue: IssueJson,
    repository: RepositoryJson,
    sender: Option<UserJson>,
    label: Option<LabelJson>,
    comment: Option<CommentJson>,
}

#[derive(Deserialize)]
struct IssueJson {
    number: u64,
    pull_request: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct RepositoryJson {
    full_name: String,
}

#[derive(Deserialize)]
struct UserJson {
    login: String,
    #[serde(rename = "type")]
    kind: Option<String>,
}

#[derive(Deserialize)]
struct LabelJson {
    name: String,
}

#[derive(Deserialize)]
struct CommentJson {
    user: UserJson,
    author_association: Option<String>,
    body: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn user(login: &str, kind: &str) -> Value {
        json!({"login": login, "id": 1, "node_id": "MDQ6VXNlcjE=", "type": kind, "site_admin": false})
    }

    fn repository() -> Value {
        json!({"id": 1, "name": "widgets", "full_name": "acme/widgets", "private": false,
               "owner": user("acme", "Organization"), "html_url": "https://github.com/acme/widgets"})
    }

    fn issue(pull: bool) -> Value {
        let mut issue = json!({
            "number": 40, "title": "Add a --verbose flag", "state": "open",
            "user": user("octocat", "User"), "labels": [], "author_association": "MEMBER",
            "html_url": "https://github.com/acme/widgets/issues/40"
        });
        if pull {
            issue["pull_request"] =
                json!({"url": "https://api.github.com/repos/acme/widgets/pulls/40"});
        }
        issue
    }

    fn labeled(label: &str) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "action": "labeled", "issue": issue(false),
            "label": {"id": 1, "name": label, "color": "ededed"},
            "repository": repository(), "sender": user("alice", "User")
        }))
        .unwrap()
    }

    fn commented(body: &str, association: &str, kind: &str, pull: bool) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "action": "created", "issue": issue(pull),
            "comment": {"id": 9, "body": body, "user": user("bob", kind),
                        "author_association": association,
                        "html_url": "https://github.com/acme/widgets/issues/40#issuecomment-9"},
            "repository": repository(), "sender": user("bob", kind)
        }))
        .unwrap()
    }

    fn comment(body: &str) -> Decision {
        decide("issue_comment", &commented(body, "MEMBER", "User", false))
            .unwrap()
            .decision
    }

    #[test]
    fn the_orchestrate_label_runs_the_issue() {
        let decided = decide("issues", &labeled("orchestrate")).unwrap();
        assert_eq!(
            decided,
            Decided {
                decision: Decision::Run,
                issue: Some(40),
                repo: Some("acme/widgets".into()),
                sender: Some("alice".into()),
            }
        );
        assert_eq!(
            decide("issues", &labeled("bug")).unwrap().decision,
            Decision::Ignore(Ignored::OtherLabel("bug".into()))
        );
        let mut opened: Value = serde_json::from_slice(&labeled("orchestrate")).unwrap();
        opened["action"] = json!("opened");
        assert_eq!(
            decide("issues", &serde_json::to_vec(&opened).unwrap())
                .unwrap()
                .decision,
            Decision::Ignore(Ignored::IssueAction("opened".into()))
        );
    }

    #[test]
    fn comments_give_commands_on_their_first_line() {
        assert_eq!(comment("/orchestrate"), Decision::Run);
        assert_eq!(comment("  /orchestrate  \r\nthanks"), Decision::Run);
        assert_eq!(comment("/orchestrate approve"), Decision::Approve);
        assert_eq!(comment("/orchestrate   approve  "), Decision::Approve);
        assert_eq!(
            comment("/orchestrate reject please add tests"),
            Decision::Reject("please add tests".into())
        );
        assert_eq!(
            comment("/orchestrate reject\r\n- add tests\r\n- fewer files\r\n"),
            Decision::Reject("- add tests\n- fewer files".into())
        );
        assert_eq!(
            comment("/orchestrate reject"),
            Decision::Ignore(Ignored::RejectWithoutFeedback)
        );
        assert_eq!(
            comment("looks good"),
            Decision::Ignore(Ignored::NotACommand)
        );
        assert_eq!(
            comment("/orchestrated it"),
            Decision::Ignore(Ignored::NotACommand)
        );
        assert_eq!(
            comment("please\n/orchestrate approve"),
            Decision::Ignore(Ignored::NotACommand)
        );
        assert_eq!(
            comment("/orchestrate approved"),
            Decision::Ignore(Ignored::UnknownCommand("/orchestrate approved".into()))
        );
        assert_eq!(
            comment("/orchestrate rejects x"),
            Decision::Ignore(Ignored::UnknownCommand("/orchestrate rejects x".into()))
        );
    }

    #[test]
    fn shell_text_in_feedback_is_kept_as_it_is() {
        let text = "$(touch /tmp/x); `id` && rm -rf ~ | cat > 'y' \"z\"";
        assert_eq!(
            comment(&format!("/orchestrate reject {text}")),
            Decision::Reject(text.into())
        );
    }

    #[test]
    fn only_accounts_with_write_access_give_commands() {
        for association in ["OWNER", "MEMBER", "COLLABORATOR"] {
            let decided = decide(
                "issue_comment",
                &commented("/orchestrate approve", association, "User", false),
            );
            assert_eq!(
                decided.unwrap().decision,
                Decision::Approve,
                "{association}"
            );
        }
        for association in [
            "CONTRIBUTOR",
            "FIRST_TIME_CONTRIBUTOR",
            "FIRST_TIMER",
            "NONE",
            "MANNEQUIN",
        ] {
            let decided = decide(
                "issue_comment",
                &commented("/orchestrate approve", association, "User", false),
            );
            assert_eq!(
                decided.unwrap().decision,
                Decision::Ignore(Ignored::NoWriteAccess {
                    login: "bob".into(),
                    association: association.into()
                })
            );
        }
        // A comment that is no command says so, whoever wrote it.
        let decided = decide("issue_comment", &commented("+1", "NONE", "User", false));
        assert_eq!(
            decided.unwrap().decision,
            Decision::Ignore(Ignored::NotACommand)
        );
    }

    #[test]
    fn pull_requests_bots_and_other_events_are_ignored() {
        let decided = decide(
            "issue_comment",
            &commented("/orchestrate", "OWNER", "User", true),
        );
        assert_eq!(
            decided.unwrap().decision,
            Decision::Ignore(Ignored::PullRequest)
        );
        let decided = decide(
            "issue_comment",
            &commented("/orchestrate", "NONE", "Bot", false),
        );
        assert_eq!(
            decided.unwrap().decision,
            Decision::Ignore(Ignored::Bot("bob".into()))
        );
        let decided = decide("push", b"not even json").unwrap();
        assert_eq!(
            decided.decision,
            Decision::Ignore(Ignored::UnsupportedEvent("push".into()))
        );
        assert_eq!(decided.issue, None);
        let mut edited: Value =
            serde_json::from_slice(&commented("/orchestrate", "OWNER", "User", false)).unwrap();
        edited["action"] = json!("edited");
        assert_eq!(
            decide("issue_comment", &serde_json::to_vec(&edited).unwrap())
                .unwrap()
                .decision,
            Decision::Ignore(Ignored::CommentAction("edited".into()))
        );
    }

    #[test]
    fn issue_zero_is_refused_as_the_command_line_refuses_it() {
        let mut event: Value = serde_json::from_slice(&labeled("orchestrate")).unwrap();
        event["issue"]["number"] = json!(0);
        let error = decide("issues", &serde_json::to_vec(&event).unwrap()).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("issue.number is 0, and GitHub numbers issues from 1"),
            "{error}"
        );
    }

    #[test]
    fn a_payload_that_is_not_the_event_is_an_error() {
        assert!(decide("issues", b"{").is_err());
        assert!(decide("issue_comment", br#"{"action": "created"}"#).is_err());
    }

    #[test]
    fn the_environment_names_the_event() {
        let env = Env::from_pairs([("GITHUB_EVENT_PATH", "/nonexistent/event.json")]);
        assert!(matches!(
            read_event(&env),
            Err(ActionError::NotInActions {
                variable: "GITHUB_EVENT_NAME"
            })
        ));
        let env = Env::from_pairs([
            ("GITHUB_EVENT_NAME", "issues"),
            ("GITHUB_EVENT_PATH", "/nonexistent/event.json"),
        ]);
        let err = read_event(&env).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot read the event file /nonexistent/event.json"
        );
    }

    #[test]
    fn a_blocked_reason_is_fenced_past_its_own_backticks() {
        let repo: RepoId = "acme/widgets".parse().unwrap();
        let body = blocked_comment(
            "https://github.com",
            &repo,
            Some("orchestrate/40-x"),
            Stage::Lld,
            "reviewer said ```no``` @everyone",
        );
        assert!(
            body.contains("\n````\nreviewer said ```no``` @everyone\n````\n"),
            "{body}"
        );
        assert!(body.contains("https://github.com/acme/widgets/tree/orchestrate/40-x"));
    }
}
#[cfg(test)]
mod not_pushed_tests {
    use super::*;
    use crate::git::GitError;

    fn failed(action: &str, cause: &str) -> Box<PipelineError> {
        Box::new(PipelineError::Git(GitError::Git {
            action: action.into(),
            source: git2::Error::from_str(cause),
        }))
    }

    #[test]
    fn both_errors_are_said_with_their_causes() {
        let error = ActionError::NotPushed {
            run: failed("could not commit", "disk full"),
            push: failed("could not push", "hook declined"),
        };
        let alone = crate::error_chain::chain(failed("could not commit", "disk full").as_ref());
        assert_eq!(alone, "could not commit: disk full");
        let text = crate::error_chain::chain(&error);
        assert!(text.contains("could not commit: disk full"), "{text}");
        assert!(text.contains("could not push: hook declined"), "{text}");
    }
}
