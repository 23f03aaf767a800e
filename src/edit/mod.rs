//! Edits from text models: SEARCH/REPLACE blocks parsed from a reply and applied inside a
//! work tree, all or nothing.
//!
//! A text implementer answers with blocks like this one (the file's path alone on the line
//! before it):
//!
//! ```text
//! src/lib.rs
//! <<<<<<< SEARCH
//! fn old() {}
//! =======
//! fn new() {}
//! >>>>>>> REPLACE
//! ```
//!
//! [`parse`] reads them out of whatever surrounds them (`blocks.rs`), telling file names
//! from prose by their shape and, given the work tree ([`parse_with`]), by the files in it
//! (`names.rs`); a block without a path of its own edits the previous block's file only when
//! no line between them might name another. [`apply`] checks each path (`paths.rs`:
//! relative, below the work tree, not in `.git`, not [`Protected`]), finds each SEARCH text
//! in its file (`matching.rs`: exactly, then ignoring trailing whitespace, then indentation)
//! and writes the files only when every block is fine (`apply.rs`).
//! Otherwise the attempt is [`Rejected`] with every [`Problem`] as data, and [`feedback`]
//! turns them into the words the model reads next (`feedback.rs`).

mod apply;
mod blocks;
mod feedback;
mod matching;
mod names;
mod paths;
#[cfg(test)]
mod tests;

pub use apply::{Applied, AppliedFile, Problem, ProblemKind, Rejected, apply, apply_parsed};
pub use blocks::{EditBlock, Format, ParseProblem, ParseProblemKind, Parsed, parse, parse_with};
pub use feedback::{expected_format, feedback};
pub use paths::{ALWAYS_PROTECTED, Protected, ProtectedError, Refusal, check_path};
