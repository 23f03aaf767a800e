//! The forge: where issues are read and pull requests opened. Today that is GitHub
//! (github.com or an Enterprise server), behind one trait, [`Forge`], so the pipeline can be
//! tested against a fake and never sees HTTP.
//!
//! What lives here: naming a repository ([`RepoId`]) and a server ([`Host`]), reading both
//! from a git remote's URL ([`remote`]), finding a token ([`token`]), and the client itself
//! ([`github::GitHub`]), which owns every rule about talking to GitHub — rate limits, retries,
//! timeouts, and never posting a pull request twice. Errors say what happened and where the
//! token came from, never the token.

pub mod github;
pub mod remote;
pub mod token;

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime};

use futures_util::future::BoxFuture;

pub use github::{GitHub, Policy, RepoAccess, Wait, WaitReason};
pub use remote::parse_remote_url;
pub use token::{Token, TokenSource};

/// A repository on the forge: `owner/name`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RepoId {
    pub owner: String,
    pub name: String,
}

impl RepoId {
    /// A repository from its two parts, each checked as [`FromStr`] checks them.
    pub fn new(owner: &str, name: &str) -> Result<RepoId, ForgeError> {
        if legal_name(owner) && legal_name(name) {
            Ok(RepoId {
                owner: owner.to_string(),
                name: name.to_string(),
            })
        } else {
            Err(ForgeError::BadRepo {
                value: format!("{owner}/{name}"),
            })
        }
    }
}

/// A name GitHub could have given an owner or repository: letters, digits, `.`, `_`, `-`,
/// and not `.` or `..`.
fn legal_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

impl FromStr for RepoId {
    type Err = ForgeError;

    /// `owner/name`, exactly one slash.
    fn from_str(s: &str) -> Result<RepoId, ForgeError> {
        match s.split_once('/') {
            Some((owner, name)) if !name.contains('/') => RepoId::new(owner, name),
            _ => Err(ForgeError::BadRepo {
                value: s.to_string(),
            }),
        }
    }
}

impl fmt::Display for RepoId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

/// A GitHub server: its REST API and its web address, both without a trailing slash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Host {
    /// `https://api.github.com`, or `https://HOST/api/v3` for GitHub Enterprise Server.
    pub api: String,
    /// `https://github.com`, or `https://HOST`.
    pub web: String,
}

impl Host {
    /// github.com.
    pub fn github_com() -> Host {
        Host {
            api: "https://api.github.com".to_string(),
            web: "https://github.com".to_string(),
        }
    }

    /// The server whose API is at `url`: github.com's API, an Enterprise server's
    /// `https://HOST/api/v3`, or any other http(s) URL (a test server), whose web address is
    /// the URL without a trailing `/api/v3`.
    pub fn from_api_url(url: &str) -> Result<Host, ForgeError> {
        let bad = || ForgeError::BadApiUrl {
            url: url.to_string(),
        };
        let api = url.trim_end_matches('/');
        let parsed = reqwest::Url::parse(api).map_err(|_| bad())?;
        if !matches!(parsed.scheme(), "http" | "https")
            || parsed.host_str().is_none_or(str::is_empty)
            || parsed.query().is_some()
        {
            return Err(bad());
        }
        if parsed.host_str() == Some("api.github.com") && parsed.path() == "/" {
            return Ok(Host::github_com());
        }
        let web = api.strip_suffix("/api/v3").unwrap_or(api);
        Ok(Host {
            api: api.to_string(),
            web: web.to_string(),
        })
    }

    /// The server for a host name read from a remote URL: github.com's, else an Enterprise
    /// server's (`https://HOST/api/v3`).
    pub fn from_web_host(host: &str) -> Host {
        if host.eq_ignore_ascii_case("github.com") {
            Host::github_com()
        } else {
            Host {
                api: format!("https://{host}/api/v3"),
                web: format!("https://{host}"),
            }
        }
    }

    /// The protocol and `host[:port]` of the web address: what `git credential fill` is asked
    /// for (the API's own host would not match any stored credential).
    pub fn credential_target(&self) -> (String, String) {
        match reqwest::Url::parse(&self.web) {
            Ok(url) => {
                let host = url.host_str().unwrap_or_default();
                let host = match url.port() {
                    Some(port) => format!("{host}:{port}"),
                    None => host.to_string(),
                };
                (url.scheme().to_string(), host)
            }
            Err(_) => ("https".to_string(), self.web.clone()),
        }
    }
}

/// Where an issue or pull request lives on the forge, and what the pipeline does with it.
pub trait Forge: Send + Sync {
    /// Issue `number` with its comments (at most the first thousand).
    fn issue(&self, number: u64) -> BoxFuture<'_, Result<RemoteIssue, ForgeError>>;
    /// The open pull request from `head`, if there is one.
    fn find_pull<'a>(
        &'a self,
        head: &'a Head,
    ) -> BoxFuture<'a, Result<Option<PullRequest>, ForgeError>>;
    /// Open a pull request. If one from the same head is already open (made by an earlier
    /// run, or by this call when its answer was lost), that one is returned.
    fn create_pull<'a>(&'a self, new: &'a NewPull) -> BoxFuture<'a, Result<Opened, ForgeError>>;
    /// Set an open pull request's title and body.
    fn update_pull<'a>(
        &'a self,
        number: u64,
        title: &'a str,
        body: &'a str,
    ) -> BoxFuture<'a, Result<PullRequest, ForgeError>>;
    /// Add a comment to issue (or pull request) `number`. Sent once: a comment whose answer
    /// was lost may have been made, and a second would repeat it.
    fn comment_issue<'a>(
        &'a self,
        number: u64,
        body: &'a str,
    ) -> BoxFuture<'a, Result<(), ForgeError>>;
    fn repo(&self) -> &RepoId;
    fn host(&self) -> &Host;
}

/// An issue as the forge has it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteIssue {
    pub number: u64,
    pub title: String,
    /// Empty when the issue has no description.
    pub body: String,
    pub labels: Vec<String>,
    /// The author's login (`ghost` for a deleted account).
    pub author: String,
    /// `open` or `closed`.
    pub state: String,
    pub locked: bool,
    pub html_url: String,
    /// The number names a pull request (GitHub numbers both alike).
    pub is_pull_request: bool,
    /// The comments read, oldest first; at most a thousand.
    pub comments: Vec<RemoteComment>,
    /// How many comments the issue has, read or not.
    pub comments_total: u64,
}

/// A comment on an issue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteComment {
    pub author: String,
    /// `OWNER`, `MEMBER`, `COLLABORATOR`, `CONTRIBUTOR`, `NONE`, ...: whether the author
    /// speaks for the repository.
    pub author_association: String,
    pub body: String,
    /// RFC 3339, as GitHub sends it.
    pub created_at: String,
}

/// A pull request as the forge has it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PullRequest {
    pub number: u64,
    pub html_url: String,
    pub draft: bool,
    /// `open` or `closed`.
    pub state: String,
}

/// What opening a pull request came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Opened {
    /// GitHub made it now.
    Created(PullRequest),
    /// One was open for the branch already (GitHub said so, or a request whose answer was
    /// lost had made it): it still has its old title and body.
    Found(PullRequest),
}

/// The branch a pull request is opened from: a branch of `owner`'s repository (the same
/// repository, or a fork).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Head {
    pub owner: String,
    pub branch: String,
}

impl Head {
    /// `owner:branch`, as GitHub's API names a head.
    pub fn query(&self) -> String {
        format!("{}:{}", self.owner, self.branch)
    }
}

impl fmt::Display for Head {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.query())
    }
}

/// A pull request to open.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewPull {
    pub title: String,
    pub head: Head,
    /// The branch to merge into (`main`).
    pub base: String,
    pub body: String,
    pub draft: bool,
}

/// What went wrong talking to the forge. No variant holds or shows a token's value.
#[derive(Debug, thiserror::Error)]
pub enum ForgeError {
    #[error("remote `{remote}` ({url}) is not a GitHub repository URL")]
    NotGitHub { remote: String, url: String },
    #[error("the repository has no remote `{remote}`")]
    NoRemote { remote: String },
    #[error("`{value}` is not a repository (owner/name)")]
    BadRepo { value: String },
    #[error("`{url}` is not a GitHub API URL")]
    BadApiUrl { url: String },
    #[error("no GitHub token for {host}")]
    NoToken { host: String },
    #[error("GitHub refused the token from {token_source} as bad credentials: {message}")]
    BadCredentials {
        token_source: TokenSource,
        message: String,
    },
    #[error(
        "GitHub's API rate limit is used up until {} ({} from now)",
        humantime::format_rfc3339_seconds(*reset_at),
        humantime::format_duration(round_seconds(*wait))
    )]
    RateLimited {
        reset_at: SystemTime,
        wait: Duration,
    },
    #[error(
        "GitHub's secondary rate limit: asked to wait {}",
        humantime::format_duration(round_seconds(*retry_after))
    )]
    SecondaryRateLimited { retry_after: Duration },
    #[error(
        "{what} was not found, or the token from {token_source} cannot see it{}",
        scopes_note(scopes)
    )]
    NotFound {
        what: String,
        token_source: TokenSource,
        scopes: Option<String>,
    },
    /// A 403 that is not a rate limit.
    #[error("GitHub refused {what}{}: {message}", scopes_note(scopes))]
    Forbidden {
        what: String,
        message: String,
        scopes: Option<String>,
    },
    /// A 422 (validation failed), with GitHub's messages.
    #[error("GitHub rejected {what}: {message}")]
    Unprocessable { what: String, message: String },
    /// A 5xx answer, after `attempts` tries (one for a `POST`: opening a pull request, commenting).
    #[error("GitHub answered {status} to {what} ({attempts} attempts)")]
    Server {
        what: String,
        status: u16,
        attempts: u32,
    },
    /// Any other answer that is not a success (400, 409, 410, ...).
    #[error("GitHub answered {status} to {what}: {message}")]
    Status {
        what: String,
        status: u16,
        message: String,
    },
    /// No answer: `detail` says why in one sentence naming the host (the HTTP client's own
    /// error reads `Service Error: Reqwest Error: ...`); `dns` when the name did not resolve.
    #[error("could not reach GitHub for {what}: {detail}")]
    Network {
        what: String,
        detail: String,
        dns: bool,
    },
    #[error("GitHub did not answer {what} within {}", humantime::format_duration(*after))]
    TimedOut { what: String, after: Duration },
    #[error("GitHub's answer to {what} is not what its API documents")]
    Malformed {
        what: String,
        source: serde_json::Error,
    },
}

impl ForgeError {
    /// Whether the same request could succeed later: rate limits, server errors, lost
    /// connections, timeouts.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            ForgeError::RateLimited { .. }
                | ForgeError::SecondaryRateLimited { .. }
                | ForgeError::Server { .. }
                | ForgeError::Network { .. }
                | ForgeError::TimedOut { .. }
        )
    }
}

fn round_seconds(d: Duration) -> Duration {
    Duration::from_secs(d.as_secs() + u64::from(d.subsec_nanos() >= 500_000_000))
}

fn scopes_note(scopes: &Option<String>) -> String {
    match scopes.as_deref().map(str::trim) {
        None => String::new(),
        Some("") => " (token scopes: none)".to_string(),
        Some(scopes) => format!(" (token scopes: {scopes})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_ids_parse_and_display() {
        let repo: RepoId = "rust-lang/rust.vim".parse().unwrap();
        assert_eq!(repo.owner, "rust-lang");
        assert_eq!(repo.name, "rust.vim");
        assert_eq!(repo.to_string(), "rust-lang/rust.vim");
        for bad in [
            "", "/", "a", "a/", "/b", "a/b/c", "a b/c", "a/b?", "../b", "a/..", "ä/b",
        ] {
            assert!(bad.parse::<RepoId>().is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn hosts_from_api_urls() {
        assert_eq!(
            Host::from_api_url("https://api.github.com/").unwrap(),
            Host::github_com()
        );
        let ghe = Host::from_api_url("https://ghe.example.com/api/v3").unwrap();
        assert_eq!(ghe.web, "https://ghe.example.com");
        assert_eq!(ghe.api, "https://ghe.example.com/api/v3");
        let local = Host::from_api_url("http://127.0.0.1:4321").unwrap();
        assert_eq!(local.web, "http://127.0.0.1:4321");
        assert_eq!(local.api, "http://127.0.0.1:4321");
        for bad in ["", "api.github.com", "ftp://x.example/", "file:///tmp"] {
            assert!(Host::from_api_url(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn credentials_are_asked_for_the_web_host() {
        assert_eq!(
            Host::github_com().credential_target(),
            ("https".to_string(), "github.com".to_string())
        );
        let local = Host::from_api_url("http://127.0.0.1:4321/api/v3").unwrap();
        assert_eq!(
            local.credential_target(),
            ("http".to_string(), "127.0.0.1:4321".to_string())
        );
        assert_eq!(
            Host::from_web_host("ghe.example.com").api,
            "https://ghe.example.com/api/v3"
        );
    }

    #[test]
    fn errors_say_where_the_token_came_from() {
        let err = ForgeError::NotFound {
            what: "issue 7 of o/r".to_string(),
            token_source: TokenSource::Env("GITHUB_TOKEN"),
            scopes: Some("repo".to_string()),
        };
        assert_eq!(
            err.to_string(),
            "issue 7 of o/r was not found, or the token from GITHUB_TOKEN cannot see it \
             (token scopes: repo)"
        );
        let err = ForgeError::RateLimited {
            reset_at: SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
            wait: Duration::from_secs(3600),
        };
        assert_eq!(
            err.to_string(),
            "GitHub's API rate limit is used up until 2023-11-14T22:13:20Z (1h from now)"
        );
        assert!(err.is_transient());
    }
}
