//! The peer's tokio codec over a byte stream cut at arbitrary chunk
//! boundaries: it yields the same frames (or the same error) as decoding
//! the whole buffer, and its read buffer never holds more than one frame
//! header plus the payload of the frame in hand plus one chunk.
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
        // Never more buffered than a header, the pending payload and a chunk.
        assert!(buf.len() <= MESSAGE_HEADER_SIZE + dcr_wire::MAX_MESSAGE_PAYLOAD as usize + 64);
    }
    assert_eq!((frames, failed), whole);
});
