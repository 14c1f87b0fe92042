//! The mixing messages' signed data, hash, pairing description and
//! commitment against vectors from the reference (`tests/vectors/`, see
//! the README there): every record decodes, re-encodes to its bytes, and
//! gives the reference's values.

use dcr_tests::Tally;
use dcr_wire::{pver, Command, Message, MixMessage};
use serde_json::Value;

const VECTORS: &str = include_str!("../vectors/mix_signed.jsonl");

fn text<'v>(r: &'v Value, k: &str) -> Result<&'v str, String> {
    r[k].as_str().ok_or_else(|| format!("record has no {k}"))
}

fn expect(what: &str, got: String, want: &str) -> Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(format!("{what}: got {got}, expected {want}"))
    }
}

/// The checks every mixing message shares.
fn check_common<'a, M: MixMessage<'a>>(m: &M, r: &Value) -> Result<(), String> {
    expect("hash", m.mix_hash().to_string(), text(r, "hash")?)?;
    expect(
        "signed data",
        hex::encode(m.signed_data()),
        text(r, "signed_data_hex")?,
    )?;
    expect(
        "signature hash",
        hex::encode(m.signature_hash().0),
        text(r, "signature_hash")?,
    )
}

fn check(r: &Value) -> Result<(), String> {
    let name = text(r, "command")?;
    let command = Command::from_name(name.as_bytes()).ok_or(format!("unknown {name}"))?;
    let payload = hex::decode(text(r, "payload_hex")?).map_err(|e| e.to_string())?;
    let msg = Message::decode(command, &payload, pver::CURRENT).map_err(|e| e.to_string())?;
    let mut again = Vec::new();
    msg.encode(&mut again, pver::CURRENT)
        .map_err(|e| e.to_string())?;
    if again != payload {
        return Err("re-encoded bytes differ".into());
    }
    match &msg {
        Message::MixPairReq(m) => {
            check_common(m, r)?;
            expect("pairing", hex::encode(m.pairing()), text(r, "pairing_hex")?)
        }
        Message::MixSecrets(m) => {
            check_common(m, r)?;
            expect(
                "commitment",
                m.commitment().to_string(),
                text(r, "commitment")?,
            )
        }
        Message::MixKeyExchange(m) => check_common(m, r),
        Message::MixCiphertexts(m) => check_common(m, r),
        Message::MixSlotReserve(m) => check_common(m, r),
        Message::MixFactoredPoly(m) => check_common(m, r),
        Message::MixDCNet(m) => check_common(m, r),
        Message::MixConfirm(m) => check_common(m, r),
        other => Err(format!("{} is not a mixing message", other.command())),
    }
}

#[test]
fn mix_signed_vectors() {
    let mut tally = Tally::default();
    let mut commands = std::collections::BTreeSet::new();
    for (n, line) in VECTORS.lines().enumerate() {
        let r: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("line {}: {e}", n + 1));
        commands.insert(r["command"].as_str().unwrap_or("?").to_string());
        let group = r["command"].as_str().unwrap_or("?").to_string();
        tally.record(
            &group,
            check(&r).map_err(|e| format!("line {}: {e}", n + 1)),
        );
    }
    assert_eq!(commands.len(), 8, "all eight mixing messages: {commands:?}");
    tally.finish("mix_signed.jsonl");
}
