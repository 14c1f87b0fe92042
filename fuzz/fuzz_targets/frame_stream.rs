//! The incremental splitter over a stream cut at arbitrary chunk boundaries:
//! feeding the bytes in pieces yields exactly the frames (or the error) that
//! splitting the whole buffer at once yields, and never reads past a frame.
#![no_main]

use dcr_wire::{split_frame, CurrencyNet, Split};
use libfuzzer_sys::fuzz_target;

/// Splits a whole buffer into frames; stops at the first error or at an
/// incomplete tail.
fn split_all(mut buf: &[u8], pver: u32) -> (Vec<Vec<u8>>, Option<dcr_wire::ErrorKind>) {
    let mut frames = Vec::new();
    loop {
        match split_frame(buf, CurrencyNet::MainNet, pver) {
            Ok(Split::Frame { consumed, .. }) => {
                assert!(consumed >= 24 && consumed <= buf.len());
                frames.push(buf[..consumed].to_vec());
                buf = &buf[consumed..];
            }
            Ok(Split::Incomplete { needed }) => {
                assert!(needed > 0);
                return (frames, None);
            }
            Err(e) => return (frames, Some(e.kind())),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let [v, cuts, stream @ ..] = data else {
        return;
    };
    let pver = u32::from(*v % 13);
    let whole = split_all(stream, pver);

    // Feed the stream in chunks whose sizes come from the `cuts` seed.
    let mut frames = Vec::new();
    let mut err = None;
    let mut buf: Vec<u8> = Vec::new();
    let mut pos = 0;
    let mut step = usize::from(*cuts).max(1);
    while pos < stream.len() && err.is_none() {
        let end = (pos + step).min(stream.len());
        buf.extend_from_slice(&stream[pos..end]);
        pos = end;
        step = (step * 7 + 3) % 97 + 1;
        loop {
            match split_frame(&buf, CurrencyNet::MainNet, pver) {
                Ok(Split::Frame { consumed, .. }) => {
                    frames.push(buf[..consumed].to_vec());
                    buf.drain(..consumed);
                }
                Ok(Split::Incomplete { needed }) => {
                    assert!(needed > 0);
                    break;
                }
                Err(e) => {
                    err = Some(e.kind());
                    break;
                }
            }
        }
    }
    assert_eq!((frames, err), whole);
});
