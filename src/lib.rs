//! git-orchestrate: take an issue to a pull request through a design-first LLM pipeline,
//! committing every stage's artifact on the issue's branch.
//!
//! The binary is a thin shell over [`cli::main`]; everything else is library code:
//! [`config`] (layered settings), [`git`] (the only module touching git2), [`llm`] (model
//! providers behind one trait), [`process`] (every child process: groups, timeouts, bounded
//! output), [`pipeline`] (stages, the review loop, events) and [`ui`] (everything a person
//! sees).

pub mod cli;
pub mod config;
pub mod env;
pub mod git;
pub mod issue;
pub mod llm;
pub mod pipeline;
pub mod process;
pub mod ui;
