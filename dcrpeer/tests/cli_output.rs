//! What `dcrpeer` prints, as a user (or a script) reads it: colours only
//! where asked for, a warning for a bad RUST_LOG, JSON lines from the
//! commands that run over time, completions and a manual page, hex text
//! read by `decode --file` (issue 22).

use std::process::{Command, Stdio};
use std::time::Duration;

mod common;
use common::*;

/// Whether `text` holds a colour code (an ANSI "select graphic
/// rendition": ESC [ digits and semicolons m). A progress bar's other
/// codes (erase line, `ESC [2K`) are no colour.
fn coloured(text: &str) -> bool {
    text.split("\x1b[").skip(1).any(|rest| {
        let end = rest.find(|c: char| !(c.is_ascii_digit() || c == ';'));
        end.is_some_and(|i| rest[i..].starts_with('m'))
    })
}
const PING: &str = "f900b4d970696e67000000000000000008000000ff864a120123456789abcdef";

/// `dcrpeer ARGS` run on a terminal (a pseudo-terminal from util-linux's
/// `script`), with `env`: what the terminal showed, or `None` (said
/// loudly) without `script`.
fn on_a_terminal(args: &str, env: &[(&str, Option<&str>)]) -> Option<String> {
    let bin = env!("CARGO_BIN_EXE_dcrpeer");
    let mut cmd = Command::new("script");
    cmd.args(["-qec", &format!("{bin} {args}"), "/dev/null"])
        .stdin(Stdio::null());
    for (k, v) in env {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    match cmd.output() {
        Ok(out) => Some(String::from_utf8_lossy(&out.stdout).into_owned()),
        Err(e) => {
            eprintln!("SKIPPED: the terminal half of this test needs `script` (util-linux): {e}");
            None
        }
    }
}

/// Logs into a pipe or file carry no colour codes; `--color always`
/// colours them anyway, `--color never` not even on a terminal, and on a
/// terminal `NO_COLOR` turns them off. clap's help follows `--color` too.
#[test]
fn colours_only_where_they_are_read() {
    let logs = [("RUST_LOG", Some("info")), ("NO_COLOR", None)];
    let (code, _, err) = dcrpeer_env(&["demo", "--built", "3"], &logs, None);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("INFO"), "logs at info expected: {err}");
    assert!(!coloured(&err), "colour codes in a pipe: {err:?}");

    let (code, _, err) = dcrpeer_env(&["demo", "--built", "3", "--color", "always"], &logs, None);
    assert_eq!(code, Some(0), "{err}");
    assert!(coloured(&err), "--color always: {err:?}");
    let (_, _, err) = dcrpeer_env(
        &["--color=always", "demo", "--built", "3"],
        &[("RUST_LOG", Some("info")), ("NO_COLOR", Some("1"))],
        None,
    );
    assert!(coloured(&err), "--color always beats NO_COLOR: {err:?}");

    let (code, out, _) = dcrpeer_env(&["--color", "always", "--help"], &[], None);
    assert_eq!(code, Some(0));
    assert!(coloured(&out), "clap's help with --color always: {out:?}");
    let (_, out, _) = dcrpeer_env(&["--help"], &[("NO_COLOR", None)], None);
    assert!(!coloured(&out), "clap's help in a pipe: {out:?}");
    assert!(out.contains("--color <WHEN>"), "{out}");

    let (code, _, err) = dcrpeer_env(&["--color", "sometimes", "demo"], &[], None);
    assert_eq!(code, Some(2), "{err}");

    let Some(shown) = on_a_terminal("demo --built 3", &logs) else {
        return;
    };
    assert!(coloured(&shown), "no colour on a terminal: {shown:?}");
    let shown = on_a_terminal(
        "demo --built 3",
        &[("RUST_LOG", Some("info")), ("NO_COLOR", Some("1"))],
    )
    .unwrap();
    assert!(
        shown.contains("INFO") && !coloured(&shown),
        "NO_COLOR: {shown:?}"
    );
    let shown = on_a_terminal("--color never demo --built 3", &logs).unwrap();
    // clap's help: coloured on a terminal, not with NO_COLOR or --color
    // never, and with --color always whatever NO_COLOR says.
    let help = |args: &str, no_color: Option<&str>| {
        on_a_terminal(args, &[("NO_COLOR", no_color)]).unwrap()
    };
    assert!(coloured(&help("--help", None)), "help on a terminal");
    assert!(!coloured(&help("--help", Some("1"))), "help with NO_COLOR");
    assert!(
        !coloured(&help("--color never --help", None)),
        "--color never"
    );
    assert!(
        coloured(&help("--color always --help", Some("1"))),
        "--color always"
    );
    assert!(
        shown.contains("INFO") && !coloured(&shown),
        "--color never: {shown:?}"
    );
}

/// A RUST_LOG that does not parse, or names nothing that logs here, is a
/// warning naming it; the command still runs, with the rest of the filter.
#[test]
fn a_bad_rust_log_is_a_warning() {
    for (value, needle) in [
        ("dcr_peer=loud", "ignoring \"dcr_peer=loud\""),
        ("verbose", "\"verbose\" is neither a level"),
    ] {
        let (code, out, err) = dcrpeer_env(
            &["decode", "--json", "--hex", PING],
            &[("RUST_LOG", Some(value))],
            None,
        );
        assert_eq!(code, Some(0), "{value}: {err}");
        assert!(out.contains("\"ping\""), "{out}");
        assert!(
            err.starts_with("dcrpeer: warning: RUST_LOG: ") && err.contains(needle),
            "{value}: {err}"
        );
    }
    let (_, _, err) = dcrpeer_env(
        &["demo", "--built", "3"],
        &[("RUST_LOG", Some("info,x=y")), ("NO_COLOR", Some("1"))],
        None,
    );
    assert!(err.contains("ignoring \"x=y\""), "{err}");
    assert!(err.contains("INFO"), "the valid part is kept: {err}");
    let (_, _, err) = dcrpeer_env(
        &["decode", "--hex", PING],
        &[("RUST_LOG", Some("dcr_peer=debug,warn"))],
        None,
    );
    assert!(err.is_empty(), "{err}");
}

/// `listen --json`: a JSON line as it listens, and one per peer coming
/// and going.
#[test]
fn listen_prints_a_json_line_per_event() {
    let (mut server, stdout, first) = spawn_reading(&[
        "listen",
        "--bind",
        "127.0.0.1:0",
        "--net",
        "simnet",
        "--json",
    ]);
    let listening: serde_json::Value = serde_json::from_str(&first).unwrap();
    assert_eq!(listening["event"], "listening", "{first}");
    assert_eq!(listening["net"], "SimNet");
    assert!(listening["blocks"].as_u64().unwrap() > 0, "{first}");
    let addr = listening["addr"].as_str().unwrap().to_string();
    let lines = Lines::gather(stdout);
    let (code, _, err) = dcrpeer_env(&["connect", &addr, "--net", "simnet"], &[], None);
    assert_eq!(code, Some(0), "{err}");
    let gone = wait_for_line(&lines, |l| l.contains("\"disconnected\""));
    let all = json_lines(&lines.all().join("\n"));
    assert_eq!(all[0]["event"], "connected", "{all:?}");
    assert_eq!(all[0]["direction"], "Inbound", "{all:?}");
    assert!(all[0]["user_agent"].as_str().unwrap().contains("dcrpeer"));
    let gone: serde_json::Value = serde_json::from_str(&gone).unwrap();
    assert_eq!(gone["addr"], all[0]["addr"]);
    assert!(gone["reason"].is_string(), "{gone}");
    let status = interrupt(&mut server.0);
    assert_eq!(status.code(), Some(130));
}

/// `connect --listen-only --json`: the handshake, then a JSON line per
/// message received.
#[test]
fn connect_listen_only_prints_json_lines() {
    let (server, addr) = {
        let (s, a, _) = start_listen_with(&[]);
        (Killed(s), a)
    };
    let (mut client, stdout, first) = spawn_reading(&[
        "connect",
        &addr,
        "--net",
        "simnet",
        "--listen-only",
        "--json",
    ]);
    let connected: serde_json::Value = serde_json::from_str(&first).unwrap();
    assert_eq!(connected["event"], "connected", "{first}");
    assert_eq!(connected["target"], addr.as_str());
    assert!(connected["remote"]["user_agent"].is_string(), "{first}");
    let lines = Lines::gather(stdout);
    // What dcrd's server sends first, and `listen` as it does.
    let line = wait_for_line(&lines, |l| l.contains("sendheaders"));
    let msg: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(msg["event"], "message");
    assert_eq!(msg["command"], "sendheaders");
    let status = interrupt(&mut client.0);
    assert_eq!(status.code(), Some(130));
    drop(server);
}

/// `node --json`: JSON lines for listening, peers, and the blocks peers
/// announce; and in text, the blocks announced are printed (the help
/// says node prints what happens).
#[test]
fn node_prints_peers_and_blocks_as_they_come() {
    for json in [false, true] {
        let mut args = vec!["node", "--net", "simnet", "--listen", "127.0.0.1:0"];
        if json {
            args.push("--json");
        }
        let (mut node, stdout, first) = spawn_reading(&args);
        let addr = if json {
            let doc: serde_json::Value = serde_json::from_str(&first).unwrap();
            assert_eq!(doc["event"], "listening", "{first}");
            doc["addr"].as_str().unwrap().to_string()
        } else {
            first
                .trim()
                .strip_prefix("listening on ")
                .unwrap()
                .to_string()
        };
        let lines = Lines::gather(stdout);
        // A peer that announces a block by `inv` and one by `headers`.
        let announced = announce_blocks(&addr);
        let inv_hash = announced.0.to_string();
        let header_hash = announced.1.to_string();
        let by_inv = wait_for_line(&lines, |l| l.contains(&inv_hash));
        let by_headers = wait_for_line(&lines, |l| l.contains(&header_hash));
        let connected = wait_for_line(&lines, |l| {
            l.contains(" connected") || l.contains("\"connected\"")
        });
        if json {
            let by_inv: serde_json::Value = serde_json::from_str(&by_inv).unwrap();
            assert_eq!(by_inv["event"], "block");
            assert_eq!(by_inv["via"], "inv");
            let by_headers: serde_json::Value = serde_json::from_str(&by_headers).unwrap();
            assert_eq!(by_headers["via"], "headers");
            assert_eq!(by_headers["height"], 1);
            let connected: serde_json::Value = serde_json::from_str(&connected).unwrap();
            assert_eq!(connected["event"], "connected");
            assert_eq!(connected["direction"], "Inbound");
            json_lines(&lines.all().join("\n"));
        } else {
            assert!(
                by_inv.starts_with("block ") && by_inv.contains("announced by"),
                "{by_inv}"
            );
            assert!(
                by_headers.contains("(height 1) announced by"),
                "{by_headers}"
            );
            assert!(
                connected.starts_with("peer ") && connected.contains("Inbound"),
                "{connected}"
            );
        }
        let status = interrupt(&mut node.0);
        assert_eq!(status.code(), Some(130));
    }
}

/// Connects to the node at `addr` as a simnet peer and announces one
/// block by `inv` and another by `headers`; their hashes.
fn announce_blocks(addr: &str) -> (dcr_wire::Hash, dcr_wire::Hash) {
    use dcr_wire::{BlockHeader, Hash, Headers, Inv, InvType, InvVect, Message};
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut cfg = dcr_node::serve::node_config(dcr_wire::CurrencyNet::SimNet, "announcer");
        cfg.services = dcr_wire::ServiceFlags::NODE_NETWORK;
        let peer = dcr_peer::net::connect(addr, cfg, dcr_peer::Hooks::new())
            .await
            .unwrap();
        let inv_hash = Hash([7; 32]);
        peer.queue_message(&Message::Inv(Inv {
            inv_list: vec![InvVect {
                inv_type: InvType::BLOCK,
                hash: inv_hash,
            }],
        }))
        .unwrap();
        let header = BlockHeader {
            height: 1,
            prev_block: dcr_wire::CurrencyNet::SimNet.params().genesis_hash,
            ..BlockHeader::default()
        };
        peer.queue_message(&Message::Headers(Headers {
            headers: vec![header],
        }))
        .unwrap();
        // Time for both to arrive before the peer goes.
        tokio::time::sleep(Duration::from_millis(500)).await;
        peer.disconnect();
        (inv_hash, header.block_hash())
    })
}

/// Completion scripts for every shell clap_complete knows, and the manual
/// page, printed or written as files.
#[test]
fn completions_and_a_manual_page() {
    for (shell, needle) in [
        ("bash", "_dcrpeer()"),
        ("zsh", "#compdef dcrpeer"),
        ("fish", "complete -c dcrpeer"),
        ("elvish", "dcrpeer"),
        ("powershell", "dcrpeer"),
    ] {
        let (code, out, err) = dcrpeer_env(&["completions", shell], &[], None);
        assert_eq!(code, Some(0), "{shell}: {err}");
        assert!(out.contains(needle), "{shell}: {out}");
        for cmd in [
            "connect", "listen", "crawl", "node", "decode", "encode", "man",
        ] {
            assert!(out.contains(cmd), "{shell} lacks {cmd}");
        }
    }
    let (code, _, err) = dcrpeer_env(&["completions", "tcsh"], &[], None);
    assert_eq!(code, Some(2), "{err}");

    let (code, out, err) = dcrpeer_env(&["man"], &[], None);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains(".TH dcrpeer 1"), "{out}");
    for needle in ["connect", "\\-\\-color", "Talk to Decred nodes"] {
        assert!(out.contains(needle), "{needle}: {out}");
    }
    let dir = TempDir::new("man");
    let pages = dir.0.join("man1");
    let (code, _, err) = dcrpeer_env(&["man", "--dir", pages.to_str().unwrap()], &[], None);
    assert_eq!(code, Some(0), "{err}");
    for page in ["dcrpeer.1", "dcrpeer-connect.1", "dcrpeer-node.1"] {
        let text = std::fs::read_to_string(pages.join(page)).unwrap();
        assert!(text.contains(".TH"), "{page}");
    }
}

/// `decode --file` reads a file of hex text (as `--hex` takes it, line
/// breaks allowed) as well as raw bytes.
#[test]
fn decode_file_reads_hex_text() {
    let dir = TempDir::new("hexfile");
    let text = dir.0.join("ping.hex");
    std::fs::write(&text, format!("{}\n{}\n", &PING[..20], &PING[20..])).unwrap();
    let raw = dir.0.join("ping.bin");
    std::fs::write(&raw, hex::decode(PING).unwrap()).unwrap();
    for path in [&text, &raw] {
        let (code, out, err) = dcrpeer_env(
            &["decode", "--json", "--file", path.to_str().unwrap()],
            &[],
            None,
        );
        assert_eq!(code, Some(0), "{}: {err}", path.display());
        let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(doc["command"], "ping");
    }
}

/// Each JSON output is one line: the single reports (`demo`, `connect`,
/// `decode --json`) as much as the event streams.
#[test]
fn single_reports_are_one_json_line_too() {
    let (code, out, err) = dcrpeer_env(&["demo", "--built", "3", "--json"], &[], None);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(json_lines(&out).len(), 1, "{out}");
    let (code, out, _) = dcrpeer_env(&["decode", "--json", "--hex", PING], &[], None);
    assert_eq!(code, Some(0));
    assert_eq!(json_lines(&out).len(), 1, "{out}");
}

/// On a terminal, the headers bar fills as headers come (it starts empty,
/// against the number expected) and rates are whole numbers per second
/// (`112326/s`, not `112,325.7927/s`).
#[test]
fn the_progress_bar_fills_and_rates_are_rounded() {
    let Some(shown) = on_a_terminal("demo --built 400", &[("NO_COLOR", Some("1"))]) else {
        return;
    };
    let draws: Vec<&str> = shown
        .split(['\r', '\n'])
        .filter(|d| d.contains("headers ["))
        .collect();
    assert!(!draws.is_empty(), "no headers bar drawn: {shown:?}");
    // "headers [===>    ] POS/LEN RATE/s": (POS, LEN).
    let counts = |d: &str| -> Option<(u64, u64)> {
        let (_, after) = d.split_once(']')?;
        let (pos, len) = after.split_whitespace().next()?.split_once('/')?;
        Some((pos.parse().ok()?, len.parse().ok()?))
    };
    let drawn: Vec<(u64, u64)> = draws.iter().filter_map(|d| counts(d)).collect();
    assert!(
        !drawn.iter().any(|&(_, len)| len == 0),
        "a full headers bar of nothing (0/0): {draws:#?}"
    );
    assert!(
        drawn.iter().any(|&(pos, len)| pos < len),
        "the headers bar is never short of full: {draws:#?}"
    );
    assert!(
        !shown
            .split(['\r', '\n'])
            .any(|d| d.contains("headers [") && d.contains("/400 ")),
        "the blocks (400) counted under the headers' name: {shown:?}"
    );
    let mut rates = 0;
    for (at, _) in shown.match_indices("/s") {
        let before = &shown[..at];
        let token = before
            .rsplit(|c: char| c.is_whitespace())
            .next()
            .unwrap_or_default();
        if token.is_empty() || token.chars().any(|c| c.is_ascii_alphabetic()) {
            continue;
        }
        assert!(
            token == "-" || token.chars().all(|c| c.is_ascii_digit()),
            "a rate of {token:?}/s"
        );
        rates += 1;
    }
    assert!(rates > 0, "no rate shown: {shown:?}");
}
