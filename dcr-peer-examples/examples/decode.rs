//! The codec alone: frames read from a byte stream with `FrameCodec`, no
//! peer. Here the stream is an in-memory buffer holding three frames.
//!
//! `cargo run -p dcr-peer-examples --example decode`

use bytes::BytesMut;
use dcr_peer::wire::{pver, CurrencyNet, GetHeaders, Hash, Message, Ping};
use dcr_peer::FrameCodec;
use tokio_util::codec::{Decoder, Encoder};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut codec = FrameCodec::new(CurrencyNet::MainNet, pver::CURRENT);
    let mut wire = BytesMut::new();
    codec.encode(&Message::Ping(Ping { nonce: 42 }), &mut wire)?;
    codec.encode(
        &Message::GetHeaders(GetHeaders {
            protocol_version: pver::CURRENT,
            block_locator_hashes: vec![Hash::ZERO],
            hash_stop: Hash::ZERO,
        }),
        &mut wire,
    )?;
    codec.encode(&Message::Ping(Ping { nonce: 43 }), &mut wire)?;

    // Feed the bytes in small pieces, as a socket would deliver them.
    let mut buf = BytesMut::new();
    for chunk in wire.chunks(7) {
        buf.extend_from_slice(chunk);
        while let Some(frame) = codec.decode(&mut buf)? {
            // The payload is a `Bytes` cut from the buffer: no copy.
            let msg = frame.message(codec.protocol_version())?;
            println!(
                "{} ({} bytes): {}",
                frame.command(),
                frame.wire_len(),
                serde_json::to_string(&msg)?
            );
        }
    }
    Ok(())
}
