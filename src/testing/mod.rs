//! The test command: found in the repository, run with credentials removed from its
//! environment, and its output read for the tests that failed.
