//! Examples and the `dcrpeer` tool's building blocks: the demo chain, a
//! chain store and server, and a syncing client.

pub mod bench;
pub mod chain;
pub mod demo;
pub mod jsonio;
pub mod serve;
pub mod store;
pub mod sync;

// The README's examples (dcr-wire and dcr-peer) run as doc tests here,
// where both crates are dependencies.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
