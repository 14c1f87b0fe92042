//! Connection management: keeps a set of peers up, as dcrd's connection
//! manager and the peer handling of its server do.
//!
//! [`ConnManager::start`] runs one actor task that owns all state; the
//! returned [`ConnManager`] handle talks to it. It keeps
//! [`ManagerConfig::target_outbound`] outbound peers connected, drawing
//! addresses from an [`AddressSource`] (the built-in [`AddressBook`] is
//! fed by seeds and by `addr`/`addrv2` messages, and answers `getaddr`),
//! always reconnects persistent peers (exponential backoff with jitter,
//! capped), accepts inbound peers within limits (total, per host; a
//! whitelist bypasses them), never holds two connections to one address,
//! scores misbehaviour with a decaying score and bans past a threshold.

mod addrbook;
mod manager;
mod score;

pub use addrbook::{seed_addresses, AddressBook, AddressSource, DEFAULT_ADDRESS_BOOK_CAPACITY};
pub use manager::{
    backoff, crawl, is_routable, BanInfo, ConnManager, CrawlRow, ManagerConfig, ManagerError,
    ManagerEvent,
};
pub use score::{BanScore, SCORE_HALF_LIFE};
