//! The peer's protocol logic as plain state machines: no sockets, no
//! timers, no tasks. Each takes events (a message sent or received, a clock
//! reading) and answers with what to do, so every timing rule is a
//! deterministic unit test. The tokio tasks in the peer only feed them.

pub mod handshake;
pub mod inventory;
pub mod ping;
pub mod stall;
