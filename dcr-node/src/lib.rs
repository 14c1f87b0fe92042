//! The node around the peer, as much of it as the `dcrpeer` tool runs: a
//! chain held in memory ([`store`]) and loaded from block files
//! ([`chain`]), the server that answers peers from it as dcrd's server
//! does ([`serve`]), a client that syncs a chain from a peer ([`sync`]),
//! and both in one process ([`demo`]).

pub mod cfilter;
pub mod chain;
pub mod demo;
pub mod serve;
pub mod stake;
pub mod store;
pub mod sync;
pub mod work;
