#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod fixture;
mod inbox;
mod report;
mod sync;

pub use report::{BanReason, Found, Progress, SyncReport, BANNED_KEPT};
pub use sync::{LightClient, SyncConfig, SyncError};
