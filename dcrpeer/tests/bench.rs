//! `dcrpeer bench` and `dcrpeer decode --file CAPTURE` as a user runs them:
//! every input format, the figures' shape, the reference's ratios, and
//! every kind of bad input answered with a clear error and exit status 1,
//! never a panic.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use dcr_node::chain::build_chain;
use dcr_peer::capture::{CaptureWriter, Direction, FlushPolicy};
use dcr_wire::{frame_to_vec, pver, Block, CurrencyNet, Message, Ping};

/// Runs `dcrpeer` with `args`: exit status, stdout, stderr. A panic
/// anywhere fails the test, whatever the status.
fn dcrpeer(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_dcrpeer"))
        .args(args)
        .output()
        .expect("run dcrpeer");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(
        !stderr.contains("panicked"),
        "dcrpeer {args:?} panicked: {stderr}"
    );
    (out.status.code(), stdout, stderr)
}

/// A folder of its own under the target directory, emptied.
fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("bench-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p.display().to_string()
}

fn records(blocks: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for b in blocks {
        out.extend_from_slice(&(b.len() as u32).to_le_bytes());
        out.extend_from_slice(b);
    }
    out
}

fn frame(msg: &Message<'_>, net: CurrencyNet) -> Vec<u8> {
    frame_to_vec(msg, net, pver::CURRENT).unwrap()
}

fn block_frame(raw: &[u8], net: CurrencyNet) -> Vec<u8> {
    frame(
        &Message::Block(Block::from_bytes(raw, pver::CURRENT).unwrap()),
        net,
    )
}

fn version(pv: i32) -> Message<'static> {
    let a = dcr_wire::NetAddress::default();
    let mut v = dcr_wire::Version::new(a, a, 7, 0);
    v.protocol_version = pv;
    Message::Version(v)
}

/// A capture of a session: both versions (ours 12, theirs 7), a ping, a
/// block and a frame the remote got wrong.
fn session_capture() -> Vec<u8> {
    let net = CurrencyNet::SimNet;
    let t = |s: u64| SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + s);
    let mut w = CaptureWriter::new(Vec::new(), FlushPolicy::default()).unwrap();
    w.record(Direction::Sent, 1, t(0), net, &frame(&version(12), net))
        .unwrap();
    w.record(Direction::Received, 1, t(1), net, &frame(&version(7), net))
        .unwrap();
    let ping = frame(&Message::Ping(Ping { nonce: 9 }), net);
    w.record(Direction::Received, 1, t(2), net, &ping).unwrap();
    let blocks = build_chain(2);
    w.record(
        Direction::Received,
        1,
        t(3),
        net,
        &block_frame(&blocks[1], net),
    )
    .unwrap();
    let mut bad = ping.clone();
    bad[20] ^= 0xff; // its checksum
    w.record(Direction::Received, 1, t(4), net, &bad).unwrap();
    w.into_inner().unwrap()
}

#[test]
fn decode_prints_every_frame_of_a_capture() {
    let dir = scratch("decode");
    let path = write(&dir, "s.dcrcap", &session_capture());
    let (code, out, err) = dcrpeer(&["decode", "--file", &path]);
    assert_eq!(code, Some(0), "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 6, "{out}");
    assert!(lines[0].contains("2023-11-14T22:13:20.000000Z"), "{out}");
    assert!(lines[0].contains("sent") && lines[0].contains("version"));
    assert!(lines[2].contains("received") && lines[2].contains("ping"));
    assert!(lines[3].contains("block") && lines[3].contains("SimNet"));
    assert!(lines[4].contains("undecodable") && lines[4].contains("checksum"));
    assert_eq!(lines[5], "5 frames");

    let (code, out, err) = dcrpeer(&["decode", "--file", &path, "--json"]);
    assert_eq!(code, Some(0), "{err}");
    let docs: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(docs.len(), 5);
    assert_eq!(docs[0]["time_ns"], 1_700_000_000_000_000_000u64);
    assert_eq!(docs[0]["direction"], "sent");
    assert_eq!(docs[1]["fields"]["ProtocolVersion"], 7);
    // After both versions, frames decode at the lower.
    assert_eq!(docs[0]["pver"], pver::CURRENT);
    assert_eq!(docs[2]["pver"], 7);
    assert_eq!(docs[2]["fields"]["Nonce"], 9);
    assert_eq!(docs[3]["command"], "block");
    assert!(docs[3]["hashes"]["Header"]["BlockHash"].is_string());
    assert_eq!(docs[4]["command"], "ping");
    assert!(docs[4]["error"].as_str().unwrap().contains("checksum"));
}

#[test]
fn a_torn_capture_is_listed_with_a_warning_and_a_corrupt_one_fails() {
    let dir = scratch("torn");
    let whole = session_capture();
    let torn = write(&dir, "torn.dcrcap", &whole[..whole.len() - 5]);
    let (code, out, err) = dcrpeer(&["decode", "--file", &torn]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.ends_with("4 frames\n"), "{out}");
    assert!(
        err.contains("warning") && err.contains("torn record"),
        "{err}"
    );

    let mut damaged = whole.clone();
    damaged[12 + 25 + 10] ^= 1; // inside the first record's frame
    let bad = write(&dir, "bad.dcrcap", &damaged);
    let (code, _, err) = dcrpeer(&["decode", "--file", &bad]);
    assert_eq!(code, Some(1));
    assert!(err.contains("corrupt capture record at byte 12"), "{err}");

    let mut v9 = whole.clone();
    v9[8] = 9;
    let v9 = write(&dir, "v9.dcrcap", &v9);
    let (code, _, err) = dcrpeer(&["decode", "--file", &v9]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("capture format version 9 is not supported"),
        "{err}"
    );
}

/// Runs `bench` quickly on `input` and returns its JSON figures.
fn bench_json(input: &[&str]) -> Vec<serde_json::Value> {
    let mut args = vec!["bench", "--json", "--min-time", "0.01"];
    args.extend_from_slice(input);
    let (code, out, err) = dcrpeer(&args);
    assert_eq!(code, Some(0), "{args:?}: {err}");
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn bench_reads_every_format_and_reports_each_level_and_command() {
    let dir = scratch("formats");
    let blocks = build_chain(5);
    let bytes: usize = blocks.iter().map(Vec::len).sum();
    let net = CurrencyNet::MainNet;
    let hex_lines: String = blocks
        .iter()
        .map(|b| format!("{}\n", hex::encode(b)))
        .collect();
    let frames: Vec<u8> = blocks.iter().flat_map(|b| block_frame(b, net)).collect();
    let folder = dir.join("folder");
    std::fs::create_dir(&folder).unwrap();
    write(&folder, "a.bin", &records(&blocks[..2]));
    write(
        &folder,
        "b.hex",
        hex_lines.split_inclusive('\n').nth(2).unwrap().as_bytes(),
    );
    write(&folder, "c.blk", &blocks[3]);
    write(&folder, "d.bin", &records(&blocks[4..]));
    for input in [
        write(&dir, "records.bin", &records(&blocks)),
        write(&dir, "blocks.hex", hex_lines.as_bytes()),
        write(&dir, "frames.bin", &frames),
        folder.display().to_string(),
    ] {
        let figures = bench_json(&[&input]);
        assert_eq!(figures.len(), 3, "{input}: {figures:?}");
        for (f, level) in figures.iter().zip(["views", "owned", "full"]) {
            assert_eq!(f["level"], level);
            assert_eq!(f["command"], "block");
            assert_eq!(f["messages"], 5);
            assert_eq!(f["bytes"], bytes);
            assert!(f["ns_per_message"].as_f64().unwrap() > 0.0);
            assert!(f["mb_per_s"].as_f64().unwrap() > 0.0);
            assert!(f["samples"].as_u64().unwrap() >= 5);
        }
        // Views borrow: no allocation (a block's two trees are located
        // without allocating); owned copies them.
        assert_eq!(figures[0]["allocations_per_message"], 0.0, "{input}");
        assert!(figures[1]["allocations_per_message"].as_f64().unwrap() >= 1.0);
        assert_eq!(
            figures[2]["roots_match"], 5,
            "built blocks commit to their txs"
        );
    }

    // Timed by the process's CPU time on request.
    let records = dir.join("records.bin").display().to_string();
    let cpu = bench_json(&[&records, "--clock", "cpu", "--levels", "views"]);
    assert_eq!(cpu.len(), 1);
    assert_eq!(cpu[0]["clock"], "cpu");
    assert!(cpu[0]["ns_per_pass"].as_f64().unwrap() > 0.0);

    // A capture: figures per command, at the levels asked for.
    let path = write(&dir, "s.dcrcap", &session_capture());
    let figures = bench_json(&[&path, "--net", "simnet", "--levels", "full"]);
    let commands: Vec<&str> = figures
        .iter()
        .map(|f| f["command"].as_str().unwrap())
        .collect();
    assert_eq!(commands, ["version", "ping", "block"]);
    assert!(figures.iter().all(|f| f["level"] == "full"));
    assert_eq!(figures[0]["messages"], 2);
}

#[test]
fn bench_warns_of_a_torn_capture_and_frames_left_out() {
    let dir = scratch("warn");
    let whole = session_capture();
    let path = write(&dir, "torn.dcrcap", &whole[..whole.len() - 2]);
    let (code, out, err) = dcrpeer(&["bench", &path, "--net", "simnet", "--min-time", "0.01"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("torn record"), "{err}");
    assert!(out.contains("version") && out.contains("block"), "{out}");
    let path = write(&dir, "whole.dcrcap", &whole);
    let (code, _, err) = dcrpeer(&["bench", &path, "--net", "simnet", "--min-time", "0.01"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("1 frame left out") && err.contains("checksum"),
        "{err}"
    );
}

#[test]
fn bad_input_is_a_clear_error_and_exit_1_never_a_panic() {
    let dir = scratch("misuse");
    let blocks = build_chain(3);
    let whole = records(&blocks);
    let net = CurrencyNet::MainNet;
    let hex_text = format!("{}\n", hex::encode(&blocks[0]));
    let frames: Vec<u8> = blocks.iter().flat_map(|b| block_frame(b, net)).collect();
    let testnet = block_frame(&blocks[0], CurrencyNet::TestNet3);
    let empty_dir = dir.join("empty");
    std::fs::create_dir(&empty_dir).unwrap();
    let cases: Vec<(String, &str)> = vec![
        (
            write(&dir, "cut.bin", &whole[..whole.len() - 7]),
            "block record 2 at byte 562: truncated: the record claims 277 bytes, 270 bytes follow",
        ),
        (
            write(&dir, "cut-frames.bin", &frames[..frames.len() - 1]),
            "frame 2 at byte",
        ),
        (
            write(&dir, "cut.hex", &hex_text.as_bytes()[..hex_text.len() - 2]),
            "line 1: bad hex",
        ),
        (
            write(&dir, "testnet.bin", &testnet),
            "frames of TestNet3, not MainNet (give --net testnet)",
        ),
        (
            write(&dir, "s.dcrcap", &session_capture()),
            "a capture of SimNet, not MainNet (give --net simnet)",
        ),
        (
            write(&dir, "garbage", &[0xee; 1000]),
            "not a frame capture, frames, hex lines or one raw block",
        ),
        (write(&dir, "nothing.bin", b""), "empty file"),
        (write(&dir, "text.txt", b"hello world\n"), "line 1: bad hex"),
        (dir.join("absent").display().to_string(), "No such file"),
        (
            empty_dir.display().to_string(),
            "no files to read in this folder",
        ),
    ];
    for (path, want) in cases {
        let args = ["bench", path.as_str(), "--quick"];
        let (code, out, err) = dcrpeer(&args);
        assert_eq!(code, Some(1), "{args:?}: {out}{err}");
        assert!(err.starts_with("dcrpeer: "), "{err}");
        assert!(err.contains(want), "{args:?}: wanted {want:?} in {err}");
        assert!(out.is_empty(), "{args:?}: printed {out}");
    }
    // Usage errors: exit 2, before any work.
    for args in [
        &["bench"][..],
        &["bench", "x", "--builtin"],
        &["bench", "x", "--levels", "fast"],
        &["bench", "x", "--min-time", "0"],
        &["bench", "x", "--min-time", "soon"],
        &["bench", "x", "--time", "0"],
        &["bench", "x", "--time", "1", "--min-time", "1"],
        &["bench", "x", "--time", "1", "--quick"],
        &["bench", "x", "--sample-time", "-1"],
        &["bench", "x", "--clock", "sundial"],
        &["bench", "x", "--net", "moon"],
    ] {
        let (code, _, err) = dcrpeer(args);
        assert_eq!(code, Some(2), "{args:?}: {err}");
    }
}

#[cfg(unix)]
#[test]
fn the_reference_runs_on_the_same_messages_and_its_ratios_are_printed() {
    use std::os::unix::fs::PermissionsExt;
    let dir = scratch("reference");
    let blocks = build_chain(3);
    let input = write(&dir, "r.bin", &records(&blocks));
    // A stand-in for benches/go's decodebench: it checks the input it is
    // given starts as the format says and answers as the real one does.
    let script = dir.join("ref.sh");
    std::fs::write(
        &script,
        "#!/bin/sh\n\
         [ \"$1\" = -input ] && [ \"$3\" = -min-time ] && [ \"$5\" = -clock ] || exit 3\n\
         head -c 8 \"$2\" | grep -q DCRBENCH || exit 4\n\
         echo 'decodebench: a line that is not a figure'\n\
         echo '{\"set\":\"r.bin\",\"command\":\"block\",\"level\":\"decode\",\"messages\":3,\"bytes\":1,\"ns_per_pass\":30000,\"allocs_per_pass\":90}'\n\
         echo '{\"set\":\"r.bin\",\"command\":\"block\",\"level\":\"full\",\"messages\":3,\"bytes\":1,\"ns_per_pass\":60000,\"allocs_per_pass\":120}'\n",
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let script = script.display().to_string();
    let figures = bench_json(&[&input, "--reference", &script]);
    assert_eq!(figures.len(), 3);
    for f in &figures {
        let r = &f["reference"];
        let want = if f["level"] == "full" {
            60000.0
        } else {
            30000.0
        };
        assert_eq!(r["ns_per_pass"], want);
        assert_eq!(r["ns_per_message"], want / 3.0);
        let ratio = want / f["ns_per_pass"].as_f64().unwrap();
        assert!((r["ratio"].as_f64().unwrap() - ratio).abs() < 1e-9 * ratio);
    }
    let (code, out, err) = dcrpeer(&[
        "bench",
        &input,
        "--min-time",
        "0.01",
        "--reference",
        &script,
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("ahead by") && out.contains("10000.0"), "{out}");

    // A reference that fails, or is not there.
    let failing = dir.join("fail.sh");
    std::fs::write(&failing, "#!/bin/sh\necho 'no dcrd source' >&2\nexit 1\n").unwrap();
    std::fs::set_permissions(&failing, std::fs::Permissions::from_mode(0o755)).unwrap();
    let (code, _, err) = dcrpeer(&[
        "bench",
        &input,
        "--quick",
        "--reference",
        &failing.display().to_string(),
    ]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("failed") && err.contains("no dcrd source"),
        "{err}"
    );
    let absent = dir.join("nothing").display().to_string();
    let (code, _, err) = dcrpeer(&["bench", &input, "--quick", "--reference", &absent]);
    assert_eq!(code, Some(1));
    assert!(err.contains("cannot run the reference"), "{err}");
}

#[test]
fn builtin_runs_the_three_sets_when_the_corpus_is_there() {
    let Some(dir) = dcr_tests::corpus_dir() else {
        return;
    };
    let dir = dir.display().to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_dcrpeer"))
        .args(["bench", "--builtin", "--json", "--min-time", "0.01"])
        .env("DCR_TESTDATA", &dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let figures: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let sets: Vec<(&str, &str, u64)> = figures
        .iter()
        .map(|f| {
            (
                f["set"].as_str().unwrap(),
                f["level"].as_str().unwrap(),
                f["messages"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        sets,
        [
            ("chain-169-blocks", "views", 169),
            ("chain-169-blocks", "owned", 169),
            ("chain-169-blocks", "full", 169),
            ("mainnet-432100", "views", 1),
            ("mainnet-432100", "owned", 1),
            ("mainnet-432100", "full", 1),
            ("synthetic-1.3MB", "views", 1),
            ("synthetic-1.3MB", "owned", 1),
            ("synthetic-1.3MB", "full", 1),
        ]
    );
    // The real blocks' roots match; the synthetic block's header commits
    // to nothing.
    assert_eq!(figures[2]["roots_match"], 169);
    assert_eq!(figures[5]["roots_match"], 1);
    assert_eq!(figures[8]["roots_match"], 0);
    // Zero-copy decoding allocates nothing on real blocks.
    for f in figures.iter().filter(|f| f["level"] == "views") {
        assert_eq!(f["allocations_per_message"], 0.0, "{f}");
    }
}
