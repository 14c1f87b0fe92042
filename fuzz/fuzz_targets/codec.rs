//! The peer's tokio codec over a byte stream cut at arbitrary chunk
//! boundaries: it yields the same frames (or the same error) as decoding
//! the whole buffer, and its read buffer holds exactly the unfinished frame
//! in hand, never more.
#![no_main]

use bytes::BytesMut;
use dcr_peer::FrameCodec;
use dcr_wire::{CurrencyNet, MESSAGE_HEADER_SIZE};
use libfuzzer_sys::fuzz_target;
use tokio_util::codec::Decoder;

fn all_at_once(stream: &[u8], pver: u32) -> (Vec<(dcr_wire::Command, Vec<u8>)>, bool) {
    let mut codec = FrameCodec::new(CurrencyNet::MainNet, pver);
    let mut buf = BytesMut::from(stream);
    let mut out = Vec::new();
    loop {
        match codec.decode(&mut buf) {
            Ok(Some(f)) => out.push((f.command(), f.payload.to_vec())),
            Ok(None) => return (out, false),
            Err(_) => return (out, true),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let [v, cut, stream @ ..] = data else { return };
    let pver = u32::from(*v % 13);
    let whole = all_at_once(stream, pver);
    let mut codec = FrameCodec::new(CurrencyNet::MainNet, pver);
    let mut buf = BytesMut::new();
    let mut frames = Vec::new();
    let mut failed = false;
    let mut step = usize::from(*cut).max(1);
    let mut pos = 0;
    'feed: while pos < stream.len() {
        let end = (pos + step).min(stream.len());
        buf.extend_from_slice(&stream[pos..end]);
        pos = end;
        step = (step * 5 + 1) % 61 + 1;
        loop {
            match codec.decode(&mut buf) {
                Ok(Some(f)) => frames.push((f.command(), f.payload.to_vec())),
                Ok(None) => break,
                Err(_) => {
                    failed = true;
                    break 'feed;
                }
            }
        }
        // What the codec still holds is exactly the unfinished frame in
        // hand: the bytes fed since the last whole frame, less its header
        // once that was parsed, and always short of the frame's end.
        let consumed: usize = frames
            .iter()
            .map(|(_, p)| MESSAGE_HEADER_SIZE + p.len())
            .sum();
        let held = pos - consumed;
        match stream.get(consumed + 16..consumed + 20) {
            Some(len) => {
                let len = u32::from_le_bytes([len[0], len[1], len[2], len[3]]) as usize;
                assert!(
                    held < MESSAGE_HEADER_SIZE + len,
                    "a whole frame was held back"
                );
            }
            None => assert!(held < MESSAGE_HEADER_SIZE),
        }
        assert!(
            buf.len() == held
                || (held >= MESSAGE_HEADER_SIZE && buf.len() == held - MESSAGE_HEADER_SIZE),
            "buffer holds {} bytes, the frame in hand {held}",
            buf.len()
        );
    }
    assert_eq!((frames, failed), whole);
});
