//! The whole-frame decoder: header checks, checksum, payload decode; and
//! the blocking stream reader over the same bytes, which must reach the
//! same verdict and read exactly the frame.
#![no_main]

use dcr_wire::{decode_frame, frame_to_vec, read_message, CurrencyNet, StreamErrorCause};
use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| {
    let [v, frame @ ..] = data else {
        return;
    };
    let pver = u32::from(*v % 13);
    let decoded = decode_frame(frame, CurrencyNet::MainNet, pver);
    let mut rest = frame;
    let streamed = read_message(&mut rest, CurrencyNet::MainNet, pver);
    match (&decoded, &streamed) {
        (Ok((msg, used)), Ok(read)) => {
            assert_eq!((&read.message, read.bytes_read), (msg, *used));
            assert_eq!(rest.len(), frame.len() - used, "reads exactly the frame");
        }
        (Err(e), Err(s)) => match &s.cause {
            StreamErrorCause::Wire(w) => assert_eq!(w.kind(), e.kind()),
            StreamErrorCause::Io(_) => assert_eq!(e.kind(), dcr_wire::ErrorKind::UnexpectedEof),
        },
        _ => panic!("decode_frame and read_message disagree"),
    }
    if let Ok((msg, used)) = decoded {
        assert!(used <= frame.len());
        common::check_round_trip(&msg, &frame[24..used], pver);
        let again = frame_to_vec(&msg, CurrencyNet::MainNet, pver).expect("re-frames");
        assert_eq!(again.len(), 24 + msg.serialized_size(pver));
    }
});
