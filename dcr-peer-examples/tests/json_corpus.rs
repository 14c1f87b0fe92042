//! `dcrpeer decode` prints every message of the reference corpus with the
//! reference's fields, and `dcrpeer encode` turns the JSON of the messages
//! it supports back into the same frame bytes.

use dcr_peer_examples::jsonio::{decode_json, encode_json, Input, ENCODABLE};
use dcr_tests::{corpus_dir, json_diff, valid_messages, Tally};

#[test]
fn every_corpus_message_through_the_cli_json() {
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
                let theirs = serde_json::json!({ "command": cmd, "fields": m.fields });
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
