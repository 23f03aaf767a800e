//! The repository map a text implementer reads: tracked paths and their top-level
//! definitions, within a token budget.
