//! Frame captures: every frame a peer sent and received, with its
//! direction, time and network, in a versioned file that survives a crash
//! of the program writing it.
//!
//! The byte layout is in `docs/CAPTURE.md`. In short: a 12-byte header
//! ([`MAGIC`], then the format [`VERSION`] and a reserved `u16`, both
//! little-endian), then one record per frame: the frame's length, its
//! direction, the connection it belongs to, the network's magic, the time
//! in nanoseconds since the Unix epoch, the frame's bytes exactly as on the
//! wire, and a CRC-32 of all of that. Every record carries its own length
//! and checksum, so a record cut short by a crash (a *torn tail*) is told
//! apart from corruption, and every record before it stays readable.
//!
//! The reference has no capture format; this one is the project's own.
//!
//! ```
//! use std::time::{Duration, SystemTime};
//! use dcr_peer::capture::{CaptureWriter, Direction, FlushPolicy, Records};
//! use dcr_peer::wire::CurrencyNet;
//!
//! let mut w = CaptureWriter::new(Vec::new(), FlushPolicy::default())?;
//! let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
//! w.record(Direction::Sent, 0, t, CurrencyNet::MainNet, b"frame bytes")?;
//! let file = w.into_inner()?;
//!
//! let records: Vec<_> = Records::new(&file)?.collect::<Result<_, _>>()?;
//! assert_eq!(records[0].frame, b"frame bytes");
//! assert_eq!(records[0].time(), t);
//! # Ok::<(), dcr_peer::capture::CaptureError>(())
//! ```

mod format;
mod sink;

pub use format::{
    check_header, header, looks_like_capture, CaptureError, CaptureWriter, Corruption, Direction,
    FlushPolicy, Record, Records, StreamReader, HEADER_LEN, MAGIC, MAX_FRAME_LEN, RECORD_HEAD_LEN,
    RECORD_OVERHEAD, VERSION,
};
pub use sink::{CaptureConn, CaptureSink, CaptureStats, DEFAULT_BACKLOG};
