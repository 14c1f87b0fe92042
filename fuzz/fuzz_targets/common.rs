//! Shared by the fuzz targets: the round-trip property every decoded
//! message must satisfy.

use dcr_wire::Message;

/// A decoded message re-encodes to bytes that decode to the same message,
/// with `serialized_size` exact; where the encoding is canonical (every
/// message but the few with lenient fields, such as booleans read as "any
/// non-zero byte") the bytes are the input itself.
pub fn check_round_trip(msg: &Message<'_>, input: &[u8], pver: u32) {
    let mut out = Vec::new();
    if let Err(e) = msg.encode(&mut out, pver) {
        // The reference's own asymmetries: it decodes these but refuses to
        // encode them, and so do we.
        assert!(
            reference_refuses_to_encode(msg),
            "a decoded message re-encodes: {e:?}"
        );
        assert!(out.is_empty(), "nothing written on a refused encode");
        return;
    }
    assert_eq!(
        out.len(),
        msg.serialized_size(pver),
        "serialized_size is exact"
    );
    let again = Message::decode(msg.command(), &out, pver).expect("re-encoded bytes decode");
    assert_eq!(&again, msg, "decode(encode(m)) == m");
    if is_canonical(msg) {
        assert_eq!(out, input, "canonical messages re-encode to their input");
    }
    let owned = msg.clone().into_owned();
    assert_eq!(&owned, msg);
}

fn is_canonical(msg: &Message<'_>) -> bool {
    !matches!(msg, Message::Version(_))
}

/// Messages the reference decodes but will not encode: a DC-net with no
/// vectors (its encoder requires at least one mixed message).
fn reference_refuses_to_encode(msg: &Message<'_>) -> bool {
    matches!(msg, Message::MixDCNet(m) if m.dc_net.rows() == 0)
}
