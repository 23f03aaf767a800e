//! Integration tests: the real binary, in hermetic temporary repositories, with scripted
//! `cmd:` models written by the tests. One test binary, one module per area.

mod harness;

mod faults;
mod gates;
mod review;
mod run;
mod status;
