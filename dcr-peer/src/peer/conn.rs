//! The connection's byte stream and frame reader, and the bookkeeping of
//! every frame read or written, during the handshake and after: the
//! traffic counters, the listeners' `on_read` and `on_write` (the
//! reference's `OnRead` and `OnWrite`), and the frame capture when the
//! peer's [`Hooks`](crate::Hooks) have one. The handshake (`handshake.rs`)
//! and the connection's task (`driver.rs`) both read and write through
//! here.
//!
//! What a capture records: every frame read, as its bytes arrived (the
//! 24-byte header and the payload), when it is read, before its message
//! is decoded (so a frame whose message does not decode is there too);
//! what arrived of a frame that never became one (a refused header, a
//! frame failing its checksum: the header and the payload; a frame cut
//! short by the end of the stream: what came of it); and every frame
//! written, whole, when its last byte went to the socket (a frame the
//! connection ended in the middle of is not recorded).

use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::BytesMut;
use dcr_wire::{Command, CurrencyNet, Message};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio_util::codec::Decoder;
use tokio_util::io::poll_read_buf;

use super::handle::Peer;
use crate::capture::{CaptureConn, Direction};
use crate::codec::{CodecError, FrameCodec, RawFrame, READ_CHUNK};
use crate::hooks::Hooks;
use crate::listeners::{Listeners, SentFrame};
use crate::send_buffers;

/// The least room a read is offered. The codec asks for the part of a
/// frame in hand (a header, then its payload); the buffer's allocation is
/// reused from its start once what was read is taken, so without this
/// floor the room left at its end can hold a header and part of a payload,
/// and a 32-byte ping or pong takes two reads instead of one. Bounded and
/// small: what a remote can make us hold beyond what it sent stays this.
const MIN_READ_ROOM: usize = 256;

/// A byte stream with its frame reader.
pub(super) struct Conn<S> {
    /// The stream; the connection's task writes to it directly.
    pub(super) io: Pin<Box<S>>,
    rbuf: BytesMut,
    codec: FrameCodec,
    /// The connection's side of the hooks' capture, when there is one.
    capture: Option<CaptureConn>,
    /// A frame of more than [`READ_CHUNK`] bytes was read into `rbuf`
    /// since it was last given back: its room is given back to the pool
    /// of large-frame buffers once nothing is waiting to be read.
    grown: bool,
}

impl<S: AsyncRead + AsyncWrite> Conn<S> {
    /// `io` read as frames of `net` at protocol version `pver`, recorded
    /// in the capture of `hooks` when it has one (as a new connection).
    pub fn new(io: S, net: CurrencyNet, pver: u32, hooks: &Hooks) -> Self {
        Conn {
            io: Box::pin(io),
            rbuf: BytesMut::new(),
            codec: FrameCodec::new(net, pver),
            capture: hooks.capture.as_ref().map(|sink| sink.connection(net)),
            grown: false,
        }
    }

    /// The negotiated version is fixed: frames are checked against it from
    /// now on (set once, by the handshake, when the remote's version
    /// arrives).
    pub fn set_protocol_version(&mut self, pver: u32) {
        self.codec.set_protocol_version(pver);
    }

    /// The next whole frame (captured as it is read); an end of stream is
    /// `UnexpectedEof`.
    pub fn poll_frame(&mut self, cx: &mut Context<'_>) -> Poll<Result<RawFrame, CodecError>> {
        loop {
            match self.codec.decode(&mut self.rbuf) {
                Ok(Some(frame)) => {
                    self.grown |= frame.payload.len() > READ_CHUNK;
                    if let Some(c) = &self.capture {
                        c.record(
                            Direction::Received,
                            &[self.codec.header_bytes(), &frame.payload],
                        );
                    }
                    return Poll::Ready(Ok(frame));
                }
                Ok(None) => self.room_for_large_frame(),
                Err(e) => {
                    self.capture_unfinished();
                    return Poll::Ready(Err(e));
                }
            }
            // The codec reserved the room the frame in hand needs; a read
            // is offered at least `MIN_READ_ROOM`, so that a small frame
            // at the end of the buffer's room does not take a second read.
            if self.rbuf.capacity() - self.rbuf.len() < MIN_READ_ROOM {
                self.rbuf.reserve(MIN_READ_ROOM);
            }
            let Poll::Ready(read) = poll_read_buf(self.io.as_mut(), cx, &mut self.rbuf) else {
                self.give_back_room();
                return Poll::Pending;
            };
            if !matches!(read, Ok(n) if n > 0) {
                self.capture_unfinished();
                let e = read
                    .err()
                    .unwrap_or_else(|| io::ErrorKind::UnexpectedEof.into());
                return Poll::Ready(Err(e.into()));
            }
        }
    }

    /// The payload of a large frame is arriving and the read buffer has
    /// not the room for it: a kept buffer that has, if the pool holds one
    /// (what arrived so far is moved into it). Saves growing the buffer
    /// step by step, each step a copy and fresh pages. Nothing new is
    /// allocated here, whatever the remote announced.
    fn room_for_large_frame(&mut self) {
        let Some(len) = self.codec.pending_length() else {
            return;
        };
        if len <= READ_CHUNK || self.rbuf.capacity() >= len {
            return;
        }
        if let Some(mut kept) = send_buffers::take_kept(len) {
            kept.extend_from_slice(&self.rbuf);
            // No copy: a vector wholly owned becomes the buffer as it is.
            self.rbuf = BytesMut::from(bytes::Bytes::from(kept));
            self.grown = true;
        }
    }

    /// Nothing is waiting on the socket: a read buffer that grew for a
    /// large frame, now empty, goes back to the pool (or to the allocator
    /// when the pool is full), so an idle peer does not keep the largest
    /// frame it ever received. A frame still held elsewhere keeps its own
    /// bytes; the buffer is then simply let go.
    fn give_back_room(&mut self) {
        if self.grown && self.rbuf.is_empty() && self.codec.pending_length().is_none() {
            self.grown = false;
            send_buffers::give(Vec::from(std::mem::take(&mut self.rbuf)));
        }
    }

    /// Records what arrived of a frame that will never be whole: the
    /// remote's last words, or a frame the codec refused.
    fn capture_unfinished(&self) {
        if let Some(c) = &self.capture {
            let parts = self.codec.unfinished(&self.rbuf);
            if parts.iter().any(|p| !p.is_empty()) {
                c.record(Direction::Received, &parts);
            }
        }
    }

    /// The next whole frame.
    pub async fn next_frame(&mut self) -> Result<RawFrame, CodecError> {
        poll_fn(|cx| self.poll_frame(cx)).await
    }

    /// Writes `buf` whole and flushes.
    pub async fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.io.write_all(buf).await?;
        self.io.flush().await
    }
}

impl<S> Conn<S> {
    /// The 24 header bytes of the frame read last, as they arrived.
    pub fn header_bytes(&self) -> &[u8; dcr_wire::MESSAGE_HEADER_SIZE] {
        self.codec.header_bytes()
    }

    /// The command of the frame whose payload is arriving, if its header
    /// was read.
    pub fn pending_command(&self) -> Option<Command> {
        self.codec.pending_command()
    }

    /// A frame of `command` was written whole at `now`: it is counted,
    /// shown to the listeners and captured.
    pub fn wrote(
        &self,
        peer: &Peer,
        listeners: &dyn Listeners,
        command: Command,
        frame: &[u8],
        now: Instant,
    ) {
        if let Some(c) = &self.capture {
            c.record(Direction::Sent, &[frame]);
        }
        peer.inner.traffic.count_write(frame.len(), now);
        let sent = SentFrame {
            command,
            bytes: frame,
        };
        listeners.on_write(peer, frame.len(), Ok(sent));
    }
}

/// `frame` was read at `now`: it is counted, decoded at `pver`, and shown
/// to the listeners, whether its message decodes or not. The message
/// borrows the frame.
pub(super) fn read<'f>(
    peer: &Peer,
    listeners: &dyn Listeners,
    frame: &'f RawFrame,
    pver: u32,
    now: Instant,
) -> Result<Message<'f>, dcr_wire::Error> {
    peer.inner.traffic.count_read(frame.wire_len(), now);
    // Returned as decoded: a message is some 300 bytes, each move a copy.
    let decoded = frame.message(pver);
    match &decoded {
        Ok(msg) => listeners.on_read(peer, frame.wire_len(), Ok(msg)),
        Err(error) => {
            let failed = CodecError::Wire(error.clone());
            listeners.on_read(peer, frame.wire_len(), Err(&failed));
        }
    }
    decoded
}

/// Reading failed before a whole frame arrived (the stream, or a frame
/// header refused): the listeners hear of it.
pub(super) fn read_failed(peer: &Peer, listeners: &dyn Listeners, e: &CodecError) {
    listeners.on_read(peer, 0, Err(e));
}

/// Writing failed: the listeners hear of it.
pub(super) fn write_failed(peer: &Peer, listeners: &dyn Listeners, e: &io::Error) {
    listeners.on_write(peer, 0, Err(e));
}

#[cfg(test)]
mod tests {
    use super::*;
    use dcr_wire::{pver, write_frame};
    use tokio::io::AsyncWriteExt;

    const NET: CurrencyNet = CurrencyNet::SimNet;

    /// Polls once: the next frame if it is whole, else `None`.
    async fn poll_once<S: AsyncRead + AsyncWrite>(
        conn: &mut Conn<S>,
    ) -> Option<Result<RawFrame, CodecError>> {
        match poll_fn(|cx| Poll::Ready(conn.poll_frame(cx))).await {
            Poll::Ready(r) => Some(r),
            Poll::Pending => None,
        }
    }

    /// A connection that read a large frame does not keep its room once
    /// the frame is handled and nothing more waits on the socket: an idle
    /// peer holds no more than before the frame came. (It held a megabyte
    /// per block received: the read buffer kept the largest frame's room.)
    #[tokio::test]
    async fn the_room_of_a_large_frame_is_let_go_once_idle() {
        let payload: Vec<u8> = (0..1_000_000u32).map(|n| n as u8).collect();
        let mut frame = Vec::new();
        write_frame(Command::Block, &payload, NET, pver::CURRENT, &mut frame).unwrap();
        let (mut remote, local) = tokio::io::duplex(256 * 1024);
        let mut conn = Conn::new(local, NET, pver::CURRENT, &Hooks::new());
        let writer = tokio::spawn(async move {
            remote.write_all(&frame).await.unwrap();
            remote.write_all(&frame).await.unwrap();
            remote
        });
        // The first frame is still held while the connection goes idle:
        // its bytes stay its own, the connection lets its part go.
        let first = conn.next_frame().await.unwrap();
        let second = conn.next_frame().await.unwrap();
        let mut remote = writer.await.unwrap();
        drop(second);
        assert!(poll_once(&mut conn).await.is_none(), "nothing more came");
        assert!(
            conn.rbuf.capacity() < READ_CHUNK,
            "an idle connection keeps {} bytes of read buffer",
            conn.rbuf.capacity()
        );
        assert_eq!(first.payload[..], payload[..]);
        // And the next large frame still reads whole.
        let mut frame = Vec::new();
        write_frame(Command::Block, &payload, NET, pver::CURRENT, &mut frame).unwrap();
        let writer = tokio::spawn(async move { remote.write_all(&frame).await.unwrap() });
        let third = conn.next_frame().await.unwrap();
        assert_eq!(third.payload[..], payload[..]);
        writer.await.unwrap();
    }

    /// A small frame's buffer is kept: only a buffer grown for a large
    /// frame is let go (the common case costs no pool lock, no
    /// reallocation).
    #[tokio::test]
    async fn a_small_frame_s_buffer_is_kept() {
        let mut frame = Vec::new();
        write_frame(Command::Ping, &[7; 8], NET, pver::CURRENT, &mut frame).unwrap();
        let (mut remote, local) = tokio::io::duplex(1024);
        let mut conn = Conn::new(local, NET, pver::CURRENT, &Hooks::new());
        remote.write_all(&frame).await.unwrap();
        let _ = conn.next_frame().await.unwrap();
        assert!(poll_once(&mut conn).await.is_none());
        assert!(!conn.grown);
        assert!(conn.rbuf.capacity() > 0);
    }
}
