//! Whole messages over blocking byte streams (`std::io::Read` /
//! `std::io::Write`), with the number of bytes moved: the reference's
//! `ReadMessageN` and `WriteMessageN`, for code outside an async runtime.
//!
//! Reading checks the frame header exactly as [`FrameHeader::parse`] does
//! (32 MiB limit, network, command, the command's own maximum) before a
//! byte of payload is read, and the payload buffer then grows only as bytes
//! arrive, so a peer announcing a large payload and sending nothing costs
//! nothing.

#[allow(unused_imports)]
use crate::prelude::*;
use std::io::{self, Read, Write};

use crate::error::Error;
use crate::frame::{frame_to_vec, verify_checksum, FrameHeader};
use crate::msg::Message;
use crate::protocol::{CurrencyNet, MESSAGE_HEADER_SIZE};

/// The payload buffer starts at most this large and grows with what is
/// actually read.
const INITIAL_PAYLOAD_CAPACITY: usize = 64 * 1024;

/// A message read by [`read_message`].
#[derive(Debug, Clone, PartialEq)]
pub struct ReadMessage {
    /// The decoded message (it owns its bytes).
    pub message: Message<'static>,
    /// The raw payload it was decoded from, as the reference returns it.
    pub payload: Vec<u8>,
    /// Bytes read from the stream: header and payload.
    pub bytes_read: usize,
}

/// What went wrong in a blocking read or write.
#[derive(Debug, thiserror::Error)]
pub enum StreamErrorCause {
    /// The stream failed. A stream that ended early is
    /// [`io::ErrorKind::UnexpectedEof`] (with zero bytes read: it ended
    /// between messages).
    #[error(transparent)]
    Io(#[from] io::Error),
    /// The bytes were not a valid message (or the message could not be
    /// encoded); the error carries the reference's error code.
    #[error(transparent)]
    Wire(#[from] Error),
}

/// A failed [`read_message`] or [`write_message`], with the bytes that had
/// been read or written before it failed, as the reference's `...N`
/// functions count them.
///
/// Its message says how far it got; what failed is its `source()`.
#[derive(Debug, thiserror::Error)]
#[error("message stream stopped after {}", crate::error::Bytes(*bytes as u64))]
pub struct StreamError {
    /// Bytes moved before the failure.
    pub bytes: usize,
    #[source]
    /// What failed.
    pub cause: StreamErrorCause,
}

impl StreamError {
    fn new(bytes: usize, cause: impl Into<StreamErrorCause>) -> StreamError {
        StreamError {
            bytes,
            cause: cause.into(),
        }
    }
}

/// Reads one whole message for `net` at protocol version `pver` from `r`
/// (the reference's `ReadMessageN`): the 24-byte header, checked before the
/// payload is read; then the payload, its checksum, and its decode
/// (trailing bytes are an error). Reads exactly the frame, never past it.
pub fn read_message<R: Read + ?Sized>(
    r: &mut R,
    net: CurrencyNet,
    pver: u32,
) -> Result<ReadMessage, StreamError> {
    let mut raw = [0u8; MESSAGE_HEADER_SIZE];
    let (got, filled) = fill(r, &mut raw);
    filled.map_err(|e| StreamError::new(got, e))?;
    let header = FrameHeader::parse(&raw, net, pver).map_err(|e| StreamError::new(got, e))?;

    let len = header.length as usize;
    let mut payload = Vec::with_capacity(len.min(INITIAL_PAYLOAD_CAPACITY));
    let read = r.take(len as u64).read_to_end(&mut payload);
    // On an error `read_to_end` keeps what it read in `payload`.
    let bytes_read = MESSAGE_HEADER_SIZE + payload.len();
    read.map_err(|e| StreamError::new(bytes_read, e))?;
    if payload.len() < len {
        let eof = io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "stream ended inside a payload",
        );
        return Err(StreamError::new(bytes_read, eof));
    }
    verify_checksum(&header, &payload).map_err(|e| StreamError::new(bytes_read, e))?;
    let message = Message::decode(header.command, &payload, pver)
        .map_err(|e| StreamError::new(bytes_read, e))?
        .into_owned();
    Ok(ReadMessage {
        message,
        payload,
        bytes_read,
    })
}

/// Writes `msg` as one whole frame for `net` at `pver` to `w` and returns
/// the bytes written (the reference's `WriteMessageN`). A message over
/// 32 MiB or its own maximum is refused before anything is written.
pub fn write_message<W: Write + ?Sized>(
    w: &mut W,
    msg: &Message<'_>,
    net: CurrencyNet,
    pver: u32,
) -> Result<usize, StreamError> {
    let frame = frame_to_vec(msg, net, pver).map_err(|e| StreamError::new(0, e))?;
    let mut written = 0;
    while written < frame.len() {
        match w.write(&frame[written..]) {
            Ok(0) => {
                let e = io::Error::new(io::ErrorKind::WriteZero, "stream accepted no bytes");
                return Err(StreamError::new(written, e));
            }
            Ok(n) => written += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(StreamError::new(written, e)),
        }
    }
    Ok(written)
}

/// Fills `buf` from `r` like `read_exact`, but says how many bytes it got
/// before a failure.
fn fill<R: Read + ?Sized>(r: &mut R, buf: &mut [u8]) -> (usize, io::Result<()>) {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => {
                let eof = io::Error::new(io::ErrorKind::UnexpectedEof, "stream ended");
                return (got, Err(eof));
            }
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return (got, Err(e)),
        }
    }
    (got, Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::protocol::pver;
    use crate::{Ping, Pong};

    const NET: CurrencyNet = CurrencyNet::MainNet;

    fn wire_kind(e: &StreamError) -> Option<ErrorKind> {
        match &e.cause {
            StreamErrorCause::Wire(w) => Some(w.kind()),
            StreamErrorCause::Io(_) => None,
        }
    }

    fn io_kind(e: &StreamError) -> Option<io::ErrorKind> {
        match &e.cause {
            StreamErrorCause::Io(e) => Some(e.kind()),
            StreamErrorCause::Wire(_) => None,
        }
    }

    #[test]
    fn round_trip_counts_bytes_and_reads_no_further() {
        let ping = Message::Ping(Ping { nonce: 7 });
        let pong = Message::Pong(Pong { nonce: 8 });
        let mut stream = Vec::new();
        let a = write_message(&mut stream, &ping, NET, pver::CURRENT).unwrap();
        let b = write_message(&mut stream, &pong, NET, pver::CURRENT).unwrap();
        assert_eq!((a, b), (32, 32));
        assert_eq!(stream.len(), 64);

        let mut r = &stream[..];
        let first = read_message(&mut r, NET, pver::CURRENT).unwrap();
        assert_eq!(first.message, ping);
        assert_eq!(first.payload, 7u64.to_le_bytes());
        assert_eq!(first.bytes_read, 32);
        assert_eq!(r.len(), 32, "the second frame is left unread");
        let second = read_message(&mut r, NET, pver::CURRENT).unwrap();
        assert_eq!((second.message, second.bytes_read), (pong, 32));

        let e = read_message(&mut r, NET, pver::CURRENT).unwrap_err();
        assert_eq!(
            (io_kind(&e), e.bytes),
            (Some(io::ErrorKind::UnexpectedEof), 0)
        );
    }

    #[test]
    fn short_streams_say_how_far_they_got() {
        let frame = frame_to_vec(&Message::Ping(Ping { nonce: 1 }), NET, 1).unwrap();
        for cut in [5, MESSAGE_HEADER_SIZE, frame.len() - 1] {
            let e = read_message(&mut &frame[..cut], NET, 1).unwrap_err();
            assert_eq!(io_kind(&e), Some(io::ErrorKind::UnexpectedEof));
            assert_eq!(e.bytes, cut);
        }
    }

    #[test]
    fn header_errors_before_the_payload_is_read() {
        // A ping header announcing 32 MiB + 1 bytes, and no payload.
        let mut frame = frame_to_vec(&Message::Ping(Ping { nonce: 1 }), NET, 1).unwrap();
        frame[16..20].copy_from_slice(&(32 * 1024 * 1024 + 1u32).to_le_bytes());
        let e = read_message(&mut &frame[..], NET, 1).unwrap_err();
        assert_eq!(wire_kind(&e), Some(ErrorKind::PayloadTooLarge));
        assert_eq!(e.bytes, MESSAGE_HEADER_SIZE);
        // Over ping's own maximum (8 bytes).
        frame[16..20].copy_from_slice(&9u32.to_le_bytes());
        let e = read_message(&mut &frame[..], NET, 1).unwrap_err();
        assert_eq!(wire_kind(&e), Some(ErrorKind::PayloadTooLarge));
        assert_eq!(e.bytes, MESSAGE_HEADER_SIZE);
        let e = read_message(&mut &frame[..], CurrencyNet::TestNet3, 1).unwrap_err();
        assert_eq!(wire_kind(&e), Some(ErrorKind::WrongNetwork));
    }

    #[test]
    fn bad_checksum_is_a_wire_error_after_the_payload() {
        let mut frame = frame_to_vec(&Message::Ping(Ping { nonce: 1 }), NET, 1).unwrap();
        frame[20] ^= 1;
        let e = read_message(&mut &frame[..], NET, 1).unwrap_err();
        assert_eq!(wire_kind(&e), Some(ErrorKind::PayloadChecksum));
        assert_eq!(e.bytes, frame.len());
    }

    /// Accepts `room` bytes, then fails.
    struct Full {
        room: usize,
    }

    impl Write for Full {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.room == 0 {
                return Err(io::Error::new(io::ErrorKind::BrokenPipe, "closed"));
            }
            let n = buf.len().min(self.room).min(5);
            self.room -= n;
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn failed_write_counts_what_went_out() {
        let ping = Message::Ping(Ping { nonce: 1 });
        let e = write_message(&mut Full { room: 12 }, &ping, NET, 1).unwrap_err();
        assert_eq!(
            (io_kind(&e), e.bytes),
            (Some(io::ErrorKind::BrokenPipe), 12)
        );
        assert_eq!(
            write_message(&mut Full { room: 100 }, &ping, NET, 1).unwrap(),
            32
        );
    }
}
