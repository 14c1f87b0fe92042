#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod check;
pub mod difficulty;
pub mod facts;
pub mod params;
pub mod pow;
pub mod stakediff;

pub use check::HeaderError;
pub use facts::{Ancestors, BlockFacts};
pub use params::Params;
