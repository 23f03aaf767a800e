//! git-orchestrate: take an issue to a pull request through a design-first LLM pipeline,
//! committing every stage's artifact on the issue's branch.
//!
//! The binary is a thin shell over [`cli::main`]; everything else is library code, in layers
//! (ARCHITECTURE.md has the map): [`cli`] parses arguments and calls [`ops`], one function
//! per user-visible operation; [`ops`] drives the [`pipeline`] (the run loop, its stages,
//! events and gates), which works through [`git`] (the only module touching git2), [`llm`]
//! (model providers behind one trait), [`process`] (every child process: groups, timeouts,
//! bounded output) and [`config`]; [`ui`] is everything a person sees. [`stage`] names the
//! stages, gates and roles every layer shares; [`redact`] removes secrets from everything
//! written or shown.

pub mod cli;
pub mod config;
pub mod edit;
pub mod env;
pub mod error_chain;
pub mod forge;
pub mod git;
pub mod issue;
pub mod llm;
pub mod ops;
pub mod pipeline;
pub mod process;
pub mod redact;
pub mod repomap;
pub mod sandbox;
pub mod stage;
pub mod testing;
pub mod ui;
