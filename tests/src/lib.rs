//! Shared helpers for the workspace-level tests: finding the conformance
//! corpus and reading its JSON-lines files.
