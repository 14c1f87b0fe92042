//! `dcrpeer encode` and `dcrpeer decode` for every command: each message
//! (one of each of the 41, `dcr_tests::sample_messages`) encodes from its
//! JSON to the frame the library writes, decodes back to the same JSON,
//! and `decode`'s own output encodes again to the same frame, at the first
//! and the last protocol version where its command exists. Bad JSON is
//! refused with one line that names the field.

use std::process::Command;

use dcr_tests::sample_messages;
use dcr_wire::{frame_to_vec, pver, CurrencyNet};

/// Runs `dcrpeer` with `args`: its exit status, stdout and stderr.
fn dcrpeer(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_dcrpeer"))
        .args(args)
        .output()
        .expect("run dcrpeer");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs `dcrpeer` with `args` and returns what it prints; it must succeed.
fn ok(args: &[&str]) -> String {
    let (code, out, err) = dcrpeer(args);
    assert_eq!(code, Some(0), "{args:?}: {err}");
    out
}

#[test]
fn every_command_encodes_and_decodes_through_the_cli() {
    let net = CurrencyNet::TestNet3;
    let mut checked = std::collections::BTreeSet::new();
    for msg in sample_messages() {
        let command = msg.command();
        let versions: Vec<u32> = (0..=pver::CURRENT)
            .filter(|&p| command.is_valid_at(p))
            .collect();
        let (first, last) = (versions[0], versions[versions.len() - 1]);
        for p in [first, last] {
            let pv = p.to_string();
            let frame = hex::encode(frame_to_vec(&msg, net, p).unwrap());
            let doc = serde_json::to_value(&msg).unwrap();
            let at = format!("{command} at {p}");

            let hex = ok(&[
                "encode",
                "--pver",
                &pv,
                "--net",
                "testnet",
                "--json",
                &doc.to_string(),
            ]);
            assert_eq!(hex.trim(), frame, "{at}: encode");

            let printed = ok(&["decode", "--pver", &pv, "--net", "testnet", "--hex", &frame]);
            let decoded: serde_json::Value = serde_json::from_str(&printed).unwrap();
            assert_eq!(decoded["command"], doc["command"], "{at}");
            assert_eq!(decoded["fields"], doc["fields"], "{at}: decode");

            // What decode prints (hashes included) is what encode reads.
            let again = ok(&[
                "encode", "--pver", &pv, "--net", "testnet", "--json", &printed,
            ]);
            assert_eq!(again.trim(), frame, "{at}: decode then encode");
        }
        checked.insert(command.as_str());
    }
    assert_eq!(checked.len(), dcr_wire::Command::ALL.len());
}

/// Unknown fields, numbers out of range and a command that does not exist
/// at the version asked for: status 1 and one line naming the problem.
#[test]
fn bad_json_is_refused_naming_the_field() {
    for (json, pv, needle) in [
        (
            r#"{"command":"ping","fields":{"Nonce":7,"Extra":1}}"#,
            "12",
            "cannot encode ping: fields.Extra: unknown field `Extra`, expected `Nonce`",
        ),
        (
            r#"{"command":"ping","fields":{"Nonce":18446744073709551616}}"#,
            "12",
            "cannot encode ping: fields.Nonce: 18446744073709551616 is out of range \
             (0 to 18446744073709551615)",
        ),
        (
            r#"{"command":"headers","fields":{"Headers":[{"Timestamp":"2016-02-08"}]}}"#,
            "12",
            "cannot encode headers: fields.Headers[0].Timestamp: \"2016-02-08\" is not an RFC 3339 time",
        ),
        (
            r#"{"command":"reject","fields":{"Cmd":"tx","Code":1,"Reason":"","Hash":"0000000000000000000000000000000000000000000000000000000000000000"}}"#,
            "12",
            "cannot encode: reject",
        ),
    ] {
        let (code, out, err) = dcrpeer(&["encode", "--pver", pv, "--json", json]);
        assert_eq!(code, Some(1), "{json}: {out}{err}");
        assert_eq!(err.lines().count(), 1, "{json}: {err}");
        assert!(err.contains(needle), "{json}: {err}");
    }
}

/// A key named twice is refused with one line, exit status 1: read into a
/// map, the last one won without a word (`"command"` twice encoded the
/// second command; a field twice, its second value).
#[test]
fn a_key_named_twice_is_refused() {
    for (json, key) in [
        (
            r#"{"command":"ping","fields":{"Nonce":7},"command":"pong"}"#,
            "command",
        ),
        (
            r#"{"command":"ping","fields":{"Nonce":7,"Nonce":8}}"#,
            "Nonce",
        ),
    ] {
        let (code, out, err) = dcrpeer(&["encode", "--json", json]);
        assert_eq!(code, Some(1), "{json}: {out}");
        assert!(out.is_empty(), "{json}: {out}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.starts_with(&format!(
                "dcrpeer: bad JSON: duplicate key `{key}` at line 1"
            )),
            "{err}"
        );
    }
}

/// `--payload` and `--net` contradict each other (a payload has no
/// magic), as README's `[--net NET | --payload]` says: a usage error, not
/// a network silently left out.
#[test]
fn payload_with_a_network_is_a_usage_error() {
    let json = r#"{"command":"ping","fields":{"Nonce":7}}"#;
    let (code, out, err) = dcrpeer(&["encode", "--payload", "--net", "simnet", "--json", json]);
    assert_eq!(code, Some(2), "{out}{err}");
    assert!(out.is_empty(), "{out}");
    assert!(
        err.contains("'--payload' cannot be used with '--net <NET>'"),
        "{err}"
    );
    assert_eq!(
        ok(&["encode", "--payload", "--json", json]).trim(),
        "0700000000000000"
    );
}
