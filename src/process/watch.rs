//! Watching the processes a test starts: whether one still runs, waiting for it to stop
//! (killing it, so a failing test leaves nothing behind), and reading the pid a script wrote.
//! For the tests of every module that runs programs.

use std::path::Path;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// Bounds a failure, never a passing run: generous for a loaded 2-core machine.
pub const DEADLINE: Duration = Duration::from_secs(15);

/// Whether `pid` is running (a zombie nobody has reaped yet has exited: it counts as gone).
pub fn running(pid: i32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    let state = stat
        .rfind(')')
        .and_then(|at| stat[at + 1..].split_whitespace().next())
        .unwrap_or("X");
    state != "Z" && state != "X"
}

/// Wait until `pid` has exited; if it does not, kill it (leave nothing behind) and fail.
#[track_caller]
pub fn assert_stops(what: &str, pid: i32) {
    let start = Instant::now();
    while running(pid) {
        if start.elapsed() > DEADLINE {
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
            panic!("{what} (pid {pid}) was left running");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The pid a script wrote to `path`, waiting for it to appear.
pub async fn pid_in(path: &Path) -> i32 {
    let start = Instant::now();
    loop {
        if let Some(pid) = std::fs::read_to_string(path)
            .ok()
            .and_then(|s| s.trim().parse().ok())
        {
            return pid;
        }
        assert!(
            start.elapsed() < DEADLINE,
            "{} never written",
            path.display()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
