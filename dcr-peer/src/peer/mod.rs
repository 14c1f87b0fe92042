//! The peer: a handle to one connection whose handshake is done, and the
//! one task that runs it.
//!
//! [`Peer::start`](handle::Peer::start) (`start.rs`) runs the version
//! handshake on any byte stream, in the caller's task (`handshake.rs`,
//! with our version message from `version.rs`), then spawns the
//! connection's one task (`driver.rs`), which owns the socket (`conn.rs`,
//! where every frame read or written is also counted and shown to the
//! listeners) and the connection's I/O-free
//! [`Session`](crate::fsm::session::Session), and returns a
//! [`Peer`](handle::Peer), a cheap clonable handle (`handle.rs`). The
//! handle talks to the task through a bounded channel, and counts what it
//! queues in the output bound it shares with the task (`queue.rs`); what
//! callers read back (stats, known inventory) the task publishes in
//! atomics and in three small locks that the message path never waits
//! on: the ping stats, the last announced block, and the known-inventory
//! filter (which the task takes on `inv` and trickles only).

mod conn;
mod driver;
mod handle;
mod handshake;
mod queue;
mod request;
mod start;
mod version;

pub use handle::Peer;
