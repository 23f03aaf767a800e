//! Reading the host and repository out of a git remote's URL, in every form git accepts for
//! a network remote: `https://`, `http://`, `ssh://`, `git://` and scp-like `git@host:o/r`.
//! Local paths and `file://` URLs name no forge and are refused.

use super::RepoId;

/// The host and repository a remote URL points at, or `None` if it is not a network URL of
/// the form `…/owner/name(.git)(/)`. The host is lower-case; it keeps its port for http(s)
/// (the web server's port) and drops it for ssh and git (a port that says nothing about
/// where the web server is).
pub fn parse_remote_url(url: &str) -> Option<(String, RepoId)> {
    let url = url.trim();
    let (host, path) = match url.split_once("://") {
        Some((scheme, rest)) => {
            let scheme = scheme.to_ascii_lowercase();
            let keep_port = match scheme.as_str() {
                "https" | "http" => true,
                "ssh" | "git" | "git+ssh" | "ssh+git" => false,
                _ => return None,
            };
            let (authority, path) = rest.split_once('/')?;
            (host_of(authority, keep_port)?, path)
        }
        None => scp_like(url)?,
    };
    Some((host, repo_of(path)?))
}

/// `[user@]host:path`, git's scp-like syntax. git reads a colon after a slash as part of a
/// local path (`./a:b`), and so does this.
fn scp_like(url: &str) -> Option<(String, &str)> {
    let colon = url.find(':')?;
    if url[..colon].contains('/') {
        return None;
    }
    let (authority, path) = (&url[..colon], &url[colon + 1..]);
    if authority.len() == 1 {
        return None; // a drive letter, `C:/src/r`
    }
    Some((host_of(authority, false)?, path))
}

/// The host of `[user[:password]@]host[:port]`, with its port if `keep_port`.
fn host_of(authority: &str, keep_port: bool) -> Option<String> {
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = match host_port.rsplit_once(':') {
        Some((host, port)) if !host.contains(']') || host.ends_with(']') => (host, Some(port)),
        _ => (host_port, None),
    };
    let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '[' | ']');
    if host.is_empty() || !host.chars().all(valid) {
        return None;
    }
    let host = host.to_ascii_lowercase();
    match port {
        Some(port) if port.is_empty() || !port.chars().all(|c| c.is_ascii_digit()) => None,
        Some(port) if keep_port => Some(format!("{host}:{port}")),
        _ => Some(host),
    }
}

/// `owner/name` from a URL's path: leading and trailing slashes and a `.git` suffix removed,
/// then exactly two parts.
fn repo_of(path: &str) -> Option<RepoId> {
    let path = path.trim_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path);
    let (owner, name) = path.split_once('/')?;
    if name.contains('/') {
        return None;
    }
    RepoId::new(owner, name).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(url: &str) -> (String, String) {
        let (host, repo) = parse_remote_url(url).unwrap_or_else(|| panic!("{url} not parsed"));
        (host, repo.to_string())
    }

    #[test]
    fn every_network_form_names_host_and_repository() {
        let cases = [
            ("https://github.com/o/r", "github.com"),
            ("https://github.com/o/r.git", "github.com"),
            ("https://github.com/o/r/", "github.com"),
            ("https://github.com/o/r.git/", "github.com"),
            ("https://user@github.com/o/r.git", "github.com"),
            (
                "https://x-access-token:abc@github.com/o/r.git",
                "github.com",
            ),
            ("http://github.com/o/r", "github.com"),
            ("HTTPS://GitHub.com/o/r", "github.com"),
            ("git@github.com:o/r.git", "github.com"),
            ("git@github.com:o/r", "github.com"),
            ("github.com:o/r.git", "github.com"),
            ("git@github.com:/o/r.git", "github.com"),
            ("ssh://git@github.com/o/r", "github.com"),
            ("ssh://git@github.com:22/o/r.git", "github.com"),
            ("git+ssh://git@github.com/o/r.git", "github.com"),
            ("git://github.com/o/r.git", "github.com"),
            ("https://ghe.example.com/o/r.git", "ghe.example.com"),
            ("https://ghe.example.com:8443/o/r", "ghe.example.com:8443"),
            ("git@ghe.example.com:o/r.git", "ghe.example.com"),
            ("ssh://git@ghe.example.com:2222/o/r", "ghe.example.com"),
        ];
        for (url, host) in cases {
            assert_eq!(parsed(url), (host.to_string(), "o/r".to_string()), "{url}");
        }
        assert_eq!(
            parsed("git@github.com:rust-lang/rust.vim.git").1,
            "rust-lang/rust.vim"
        );
        assert_eq!(parsed("https://github.com/o/r.git.git").1, "o/r.git");
    }

    #[test]
    fn local_paths_and_other_shapes_are_refused() {
        for url in [
            "",
            "/srv/git/o/r.git",
            "./o/r",
            "../r",
            "o/r",
            "file:///srv/git/o/r.git",
            "file://host/o/r",
            "C:/o/r",
            "./a:b/c",
            "https://github.com/o",
            "https://github.com/o/r/tree/main",
            "https://github.com/",
            "https://github.com",
            "git@github.com:o",
            "git@github.com:o/r/x.git",
            "ftp://github.com/o/r",
            "https:///o/r",
            "ssh://git@github.com:abc/o/r",
            "https://github.com/o/r?x=1",
            "git@github.com:~user/r.git",
        ] {
            assert!(parse_remote_url(url).is_none(), "{url:?} parsed");
        }
    }
}
