//! The `dcrpeer` binary as a user runs it.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

fn dcrpeer(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_dcrpeer"))
        .args(args)
        .output()
        .expect("run dcrpeer");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Starts `dcrpeer listen` on a free loopback port; returns the process and
/// the address from its first line ("listening on ADDR (simnet), ...").
fn start_listen() -> (std::process::Child, String) {
    let mut server = Command::new(env!("CARGO_BIN_EXE_dcrpeer"))
        .args(["listen", "--bind", "127.0.0.1:0", "--net", "simnet"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let addr = first
        .split_whitespace()
        .nth(2)
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .to_string();
    (server, addr)
}

fn stop(mut server: std::process::Child) {
    let _ = server.kill();
    let _ = server.wait();
}

/// The value printed after `label` on its line.
fn line<'a>(out: &'a str, label: &str) -> &'a str {
    out.lines()
        .find_map(|l| l.trim_start().strip_prefix(label))
        .unwrap_or_else(|| panic!("no {label:?} line in:\n{out}"))
        .trim()
}

#[test]
fn demo_runs_end_to_end() {
    let (ok, out, err) = dcrpeer(&["demo", "--built", "40"]);
    assert!(ok, "{err}");
    assert_eq!(line(&out, "blocks:"), "40");
    assert_eq!(line(&out, "headers:"), "39");
    assert_eq!(line(&out, "transactions:"), "40");
    assert!(line(&out, "checked:").contains("40 separate-tree"));
    assert!(out.contains("client peer:") && out.contains("server peer:"));
    assert!(line(&out, "MB/s:").parse::<f64>().unwrap() > 0.0);
    assert!(!out.contains("no ping answered"), "{out}");
}

#[test]
fn bad_input_is_one_line_and_a_failure() {
    for (args, needle) in [
        (vec!["decode", "--hex", "zz"], "bad hex"),
        (
            vec!["decode", "--hex", "f900b4d970696e67"],
            "cannot decode frame",
        ),
        (
            vec!["decode", "--net", "moonnet", "--hex", "00"],
            "unknown network",
        ),
        (vec!["connect", "127.0.0.1:1"], "127.0.0.1:1"),
        (vec!["frobnicate"], "unknown command"),
        (
            vec!["encode", "--json", "{\"command\":\"block\",\"fields\":{}}"],
            "cannot encode block",
        ),
    ] {
        let (ok, _, err) = dcrpeer(&args);
        assert!(!ok, "{args:?} should fail");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!err.contains("panicked"));
    }
}

#[test]
fn decode_and_encode_are_inverse() {
    let frame = "f900b4d970696e67000000000000000008000000ff864a120123456789abcdef";
    let (ok, out, err) = dcrpeer(&["decode", "--hex", frame]);
    assert!(ok, "{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["command"], "ping");
    let (ok, hex, err) = dcrpeer(&["encode", "--json", &doc.to_string()]);
    assert!(ok, "{err}");
    assert_eq!(hex.trim(), frame);
}

#[test]
fn connect_and_listen_talk_to_each_other() {
    let (server, addr) = start_listen();
    let (ok, out, err) = dcrpeer(&["connect", &addr, "--net", "simnet", "--blocks", "5"]);
    stop(server);
    assert!(ok, "{err}");
    assert!(line(&out, "user agent").contains("dcrpeer"), "{out}");
    assert!(line(&out, "blocks:").starts_with("5 "), "{out}");
    assert!(line(&out, "tip:").contains("height"), "{out}");
    // A wrong network is refused at the first frame.
    let (server, addr) = start_listen();
    let started = std::time::Instant::now();
    let (ok, _, err) = dcrpeer(&["connect", &addr, "--net", "mainnet"]);
    stop(server);
    assert!(!ok);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(started.elapsed() < Duration::from_secs(35));
}

#[allow(dead_code)]
#[path = "../examples/outbound.rs"]
mod outbound;

#[tokio::test]
async fn outbound_example_runs_against_an_in_process_listener() {
    let seen = outbound::run(None).await.unwrap();
    assert!(
        seen[0].starts_with("version: protocol 12 agent /dcrwire:1.0.0/"),
        "{seen:?}"
    );
    assert_eq!(seen[1], "verack: handshake complete");
    assert_eq!(seen[2], "disconnected: disconnect requested");
}

#[test]
fn crawl_finds_a_listening_node() {
    let (server, addr) = start_listen();
    let (ok, out, err) = dcrpeer(&[
        "crawl",
        "--seed",
        &addr,
        "--net",
        "simnet",
        "--duration",
        "3",
    ]);
    stop(server);
    assert!(ok, "{err}");
    assert!(out.contains(&addr), "{out}");
    assert!(out.contains("/dcrwire:1.0.0/dcrpeer:"), "{out}");
    assert!(out.trim_end().ends_with("1 peers found"), "{out}");
}
