//! `git-orchestrate sandbox-exec`: the launcher's command line and its two roles.
//!
//! ```text
//! sandbox-exec [--parent PID] [--write PATH]... [--no-landlock] [--no-namespaces]
//!              [--no-network] -- PROGRAM [ARGS]...
//! sandbox-exec --probe          print what this machine offers, as JSON (an `Offer`)
//! sandbox-exec --inner -- PROGRAM [ARGS]...   process 1 of a new PID namespace (internal)
//! ```
//!
//! The launcher's exit status is the program's: its exit code, or, when the program was
//! killed by a signal, the same signal. When the launcher itself cannot start the program it
//! exits 127 (not found) or 126 (the sandbox could not be set up), with one line on stderr:
//! the program's stderr, which the caller reads as the program's own.

use std::ffi::OsString;
use std::path::PathBuf;

/// What the launcher was asked to do.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Args {
    pub parent: Option<i32>,
    pub write: Vec<PathBuf>,
    pub landlock: bool,
    pub namespaces: bool,
    pub network: bool,
    pub probe: bool,
    pub inner: bool,
    pub program: Vec<OsString>,
}

/// Why the launcher could not start the program.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error("sandbox-exec: {0}")]
    Usage(String),
    #[error("sandbox-exec: could not set up the sandbox: {0}")]
    Setup(String),
    #[error("sandbox-exec: could not run `{program}`: {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error("sandbox-exec: this system offers no sandbox")]
    Unsupported,
}

impl LaunchError {
    /// The exit status that says so, as a shell would: 127 for a program not found, else 126.
    pub fn code(&self) -> u8 {
        match self {
            LaunchError::Spawn { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                127
            }
            _ => 126,
        }
    }
}

pub(super) fn parse(args: &[OsString]) -> Result<Args, LaunchError> {
    let mut parsed = Args {
        landlock: true,
        namespaces: true,
        network: true,
        ..Args::default()
    };
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        let mut value = |name: &str| {
            rest.next()
                .cloned()
                .ok_or_else(|| LaunchError::Usage(format!("{name} needs a value")))
        };
        match arg.to_str() {
            Some("--parent") => {
                let pid = value("--parent")?;
                parsed.parent =
                    Some(pid.to_str().and_then(|p| p.parse().ok()).ok_or_else(|| {
                        LaunchError::Usage(format!("--parent {}: not a process id", pid.display()))
                    })?);
            }
            Some("--write") => parsed.write.push(PathBuf::from(value("--write")?)),
            Some("--no-landlock") => parsed.landlock = false,
            Some("--no-namespaces") => parsed.namespaces = false,
            Some("--no-network") => parsed.network = false,
            Some("--probe") => parsed.probe = true,
            Some("--inner") => parsed.inner = true,
            Some("--") => {
                parsed.program = rest.cloned().collect();
                break;
            }
            _ => {
                return Err(LaunchError::Usage(format!(
                    "unknown argument `{}`",
                    arg.display()
                )));
            }
        }
    }
    if parsed.program.is_empty() && !parsed.probe {
        return Err(LaunchError::Usage("no program after `--`".into()));
    }
    Ok(parsed)
}

/// Run the launcher with the arguments after `sandbox-exec`: returns the exit status to end
/// with, or what went wrong before the program could start. For `--probe` the JSON to print
/// comes back as `Ok(Probe)`.
pub fn main(args: &[OsString]) -> Result<Launched, LaunchError> {
    let args = parse(args)?;
    run(args)
}

/// How the launcher ends.
#[derive(Debug)]
pub enum Launched {
    /// Exit with this code.
    Exit(u8),
    /// The program was killed by this signal: end the same way.
    Signal(i32),
    /// `--probe`: print this JSON and exit 0.
    Probe(String),
}

/// End as the program ended: raise its signal on this process (default disposition), and
/// if that does not end it, the exit code a shell would give.
pub fn end_by_signal(signal: i32) -> u8 {
    use nix::sys::signal::{SigSet, Signal, raise};
    if let Ok(signal) = Signal::try_from(signal) {
        let mut set = SigSet::empty();
        set.add(signal);
        let _ = set.thread_unblock();
        let _ = raise(signal);
    }
    (128 + signal).clamp(0, 255) as u8
}

#[cfg(target_os = "linux")]
fn run(args: Args) -> Result<Launched, LaunchError> {
    super::linux::run(args)
}

#[cfg(not(target_os = "linux"))]
fn run(args: Args) -> Result<Launched, LaunchError> {
    if args.probe {
        let offer = super::Offer {
            landlock_why: Some("Landlock is Linux's".into()),
            namespaces_why: Some("namespaces are Linux's".into()),
            ..super::Offer::default()
        };
        return serde_json::to_string(&offer)
            .map(Launched::Probe)
            .map_err(|e| LaunchError::Setup(e.to_string()));
    }
    Err(LaunchError::Unsupported)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(words: &[&str]) -> Vec<OsString> {
        words.iter().map(OsString::from).collect()
    }

    #[test]
    fn arguments_are_read_up_to_the_program() {
        let args = parse(&os(&[
            "--parent",
            "42",
            "--write",
            "/w",
            "--no-network",
            "--",
            "sh",
            "-c",
            "--write /x",
        ]))
        .unwrap();
        assert_eq!(args.parent, Some(42));
        assert_eq!(args.write, [PathBuf::from("/w")]);
        assert!(!args.network && args.landlock && args.namespaces);
        assert_eq!(args.program, os(&["sh", "-c", "--write /x"]));
    }

    #[test]
    fn bad_arguments_are_usage_errors() {
        for bad in [
            &["--write"][..],
            &["--bogus", "--", "sh"],
            &["--"],
            &["--parent", "x", "--", "sh"],
        ] {
            let err = parse(&os(bad)).unwrap_err();
            assert!(matches!(err, LaunchError::Usage(_)), "{bad:?}: {err}");
            assert_eq!(err.code(), 126);
        }
        assert!(parse(&os(&["--probe"])).unwrap().probe);
    }
}
