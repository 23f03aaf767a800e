//! The bytes moving between us and a program: its input written, its output read within
//! bounds. They move only while their futures are polled, so [`Io`] polls them alongside
//! whatever the caller is waiting for (the program's exit, a grace period).

use std::future::Future;
use std::pin::Pin;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::{ChildStderr, ChildStdin, ChildStdout};
use tokio::time::Instant;

/// Bytes read from a pipe at a time.
const READ_CHUNK: usize = 64 * 1024;

type Task<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// Stdin being written, stdout and stderr being read.
pub(super) struct Io<'a> {
    feed: Task<'a>,
    fed: bool,
    drain: Task<'a>,
    drained: bool,
}

impl<'a> Io<'a> {
    pub(super) fn new(
        stdin: (Option<ChildStdin>, Vec<u8>),
        stdout: (Option<ChildStdout>, &'a mut Capture),
        stderr: (Option<ChildStderr>, &'a mut Capture),
    ) -> Io<'a> {
        Io {
            feed: Box::pin(feed(stdin.0, stdin.1)),
            fed: false,
            drain: Box::pin(async {
                tokio::join!(pump(stdout.0, stdout.1), pump(stderr.0, stderr.1));
            }),
            drained: false,
        }
    }

    /// Await `target` while moving bytes; `None` if `deadline` passes first.
    pub(super) async fn during<T>(
        &mut self,
        target: impl Future<Output = T>,
        deadline: Option<Instant>,
    ) -> Option<T> {
        let mut target = std::pin::pin!(target);
        loop {
            tokio::select! {
                value = &mut target => return Some(value),
                () = &mut self.feed, if !self.fed => self.fed = true,
                () = &mut self.drain, if !self.drained => self.drained = true,
                () = until(deadline) => return None,
            }
        }
    }

    /// Read until stdout and stderr close or `deadline` passes; whether they closed.
    pub(super) async fn drain_until(&mut self, deadline: Instant) -> bool {
        while !self.drained {
            tokio::select! {
                () = &mut self.drain => self.drained = true,
                () = &mut self.feed, if !self.fed => self.fed = true,
                () = tokio::time::sleep_until(deadline) => return false,
            }
        }
        true
    }
}

async fn until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

async fn feed(stdin: Option<ChildStdin>, bytes: Vec<u8>) {
    if let Some(mut stdin) = stdin {
        // A program that exits without reading its input is its own business: the broken
        // pipe is not an error of ours. Dropping `stdin` closes it, so the program sees EOF.
        let _ = stdin.write_all(&bytes).await;
    }
}

async fn pump<R: AsyncRead + Unpin>(pipe: Option<R>, into: &mut Capture) {
    let Some(mut pipe) = pipe else { return };
    let mut buf = vec![0; READ_CHUNK];
    loop {
        match pipe.read(&mut buf).await {
            Ok(0) => return,
            Ok(n) => into.push(buf.get(..n).unwrap_or_default()),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return,
        }
    }
}

pub(super) enum Keep {
    Head,
    Tail,
    /// The first this-many bytes, then the last `limit`.
    HeadAndTail(usize),
}

/// Output kept within a bound: its first `limit` bytes, its last, or a head and a tail.
pub(super) struct Capture {
    /// The head (with [`Keep::HeadAndTail`]).
    head: Vec<u8>,
    bytes: Vec<u8>,
    limit: usize,
    keep: Keep,
    dropped: bool,
    total: u64,
}

/// What a [`Capture`] kept.
pub(super) struct Kept {
    pub(super) bytes: Vec<u8>,
    /// Where in `bytes` the bytes not kept were, if any were dropped.
    pub(super) cut: Option<usize>,
    /// Every byte read, kept or not.
    pub(super) total: u64,
}

impl Capture {
    pub(super) fn new(keep: Keep, limit: usize) -> Capture {
        Capture {
            head: Vec::new(),
            bytes: Vec::new(),
            limit,
            keep,
            dropped: false,
            total: 0,
        }
    }

    fn push(&mut self, chunk: &[u8]) {
        self.total = self
            .total
            .saturating_add(u64::try_from(chunk.len()).unwrap_or(u64::MAX));
        match self.keep {
            Keep::Head => {
                let room = self.limit.saturating_sub(self.bytes.len());
                let (kept, rest) = chunk.split_at(room.min(chunk.len()));
                self.bytes.extend_from_slice(kept);
                self.dropped |= !rest.is_empty();
            }
            Keep::Tail => self.push_tail(chunk),
            Keep::HeadAndTail(head) => {
                let room = head.saturating_sub(self.head.len());
                let (kept, rest) = chunk.split_at(room.min(chunk.len()));
                self.head.extend_from_slice(kept);
                self.push_tail(rest);
            }
        }
    }

    fn push_tail(&mut self, chunk: &[u8]) {
        self.bytes.extend_from_slice(chunk);
        // Trim in batches, not on every chunk: at most twice the bound is held.
        if self.bytes.len() > self.limit.saturating_mul(2) {
            self.trim();
        }
    }

    fn trim(&mut self) {
        let excess = self.bytes.len().saturating_sub(self.limit);
        if excess > 0 {
            self.bytes.drain(..excess);
            self.dropped = true;
        }
    }

    /// The bytes kept, where the dropped ones were, and how many were read.
    pub(super) fn finish(mut self) -> Kept {
        self.trim();
        let at = match self.keep {
            Keep::Head => self.bytes.len(),
            Keep::Tail => 0,
            Keep::HeadAndTail(_) => self.head.len(),
        };
        let cut = self.dropped.then_some(at);
        let mut bytes = self.head;
        bytes.append(&mut self.bytes);
        Kept {
            bytes,
            cut,
            total: self.total,
        }
    }
}
