//! The address manager: the book of peer addresses a node learns, tries
//! and hands out, rule for rule as dcrd's `addrmgr` package (read at the
//! corpus commit 036b7090, which is also the newest dcrd commit on this
//! machine).
//!
//! Addresses learned from peers (`addr`, `addrv2`), seeders and dials
//! enter **new** buckets, keyed by the address's network group and the
//! group of the peer that sent it ([`GroupKey`]): one source group reaches
//! at most [`NEW_BUCKETS_PER_GROUP`] of the [`NEW_BUCKET_COUNT`] buckets,
//! and one (address group, source group) pair exactly one, so a flood
//! from one source or group displaces only its own share of the book.
//! An address whose connection completed its handshake ([`AddrManager::good`])
//! moves to a **tried** bucket, keyed by its own group. Selection
//! ([`AddrManager::get_address`]) takes tried or new with even odds and
//! weighs each candidate by [`KnownAddress::chance`]; the `getaddr` answer
//! ([`AddrManager::address_cache`]) is a random [`GET_KNOWN_ADDRESS_PERCENTAGE`]
//! per cent share of the addresses that ever worked and are not bad.
//!
//! The manager does no I/O apart from [`AddrManager::save`] and
//! [`AddrManager::load`]: the clock is a parameter (`now`, Unix seconds)
//! and randomness comes from the caller's [`rand::Rng`], so every rule runs
//! on a fake clock and a seeded generator in tests. It holds no lock;
//! the caller owns it (dcrd's mutex becomes the owner's `&mut`).
//!
//! Every rule, its dcrd function and constant, the place it lives here and
//! its test are listed in docs/NODE.md (section "Address manager").

mod address;
mod consts;
mod error;
mod known;
mod local;
mod manager;
mod network;
mod persist;

#[cfg(test)]
mod tests;

pub use address::{
    canonical, canonical_host, from_addr_v1, from_addr_v2, from_ip_port, onion_name, parse_host,
    parse_onion, AddrKey, AddressError, TypeFilter,
};
pub use consts::*;
pub use error::AddrManagerError;
pub use known::KnownAddress;
pub use local::{is_external_addr_candidate, reachability, AddressPriority, LocalAddr, Reach};
pub use manager::{new_bucket, relayed_timestamp, tried_bucket, AddrManager, Params};
pub use network::{host_is_routable, is_local, is_routable, is_valid, GroupKey};
pub use persist::{LoadError, MAX_PEERS_FILE_SIZE, PEERS_FILENAME, SERIALISATION_VERSION};
