//! Connection management: keeps a set of peers up, as dcrd's connection
//! manager and the peer handling of its server do.
//!
//! [`ConnManager::start`] runs one actor task that owns all
//! state; the returned [`ConnManager`] handle talks to it.
//! It keeps [`ManagerConfig::target_outbound`] outbound peers connected,
//! drawing addresses from an [`AddressSource`] (the built-in
//! [`AddressBook`] is fed by seeds and by `addr`/`addrv2` messages, and
//! answers `getaddr`), always reconnects persistent peers (exponential
//! backoff with jitter, capped), accepts inbound peers within limits
//! (total, per host; a whitelist bypasses them), never holds two
//! connections to one address, scores misbehaviour with a decaying score
//! and bans past a threshold. Every decision is made by the I/O-free
//! [`policy`]; [`crawl`] walks a network with it.

mod actor;
mod addrbook;
pub mod banscore;
mod config;
mod crawl;
mod handle;
pub mod policy;
mod score;

pub use addrbook::{
    is_routable, seed_addresses, AddressBook, AddressSource, DEFAULT_ADDRESS_BOOK_CAPACITY,
};
pub use banscore::DynamicBanScore;
pub use config::{
    BanInfo, ManagerConfig, ManagerError, ManagerEvent, DEFAULT_BAN_DURATION,
    DEFAULT_BAN_THRESHOLD, DEFAULT_MAX_INBOUND, DEFAULT_MAX_PER_HOST, DEFAULT_RETRY_BASE,
    DEFAULT_RETRY_MAX, DEFAULT_TARGET_OUTBOUND,
};
pub use crawl::{crawl, CrawlRow};
pub use handle::{ConnManager, ManagerEvents};
pub use policy::backoff;
pub use score::{BanScore, SCORE_HALF_LIFE};
