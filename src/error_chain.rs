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

#[cfg(test)]
mod tests {
    use super::*;

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
