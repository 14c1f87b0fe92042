//! A `tokio_util::codec` codec for Decred frames over `dcr-wire`.
//!
//! [`FrameCodec`] turns a byte stream into checksummed [`RawFrame`]s whose
//! payloads are `bytes::Bytes` cut from the read buffer (no copy), and
//! encodes [`Message`]s into frames. It is configured with the network and
//! the protocol version in force; after the handshake the peer sets the
//! negotiated version with [`FrameCodec::set_protocol_version`].
//!
//! The read buffer is bounded: a frame header is checked (network, command,
//! the message's own maximum length at this version) as soon as its 24
//! bytes arrive, so an oversized or unknown message is refused before any of
//! its payload is buffered, and the codec never asks for more room than the
//! frame in hand needs, nor more than [`READ_CHUNK`] ahead of what arrived.

use bytes::{Buf, Bytes, BytesMut};
use dcr_wire::{
    encode_frame, verify_checksum, Command, CurrencyNet, Error as WireError, FrameHeader, Message,
    MessageView, MESSAGE_HEADER_SIZE,
};
use tokio_util::codec::{Decoder, Encoder};

/// The most room the read buffer is grown by at once while a payload
/// arrives.
pub const READ_CHUNK: usize = 64 * 1024;

/// A frame read off the wire: a validated header and its checksummed
/// payload, shared with the read buffer's allocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawFrame {
    /// The validated header.
    pub header: FrameHeader,
    /// The payload, checksum verified.
    pub payload: Bytes,
}

impl RawFrame {
    /// The frame's command.
    pub fn command(&self) -> Command {
        self.header.command
    }

    /// Decodes the payload at `pver`; the message borrows from this frame.
    pub fn message(&self, pver: u32) -> Result<Message<'_>, WireError> {
        Message::decode(self.header.command, &self.payload, pver)
    }

    /// Decodes the payload at `pver` into its zero-copy view, which
    /// allocates nothing and borrows from this frame; the same verdict as
    /// [`RawFrame::message`].
    pub fn view(&self, pver: u32) -> Result<MessageView<'_>, WireError> {
        MessageView::decode(self.header.command, &self.payload, pver)
    }

    /// Size of the whole frame on the wire.
    pub fn wire_len(&self) -> usize {
        MESSAGE_HEADER_SIZE + self.payload.len()
    }
}

/// Errors of the codec: a protocol violation by the remote (its frame is
/// refused by a `dcr-wire` check) or an I/O failure.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("bad frame")]
    /// A frame that does not decode (or a message that does not encode).
    Wire(#[from] WireError),
    #[error("the connection failed")]
    /// The socket failed.
    Io(#[from] std::io::Error),
}

/// Frames Decred messages for one network at one protocol version.
#[derive(Debug, Clone)]
pub struct FrameCodec {
    net: CurrencyNet,
    pver: u32,
    /// The header of the frame whose payload is still arriving.
    pending: Option<FrameHeader>,
    /// The last frame header read, as its bytes arrived (also when it was
    /// refused), for a capture of what the remote sent.
    raw_header: [u8; MESSAGE_HEADER_SIZE],
    /// Payload bytes of the frame last refused, still at the front of the
    /// buffer: none for a refused header (its payload was never read),
    /// all of them for a failed checksum.
    refused: Option<usize>,
}

impl FrameCodec {
    /// A codec for `net` at protocol version `pver`.
    pub fn new(net: CurrencyNet, pver: u32) -> Self {
        FrameCodec {
            net,
            pver,
            pending: None,
            raw_header: [0; MESSAGE_HEADER_SIZE],
            refused: None,
        }
    }

    /// The network whose magic frames must carry.
    pub fn network(&self) -> CurrencyNet {
        self.net
    }

    /// The protocol version messages are decoded and encoded at.
    pub fn protocol_version(&self) -> u32 {
        self.pver
    }

    /// The command of the frame whose payload is still arriving.
    pub fn pending_command(&self) -> Option<Command> {
        self.pending.map(|h| h.command)
    }

    /// The payload length of the frame whose payload is still arriving.
    pub fn pending_length(&self) -> Option<usize> {
        self.pending.map(|h| h.length as usize)
    }

    /// The 24 header bytes of the frame `decode` returned last, exactly as
    /// they arrived.
    pub fn header_bytes(&self) -> &[u8; MESSAGE_HEADER_SIZE] {
        &self.raw_header
    }

    /// What arrived of a frame that never became one, given the buffer
    /// `decode` reads from: after `decode` refused a frame, its header and,
    /// when its checksum failed, its payload (a refused header's payload
    /// is never read); while a frame is arriving (the stream ended or
    /// failed in the middle), its header and the payload so far, or the
    /// part of a header there is. Two parts, to be taken one after the
    /// other; both empty when nothing is unfinished.
    pub fn unfinished<'a>(&'a self, src: &'a [u8]) -> [&'a [u8]; 2] {
        match (self.refused, self.pending) {
            (Some(n), _) => [&self.raw_header[..], &src[..n.min(src.len())]],
            (None, Some(h)) => [
                &self.raw_header[..],
                &src[..(h.length as usize).min(src.len())],
            ],
            (None, None) => [&src[..src.len().min(MESSAGE_HEADER_SIZE)], &[]],
        }
    }

    /// Switches to the negotiated protocol version (affects which messages
    /// are accepted and their maximum sizes).
    pub fn set_protocol_version(&mut self, pver: u32) {
        self.pver = pver;
    }
}

impl Decoder for FrameCodec {
    type Item = RawFrame;
    type Error = CodecError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<RawFrame>, CodecError> {
        let header = match self.pending {
            Some(h) => h,
            None => {
                let Some(raw) = src.first_chunk::<MESSAGE_HEADER_SIZE>() else {
                    src.reserve(MESSAGE_HEADER_SIZE - src.len());
                    return Ok(None);
                };
                self.raw_header = *raw;
                let h = FrameHeader::parse(raw, self.net, self.pver).inspect_err(|_| {
                    self.refused = Some(0);
                })?;
                src.advance(MESSAGE_HEADER_SIZE);
                self.pending = Some(h);
                h
            }
        };
        let len = header.length as usize;
        if src.len() < len {
            // Room for the next part of this payload only: the buffer grows
            // as the bytes arrive, so a remote that announces the largest
            // message and trickles it holds what it sent, not what it
            // announced (the reference allocates the whole payload at once).
            src.reserve((len - src.len()).min(READ_CHUNK));
            return Ok(None);
        }
        self.pending = None;
        // Checked before the payload leaves the buffer, so that a refused
        // one is still there to be captured.
        verify_checksum(&header, &src[..len]).inspect_err(|_| {
            self.refused = Some(len);
        })?;
        let payload = src.split_to(len).freeze();
        Ok(Some(RawFrame { header, payload }))
    }
}

impl Encoder<&Message<'_>> for FrameCodec {
    type Error = CodecError;

    fn encode(&mut self, msg: &Message<'_>, dst: &mut BytesMut) -> Result<(), CodecError> {
        dst.reserve(MESSAGE_HEADER_SIZE + msg.serialized_size(self.pver));
        encode_frame(msg, self.net, self.pver, dst)?;
        Ok(())
    }
}

impl Encoder<Message<'_>> for FrameCodec {
    type Error = CodecError;

    fn encode(&mut self, msg: Message<'_>, dst: &mut BytesMut) -> Result<(), CodecError> {
        self.encode(&msg, dst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dcr_wire::{frame_to_vec, pver, ErrorKind, Ping};
    use futures_util::{SinkExt, StreamExt};
    use tokio_util::codec::{FramedRead, FramedWrite};

    const NET: CurrencyNet = CurrencyNet::SimNet;

    fn ping(n: u64) -> Message<'static> {
        Message::Ping(Ping { nonce: n })
    }

    #[tokio::test]
    async fn stream_of_frames_in_odd_chunks() {
        let mut wire = Vec::new();
        for n in 0..50u64 {
            wire.extend(frame_to_vec(&ping(n), NET, pver::CURRENT).unwrap());
        }
        // Deliver in 7-byte chunks through an in-memory pipe.
        let (client, server) = tokio::io::duplex(64);
        let writer = tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            let mut client = client;
            for chunk in wire.chunks(7) {
                client.write_all(chunk).await.unwrap();
            }
        });
        let mut frames = FramedRead::new(server, FrameCodec::new(NET, pver::CURRENT));
        for n in 0..50u64 {
            let f = frames.next().await.unwrap().unwrap();
            assert_eq!(f.message(pver::CURRENT).unwrap(), ping(n));
            // The zero-copy view of the same frame reads back alike.
            let view = f.view(pver::CURRENT).unwrap();
            assert_eq!(view.to_message(), ping(n));
        }
        writer.await.unwrap();
        assert!(frames.next().await.is_none());
    }

    #[tokio::test]
    async fn sink_and_stream_agree() {
        let (a, b) = tokio::io::duplex(1 << 16);
        let mut sink = FramedWrite::new(a, FrameCodec::new(NET, pver::CURRENT));
        let mut stream = FramedRead::new(b, FrameCodec::new(NET, pver::CURRENT));
        sink.send(ping(7)).await.unwrap();
        sink.send(&Message::VerAck(Default::default()))
            .await
            .unwrap();
        assert_eq!(
            stream
                .next()
                .await
                .unwrap()
                .unwrap()
                .message(pver::CURRENT)
                .unwrap(),
            ping(7)
        );
        assert_eq!(
            stream.next().await.unwrap().unwrap().command(),
            Command::VerAck
        );
    }

    #[test]
    fn oversized_frame_refused_from_header_alone() {
        // A ping announcing 32 MiB: refused with only the header buffered,
        // and the buffer is not grown for the payload.
        let mut h = frame_to_vec(&ping(1), NET, pver::CURRENT).unwrap();
        h.truncate(MESSAGE_HEADER_SIZE);
        h[16..20].copy_from_slice(&(32u32 << 20).to_le_bytes());
        let mut buf = BytesMut::from(&h[..]);
        let mut codec = FrameCodec::new(NET, pver::CURRENT);
        let err = codec.decode(&mut buf).unwrap_err();
        assert!(matches!(err, CodecError::Wire(e) if e.kind() == ErrorKind::PayloadTooLarge));
        assert!(buf.capacity() < 1024);
    }

    #[test]
    fn what_arrived_of_an_unfinished_or_refused_frame_is_at_hand() {
        let frame = frame_to_vec(&ping(5), NET, pver::CURRENT).unwrap();
        let joined = |parts: [&[u8]; 2]| [parts[0], parts[1]].concat();
        // Nothing yet; part of a header; a header and part of its payload.
        let mut codec = FrameCodec::new(NET, pver::CURRENT);
        assert_eq!(joined(codec.unfinished(&[])), b"");
        let mut buf = BytesMut::from(&frame[..10]);
        assert!(codec.decode(&mut buf).unwrap().is_none());
        assert_eq!(joined(codec.unfinished(&buf)), frame[..10]);
        let mut buf = BytesMut::from(&frame[..MESSAGE_HEADER_SIZE + 3]);
        assert!(codec.decode(&mut buf).unwrap().is_none());
        assert_eq!(
            joined(codec.unfinished(&buf)),
            frame[..MESSAGE_HEADER_SIZE + 3]
        );
        // A whole frame: its header bytes as they came.
        buf.extend_from_slice(&frame[MESSAGE_HEADER_SIZE + 3..]);
        assert!(codec.decode(&mut buf).unwrap().is_some());
        assert_eq!(codec.header_bytes()[..], frame[..MESSAGE_HEADER_SIZE]);
        // A failed checksum: the header and the whole payload, and not
        // the frame after it.
        let mut bad = frame.clone();
        bad[MESSAGE_HEADER_SIZE + 7] ^= 0x80;
        let mut buf = BytesMut::from(&[&bad[..], &frame].concat()[..]);
        let mut codec = FrameCodec::new(NET, pver::CURRENT);
        assert!(codec.decode(&mut buf).is_err());
        assert_eq!(joined(codec.unfinished(&buf)), bad);
        // A refused header: the 24 bytes alone.
        let other = frame_to_vec(&ping(5), CurrencyNet::MainNet, pver::CURRENT).unwrap();
        let mut buf = BytesMut::from(&other[..]);
        let mut codec = FrameCodec::new(NET, pver::CURRENT);
        assert!(codec.decode(&mut buf).is_err());
        assert_eq!(joined(codec.unfinished(&buf)), other[..MESSAGE_HEADER_SIZE]);
    }

    #[test]
    fn bad_checksum_and_wrong_network() {
        let mut f = frame_to_vec(&ping(1), NET, pver::CURRENT).unwrap();
        f[MESSAGE_HEADER_SIZE] ^= 1;
        let mut codec = FrameCodec::new(NET, pver::CURRENT);
        let err = codec.decode(&mut BytesMut::from(&f[..])).unwrap_err();
        assert!(matches!(err, CodecError::Wire(e) if e.kind() == ErrorKind::PayloadChecksum));
        let f = frame_to_vec(&ping(1), CurrencyNet::MainNet, pver::CURRENT).unwrap();
        let err = FrameCodec::new(NET, pver::CURRENT)
            .decode(&mut BytesMut::from(&f[..]))
            .unwrap_err();
        assert!(matches!(err, CodecError::Wire(e) if e.kind() == ErrorKind::WrongNetwork));
    }
}
