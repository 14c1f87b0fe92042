//! The whole-frame decoder: header checks, checksum, payload decode.
#![no_main]

use dcr_wire::{decode_frame, frame_to_vec, CurrencyNet};
use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| {
    let [v, frame @ ..] = data else {
        return;
    };
    let pver = u32::from(*v % 13);
    if let Ok((msg, used)) = decode_frame(frame, CurrencyNet::MainNet, pver) {
        assert!(used <= frame.len());
        common::check_round_trip(&msg, &frame[24..used], pver);
        let again = frame_to_vec(&msg, CurrencyNet::MainNet, pver).expect("re-frames");
        assert_eq!(again.len(), 24 + msg.serialized_size(pver));
    }
});
