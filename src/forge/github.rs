//! The GitHub REST API client behind [`Forge`].
//!
//! octocrab sends the requests (authentication, the base URL of github.com or an Enterprise
//! server, the API version header) through the crate's own `reqwest` client. Everything
//! about the answers is decided here, from status codes and headers, because the pipeline
//! needs more than "it failed":
//!
//! - **Rate limits** are waited out when the wait is short (`Policy::max_wait`): the primary
//!   limit until `x-ratelimit-reset`, the secondary one for `retry-after` (or a minute, as
//!   GitHub asks, when it gives no time). A longer wait is an error that says when the limit
//!   resets.
//! - **Server errors and lost connections** are retried with a doubling delay — for reads
//!   and `PATCH` (which sets the same values again), never for the `POST` that opens a pull
//!   request: that would open two, nor for the `POST` that comments on an issue: that would
//!   say it twice. After a failed `POST` the open pull requests are read
//!   instead, and the one the `POST` made, if it made one, is the answer.
//! - Every request has a **timeout**, and every wait is reported first (`Policy::on_wait`),
//!   so a person watching knows why nothing happens.
//!
//! Answers are read into small structs holding only the fields used, so fields GitHub adds
//! never break a run.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures_util::future::BoxFuture;
use http::{HeaderMap, Method, StatusCode};
use octocrab::Octocrab;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use super::RepoId;
use super::token::{Token, TokenSource};
use super::{
    Forge, ForgeError, Head, Host, NewPull, Opened, PullRequest, RemoteComment, RemoteIssue,
};

/// Comments are read a hundred at a time, at most this many pages.
const COMMENT_PAGES: usize = 10;
/// How many times one request waits for a rate limit before giving up.
const RATE_LIMIT_WAITS: u32 = 3;
/// GitHub's advice for a secondary rate limit that names no time: wait a minute.
const SECONDARY_DEFAULT_WAIT: Duration = Duration::from_secs(60);

/// How patient the client is.
#[derive(Clone)]
pub struct Policy {
    /// The longest rate-limit wait to sit out; a longer one is an error.
    pub max_wait: Duration,
    /// Per request, from sending it to reading the whole answer.
    pub timeout: Duration,
    /// Attempts for a request that meets server errors or network failures (`POST` excepted).
    pub attempts: u32,
    /// The delay before the second attempt; it doubles each time.
    pub retry_delay: Duration,
    /// Told before every wait.
    pub on_wait: Option<Arc<dyn Fn(Wait) + Send + Sync>>,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            max_wait: Duration::from_secs(120),
            timeout: Duration::from_secs(60),
            attempts: 3,
            retry_delay: Duration::from_secs(1),
            on_wait: None,
        }
    }
}

impl std::fmt::Debug for Policy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Policy")
            .field("max_wait", &self.max_wait)
            .field("timeout", &self.timeout)
            .field("attempts", &self.attempts)
            .field("retry_delay", &self.retry_delay)
            .field("on_wait", &self.on_wait.is_some())
            .finish()
    }
}

/// A wait about to happen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Wait {
    pub reason: WaitReason,
    pub wait: Duration,
    /// The attempt that met the reason, counting from 1.
    pub attempt: u32,
}

/// Why the client waits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitReason {
    /// The primary rate limit is used up until its reset.
    RateLimit,
    /// GitHub asked to slow down.
    SecondaryRateLimit,
    /// GitHub answered with this 5xx status.
    ServerError { status: u16 },
    /// The connection failed.
    Network,
    /// No answer within the policy's timeout.
    TimedOut,
}

/// The GitHub API, for one repository.
pub struct GitHub {
    octocrab: Octocrab,
    host: Host,
    repo: RepoId,
    token_source: TokenSource,
    policy: Policy,
}

/// An answer: status, headers, body text.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

/// A request that got no answer.
enum NoAnswer {
    Network(octocrab::Error),
    TimedOut,
}

impl GitHub {
    /// A client for `repo` on `host`, sending `token`, over `http` (the crate's client, with
    /// its proxy and TLS settings).
    pub fn new(
        http: reqwest::Client,
        host: Host,
        repo: RepoId,
        token: Token,
        policy: Policy,
    ) -> Result<GitHub, ForgeError> {
        let bad_url = |_| ForgeError::BadApiUrl {
            url: host.api.clone(),
        };
        let octocrab = Octocrab::builder()
            .base_uri(host.api.as_str())
            .map_err(bad_url)?
            .add_header(
                http::header::ACCEPT,
                "application/vnd.github+json".to_string(),
            )
            .personal_token(token.expose().to_string())
            .build_with_reqwest(http)
            .map_err(bad_url)?;
        Ok(GitHub {
            octocrab,
            host,
            repo,
            token_source: token.source,
            policy,
        })
    }

    fn repo_path(&self) -> String {
        format!("/repos/{}/{}", self.repo.owner, self.repo.name)
    }

    async fn fetch_issue(&self, number: u64) -> Result<RemoteIssue, ForgeError> {
        let what = format!("issue #{number} of {}", self.repo);
        let path = format!("{}/issues/{number}", self.repo_path());
        let answer = self.request(Method::GET, &path, None, &what).await?;
        let issue: IssueJson = parse(&answer, &what)?;
        let comments = if issue.comments == 0 {
            Vec::new()
        } else {
            self.fetch_comments(number).await?
        };
        Ok(RemoteIssue {
            number: issue.number,
            title: issue.title,
            body: issue.body.unwrap_or_default(),
            labels: issue.labels.into_iter().map(|l| l.name).collect(),
            author: login(issue.user),
            state: issue.state,
            locked: issue.locked,
            html_url: issue.html_url,
            is_pull_request: issue.pull_request.is_some(),
            comments,
            comments_total: issue.comments,
        })
    }

    async fn fetch_comments(&self, number: u64) -> Result<Vec<RemoteComment>, ForgeError> {
        let what = format!("the comments of issue #{number} of {}", self.repo);
        let mut path = format!("{}/issues/{number}/comments?per_page=100", self.repo_path());
        let mut comments = Vec::new();
        for _ in 0..COMMENT_PAGES {
            let answer = self.request(Method::GET, &path, None, &what).await?;
            let page: Vec<CommentJson> = parse(&answer, &what)?;
            comments.extend(page.into_iter().map(|c| RemoteComment {
                author: login(c.user),
                author_association: c.author_association.unwrap_or_default(),
                body: c.body.unwrap_or_default(),
                created_at: c.created_at,
            }));
            match next_page(&answer.headers, &self.host.api) {
                Some(next) => path = next,
                None => break,
            }
        }
        Ok(comments)
    }

    async fn open_pull(&self, head: &Head) -> Result<Option<PullRequest>, ForgeError> {
        let what = format!("the open pull requests from {head} in {}", self.repo);
        let path = format!(
            "{}/pulls?state=open&head={}&per_page=100",
            self.repo_path(),
            percent_encode(&head.query())
        );
        let answer = self.request(Method::GET, &path, None, &what).await?;
        let pulls: Vec<PullJson> = parse(&answer, &what)?;
        Ok(pulls.into_iter().next().map(PullJson::into_pull))
    }

    async fn open_new_pull(&self, new: &NewPull) -> Result<Opened, ForgeError> {
        let what = format!(
            "a pull request from {} to {} in {}",
            new.head, new.base, self.repo
        );
        let body = json!({
            "title": new.title,
            "head": new.head.query(),
            "base": new.base,
            "body": new.body,
            "draft": new.draft,
        });
        let path = format!("{}/pulls", self.repo_path());
        match self.request(Method::POST, &path, Some(&body), &what).await {
            Ok(answer) => Ok(Opened::Created(
                parse::<PullJson>(&answer, &what)?.into_pull(),
            )),
            Err(ForgeError::Unprocessable { what, message })
                if message.contains("A pull request already exists") =>
            {
                match self.open_pull(&new.head).await? {
                    Some(pull) => Ok(Opened::Found(pull)),
                    None => Err(ForgeError::Unprocessable { what, message }),
                }
            }
            // The POST may have opened the pull request before its answer was lost.
            Err(
                err @ (ForgeError::Server { .. }
                | ForgeError::Network { .. }
                | ForgeError::TimedOut { .. }),
            ) => match self.open_pull(&new.head).await {
                Ok(Some(pull)) => Ok(Opened::Found(pull)),
                _ => Err(err),
            },
            Err(err) => Err(err),
        }
    }

    async fn edit_pull(
        &self,
        number: u64,
        title: &str,
        body: &str,
    ) -> Result<PullRequest, ForgeError> {
        let what = format!("pull request #{number} of {}", self.repo);
        let path = format!("{}/pulls/{number}", self.repo_path());
        let body = json!({ "title": title, "body": body });
        let answer = self
            .request(Method::PATCH, &path, Some(&body), &what)
            .await?;
        Ok(parse::<PullJson>(&answer, &what)?.into_pull())
    }

    async fn post_comment(&self, number: u64, body: &str) -> Result<(), ForgeError> {
        let what = format!("a comment on issue #{number} of {}", self.repo);
        let path = format!("{}/issues/{number}/comments", self.repo_path());
        let body = json!({ "body": body });
        self.request(Method::POST, &path, Some(&body), &what)
            .await
            .map(|_| ())
    }

    /// What the token may do in the repository: `GET /repos/{owner}/{name}`, whose answer
    /// carries the token's permissions there and, for a classic token, its scopes
    /// (`x-oauth-scopes`). `doctor` asks it; a run never does.
    pub async fn access(&self) -> Result<RepoAccess, ForgeError> {
        let what = format!("repository {}", self.repo);
        let answer = self
            .request(Method::GET, &self.repo_path(), None, &what)
            .await?;
        let repo: RepoJson = parse(&answer, &what)?;
        let scopes = answer
            .headers
            .get("x-oauth-scopes")
            .and_then(|v| v.to_str().ok())
            .map(|s| s.trim().to_string());
        let permissions = repo.permissions.unwrap_or_default();
        Ok(RepoAccess {
            scopes,
            private: repo.private,
            has_issues: repo.has_issues,
            can_read: permissions.pull || !repo.private,
            can_push: permissions.push,
        })
    }

    /// One request, through rate limits and retries, to a 2xx answer or an error.
    async fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
        what: &str,
    ) -> Result<Answer, ForgeError> {
        let retries = method != Method::POST;
        let attempts = self.policy.attempts.max(1);
        let mut failures = 0;
        let mut rate_waits = 0;
        let mut delay = self.policy.retry_delay;
        loop {
            let attempt = failures + rate_waits + 1;
            let answer = match self.send(&method, path, body).await {
                Ok(answer) => answer,
                Err(no_answer) => {
                    failures += 1;
                    let reason = match no_answer {
                        NoAnswer::Network(_) => WaitReason::Network,
                        NoAnswer::TimedOut => WaitReason::TimedOut,
                    };
                    if retries && failures < attempts {
                        self.wait(reason, delay, attempt).await;
                        delay *= 2;
                        continue;
                    }
                    return Err(match no_answer {
                        NoAnswer::Network(source) => {
                            let cause = crate::error_chain::NetCause::of(&source);
                            let host = reqwest::Url::parse(&self.host.api)
                                .ok()
                                .and_then(|u| u.host_str().map(str::to_string))
                                .unwrap_or_else(|| self.host.api.clone());
                            ForgeError::Network {
                                what: what.to_string(),
                                detail: cause
                                    .sentence(&host, &crate::error_chain::innermost(&source)),
                                dns: cause == crate::error_chain::NetCause::Dns,
                            }
                        }
                        NoAnswer::TimedOut => ForgeError::TimedOut {
                            what: what.to_string(),
                            after: self.policy.timeout,
                        },
                    });
                }
            };
            if answer.status.is_success() {
                return Ok(answer);
            }
            if let Some(limit) = rate_limit(&answer) {
                let (reason, wait) = match limit {
                    Limit::Primary { wait, .. } => (WaitReason::RateLimit, wait),
                    Limit::Secondary { wait } => (WaitReason::SecondaryRateLimit, wait),
                };
                if wait <= self.policy.max_wait && rate_waits < RATE_LIMIT_WAITS {
                    rate_waits += 1;
                    self.wait(reason, wait, attempt).await;
                    continue;
                }
                return Err(match limit {
                    Limit::Primary { reset_at, wait } => ForgeError::RateLimited { reset_at, wait },
                    Limit::Secondary { wait } => {
                        ForgeError::SecondaryRateLimited { retry_after: wait }
                    }
                });
            }
            if answer.status.is_server_error() {
                failures += 1;
                if retries && failures < attempts {
                    let wait = retry_after(&answer.headers).unwrap_or(delay);
                    let status = answer.status.as_u16();
                    self.wait(WaitReason::ServerError { status }, wait, attempt)
                        .await;
                    delay *= 2;
                    continue;
                }
                return Err(ForgeError::Server {
                    what: what.to_string(),
                    status: answer.status.as_u16(),
                    attempts: failures,
                });
            }
            return Err(self.refusal(&answer, what));
        }
    }

    /// The error for a 4xx answer that is not a rate limit.
    fn refusal(&self, answer: &Answer, what: &str) -> ForgeError {
        let scopes = answer
            .headers
            .get("x-oauth-scopes")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let message = error_message(&answer.body);
        let what = what.to_string();
        match answer.status {
            StatusCode::UNAUTHORIZED => ForgeError::BadCredentials {
                token_source: self.token_source,
                message,
            },
            StatusCode::NOT_FOUND => ForgeError::NotFound {
                what,
                token_source: self.token_source,
                scopes,
            },
            StatusCode::FORBIDDEN => ForgeError::Forbidden {
                what,
                message,
                scopes,
            },
            StatusCode::UNPROCESSABLE_ENTITY => ForgeError::Unprocessable { what, message },
            status => ForgeError::Status {
                what,
                status: status.as_u16(),
                message,
            },
        }
    }

    async fn wait(&self, reason: WaitReason, wait: Duration, attempt: u32) {
        tracing::debug!(?reason, ?wait, attempt, "waiting for GitHub");
        if let Some(on_wait) = &self.policy.on_wait {
            on_wait(Wait {
                reason,
                wait,
                attempt,
            });
        }
        tokio::time::sleep(wait).await;
    }

    /// Send once and read the whole answer, within the policy's timeout.
    async fn send(
        &self,
        method: &Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<Answer, NoAnswer> {
        let exchange = async {
            let response = match *method {
                Method::POST => self.octocrab._post(path, body).await,
                Method::PATCH => self.octocrab._patch(path, body).await,
                _ => self.octocrab._get(path).await,
            }
            .map_err(NoAnswer::Network)?;
            let (status, headers) = (response.status(), response.headers().clone());
            let body = self
                .octocrab
                .body_to_string(response)
                .await
                .map_err(NoAnswer::Network)?;
            Ok(Answer {
                status,
                headers,
                body,
            })
        };
        tokio::time::timeout(self.policy.timeout, exchange)
            .await
            .unwrap_or(Err(NoAnswer::TimedOut))
    }
}

impl Forge for GitHub {
    fn issue(&self, number: u64) -> BoxFuture<'_, Result<RemoteIssue, ForgeError>> {
        Box::pin(self.fetch_issue(number))
    }

    fn find_pull<'a>(
        &'a self,
        head: &'a Head,
    ) -> BoxFuture<'a, Result<Option<PullRequest>, ForgeError>> {
        Box::pin(self.open_pull(head))
    }

    fn create_pull<'a>(&'a self, new: &'a NewPull) -> BoxFuture<'a, Result<Opened, ForgeError>> {
        Box::pin(self.open_new_pull(new))
    }

    fn update_pull<'a>(
        &'a self,
        number: u64,
        title: &'a str,
        body: &'a str,
    ) -> BoxFuture<'a, Result<PullRequest, ForgeError>> {
        Box::pin(self.edit_pull(number, title, body))
    }

    fn comment_issue<'a>(
        &'a self,
        number: u64,
        body: &'a str,
    ) -> BoxFuture<'a, Result<(), ForgeError>> {
        Box::pin(self.post_comment(number, body))
    }

    fn repo(&self) -> &RepoId {
        &self.repo
    }

    fn host(&self) -> &Host {
        &self.host
    }
}

/// A rate limit GitHub reported, and how long until it lifts.
enum Limit {
    Primary {
        reset_at: SystemTime,
        wait: Duration,
    },
    Secondary {
        wait: Duration,
    },
}

/// The rate limit a 403 or 429 answer reports, if it reports one: the primary limit
/// (`x-ratelimit-remaining: 0`, until `x-ratelimit-reset`), else a secondary one (a
/// `retry-after`, or GitHub's message saying so, or any 429).
fn rate_limit(answer: &Answer) -> Option<Limit> {
    if !matches!(
        answer.status,
        StatusCode::FORBIDDEN | StatusCode::TOO_MANY_REQUESTS
    ) {
        return None;
    }
    let header = |name: &str| {
        answer
            .headers
            .get(name)?
            .to_str()
            .ok()?
            .trim()
            .parse::<u64>()
            .ok()
    };
    if header("x-ratelimit-remaining") == Some(0)
        && let Some(reset) = header("x-ratelimit-reset")
    {
        let reset_at = SystemTime::UNIX_EPOCH + Duration::from_secs(reset);
        let wait = reset_at
            .duration_since(SystemTime::now())
            .unwrap_or_default();
        return Some(Limit::Primary { reset_at, wait });
    }
    if let Some(wait) = retry_after(&answer.headers) {
        return Some(Limit::Secondary { wait });
    }
    let secondary = error_message(&answer.body)
        .to_lowercase()
        .contains("secondary rate limit");
    (secondary || answer.status == StatusCode::TOO_MANY_REQUESTS).then_some(Limit::Secondary {
        wait: SECONDARY_DEFAULT_WAIT,
    })
}

/// `retry-after` in seconds (GitHub never sends the HTTP-date form).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let seconds = headers
        .get("retry-after")?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(seconds))
}

/// GitHub's error body in words: its `message`, then each `errors[].message` (or the code
/// and field of an error without one).
fn error_message(body: &str) -> String {
    #[derive(Deserialize)]
    struct ErrorJson {
        message: Option<String>,
        #[serde(default)]
        errors: Vec<serde_json::Value>,
    }
    let Ok(error) = serde_json::from_str::<ErrorJson>(body) else {
        let text = body.trim();
        return match text.char_indices().nth(200) {
            Some((at, _)) => format!("{}…", &text[..at]),
            None => text.to_string(),
        };
    };
    let mut parts: Vec<String> = error.message.into_iter().collect();
    for detail in &error.errors {
        let text = match detail {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Object(fields) => {
                let field = |name: &str| fields.get(name).and_then(|v| v.as_str());
                match (field("message"), field("code"), field("field")) {
                    (Some(message), _, _) => Some(message.to_string()),
                    (None, Some(code), Some(name)) => Some(format!("{name}: {code}")),
                    (None, Some(code), None) => Some(code.to_string()),
                    _ => None,
                }
            }
            _ => None,
        };
        parts.extend(text);
    }
    parts.join("; ")
}

/// The path and query of the `rel="next"` link, if it is on the API's own server (a link
/// elsewhere is not followed: the token would go with it).
fn next_page(headers: &HeaderMap, api: &str) -> Option<String> {
    let link = headers.get(http::header::LINK)?.to_str().ok()?;
    let next = link.split(',').find_map(|part| {
        let (target, params) = part.trim().split_once(';')?;
        let is_next = params
            .split(';')
            .any(|p| p.trim().replace(' ', "") == "rel=\"next\"");
        is_next.then(|| target.trim().trim_start_matches('<').trim_end_matches('>'))
    })?;
    let next = reqwest::Url::parse(next).ok()?;
    let api = reqwest::Url::parse(api).ok()?;
    if next.origin() != api.origin() {
        return None;
    }
    Some(match next.query() {
        Some(query) => format!("{}?{query}", next.path()),
        None => next.path().to_string(),
    })
}

/// `text` for a query string: unreserved characters as they are, the rest `%XX`.
fn percent_encode(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn parse<T: DeserializeOwned>(answer: &Answer, what: &str) -> Result<T, ForgeError> {
    serde_json::from_str(&answer.body).map_err(|source| ForgeError::Malformed {
        what: what.to_string(),
        source,
    })
}

fn login(user: Option<UserJson>) -> String {
    user.map_or_else(|| "ghost".to_string(), |u| u.login)
}

/// What a token may do in one repository.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepoAccess {
    /// A classic token's scopes, as GitHub lists them (`repo, read:org`); `None` for a
    /// fine-grained token or an app's, which have permissions instead.
    pub scopes: Option<String>,
    pub private: bool,
    /// Issues are turned on in the repository.
    pub has_issues: bool,
    /// The token can read the repository (`permissions.pull`, or the repository is public).
    pub can_read: bool,
    /// The token can push to it (`permissions.push`): the `pr` stage needs that.
    pub can_push: bool,
}

#[derive(Deserialize)]
struct RepoJson {
    #[serde(default)]
    private: bool,
    #[serde(default = "yes")]
    has_issues: bool,
    permissions: Option<PermissionsJson>,
}

fn yes() -> bool {
    true
}

#[derive(Default, Deserialize)]
struct PermissionsJson {
    #[serde(default)]
    push: bool,
    #[serde(default)]
    pull: bool,
}

#[derive(Deserialize)]
struct UserJson {
    login: String,
}

#[derive(Deserialize)]
struct LabelJson {
    name: String,
}

#[derive(Deserialize)]
struct IssueJson {
    number: u64,
    title: String,
    body: Option<String>,
    #[serde(default)]
    labels: Vec<LabelJson>,
    user: Option<UserJson>,
    state: String,
    #[serde(default)]
    locked: bool,
    html_url: String,
    #[serde(default)]
    comments: u64,
    pull_request: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct CommentJson {
    user: Option<UserJson>,
    author_association: Option<String>,
    body: Option<String>,
    created_at: String,
}

#[derive(Deserialize)]
struct PullJson {
    number: u64,
    html_url: String,
    state: String,
    #[serde(default)]
    draft: bool,
}

impl PullJson {
    fn into_pull(self) -> PullRequest {
        PullRequest {
            number: self.number,
            html_url: self.html_url,
            draft: self.draft,
            state: self.state,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::time::UNIX_EPOCH;

    use serde_json::Value;
    use wiremock::matchers::{
        body_json, header, method, path, query_param, query_param_is_missing,
    };
    use wiremock::{Mock, MockServer, ResponseTemplate};

    const TOKEN: &str = "ghp_16C7e42F292c6912E7710c838347Ae178B4a";
    const ISSUE: &str = "/repos/octo/hello/issues/7";
    const PULLS: &str = "/repos/octo/hello/pulls";

    type Waits = Arc<Mutex<Vec<Wait>>>;

    fn policy() -> (Policy, Waits) {
        let waits: Waits = Arc::default();
        let seen = waits.clone();
        let policy = Policy {
            max_wait: Duration::from_secs(5),
            timeout: Duration::from_secs(5),
            attempts: 3,
            retry_delay: Duration::from_millis(10),
            on_wait: Some(Arc::new(move |wait: Wait| seen.lock().unwrap().push(wait))),
        };
        (policy, waits)
    }

    fn client(server: &MockServer, policy: Policy) -> GitHub {
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        GitHub::new(
            http,
            Host::from_api_url(&server.uri()).unwrap(),
            "octo/hello".parse().unwrap(),
            Token::new(TOKEN, TokenSource::Env("GITHUB_TOKEN")),
            policy,
        )
        .unwrap()
    }

    fn unix_now() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
    }

    /// Headers GitHub sends with every API answer.
    fn github(status: u16, remaining: u64, reset: u64) -> ResponseTemplate {
        ResponseTemplate::new(status)
            .insert_header("content-type", "application/json; charset=utf-8")
            .insert_header("x-ratelimit-limit", "5000")
            .insert_header("x-ratelimit-remaining", remaining.to_string().as_str())
            .insert_header("x-ratelimit-reset", reset.to_string().as_str())
            .insert_header("x-ratelimit-used", (5000 - remaining).to_string().as_str())
            .insert_header("x-ratelimit-resource", "core")
            .insert_header("x-oauth-scopes", "repo, read:org")
            .insert_header("x-github-api-version-selected", "2022-11-28")
    }

    fn ok(body: Value) -> ResponseTemplate {
        github(200, 4999, unix_now() + 3600).set_body_json(body)
    }

    fn user(login: &str) -> Value {
        serde_json::json!({
            "login": login, "id": 1, "node_id": "MDQ6VXNlcjE=", "type": "User",
            "avatar_url": "https://github.com/images/error/octocat_happy.gif",
            "site_admin": false
        })
    }

    fn issue_json(uri: &str, comments: u64, pull: bool) -> Value {
        let mut issue = serde_json::json!({
            "id": 1, "node_id": "MDU6SXNzdWUx",
            "url": format!("{uri}/repos/octo/hello/issues/7"),
            "repository_url": format!("{uri}/repos/octo/hello"),
            "html_url": "https://github.com/octo/hello/issues/7",
            "number": 7, "state": "open", "title": "Found a bug",
            "body": "I'm having a problem with this.",
            "user": user("octocat"),
            "labels": [
                {"id": 208045946, "node_id": "MDU6TGFiZWwyMDgwNDU5NDY=", "name": "bug",
                 "description": "Something isn't working", "color": "f29513", "default": true},
                {"id": 208045947, "name": "good first issue", "color": "7057ff", "default": true}
            ],
            "assignee": null, "assignees": [], "milestone": null,
            "locked": false, "active_lock_reason": null, "comments": comments,
            "closed_at": null, "created_at": "2011-04-22T13:33:48Z",
            "updated_at": "2011-04-22T13:33:48Z", "author_association": "OWNER",
            "state_reason": null
        });
        if pull {
            issue["pull_request"] = serde_json::json!({
                "url": format!("{uri}/repos/octo/hello/pulls/7"),
                "html_url": "https://github.com/octo/hello/pull/7",
                "diff_url": "https://github.com/octo/hello/pull/7.diff",
                "patch_url": "https://github.com/octo/hello/pull/7.patch",
                "merged_at": null
            });
        }
        issue
    }

    fn comment_json(n: u64) -> Value {
        serde_json::json!({
            "id": n, "node_id": "MDEyOklzc3VlQ29tbWVudDE=",
            "url": format!("https://api.github.com/repos/octo/hello/issues/comments/{n}"),
            "html_url": format!("https://github.com/octo/hello/issues/7#issuecomment-{n}"),
            "body": format!("comment {n}"),
            "user": user(if n == 1 { "hubot" } else { "octocat" }),
            "created_at": "2011-04-14T16:00:49Z", "updated_at": "2011-04-14T16:00:49Z",
            "issue_url": "https://api.github.com/repos/octo/hello/issues/7",
            "author_association": if n == 1 { "NONE" } else { "OWNER" }
        })
    }

    fn pull_json(number: u64, draft: bool) -> Value {
        serde_json::json!({
            "url": format!("https://api.github.com/repos/octo/hello/pulls/{number}"),
            "id": 1, "node_id": "MDExOlB1bGxSZXF1ZXN0MQ==",
            "html_url": format!("https://github.com/octo/hello/pull/{number}"),
            "number": number, "state": "open", "locked": false, "title": "Fix the bug",
            "user": user("octocat"), "body": "Please pull these awesome changes in!",
            "draft": draft,
            "head": {"label": "octo:orchestrate/7-fix", "ref": "orchestrate/7-fix", "sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e"},
            "base": {"label": "octo:main", "ref": "main", "sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e"},
            "created_at": "2011-01-26T19:01:12Z", "updated_at": "2011-01-26T19:01:12Z"
        })
    }

    fn new_pull() -> NewPull {
        NewPull {
            title: "Fix the bug".to_string(),
            head: Head {
                owner: "octo".to_string(),
                branch: "orchestrate/7-fix".to_string(),
            },
            base: "main".to_string(),
            body: "Closes #7".to_string(),
            draft: true,
        }
    }

    fn assert_no_token(err: &ForgeError) {
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains(TOKEN), "the token leaked: {shown}");
    }

    #[tokio::test]
    async fn an_issue_and_three_pages_of_comments_following_links() {
        let server = MockServer::start().await;
        let uri = server.uri();
        Mock::given(method("GET"))
            .and(path(ISSUE))
            .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
            .and(header("accept", "application/vnd.github+json"))
            .and(header("x-github-api-version", "2022-11-28"))
            .respond_with(ok(issue_json(&uri, 5, false)))
            .expect(1)
            .mount(&server)
            .await;
        let pages = format!("{uri}/repositories/1296269/issues/7/comments?per_page=100");
        Mock::given(method("GET"))
            .and(path(format!("{ISSUE}/comments")))
            .and(query_param("per_page", "100"))
            .and(query_param_is_missing("page"))
            .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
            .respond_with(
                ok(serde_json::json!([comment_json(1), comment_json(2)])).insert_header(
                    "link",
                    format!(r#"<{pages}&page=2>; rel="next", <{pages}&page=3>; rel="last""#)
                        .as_str(),
                ),
            )
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/repositories/1296269/issues/7/comments"))
            .and(query_param("page", "2"))
            .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
            .respond_with(
                ok(serde_json::json!([comment_json(3), comment_json(4)])).insert_header(
                    "link",
                    format!(
                        r#"<{pages}&page=1>; rel="prev", <{pages}&page=3>; rel="next", <{pages}&page=3>; rel="last", <{pages}&page=1>; rel="first""#
                    )
                    .as_str(),
                ),
            )
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/repositories/1296269/issues/7/comments"))
            .and(query_param("page", "3"))
            .respond_with(ok(serde_json::json!([comment_json(5)])).insert_header(
                "link",
                format!(r#"<{pages}&page=2>; rel="prev", <{pages}&page=1>; rel="first""#).as_str(),
            ))
            .expect(1)
            .mount(&server)
            .await;

        let (policy, waits) = policy();
        let issue = client(&server, policy).issue(7).await.unwrap();
        assert_eq!(issue.number, 7);
        assert_eq!(issue.title, "Found a bug");
        assert_eq!(issue.body, "I'm having a problem with this.");
        assert_eq!(issue.labels, ["bug", "good first issue"]);
        assert_eq!(issue.author, "octocat");
        assert_eq!(issue.state, "open");
        assert!(!issue.locked);
        assert!(!issue.is_pull_request);
        assert_eq!(issue.html_url, "https://github.com/octo/hello/issues/7");
        assert_eq!(issue.comments_total, 5);
        let bodies: Vec<&str> = issue.comments.iter().map(|c| c.body.as_str()).collect();
        assert_eq!(
            bodies,
            [
                "comment 1",
                "comment 2",
                "comment 3",
                "comment 4",
                "comment 5"
            ]
        );
        assert_eq!(issue.comments[0].author, "hubot");
        assert_eq!(issue.comments[0].author_association, "NONE");
        assert_eq!(issue.comments[1].author_association, "OWNER");
        assert_eq!(issue.comments[0].created_at, "2011-04-14T16:00:49Z");
        assert!(waits.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_pull_request_number_is_flagged_and_no_comments_are_read_when_there_are_none() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/repos/octo/hello/issues/7"))
            .respond_with(ok(issue_json(&server.uri(), 0, true)))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path(format!("{ISSUE}/comments")))
            .respond_with(ok(serde_json::json!([])))
            .expect(0)
            .mount(&server)
            .await;
        let issue = client(&server, policy().0).issue(7).await.unwrap();
        assert!(issue.is_pull_request);
        assert!(issue.comments.is_empty());
        assert_eq!(issue.comments_total, 0);
    }

    #[tokio::test]
    async fn bad_credentials_name_the_tokens_source() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path(ISSUE))
            .respond_with(
                github(401, 59, unix_now() + 3600).set_body_json(serde_json::json!({
                    "message": "Bad credentials",
                    "documentation_url": "https://docs.github.com/rest",
                    "status": "401"
                })),
            )
            .expect(1)
            .mount(&server)
            .await;
        let err = client(&server, policy().0).issue(7).await.unwrap_err();
        assert!(matches!(
            err,
            ForgeError::BadCredentials {
                token_source: TokenSource::Env("GITHUB_TOKEN"),
                ..
            }
        ));
        assert_eq!(
            err.to_string(),
            "GitHub refused the token from GITHUB_TOKEN as bad credentials: Bad credentials"
        );
        assert!(!err.is_transient());
        assert_no_token(&err);
    }

    #[tokio::test]
    async fn not_found_says_the_token_may_not_see_it_with_its_scopes() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path(ISSUE))
            .respond_with(
                github(404, 4999, unix_now() + 3600).set_body_json(serde_json::json!({
                    "message": "Not Found",
                    "documentation_url": "https://docs.github.com/rest/issues/issues#get-an-issue",
                    "status": "404"
                })),
            )
            .expect(1)
            .mount(&server)
            .await;
        let err = client(&server, policy().0).issue(7).await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "issue #7 of octo/hello was not found, or the token from GITHUB_TOKEN cannot see \
             it (token scopes: repo, read:org)"
        );
        assert_no_token(&err);
    }

    #[tokio::test]
    async fn a_primary_rate_limit_about_to_reset_is_waited_out() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path(ISSUE))
            .respond_with(github(403, 0, unix_now() + 1).set_body_json(serde_json::json!({
                "message": "API rate limit exceeded for user ID 1.",
                "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
            })))
            .up_to_n_times(1)
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path(ISSUE))
            .respond_with(ok(issue_json(&server.uri(), 0, false)))
            .expect(1)
            .mount(&server)
            .await;
        let (policy, waits) = policy();
        let issue = client(&server, policy).issue(7).await.unwrap();
        assert_eq!(issue.number, 7);
        let waits = waits.lock().unwrap();
        assert_eq!(waits.len(), 1, "{waits:?}");
        assert_eq!(waits[0].reason, WaitReason::RateLimit);
        assert!(waits[0].wait <= Duration::from_secs(1), "{waits:?}");
        assert_eq!(waits[0].attempt, 1);
    }

    #[tokio::test]
    async fn a_primary_rate_limit_far_from_reset_is_an_error_at_once() {
        let server = MockServer::start().await;
        let reset = unix_now() + 3600;
        Mock::given(method("GET"))
            .and(path(ISSUE))
            .respond_with(github(429, 0, reset).set_body_json(serde_json::json!({
                "message": "API rate limit exceeded for user ID 1.",
                "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
            })))
            .expect(1)
            .mount(&server)
            .await;
        let (policy, waits) = policy();
        let started = std::time::Instant::now();
        let err = client(&server, policy).issue(7).await.unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(1));
        let ForgeError::RateLimited { reset_at, wait } = &err else {
            panic!("{err:?}");
        };
        assert_eq!(*reset_at, UNIX_EPOCH + Duration::from_secs(reset));
        assert!(*wait > Duration::from_secs(3590), "{wait:?}");
        let shown = err.to_string();
        let at = humantime::format_rfc3339_seconds(*reset_at).to_string();
        assert!(shown.contains(&at) && shown.contains("from now"), "{shown}");
        assert!(err.is_transient());
        assert!(waits.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_secondary_rate_limit_is_waited_for_its_retry_after() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path(ISSUE))
            .respond_with(
                github(403, 4990, unix_now() + 3600)
                    .insert_header("retry-after", "1")
                    .set_body_json(serde_json::json!({
                        "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
                        "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"
                    })),
            )
            .up_to_n_times(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path(ISSUE))
            .respond_with(ok(issue_json(&server.uri(), 0, false)))
            .mount(&server)
            .await;
        let (policy, waits) = policy();
        let started = std::time::Instant::now();
        client(&server, policy).issue(7).await.unwrap();
        assert!(started.elapsed() >= Duration::from_secs(1));
        assert_eq!(
            *waits.lock().unwrap(),
            [Wait {
                reason: WaitReason::SecondaryRateLimit,
                wait: Duration::from_secs(1),
                attempt: 1
            }]
        );
    }

    #[tokio::test]
    async fn a_secondary_rate_limit_beyond_the_longest_wait_is_an_error() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path(ISSUE))
            .respond_with(github(403, 4990, unix_now() + 3600).set_body_json(
                serde_json::json!({
                    "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
                    "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"
                }),
            ))
            .expect(1)
            .mount(&server)
            .await;
        let err = client(&server, policy().0).issue(7).await.unwrap_err();
        assert!(
            matches!(err, ForgeError::SecondaryRateLimited { retry_after } if retry_after == Duration::from_secs(60)),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn server_errors_are_retried_until_an_answer() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path(ISSUE))
            .respond_with(ResponseTemplate::new(502).set_body_string("<html>Bad Gateway</html>"))
            .up_to_n_times(2)
            .expect(2)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path(ISSUE))
            .respond_with(ok(issue_json(&server.uri(), 0, false)))
            .expect(1)
            .mount(&server)
            .await;
        let (policy, waits) = policy();
        client(&server, policy).issue(7).await.unwrap();
        let waits = waits.lock().unwrap();
        let delays: Vec<(WaitReason, Duration, u32)> = waits
            .iter()
            .map(|w| (w.reason, w.wait, w.attempt))
            .collect();
        assert_eq!(
            delays,
            [
                (
                    WaitReason::ServerError { status: 502 },
                    Duration::from_millis(10),
                    1
                ),
                (
                    WaitReason::ServerError { status: 502 },
                    Duration::from_millis(20),
                    2
                ),
            ]
        );
    }

    #[tokio::test]
    async fn server_errors_past_the_attempts_are_an_error() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path(ISSUE))
            .respond_with(
                github(503, 4999, unix_now() + 3600)
                    .set_body_json(serde_json::json!({"message": "Service Unavailable"})),
            )
            .expect(3)
            .mount(&server)
            .await;
        let err = client(&server, policy().0).issue(7).await.unwrap_err();
        assert!(
            matches!(
                err,
                ForgeError::Server {
                    status: 503,
                    attempts: 3,
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "GitHub answered 503 to issue #7 of octo/hello (3 attempts)"
        );
        assert!(err.is_transient());
    }

    #[tokio::test]
    async fn a_slow_answer_times_out() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path(ISSUE))
            .respond_with(ok(issue_json(&server.uri(), 0, false)).set_delay(Duration::from_secs(2)))
            .expect(2)
            .mount(&server)
            .await;
        let (mut policy, waits) = policy();
        policy.timeout = Duration::from_millis(200);
        policy.attempts = 2;
        let err = client(&server, policy).issue(7).await.unwrap_err();
        assert!(
            matches!(err, ForgeError::TimedOut { after, .. } if after == Duration::from_millis(200)),
            "{err:?}"
        );
        assert_eq!(waits.lock().unwrap()[0].reason, WaitReason::TimedOut);
        assert!(err.is_transient());
    }

    #[tokio::test]
    async fn creating_a_pull_request_posts_it_once() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path(PULLS))
            .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
            .and(body_json(serde_json::json!({
                "title": "Fix the bug",
                "head": "octo:orchestrate/7-fix",
                "base": "main",
                "body": "Closes #7",
                "draft": true
            })))
            .respond_with(github(201, 4999, unix_now() + 3600).set_body_json(pull_json(12, true)))
            .expect(1)
            .mount(&server)
            .await;
        let pull = client(&server, policy().0)
            .create_pull(&new_pull())
            .await
            .unwrap();
        assert_eq!(
            pull,
            Opened::Created(PullRequest {
                number: 12,
                html_url: "https://github.com/octo/hello/pull/12".to_string(),
                draft: true,
                state: "open".to_string(),
            })
        );
    }

    #[tokio::test]
    async fn an_existing_pull_request_is_found_instead_of_a_second() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path(PULLS))
            .respond_with(github(422, 4999, unix_now() + 3600).set_body_json(
                serde_json::json!({
                    "message": "Validation Failed",
                    "errors": [{
                        "resource": "PullRequest", "code": "custom",
                        "message": "A pull request already exists for octo:orchestrate/7-fix."
                    }],
                    "documentation_url": "https://docs.github.com/rest/pulls/pulls#create-a-pull-request",
                    "status": "422"
                }),
            ))
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path(PULLS))
            .and(query_param("state", "open"))
            .and(query_param("head", "octo:orchestrate/7-fix"))
            .respond_with(ok(serde_json::json!([pull_json(9, false)])))
            .expect(1)
            .mount(&server)
            .await;
        let pull = client(&server, policy().0)
            .create_pull(&new_pull())
            .await
            .unwrap();
        let Opened::Found(pull) = pull else {
            panic!("{pull:?}")
        };
        assert_eq!(pull.number, 9);
        assert!(!pull.draft);
    }

    #[tokio::test]
    async fn other_validation_failures_carry_githubs_words() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path(PULLS))
            .respond_with(github(422, 4999, unix_now() + 3600).set_body_json(
                serde_json::json!({
                    "message": "Validation Failed",
                    "errors": [{"resource": "PullRequest", "field": "base", "code": "invalid"}],
                    "documentation_url": "https://docs.github.com/rest/pulls/pulls#create-a-pull-request",
                    "status": "422"
                }),
            ))
            .expect(1)
            .mount(&server)
            .await;
        let err = client(&server, policy().0)
            .create_pull(&new_pull())
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "GitHub rejected a pull request from octo:orchestrate/7-fix to main in octo/hello: \
             Validation Failed; base: invalid"
        );
        assert_no_token(&err);
    }

    #[tokio::test]
    async fn a_failed_post_is_never_repeated_but_its_pull_request_is_found() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path(PULLS))
            .respond_with(ResponseTemplate::new(502))
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path(PULLS))
            .and(query_param("head", "octo:orchestrate/7-fix"))
            .respond_with(ok(serde_json::json!([pull_json(12, true)])))
            .expect(1)
            .mount(&server)
            .await;
        let (policy, waits) = policy();
        let pull = client(&server, policy)
            .create_pull(&new_pull())
            .await
            .unwrap();
        let Opened::Found(pull) = pull else {
            panic!("{pull:?}")
        };
        assert_eq!(pull.number, 12);
        assert!(waits.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_failed_post_with_nothing_opened_is_the_error() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path(PULLS))
            .respond_with(ResponseTemplate::new(500))
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path(PULLS))
            .respond_with(ok(serde_json::json!([])))
            .expect(1)
            .mount(&server)
            .await;
        let err = client(&server, policy().0)
            .create_pull(&new_pull())
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                ForgeError::Server {
                    status: 500,
                    attempts: 1,
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn find_pull_reads_open_pull_requests_only() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path(PULLS))
            .and(query_param("state", "open"))
            .and(query_param("head", "octo:orchestrate/7-fix"))
            .and(query_param("per_page", "100"))
            .respond_with(ok(serde_json::json!([])))
            .expect(1)
            .mount(&server)
            .await;
        let found = client(&server, policy().0)
            .find_pull(&new_pull().head)
            .await
            .unwrap();
        assert_eq!(found, None);
    }

    #[tokio::test]
    async fn updating_a_pull_request_patches_title_and_body() {
        let server = MockServer::start().await;
        Mock::given(method("PATCH"))
            .and(path(format!("{PULLS}/12")))
            .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
            .and(body_json(serde_json::json!({
                "title": "Fix the bug (v2)",
                "body": "Closes #7\n\nUpdated."
            })))
            .respond_with(ok(pull_json(12, false)))
            .expect(1)
            .mount(&server)
            .await;
        let pull = client(&server, policy().0)
            .update_pull(12, "Fix the bug (v2)", "Closes #7\n\nUpdated.")
            .await
            .unwrap();
        assert_eq!(pull.number, 12);
    }

    #[tokio::test]
    async fn commenting_posts_the_body_once() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path(format!("{ISSUE}/comments")))
            .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
            .and(body_json(
                serde_json::json!({"body": "Waiting at `before_pr`."}),
            ))
            .respond_with(github(201, 4999, unix_now() + 3600).set_body_json(comment_json(9)))
            .expect(1)
            .mount(&server)
            .await;
        client(&server, policy().0)
            .comment_issue(7, "Waiting at `before_pr`.")
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn a_failed_comment_is_not_sent_again() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path(format!("{ISSUE}/comments")))
            .respond_with(ResponseTemplate::new(502))
            .expect(1)
            .mount(&server)
            .await;
        let (policy, waits) = policy();
        let err = client(&server, policy)
            .comment_issue(7, "hello")
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                ForgeError::Server {
                    status: 502,
                    attempts: 1,
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "GitHub answered 502 to a comment on issue #7 of octo/hello (1 attempts)"
        );
        assert!(waits.lock().unwrap().is_empty());
    }

    #[test]
    fn links_are_followed_only_on_the_same_server() {
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::LINK,
            r#"<https://api.github.com/repositories/1/issues/7/comments?page=2>; rel="next""#
                .parse()
                .unwrap(),
        );
        assert_eq!(
            next_page(&headers, "https://api.github.com").as_deref(),
            Some("/repositories/1/issues/7/comments?page=2")
        );
        assert_eq!(next_page(&headers, "https://ghe.example.com/api/v3"), None);
        headers.insert(
            http::header::LINK,
            r#"<https://api.github.com/x?page=1>; rel="prev""#.parse().unwrap(),
        );
        assert_eq!(next_page(&headers, "https://api.github.com"), None);
    }

    #[tokio::test]
    async fn access_reads_permissions_and_scopes() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/repos/octo/hello"))
            .respond_with(
                github(200, 4999, unix_now() + 3600)
                    .insert_header("x-oauth-scopes", "read:org")
                    .set_body_json(serde_json::json!({
                        "id": 1, "full_name": "octo/hello", "private": true, "has_issues": true,
                        "permissions": {"admin": false, "maintain": false, "push": false,
                                        "triage": false, "pull": true}
                    })),
            )
            .expect(1)
            .mount(&server)
            .await;
        let access = client(&server, policy().0).access().await.unwrap();
        assert_eq!(
            access,
            RepoAccess {
                scopes: Some("read:org".into()),
                private: true,
                has_issues: true,
                can_read: true,
                can_push: false,
            }
        );
    }
}
