#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod chain;
pub mod check;
pub mod difficulty;
pub mod facts;
pub mod params;
pub mod pow;
pub mod stakediff;
pub mod synthetic;

pub use chain::{HeaderChain, HeadersOutcome, Rejection};
pub use check::HeaderError;
pub use facts::{Ancestors, BlockFacts};
pub use params::Params;
