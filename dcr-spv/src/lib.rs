#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod announce;
pub mod answer;
pub mod block;
pub mod chain;
pub mod check;
pub mod commitment;
pub mod difficulty;
pub mod facts;
pub mod filters;
pub mod misbehaviour;
pub mod params;
pub mod peering;
pub mod pow;
pub mod stakediff;
pub mod store;
pub mod synthetic;
pub mod watch;

#[cfg(test)]
mod reads_once;

/// Version 2 committed filters and the DCP-0005 proofs: the `dcr-gcs` crate,
/// re-exported so users of this crate need no second dependency.
pub use dcr_gcs as gcs;

pub use block::{check_block, check_decoded_block, BlockError, CheckedBlock};
pub use chain::{Connected, HeaderChain, HeadersOutcome, Rejection};
pub use check::HeaderError;
pub use facts::{Ancestors, BlockFacts};
pub use filters::{CheckedFilter, FilterBatch, FilterError, FilterSync};
pub use misbehaviour::{Misbehaviour, Verdict};
pub use params::Params;
pub use store::Store;
pub use watch::WatchList;
