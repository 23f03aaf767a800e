//! Edits from text models: SEARCH/REPLACE blocks parsed from a reply and applied inside a
//! work tree, all or nothing.
