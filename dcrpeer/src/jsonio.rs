//! JSON in and out for the command line: `decode` prints a message in the
//! reference's field layout (hashes in display order), with the hashes of
//! its headers and transactions beside it, and `encode` builds the common
//! messages back from that same layout.

use std::borrow::Cow;
use std::net::IpAddr;

use dcr_wire::{
    decode_frame, frame_to_vec, BlockHeader, Command, CurrencyNet, GetBlocks, GetData, GetHeaders,
    Hash, Inv, InvType, InvVect, Message, NetAddress, NotFound, Ping, Pong, ServiceFlags, TxTree,
    Version,
};
use serde_json::{json, Value};

/// Why bytes or JSON could not be turned into the other.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
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
    /// A field the message needs is missing.
    #[error("missing field {0}")]
    Missing(&'static str),
    /// A field of the wrong kind: its name and what it must be.
    #[error("{0} must be {1}")]
    Kind(&'static str, &'static str),
    /// A number too large for its field.
    #[error("{0} is out of range")]
    Range(&'static str),
    /// A hash that does not parse: the field and the value given.
    #[error("{0}: bad hash {1}")]
    Hash(&'static str, String),
    /// A command [`encode_json`] does not build.
    #[error("cannot encode {0} from JSON (supported: {list})", list = ENCODABLE.join(", "))]
    Unsupported(String),
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
    let mut doc = json!({ "command": msg.command().as_str(), "fields": msg.to_json() });
    if let Some(hashes) = hashes_json(&msg) {
        doc["hashes"] = hashes;
    }
    Ok(doc)
}

/// The hashes a parser wants and the reference's fields do not carry, in
/// the shape of those fields (so `hashes.Transactions[3]` belongs to
/// `fields.Transactions[3]`), named after the reference's methods: for
/// headers and blocks `BlockHash`, `PowHashV1`, `PowHashV2`; for
/// transactions `TxHash`, `TxHashWitness`, `TxHashFull`. `None` for the
/// other messages. They sit beside `fields`, not in it, so `fields` stays
/// exactly the reference's layout.
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

fn get<'v>(v: &'v Value, key: &'static str) -> Result<&'v Value, JsonError> {
    v.get(key).ok_or(JsonError::Missing(key))
}

fn uint(v: &Value, key: &'static str) -> Result<u64, JsonError> {
    get(v, key)?
        .as_u64()
        .ok_or(JsonError::Kind(key, "a non-negative integer"))
}

fn int(v: &Value, key: &'static str) -> Result<i64, JsonError> {
    get(v, key)?
        .as_i64()
        .ok_or(JsonError::Kind(key, "an integer"))
}

fn narrow<T: TryFrom<u64>>(v: &Value, key: &'static str) -> Result<T, JsonError> {
    T::try_from(uint(v, key)?).map_err(|_| JsonError::Range(key))
}

fn hash(v: &Value, key: &'static str) -> Result<Hash, JsonError> {
    let s = get(v, key)?
        .as_str()
        .ok_or(JsonError::Kind(key, "a hash string"))?;
    s.parse()
        .map_err(|_| JsonError::Hash(key, format!("{s:?}")))
}

fn hashes(v: &Value, key: &'static str) -> Result<Vec<Hash>, JsonError> {
    let list = get(v, key)?
        .as_array()
        .ok_or(JsonError::Kind(key, "a list"))?;
    list.iter()
        .map(|h| {
            h.as_str()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| JsonError::Hash(key, h.to_string()))
        })
        .collect()
}

fn inv_list(v: &Value) -> Result<Vec<InvVect>, JsonError> {
    let list = get(v, "InvList")?
        .as_array()
        .ok_or(JsonError::Kind("InvList", "a list"))?;
    list.iter()
        .map(|e| {
            Ok(InvVect {
                inv_type: InvType(narrow(e, "Type")?),
                hash: hash(e, "Hash")?,
            })
        })
        .collect()
}

fn net_address(v: &Value) -> Result<NetAddress, JsonError> {
    let ip: IpAddr = get(v, "IP")?
        .as_str()
        .and_then(|s| s.parse().ok())
        .ok_or(JsonError::Kind("IP", "an IP address"))?;
    Ok(NetAddress::new(
        ip,
        narrow(v, "Port")?,
        ServiceFlags(uint(v, "Services")?),
    ))
}

/// The commands [`encode_json`] builds.
pub const ENCODABLE: [&str; 9] = [
    "ping",
    "pong",
    "getheaders",
    "getblocks",
    "inv",
    "getdata",
    "notfound",
    "version",
    "verack",
];

/// Builds the message `command` from `fields` (the layout `decode` prints).
pub fn message_from_json(command: &str, fields: &Value) -> Result<Message<'static>, JsonError> {
    let f = fields;
    Ok(match command {
        "ping" => Message::Ping(Ping {
            nonce: uint(f, "Nonce")?,
        }),
        "pong" => Message::Pong(Pong {
            nonce: uint(f, "Nonce")?,
        }),
        "getheaders" => Message::GetHeaders(GetHeaders {
            protocol_version: narrow(f, "ProtocolVersion")?,
            block_locator_hashes: hashes(f, "BlockLocatorHashes")?,
            hash_stop: hash(f, "HashStop")?,
        }),
        "getblocks" => Message::GetBlocks(GetBlocks {
            protocol_version: narrow(f, "ProtocolVersion")?,
            block_locator_hashes: hashes(f, "BlockLocatorHashes")?,
            hash_stop: hash(f, "HashStop")?,
        }),
        "inv" => Message::Inv(Inv {
            inv_list: inv_list(f)?,
        }),
        "getdata" => Message::GetData(GetData {
            inv_list: inv_list(f)?,
        }),
        "notfound" => Message::NotFound(NotFound {
            inv_list: inv_list(f)?,
        }),
        "verack" => Message::VerAck(dcr_wire::VerAck),
        "version" => {
            let ua = get(f, "UserAgent")?
                .as_str()
                .ok_or(JsonError::Kind("UserAgent", "a string"))?;
            Message::Version(Version {
                protocol_version: i32::try_from(int(f, "ProtocolVersion")?)
                    .map_err(|_| JsonError::Range("ProtocolVersion"))?,
                services: ServiceFlags(uint(f, "Services")?),
                timestamp: uint(f, "Timestamp")?,
                addr_you: net_address(get(f, "AddrYou")?)?,
                addr_me: net_address(get(f, "AddrMe")?)?,
                nonce: uint(f, "Nonce")?,
                user_agent: Cow::Owned(ua.as_bytes().to_vec()),
                last_block: i32::try_from(int(f, "LastBlock")?)
                    .map_err(|_| JsonError::Range("LastBlock"))?,
                disable_relay_tx: get(f, "DisableRelayTx")?
                    .as_bool()
                    .ok_or(JsonError::Kind("DisableRelayTx", "true or false"))?,
            })
        }
        other => return Err(JsonError::Unsupported(other.into())),
    })
}

/// Encodes `{"command": ..., "fields": ...}` as a payload, or as a frame
/// for `net` when given.
pub fn encode_json(doc: &Value, pver: u32, net: Option<CurrencyNet>) -> Result<Vec<u8>, JsonError> {
    let command = get(doc, "command")?
        .as_str()
        .ok_or(JsonError::Kind("command", "a string"))?;
    let msg = message_from_json(command, get(doc, "fields")?)?;
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
        let unsupported = encode_json(&json!({"command": "block", "fields": {}}), 12, None);
        assert_eq!(unsupported, Err(JsonError::Unsupported("block".into())));
        assert!(unsupported
            .unwrap_err()
            .to_string()
            .starts_with("cannot encode block from JSON (supported: ping, pong,"));
        assert_eq!(
            encode_json(
                &json!({"command": "ping", "fields": {"Nonce": -1}}),
                12,
                None
            ),
            Err(JsonError::Kind("Nonce", "a non-negative integer"))
        );
    }

    /// `dcrpeer decode` prints every message of the reference corpus with
    /// the reference's fields, and `dcrpeer encode` turns the JSON of the
    /// messages it supports back into the same frame bytes.
    #[test]
    fn every_corpus_message_through_the_cli_json() {
        use dcr_tests::{corpus_dir, json_diff, valid_messages, Tally};
        let Some(dir) = corpus_dir() else { return };
        let mut tally = Tally::default();
        for m in valid_messages(&dir) {
            let cmd = m.command.as_str();
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
                if ENCODABLE.contains(&cmd) {
                    // Encoding from the reference's own JSON gives its bytes.
                    let theirs = json!({ "command": cmd, "fields": m.fields });
                    if encode_json(&theirs, m.pver, Some(m.net)).map_err(json)? != m.frame {
                        return Err("encoded frame differs".into());
                    }
                }
                Ok(())
            })();
            tally.record(
                cmd,
                result.map_err(|e: String| format!("{cmd} pver {}: {e}", m.pver)),
            );
        }
        tally.finish("cli json (messages.jsonl)");
    }
}
