//! How a `dcrpeer` run starts and ends: the corpus found from the binary
//! or DCR_TESTDATA (never from where it was built), `demo`'s chain and
//! its usage errors, and Ctrl-C ending every command that runs over time
//! with status 130 (issue 22).

use std::time::Duration;

mod common;
use common::*;

/// A copy of the binary in `DIR/bin`, run from `DIR` without DCR_TESTDATA:
/// no corpus (the build's source tree is not looked at); with a corpus
/// installed beside it (`DIR/share/dcrpeer/testdata`), that one; with
/// DCR_TESTDATA, the one it names, and an error when it names none.
#[test]
#[cfg(unix)]
fn the_corpus_is_found_beside_the_binary_never_in_the_build_tree() {
    let Some(corpus) = dcr_tests::corpus_dir() else {
        return;
    };
    let corpus = corpus.canonicalize().unwrap();
    let root = TempDir::new("installed");
    std::fs::create_dir_all(root.0.join("bin")).unwrap();
    let bin = root.0.join("bin/dcrpeer");
    std::fs::copy(env!("CARGO_BIN_EXE_dcrpeer"), &bin).unwrap();
    let demo = |env: &[(&str, Option<&str>)]| {
        let (code, out, err) = run_binary(&bin, &["demo", "--json"], env, Some(&root.0));
        assert_eq!(code, Some(0), "{err}");
        let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
        doc["chain"].as_str().unwrap().to_string()
    };
    assert_eq!(demo(&[("DCR_TESTDATA", None)]), "built in memory");

    let share = root.0.join("share/dcrpeer");
    std::fs::create_dir_all(&share).unwrap();
    std::os::unix::fs::symlink(&corpus, share.join("testdata")).unwrap();
    let found = demo(&[("DCR_TESTDATA", None)]);
    assert_eq!(
        std::path::Path::new(&found).canonicalize().unwrap(),
        corpus,
        "{found}"
    );
    std::fs::remove_file(share.join("testdata")).unwrap();

    let named = corpus.to_str().unwrap();
    assert_eq!(demo(&[("DCR_TESTDATA", Some(named))]), named);
    let (code, _, err) = run_binary(
        &bin,
        &["demo"],
        &[("DCR_TESTDATA", Some("/nonexistent"))],
        Some(&root.0),
    );
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("DCR_TESTDATA=/nonexistent"), "{err}");
}

/// `demo --built N` says the chain was built as asked, corpus or not;
/// a number outside 2 to 1,000,000 is a usage error: one block cannot be
/// synced (no header names it), and a huge one aborted the process on its
/// first allocation, or tried the machine's memory.
#[test]
fn demo_built_says_it_was_asked_for() {
    let with_corpus: Vec<(&str, Option<&str>)> = Vec::new();
    let (code, out, err) = dcrpeer_env(&["demo", "--built", "10"], &with_corpus, None);
    assert_eq!(code, Some(0), "{err}");
    let first = out.lines().next().unwrap();
    assert_eq!(first, "chain: 10 blocks built in memory (--built)");
    let (code, out, err) = dcrpeer_env(&["demo", "--built", "2"], &[], None);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("blocks:          2"), "{out}");
    for bad in ["0", "1", "1000001", "4294967295"] {
        let (code, out, err) = dcrpeer_env(&["demo", "--built", bad], &[], None);
        assert_eq!(code, Some(2), "{bad}: {err}");
        assert!(out.is_empty(), "{bad}: {out}");
        assert!(
            err.contains("--built") && err.contains("2..=1000000"),
            "{bad}: {err}"
        );
    }
}

/// A loopback listener that accepts connections and never answers: a
/// dial to it waits in its handshake. Says when a connection came.
fn silent_node() -> (String, std::sync::mpsc::Receiver<()>) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for c in l.incoming().flatten() {
            held.push(c);
            let _ = tx.send(());
        }
    });
    (addr, rx)
}

/// Starts `dcrpeer ARGS` (output dropped), waits for `ready`, sends SIGINT:
/// its exit status.
fn interrupted(args: &[&str], ready: impl FnOnce()) -> std::process::ExitStatus {
    let mut child = Killed(
        std::process::Command::new(env!("CARGO_BIN_EXE_dcrpeer"))
            .args(args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    ready();
    interrupt(&mut child.0)
}

/// Ctrl-C: status 130 from every command that runs over time, whether it
/// waits for peers, listens, or is stuck in a handshake or a crawl.
#[test]
fn ctrl_c_exits_130() {
    // Waiting in a handshake with a node that never answers.
    let (addr, came) = silent_node();
    let status = interrupted(&["connect", &addr, "--net", "simnet"], || {
        came.recv_timeout(Duration::from_secs(10)).unwrap();
    });
    assert_eq!(status.code(), Some(130), "connect: {status:?}");
    let (addr, came) = silent_node();
    let status = interrupted(&["crawl", "--seed", &addr, "--net", "simnet"], || {
        came.recv_timeout(Duration::from_secs(10)).unwrap();
    });
    assert_eq!(status.code(), Some(130), "crawl: {status:?}");

    // Serving: once listening.
    for args in [
        vec!["listen", "--bind", "127.0.0.1:0", "--net", "simnet"],
        vec!["node", "--net", "simnet", "--listen", "127.0.0.1:0"],
    ] {
        let (mut child, _stdout, first) = spawn_reading(&args);
        assert!(first.starts_with("listening on"), "{first}");
        assert_eq!(interrupt(&mut child.0).code(), Some(130), "{args:?}");
    }

    // Connected, printing what comes.
    let (server, addr, _) = start_listen_with(&[]);
    let _server = Killed(server);
    let (mut child, _stdout, first) =
        spawn_reading(&["connect", &addr, "--net", "simnet", "--listen-only"]);
    assert!(first.starts_with("connected to"), "{first}");
    assert_eq!(interrupt(&mut child.0).code(), Some(130));
}

/// `connect --listen-only` whose node goes away (here: killed) ends as a
/// failure, status 1 with the reason on stderr, never as a clean exit 0
/// with nothing said: only Ctrl-C ends it without an error. The peer's
/// events closing and its disconnect come together, in either order, so
/// the run is repeated.
#[test]
fn listen_only_says_why_the_node_went() {
    use std::io::{BufRead, BufReader, Read};
    use std::process::{Command, Stdio};
    use std::time::Instant;
    for round in 0..4 {
        let (server, addr, _) = start_listen_with(&[]);
        let mut server = Killed(server);
        let mut client = Killed(
            Command::new(env!("CARGO_BIN_EXE_dcrpeer"))
                .args(["connect", &addr, "--net", "simnet", "--listen-only"])
                .env("NO_COLOR", "1")
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap(),
        );
        let mut stdout = BufReader::new(client.0.stdout.take().unwrap());
        let mut first = String::new();
        stdout.read_line(&mut first).unwrap();
        assert!(first.starts_with("connected to"), "{first}");
        let drained = Lines::gather(stdout);
        server.0.kill().unwrap();
        server.0.wait().unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        let status = loop {
            if let Some(s) = client.0.try_wait().unwrap() {
                break s;
            }
            assert!(Instant::now() < deadline, "round {round}: still running");
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut err = String::new();
        client
            .0
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        assert_eq!(
            status.code(),
            Some(1),
            "round {round}: {err} {:?}",
            drained.all()
        );
        // Closed or reset, as the kill leaves the socket.
        let last = err.trim_end().lines().last().unwrap_or_default();
        assert!(
            last == "dcrpeer: peer disconnected: remote closed the connection"
                || last == "dcrpeer: peer disconnected: the connection failed (connection reset)",
            "round {round}: {err}"
        );
    }
}
