//! `--capture FILE` of `dcrpeer connect` and `dcrpeer listen`: our connect
//! against our listen, both capturing, read back frame by frame, and by
//! `dcrpeer decode --file` and `dcrpeer bench`; a capture cut short, as a
//! crash leaves it.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use dcr_peer::capture::{Direction, Records};
use dcr_wire::{split_frame, Command as Cmd, CurrencyNet, Split};

mod common;
use common::*;

const NET: CurrencyNet = CurrencyNet::SimNet;

/// Runs `dcrpeer` with `args`: its exit status, stdout and stderr.
fn dcrpeer(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_dcrpeer"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run dcrpeer");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A record read back.
#[derive(Debug, Clone)]
struct Rec {
    conn: u32,
    direction: Direction,
    time_ns: u64,
    frame: Vec<u8>,
}

/// Every record of the capture at `path`, which must end cleanly.
fn records(path: &Path) -> Vec<Rec> {
    let bytes = std::fs::read(path).unwrap();
    Records::new(&bytes)
        .unwrap()
        .map(|r| {
            let r = r.expect("a whole capture");
            assert_eq!(r.net(), Some(NET));
            Rec {
                conn: r.conn,
                direction: r.direction,
                time_ns: r.time_ns,
                frame: r.frame.to_vec(),
            }
        })
        .collect()
}

/// The command of a whole, checked frame.
fn command(frame: &[u8]) -> Cmd {
    match split_frame(frame, NET, 12).expect("a valid frame") {
        Split::Frame { frame: f, consumed } => {
            assert_eq!(consumed, frame.len(), "one frame a record");
            f.header.command
        }
        Split::Incomplete { .. } => panic!("a cut frame"),
    }
}

/// The frames of connection `conn` going `dir`.
fn frames(recs: &[Rec], conn: u32, dir: Direction) -> Vec<&[u8]> {
    recs.iter()
        .filter(|r| r.conn == conn && r.direction == dir)
        .map(|r| &r.frame[..])
        .collect()
}

fn connect_capturing(addr: &str, path: &str) -> String {
    let (code, out, err) = dcrpeer(&[
        "connect",
        addr,
        "--net",
        "simnet",
        "--blocks",
        "3",
        "--capture",
        path,
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.is_empty(), "{err}");
    out
}

#[test]
fn connect_and_listen_capture_every_frame_of_their_exchange() {
    let dir = TempDir::new("capture-both");
    let ours = dir.0.join("connect.dcrcap");
    let theirs = dir.0.join("listen.dcrcap");
    let (ours_s, theirs_s) = (ours.to_str().unwrap(), theirs.to_str().unwrap());
    let (mut server, addr, [listen_out, _]) = start_listen_with(&["--capture", theirs_s]);
    // Two runs into one file: the second appends, under the next number.
    let first = connect_capturing(&addr, ours_s);
    let second = connect_capturing(&addr, ours_s);
    for out in [&first, &second] {
        let summary = line(out, "capture:");
        assert!(
            summary.contains(" frames of 1 connection appended to ") && summary.ends_with(ours_s),
            "{summary}"
        );
    }
    // Ctrl-C: status 130, the capture closed on the way out.
    let status = interrupt(&mut server);
    assert_eq!(status.code(), Some(130), "{status:?}");
    // The last line comes as the listener closes its capture.
    let deadline = Instant::now() + Duration::from_secs(5);
    let summary = loop {
        let lines = listen_out.all();
        if let Some(l) = lines.iter().find(|l| l.starts_with("capture:")) {
            break l.clone();
        }
        assert!(Instant::now() < deadline, "{lines:?}");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(
        summary.contains("of 2 connections appended to"),
        "{summary}"
    );

    let (ra, rb) = (records(&ours), records(&theirs));
    for recs in [&ra, &rb] {
        let mut conns: Vec<u32> = recs.iter().map(|r| r.conn).collect();
        conns.dedup();
        assert_eq!(conns, [0, 1], "one connection after the other");
    }
    for conn in [0, 1] {
        // What one side sent is what the other received, byte for byte
        // and in order, both ways.
        let sent = frames(&ra, conn, Direction::Sent);
        assert_eq!(sent, frames(&rb, conn, Direction::Received), "{conn}");
        let received = frames(&ra, conn, Direction::Received);
        assert_eq!(received, frames(&rb, conn, Direction::Sent), "{conn}");
        let sent: Vec<Cmd> = sent.iter().map(|f| command(f)).collect();
        let received: Vec<Cmd> = received.iter().map(|f| command(f)).collect();
        assert_eq!(sent[..2], [Cmd::Version, Cmd::VerAck], "{sent:?}");
        assert_eq!(received[..2], [Cmd::Version, Cmd::VerAck], "{received:?}");
        assert!(sent.contains(&Cmd::GetHeaders), "{sent:?}");
        assert!(received.contains(&Cmd::Headers), "{received:?}");
        let blocks = received.iter().filter(|c| **c == Cmd::Block).count();
        assert_eq!(blocks, 3, "{received:?}");
        // Each side's records of a connection come in the order they
        // happened.
        for recs in [&ra, &rb] {
            let times: Vec<u64> = recs
                .iter()
                .filter(|r| r.conn == conn)
                .map(|r| r.time_ns)
                .collect();
            assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
        }
    }
    // The outbound side speaks first.
    assert_eq!(ra[0].direction, Direction::Sent);
    assert_eq!(rb[0].direction, Direction::Received);

    // `decode --file` lists every frame, in order.
    let (code, out, err) = dcrpeer(&["decode", "--file", ours_s, "--json"]);
    assert_eq!(code, Some(0), "{err}");
    let docs: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(docs.len(), ra.len());
    for (doc, rec) in docs.iter().zip(&ra) {
        assert_eq!(doc["command"], command(&rec.frame).as_str());
        assert_eq!(doc["conn"], rec.conn);
        assert_eq!(doc["direction"], rec.direction.as_str());
        assert!(doc.get("error").is_none(), "{doc}");
    }
    // `bench` reads both.
    for path in [ours_s, theirs_s] {
        let (code, out, err) = dcrpeer(&[
            "bench",
            path,
            "--net",
            "simnet",
            "--levels",
            "views",
            "--min-time",
            "0.01",
        ]);
        assert_eq!(code, Some(0), "{err}");
        assert!(err.is_empty(), "{err}");
        for c in ["version", "getheaders", "headers", "getdata", "block"] {
            assert!(
                out.lines()
                    .any(|l| l.trim_start().starts_with(&format!("{c} "))),
                "{c}: {out}"
            );
        }
    }
}

#[test]
fn a_capture_cut_mid_record_is_a_torn_tail_and_the_rest_stays_readable() {
    let dir = TempDir::new("capture-torn");
    let path = dir.0.join("c.dcrcap");
    let path_s = path.to_str().unwrap();
    let (server, addr, _) = start_listen_with(&[]);
    let _server = Killed(server);

    // A real crash: killed while connected; what it wrote reads back.
    let mut client = Killed(
        Command::new(env!("CARGO_BIN_EXE_dcrpeer"))
            .args(["connect", &addr, "--net", "simnet", "--listen-only"])
            .args(["--capture", path_s])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::fs::metadata(&path).map_or(0, |m| m.len()) <= 12 {
        assert!(Instant::now() < deadline, "the handshake's frames written");
        std::thread::sleep(Duration::from_millis(50));
    }
    client.0.kill().unwrap();
    client.0.wait().unwrap();
    let (code, out, err) = dcrpeer(&["decode", "--file", path_s]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("version"), "{out}");

    // Cut in the middle of the last record, as a crash mid-write leaves
    // it.
    connect_capturing(&addr, path_s);
    let whole = records(&path);
    let bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - (25 + whole.last().unwrap().frame.len());
    std::fs::write(&path, &bytes[..last + 30]).unwrap();

    let (code, out, err) = dcrpeer(&["decode", "--file", path_s]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains(&format!("torn record at byte {last} (30 bytes dropped)")),
        "{err}"
    );
    assert_eq!(
        out.lines().last().unwrap(),
        format!("{} frames", whole.len() - 1)
    );
    let (code, out, err) = dcrpeer(&["bench", path_s, "--net", "simnet", "--min-time", "0.01"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("torn record"), "{err}");
    assert!(out.contains("block"), "{out}");

    // Capturing into it again cuts the torn record off and appends.
    let (code, _, err) = dcrpeer(&["connect", &addr, "--net", "simnet", "--capture", path_s]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("torn record") && err.contains("cut off"),
        "{err}"
    );
    let after = records(&path);
    assert!(after.len() > whole.len() - 1, "records appended");
    for (a, b) in after.iter().zip(&whole[..whole.len() - 1]) {
        assert_eq!((a.conn, &a.frame), (b.conn, &b.frame));
    }
    let last_conn = whole.last().unwrap().conn;
    assert!(after[whole.len() - 1..]
        .iter()
        .all(|r| r.conn == last_conn + 1));
}

#[test]
fn a_capture_path_that_is_not_a_capture_is_refused_untouched() {
    let dir = TempDir::new("capture-refused");
    let path = dir.0.join("notes.txt");
    std::fs::write(&path, "my notes").unwrap();
    // Refused before any network work: the address is never dialled.
    let (code, out, err) = dcrpeer(&[
        "connect",
        "127.0.0.1:1",
        "--net",
        "simnet",
        "--capture",
        path.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(1), "{out}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("not a frame capture"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), b"my notes");
    let (code, _, err) = dcrpeer(&["listen", "--capture", ""]);
    assert_eq!(code, Some(2), "{err}");
}

/// One capture file, two commands capturing into it (a listen and a
/// connect given the same --capture): the second is refused before any
/// network work, and the first's frames are all there. Both appended from
/// the same end, and the frames of one were written over by the other's
/// without a word.
#[test]
fn a_capture_being_written_is_refused_to_a_second_command() {
    let dir = TempDir::new("capture-in-use");
    let path = dir.0.join("c.dcrcap");
    let path_s = path.to_str().unwrap();
    let (server, addr, [stdout, _]) = start_listen_with(&["--capture", path_s]);
    let mut server = Killed(server);
    let (code, out, err) = dcrpeer(&["connect", &addr, "--net", "simnet", "--capture", path_s]);
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(out.is_empty(), "{out}");
    assert_eq!(
        err.trim_end(),
        format!(
            "dcrpeer: capture {path_s}: the capture is being written by another program or \
             sink; give another file"
        )
    );
    // The listener's own connection, captured whole.
    let other = dir.0.join("other.dcrcap");
    let (code, _, err) = dcrpeer(&[
        "connect",
        &addr,
        "--net",
        "simnet",
        "--capture",
        other.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{err}");
    wait_for_line(&stdout, |l| l.contains("disconnected"));
    assert_eq!(interrupt(&mut server.0).code(), Some(130));
    let ours = records(&other);
    let theirs = records(&path);
    assert_eq!(theirs.len(), ours.len(), "every frame of the listener");
    assert!(theirs.iter().all(|r| r.conn == 0));
}
