//! GitHub for a run: which repository (the configured remote's URL, `github.repo`, or an
//! issue URL), which token (and where it came from), the client, and the issue read from it —
//! cleaned of what hides text from a human reader and bounded before any model sees it.
//!
//! Every request is raced against Ctrl-C, and a rate-limit wait is announced as it begins.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::{Mutex, mpsc};

use super::events::{Event, ForgeWaitReason};
use super::io::RunIo;
use super::{PipelineError, Session};
use crate::forge::github::{GitHub, Policy, Wait, WaitReason};
use crate::forge::token::{self, TokenSource};
use crate::forge::{Forge, ForgeError, Host, RepoId, parse_remote_url};
use crate::issue::{
    BODY_LIMIT, COMMENT_LIMIT, COMMENTS_LIMIT, Comment, Issue, IssueRef, Origin, cut_text,
    plain_line, sanitise_untrusted,
};

/// How long `gh auth token` or `git credential fill` may take to answer.
const TOKEN_TIMEOUT: Duration = Duration::from_secs(10);

/// Which GitHub repository a run works with, and how that was decided.
#[derive(Clone, Debug)]
pub struct Target {
    pub host: Host,
    pub repo: RepoId,
}

/// A GitHub repository, reachable with a token.
pub struct Connection {
    forge: Box<dyn Forge>,
    pub token_source: TokenSource,
    waits: Mutex<mpsc::UnboundedReceiver<Wait>>,
}

/// The host a run's API calls go to: `github.api_url`, else github.com.
pub fn host(session: &Session) -> Result<Host, PipelineError> {
    match &session.config.github.api_url {
        Some(url) => Ok(Host::from_api_url(url)?),
        None => Ok(Host::github_com()),
    }
}

/// The repository behind `remote`: its configured URL names it (what git rewrites it to with
/// `insteadOf` does not matter).
pub fn remote_repo(session: &Session, remote: &str) -> Result<RepoId, PipelineError> {
    let url = session
        .repo
        .remote_url(remote)?
        .ok_or_else(|| ForgeError::NoRemote {
            remote: remote.to_string(),
        })?;
    match parse_remote_url(&url) {
        // Without `github.api_url` the API is github.com's, so the remote must be there too
        // (a GitLab or Bitbucket remote is not read as a GitHub repository of the same name).
        Some((host, repo))
            if session.config.github.api_url.is_some()
                || matches!(
                    host.as_str(),
                    "github.com" | "www.github.com" | "ssh.github.com"
                ) =>
        {
            Ok(repo)
        }
        _ => Err(ForgeError::NotGitHub {
            remote: remote.to_string(),
            url,
        }
        .into()),
    }
}

/// An issue given as a URL must be on the GitHub this run talks to (github.com, or
/// `github.api_url`'s server): an issue URL of another host is not read as the github.com
/// issue of the same name.
pub fn check_issue_host(session: &Session, issue: &IssueRef) -> Result<(), PipelineError> {
    let Some(url_host) = &issue.host else {
        return Ok(());
    };
    let github = host(session)?;
    let github_host = github
        .web
        .split_once("://")
        .map_or(github.web.as_str(), |(_, rest)| rest)
        .trim_end_matches('/')
        .to_ascii_lowercase();
    let same = |h: &str| h.strip_prefix("www.").unwrap_or(h).to_string();
    if same(url_host) == same(&github_host) {
        return Ok(());
    }
    Err(PipelineError::IssueOnOtherHost {
        url_host: url_host.clone(),
        github_host,
    })
}

/// The repository issues are read from and pull requests opened on: the one an issue URL
/// names, else `github.repo`, else `github.remote`'s URL.
pub fn target(session: &Session, issue_repo: Option<&str>) -> Result<Target, PipelineError> {
    let host = host(session)?;
    let github = &session.config.github;
    let repo = match issue_repo.or(github.repo.as_deref()) {
        Some(named) => named.parse::<RepoId>().map_err(|_| ForgeError::BadRepo {
            value: named.to_string(),
        })?,
        None => remote_repo(session, &github.remote)?,
    };
    Ok(Target { host, repo })
}

/// Find a token for `target` and make its client. The token's value is added to the
/// session's redactor before anything else can see it.
pub async fn connect(
    session: &mut Session,
    target: Target,
    io: &RunIo<'_>,
) -> Result<Connection, PipelineError> {
    let (protocol, credential_host) = target.host.credential_target();
    // Made now, run only if no earlier source gives a token.
    let fill = session
        .repo
        .credential_fill(&protocol, &credential_host, TOKEN_TIMEOUT);
    let found = token::find(&session.env, &target.host, move || fill);
    let token = tokio::select! {
        token = found => token?,
        _ = io.interrupt.triggered() => return Err(PipelineError::Interrupted),
    };
    session
        .redactor
        .add(&token.source.to_string(), token.expose());
    let token_source = token.source;
    io.events.emit(Event::GitHub {
        repo: target.repo.to_string(),
        api: target.host.api.clone(),
        token: token_source.to_string(),
    });
    let (sender, waits) = mpsc::unbounded_channel();
    let github = &session.config.github;
    let policy = Policy {
        max_wait: github.max_wait,
        timeout: github.timeout,
        on_wait: Some(Arc::new(move |wait: Wait| {
            let _ = sender.send(wait);
        })),
        ..Policy::default()
    };
    let http = crate::llm::client()?;
    let forge = GitHub::new(http, target.host, target.repo, token, policy)?;
    Ok(Connection {
        forge: Box::new(forge),
        token_source,
        waits: Mutex::new(waits),
    })
}

/// A connection together with the run's events and Ctrl-C: what a stage calls GitHub
/// through.
pub struct GitHubCall<'c> {
    connection: &'c Connection,
    io: &'c RunIo<'c>,
}

impl<'c> GitHubCall<'c> {
    pub fn new(connection: &'c Connection, io: &'c RunIo<'c>) -> GitHubCall<'c> {
        GitHubCall { connection, io }
    }

    pub fn forge(&self) -> &'c dyn Forge {
        self.connection.forge()
    }

    /// Run one request (see [`Connection::call`]).
    pub async fn call<T, F>(&self, request: F) -> Result<T, PipelineError>
    where
        F: Future<Output = Result<T, ForgeError>>,
    {
        self.connection.call(self.io, request).await
    }
}

impl Connection {
    pub fn forge(&self) -> &dyn Forge {
        self.forge.as_ref()
    }

    /// Run one forge request: raced against Ctrl-C, each rate-limit or retry wait said as
    /// it begins.
    pub async fn call<T, F>(&self, io: &RunIo<'_>, request: F) -> Result<T, PipelineError>
    where
        F: Future<Output = Result<T, ForgeError>>,
    {
        let mut request = std::pin::pin!(request);
        let mut waits = self.waits.lock().await;
        loop {
            tokio::select! {
                result = &mut request => {
                    while let Ok(wait) = waits.try_recv() {
                        say(io, wait);
                    }
                    return Ok(result?);
                }
                _ = io.interrupt.triggered() => return Err(PipelineError::Interrupted),
                Some(wait) = waits.recv() => say(io, wait),
            }
        }
    }
}

fn say(io: &RunIo<'_>, wait: Wait) {
    let reason = match wait.reason {
        WaitReason::RateLimit => ForgeWaitReason::RateLimit,
        WaitReason::SecondaryRateLimit => ForgeWaitReason::SecondaryRateLimit,
        WaitReason::ServerError { status } => ForgeWaitReason::ServerError { status },
        WaitReason::Network => ForgeWaitReason::Network,
        WaitReason::TimedOut => ForgeWaitReason::TimedOut,
    };
    io.events.emit(Event::GitHubWaiting {
        reason,
        seconds: wait.wait.as_secs_f64().ceil() as u64,
        attempt: wait.attempt,
    });
}

/// Read issue `number`: refused when it is a pull request, or closed or locked unless
/// `force`; its text cleaned and bounded, with what the brief records about where it came
/// from.
pub async fn read_issue(
    connection: &Connection,
    number: u64,
    force: bool,
    io: &RunIo<'_>,
) -> Result<Issue, PipelineError> {
    let remote = connection
        .call(io, connection.forge().issue(number))
        .await?;
    if remote.is_pull_request {
        return Err(PipelineError::IsPullRequest {
            number,
            url: remote.html_url,
        });
    }
    if !force && (remote.state != "open" || remote.locked) {
        return Err(PipelineError::IssueNotOpen {
            number,
            state: remote.state,
            locked: remote.locked,
            url: remote.html_url,
        });
    }
    let mut hidden = 0;
    let mut clean = |text: &str| {
        let cleaned = sanitise_untrusted(text);
        hidden += cleaned.html_comments + cleaned.hidden_chars;
        cleaned.text
    };
    let title = plain_line(&clean(&remote.title));
    let body = clean(&remote.body);
    let (body, body_cut_from) = match cut_text(&body, BODY_LIMIT) {
        Some(cut) => (cut, Some(body.len())),
        None => (body, None),
    };
    let mut comments = Vec::new();
    let mut budget = COMMENTS_LIMIT;
    for comment in &remote.comments {
        let text = clean(&comment.body);
        let text = cut_text(&text, COMMENT_LIMIT).unwrap_or(text);
        let kept = Comment {
            author: plain_line(&comment.author),
            association: plain_line(&comment.author_association),
            write_access: matches!(
                comment.author_association.as_str(),
                "OWNER" | "MEMBER" | "COLLABORATOR"
            ),
            created_at: plain_line(&comment.created_at),
            body: text,
        };
        // The bound is on what the brief shows: each comment's heading counts with its text,
        // or thousands of short comments would make a brief many times the bound.
        let size = kept.rendered().len();
        if size > budget {
            break;
        }
        budget -= size;
        comments.push(kept);
    }
    let origin = Origin {
        url: remote.html_url.clone(),
        author: plain_line(&remote.author),
        labels: remote.labels.iter().map(|l| plain_line(l)).collect(),
        state: plain_line(&remote.state),
        locked: remote.locked,
        read_at: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
        comments_total: remote.comments_total.max(remote.comments.len() as u64),
        comments,
        body_cut_from,
        hidden_removed: hidden,
    };
    io.events.emit(Event::IssueRead {
        issue: number,
        url: origin.url.clone(),
        comments: origin.comments.len() as u64,
        comments_total: origin.comments_total,
        body_cut: body_cut_from.is_some(),
        hidden_removed: hidden,
    });
    Ok(Issue {
        number,
        title: if title.is_empty() {
            format!("Issue {number}")
        } else {
            title
        },
        body: crate::issue::normalise_text(&body),
        origin: Some(origin),
    })
}
