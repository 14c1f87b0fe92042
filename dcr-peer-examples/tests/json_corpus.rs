//! `dcrpeer decode` prints every message of the reference corpus with the
//! reference's fields, and `dcrpeer encode` turns the JSON of the messages
//! it supports back into the same frame bytes.

use dcr_peer_examples::jsonio::{decode_json, encode_json, Input, ENCODABLE};
use dcr_tests::{corpus_dir, json_diff, read_jsonl, Tally};
use dcr_wire::{Command, CurrencyNet};

#[test]
fn every_corpus_message_through_the_cli_json() {
    let Some(dir) = corpus_dir() else { return };
    let mut tally = Tally::default();
    for r in read_jsonl(&dir.join("wire/messages.jsonl")) {
        if r["valid"].as_bool() != Some(true) {
            continue;
        }
        let cmd = r["command"].as_str().unwrap_or_default();
        let result = (|| {
            let pv = r["pver"].as_u64().ok_or("no pver")? as u32;
            let net =
                CurrencyNet::from_name(r["net"].as_str().ok_or("no net")?).ok_or("bad net")?;
            let command = Command::from_name(cmd.as_bytes()).ok_or("bad command")?;
            let payload = hex::decode(r["payload_hex"].as_str().ok_or("no payload")?)
                .map_err(|e| e.to_string())?;
            let frame = hex::decode(r["frame_hex"].as_str().ok_or("no frame")?)
                .map_err(|e| e.to_string())?;
            let doc = decode_json(&frame, Input::Frame(net), pv)?;
            if let Some(d) = json_diff("fields", &doc["fields"], &r["fields"]) {
                return Err(d);
            }
            if decode_json(&payload, Input::Payload(command), pv)? != doc {
                return Err("payload and frame decode differ".into());
            }
            if ENCODABLE.contains(&cmd) {
                // Encoding from the reference's own JSON gives its bytes.
                let theirs = serde_json::json!({ "command": cmd, "fields": r["fields"] });
                if encode_json(&theirs, pv, Some(net))? != frame {
                    return Err("encoded frame differs".into());
                }
            }
            Ok(())
        })();
        tally.record(
            cmd,
            result.map_err(|e: String| format!("{cmd} pver {}: {e}", r["pver"])),
        );
    }
    tally.finish("cli json (messages.jsonl)");
}
