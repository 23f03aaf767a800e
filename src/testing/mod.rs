//! The test command: found in the repository, run with credentials removed from its
//! environment, and its output read for the tests that failed.
//!
//! The impl stage runs the repository's tests after every change a model makes and feeds the
//! failures back. This module is everything about that command except the loop around it:
//! which command ([`detect`], unless the configuration names one), what it may see
//! ([`test_environment`]: the user's environment without credentials, kept in
//! [`crate::redact::child_env`] with the rule for model programs), how it runs ([`run`]:
//! its own process group, a timeout, output kept within bounds whatever it prints), and what
//! its output says: the failing tests by name ([`Failures`]), the passing ones where the runner
//! names them ([`passing`]), a bounded text a model can
//! read ([`feedback_tail`]), and a [`Signature`] to notice the same failure twice.

mod detect;
mod failures;
mod feedback;
mod passing;
mod run;

pub use crate::redact::child_env::test_environment;
pub use detect::{TestCommand, TestSource, Toolchain, detect};
pub use failures::{Failures, NewFailures, Runner};
pub use feedback::{FEEDBACK_BYTES, FEEDBACK_LINES, Signature, feedback_tail, signature};
pub use passing::passing;
pub use run::{HEAD_BYTES, TAIL_BYTES, TestError, TestRun, TestStatus, run};
