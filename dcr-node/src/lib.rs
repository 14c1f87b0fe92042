//! The node around the peer, as much of it as the `dcrpeer` tool runs: a
//! block index of every branch held in memory ([`store`], with chain work
//! in [`work`]) and loaded from block files ([`chain`]), each main-chain
//! block's committed filter ([`cfilter`], telling stake transactions
//! apart with [`stake`]), the server that answers peers from it by dcrd's
//! rules ([`serve`]: I/O-free rules returning typed verdicts, and the
//! runner that applies them), a client that syncs a chain from a peer
//! ([`sync`]), and both in one process ([`demo`]). docs/NODE.md maps
//! each rule of dcrd's server to its place here.

pub mod bench;
pub mod cfilter;
pub mod chain;
pub mod demo;
pub mod serve;
pub mod stake;
pub mod store;
pub mod sync;
pub mod work;
