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
use std::task::{ready, Context, Poll};

use bytes::BytesMut;
use dcr_wire::{Command, CurrencyNet, Message};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio_util::codec::Decoder;
use tokio_util::io::poll_read_buf;

use super::handle::Peer;
use crate::capture::{CaptureConn, Direction};
use crate::codec::{CodecError, FrameCodec, RawFrame};
use crate::hooks::Hooks;
use crate::listeners::{Listeners, SentFrame};

/// A byte stream with its frame reader.
pub(super) struct Conn<S> {
    /// The stream; the connection's task writes to it directly.
    pub(super) io: Pin<Box<S>>,
    rbuf: BytesMut,
    codec: FrameCodec,
    /// The connection's side of the hooks' capture, when there is one.
    capture: Option<CaptureConn>,
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
                    if let Some(c) = &self.capture {
                        c.record(
                            Direction::Received,
                            &[self.codec.header_bytes(), &frame.payload],
                        );
                    }
                    return Poll::Ready(Ok(frame));
                }
                Ok(None) => {}
                Err(e) => {
                    self.capture_unfinished();
                    return Poll::Ready(Err(e));
                }
            }
            // The codec reserved exactly the room the frame in hand needs.
            let read = ready!(poll_read_buf(self.io.as_mut(), cx, &mut self.rbuf));
            if !matches!(read, Ok(n) if n > 0) {
                self.capture_unfinished();
                let e = read
                    .err()
                    .unwrap_or_else(|| io::ErrorKind::UnexpectedEof.into());
                return Poll::Ready(Err(e.into()));
            }
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
    /// The command of the frame whose payload is arriving, if its header
    /// was read.
    pub fn pending_command(&self) -> Option<Command> {
        self.codec.pending_command()
    }

    /// A frame of `command` was written whole: it is counted, shown to the
    /// listeners and captured.
    pub fn wrote(&self, peer: &Peer, listeners: &dyn Listeners, command: Command, frame: &[u8]) {
        if let Some(c) = &self.capture {
            c.record(Direction::Sent, &[frame]);
        }
        peer.inner.traffic.count_write(frame.len());
        let sent = SentFrame {
            command,
            bytes: frame,
        };
        listeners.on_write(peer, frame.len(), Ok(sent));
    }
}

/// `frame` was read: it is counted, decoded at `pver`, and shown to the
/// listeners, whether its message decodes or not. The message borrows the
/// frame.
pub(super) fn read<'f>(
    peer: &Peer,
    listeners: &dyn Listeners,
    frame: &'f RawFrame,
    pver: u32,
) -> Result<Message<'f>, dcr_wire::Error> {
    peer.inner.traffic.count_read(frame.wire_len());
    match frame.message(pver) {
        Ok(msg) => {
            listeners.on_read(peer, frame.wire_len(), Ok(&msg));
            Ok(msg)
        }
        Err(error) => {
            let failed = CodecError::Wire(error.clone());
            listeners.on_read(peer, frame.wire_len(), Err(&failed));
            Err(error)
        }
    }
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
