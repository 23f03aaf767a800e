//! The launcher on Linux: namespaces, Landlock, the subreaper, and waiting.
//!
//! The outer launcher (started by git-orchestrate, in the program's process group) asks for
//! SIGTERM when its parent dies, becomes the child subreaper, enters new user, PID and (for
//! `--no-network`) network namespaces where it may, confines writes with Landlock, and starts
//! either the program (no namespaces) or the inner launcher, which is process 1 of the new
//! PID namespace, asks for SIGKILL when the outer one dies, starts the program and reaps
//! until it ends. When process 1 of a PID namespace exits the kernel kills every process left
//! in it, so nothing of the attempt outlives the program, whatever left with `setsid`.
//! Without namespaces the outer launcher kills what is left itself: every process it adopted
//! as subreaper.

use std::ffi::OsString;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};

use landlock::{
    ABI, Access, AccessFs, AccessNet, LandlockStatus, Ruleset, RulesetAttr, RulesetCreatedAttr,
    RulesetStatus, path_beneath_rules,
};
use nix::errno::Errno;
use nix::sched::{CloneFlags, unshare};
use nix::sys::prctl;
use nix::sys::signal::{SigSet, Signal, kill};
use nix::sys::signalfd::SignalFd;
use nix::sys::socket::{
    AddressFamily, MsgFlags, NetlinkAddr, SockFlag, SockProtocol, SockType, recv, sendto, socket,
};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{Pid, getgid, getpid, getppid, getuid};

use super::Offer;
use super::launcher::{Args, LaunchError, Launched};

/// The ABI whose rights the rulesets handle; a kernel offering less enforces what it knows.
const FS_ABI: ABI = ABI::V6;

/// Device files every program writes (`> /dev/null`), and terminals.
const DEVICES: [&str; 7] = [
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/random",
    "/dev/urandom",
    "/dev/tty",
    "/dev/ptmx",
];

pub(super) fn run(args: Args) -> Result<Launched, LaunchError> {
    if args.probe {
        return probe();
    }
    if args.inner {
        return inner(&args.program);
    }
    outer(&args)
}

fn probe() -> Result<Launched, LaunchError> {
    let mut offer = Offer {
        launched: true,
        ..Offer::default()
    };
    match enter_namespaces(false) {
        Ok(()) => offer.namespaces = true,
        Err(why) => offer.namespaces_why = Some(why),
    }
    match confine(&[], true) {
        Ok(abi) => offer.landlock = Some(abi),
        Err(why) => offer.landlock_why = Some(why),
    }
    serde_json::to_string(&offer)
        .map(Launched::Probe)
        .map_err(|e| LaunchError::Setup(e.to_string()))
}

fn outer(args: &Args) -> Result<Launched, LaunchError> {
    prctl::set_pdeathsig(Signal::SIGTERM).map_err(|e| setup("PR_SET_PDEATHSIG", e))?;
    if let Some(parent) = args.parent
        && getppid().as_raw() != parent
    {
        // git-orchestrate died before the request took effect: nothing is to be started.
        return Ok(Launched::Signal(Signal::SIGKILL as i32));
    }
    prctl::set_child_subreaper(true).map_err(|e| setup("PR_SET_CHILD_SUBREAPER", e))?;
    // The caller asks for namespaces only where the probe made them: failing now is an error,
    // never a quietly weaker sandbox.
    if args.namespaces {
        enter_namespaces(!args.network).map_err(LaunchError::Setup)?;
    }
    let namespaces = args.namespaces;
    if args.landlock {
        confine(&args.write, !args.network && !namespaces).map_err(LaunchError::Setup)?;
    }

    // Signals are blocked (to be read from a signalfd) only once the child runs: a child
    // inherits the mask. One that ends meanwhile is found by the first reap.
    let child = match namespaces {
        true => Command::new("/proc/self/exe")
            .arg(super::SUBCOMMAND)
            .arg("--inner")
            .arg("--")
            .args(&args.program)
            .spawn(),
        false => Command::new(&args.program[0])
            .args(&args.program[1..])
            .spawn(),
    }
    .map_err(|source| LaunchError::Spawn {
        program: args.program[0].to_string_lossy().into_owned(),
        source,
    })?;
    let child = Pid::from_raw(child.id() as i32);

    let mut signals = SigSet::empty();
    for signal in [
        Signal::SIGCHLD,
        Signal::SIGTERM,
        Signal::SIGINT,
        Signal::SIGHUP,
    ] {
        signals.add(signal);
    }
    signals
        .thread_block()
        .map_err(|e| setup("blocking signals", e))?;
    let events = SignalFd::new(&signals).map_err(|e| setup("signalfd", e))?;

    if let Some(status) = reap(child) {
        kill_all_descendants();
        return Ok(ending(status, namespaces));
    }
    let status = loop {
        let Ok(Some(info)) = events.read_signal() else {
            continue;
        };
        let signal = Signal::try_from(info.ssi_signo as i32).unwrap_or(Signal::SIGCHLD);
        if signal == Signal::SIGCHLD {
            if let Some(status) = reap(child) {
                break status;
            }
            continue;
        }
        let orphaned = args.parent.is_some_and(|p| getppid().as_raw() != p);
        if orphaned {
            // git-orchestrate is gone: so is everything it started.
            kill_all_descendants();
            return Ok(Launched::Signal(signal as i32));
        }
        // The signal went to the whole process group, the program included, which handles it
        // as it will; what left the group is not waited for.
        kill_escaped();
    };
    kill_all_descendants();
    let _ = signals.thread_unblock();
    Ok(ending(status, namespaces))
}

/// Process 1 of the new PID namespace: start the program, reap everything until it ends.
fn inner(program: &[OsString]) -> Result<Launched, LaunchError> {
    prctl::set_pdeathsig(Signal::SIGKILL).map_err(|e| setup("PR_SET_PDEATHSIG", e))?;
    let child = Command::new(&program[0])
        .args(&program[1..])
        .spawn()
        .map_err(|source| LaunchError::Spawn {
            program: program[0].to_string_lossy().into_owned(),
            source,
        })?;
    let child = Pid::from_raw(child.id() as i32);
    loop {
        match waitpid(None, None) {
            Ok(WaitStatus::Exited(pid, code)) if pid == child => {
                return Ok(Launched::Exit(code as u8));
            }
            // Process 1 cannot end by a signal it raises itself: say it as a shell would, and
            // the outer launcher raises it.
            Ok(WaitStatus::Signaled(pid, signal, _)) if pid == child => {
                return Ok(Launched::Exit((128 + signal as i32) as u8));
            }
            Ok(_) | Err(Errno::EINTR) => continue,
            Err(_) => return Ok(Launched::Exit(126)),
        }
    }
}

/// Reap every child that has ended; the program's status once it has.
fn reap(child: Pid) -> Option<ExitStatus> {
    let mut ended = None;
    loop {
        match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(pid, code)) => {
                if pid == child {
                    ended = Some(ExitStatus::from_raw((code & 0xff) << 8));
                }
            }
            Ok(WaitStatus::Signaled(pid, signal, _)) => {
                if pid == child {
                    ended = Some(ExitStatus::from_raw(signal as i32));
                }
            }
            Ok(WaitStatus::StillAlive) | Err(_) => return ended,
            Ok(_) => {}
        }
    }
}

/// How the launcher ends for the program's status. The inner launcher reports a signal as
/// 128 + its number, which is raised again here.
fn ending(status: ExitStatus, namespaces: bool) -> Launched {
    if let Some(signal) = status.signal() {
        return Launched::Signal(signal);
    }
    let code = status.code().unwrap_or(126);
    match code.checked_sub(128).map(Signal::try_from) {
        Some(Ok(signal)) if namespaces && code > 128 && fatal(signal) => {
            Launched::Signal(signal as i32)
        }
        _ => Launched::Exit(code as u8),
    }
}

fn fatal(signal: Signal) -> bool {
    use Signal::*;
    matches!(
        signal,
        SIGHUP
            | SIGINT
            | SIGQUIT
            | SIGILL
            | SIGABRT
            | SIGFPE
            | SIGKILL
            | SIGSEGV
            | SIGPIPE
            | SIGALRM
            | SIGTERM
            | SIGBUS
    )
}

/// New user and PID namespaces (and a network namespace with a loopback of its own when
/// `no_network`), the user mapped to itself.
fn enter_namespaces(no_network: bool) -> Result<(), String> {
    let (uid, gid) = (getuid(), getgid());
    let mut flags = CloneFlags::CLONE_NEWUSER | CloneFlags::CLONE_NEWPID;
    if no_network {
        flags |= CloneFlags::CLONE_NEWNET;
    }
    unshare(flags).map_err(|e| format!("unshare: {}", e.desc()))?;
    let write = |file: &str, text: String| {
        std::fs::write(file, text).map_err(|e| format!("writing {file}: {e}"))
    };
    write("/proc/self/setgroups", "deny".into())?;
    write("/proc/self/uid_map", format!("{uid} {uid} 1"))?;
    write("/proc/self/gid_map", format!("{gid} {gid} 1"))?;
    if no_network {
        loopback_up()?;
    }
    Ok(())
}

/// Bring up `lo` in the new network namespace (an RTM_NEWLINK request over netlink), so
/// tests that listen on localhost still can.
fn loopback_up() -> Result<(), String> {
    const RTM_NEWLINK: u16 = 16;
    const NLM_F_REQUEST: u16 = 1;
    const NLM_F_ACK: u16 = 4;
    const IFF_UP: u32 = 1;
    const LOOPBACK_INDEX: i32 = 1;
    let fd = socket(
        AddressFamily::Netlink,
        SockType::Raw,
        SockFlag::SOCK_CLOEXEC,
        SockProtocol::NetlinkRoute,
    )
    .map_err(|e| format!("netlink socket: {}", e.desc()))?;
    let mut message = Vec::with_capacity(32);
    message.extend(32u32.to_ne_bytes()); // nlmsg_len
    message.extend(RTM_NEWLINK.to_ne_bytes());
    message.extend((NLM_F_REQUEST | NLM_F_ACK).to_ne_bytes());
    message.extend(1u32.to_ne_bytes()); // seq
    message.extend(0u32.to_ne_bytes()); // pid: the kernel
    message.extend([0u8, 0]); // ifi_family AF_UNSPEC, padding
    message.extend(0u16.to_ne_bytes()); // ifi_type
    message.extend(LOOPBACK_INDEX.to_ne_bytes());
    message.extend(IFF_UP.to_ne_bytes()); // ifi_flags
    message.extend(IFF_UP.to_ne_bytes()); // ifi_change
    use std::os::fd::AsRawFd;
    sendto(
        fd.as_raw_fd(),
        &message,
        &NetlinkAddr::new(0, 0),
        MsgFlags::empty(),
    )
    .map_err(|e| format!("netlink send: {}", e.desc()))?;
    let mut answer = [0u8; 256];
    let n = recv(fd.as_raw_fd(), &mut answer, MsgFlags::empty())
        .map_err(|e| format!("netlink answer: {}", e.desc()))?;
    // An NLMSG_ERROR answer: the header, then the error number (0 is the acknowledgement).
    let error = answer
        .get(16..20)
        .filter(|_| n >= 20)
        .and_then(|b| b.try_into().ok())
        .map(i32::from_ne_bytes)
        .unwrap_or(0);
    match error {
        0 => Ok(()),
        e => Err(format!("bringing up lo: {}", Errno::from_raw(-e).desc())),
    }
}

/// Confine writes to `write` (and the device files) with Landlock, and, when `cut_tcp`, TCP
/// connections too; the kernel's ABI, or why Landlock is not there.
fn confine(write: &[PathBuf], cut_tcp: bool) -> Result<u8, String> {
    let fail = |e: landlock::RulesetError| e.to_string();
    let all = AccessFs::from_all(FS_ABI);
    let read = AccessFs::from_read(FS_ABI);
    let mut ruleset = Ruleset::default().handle_access(all).map_err(fail)?;
    if cut_tcp {
        ruleset = ruleset.handle_access(AccessNet::ConnectTcp).map_err(fail)?;
    }
    let writable: Vec<&Path> = write
        .iter()
        .map(PathBuf::as_path)
        .chain(super::SHARED.iter().map(Path::new))
        .collect();
    let status = ruleset
        .create()
        .map_err(fail)?
        .add_rules(path_beneath_rules(["/"], read))
        .map_err(fail)?
        .add_rules(path_beneath_rules(["/dev"], read | AccessFs::IoctlDev))
        .map_err(fail)?
        .add_rules(path_beneath_rules(
            DEVICES,
            AccessFs::WriteFile | AccessFs::ReadFile | AccessFs::IoctlDev,
        ))
        .map_err(fail)?
        .add_rules(path_beneath_rules(writable, all))
        .map_err(fail)?
        .restrict_self()
        .map_err(fail)?;
    match (status.ruleset, status.landlock) {
        (RulesetStatus::NotEnforced, LandlockStatus::NotEnabled) => {
            Err("Landlock is built into the kernel but not enabled (lsm= boot option)".into())
        }
        (RulesetStatus::NotEnforced, LandlockStatus::NotImplemented) => {
            Err("the kernel has no Landlock (Linux 5.13 or later)".into())
        }
        (RulesetStatus::NotEnforced, _) => Err("Landlock did not enforce the rules".into()),
        (
            _,
            LandlockStatus::Available {
                kernel_abi,
                effective_abi,
            },
        ) => Ok(kernel_abi.unwrap_or(effective_abi as i32).clamp(0, 255) as u8),
        (_, _) => Ok(FS_ABI as i32 as u8),
    }
}

/// Kill the processes this launcher adopted that left the program's process group (a
/// `setsid`), which a signal to the group does not reach.
fn kill_escaped() {
    let group = nix::unistd::getpgrp();
    for pid in children() {
        if nix::unistd::getpgid(Some(pid)).is_ok_and(|g| g != group) {
            let _ = kill(pid, Signal::SIGKILL);
        }
    }
}

/// Kill every process below this launcher, until none is left: each one killed hands its own
/// children to this launcher, the subreaper.
fn kill_all_descendants() {
    // Each round kills every child and reaps one that ended, so it ends when none is left.
    for _ in 0..100_000 {
        let children = children();
        if children.is_empty() {
            break;
        }
        for pid in children {
            let _ = kill(pid, Signal::SIGKILL);
        }
        while let Err(Errno::EINTR) = waitpid(None, None) {}
    }
}

/// This process's children, from `/proc/*/stat` (the parent is the fourth field, after the
/// command name in parentheses, which may itself hold spaces and parentheses).
fn children() -> Vec<Pid> {
    let me = getpid().as_raw();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|stat| {
                    let (_, after) = stat.rsplit_once(')')?;
                    after.split_whitespace().nth(1)?.parse::<i32>().ok()
                })
                .is_some_and(|parent| parent == me)
        })
        .map(Pid::from_raw)
        .collect()
}

fn setup(what: &str, error: Errno) -> LaunchError {
    LaunchError::Setup(format!("{what}: {}", error.desc()))
}
