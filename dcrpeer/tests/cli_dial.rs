//! Dialing nodes from the command line, as a user meets it: what a fresh
//! node's tip is, why a dial failed said alike by `connect`, `crawl` and
//! `node` (another network, or a ban), and listening addresses that take
//! the network's port (issue 22).

use std::time::{Duration, Instant};

mod common;
use common::*;

/// `connect` to a node that has only its genesis block says so, and names
/// the genesis block as the tip, not the zero hash.
#[test]
fn a_fresh_nodes_tip_is_its_genesis_block() {
    let chain = genesis_chain("genesis-only");
    let (server, addr, _) = start_listen_with(&["--chain", chain.0.to_str().unwrap()]);
    let _server = Killed(server);
    let genesis = dcr_wire::CurrencyNet::SimNet
        .params()
        .genesis_hash
        .to_string();
    let (code, out, err) = dcrpeer_env(&["connect", &addr, "--net", "simnet"], &[], None);
    assert_eq!(code, Some(0), "{err}");
    let tip = out
        .lines()
        .find_map(|l| l.strip_prefix("tip:"))
        .unwrap_or_else(|| panic!("{out}"))
        .trim();
    assert!(tip.starts_with(&genesis), "{tip}");
    assert!(tip.contains("height 0") && tip.contains("genesis"), "{tip}");
    assert!(!out.contains(&"0".repeat(64)), "{out}");

    let (code, out, err) = dcrpeer_env(&["connect", &addr, "--net", "simnet", "--json"], &[], None);
    assert_eq!(code, Some(0), "{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["headers"]["count"], 0);
    assert_eq!(doc["headers"]["tip"], genesis.as_str());
    assert_eq!(doc["headers"]["tip_height"], 0);
}

/// A node that closes every connection before reading from it, as dcrd
/// does to a banned address (server.go `handleBannedConn`): accepts and
/// drops, on a thread, until the test ends.
fn banning_node() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for c in l.incoming() {
            drop(c);
        }
    });
    addr
}

/// Of the network the dial should have used: says --net. Banned: says
/// so, and not --net, though the network is right.
#[test]
fn connect_tells_a_ban_from_another_network() {
    let banned = banning_node();
    let started = Instant::now();
    let (code, _, err) = dcrpeer_env(&["connect", &banned, "--net", "simnet"], &[], None);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains(&banned), "{err}");
    assert!(err.contains("banned this address"), "{err}");
    assert!(!err.contains("--net"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );

    let (server, addr, _) = start_listen_with(&[]);
    let _server = Killed(server);
    let (code, _, err) = dcrpeer_env(&["connect", &addr, "--net", "mainnet"], &[], None);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("is it a mainnet node? (check --net)"), "{err}");
    assert!(!err.contains("banned"), "{err}");
}

/// `crawl` says what `connect` says of a seed of another network or one
/// that banned us, not "unreachable" or "unexpected end of file".
#[test]
fn crawl_says_why_the_seed_failed_as_connect_does() {
    let (server, addr, _) = start_listen_with(&[]);
    let _server = Killed(server);
    let crawl = |seed: &str, net: &str| {
        dcrpeer_env(
            &["crawl", "--seed", seed, "--net", net, "--duration", "20"],
            &[],
            None,
        )
    };
    let (code, out, err) = crawl(&addr, "mainnet");
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(err.contains("check --net"), "{err}");
    assert!(
        !err.contains("unreachable") && !err.contains("end of file"),
        "{err}"
    );

    let banned = banning_node();
    let (code, _, err) = crawl(&banned, "simnet");
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("banned this address"), "{err}");
    assert!(!err.contains("check --net"), "{err}");
}

/// `node` says why a dial failed as `connect` does.
#[test]
fn node_says_why_a_dial_failed_as_connect_does() {
    let (server, addr, _) = start_listen_with(&[]);
    let _server = Killed(server);
    let (mut node, stdout, first) =
        spawn_reading(&["node", "--net", "mainnet", "--connect", &addr]);
    let lines = Lines::gather(stdout);
    let all = || format!("{first}{:?}", lines.all());
    let failed = wait_for_line(&lines, |l| l.starts_with("dial ")).to_string();
    let failed = if first.starts_with("dial ") {
        first.clone()
    } else {
        failed
    };
    assert!(failed.contains(&addr), "{}", all());
    assert!(
        failed.contains("is it a mainnet node? (check --net)"),
        "{}",
        all()
    );
    assert!(!failed.contains("end of file"), "{failed}");
    assert_eq!(interrupt(&mut node.0).code(), Some(130));

    let banned = banning_node();
    let (mut node, stdout, first) =
        spawn_reading(&["node", "--net", "simnet", "--connect", &banned, "--json"]);
    let lines = Lines::gather(stdout);
    let failed = if first.contains("dial_failed") {
        first.clone()
    } else {
        wait_for_line(&lines, |l| l.contains("dial_failed"))
    };
    let doc: serde_json::Value = serde_json::from_str(&failed).unwrap();
    assert_eq!(doc["addr"], banned.as_str());
    let why = doc["error"].as_str().unwrap();
    assert!(
        why.contains("banned this address") && !why.contains("--net"),
        "{why}"
    );
    assert_eq!(interrupt(&mut node.0).code(), Some(130));
}

/// `listen --bind IP` listens on the network's port, as the help says.
#[test]
fn listen_bind_takes_the_networks_port() {
    // Regnet's port, 18655: free here, or taken by another program, which
    // the error then names; either way the port was the network's.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_dcrpeer"))
        .args(["listen", "--bind", "127.0.0.1", "--net", "regnet"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    std::io::BufRead::read_line(&mut out, &mut first).unwrap();
    if first.is_empty() {
        let status = child.wait().unwrap();
        let mut err = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
        assert_eq!(status.code(), Some(1), "{err}");
        assert!(err.contains("cannot listen on 127.0.0.1:18655"), "{err}");
    } else {
        assert!(
            first.starts_with("listening on 127.0.0.1:18655 "),
            "{first}"
        );
        assert_eq!(interrupt(&mut child).code(), Some(130));
    }
    let (code, _, err) = dcrpeer_env(&["node", "--listen", "::1:x"], &[], None);
    assert_eq!(code, Some(2), "{err}");
}

/// Durations as long as the command line takes (`u64::MAX` seconds) are
/// "as good as for ever", not an overflow: `crawl --duration` panicked
/// at its start (exit 101), and `node --banduration` at its first ban,
/// which stopped the connection manager and the node with it.
#[test]
fn the_longest_durations_the_command_line_takes_run() {
    let max = u64::MAX.to_string();
    let banned = banning_node();
    let (code, _, err) = dcrpeer_env(
        &[
            "crawl",
            "--seed",
            &banned,
            "--net",
            "simnet",
            "--duration",
            &max,
        ],
        &[],
        None,
    );
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("banned this address"), "{err}");
    assert!(!err.contains("panicked"), "{err}");

    // Frames of another network ban their address at once.
    let (mut node, stdout, first) = spawn_reading(&[
        "node",
        "--net",
        "simnet",
        "--listen",
        "127.0.0.1:0",
        "--banduration",
        &max,
    ]);
    let lines = Lines::gather(stdout);
    let addr = first
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("{first}"))
        .trim()
        .to_string();
    let (code, _, err) = dcrpeer_env(&["connect", &addr, "--net", "mainnet"], &[], None);
    assert_eq!(code, Some(1), "{err}");
    let ban = wait_for_line(&lines, |l| l.contains("banned"));
    assert!(ban.contains("127.0.0.1"), "{ban}");
    // Still running, and it still refuses the address.
    let (code, _, err) = dcrpeer_env(&["connect", &addr, "--net", "simnet"], &[], None);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("banned this address"), "{err}");
    assert_eq!(
        interrupt(&mut node.0).code(),
        Some(130),
        "{:?}",
        lines.all()
    );
}
