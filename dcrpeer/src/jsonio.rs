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

/// What the bytes to decode hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// A whole frame for this network.
    Frame(CurrencyNet),
    /// A bare payload of this command.
    Payload(Command),
}

/// Decodes `bytes` at `pver` into `{"command": ..., "fields": ...}`.
pub fn decode_json(bytes: &[u8], input: Input, pver: u32) -> Result<Value, String> {
    let msg = match input {
        Input::Payload(command) => Message::decode(command, bytes, pver)
            .map_err(|e| format!("cannot decode {command}: {e}"))?,
        Input::Frame(net) => {
            let (msg, used) =
                decode_frame(bytes, net, pver).map_err(|e| format!("cannot decode frame: {e}"))?;
            if used != bytes.len() {
                return Err(format!("{} bytes after the frame", bytes.len() - used));
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

fn get<'v>(v: &'v Value, key: &str) -> Result<&'v Value, String> {
    v.get(key).ok_or_else(|| format!("missing field {key}"))
}

fn uint(v: &Value, key: &str) -> Result<u64, String> {
    get(v, key)?
        .as_u64()
        .ok_or_else(|| format!("{key} must be a non-negative integer"))
}

fn int(v: &Value, key: &str) -> Result<i64, String> {
    get(v, key)?
        .as_i64()
        .ok_or_else(|| format!("{key} must be an integer"))
}

fn narrow<T: TryFrom<u64>>(v: &Value, key: &str) -> Result<T, String> {
    T::try_from(uint(v, key)?).map_err(|_| format!("{key} is out of range"))
}

fn hash(v: &Value, key: &str) -> Result<Hash, String> {
    let s = get(v, key)?
        .as_str()
        .ok_or_else(|| format!("{key} must be a hash string"))?;
    s.parse().map_err(|_| format!("{key}: bad hash {s:?}"))
}

fn hashes(v: &Value, key: &str) -> Result<Vec<Hash>, String> {
    let list = get(v, key)?
        .as_array()
        .ok_or_else(|| format!("{key} must be a list"))?;
    list.iter()
        .map(|h| {
            h.as_str()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| format!("{key}: bad hash {h}"))
        })
        .collect()
}

fn inv_list(v: &Value) -> Result<Vec<InvVect>, String> {
    let list = get(v, "InvList")?
        .as_array()
        .ok_or("InvList must be a list")?;
    list.iter()
        .map(|e| {
            Ok(InvVect {
                inv_type: InvType(narrow(e, "Type")?),
                hash: hash(e, "Hash")?,
            })
        })
        .collect()
}

fn net_address(v: &Value) -> Result<NetAddress, String> {
    let ip: IpAddr = get(v, "IP")?
        .as_str()
        .and_then(|s| s.parse().ok())
        .ok_or("IP must be an IP address")?;
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
pub fn message_from_json(command: &str, fields: &Value) -> Result<Message<'static>, String> {
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
                .ok_or("UserAgent must be a string")?;
            Message::Version(Version {
                protocol_version: i32::try_from(int(f, "ProtocolVersion")?)
                    .map_err(|_| "ProtocolVersion is out of range")?,
                services: ServiceFlags(uint(f, "Services")?),
                timestamp: uint(f, "Timestamp")?,
                addr_you: net_address(get(f, "AddrYou")?)?,
                addr_me: net_address(get(f, "AddrMe")?)?,
                nonce: uint(f, "Nonce")?,
                user_agent: Cow::Owned(ua.as_bytes().to_vec()),
                last_block: i32::try_from(int(f, "LastBlock")?)
                    .map_err(|_| "LastBlock is out of range")?,
                disable_relay_tx: get(f, "DisableRelayTx")?
                    .as_bool()
                    .ok_or("DisableRelayTx must be true or false")?,
            })
        }
        other => {
            return Err(format!(
                "cannot encode {other} from JSON (supported: {})",
                ENCODABLE.join(", ")
            ))
        }
    })
}

/// Encodes `{"command": ..., "fields": ...}` as a payload, or as a frame
/// for `net` when given.
pub fn encode_json(doc: &Value, pver: u32, net: Option<CurrencyNet>) -> Result<Vec<u8>, String> {
    let command = get(doc, "command")?
        .as_str()
        .ok_or("command must be a string")?;
    let msg = message_from_json(command, get(doc, "fields")?)?;
    match net {
        Some(net) => frame_to_vec(&msg, net, pver).map_err(|e| format!("cannot encode: {e}")),
        None => {
            let mut out = Vec::with_capacity(msg.serialized_size(pver));
            msg.encode(&mut out, pver)
                .map_err(|e| format!("cannot encode: {e}"))?;
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
        assert!(decode_json(&frame[..30], Input::Frame(CurrencyNet::TestNet3), 12).is_err());
        assert!(
            encode_json(&json!({"command": "block", "fields": {}}), 12, None)
                .unwrap_err()
                .contains("cannot encode block")
        );
        assert!(encode_json(
            &json!({"command": "ping", "fields": {"Nonce": -1}}),
            12,
            None
        )
        .is_err());
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
            let result = (|| {
                let doc = decode_json(&m.frame, Input::Frame(m.net), m.pver)?;
                if let Some(d) = json_diff("fields", &doc["fields"], &m.fields) {
                    return Err(d);
                }
                if decode_json(&m.payload, Input::Payload(m.command), m.pver)? != doc {
                    return Err("payload and frame decode differ".into());
                }
                if ENCODABLE.contains(&cmd) {
                    // Encoding from the reference's own JSON gives its bytes.
                    let theirs = json!({ "command": cmd, "fields": m.fields });
                    if encode_json(&theirs, m.pver, Some(m.net))? != m.frame {
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
