//! The peer's protocol logic as plain state machines: no sockets, no
//! timers, no tasks. Each takes events (a message sent or received, a clock
//! reading) and answers with what to do, so every timing rule is a
//! deterministic unit test. [`session::Session`] holds every rule of a
//! connection after its handshake; the peer's task only feeds it.
//!
//! This module is a leaf of the crate: it uses the standard library and
//! `dcr-wire` alone, and owns no lock, atomic or channel. What a machine
//! shares with the rest of the peer (the bound on queued output, the
//! known-inventory filter) or cannot decide alone (the negotiated version,
//! random numbers) it borrows through [`session::Host`]; defaults live in
//! [`crate::config`]; the kinds of failure each machine raises live beside
//! it. `tests/layering.rs` checks all of this.

pub mod handshake;
pub mod inventory;
pub mod ping;
pub mod session;
pub mod stall;
