//! Every message decoder at every protocol version: the first byte picks the
//! command, the second the protocol version, the rest is the payload. The
//! zero-copy decode (`MessageView`) accepts and refuses the same payloads,
//! with the same errors and the same lists.
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
    match (&decoded, view) {
        (Err(a), Err(b)) => assert_eq!(*a, b),
        (Ok(Message::Inv(m)), Ok(MessageView::Inv(v))) => assert_eq!(m.inv_list, v.to_vec()),
        (Ok(Message::GetData(m)), Ok(MessageView::GetData(v))) => {
            assert_eq!(m.inv_list, v.to_vec());
        }
        (Ok(Message::NotFound(m)), Ok(MessageView::NotFound(v))) => {
            assert_eq!(m.inv_list, v.to_vec());
        }
        (Ok(Message::Headers(m)), Ok(MessageView::Headers(v))) => {
            assert!(m.headers.iter().copied().eq(v.iter()));
        }
        (Ok(m), Ok(MessageView::Other(v))) => assert_eq!(*m, v),
        (a, b) => panic!("{command:?}: {a:?}, the view {b:?}"),
    }
    if let Ok(msg) = decoded {
        assert_eq!(msg.command(), command);
        common::check_round_trip(&msg, payload, pver);
    }
});
