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
    #[error("cannot decode {0}")]
    Payload(Command, #[source] dcr_wire::Error),
    /// A frame that does not decode.
    #[error("cannot decode frame")]
    Frame(#[source] dcr_wire::Error),
    /// Bytes left after the frame (how many).
    #[error("{} after the frame", dcr_wire::ByteCount(*.0 as u64))]
    Trailing(usize),
    /// JSON that is not a message: the command it names (when it names
    /// one), and what is wrong, the field's path first
    /// (`fields.Nonce: ...`).
    #[error("cannot encode {}", command.as_deref().unwrap_or("the message"))]
    Fields {
        /// The `command` of the document, if it is a string.
        command: Option<String>,
        /// The field and what is wrong with it.
        source: serde_json::Error,
    },
    /// The message does not encode at the version asked for.
    #[error("cannot encode")]
    Encode(#[source] dcr_wire::Error),
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

/// Parses JSON text as [`serde_json::from_str`] does, but refuses an
/// object that names a key twice ("duplicate key `Nonce` at line 1 column
/// 40"): read into a map, the last of the two won without a word, so
/// `{"command": "ping", ..., "command": "pong"}` encoded a `pong`.
pub fn parse_json(text: &str) -> Result<Value, serde_json::Error> {
    use serde::de::{DeserializeSeed, Error, MapAccess, SeqAccess, Visitor};

    struct Strict;

    impl<'de> DeserializeSeed<'de> for Strict {
        type Value = Value;
        fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
            d.deserialize_any(self)
        }
    }

    impl<'de> Visitor<'de> for Strict {
        type Value = Value;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a JSON value")
        }
        fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
            Ok(Value::Bool(v))
        }
        fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
            Ok(v.into())
        }
        fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
            Ok(v.into())
        }
        fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
            Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
        }
        fn visit_str<E>(self, v: &str) -> Result<Value, E> {
            Ok(Value::String(v.to_owned()))
        }
        fn visit_string<E>(self, v: String) -> Result<Value, E> {
            Ok(Value::String(v))
        }
        fn visit_unit<E>(self) -> Result<Value, E> {
            Ok(Value::Null)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
            let mut items = Vec::new();
            while let Some(v) = seq.next_element_seed(Strict)? {
                items.push(v);
            }
            Ok(Value::Array(items))
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
            let mut object = serde_json::Map::new();
            while let Some(key) = map.next_key::<String>()? {
                if object.contains_key(&key) {
                    return Err(A::Error::custom(format_args!("duplicate key `{key}`")));
                }
                let value = map.next_value_seed(Strict)?;
                object.insert(key, value);
            }
            Ok(Value::Object(object))
        }
    }

    let mut de = serde_json::Deserializer::from_str(text);
    let value = Strict.deserialize(&mut de)?;
    de.end()?;
    Ok(value)
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
            Err(e @ JsonError::Fields { .. }) => format!("{:#}", anyhow::Error::from(e)),
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

    /// A key given twice is refused wherever it is, not settled by the
    /// last one; everything else reads as `serde_json` reads it.
    #[test]
    fn a_key_given_twice_is_refused() {
        for (text, key) in [
            (
                r#"{"command":"ping","fields":{"Nonce":7},"command":"pong"}"#,
                "command",
            ),
            (
                r#"{"command":"ping","fields":{"Nonce":7,"Nonce":8}}"#,
                "Nonce",
            ),
            (r#"[{"a":1},{"b":{"c":1,"c":1}}]"#, "c"),
        ] {
            let e = parse_json(text).unwrap_err().to_string();
            assert!(
                e.starts_with(&format!("duplicate key `{key}` at line 1")),
                "{e}"
            );
        }
        for text in [
            r#"{"command":"ping","fields":{"Nonce":18446744073709551615}}"#,
            r#"{"a":[1,-2,2.5,1e400,null,true,"x\u00e9"],"b":{},"c":[]}"#,
            r#"{"n":18446744073709551616}"#,
            " 7 ",
        ] {
            let ours = parse_json(text).map_err(|e| e.to_string());
            let theirs = serde_json::from_str::<Value>(text).map_err(|e| e.to_string());
            assert_eq!(ours, theirs, "{text}");
        }
        assert!(parse_json("{} x").is_err());
        assert!(parse_json(&"[".repeat(200)).is_err());
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
                let json = |e: JsonError| dcr_wire::Report(&e).to_string();
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

/// Every error of the module reads each of its messages once
/// (docs/ERRORS.md).
#[cfg(test)]
mod reads_once {
    use super::*;

    #[test]
    fn every_json_error_reads_once() {
        let wire = || dcr_wire::Error::eof(4).while_reading("a `ping` message");
        let all = [
            JsonError::Payload(Command::Ping, wire()),
            JsonError::Frame(wire()),
            JsonError::Trailing(1),
            JsonError::Fields {
                command: Some("ping".into()),
                source: serde_json::from_str::<u8>("x").unwrap_err(),
            },
            JsonError::Encode(wire()),
        ];
        dcr_wire::every_variant!(
            all,
            JsonError::Payload(..),
            JsonError::Frame(_),
            JsonError::Trailing(_),
            JsonError::Fields { .. },
            JsonError::Encode(_),
        );
        for e in &all {
            assert_eq!(dcr_wire::Report(e).fault(), None);
        }
        assert_eq!(JsonError::Trailing(1).to_string(), "1 byte after the frame");
    }
}
