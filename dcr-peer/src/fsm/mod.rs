//! The peer's protocol logic as plain state machines: no sockets, no
//! timers, no tasks. Each takes events (a message sent or received, a clock
//! reading) and answers with what to do, so every timing rule is a
//! deterministic unit test. [`session::Session`] holds every rule of a
//! connection after its handshake; the peer's task only feeds it.

pub mod handshake;
pub mod inventory;
pub mod ping;
pub mod session;
pub mod stall;
