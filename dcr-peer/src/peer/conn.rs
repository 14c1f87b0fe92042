//! The connection's byte stream and frame reader, and the bookkeeping of
//! every frame read or written, during the handshake and after: the
//! traffic counters and the listeners' `on_read` and `on_write` (the
//! reference's `OnRead` and `OnWrite`). The handshake (`handshake.rs`) and
//! the connection's task (`driver.rs`) both read and write through here.

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
use crate::codec::{CodecError, FrameCodec, RawFrame};
use crate::listeners::{Listeners, SentFrame};

/// A byte stream with its frame reader.
pub(super) struct Conn<S> {
    /// The stream; the connection's task writes to it directly.
    pub(super) io: Pin<Box<S>>,
    rbuf: BytesMut,
    codec: FrameCodec,
}

impl<S: AsyncRead + AsyncWrite> Conn<S> {
    /// `io` read as frames of `net` at protocol version `pver`.
    pub fn new(io: S, net: CurrencyNet, pver: u32) -> Self {
        Conn {
            io: Box::pin(io),
            rbuf: BytesMut::new(),
            codec: FrameCodec::new(net, pver),
        }
    }

    /// The negotiated version is fixed: frames are checked against it from
    /// now on (set once, by the handshake, when the remote's version
    /// arrives).
    pub fn set_protocol_version(&mut self, pver: u32) {
        self.codec.set_protocol_version(pver);
    }

    /// The next whole frame; an end of stream is `UnexpectedEof`.
    pub fn poll_frame(&mut self, cx: &mut Context<'_>) -> Poll<Result<RawFrame, CodecError>> {
        loop {
            if let Some(frame) = self.codec.decode(&mut self.rbuf)? {
                return Poll::Ready(Ok(frame));
            }
            // The codec reserved exactly the room the frame in hand needs.
            if ready!(poll_read_buf(self.io.as_mut(), cx, &mut self.rbuf))? == 0 {
                return Poll::Ready(Err(io::Error::from(io::ErrorKind::UnexpectedEof).into()));
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

/// A frame of `command` was written whole: it is counted and shown to the
/// listeners.
pub(super) fn wrote(peer: &Peer, listeners: &dyn Listeners, command: Command, frame: &[u8]) {
    peer.inner.traffic.count_write(frame.len());
    let sent = SentFrame {
        command,
        bytes: frame,
    };
    listeners.on_write(peer, frame.len(), Ok(sent));
}

/// Writing failed: the listeners hear of it.
pub(super) fn write_failed(peer: &Peer, listeners: &dyn Listeners, e: &io::Error) {
    listeners.on_write(peer, 0, Err(e));
}
