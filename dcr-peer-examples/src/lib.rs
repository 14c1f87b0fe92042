//! Examples of `dcr-wire` and `dcr-peer` (in `examples/`, run as tests in
//! `tests/examples.rs`), and the workspace README's examples, which run as
//! doc tests here, where both crates are dependencies.

#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
