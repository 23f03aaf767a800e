//! An error with its causes, as one line: `could not read x: permission denied`.
//!
//! Error types in this crate say what went wrong at their own level and keep the lower-level
//! error as their `source()`, never repeating it in their message; whoever shows the error
//! (the command line, a commit message, a transcript) prints the whole chain with [`chain`].

use std::error::Error;

/// `error`'s message followed by each of its sources' messages, joined with `: `.
pub fn chain(error: &dyn Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let line = cause.to_string();
        // A wrapper that shows its source's message as its own adds nothing.
        if !line.is_empty() && !text.ends_with(&line) {
            text.push_str(": ");
            text.push_str(&line);
        }
        source = cause.source();
    }
    text
}

/// What stopped a request from getting an answer, read from its error's causes (HTTP
/// clients wrap the system's error in layers: `Service Error: Reqwest Error: error sending
/// request: client error (Connect): dns error: failed to lookup address information`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum NetCause {
    /// The host name did not resolve: no network, no DNS, or a wrong name.
    Dns,
    /// Nothing listens there.
    Refused,
    /// No answer in time.
    TimedOut,
    /// The TLS handshake or the certificate failed.
    Tls,
    /// Anything else.
    Other,
}

impl NetCause {
    /// The cause of `error`, from the messages and I/O kinds along its chain.
    pub fn of(error: &(dyn Error + 'static)) -> NetCause {
        let mut source: Option<&(dyn Error + 'static)> = Some(error);
        let mut found = NetCause::Other;
        while let Some(cause) = source {
            if let Some(io) = cause.downcast_ref::<std::io::Error>() {
                match io.kind() {
                    std::io::ErrorKind::ConnectionRefused => return NetCause::Refused,
                    std::io::ErrorKind::TimedOut => return NetCause::TimedOut,
                    _ => {}
                }
            }
            let text = cause.to_string().to_ascii_lowercase();
            if text.contains("dns error")
                || text.contains("failed to lookup address")
                || text.contains("name or service not known")
                || text.contains("temporary failure in name resolution")
                || text.contains("no address associated")
                || text.contains("nodename nor servname")
            {
                return NetCause::Dns;
            }
            if text.contains("connection refused") {
                found = NetCause::Refused;
            } else if found == NetCause::Other
                && (text.contains("certificate") || text.contains("tls") || text.contains("ssl"))
            {
                found = NetCause::Tls;
            } else if found == NetCause::Other && text.contains("timed out") {
                found = NetCause::TimedOut;
            }
            source = cause.source();
        }
        found
    }

    /// One plain sentence for a request to `host` that failed this way; `innermost` is the
    /// deepest cause's own words, for what no rule names.
    pub fn sentence(self, host: &str, innermost: &str) -> String {
        match self {
            NetCause::Dns => format!(
                "the name {host} did not resolve (no network, no DNS, or a wrong host name)"
            ),
            NetCause::Refused => format!("nothing accepted a connection at {host}"),
            NetCause::TimedOut => format!("{host} did not answer in time"),
            NetCause::Tls => format!("the secure connection to {host} failed: {innermost}"),
            NetCause::Other => format!("the connection to {host} failed: {innermost}"),
        }
    }
}

/// The deepest cause of `error`: the words of whatever failed first.
pub fn innermost(error: &dyn Error) -> String {
    let mut last = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !text.is_empty() {
            last = text;
        }
        source = cause.source();
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("Service Error: Reqwest Error: error sending request")]
    struct Wrapper {
        source: std::io::Error,
    }

    #[test]
    fn network_causes_are_read_through_the_wrappers() {
        let dns = Wrapper {
            source: std::io::Error::other(
                "failed to lookup address information: Name or service not known",
            ),
        };
        assert_eq!(NetCause::of(&dns), NetCause::Dns);
        assert_eq!(
            NetCause::of(&dns).sentence("api.github.com", &innermost(&dns)),
            "the name api.github.com did not resolve (no network, no DNS, or a wrong host name)"
        );
        let refused = Wrapper {
            source: std::io::Error::from(std::io::ErrorKind::ConnectionRefused),
        };
        assert_eq!(NetCause::of(&refused), NetCause::Refused);
        let other = Wrapper {
            source: std::io::Error::other("broken pipe"),
        };
        assert_eq!(NetCause::of(&other), NetCause::Other);
        assert_eq!(
            NetCause::of(&other).sentence("h", &innermost(&other)),
            "the connection to h failed: broken pipe"
        );
    }

    #[derive(Debug, thiserror::Error)]
    #[error("could not read the file")]
    struct Outer {
        source: std::io::Error,
    }

    #[test]
    fn causes_follow_the_message() {
        let error = Outer {
            source: std::io::Error::other("permission denied"),
        };
        assert_eq!(chain(&error), "could not read the file: permission denied");
    }
}
