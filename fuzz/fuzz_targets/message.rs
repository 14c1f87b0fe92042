//! Every message decoder at every protocol version: the first byte picks the
//! command, the second the protocol version, the rest is the payload. The
//! zero-copy decode (`MessageView`) accepts and refuses the same payloads,
//! with the same errors, and reads back to the same message.
#![no_main]

use dcr_wire::{Command, Message, MessageView};
use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| {
    let [c, v, payload @ ..] = data else {
        return;
    };
    let command = Command::ALL[*c as usize % Command::ALL.len()];
    let pver = u32::from(*v % 13);
    let decoded = Message::decode(command, payload, pver);
    let view = MessageView::decode(command, payload, pver);
    // The view read back is the message: the same lists, transaction
    // fields and borrowed bytes.
    assert_eq!(view.map(|v| v.to_message()), decoded, "{command:?}");
    if let Ok(msg) = decoded {
        assert_eq!(msg.command(), command);
        common::check_round_trip(&msg, payload, pver);
    }
});
