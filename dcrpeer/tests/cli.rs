//! The `dcrpeer` binary as a user runs it.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

mod common;
use common::*;

fn dcrpeer(args: &[&str]) -> (bool, String, String) {
    let (code, out, err) = dcrpeer_status(args);
    (code == Some(0), out, err)
}

/// Runs `dcrpeer` with `args`: its exit status, stdout and stderr.
fn dcrpeer_status(args: &[&str]) -> (Option<i32>, String, String) {
    dcrpeer_stdin(args, b"")
}

/// [`dcrpeer_status`] with `stdin` as its standard input.
fn dcrpeer_stdin(args: &[&str], stdin: &[u8]) -> (Option<i32>, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dcrpeer"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run dcrpeer");
    let mut input = child.stdin.take().unwrap();
    let _ = std::io::Write::write_all(&mut input, stdin);
    drop(input);
    let out = child.wait_with_output().expect("run dcrpeer");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Starts `dcrpeer listen` on a free loopback port; returns the process and
/// the address from its first line ("listening on ADDR (simnet), ...").
fn start_listen() -> (std::process::Child, String) {
    let (server, addr, _) = start_listen_with(&[]);
    (server, addr)
}

fn stop(server: std::process::Child) {
    drop(Killed(server));
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

/// A failure while running: one line naming what failed, exit status 1.
#[test]
fn runtime_failures_are_one_line_and_status_1() {
    for (args, needle) in [
        (
            vec!["decode", "--hex", "f900b4d970696e67"],
            "cannot decode frame",
        ),
        (vec!["connect", "127.0.0.1:1"], "127.0.0.1:1"),
        (
            vec!["encode", "--json", "{\"command\":\"block\",\"fields\":{}}"],
            "cannot encode block",
        ),
        (vec!["decode", "--file", "/nonexistent/x"], "/nonexistent/x"),
    ] {
        let (code, _, err) = dcrpeer_status(&args);
        assert_eq!(code, Some(1), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!err.contains("panicked"));
    }
}

/// A bad command line: exit status 2, what is wrong, and no network work.
#[test]
fn usage_errors_are_status_2_and_come_before_any_network_work() {
    // A listener nobody must reach: every command below names it.
    let watch = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    watch.set_nonblocking(true).unwrap();
    let addr = watch.local_addr().unwrap().to_string();
    for (args, needle) in [
        (vec!["decode", "--hex", "zz"], "bad hex"),
        (
            vec!["decode", "--net", "moonnet", "--hex", "00"],
            "unknown network",
        ),
        (vec!["frobnicate"], "frobnicate"),
        (vec!["connect", &addr, "--blocks", "abc"], "--blocks"),
        (vec!["connect", &addr, "--locator", "xyz"], "--locator"),
        (
            vec!["connect", &addr, "--net", "moonnet"],
            "unknown network",
        ),
        (
            vec!["connect", "127.0.0.1:notaport"],
            "bad port \"notaport\"",
        ),
        (vec!["connect", "127.0.0.1:0"], "bad port"),
        (
            vec!["connect", &addr, "--proxy", "http://x:1"],
            "http:// proxies are not supported",
        ),
        (vec!["crawl", "--seed", &addr, "--max", "x"], "--max"),
        (vec!["crawl"], "--seed"),
        (vec!["listen", "--bind", "nowhere"], "IP:PORT"),
        (vec!["decode", "--payload", "--hex", "00"], "--command"),
        (
            vec!["decode", "--hex", "00", "--file", "x"],
            "cannot be used with",
        ),
        (vec!["connect", &addr, "--unknown"], "--unknown"),
    ] {
        let (code, out, err) = dcrpeer_status(&args);
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert!(out.is_empty(), "{args:?}: {out}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    assert!(
        matches!(watch.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "a command with a bad value connected"
    );
}

#[test]
fn help_and_version_for_every_command() {
    let (code, out, _) = dcrpeer_status(&["--version"]);
    assert_eq!(code, Some(0));
    assert_eq!(out.trim(), format!("dcrpeer {}", env!("CARGO_PKG_VERSION")));
    for cmd in [
        "demo", "connect", "listen", "crawl", "node", "decode", "encode",
    ] {
        let (code, out, err) = dcrpeer_status(&[cmd, "--help"]);
        assert_eq!(code, Some(0), "{cmd}: {err}");
        assert!(out.contains("Usage: dcrpeer"), "{cmd}: {out}");
        let (code, out, _) = dcrpeer_status(&[cmd, "--version"]);
        assert_eq!(code, Some(0), "{cmd}");
        assert_eq!(
            out.trim(),
            format!("dcrpeer-{cmd} {}", env!("CARGO_PKG_VERSION"))
        );
    }
    // One default network for the commands that talk to nodes, and the
    // help says which.
    for cmd in ["connect", "listen", "crawl", "node"] {
        let (_, out, _) = dcrpeer_status(&[cmd, "--help"]);
        assert!(out.contains("[default: mainnet]"), "{cmd}: {out}");
    }
}

#[test]
fn options_take_their_value_after_an_equals_sign() {
    let frame = "f900b4d970696e67000000000000000008000000ff864a120123456789abcdef";
    let (ok, out, err) = dcrpeer(&["decode", &format!("--hex={frame}"), "--net=mainnet"]);
    assert!(ok, "{err}");
    assert!(out.contains("\"ping\""), "{out}");
}

#[test]
fn file_dash_reads_standard_input() {
    let frame = "f900b4d970696e67000000000000000008000000ff864a120123456789abcdef";
    let bytes = hex::decode(frame).unwrap();
    let (code, out, err) = dcrpeer_stdin(&["decode", "--file", "-"], &bytes);
    assert_eq!(code, Some(0), "{err}");
    let (code, hex, err) = dcrpeer_stdin(&["encode", "--file", "-"], out.as_bytes());
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(hex.trim(), frame);
}

/// Starts `dcrpeer` with `args` and reads the first line it prints; its
/// stderr is piped when `stderr` is set, else dropped.
fn spawn_first_line(
    args: &[&str],
    stderr: bool,
) -> (
    std::process::Child,
    BufReader<std::process::ChildStdout>,
    String,
) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dcrpeer"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(if stderr {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    (child, stdout, first)
}

/// `dcrpeer demo | head -1`: the reader goes away after one line, and the
/// program ends quietly instead of panicking on the closed pipe.
#[test]
fn a_closed_pipe_ends_quietly() {
    let (child, stdout, first) = spawn_first_line(&["demo", "--built", "20"], true);
    assert!(first.starts_with("chain: 20 blocks"), "{first}");
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        !err.contains("panicked") && !err.contains("Broken pipe"),
        "{err}"
    );
}

#[test]
fn json_output_for_demo() {
    let (ok, out, err) = dcrpeer(&["demo", "--built", "12", "--json"]);
    assert!(ok, "{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["blocks"], 12);
    assert_eq!(doc["headers"], 11);
    assert_eq!(doc["client"]["direction"], "Outbound");
    assert_eq!(doc["server"]["direction"], "Inbound");
    assert_eq!(doc["tip"].as_str().map(str::len), Some(64));
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

/// Runs `dcrpeer decode` with `args` and returns the JSON it prints.
fn decoded(args: &[&str]) -> serde_json::Value {
    let (ok, out, err) = dcrpeer(&[&["decode"], args].concat());
    assert!(ok, "{err}");
    serde_json::from_str(&out).unwrap()
}

/// The hashes `decode` prints beside the fields are the reference's: for a
/// header those of `wire/powhash.jsonl`, for a real block and its
/// transactions those of `wire/blocks/`.
#[test]
fn decode_shows_the_reference_hashes() {
    let Some(dir) = dcr_tests::corpus_dir() else {
        return;
    };
    let wire = dir.join("wire");

    // A `headers` message: count 1, the header, its zero transaction count.
    let pow = &dcr_tests::read_jsonl(&wire.join("powhash.jsonl"))[0];
    let payload = format!("01{}00", pow["header_hex"].as_str().unwrap());
    let doc = decoded(&["--payload", "--command", "headers", "--hex", &payload]);
    let got = &doc["hashes"]["Headers"][0];
    for (ours, theirs) in [
        ("BlockHash", "block_hash"),
        ("PowHashV1", "pow_hash_v1"),
        ("PowHashV2", "pow_hash_v2"),
    ] {
        assert_eq!(got[ours], pow[theirs], "{ours}");
    }
    assert_eq!(doc["fields"]["Headers"].as_array().map(Vec::len), Some(1));

    // Mainnet block 432100, and every transaction of it.
    let meta = dcr_tests::read_jsonl(&wire.join("blocks/blocks.jsonl"));
    let meta = meta
        .iter()
        .find(|m| m["source"] == "mainnet-432100")
        .expect("blocks.jsonl lists the mainnet block");
    let block = dcr_tests::read_block_file(&wire.join("blocks/mainnet-432100.bin")).unwrap();
    let tmp = TempDir::new("decode-block");
    let path = tmp.0.join("block.bin");
    std::fs::write(&path, &block[0]).unwrap();
    let doc = decoded(&[
        "--payload",
        "--command",
        "block",
        "--file",
        path.to_str().unwrap(),
    ]);
    let hashes = &doc["hashes"];
    assert_eq!(hashes["Header"]["BlockHash"], meta["block_hash"]);
    assert_eq!(hashes["Header"]["PowHashV1"], meta["block_hash"]);
    assert_eq!(
        hashes["Header"]["PowHashV2"].as_str().map(str::len),
        Some(64)
    );
    let txs = dcr_tests::read_jsonl(&wire.join("blocks/txs.jsonl"));
    let mut checked = 0;
    for (tree, listed, full) in [
        ("Transactions", "tx_hashes", "tx_full_hashes"),
        ("STransactions", "stx_hashes", "stx_full_hashes"),
    ] {
        let ours = hashes[tree].as_array().unwrap();
        assert_eq!(ours.len(), meta[listed].as_array().unwrap().len(), "{tree}");
        assert_eq!(ours.len(), doc["fields"][tree].as_array().unwrap().len());
        for (i, h) in ours.iter().enumerate() {
            assert_eq!(h["TxHash"], meta[listed][i], "{tree}[{i}]");
            assert_eq!(h["TxHashFull"], meta[full][i], "{tree}[{i}]");
            let r = txs
                .iter()
                .find(|r| r["hash"] == h["TxHash"])
                .expect("txs.jsonl lists every transaction of the block");
            assert_eq!(h["TxHashWitness"], r["witness_hash"], "{tree}[{i}]");
            checked += 1;
        }
    }
    assert!(checked > 1);

    // A transaction alone.
    let r = &txs[0];
    let doc = decoded(&[
        "--payload",
        "--command",
        "tx",
        "--hex",
        r["hex"].as_str().unwrap(),
    ]);
    for (ours, theirs) in [
        ("TxHash", "hash"),
        ("TxHashWitness", "witness_hash"),
        ("TxHashFull", "full_hash"),
    ] {
        assert_eq!(doc["hashes"][ours], r[theirs], "{ours}");
    }
    // Messages without headers or transactions have no hashes.
    let ping = "f900b4d970696e67000000000000000008000000ff864a120123456789abcdef";
    assert!(decoded(&["--hex", ping]).get("hashes").is_none());
}

#[test]
fn connect_and_listen_talk_to_each_other() {
    let (server, addr) = start_listen();
    let (ok, out, err) = dcrpeer(&["connect", &addr, "--net", "simnet", "--blocks", "5"]);
    stop(server);
    assert!(ok, "{err}");
    assert!(line(&out, "user agent").contains("dcrpeer"), "{out}");
    // A node serving blocks says so: full nodes (dcrd) drop peers they dial
    // that do not advertise SFNodeNetwork.
    assert_eq!(line(&out, "services"), "0x1", "{out}");
    assert!(line(&out, "blocks:").starts_with("5 "), "{out}");
    assert!(line(&out, "tip:").contains("height"), "{out}");
    // A wrong network is refused at the first frame.
    let (server, addr) = start_listen();
    let started = std::time::Instant::now();
    let (code, _, err) = dcrpeer_status(&["connect", &addr, "--net", "mainnet"]);
    stop(server);
    assert_eq!(code, Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    // The remote hung up during the handshake: the hint is the network.
    assert!(err.contains("during the handshake"), "{err}");
    assert!(err.contains("check --net"), "{err}");
    // At once, not at the 30 s handshake deadline.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(err.contains(&addr), "{err}");
}

/// `dcrpeer crawl` on simnet from `seed`, for `secs` at most.
fn crawl(seed: &str, secs: &str, extra: &[&str]) -> (Option<i32>, String, String) {
    let mut args = vec![
        "crawl",
        "--seed",
        seed,
        "--net",
        "simnet",
        "--duration",
        secs,
    ];
    args.extend_from_slice(extra);
    dcrpeer_status(&args)
}

#[test]
fn crawl_finds_a_listening_node() {
    let (server, addr) = start_listen();
    let (code, out, err) = crawl(&addr, "3", &[]);
    let ok = code == Some(0);
    stop(server);
    assert!(ok, "{err}");
    assert!(out.contains(&addr), "{out}");
    assert!(out.contains("/dcrwire:1.0.0/dcrpeer:"), "{out}");
    assert!(out.trim_end().ends_with("1 peer found"), "{out}");
}

/// With nothing left to try the crawl ends at once, not at its duration.
#[test]
fn crawl_stops_when_nothing_is_left_and_fails_on_a_dead_seed() {
    let (server, addr) = start_listen();
    let started = std::time::Instant::now();
    let (code, out, err) = crawl(&addr, "120", &["--json"]);
    stop(server);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    let rows: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(rows.as_array().map(Vec::len), Some(1), "{out}");
    assert_eq!(rows[0]["addr"], addr.as_str());
    assert!(rows[0]["stats"]["user_agent"]
        .as_str()
        .unwrap()
        .contains("dcrpeer"));

    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let started = std::time::Instant::now();
    let (code, out, err) = crawl(&dead.to_string(), "120", &[]);
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(
        err.contains("unreachable") && err.contains(&dead.to_string()),
        "{err}"
    );
    assert!(out.is_empty(), "{out}");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
}

/// `listen` and `connect` share their default network: each works with
/// the other without `--net`. On mainnet `listen` answers `getheaders`
/// as dcrd does while its chain has less work than mainnet's known
/// minimum (`MinKnownChainWork`): with nothing, so the demo chain's
/// headers are served on simnet.
#[test]
fn listen_and_connect_share_a_default_network() {
    let (server, stdout, first) = spawn_first_line(&["listen", "--bind", "127.0.0.1:0"], false);
    let _drain = Lines::gather(stdout);
    let addr = first.split_whitespace().nth(2).unwrap().to_string();
    assert!(first.contains("(MainNet)"), "{first}");
    let (ok, out, err) = dcrpeer(&["connect", &addr, "--json", "--blocks", "1"]);
    stop(server);
    assert!(ok, "{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["net"], "MainNet");
    assert_eq!(doc["stats"]["direction"], "Outbound");
    assert_eq!(doc["headers"]["count"], 0, "{out}");
    // The first thing dcrd's server sends: `sendheaders`.
    assert_eq!(doc["stats"]["counters"]["wants_headers"], true, "{out}");

    let (server, stdout, first) = spawn_first_line(
        &["listen", "--bind", "127.0.0.1:0", "--net", "simnet"],
        false,
    );
    let _drain = Lines::gather(stdout);
    let addr = first.split_whitespace().nth(2).unwrap().to_string();
    let (ok, out, err) = dcrpeer(&[
        "connect", &addr, "--net", "simnet", "--json", "--blocks", "1",
    ]);
    stop(server);
    assert!(ok, "{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["blocks"]["count"], 1);
    assert!(doc["headers"]["count"].as_u64().unwrap() > 0, "{out}");
}

/// Through a proxy, the proxy's failures name the proxy.
#[test]
fn proxy_errors_name_the_proxy() {
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let proxy = format!("socks5://{dead}");
    let (code, _, err) = dcrpeer_status(&["connect", "127.0.0.1:9", "--proxy", &proxy]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains(&format!("proxy {proxy}")), "{err}");
}

/// Against the reference node itself. Needs a dcrd binary (docs/INTEROP.md
/// says how one was built here without internet):
/// `DCRD_BIN=/path/to/dcrd cargo test -p dcrpeer --test cli -- --ignored dcrd`
///
/// 1. dcrd mines 20 simnet blocks; `dcrpeer connect` handshakes with it,
///    syncs the headers to its tip and fetches and checks the last 5 blocks.
/// 2. `dcrpeer listen` serves those blocks (read from dcrd over RPC) to a
///    second, empty dcrd, which syncs and fully validates every one of them.
#[test]
#[ignore = "needs a dcrd binary in DCRD_BIN"]
fn dcrd_syncs_from_us_and_we_sync_from_dcrd() {
    let bin = dcrd_bin();
    let mining = mining_args();
    let miner = Dcrd::start(&bin, "miner", &mining);
    miner.call("generate", "[20]");
    let (tip, height) = miner.best();
    assert_eq!(height, 20);

    let (ok, out, err) = dcrpeer(&["connect", &miner.p2p, "--net", "simnet", "--blocks", "5"]);
    assert!(ok, "{err}");
    assert!(line(&out, "user agent").contains("dcrd"), "{out}");
    // Ours is 12: whatever dcrd's is, the lower one must be chosen.
    let protocol = line(&out, "protocol");
    let theirs: u32 = protocol.split(' ').next().unwrap().parse().unwrap();
    assert!(
        protocol.ends_with(&format!("(negotiated {})", theirs.min(12))),
        "{out}"
    );
    assert!(line(&out, "headers:").starts_with("20 "), "{out}");
    assert_eq!(line(&out, "tip:"), format!("{tip} (height 20)"), "{out}");
    assert!(line(&out, "blocks:").starts_with("5 "), "{out}");

    let chain = export_chain(&miner, "chain");
    let (server, addr, _) = start_listen_with(&["--chain", chain.0.to_str().unwrap()]);
    // Stopped however the test ends.
    let _server = Killed(server);
    let follower = Dcrd::start(&bin, "follower", &[format!("--connect={addr}")]);
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while follower.best() != (tip.clone(), height) {
        assert!(
            std::time::Instant::now() < deadline,
            "the second dcrd did not sync from us: at {:?}",
            follower.best()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// How long [`dcrd_holds_both_connections_while_mining`] holds (seconds;
/// `DCRD_HOLD_SECS`, 150 unless set: past dcrd's 30 s stall deadline, its
/// 15 s stall check and its 120 s idle timeout) and how often dcrd mines
/// meanwhile (`DCRD_BLOCK_SECS`, 10). Without ticket purchases (a wallet)
/// simnet mines no block past height 126 (dcrd: "would result in an
/// unrecoverable chain due to ticket exhaustion"), so the hold may mine at
/// most [`MAX_HOLD_BLOCKS`].
fn hold_settings() -> (Duration, Duration) {
    let secs = |name: &str, default: u64| {
        Duration::from_secs(
            std::env::var(name)
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(default),
        )
    };
    (secs("DCRD_HOLD_SECS", 150), secs("DCRD_BLOCK_SECS", 10))
}

/// Blocks mined before the hold: enough for a chain to serve.
const HOLD_START_BLOCKS: u64 = 4;

/// Blocks the hold may mine: simnet stops at height 126 without tickets.
const MAX_HOLD_BLOCKS: u64 = 126 - HOLD_START_BLOCKS;

/// dcrd's view of one of our peers (from `getpeerinfo`).
#[derive(Debug, Clone, PartialEq)]
struct DcrdPeer {
    id: u64,
    addr: String,
}

/// Our two peers as dcrd lists them: the `listen` it dialled at
/// `listen_addr` and the inbound `dcrpeer` client, when both are there.
fn our_peers(node: &Dcrd, listen_addr: &str) -> Option<(DcrdPeer, DcrdPeer)> {
    let peers = node.call("getpeerinfo", "[]");
    let find = |inbound: bool, matches: &dyn Fn(&serde_json::Value) -> bool| {
        peers.as_array()?.iter().find_map(|p| {
            (p["inbound"].as_bool() == Some(inbound) && matches(p)).then(|| DcrdPeer {
                id: p["id"].as_u64().unwrap_or_default(),
                addr: p["addr"].as_str().unwrap_or_default().to_string(),
            })
        })
    };
    let dialled = find(false, &|p| p["addr"].as_str() == Some(listen_addr))?;
    let client = find(true, &|p| {
        p["subver"].as_str().is_some_and(|v| v.contains("dcrpeer"))
    })?;
    Some((dialled, client))
}

/// Lines of dcrd's log about `peer` that say it went or misbehaved.
fn drop_lines<'a>(log: &'a str, peer: &str) -> Vec<&'a str> {
    const SIGNS: [&str; 8] = [
        "disconnect",
        "removed peer",
        "dropped",
        "misbehaving",
        "banned",
        "stalled",
        "no answer",
        "lost",
    ];
    log.lines()
        .filter(|l| l.contains(peer))
        .filter(|l| {
            let l = l.to_lowercase();
            SIGNS.iter().any(|s| l.contains(s))
        })
        .collect()
}

/// Against the reference node, held: dcrd mines 4 blocks and dials
/// `dcrpeer listen` serving them, `dcrpeer connect --listen-only` dials
/// dcrd, dcrd mines a block every 10 s, and both connections stay up for 150 s, past every deadline dcrd
/// sets (before `listen` answered `getinitstate`, dcrd dropped it every
/// 30 s: "deadline exceeded for initstate"). Checked from dcrd's RPC (the
/// same two peers, same ids, at the end) and its debug log (no line about
/// either peer going), from both of our processes (still running, no
/// disconnect, every block announced to each). `DCRD_HOLD_SECS` and
/// `DCRD_BLOCK_SECS` make it a soak; it prints its figures.
#[test]
#[ignore = "needs a dcrd binary in DCRD_BIN"]
fn dcrd_holds_both_connections_while_mining() {
    let (hold, every) = hold_settings();
    assert!(
        hold.as_secs() / every.as_secs().max(1) <= MAX_HOLD_BLOCKS,
        "simnet mines at most {MAX_HOLD_BLOCKS} blocks here: hold longer between blocks"
    );
    let bin = dcrd_bin();
    let miner = Dcrd::start(&bin, "hold", &mining_args());
    miner.call("generate", &format!("[{HOLD_START_BLOCKS}]"));
    let chain = export_chain(&miner, "holdchain");
    // Both of our processes capture every frame: into DCRD_CAPTURE_DIR
    // when it is set (kept, to benchmark), else into a folder removed at
    // the end.
    let scratch = TempDir::new("holdcaptures");
    let captures = std::env::var_os("DCRD_CAPTURE_DIR").map_or(scratch.0.clone(), Into::into);
    std::fs::create_dir_all(&captures).unwrap();
    let (listen_cap, client_cap) = (
        captures.join("listen.dcrcap"),
        captures.join("connect.dcrcap"),
    );
    for old in [&listen_cap, &client_cap] {
        let _ = std::fs::remove_file(old);
    }
    let (server, listen_addr, [listen_out, listen_log]) = start_listen_with(&[
        "--chain",
        chain.0.to_str().unwrap(),
        "--capture",
        listen_cap.to_str().unwrap(),
    ]);
    let mut server = Killed(server);
    miner.call("addnode", &format!(r#"["{listen_addr}", "add"]"#));
    let mut client = Command::new(env!("CARGO_BIN_EXE_dcrpeer"))
        .args(["connect", &miner.p2p, "--net", "simnet", "--listen-only"])
        .args(["--capture", client_cap.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let client_out = Lines::gather(client.stdout.take().unwrap());
    let client_err = Lines::gather(client.stderr.take().unwrap());
    let mut client = Killed(client);

    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let start = loop {
        if let Some(peers) = our_peers(&miner, &listen_addr) {
            break peers;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "dcrd lists our peers: {}",
            miner.call("getpeerinfo", "[]")
        );
        std::thread::sleep(Duration::from_millis(200));
    };

    let started = std::time::Instant::now();
    let mut mined = Vec::new();
    while started.elapsed() < hold {
        std::thread::sleep(every.min(hold.saturating_sub(started.elapsed())));
        let hashes = miner.call("generate", "[1]");
        mined.push(hashes[0].as_str().unwrap().to_string());
        for (name, child) in [("listen", &mut server), ("connect", &mut client)] {
            let status = child.0.try_wait().unwrap();
            if status.is_some() {
                let log = miner.log();
                panic!(
                    "{name} exited ({status:?}) after {:?}: {:?}\ndcrd: {:#?}",
                    started.elapsed(),
                    client_err.all(),
                    [&start.0.addr, &start.1.addr].map(|p| drop_lines(&log, p))
                );
            }
        }
    }
    // The last announcements' trickle.
    std::thread::sleep(Duration::from_secs(2));
    let held = started.elapsed();

    let end = our_peers(&miner, &listen_addr).expect("both peers still listed");
    assert_eq!(end, start, "the same connections at the end");
    let log = miner.log();
    assert!(
        !log.contains("stalled or misbehaving"),
        "dcrd found a stall"
    );
    for peer in [&start.0.addr, &start.1.addr] {
        let lines = drop_lines(&log, peer);
        assert!(lines.is_empty(), "dcrd on {peer}: {lines:#?}");
        // dcrd asked each for its initial state (its chain is current) and
        // got the answer.
        assert!(
            log.lines()
                .any(|l| l.contains("Received initstate") && l.contains(peer.as_str())),
            "no initstate from {peer}"
        );
    }
    let listen_lines = listen_out.all();
    assert_eq!(
        listen_lines
            .iter()
            .filter(|l| l.contains(" connected: "))
            .count(),
        1,
        "{listen_lines:?}"
    );
    assert!(
        !listen_lines.iter().any(|l| l.contains("disconnected")),
        "{listen_lines:?}"
    );
    // Every block mined announced to both of our peers.
    let client_lines = client_out.all();
    let announced = |lines: &[String], hash: &str| lines.iter().any(|l| l.contains(hash));
    let to_client = mined.iter().filter(|h| announced(&client_lines, h)).count();
    assert_eq!(to_client, mined.len(), "{client_lines:#?}");
    // listen asks for headers (`sendheaders`, as dcrd's server does), so
    // dcrd announces each block to it with a `headers` message.
    let served_log = listen_log.all();
    let to_listen = served_log
        .iter()
        .filter(|l| l.contains("received") && l.contains("command=headers"))
        .count();
    assert!(to_listen >= mined.len(), "{served_log:#?}");
    // Stopped as Ctrl-C stops them, both close their captures, which hold
    // every block announced.
    for child in [&mut server, &mut client] {
        let status = interrupt(&mut child.0);
        assert!(status.success(), "{status:?}");
    }
    let captured = [
        hold_capture(&client_cap, dcr_wire::Command::Inv, &mined),
        hold_capture(&listen_cap, dcr_wire::Command::Headers, &mined),
    ];

    let warnings: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("[WRN]") || l.contains("[ERR]") || l.contains("[CRT]"))
        .collect();
    eprintln!(
        "held {:.0} s: {} blocks mined (one every {} s), dcrd peers {} (our listen) and {} (our client) kept, {} of {} blocks announced to the client, {} headers announcements received by listen, captures: {} (client), {} (listen), {} warning lines in dcrd's log:",
        held.as_secs_f64(),
        mined.len(),
        every.as_secs(),
        start.0.id,
        start.1.id,
        to_client,
        mined.len(),
        to_listen,
        captured[0],
        captured[1],
        warnings.len()
    );
    for w in warnings {
        eprintln!("  {w}");
    }
}

/// Checks a capture of the hold: it ends cleanly, holds one connection
/// whose first frames are the version exchange, and announces every block
/// in `mined` (display-order hashes) with a received `announce` message
/// (`inv` for the client, `headers` for listen). Says what it holds.
fn hold_capture(path: &std::path::Path, announce: dcr_wire::Command, mined: &[String]) -> String {
    use dcr_peer::capture::{Direction, Records};
    use dcr_wire::{decode_frame, CurrencyNet, Message};
    let bytes = std::fs::read(path).unwrap();
    let mut announced = std::collections::HashSet::new();
    let mut frames = 0;
    let mut first = Vec::new();
    for r in Records::new(&bytes).unwrap() {
        let r = r.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(r.conn, 0, "one connection");
        frames += 1;
        let (msg, _) = decode_frame(r.frame, CurrencyNet::SimNet, 12).unwrap();
        if first.len() < 2 {
            first.push((r.direction, msg.command()));
        }
        if r.direction != Direction::Received || msg.command() != announce {
            continue;
        }
        match msg {
            Message::Inv(inv) => {
                announced.extend(inv.inv_list.iter().map(|iv| iv.hash.to_string()))
            }
            Message::Headers(h) => {
                announced.extend(h.headers.iter().map(|h| h.block_hash().to_string()))
            }
            _ => {}
        }
    }
    assert!(
        first.iter().all(|(_, c)| *c == dcr_wire::Command::Version),
        "{}: {first:?}",
        path.display()
    );
    let missing: Vec<&String> = mined.iter().filter(|h| !announced.contains(*h)).collect();
    assert!(
        missing.is_empty(),
        "{}: not announced {missing:?}",
        path.display()
    );
    format!("{frames} frames, {} bytes", bytes.len())
}

/// A SOCKS5 server on loopback for the tests (threads, std only): RFC 1929
/// username and password (`user`/`pass`), CONNECT to IPv4 targets, then a
/// relay. Returns its address and the usernames it was given.
fn socks5_server(user: &'static str, pass: &'static str) -> (String, Arc<Mutex<Vec<String>>>) {
    use std::io::{Read, Write};
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    let users = Arc::new(Mutex::new(Vec::new()));
    let seen = users.clone();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { return };
            let seen = seen.clone();
            std::thread::spawn(move || -> std::io::Result<()> {
                let mut head = [0u8; 2];
                s.read_exact(&mut head)?;
                let mut methods = vec![0u8; usize::from(head[1])];
                s.read_exact(&mut methods)?;
                if !methods.contains(&2) {
                    return s.write_all(&[5, 0xff]);
                }
                s.write_all(&[5, 2])?;
                let mut v = [0u8; 2];
                s.read_exact(&mut v)?;
                let mut u = vec![0u8; usize::from(v[1])];
                s.read_exact(&mut u)?;
                let mut plen = [0u8; 1];
                s.read_exact(&mut plen)?;
                let mut p = vec![0u8; usize::from(plen[0])];
                s.read_exact(&mut p)?;
                let u = String::from_utf8_lossy(&u).into_owned();
                seen.lock().unwrap().push(u.clone());
                let ok = (user == "*" || u == user) && (pass == "*" || p == pass.as_bytes());
                s.write_all(&[1, if ok { 0 } else { 1 }])?;
                if !ok {
                    return Ok(());
                }
                let mut req = [0u8; 10];
                s.read_exact(&mut req)?;
                let ip = std::net::Ipv4Addr::new(req[4], req[5], req[6], req[7]);
                let port = u16::from_be_bytes([req[8], req[9]]);
                let target = std::net::TcpStream::connect((ip, port))?;
                s.write_all(&[5, 0, 0, 1, 127, 0, 0, 1, 0, 0])?;
                let (mut from_client, mut to_target) = (s.try_clone()?, target.try_clone()?);
                std::thread::spawn(move || std::io::copy(&mut from_client, &mut to_target));
                let (mut to_client, mut from_target) = (s, target);
                std::io::copy(&mut from_target, &mut to_client)?;
                Ok(())
            });
        }
    });
    (addr, users)
}

/// `--proxy socks5://user:pass@host:port` authenticates to the proxy
/// (RFC 1929); `--tor-isolation` gives each connection fresh credentials.
#[test]
fn connect_through_a_socks5_proxy_with_a_password() {
    let (server, addr) = start_listen();
    let (proxy, users) = socks5_server("alice", "s3cret");
    let url = format!("socks5://alice:s3cret@{proxy}");
    let (ok, out, err) = dcrpeer(&["connect", &addr, "--net", "simnet", "--proxy", &url]);
    assert!(ok, "{err}");
    assert!(line(&out, "user agent").contains("dcrpeer"), "{out}");
    assert_eq!(*users.lock().unwrap(), ["alice"]);

    // A wrong password: a runtime failure that names the proxy, never the
    // password.
    let url = format!("socks5://alice:wrong@{proxy}");
    let (code, _, err) = dcrpeer_status(&["connect", &addr, "--net", "simnet", "--proxy", &url]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("refused the username and password"), "{err}");
    assert!(err.contains(&proxy) && !err.contains("wrong"), "{err}");

    let (any, users) = socks5_server("*", "*");
    for _ in 0..2 {
        let (ok, _, err) = dcrpeer(&[
            "connect",
            &addr,
            "--net",
            "simnet",
            "--proxy",
            &any,
            "--tor-isolation",
        ]);
        assert!(ok, "{err}");
    }
    stop(server);
    let users = users.lock().unwrap().clone();
    assert_eq!(users.len(), 2);
    assert_ne!(users[0], users[1], "isolated connections share credentials");

    let (code, _, err) = dcrpeer_status(&["connect", &addr, "--tor-isolation"]);
    assert_eq!(code, Some(2), "{err}");
}
