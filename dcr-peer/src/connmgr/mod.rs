//! Connection management: keeps a set of peers up, as dcrd's connection
//! manager (`internal/connmgr`) and the peer handling of its server
//! (`server.go`) do.
//!
//! [`ConnManager::start`] runs one actor task that owns all connections;
//! the returned [`ConnManager`] handle talks to it. It keeps
//! [`ManagerConfig::target_outbound`] automatic outbound peers, drawn from
//! dcrd's address manager ([`AddressBook`], saved in
//! [`ManagerConfig::datadir`]; any [`AddressSource`] may replace it),
//! one per address group; redials persistent peers as dcrd does (at once
//! after a connection that lasted, else after a growing wait with
//! jitter); accepts inbound peers within one `max_peers` count and a
//! per-host limit (loopback and whitelisted addresses exempt), their
//! handshakes bounded by the pending pool; refuses outbound peers without
//! the services it needs; exchanges addresses off simnet and regnet;
//! keeps one misbehaviour score per connection ([`DynamicBanScore`]) and
//! bans by IP above the threshold. Every decision is made by the I/O-free
//! [`policy`]; [`crawl`] walks a network with it. Each rule, its dcrd
//! source and its test are listed in docs/NODE.md.

mod actor;
pub mod banscore;
mod book;
mod config;
mod crawl;
mod error;
mod handle;
pub mod known;
pub mod policy;
mod shared;

pub use banscore::DynamicBanScore;
pub use book::{
    net_address, socket_addr, AddressBook, AddressSource, Candidate, LocalSource,
    MAX_LOCAL_ADDRESSES,
};
pub use config::{
    ManagerConfig, ManagerEvent, PeerHook, DEFAULT_BAN_DURATION, DEFAULT_BAN_THRESHOLD,
    DEFAULT_MAX_PEERS, DEFAULT_MAX_PER_HOST, DEFAULT_MAX_RETRY_DURATION, DEFAULT_RETRY_DURATION,
    DEFAULT_TARGET_OUTBOUND, MAX_PERSISTENT,
};
pub use crawl::{crawl, CrawlRow};
pub use error::{BanInfo, ManagerError};
pub use handle::{ConnManager, ManagerEvents, EVENT_BACKLOG};
pub use policy::{backoff_with_jitter, NetworkRules, Whitelist};
