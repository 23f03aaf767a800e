//! Integration tests: the real binary, in hermetic temporary repositories, with scripted
//! `cmd:` models written by the tests. One test binary, one module per area.

// Test support code may panic on failure: a panic here is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod harness;
mod vendors;

mod action;
mod agent_faults;
mod architecture;
mod base;
mod checkout;
mod clean;
mod contain;
mod contained;
mod defaults;
mod doctor;
mod eval;
mod faults;
mod gates;
mod generated;
mod github;
mod github_faults;
mod implement;
mod implement_faults;
mod init;
mod many;
mod messages;
mod package;
mod program_env;
mod proof;
mod protected;
mod providers;
mod push_hooks;
mod readme;
mod release;
mod replay;
mod review;
mod run;
mod schema;
mod secrets;
mod snapshots;
mod spend;
mod stale;
mod status;
mod terminal;
mod triage;
