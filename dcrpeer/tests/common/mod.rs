//! What the `dcrpeer` integration tests share: `dcrpeer listen` started as
//! a child, the lines children print, and a real dcrd on simnet (from the
//! binary in `DCRD_BIN`) with its RPC for mining and checking. Each test
//! file uses a part of it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// [`start_listen`] with more arguments (`--chain DIR`, say), and the lines
/// it prints after the first (stdout, then stderr's log).
pub fn start_listen_with(extra: &[&str]) -> (std::process::Child, String, [Lines; 2]) {
    let mut server = Command::new(env!("CARGO_BIN_EXE_dcrpeer"))
        .args(["listen", "--bind", "127.0.0.1:0", "--net", "simnet"])
        .args(extra)
        // Each message received is logged at info.
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(server.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let addr = first
        .split_whitespace()
        .nth(2)
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .to_string();
    let stderr = server.stderr.take().unwrap();
    (server, addr, [Lines::gather(stdout), Lines::gather(stderr)])
}

/// The lines a child prints, read by a thread as they come: the pipe stays
/// open and drained, so the child neither blocks nor fails writing (a
/// closed stdout makes its next `println!` panic).
#[derive(Clone, Default)]
pub struct Lines(Arc<Mutex<Vec<String>>>);

impl Lines {
    pub fn gather(out: impl std::io::Read + Send + 'static) -> Lines {
        let lines = Lines::default();
        let sink = lines.clone();
        std::thread::spawn(move || {
            for l in BufReader::new(out).lines().map_while(Result::ok) {
                sink.0.lock().unwrap().push(l);
            }
        });
        lines
    }

    pub fn all(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

/// A real dcrd node on simnet, started from the binary in `DCRD_BIN`, with
/// its RPC server on loopback (no TLS) for mining and checking.
pub struct Dcrd {
    _process: Killed,
    pub p2p: String,
    pub rpc: String,
    dir: TempDir,
}

/// A folder removed when dropped.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("dcrpeer-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// dcrd's log (its stdout, at debug level) in its data folder.
pub const LOG: &str = "dcrd.log";

/// Two distinct loopback addresses nobody listens on right now (both are
/// held until both are known, so they differ).
pub fn free_addrs() -> (String, String) {
    let a = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let b = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    (
        a.local_addr().unwrap().to_string(),
        b.local_addr().unwrap().to_string(),
    )
}

impl Dcrd {
    pub fn start(bin: &str, name: &str, extra: &[String]) -> Dcrd {
        Dcrd::start_on(bin, "--simnet", name, extra)
    }

    /// [`Dcrd::start`] on the network `net` names (`--simnet`,
    /// `--testnet`, `--regnet`).
    pub fn start_on(bin: &str, net: &str, name: &str, extra: &[String]) -> Dcrd {
        let dir = TempDir::new(name);
        let (p2p, rpc) = free_addrs();
        let process = Command::new(bin)
            .arg(net)
            .arg(format!("--appdata={}", dir.0.display()))
            .arg(format!("--listen={p2p}"))
            .arg(format!("--rpclisten={rpc}"))
            .args(["--rpcuser=u", "--rpcpass=p", "--notls", "--nofilelogging"])
            .args(["--noseeders", "--nodiscoverip", "--debuglevel=debug"])
            .args(extra)
            .stdout(std::fs::File::create(dir.0.join(LOG)).unwrap())
            .stderr(Stdio::null())
            .spawn()
            .expect("start dcrd");
        let node = Dcrd {
            _process: Killed(process),
            p2p,
            rpc,
            dir,
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while node.try_call("getblockcount", "[]").is_err() {
            assert!(std::time::Instant::now() < deadline, "dcrd did not start");
            std::thread::sleep(Duration::from_millis(200));
        }
        node
    }

    /// One JSON-RPC call over plain HTTP: the result, or why there is none
    /// (no server yet, or an RPC error). dcrd answers with a Content-Length
    /// and closes (`Connection: close`), so reading to the end is the body.
    pub fn try_call(&self, method: &str, params: &str) -> Result<serde_json::Value, String> {
        use std::io::{Read, Write};
        let body = format!(r#"{{"jsonrpc":"1.0","id":1,"method":"{method}","params":{params}}}"#);
        let mut conn = std::net::TcpStream::connect(&self.rpc).map_err(|e| e.to_string())?;
        // A call that cannot complete (`generate` past what simnet can mine
        // without tickets) fails instead of hanging the test.
        conn.set_read_timeout(Some(Duration::from_secs(60)))
            .map_err(|e| e.to_string())?;
        // "u:p" in base64, the credentials given to dcrd above.
        write!(
            conn,
            "POST / HTTP/1.1\r\nHost: {}\r\nAuthorization: Basic dTpw\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.rpc,
            body.len()
        )
        .map_err(|e| e.to_string())?;
        let mut reply = String::new();
        conn.read_to_string(&mut reply).map_err(|e| e.to_string())?;
        let body = reply.split("\r\n\r\n").nth(1).ok_or("no HTTP body")?;
        let json: serde_json::Value = serde_json::from_str(body).map_err(|e| e.to_string())?;
        if !json["error"].is_null() {
            return Err(json["error"].to_string());
        }
        Ok(json["result"].clone())
    }

    pub fn call(&self, method: &str, params: &str) -> serde_json::Value {
        self.try_call(method, params)
            .unwrap_or_else(|e| panic!("dcrd RPC {method}: {e}"))
    }

    /// Stops the node as Ctrl-C does (it saves its address book on the
    /// way out); true when it exited within 30 s.
    pub fn interrupt(&mut self) -> bool {
        let pid = self._process.0.id().to_string();
        let _ = Command::new("kill").args(["-INT", &pid]).status();
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while std::time::Instant::now() < deadline {
            if let Ok(Some(_)) = self._process.0.try_wait() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }

    /// Its data folder (`--appdata`).
    pub fn dir(&self) -> &std::path::Path {
        &self.dir.0
    }

    /// Everything the node has logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.0.join(LOG)).unwrap_or_default()
    }

    /// (hash, height) of the node's best block.
    pub fn best(&self) -> (String, u64) {
        let b = self.call("getbestblock", "[]");
        (
            b["hash"].as_str().unwrap().to_string(),
            b["height"].as_u64().unwrap(),
        )
    }
}

/// The dcrd binary the opt-in tests run.
pub fn dcrd_bin() -> String {
    std::env::var("DCRD_BIN").expect("DCRD_BIN: the path of a dcrd binary")
}

/// Arguments for a dcrd that mines on request (`generate`).
pub fn mining_args() -> Vec<String> {
    // A simnet address from dcrd's own tests to pay the mined coins to.
    vec![
        "--miningaddr=Ssn23a3rJaCUxjqXiVSNwU6FxV45sLkiFpz".to_string(),
        "--allowunsyncedmining".to_string(),
    ]
}

/// The node's chain as dcrd stores it, read over RPC into a folder of
/// `[u32 LE length][block]` records, which `listen --chain` reads.
pub fn export_chain(node: &Dcrd, name: &str) -> TempDir {
    export_chain_with(node, name, &[])
}

/// [`export_chain`] with the blocks `side` (display-order hashes of
/// blocks dcrd holds off its main chain) after the main chain, so that
/// `listen` holds the same side branches as dcrd.
pub fn export_chain_with(node: &Dcrd, name: &str, side: &[String]) -> TempDir {
    let chain = TempDir::new(name);
    let (_, height) = node.best();
    let mut hashes: Vec<String> = (0..=height)
        .map(|h| {
            let hash = node.call("getblockhash", &format!("[{h}]"));
            hash.as_str().unwrap().to_string()
        })
        .collect();
    hashes.extend(side.iter().cloned());
    let mut records = Vec::new();
    for hash in hashes {
        let raw = node.call("getblock", &format!(r#"["{hash}", false]"#));
        let raw = hex::decode(raw.as_str().unwrap()).unwrap();
        records.extend_from_slice(&(raw.len() as u32).to_le_bytes());
        records.extend_from_slice(&raw);
    }
    std::fs::write(chain.0.join("chain.bin"), records).unwrap();
    chain
}

/// A child process killed when dropped.
pub struct Killed(pub std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Stops a child as Ctrl-C does and waits for it to exit (10 s at most).
pub fn interrupt(child: &mut std::process::Child) -> std::process::ExitStatus {
    let pid = child.id().to_string();
    Command::new("kill").args(["-INT", &pid]).status().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no exit 10 s after Ctrl-C"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
