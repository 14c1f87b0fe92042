//! Every message decoder at every protocol version: the first byte picks the
//! command, the second the protocol version, the rest is the payload.
#![no_main]

use dcr_wire::{Command, Message};
use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| {
    let [c, v, payload @ ..] = data else {
        return;
    };
    let command = Command::ALL[*c as usize % Command::ALL.len()];
    let pver = u32::from(*v % 13);
    if let Ok(msg) = Message::decode(command, payload, pver) {
        assert_eq!(msg.command(), command);
        common::check_round_trip(&msg, payload, pver);
    }
});
