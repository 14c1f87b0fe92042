//! JSON in and out for the command line: `decode` prints a message in the
//! reference's field layout (dcr-wire's `serde` form: Go field names,
//! hashes in display order, RFC 3339 times), with the hashes of its headers
//! and transactions beside it, and `encode` builds any message back from
//! that same layout.

use dcr_wire::{
    decode_frame, frame_to_vec, BlockHeader, Command, CurrencyNet, Hash, Message, TxTree,
};
use serde_json::{json, Value};

/// Why bytes or JSON could not be turned into the other.
#[derive(Debug, thiserror::Error)]
pub enum JsonError {
    /// A payload that does not decode as its command.
    #[error("cannot decode {0}: {1}")]
    Payload(Command, dcr_wire::Error),
    /// A frame that does not decode.
    #[error("cannot decode frame: {0}")]
    Frame(dcr_wire::Error),
    /// Bytes left after the frame (how many).
    #[error("{0} bytes after the frame")]
    Trailing(usize),
    /// JSON that is not a message: the command it names (when it names
    /// one), and what is wrong, the field's path first
    /// (`fields.Nonce: ...`).
    #[error("cannot encode {}: {source}", command.as_deref().unwrap_or("the message"))]
    Fields {
        /// The `command` of the document, if it is a string.
        command: Option<String>,
        /// The field and what is wrong with it.
        source: serde_json::Error,
    },
    /// The message does not encode at the version asked for.
    #[error("cannot encode: {0}")]
    Encode(dcr_wire::Error),
}

/// What the bytes to decode hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// A whole frame for this network.
    Frame(CurrencyNet),
    /// A bare payload of this command.
    Payload(Command),
}

/// Decodes `bytes` at `pver` into `{"command": ..., "fields": ...}`.
pub fn decode_json(bytes: &[u8], input: Input, pver: u32) -> Result<Value, JsonError> {
    let msg = match input {
        Input::Payload(command) => {
            Message::decode(command, bytes, pver).map_err(|e| JsonError::Payload(command, e))?
        }
        Input::Frame(net) => {
            let (msg, used) = decode_frame(bytes, net, pver).map_err(JsonError::Frame)?;
            if used != bytes.len() {
                return Err(JsonError::Trailing(bytes.len() - used));
            }
            msg
        }
    };
    let mut doc = message_json(&msg);
    if let Some(hashes) = hashes_json(&msg) {
        doc["hashes"] = hashes;
    }
    Ok(doc)
}

/// The message as `{"command": ..., "fields": ...}`.
pub fn message_json(msg: &Message<'_>) -> Value {
    // Every message serializes (its fields are numbers, strings and lists);
    // `Null` would show a fault here, not bad input.
    serde_json::to_value(msg).unwrap_or(Value::Null)
}

/// The hashes a parser wants and the reference's fields do not carry, in
/// the shape of those fields (so `hashes.Transactions[3]` belongs to
/// `fields.Transactions[3]`), named after the reference's methods: for
/// headers and blocks `BlockHash`, `PowHashV1`, `PowHashV2`; for
/// transactions `TxHash`, `TxHashWitness`, `TxHashFull`. `None` for the
/// other messages. They sit beside `fields`, not in it, so `fields` stays
/// exactly the reference's layout; `encode` ignores them.
fn hashes_json(msg: &Message<'_>) -> Option<Value> {
    let header = |h: &BlockHeader| {
        json!({
            "BlockHash": h.block_hash().to_string(),
            "PowHashV1": h.pow_hash_v1().to_string(),
            "PowHashV2": h.pow_hash_v2().to_string(),
        })
    };
    let tx = |hash: Hash, witness: Hash, full: Hash| {
        json!({
            "TxHash": hash.to_string(),
            "TxHashWitness": witness.to_string(),
            "TxHashFull": full.to_string(),
        })
    };
    let tree = |t: &TxTree<'_>| {
        t.raw_txs()
            .map(|r| tx(r.tx_hash(), r.witness_hash(), r.full_hash()))
            .collect::<Vec<_>>()
    };
    match msg {
        Message::Headers(h) => Some(json!({
            "Headers": h.headers.iter().map(header).collect::<Vec<_>>(),
        })),
        Message::Block(b) => Some(json!({
            "Header": header(&b.header),
            "Transactions": tree(&b.txs),
            "STransactions": tree(&b.stake_txs),
        })),
        Message::Tx(t) => Some(tx(t.tx_hash(), t.witness_hash(), t.full_hash())),
        _ => None,
    }
}

/// Builds a message from `{"command": ..., "fields": ...}` (what `decode`
/// prints; its `hashes` are computed, so they are dropped, not checked).
/// Every field is required and unknown ones are refused.
pub fn message_from_json(doc: &Value) -> Result<Message<'static>, JsonError> {
    let command = doc.get("command").and_then(Value::as_str).map(String::from);
    let mut doc = doc.clone();
    if let Some(map) = doc.as_object_mut() {
        map.remove("hashes");
    }
    serde_json::from_value(doc).map_err(|source| JsonError::Fields { command, source })
}

/// Encodes `{"command": ..., "fields": ...}` as a payload, or as a frame
/// for `net` when given.
pub fn encode_json(doc: &Value, pver: u32, net: Option<CurrencyNet>) -> Result<Vec<u8>, JsonError> {
    let msg = message_from_json(doc)?;
    match net {
        Some(net) => frame_to_vec(&msg, net, pver).map_err(JsonError::Encode),
        None => {
            let mut out = Vec::with_capacity(msg.serialized_size(pver));
            msg.encode(&mut out, pver).map_err(JsonError::Encode)?;
            Ok(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dcr_wire::{Inv, InvType, InvVect};

    fn refused(doc: Value) -> String {
        match encode_json(&doc, 12, None) {
            Err(e @ JsonError::Fields { .. }) => e.to_string(),
            other => panic!("{doc} gave {other:?}"),
        }
    }

    #[test]
    fn round_trip_through_json() {
        let frame = frame_to_vec(
            &Message::Inv(Inv {
                inv_list: vec![InvVect {
                    inv_type: InvType::BLOCK,
                    hash: Hash([7; 32]),
                }],
            }),
            CurrencyNet::TestNet3,
            12,
        )
        .unwrap();
        let doc = decode_json(&frame, Input::Frame(CurrencyNet::TestNet3), 12).unwrap();
        assert_eq!(
            encode_json(&doc, 12, Some(CurrencyNet::TestNet3)).unwrap(),
            frame
        );
        assert!(matches!(
            decode_json(&frame[..30], Input::Frame(CurrencyNet::TestNet3), 12),
            Err(JsonError::Frame(_))
        ));
    }

    /// Unknown fields and numbers that do not fit are refused, naming the
    /// field; so are missing fields and unknown commands.
    #[test]
    fn bad_fields_are_named() {
        for (doc, error) in [
            (
                json!({"command": "ping", "fields": {"Nonce": 7, "Extra": 1}}),
                "cannot encode ping: fields.Extra: unknown field `Extra`, expected `Nonce`",
            ),
            (
                // JSON readers give 2^64 as a float: still out of range,
                // not "a float".
                json!({"command": "ping", "fields": {"Nonce": 18446744073709551616.0}}),
                "cannot encode ping: fields.Nonce: 18446744073709551616 is out of range \
                 (0 to 18446744073709551615)",
            ),
            (
                json!({"command": "ping", "fields": {"Nonce": -1}}),
                "cannot encode ping: fields.Nonce: -1 is out of range (0 to 18446744073709551615)",
            ),
            (
                json!({"command": "version", "fields": {"ProtocolVersion": 2147483648u64}}),
                "cannot encode version: fields.ProtocolVersion: 2147483648 is out of range \
                 (-2147483648 to 2147483647)",
            ),
            (
                json!({"command": "feefilter", "fields": {"MinFee": 1.5}}),
                "cannot encode feefilter: fields.MinFee: invalid type: floating point `1.5`, \
                 expected an integer from -9223372036854775808 to 9223372036854775807",
            ),
            (
                json!({"command": "block", "fields": {}}),
                "cannot encode block: fields: missing field `Header`",
            ),
            (
                json!({"command": "inv", "fields": {"InvList": [{"Type": 2, "Hash": "00"}]}}),
                "cannot encode inv: fields.InvList[0].Hash: bad hash \"00\": a hash is 64 hex digits",
            ),
            (
                json!({"fields": {}}),
                "cannot encode the message: missing field `command`",
            ),
        ] {
            assert_eq!(refused(doc), error);
        }
        let e = refused(json!({"command": "nope", "fields": {}}));
        assert!(
            e.starts_with("cannot encode nope: command: unknown variant `nope`"),
            "{e}"
        );
        let e = refused(json!({"command": "pong", "fields": {}, "extra": 1}));
        assert!(e.contains("\"extra\""), "{e}");
    }

    /// `dcrpeer decode` prints every message of the reference corpus with
    /// the reference's fields (times as RFC 3339 where the corpus has Unix
    /// seconds), and `dcrpeer encode` turns both that JSON and the
    /// reference's own back into the same frame bytes, for every command.
    #[test]
    fn every_corpus_message_through_the_cli_json() {
        use dcr_tests::{corpus_dir, json_diff, valid_messages, Tally};
        let Some(dir) = corpus_dir() else { return };
        let mut tally = Tally::default();
        let mut commands = std::collections::BTreeSet::new();
        for m in valid_messages(&dir) {
            let cmd = m.command.as_str();
            commands.insert(cmd);
            let result = (|| -> Result<(), String> {
                let json = |e: JsonError| e.to_string();
                let doc = decode_json(&m.frame, Input::Frame(m.net), m.pver).map_err(json)?;
                if let Some(d) = json_diff("fields", &doc["fields"], &m.fields) {
                    return Err(d);
                }
                if decode_json(&m.payload, Input::Payload(m.command), m.pver).map_err(json)? != doc
                {
                    return Err("payload and frame decode differ".into());
                }
                if encode_json(&doc, m.pver, Some(m.net)).map_err(json)? != m.frame {
                    return Err("our JSON encodes to a different frame".into());
                }
                let theirs = json!({ "command": cmd, "fields": m.fields });
                if encode_json(&theirs, m.pver, None).map_err(json)? != m.payload {
                    return Err("the reference's JSON encodes to a different payload".into());
                }
                Ok(())
            })();
            tally.record(
                cmd,
                result.map_err(|e: String| format!("{cmd} pver {}: {e}", m.pver)),
            );
        }
        assert_eq!(commands.len(), Command::ALL.len());
        tally.finish("cli json (messages.jsonl)");
    }
}
