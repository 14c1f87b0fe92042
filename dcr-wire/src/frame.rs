//! Message framing: the 24-byte header (magic, NUL-padded command, payload
//! length, checksum) and an incremental splitter that never reads past the
//! frame it returns.
//!
//! Checks run in the reference's order, so a frame is refused for the same
//! reason dcrd would refuse it: payload length over 32 MiB, wrong network,
//! malformed command, unknown command, payload over the message's own
//! maximum (all decided from the header alone, before any payload is
//! buffered), then the checksum, the payload decode and trailing bytes.

#[allow(unused_imports)]
use crate::prelude::*;
use bytes::BufMut;

use crate::error::Error;
use crate::hash::checksum;
use crate::msg::view::MessageView;
use crate::msg::{Command, Message};
use crate::primitives::is_strict_ascii;
use crate::protocol::{pver, CurrencyNet, COMMAND_SIZE, MAX_MESSAGE_PAYLOAD, MESSAGE_HEADER_SIZE};

/// A validated frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// The network whose magic the frame carries.
    pub net: CurrencyNet,
    /// The message's command.
    pub command: Command,
    /// Payload length in bytes.
    pub length: u32,
    /// First four bytes of BLAKE-256 of the payload.
    pub checksum: [u8; 4],
}

impl FrameHeader {
    /// Parses and checks a header for `net` at protocol version `pver`.
    ///
    /// Everything that can be decided without the payload is decided here,
    /// so a stream reader can drop a peer before buffering a byte of an
    /// oversized or unknown message.
    pub fn parse(
        raw: &[u8; MESSAGE_HEADER_SIZE],
        net: CurrencyNet,
        pver: u32,
    ) -> Result<FrameHeader, Error> {
        let magic = u32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]]);
        let mut cmd = [0u8; COMMAND_SIZE];
        cmd.copy_from_slice(&raw[4..16]);
        let length = u32::from_le_bytes([raw[16], raw[17], raw[18], raw[19]]);
        let sum = [raw[20], raw[21], raw[22], raw[23]];

        if length > MAX_MESSAGE_PAYLOAD {
            return Err(Error::PayloadTooLarge {
                len: length.into(),
                max: MAX_MESSAGE_PAYLOAD.into(),
            });
        }
        if magic != net.magic() {
            return Err(Error::WrongNetwork { magic });
        }
        let command = parse_command(&cmd, pver)?;
        let max = command.max_payload_length(pver);
        if length > max {
            return Err(Error::PayloadTooLarge {
                len: length.into(),
                max: max.into(),
            });
        }
        Ok(FrameHeader {
            net,
            command,
            length,
            checksum: sum,
        })
    }

    /// Total frame size: header plus payload.
    pub fn frame_len(&self) -> usize {
        MESSAGE_HEADER_SIZE + self.length as usize
    }
}

/// Reads the command field: trailing NUL padding is dropped and what remains
/// must be printable ASCII (so a NUL followed by anything else is
/// malformed), then it must name a known message.
fn parse_command(raw: &[u8; COMMAND_SIZE], pver: u32) -> Result<Command, Error> {
    let end = raw.iter().rposition(|&b| b != 0).map_or(0, |p| p + 1);
    let name = &raw[..end];
    if !is_strict_ascii(name) {
        return Err(Error::MalformedCommand { raw: *raw });
    }
    match Command::from_name(name) {
        // The reference's frame reader no longer knows `reject`; peers below
        // the version that removed it still send it, so it is read there.
        Some(Command::Reject) if pver >= pver::REMOVE_REJECT => {
            Err(Error::UnknownCommand { raw: *raw })
        }
        Some(c) => Ok(c),
        None => Err(Error::UnknownCommand { raw: *raw }),
    }
}

/// One complete frame whose checksum has been verified; the payload borrows
/// from the input buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    /// The validated header.
    pub header: FrameHeader,
    /// The payload, checksum verified.
    pub payload: &'a [u8],
}

impl<'a> Frame<'a> {
    /// Decodes the payload (trailing bytes are an error).
    pub fn message(&self, pver: u32) -> Result<Message<'a>, Error> {
        Message::decode(self.header.command, self.payload, pver)
    }

    /// Decodes the payload into its zero-copy view, which allocates
    /// nothing ([`MessageView`]); the same verdict as [`Frame::message`].
    pub fn view(&self, pver: u32) -> Result<MessageView<'a>, Error> {
        MessageView::decode(self.header.command, self.payload, pver)
    }
}

/// What [`split_frame`] found at the front of a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split<'a> {
    /// Not a whole frame yet: at least `needed` more bytes are required.
    Incomplete {
        /// Bytes missing, at least.
        needed: usize,
    },
    /// A whole frame, and how many bytes of the buffer it used.
    Frame {
        /// The frame.
        frame: Frame<'a>,
        /// Bytes of the buffer it spans.
        consumed: usize,
    },
}

/// Looks for one frame at the start of `buf`.
///
/// Returns [`Split::Incomplete`] with the number of bytes still missing,
/// or the frame and the bytes it used (never more than the frame). Header
/// errors are reported as soon as the 24 header bytes are present; the
/// checksum is verified once the payload is complete.
pub fn split_frame(buf: &[u8], net: CurrencyNet, pver: u32) -> Result<Split<'_>, Error> {
    let Some(raw) = buf.first_chunk::<MESSAGE_HEADER_SIZE>() else {
        return Ok(Split::Incomplete {
            needed: MESSAGE_HEADER_SIZE - buf.len(),
        });
    };
    let header = FrameHeader::parse(raw, net, pver)?;
    let total = header.frame_len();
    if buf.len() < total {
        return Ok(Split::Incomplete {
            needed: total - buf.len(),
        });
    }
    let payload = &buf[MESSAGE_HEADER_SIZE..total];
    verify_checksum(&header, payload)?;
    Ok(Split::Frame {
        frame: Frame { header, payload },
        consumed: total,
    })
}

/// Checks a payload against its header's checksum.
pub fn verify_checksum(header: &FrameHeader, payload: &[u8]) -> Result<(), Error> {
    let actual = checksum(payload);
    if actual != header.checksum {
        return Err(Error::PayloadChecksum {
            expected: header.checksum,
            actual,
        });
    }
    Ok(())
}

/// Decodes exactly one whole frame from `buf`: the message and the bytes it
/// used. A buffer holding less than a frame is [`Error::UnexpectedEof`].
pub fn decode_frame(
    buf: &[u8],
    net: CurrencyNet,
    pver: u32,
) -> Result<(Message<'_>, usize), Error> {
    match split_frame(buf, net, pver)? {
        Split::Incomplete { needed } => Err(Error::eof(needed).while_reading("a frame")),
        Split::Frame { frame, consumed } => Ok((frame.message(pver)?, consumed)),
    }
}

/// A growable byte buffer a frame can be encoded into in place: the header
/// is reserved first and filled in (length, checksum) once the payload
/// behind it is written, so no temporary payload buffer is allocated and
/// the payload is not copied a second time.
pub trait FrameBuf: BufMut {
    /// Everything written so far.
    fn written_mut(&mut self) -> &mut [u8];
    /// Drops what was written after the first `len` bytes.
    fn truncate_to(&mut self, len: usize);
}

impl FrameBuf for Vec<u8> {
    fn written_mut(&mut self) -> &mut [u8] {
        self
    }
    fn truncate_to(&mut self, len: usize) {
        self.truncate(len);
    }
}

impl FrameBuf for bytes::BytesMut {
    fn written_mut(&mut self) -> &mut [u8] {
        self
    }
    fn truncate_to(&mut self, len: usize) {
        self.truncate(len);
    }
}

/// Writes `msg` as a whole frame for `net` at `pver`.
///
/// The payload is encoded once, straight into `buf` behind a reserved
/// header, which is then filled in. Refuses payloads over 32 MiB or over
/// the message's maximum, as the reference does; on any error `buf` is left
/// as it was.
pub fn encode_frame<B: FrameBuf>(
    msg: &Message<'_>,
    net: CurrencyNet,
    pver: u32,
    buf: &mut B,
) -> Result<(), Error> {
    let start = buf.written_mut().len();
    buf.put_bytes(0, MESSAGE_HEADER_SIZE);
    let framed = msg.encode(buf, pver).and_then(|()| {
        let frame = &mut buf.written_mut()[start..];
        let (header, payload) = frame.split_at_mut(MESSAGE_HEADER_SIZE);
        header.copy_from_slice(&frame_header(msg.command(), payload, net, pver)?);
        Ok(())
    });
    if framed.is_err() {
        buf.truncate_to(start);
    }
    framed
}

/// Encodes `msg` as a frame into a new vector.
pub fn frame_to_vec(msg: &Message<'_>, net: CurrencyNet, pver: u32) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity(MESSAGE_HEADER_SIZE + msg.serialized_size(pver));
    encode_frame(msg, net, pver, &mut out)?;
    Ok(out)
}

/// Frames an already encoded payload.
pub fn write_frame<B: BufMut>(
    command: Command,
    payload: &[u8],
    net: CurrencyNet,
    pver: u32,
    buf: &mut B,
) -> Result<(), Error> {
    buf.put_slice(&frame_header(command, payload, net, pver)?);
    buf.put_slice(payload);
    Ok(())
}

/// The header for `payload` sent as `command`, after checking its length
/// against the 32 MiB limit and the message's own maximum.
fn frame_header(
    command: Command,
    payload: &[u8],
    net: CurrencyNet,
    pver: u32,
) -> Result<[u8; MESSAGE_HEADER_SIZE], Error> {
    let len = payload.len() as u64;
    let max = u64::from(command.max_payload_length(pver).min(MAX_MESSAGE_PAYLOAD));
    if len > max {
        return Err(Error::PayloadTooLarge { len, max });
    }
    let mut header = [0u8; MESSAGE_HEADER_SIZE];
    let name = command.as_str().as_bytes();
    header[..4].copy_from_slice(&net.magic().to_le_bytes());
    header[4..4 + name.len()].copy_from_slice(name);
    header[4 + COMMAND_SIZE..20].copy_from_slice(&(len as u32).to_le_bytes());
    header[20..].copy_from_slice(&checksum(payload));
    Ok(header)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn header(magic: u32, cmd: &[u8], len: u32, sum: [u8; 4]) -> Vec<u8> {
        let mut h = Vec::new();
        h.extend_from_slice(&magic.to_le_bytes());
        let mut c = [0u8; 12];
        c[..cmd.len()].copy_from_slice(cmd);
        h.extend_from_slice(&c);
        h.extend_from_slice(&len.to_le_bytes());
        h.extend_from_slice(&sum);
        h
    }

    const NET: CurrencyNet = CurrencyNet::MainNet;

    fn kind(buf: &[u8]) -> ErrorKind {
        split_frame(buf, NET, pver::CURRENT).unwrap_err().kind()
    }

    #[test]
    fn a_frame_reads_into_its_view_as_into_its_message() {
        let mut tx = crate::Tx::new();
        tx.outputs.push(crate::TxOut::new(7, vec![0x51]));
        let msg = Message::Tx(tx);
        let bytes = frame_to_vec(&msg, NET, pver::CURRENT).unwrap();
        let whole = |bytes| match split_frame(bytes, NET, pver::CURRENT) {
            Ok(Split::Frame { frame, .. }) => frame,
            other => panic!("not a whole frame: {other:?}"),
        };
        let frame = whole(&bytes);
        let view = frame.view(pver::CURRENT).unwrap();
        assert!(matches!(view, MessageView::Tx(_)));
        assert_eq!(view.to_message(), frame.message(pver::CURRENT).unwrap());
        assert_eq!(view.to_message(), msg);
        // A version the message does not exist at: both refuse alike.
        let getaddr = frame_to_vec(&Message::GetAddr(crate::GetAddr), NET, 1).unwrap();
        let frame = whole(&getaddr);
        assert_eq!(
            frame.view(0).map(|v| v.to_message()),
            frame.message(0),
            "getaddr at version 0"
        );
        assert!(frame.view(0).is_err());
    }

    #[test]
    fn incomplete_says_how_much() {
        assert_eq!(
            split_frame(&[1, 2, 3], NET, 1),
            Ok(Split::Incomplete { needed: 21 })
        );
        let mut f = header(NET.magic(), b"ping", 8, [0; 4]);
        f.extend_from_slice(&[0; 3]);
        assert_eq!(
            split_frame(&f, NET, pver::CURRENT),
            Ok(Split::Incomplete { needed: 5 })
        );
    }

    #[test]
    fn header_checks_in_reference_order() {
        // Over 32 MiB wins over the wrong network.
        assert_eq!(
            kind(&header(0, b"ping", MAX_MESSAGE_PAYLOAD + 1, [0; 4])),
            ErrorKind::PayloadTooLarge
        );
        assert_eq!(
            kind(&header(0, b"ping", 8, [0; 4])),
            ErrorKind::WrongNetwork
        );
        assert_eq!(
            kind(&header(NET.magic(), b"pi\0ng", 8, [0; 4])),
            ErrorKind::MalformedCmd
        );
        assert_eq!(
            kind(&header(NET.magic(), b"pi\x01ng", 8, [0; 4])),
            ErrorKind::MalformedCmd
        );
        assert_eq!(
            kind(&header(NET.magic(), b"pingpong", 8, [0; 4])),
            ErrorKind::UnknownCmd
        );
        // verack has no payload: anything longer is over its maximum.
        assert_eq!(
            kind(&header(NET.magic(), b"verack", 1, [0; 4])),
            ErrorKind::PayloadTooLarge
        );
        assert_eq!(
            kind(&header(NET.magic(), b"verack", 0, [0; 4])),
            ErrorKind::PayloadChecksum
        );
    }

    #[test]
    fn reject_is_unknown_from_version_9() {
        let h = header(NET.magic(), b"reject", 0, checksum(&[]));
        assert_eq!(
            split_frame(&h, NET, pver::REMOVE_REJECT)
                .unwrap_err()
                .kind(),
            ErrorKind::UnknownCmd
        );
    }

    #[test]
    fn never_reads_past_the_frame() {
        let mut f = header(NET.magic(), b"verack", 0, checksum(&[]));
        let len = f.len();
        f.extend_from_slice(b"next frame");
        match split_frame(&f, NET, pver::CURRENT).unwrap() {
            Split::Frame { frame, consumed } => {
                assert_eq!(consumed, len);
                assert!(frame.payload.is_empty());
                assert_eq!(frame.header.command, Command::VerAck);
            }
            other => panic!("expected a frame, got {other:?}"),
        }
    }

    #[test]
    fn failed_encodes_leave_the_buffer_as_it_was() {
        use crate::{Inv, InvVect, Tx, TxOut};
        let before = frame_to_vec(&Message::VerAck(crate::VerAck), NET, pver::CURRENT).unwrap();
        // Refused by the message's own encoder: too many vectors.
        let inv = Message::Inv(Inv {
            inv_list: vec![InvVect::default(); 50_001],
        });
        // Refused by the frame: a transaction over its payload maximum.
        let tx = Message::Tx(Tx {
            outputs: vec![TxOut {
                pk_script: vec![0; 2 << 20].into(),
                ..TxOut::default()
            }],
            ..Tx::default()
        });
        for (msg, want) in [
            (&inv, ErrorKind::TooManyVectors),
            (&tx, ErrorKind::PayloadTooLarge),
        ] {
            let mut v = before.clone();
            let err = encode_frame(msg, NET, pver::CURRENT, &mut v).unwrap_err();
            assert_eq!(err.kind(), want);
            assert_eq!(v, before);
            let mut b = bytes::BytesMut::from(&before[..]);
            assert_eq!(
                encode_frame(msg, NET, pver::CURRENT, &mut b)
                    .unwrap_err()
                    .kind(),
                want
            );
            assert_eq!(&b[..], &before[..]);
        }
    }

    #[test]
    fn frames_append_behind_what_the_buffer_holds() {
        let ping = Message::Ping(crate::Ping { nonce: 7 });
        let mut v = frame_to_vec(&Message::VerAck(crate::VerAck), NET, pver::CURRENT).unwrap();
        let first = v.len();
        encode_frame(&ping, NET, pver::CURRENT, &mut v).unwrap();
        let (got, used) = decode_frame(&v[first..], NET, pver::CURRENT).unwrap();
        assert_eq!((got, used), (ping, v.len() - first));
    }

    mod props {
        use super::*;
        use crate::msg::header::tests::arb_header;
        use crate::msg::tx::tests::arb_tx;
        use crate::{Block, Headers, Ping, Pong};
        use proptest::prelude::*;

        fn arb_message() -> impl Strategy<Value = Message<'static>> {
            prop_oneof![
                any::<u64>().prop_map(|nonce| Message::Ping(Ping { nonce })),
                any::<u64>().prop_map(|nonce| Message::Pong(Pong { nonce })),
                arb_tx().prop_map(Message::Tx),
                proptest::collection::vec(arb_header(), 0..4)
                    .prop_map(|headers| Message::Headers(Headers { headers })),
                (arb_header(), proptest::collection::vec(arb_tx(), 0..3))
                    .prop_map(|(h, txs)| Message::Block(Block::new(h, &txs, &[]))),
            ]
        }

        proptest! {
            #[test]
            fn frames_round_trip_in_any_chunking(
                msgs in proptest::collection::vec(arb_message(), 1..6),
                chunk in 1usize..64,
                net in proptest::sample::select(CurrencyNet::ALL.to_vec()),
            ) {
                let mut stream = Vec::new();
                for m in &msgs {
                    let f = frame_to_vec(m, net, pver::CURRENT).unwrap();
                    prop_assert_eq!(f.len(), MESSAGE_HEADER_SIZE + m.serialized_size(pver::CURRENT));
                    stream.extend(f);
                }
                let mut buf = Vec::new();
                let mut got = Vec::new();
                for piece in stream.chunks(chunk) {
                    buf.extend_from_slice(piece);
                    while let Split::Frame { frame, consumed } = split_frame(&buf, net, pver::CURRENT).unwrap() {
                        got.push(frame.message(pver::CURRENT).unwrap().into_owned());
                        buf.drain(..consumed);
                    }
                }
                prop_assert!(buf.is_empty());
                prop_assert_eq!(got, msgs);
            }
        }
    }
}
