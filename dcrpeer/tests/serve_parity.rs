//! Serving as dcrd's server does, proven side by side (issue 19).
//!
//! A real simnet dcrd (`DCRD_BIN`) mines a chain with a side branch, the
//! main chain and the side branch are exported, and `dcrpeer listen --chain DIR --net simnet`
//! serves the same blocks. A raw client then sends both servers the same
//! requests, each case on a connection of its own from a loopback address
//! of its own (dcrd bans by IP, so a ban in one case cannot shut out the
//! next), and compares what each answers, message by message: commands and
//! the blocks and items they name (hashes labelled `h5` for height 5 of
//! the main chain, `f21` for the side branch, `u1` for hashes neither
//! knows). After the requests the client sends a `ping`; the answer is
//! what arrives up to its `pong` and then until the connection is quiet
//! for [`QUIET`], or until the server hangs up (`disconnected`).
//!
//! Every row must be equal; the test fails listing those that are not
//! (docs/NODE.md says which fail today and why). It prints the whole
//! table to stderr; to iterate:
//!
//! `DCRD_BIN=../shared/reference/bin/dcrd cargo test -p dcrpeer --test serve_parity -- --ignored --nocapture`
//!
//! `SERVE_PARITY_ONLY=getheaders` runs the cases whose name contains it.
//! Messages a node sends unasked (`sendheaders`, dcrd's `getinitstate`,
//! pings) are answered where owed and left out of the rows, except in the
//! row that records them.
//!
//! A second test, `dcrd_and_node_manage_connections_alike`, sets dcrd's
//! connection manager beside `dcrpeer node` (and `listen`): nodes of our
//! own making that dcrd and `node` dial record what they are sent, whether
//! they are kept and how often they are redialled, and a burst of
//! connections from one loopback address measures the per-address limits.
//! Its rows compare the verdict before " — "; the figures after it vary
//! from run to run (jitter).

mod common;
use common::*;

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use dcr_wire::msg::init_state_type;
use dcr_wire::{
    checksum, frame_to_vec, pver, read_message, AddrV2, CurrencyNet, GetBlocks, GetCFTypes,
    GetCFilter, GetCFilterV2, GetCFsV2, GetData, GetHeaders, GetInitState, GetMiningState, Hash,
    Inv, InvType, InvVect, MemPool, Message, NetAddress, NetAddressV2, NotFound, Ping, Pong,
    SendHeaders, ServiceFlags, VerAck, Version,
};

const NET: CurrencyNet = CurrencyNet::SimNet;
const NET_TESTNET: CurrencyNet = CurrencyNet::TestNet3;

/// How long the connection must be silent, after the barrier `pong`, for
/// the answer to be complete. Both servers answer on loopback within
/// milliseconds; the `pong` may overtake the answer (ours queues pongs
/// ahead of other messages, dcrd serves `getdata` from a task of its own).
const QUIET: Duration = Duration::from_millis(300);

/// The longest wait for the barrier `pong`.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(15);

/// Blocks of the main chain dcrd mines before the side branch splits off.
const SHARED: u64 = 20;
/// Blocks of the main chain after the split (the tip is `SHARED + MAIN`).
const MAIN: u64 = 90;
/// Blocks of the side branch, which dcrd holds but does not follow.
const SIDE: u64 = 2;
/// The block holding the harness's first transaction (the second after
/// the split: dcrd's template for the first was made before it came).
const TX_BLOCK: u64 = SHARED + 2;
/// The block holding the transaction that spends the first's bare
/// `OP_TRUE` output.
const SPEND_BLOCK: u64 = SHARED + 4;

/// A simnet address for the side branch's coinbases (from dcrd's
/// `txscript/stdaddr` examples), so that its blocks differ from the main
/// chain's even when mined in the same second.
const SIDE_MINING_ADDR: &str = "Sspzuh5xuvqxccYLWJDJjCtqp166NRxcaPB";

/// What the reader thread hands over.
enum Event {
    Msg(Box<Message<'static>>),
    Closed(String),
}

/// What [`Client::recv`] got (matched on at once, never stored).
#[allow(clippy::large_enum_variant)]
enum Got {
    Msg(Message<'static>),
    Closed(String),
    Timeout,
}

/// A connection to a server, speaking the wire protocol directly.
struct Client {
    stream: TcpStream,
    events: mpsc::Receiver<Event>,
    net: CurrencyNet,
    pver: u32,
    nonce: u64,
    closed: bool,
    /// The last request got neither its barrier `pong` nor a hang-up.
    silent: bool,
    /// Commands received without being asked (before the first request
    /// and between answers), in arrival order.
    unasked: Vec<String>,
}

/// A TCP connection to `to` from the loopback address `from` (Linux routes
/// all of 127/8 to the loopback interface).
fn connect_from(to: SocketAddr, from: Ipv4Addr) -> Result<TcpStream, String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4()?;
        socket.bind(SocketAddr::from((from, 0)))?;
        let stream = tokio::time::timeout(Duration::from_secs(5), socket.connect(to))
            .await
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))??;
        let stream = stream.into_std()?;
        stream.set_nonblocking(false)?;
        Ok::<_, std::io::Error>(stream)
    })
    .map_err(|e| format!("connect {to} from {from}: {e}"))
}

/// A nonce no other run shares.
fn fresh_nonce() -> u64 {
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    t ^ (u64::from(std::process::id()) << 32)
}

impl Client {
    /// Connects from `from` and completes the handshake at protocol
    /// version `pver`, advertising no services and height 0.
    fn open(net: CurrencyNet, to: SocketAddr, from: Ipv4Addr, pver: u32) -> Result<Client, String> {
        let mut c = Client::over(connect_from(to, from)?, net, pver)?;
        c.handshake(ServiceFlags::NONE, true)?;
        Ok(c)
    }

    /// A client on `stream`, before the handshake; a thread reads it.
    fn over(stream: TcpStream, net: CurrencyNet, pver: u32) -> Result<Client, String> {
        let reader = stream.try_clone().map_err(|e| e.to_string())?;
        let (tx, events) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = reader;
            loop {
                match read_message(&mut reader, net, pver) {
                    Ok(m) => {
                        if tx.send(Event::Msg(Box::new(m.message))).is_err() {
                            return;
                        }
                    }
                    Err(e) => {
                        let _ = tx.send(Event::Closed(e.to_string()));
                        return;
                    }
                }
            }
        });
        Ok(Client {
            stream,
            events,
            net,
            pver,
            nonce: fresh_nonce(),
            closed: false,
            silent: false,
            unasked: Vec::new(),
        })
    }

    /// The handshake, advertising `services` and height 0: the dialling
    /// side (`dialled`) speaks first, the other answers the remote's
    /// `version`.
    fn handshake(&mut self, services: ServiceFlags, dialled: bool) -> Result<(), String> {
        let (local, remote) = (
            self.stream.local_addr().map_err(|e| e.to_string())?,
            self.stream.peer_addr().map_err(|e| e.to_string())?,
        );
        let mut v = Version::new(
            NetAddress::new(local.ip(), 0, services),
            NetAddress::new(remote.ip(), remote.port(), ServiceFlags::NONE),
            self.nonce,
            0,
        );
        v.protocol_version = self.pver as i32;
        v.services = services;
        v.add_user_agent("serve-parity", "0.1", &[])
            .map_err(|e| e.to_string())?;
        let version = Message::Version(v);
        if dialled {
            self.send(&version)?;
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        let (mut theirs, mut verack) = (false, false);
        while !(theirs && verack) {
            let wait = deadline.saturating_duration_since(Instant::now());
            match self.recv(wait) {
                Got::Msg(Message::Version(_)) => {
                    theirs = true;
                    if !dialled {
                        self.send(&version)?;
                    }
                    self.send(&Message::VerAck(VerAck))?;
                }
                Got::Msg(Message::VerAck(_)) => verack = true,
                Got::Msg(m) => self.unasked.push(m.command().to_string()),
                Got::Closed(e) => {
                    self.closed = true;
                    return Err(format!("closed in the handshake: {e}"));
                }
                Got::Timeout => return Err("no handshake within 10 s".into()),
            }
        }
        Ok(())
    }

    /// The next message, or why there is none within `wait`.
    fn recv(&self, wait: Duration) -> Got {
        match self.events.recv_timeout(wait) {
            Ok(Event::Msg(m)) => Got::Msg(*m),
            Ok(Event::Closed(e)) => Got::Closed(e),
            Err(mpsc::RecvTimeoutError::Disconnected) => Got::Closed("reader gone".into()),
            Err(mpsc::RecvTimeoutError::Timeout) => Got::Timeout,
        }
    }

    fn send(&mut self, m: &Message<'_>) -> Result<(), String> {
        let frame = frame_to_vec(m, self.net, self.pver).map_err(|e| e.to_string())?;
        self.stream.write_all(&frame).map_err(|e| e.to_string())
    }

    /// Sends `frames`, then a `ping`, and gathers the answer: every
    /// message that answers a request, up to the `pong` and then until
    /// [`QUIET`], with "disconnected" last when the server hung up.
    fn ask(&mut self, frames: &[Vec<u8>], quiet: Duration) -> Vec<Message<'static>> {
        let mut answer = Vec::new();
        if self.closed {
            return answer;
        }
        self.nonce = self.nonce.wrapping_add(1);
        let barrier = self.nonce;
        let mut written = frames
            .iter()
            .try_for_each(|f| self.stream.write_all(f))
            .is_ok();
        written = written && self.send(&Message::Ping(Ping { nonce: barrier })).is_ok();
        let deadline = Instant::now() + ANSWER_TIMEOUT;
        let mut ponged = false;
        loop {
            let wait = if ponged {
                quiet
            } else {
                deadline.saturating_duration_since(Instant::now())
            };
            match self.recv(wait) {
                Got::Msg(Message::Pong(Pong { nonce })) if nonce == barrier => ponged = true,
                Got::Msg(Message::Ping(Ping { nonce })) => {
                    let _ = self.send(&Message::Pong(Pong { nonce }));
                }
                // dcrd asks its peers for their tip state once its chain
                // is current and drops those that do not answer.
                Got::Msg(Message::GetInitState(_)) => {
                    self.unasked.push("getinitstate".into());
                    let _ = self.send(&Message::InitState(Default::default()));
                }
                Got::Msg(m) if is_answer(&m) => answer.push(m),
                Got::Msg(m) => self.unasked.push(m.command().to_string()),
                Got::Closed(_) => {
                    self.closed = true;
                    break;
                }
                Got::Timeout => {
                    // Neither the pong nor a hang-up in time: recorded.
                    self.silent = !ponged && written;
                    break;
                }
            }
        }
        if !written {
            self.closed = true;
        }
        answer
    }
}

impl Drop for Client {
    /// Hangs up: the reader thread's clone of the socket would otherwise
    /// keep the connection open.
    fn drop(&mut self) {
        let _ = self.stream.shutdown(std::net::Shutdown::Both);
    }
}

/// Messages that answer a request; the rest a node sends on its own.
fn is_answer(m: &Message<'_>) -> bool {
    matches!(
        m,
        Message::Headers(_)
            | Message::Inv(_)
            | Message::Block(_)
            | Message::Tx(_)
            | Message::NotFound(_)
            | Message::InitState(_)
            | Message::MiningState(_)
            | Message::Addr(_)
            | Message::AddrV2(_)
            | Message::CFilterV2(_)
            | Message::CFiltersV2(_)
            | Message::CFilter(_)
            | Message::CFHeaders(_)
            | Message::CFTypes(_)
            | Message::Reject(_)
            | Message::MixPairReq(_)
            | Message::MixKeyExchange(_)
            | Message::MixCiphertexts(_)
            | Message::MixSlotReserve(_)
            | Message::MixFactoredPoly(_)
            | Message::MixDCNet(_)
            | Message::MixConfirm(_)
            | Message::MixSecrets(_)
    )
}

/// Names for the hashes of a run: `h<height>` on the main chain,
/// `f<height>` on the side branch, `u<n>` for made-up ones.
struct Labels {
    main: Vec<Hash>,
    side: Vec<Hash>,
    names: HashMap<Hash, String>,
}

impl Labels {
    fn new(main: Vec<Hash>, side: Vec<Hash>) -> Labels {
        let mut names = HashMap::new();
        for (i, h) in main.iter().enumerate() {
            names.insert(*h, format!("h{i}"));
        }
        for (i, h) in side.iter().enumerate() {
            names.insert(*h, format!("f{}", SHARED as usize + 1 + i));
        }
        Labels { main, side, names }
    }

    fn h(&self, height: usize) -> Hash {
        self.main[height]
    }

    fn f(&self, height: usize) -> Hash {
        self.side[height - SHARED as usize - 1]
    }

    fn tip(&self) -> usize {
        self.main.len() - 1
    }

    /// A hash neither server knows, named `u<n>`.
    fn unknown(&mut self, n: u32) -> Hash {
        let mut b = [0xee; 32];
        b[..4].copy_from_slice(&n.to_le_bytes());
        let h = Hash(b);
        self.names.insert(h, format!("u{n}"));
        h
    }

    fn name(&self, h: &Hash) -> String {
        self.names
            .get(h)
            .cloned()
            .unwrap_or_else(|| format!("?{h}"))
    }

    /// The hashes named, runs of consecutive main-chain heights and of
    /// made-up hashes folded: `h11..h25`, `u1..u50000`.
    fn list(&self, hashes: impl IntoIterator<Item = Hash>) -> String {
        let names: Vec<String> = hashes.into_iter().map(|h| self.name(&h)).collect();
        fold(&names)
    }
}

/// Folds runs like `h3 h4 h5` into `h3..h5`.
fn fold(names: &[String]) -> String {
    let num = |s: &str| -> Option<(char, u64)> {
        let kind = s.chars().next()?;
        matches!(kind, 'h' | 'u')
            .then(|| s[1..].parse().ok().map(|n| (kind, n)))
            .flatten()
    };
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < names.len() {
        let mut j = i;
        if let Some((k, n)) = num(&names[i]) {
            while j + 1 < names.len() && num(&names[j + 1]) == Some((k, n + (j + 1 - i) as u64)) {
                j += 1;
            }
        }
        if j > i {
            out.push(format!("{}..{}", names[i], names[j]));
        } else {
            out.push(names[i].clone());
        }
        i = j + 1;
    }
    out.join(" ")
}

/// Inventory vectors by type, in order: `block h1..h3, tx u2`.
fn vectors(labels: &Labels, inv: &[InvVect]) -> String {
    let mut groups: Vec<(InvType, Vec<Hash>)> = Vec::new();
    for iv in inv {
        match groups.last_mut() {
            Some((t, hs)) if *t == iv.inv_type => hs.push(iv.hash),
            _ => groups.push((iv.inv_type, vec![iv.hash])),
        }
    }
    groups
        .iter()
        .map(|(t, hs)| format!("{} {}", inv_type_name(*t), labels.list(hs.iter().copied())))
        .collect::<Vec<_>>()
        .join(", ")
}

fn inv_type_name(t: InvType) -> String {
    match t {
        InvType::TX => "tx".into(),
        InvType::BLOCK => "block".into(),
        InvType::MIX => "mix".into(),
        other => format!("type{}", other.0),
    }
}

/// One message of an answer, in a line.
fn describe(labels: &Labels, m: &Message<'_>) -> String {
    match m {
        Message::Headers(h) => format!(
            "headers[{}]",
            labels.list(h.headers.iter().map(|h| h.block_hash()))
        ),
        Message::Inv(i) => format!("inv[{}]", vectors(labels, &i.inv_list)),
        Message::NotFound(n) => format!("notfound[{}]", vectors(labels, &n.inv_list)),
        Message::Block(b) => format!("block {}", labels.name(&b.block_hash())),
        Message::InitState(s) => format!(
            "initstate(blocks {}, votes {}, tspends {})",
            s.block_hashes.len(),
            s.vote_hashes.len(),
            s.tspend_hashes.len()
        ),
        Message::AddrV2(a) => format!("addrv2({})", a.addr_list.len()),
        Message::Addr(a) => format!("addr({})", a.addr_list.len()),
        Message::CFilterV2(f) => format!(
            "cfilterv2 {} ({} bytes #{}, proof {} of {})",
            labels.name(&f.block_hash),
            f.data.len(),
            hex::encode(checksum(&f.data)),
            f.proof_index,
            f.proof_hashes.len()
        ),
        Message::CFiltersV2(f) => {
            // Every filter's bytes and proof, in one checksum.
            let mut all = Vec::new();
            for c in &f.cfilters {
                all.extend_from_slice(&(c.data.len() as u32).to_le_bytes());
                all.extend_from_slice(&c.data);
                all.extend_from_slice(&c.proof_index.to_le_bytes());
                for p in &c.proof_hashes {
                    all.extend_from_slice(&p.0);
                }
            }
            format!(
                "cfiltersv2[{}] #{}",
                labels.list(f.cfilters.iter().map(|f| f.block_hash)),
                hex::encode(checksum(&all))
            )
        }
        Message::Reject(r) => format!("reject {}", r.cmd),
        other => other.command().to_string(),
    }
}

/// A whole answer in a line.
fn summary(labels: &Labels, answer: &[Message<'_>], c: &Client) -> String {
    let mut parts: Vec<String> = answer.iter().map(|m| describe(labels, m)).collect();
    if c.closed {
        parts.push("disconnected".into());
    }
    if c.silent {
        parts.push(format!("no pong in {} s", ANSWER_TIMEOUT.as_secs()));
    }
    if parts.is_empty() {
        "(nothing)".into()
    } else {
        parts.join("; ")
    }
}

/// A frame with any command and payload, checksummed, for what the
/// encoder refuses to build (empty lists, unknown commands).
fn raw_frame(command: &str, payload: &[u8]) -> Vec<u8> {
    raw_frame_on(NET, command, payload)
}

/// [`raw_frame`] for `net`.
fn raw_frame_on(net: CurrencyNet, command: &str, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(24 + payload.len());
    f.extend_from_slice(&net.magic().to_le_bytes());
    let mut cmd = [0u8; 12];
    cmd[..command.len()].copy_from_slice(command.as_bytes());
    f.extend_from_slice(&cmd);
    f.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    f.extend_from_slice(&checksum(payload));
    f.extend_from_slice(payload);
    f
}

fn frame(m: Message<'_>) -> Vec<u8> {
    frame_to_vec(&m, NET, pver::CURRENT).expect("the cases encode")
}

/// One set of requests, sent in steps (the answer to one step is awaited
/// before the next is sent, so no answer races a disconnect the next step
/// causes), and the protocol version its client speaks.
struct Case {
    name: String,
    steps: Vec<Vec<Vec<u8>>>,
    pver: u32,
    /// How long the connection must be silent after the barrier `pong`.
    quiet: Duration,
}

impl Case {
    /// One step of `messages`.
    fn new(name: impl Into<String>, messages: Vec<Message<'_>>) -> Case {
        Case::steps(name, vec![messages])
    }

    /// `steps` in turn.
    fn steps(name: impl Into<String>, steps: Vec<Vec<Message<'_>>>) -> Case {
        Case {
            name: name.into(),
            steps: steps
                .into_iter()
                .map(|s| s.into_iter().map(frame).collect())
                .collect(),
            pver: pver::CURRENT,
            quiet: QUIET,
        }
    }

    /// The same with a longer silence awaited after each step's `pong`
    /// (dcrd serves `getdata` from a task of its own, one database lookup
    /// per item, well after the `pong`).
    fn quiet(self, quiet: Duration) -> Case {
        Case { quiet, ..self }
    }

    /// One step of one frame built by hand, from a client at `pver`.
    fn raw(name: impl Into<String>, frame: Vec<u8>, pver: u32) -> Case {
        Case {
            name: name.into(),
            steps: vec![vec![frame]],
            pver,
            quiet: QUIET,
        }
    }
}

fn get_headers(locator: Vec<Hash>, stop: Hash) -> Message<'static> {
    Message::GetHeaders(GetHeaders {
        protocol_version: pver::CURRENT,
        block_locator_hashes: locator,
        hash_stop: stop,
    })
}

fn get_blocks(locator: Vec<Hash>, stop: Hash) -> Message<'static> {
    Message::GetBlocks(GetBlocks {
        protocol_version: pver::CURRENT,
        block_locator_hashes: locator,
        hash_stop: stop,
    })
}

fn iv(inv_type: InvType, hash: Hash) -> InvVect {
    InvVect { inv_type, hash }
}

fn get_data(inv_list: Vec<InvVect>) -> Message<'static> {
    Message::GetData(GetData { inv_list })
}

/// Every request set, in the order run.
fn cases(l: &mut Labels) -> Vec<Case> {
    let zero = Hash::ZERO;
    let u1 = l.unknown(1);
    let (u2, u3) = (l.unknown(2), l.unknown(3));
    let tip = l.tip();
    let (h0, h5, h10, h15) = (l.h(0), l.h(5), l.h(10), l.h(15));
    let (f21, f22) = (l.f(SHARED as usize + 1), l.f(SHARED as usize + 2));
    // A locator as a node on the side branch builds it: its own blocks,
    // then back along the shared chain.
    let forked = {
        let mut v = vec![f22, f21];
        v.extend([20, 19, 18, 16, 12, 4, 0].map(|h| l.h(h)));
        v
    };
    let locators: Vec<(&str, Vec<Hash>, Hash)> = vec![
        ("locator empty, stop zero", vec![], zero),
        ("locator empty, stop h10", vec![], h10),
        ("locator empty, stop genesis", vec![], h0),
        ("locator empty, stop unknown", vec![], u1),
        ("locator empty, stop f22 (side branch)", vec![], f22),
        ("locator h10, stop zero", vec![h10], zero),
        ("locator h10, stop h15", vec![h10], h15),
        ("locator h10, stop h10 (the locator)", vec![h10], h10),
        ("locator h10, stop h5 (behind the locator)", vec![h10], h5),
        ("locator h10, stop unknown", vec![h10], u1),
        ("locator h10, stop f22 (side branch)", vec![h10], f22),
        ("locator [h5 h10] (older first)", vec![h5, h10], zero),
        ("locator unknown (past the tip)", vec![u1], zero),
        ("locator [unknown, h10]", vec![u1, h10], zero),
        ("locator genesis", vec![h0], zero),
        ("locator tip", vec![l.h(tip)], zero),
        ("locator tip, stop h5", vec![l.h(tip)], h5),
        ("locator h24, stop tip", vec![l.h(tip - 1)], l.h(tip)),
        ("locator forked [f22 f21 h20 ...]", forked, zero),
        ("locator [f22] alone (side branch)", vec![f22], zero),
    ];
    let mut out = Vec::new();
    for (name, locator, stop) in &locators {
        out.push(Case::new(
            format!("getheaders: {name}"),
            vec![get_headers(locator.clone(), *stop)],
        ));
    }
    for (name, locator, stop) in &locators {
        out.push(Case::new(
            format!("getblocks: {name}"),
            vec![get_blocks(locator.clone(), *stop)],
        ));
    }

    let (b, t, m) = (InvType::BLOCK, InvType::TX, InvType::MIX);
    out.push(Case::new(
        "getdata: block h5",
        vec![get_data(vec![iv(b, h5)])],
    ));
    out.push(Case::new(
        "getdata: blocks h22 and h24 (with transactions)",
        vec![get_data(vec![
            iv(b, l.h(TX_BLOCK as usize)),
            iv(b, l.h(SPEND_BLOCK as usize)),
        ])],
    ));
    out.push(Case::new(
        "getdata: genesis",
        vec![get_data(vec![iv(b, h0)])],
    ));
    out.push(Case::new(
        "getdata: block h5, unknown block, unknown tx, block h6, unknown mix",
        vec![get_data(vec![
            iv(b, h5),
            iv(b, u1),
            iv(t, u2),
            iv(b, l.h(6)),
            iv(m, u3),
        ])],
    ));
    out.push(Case::new(
        "getdata: block f21 (side branch)",
        vec![get_data(vec![iv(b, f21)])],
    ));
    out.push(Case::new(
        "getdata: types 0, 3 and 99, then block h1",
        vec![get_data(vec![
            iv(InvType::ERROR, l.h(3)),
            iv(InvType::FILTERED_BLOCK, l.h(4)),
            iv(InvType(99), h5),
            iv(b, l.h(1)),
        ])],
    ));
    out.push(Case::new(
        "getdata: unknown tx alone",
        vec![get_data(vec![iv(t, u2)])],
    ));
    out.push(Case::raw(
        "getdata: empty",
        raw_frame("getdata", &[0]),
        pver::CURRENT,
    ));
    let many: Vec<InvVect> = (1000..51_000).map(|n| iv(b, l.unknown(n))).collect();
    out.push(
        Case::steps(
            "getdata: 50,000 unknown blocks, twice",
            vec![vec![get_data(many.clone())], vec![get_data(many)]],
        )
        .quiet(Duration::from_secs(5)),
    );

    let all_types = Message::GetInitState(GetInitState {
        types: [
            init_state_type::HEAD_BLOCKS,
            init_state_type::HEAD_BLOCK_VOTES,
            init_state_type::TSPENDS,
        ]
        .map(Cow::Borrowed)
        .to_vec(),
    });
    out.push(Case::new(
        "getinitstate: all three types",
        vec![all_types.clone()],
    ));
    out.push(Case::new(
        "getinitstate: no types",
        vec![Message::GetInitState(GetInitState::default())],
    ));
    out.push(Case::steps(
        "getinitstate: twice",
        vec![vec![all_types.clone()], vec![all_types]],
    ));
    out.push(Case::new(
        "getminings",
        vec![Message::GetMiningState(GetMiningState)],
    ));
    out.push(Case::new("mempool: once", vec![Message::MemPool(MemPool)]));
    out.push(Case::steps(
        "mempool: four times",
        vec![vec![Message::MemPool(MemPool)]; 4],
    ));
    out.push(Case::new(
        "getaddr: once (inbound)",
        vec![Message::GetAddr(dcr_wire::GetAddr)],
    ));
    out.push(Case::steps(
        "getaddr: twice (inbound)",
        vec![vec![Message::GetAddr(dcr_wire::GetAddr)]; 2],
    ));

    out.push(Case::new(
        "getcfilterv2: h5",
        vec![Message::GetCFilterV2(GetCFilterV2 { block_hash: h5 })],
    ));
    out.push(Case::new(
        "getcfilterv2: genesis",
        vec![Message::GetCFilterV2(GetCFilterV2 { block_hash: h0 })],
    ));
    out.push(Case::new(
        "getcfilterv2: h22 (a transaction: spent P2SH; bare, OP_RETURN, P2PKH outputs)",
        vec![Message::GetCFilterV2(GetCFilterV2 {
            block_hash: l.h(TX_BLOCK as usize),
        })],
    ));
    out.push(Case::new(
        "getcfilterv2: h24 (a transaction spending h22's bare output)",
        vec![Message::GetCFilterV2(GetCFilterV2 {
            block_hash: l.h(SPEND_BLOCK as usize),
        })],
    ));
    out.push(Case::new(
        "getcfilterv2: unknown",
        vec![Message::GetCFilterV2(GetCFilterV2 { block_hash: u1 })],
    ));
    out.push(Case::new(
        "getcfilterv2: f21 (side branch)",
        vec![Message::GetCFilterV2(GetCFilterV2 { block_hash: f21 })],
    ));
    let cfs = |start, end| {
        vec![Message::GetCFsV2(GetCFsV2 {
            start_hash: start,
            end_hash: end,
        })]
    };
    out.push(Case::new("getcfsv2: h1 to h10", cfs(l.h(1), h10)));
    out.push(Case::new("getcfsv2: genesis to tip", cfs(h0, l.h(tip))));
    out.push(Case::new(
        "getcfsv2: h20 to h25 (with transactions)",
        cfs(l.h(20), l.h(25)),
    ));
    out.push(Case::new(
        "getcfsv2: h10 to h1 (reversed)",
        cfs(h10, l.h(1)),
    ));
    out.push(Case::new("getcfsv2: unknown to h5", cfs(u1, h5)));
    out.push(Case::new(
        "getcfsv2: h15 to f22 (side branch)",
        cfs(h15, f22),
    ));
    out.push(Case::new(
        "getcfilter (version 1 filters)",
        vec![Message::GetCFilter(GetCFilter {
            block_hash: h5,
            filter_type: dcr_wire::FilterType(0),
        })],
    ));
    out.push(Case::new(
        "getcftypes (version 1 filters)",
        vec![Message::GetCFTypes(GetCFTypes)],
    ));

    out.push(Case::raw(
        "inv: empty",
        raw_frame("inv", &[0]),
        pver::CURRENT,
    ));
    out.push(Case::new(
        "inv: a known block (h5)",
        vec![Message::Inv(Inv {
            inv_list: vec![iv(b, h5)],
        })],
    ));
    out.push(Case::new(
        "notfound: an unknown type (7)",
        vec![Message::NotFound(NotFound {
            inv_list: vec![iv(InvType(7), u1)],
        })],
    ));
    out.push(Case::new(
        "notfound: 5 blocks (20 points each, persistent)",
        vec![Message::NotFound(NotFound {
            inv_list: (2000..2005).map(|n| iv(b, l.unknown(n))).collect(),
        })],
    ));
    out.push(Case::new(
        "notfound: 6 blocks (20 points each, persistent)",
        vec![Message::NotFound(NotFound {
            inv_list: (2100..2106).map(|n| iv(b, l.unknown(n))).collect(),
        })],
    ));
    out.push(Case::new(
        "notfound: 3 transactions",
        vec![Message::NotFound(NotFound {
            inv_list: (2200..2203).map(|n| iv(t, l.unknown(n))).collect(),
        })],
    ));
    out.push(Case::new(
        "addrv2: one routable IPv4 address",
        vec![Message::AddrV2(AddrV2 {
            addr_list: vec![NetAddressV2::new(
                IpAddr::from([8, 8, 8, 8]),
                18555,
                ServiceFlags::NODE_NETWORK,
                now_secs(),
            )],
        })],
    ));
    out.push(Case::raw(
        "addrv2: empty",
        raw_frame("addrv2", &[0]),
        pver::CURRENT,
    ));
    out.push(Case::raw(
        "addrv2: IPv4-mapped address typed IPv6",
        raw_frame("addrv2", &mapped_as_ipv6()),
        pver::CURRENT,
    ));
    out.push(Case::raw(
        "addr at version 12 (replaced by addrv2)",
        raw_frame("addr", &addr_v1_payload(1)),
        pver::CURRENT,
    ));
    out.push(Case::raw(
        "addr at version 11: empty",
        raw_frame("addr", &[0]),
        pver::ADDR_V2 - 1,
    ));
    out.push(Case::raw(
        "addr at version 11: an address a day ahead",
        raw_frame("addr", &addr_v1_payload(1)),
        pver::ADDR_V2 - 1,
    ));
    out.push(Case::new(
        "sendheaders",
        vec![Message::SendHeaders(SendHeaders)],
    ));
    out.push(Case::raw(
        "an unknown command",
        raw_frame("frobnicate", &[1, 2, 3]),
        pver::CURRENT,
    ));
    out.push(Case::raw(
        "headers with a count past 2,000",
        raw_frame("headers", &[0xfd, 0xd1, 0x07]),
        pver::CURRENT,
    ));
    out.extend(review_cases(l));
    out
}

/// A raw `getheaders`/`getblocks` payload with `locator` and `stop`
/// (for counts the encoder refuses).
fn locator_payload(locator: &[Hash], stop: Hash) -> Vec<u8> {
    let mut p = pver::CURRENT.to_le_bytes().to_vec();
    let n = locator.len();
    if n < 0xfd {
        p.push(n as u8);
    } else {
        p.push(0xfd);
        p.extend_from_slice(&(n as u16).to_le_bytes());
    }
    for h in locator {
        p.extend_from_slice(&h.0);
    }
    p.extend_from_slice(&stop.0);
    p
}

/// A raw inventory-list payload (`getdata`, `inv`, `notfound`).
fn inv_payload(items: &[InvVect]) -> Vec<u8> {
    let n = items.len();
    let mut p = Vec::with_capacity(5 + n * 36);
    if n < 0xfd {
        p.push(n as u8);
    } else if n <= 0xffff {
        p.push(0xfd);
        p.extend_from_slice(&(n as u16).to_le_bytes());
    } else {
        p.push(0xfe);
        p.extend_from_slice(&(n as u32).to_le_bytes());
    }
    for i in items {
        p.extend_from_slice(&i.inv_type.0.to_le_bytes());
        p.extend_from_slice(&i.hash.0);
    }
    p
}

/// A raw `getinitstate` payload of these type names.
fn init_state_payload(types: &[&str]) -> Vec<u8> {
    let mut p = vec![types.len() as u8];
    for t in types {
        p.push(t.len() as u8);
        p.extend_from_slice(t.as_bytes());
    }
    p
}

/// An `addrv2` payload of one entry of type `t` with `bytes`.
fn addr_v2_typed(t: u8, bytes: &[u8]) -> Vec<u8> {
    let mut p = vec![1];
    p.extend_from_slice(&now_secs().to_le_bytes());
    p.extend_from_slice(&1u64.to_le_bytes());
    p.push(t);
    p.extend_from_slice(bytes);
    p.extend_from_slice(&18555u16.to_le_bytes());
    p
}

/// Cases a reviewer added from dcrd's and btcd's histories: locator
/// duplicates and limits, inventory limits, `notfound` mixes, filter
/// ranges, `getinitstate` limits and `addrv2` types.
fn review_cases(l: &mut Labels) -> Vec<Case> {
    let zero = Hash::ZERO;
    let tip = l.tip();
    let (h0, h5, h10) = (l.h(0), l.h(5), l.h(10));
    let (f21, f22) = (l.f(SHARED as usize + 1), l.f(SHARED as usize + 2));
    let (b, t) = (InvType::BLOCK, InvType::TX);
    let unknowns: Vec<Hash> = (3000..3500).map(|n| l.unknown(n)).collect();
    let mut out = Vec::new();
    for (cmd, name) in [("getheaders", "getheaders"), ("getblocks", "getblocks")] {
        let rows: Vec<(&str, Vec<Hash>, Hash)> = vec![
            (
                "locator [h10 h10 h5] (duplicates)",
                vec![h10, h10, h5],
                zero,
            ),
            (
                "locator [u1 u2 u3] (only unknown)",
                unknowns[..3].to_vec(),
                zero,
            ),
            ("locator genesis, stop tip", vec![h0], l.h(tip)),
            ("locator genesis, stop genesis", vec![h0], h0),
            ("locator [f21 f22] (side only), stop h5", vec![f21, f22], h5),
            ("locator [h5 tip] (tip second)", vec![h5, l.h(tip)], zero),
            ("500 unknown locator hashes", unknowns.clone(), zero),
        ];
        for (what, locator, stop) in rows {
            out.push(Case::raw(
                format!("{name}: {what}"),
                raw_frame(cmd, &locator_payload(&locator, stop)),
                pver::CURRENT,
            ));
        }
        let mut over = unknowns.clone();
        over.push(h5);
        out.push(Case::raw(
            format!("{name}: 501 locator hashes"),
            raw_frame(cmd, &locator_payload(&over, zero)),
            pver::CURRENT,
        ));
    }
    let over: Vec<InvVect> = (0..50_001).map(|_| iv(b, h5)).collect();
    out.push(Case::raw(
        "getdata: 50,001 items",
        raw_frame("getdata", &inv_payload(&over)),
        pver::CURRENT,
    ));
    out.push(Case::raw(
        "inv: 50,001 items",
        raw_frame("inv", &inv_payload(&over)),
        pver::CURRENT,
    ));
    out.push(Case::raw(
        "getdata: block h5 twice",
        raw_frame("getdata", &inv_payload(&[iv(b, h5), iv(b, h5)])),
        pver::CURRENT,
    ));
    let u9 = l.unknown(9);
    out.push(Case::raw(
        "notfound: a block, then type 7",
        raw_frame("notfound", &inv_payload(&[iv(b, u9), iv(InvType(7), u9)])),
        pver::CURRENT,
    ));
    out.push(Case::steps(
        "notfound: 5 blocks, then 1 block (persistent 120)",
        vec![
            vec![Message::NotFound(NotFound {
                inv_list: (2300..2305).map(|n| iv(b, l.unknown(n))).collect(),
            })],
            vec![Message::NotFound(NotFound {
                inv_list: vec![iv(b, u9)],
            })],
        ],
    ));
    out.push(Case::new(
        "notfound: 11 transactions (transient 110)",
        vec![Message::NotFound(NotFound {
            inv_list: (2400..2411).map(|n| iv(t, l.unknown(n))).collect(),
        })],
    ));
    out.push(Case::steps(
        "mempool, then notfound of 7 transactions (33 + 70)",
        vec![
            vec![Message::MemPool(MemPool)],
            vec![Message::NotFound(NotFound {
                inv_list: (2500..2507).map(|n| iv(t, l.unknown(n))).collect(),
            })],
        ],
    ));
    let cfs = |start, end| {
        vec![Message::GetCFsV2(GetCFsV2 {
            start_hash: start,
            end_hash: end,
        })]
    };
    out.push(Case::new("getcfsv2: h5 to h5", cfs(h5, h5)));
    out.push(Case::new(
        "getcfsv2: genesis to h99 (100 filters, the most)",
        cfs(h0, l.h(99)),
    ));
    out.push(Case::new(
        "getcfsv2: genesis to h100 (101 filters)",
        cfs(h0, l.h(100)),
    ));
    out.push(Case::new(
        "getcfsv2: h11 to the tip (100 filters)",
        cfs(l.h(tip - 99), l.h(tip)),
    ));
    out.push(Case::new(
        "getcfsv2: h10 to the tip (101 filters)",
        cfs(l.h(tip - 100), l.h(tip)),
    ));
    out.push(Case::new("getcfsv2: f21 to f22 (side only)", cfs(f21, f22)));
    out.push(Case::new("getcfsv2: tip to tip", cfs(l.h(tip), l.h(tip))));
    out.push(Case::new("getcfsv2: zero to zero", cfs(zero, zero)));
    out.push(Case::raw(
        "getinitstate: an unknown type name",
        raw_frame("getinitstate", &init_state_payload(&["frobnicate"])),
        pver::CURRENT,
    ));
    out.push(Case::raw(
        "getinitstate: 32 types",
        raw_frame("getinitstate", &init_state_payload(&["headblocks"; 32])),
        pver::CURRENT,
    ));
    out.push(Case::raw(
        "getinitstate: 33 types",
        raw_frame("getinitstate", &init_state_payload(&["headblocks"; 33])),
        pver::CURRENT,
    ));
    let long = "x".repeat(33);
    out.push(Case::raw(
        "getinitstate: a 33-byte type name",
        raw_frame("getinitstate", &init_state_payload(&[long.as_str()])),
        pver::CURRENT,
    ));
    out.push(Case::raw(
        "getinitstate: a non-ASCII type name",
        raw_frame("getinitstate", &[1, 1, 0xff]),
        pver::CURRENT,
    ));
    out.push(Case::raw(
        "addrv2: type 0 (unknown)",
        raw_frame("addrv2", &addr_v2_typed(0, &[8, 8, 8, 8])),
        pver::CURRENT,
    ));
    out.push(Case::raw(
        "addrv2: type 4 (unknown)",
        raw_frame("addrv2", &addr_v2_typed(4, &[8, 8, 8, 8])),
        pver::CURRENT,
    ));
    out.push(Case::raw(
        "addrv2: a Tor v3 entry",
        raw_frame("addrv2", &addr_v2_typed(3, &[7; 32])),
        pver::CURRENT,
    ));
    out.push(Case::raw(
        "getaddr at version 9",
        raw_frame("getaddr", &[]),
        9,
    ));
    out.push(Case::raw(
        "getheaders at version 9: locator h10",
        raw_frame("getheaders", &locator_payload(&[h10], zero)),
        9,
    ));
    out.push(Case::raw(
        "getcfilterv2 at version 9: h5",
        raw_frame("getcfilterv2", &h5.0),
        9,
    ));
    // A block with a zeroed header and no transactions: it decodes, and
    // nobody asked for it.
    let mut empty_block = vec![0u8; 180];
    empty_block.extend_from_slice(&[0, 0]);
    out.push(Case::raw(
        "unsolicited block (a zeroed header, no transactions)",
        raw_frame("block", &empty_block),
        pver::CURRENT,
    ));
    let mut orphan = vec![1u8];
    orphan.extend_from_slice(&[7u8; 180]);
    orphan.push(0);
    out.push(Case::raw(
        "unsolicited headers (one that connects to nothing)",
        raw_frame("headers", &orphan),
        pver::CURRENT,
    ));
    let u11 = l.unknown(11);
    out.push(Case::new(
        "unsolicited inv of an unknown block",
        vec![Message::Inv(Inv {
            inv_list: vec![iv(b, u11)],
        })],
    ));
    out.push(Case::new(
        "unsolicited inv of an unknown transaction",
        vec![Message::Inv(Inv {
            inv_list: vec![iv(t, u11)],
        })],
    ));
    out.push(Case::new(
        "unsolicited tx (no inputs)",
        vec![Message::Tx(dcr_wire::Tx::new())],
    ));
    out.push(Case::raw(
        "mixpairreq at version 9 (before the mix version)",
        raw_frame("mixpairreq", &[0; 8]),
        9,
    ));
    out.push(Case::raw(
        "getcfsv2 at version 9: h1 to h3",
        raw_frame("getcfsv2", &[l.h(1).0, l.h(3).0].concat()),
        9,
    ));
    out.push(Case::raw(
        "getdata at version 9: block h5",
        raw_frame("getdata", &inv_payload(&[iv(b, h5)])),
        9,
    ));
    out
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// An `addrv2` payload of one entry typed IPv6 (2) whose bytes are the
/// IPv4-mapped 8.8.8.8: the wire decodes it, dcrd's address manager
/// refuses it.
fn mapped_as_ipv6() -> Vec<u8> {
    let mut p = vec![1];
    p.extend_from_slice(&now_secs().to_le_bytes());
    p.extend_from_slice(&1u64.to_le_bytes());
    p.push(2);
    p.extend_from_slice(
        &std::net::Ipv4Addr::new(8, 8, 8, 8)
            .to_ipv6_mapped()
            .octets(),
    );
    p.extend_from_slice(&18555u16.to_le_bytes());
    p
}

/// An `addr` payload of one routable entry stamped a day ahead.
fn addr_v1_payload(n: u8) -> Vec<u8> {
    let ahead = now_secs() + 24 * 3600;
    addr_v1_stamped(&vec![ahead; usize::from(n)])
}

/// An `addr` payload of the routable entries 8.8.9.1, 8.8.9.2, ... with
/// these timestamps (Unix seconds).
fn addr_v1_stamped(stamps: &[u64]) -> Vec<u8> {
    let mut p = vec![stamps.len() as u8];
    for (i, t) in stamps.iter().enumerate() {
        p.extend_from_slice(&(*t as u32).to_le_bytes());
        p.extend_from_slice(&1u64.to_le_bytes());
        p.extend_from_slice(
            &Ipv4Addr::new(8, 8, 9, 1 + i as u8)
                .to_ipv6_mapped()
                .octets(),
        );
        p.extend_from_slice(&19108u16.to_be_bytes());
    }
    p
}

/// A row of the table.
struct Row {
    case: String,
    dcrd: String,
    ours: String,
}

/// The loopback address of case `i` against server `server` (0: dcrd,
/// 1: ours): one per case, so a ban never reaches another case.
fn source(server: u8, i: usize) -> Ipv4Addr {
    Ipv4Addr::new(127, 1 + server, (i / 250) as u8, 1 + (i % 250) as u8)
}

/// Runs `case` against the server at `to` from `from`.
fn run_case(labels: &Labels, to: SocketAddr, from: Ipv4Addr, case: &Case) -> String {
    run_case_on(NET, labels, to, from, case)
}

/// [`run_case`] on `net`.
fn run_case_on(
    net: CurrencyNet,
    labels: &Labels,
    to: SocketAddr,
    from: Ipv4Addr,
    case: &Case,
) -> String {
    match Client::open(net, to, from, case.pver) {
        Ok(mut c) => {
            let mut answers = Vec::new();
            for step in &case.steps {
                let answer = c.ask(step, case.quiet);
                answers.push(summary(labels, &answer, &c));
                if c.closed {
                    break;
                }
            }
            answers.join(" / ")
        }
        Err(e) => format!("no connection: {e}"),
    }
}

/// What a server sends unasked in the first second after the handshake
/// (commands, each once, sorted).
fn unasked(to: SocketAddr, from: Ipv4Addr) -> String {
    match Client::open(NET, to, from, pver::CURRENT) {
        Ok(mut c) => {
            std::thread::sleep(Duration::from_secs(1));
            let _ = c.ask(&[], QUIET);
            let seen: BTreeSet<String> = c.unasked.iter().cloned().collect();
            if seen.is_empty() {
                "(nothing)".into()
            } else {
                seen.into_iter().collect::<Vec<_>>().join(", ")
            }
        }
        Err(e) => format!("no connection: {e}"),
    }
}

/// The main chain's hashes, genesis first, as `node` sees them.
fn main_chain(node: &Dcrd) -> Vec<Hash> {
    let (_, height) = node.best();
    (0..=height)
        .map(|h| {
            let hash = node.call("getblockhash", &format!("[{h}]"));
            hash.as_str().unwrap().parse().unwrap()
        })
        .collect()
}

/// Mines the chain the servers share: `SHARED` blocks, then a second dcrd
/// that synced them mines `SIDE` blocks alone while the first mines
/// `MAIN`; the side blocks are then submitted to the first, which keeps
/// them beside its longer chain. Returns the main chain's and the side
/// branch's hashes.
fn mine_fork(server: &Dcrd, bin: &str) -> (Vec<Hash>, Vec<Hash>) {
    server.call("generate", &format!("[{SHARED}]"));
    let side_args = vec![
        format!("--miningaddr={SIDE_MINING_ADDR}"),
        "--allowunsyncedmining".to_string(),
    ];
    let forker = Dcrd::start(bin, "forker", &side_args);
    forker.call("addnode", &format!(r#"["{}", "add"]"#, server.p2p));
    wait_for(
        || forker.best().1 == SHARED,
        "the second dcrd syncs the shared chain",
    );
    forker.call("addnode", &format!(r#"["{}", "remove"]"#, server.p2p));
    wait_for(
        || {
            forker
                .call("getpeerinfo", "[]")
                .as_array()
                .is_some_and(|p| p.is_empty())
        },
        "the second dcrd disconnects",
    );
    let side: Vec<Hash> = forker
        .call("generate", &format!("[{SIDE}]"))
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap().parse().unwrap())
        .collect();
    // Transactions whose blocks' filters hold spent scripts and outputs
    // of every kind a regular transaction has. dcrd's template for the
    // next block is made as the tip changes, so a transaction sent now is
    // mined in the block after next.
    let bare = spend_coinbase(server);
    server.call("generate", "[2]");
    assert_tx_count(server, TX_BLOCK, 2);
    spend_bare(server, bare);
    server.call("generate", &format!("[{}]", MAIN - 2));
    assert_tx_count(server, SPEND_BLOCK, 2);
    for h in &side {
        let raw = forker.call("getblock", &format!(r#"["{h}", false]"#));
        server.call("submitblock", &format!("[{raw}]"));
    }
    let main = main_chain(server);
    assert_eq!(main.len() as u64, SHARED + MAIN + 1);
    for h in &side {
        assert!(!main.contains(h), "side block {h} on the main chain");
        server
            .try_call("getblockheader", &format!(r#"["{h}"]"#))
            .unwrap_or_else(|e| panic!("dcrd does not hold side block {h}: {e}"));
    }
    (main, side)
}

/// A simnet pay-to-script-hash address whose script is `OP_TRUE`: what
/// dcrd's `decodescript 51` names as its P2SH form. Coinbases paid to it
/// can be spent with a signature script that only pushes `OP_TRUE`, so
/// the harness makes transactions without keys (dcrd takes them with
/// `--acceptnonstd`).
const OP_TRUE_P2SH: &str = "ScyEsHpsR1Sav1K4wWokP8TrZwP2zgczrcS";

/// Mining to [`OP_TRUE_P2SH`], accepting the transactions that spend it.
fn spendable_mining_args() -> Vec<String> {
    vec![
        format!("--miningaddr={OP_TRUE_P2SH}"),
        "--allowunsyncedmining".to_string(),
        "--acceptnonstd".to_string(),
    ]
}

/// Asserts that the main-chain block at `height` holds `n` regular
/// transactions.
fn assert_tx_count(node: &Dcrd, height: u64, n: usize) {
    let hash = node.call("getblockhash", &format!("[{height}]"));
    let block = node.call(
        "getblock",
        &format!(r#"["{}", true]"#, hash.as_str().unwrap()),
    );
    assert_eq!(
        block["tx"].as_array().map(Vec::len),
        Some(n),
        "transactions in block {height}"
    );
}

/// A transaction of one input: spending `prev` worth `value_in` atoms,
/// mined at `height`, with `signature_script`.
fn spending(
    prev: dcr_wire::OutPoint,
    value_in: i64,
    height: u32,
    signature_script: Vec<u8>,
    outputs: Vec<dcr_wire::TxOut<'static>>,
) -> dcr_wire::Tx<'static> {
    let mut tx = dcr_wire::Tx::new();
    let mut input = dcr_wire::TxIn::new(prev, value_in, signature_script);
    input.block_height = height;
    tx.inputs.push(input);
    tx.outputs = outputs;
    tx
}

fn send_raw(node: &Dcrd, tx: &dcr_wire::Tx<'_>) {
    let raw = hex::encode(tx.to_bytes_as(dcr_wire::TxSerType::Full));
    node.call("sendrawtransaction", &format!(r#"["{raw}"]"#));
}

/// The fee each harness transaction pays (atoms; well above simnet's
/// relay minimum).
const FEE: i64 = 100_000;

/// Sends `node` a transaction spending the coinbase of block 2 (mature
/// after 16 blocks) through its `OP_TRUE` P2SH, to a bare `OP_TRUE`
/// output, an `OP_RETURN` and a P2PKH output (dcrd's mempool refuses
/// scripts of other versions, which filters leave out: unit-tested only).
/// Returns the bare output and its value.
fn spend_coinbase(node: &Dcrd) -> (dcr_wire::OutPoint, i64) {
    use dcr_wire::{OutPoint, TxOut};
    let decoded = node.call("decodescript", r#"["51"]"#);
    assert_eq!(
        decoded["p2sh"], OP_TRUE_P2SH,
        "dcrd names OP_TRUE's P2SH otherwise"
    );
    let hash = node.call("getblockhash", "[2]");
    let block = node.call(
        "getblock",
        &format!(r#"["{}", true, true]"#, hash.as_str().unwrap()),
    );
    let coinbase = &block["rawtx"][0];
    let (index, atoms) = coinbase["vout"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|o| {
            (o["scriptPubKey"]["type"] == "scripthash").then(|| {
                let atoms = (o["value"].as_f64().unwrap() * 1e8).round() as i64;
                (o["n"].as_u64().unwrap() as u32, atoms)
            })
        })
        .expect("block 2's coinbase pays the P2SH mining address");
    let coinbase_hash: Hash = coinbase["txid"].as_str().unwrap().parse().unwrap();
    let pkh = {
        let mut s = vec![0x76, 0xa9, 0x14];
        s.extend([0x5a; 20]);
        s.extend([0x88, 0xac]);
        s
    };
    let bare_value = atoms - FEE - 1_000_000;
    let tx = spending(
        OutPoint::new(coinbase_hash, index, 0),
        atoms,
        2,
        vec![0x01, 0x51],
        vec![
            TxOut::new(bare_value, vec![0x51]),
            TxOut::new(0, vec![0x6a, 0x04, 0xde, 0xc0, 0xde, 0x01]),
            TxOut::new(1_000_000, pkh),
        ],
    );
    send_raw(node, &tx);
    (OutPoint::new(tx.tx_hash(), 0, 0), bare_value)
}

/// Sends `node` a transaction spending the bare `OP_TRUE` output `bare`
/// (mined in [`TX_BLOCK`]) back to the P2SH mining address: its block's
/// filter holds the bare script only as a script spent.
fn spend_bare(node: &Dcrd, (bare, value): (dcr_wire::OutPoint, i64)) {
    let decoded = node.call("decodescript", r#"["51"]"#);
    assert_eq!(decoded["p2sh"], OP_TRUE_P2SH);
    // OP_HASH160 <20 bytes> OP_EQUAL, as block 2's coinbase pays.
    let hash = node.call("getblockhash", "[2]");
    let block = node.call(
        "getblock",
        &format!(r#"["{}", true, true]"#, hash.as_str().unwrap()),
    );
    let p2sh = block["rawtx"][0]["vout"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["scriptPubKey"]["type"] == "scripthash")
        .map(|o| hex::decode(o["scriptPubKey"]["hex"].as_str().unwrap()).unwrap())
        .unwrap();
    let tx = spending(
        bare,
        value,
        TX_BLOCK as u32,
        Vec::new(),
        vec![dcr_wire::TxOut::new(value - FEE, p2sh)],
    );
    send_raw(node, &tx);
}

fn wait_for(mut done: impl FnMut() -> bool, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "timed out: {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The table as Markdown.
fn table(rows: &[Row]) -> String {
    table_of(rows, "dcrpeer listen")
}

/// [`table`] with `ours` naming our side.
/// Prints the table and the count, then fails if any row differs.
fn print_and_assert_alike(table: &str, rows: &[Row], started: Instant) {
    let differ: Vec<&Row> = rows.iter().filter(|r| r.dcrd != r.ours).collect();
    eprintln!(
        "{table}\n{} rows, {} differ; {:.1} s",
        rows.len(),
        differ.len(),
        started.elapsed().as_secs_f64()
    );
    assert_alike(&differ, rows.len());
}

/// Fails, listing every row where ours answered otherwise than dcrd.
fn assert_alike(differ: &[&Row], rows: usize) {
    assert!(
        differ.is_empty(),
        "{} of {rows} rows differ from dcrd:\n{}",
        differ.len(),
        differ
            .iter()
            .map(|r| format!("  {}: dcrd {} / ours {}", r.case, r.dcrd, r.ours))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

fn table_of(rows: &[Row], ours: &str) -> String {
    let mut s = format!("| case | dcrd | {ours} | same |\n| --- | --- | --- | --- |\n");
    for r in rows {
        let same = if r.dcrd == r.ours { "yes" } else { "**no**" };
        s.push_str(&format!(
            "| {} | {} | {} | {same} |\n",
            r.case, r.dcrd, r.ours
        ));
    }
    s
}

/// Both servers answer every request alike. Needs a dcrd binary; see the
/// module documentation for running it and reading its table.
#[test]
#[ignore = "needs a dcrd binary in DCRD_BIN"]
fn dcrd_and_listen_answer_requests_alike() {
    let started = Instant::now();
    let bin = dcrd_bin();
    let server = Dcrd::start(&bin, "parity", &spendable_mining_args());
    let (main, side) = mine_fork(&server, &bin);
    // The side branch goes along: dcrd holds it, so `listen` must too.
    let side_hex: Vec<String> = side.iter().map(|h| h.to_string()).collect();
    let chain = export_chain_with(&server, "paritychain", &side_hex);
    let (listen, listen_addr, _lines) = start_listen_with(&["--chain", chain.0.to_str().unwrap()]);
    let _listen = Killed(listen);
    let mined = started.elapsed();

    let dcrd_addr: SocketAddr = server.p2p.parse().unwrap();
    let ours_addr: SocketAddr = listen_addr.parse().unwrap();
    let mut labels = Labels::new(main, side);
    let only = std::env::var("SERVE_PARITY_ONLY").unwrap_or_default();
    let cases: Vec<Case> = cases(&mut labels)
        .into_iter()
        .filter(|c| c.name.contains(&only))
        .collect();

    let mut rows = vec![Row {
        case: "unasked, after the handshake".into(),
        dcrd: unasked(dcrd_addr, source(0, 0)),
        ours: unasked(ours_addr, source(1, 0)),
    }];
    for (i, case) in cases.iter().enumerate() {
        rows.push(Row {
            case: case.name.clone(),
            dcrd: run_case(&labels, dcrd_addr, source(0, i + 1), case),
            ours: run_case(&labels, ours_addr, source(1, i + 1), case),
        });
    }
    let table = table(&rows);
    let differ: Vec<&Row> = rows.iter().filter(|r| r.dcrd != r.ours).collect();
    eprintln!(
        "{table}\n{} rows, {} differ; chain mined in {:.1} s, {:.1} s in all",
        rows.len(),
        differ.len(),
        mined.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    assert_alike(&differ, rows.len());
}

/// How long a node of ours that is dialled keeps each connection and
/// records what it is sent.
const HOLD: Duration = Duration::from_secs(3);

/// The window in which a persistent peer that hangs up after each
/// handshake is watched being redialled.
const REDIAL_WINDOW: Duration = Duration::from_secs(21);

/// dcrd's base wait before redialling a persistent peer
/// (`connectionRetryInterval`); it doubles per connection not kept.
const RETRY: f64 = 5.0;

/// One connection a [`RawNode`] accepted.
#[derive(Debug, Clone, Default)]
struct Dialled {
    /// When it was accepted, since the node started.
    at: Duration,
    handshaken: bool,
    /// Commands received after the handshake (and before the verack).
    sent: Vec<String>,
    /// The dialler hung up while the connection was held.
    dropped: bool,
}

/// A node of our own making that others dial: it answers the handshake
/// advertising `services`, then hangs up at once (`hang_up`) or holds the
/// connection for [`HOLD`], recording what the dialler sends.
struct RawNode {
    addr: SocketAddr,
    log: Arc<Mutex<Vec<Dialled>>>,
}

impl RawNode {
    fn start(services: ServiceFlags, hang_up: bool) -> RawNode {
        RawNode::start_at(services, hang_up, pver::CURRENT)
    }

    /// [`RawNode::start`] speaking protocol version `pv`.
    fn start_at(services: ServiceFlags, hang_up: bool, pv: u32) -> RawNode {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let log: Arc<Mutex<Vec<Dialled>>> = Arc::default();
        let shared = log.clone();
        let started = Instant::now();
        std::thread::spawn(move || {
            for stream in l.incoming() {
                let Ok(stream) = stream else { return };
                let log = shared.clone();
                let i = {
                    let mut log = log.lock().unwrap();
                    log.push(Dialled {
                        at: started.elapsed(),
                        ..Dialled::default()
                    });
                    log.len() - 1
                };
                std::thread::spawn(move || {
                    let Ok(mut c) = Client::over(stream, NET, pv) else {
                        return;
                    };
                    let handshaken = c.handshake(services, false).is_ok();
                    let mut dropped = c.closed;
                    if handshaken && !hang_up {
                        let end = Instant::now() + HOLD;
                        loop {
                            match c.recv(end.saturating_duration_since(Instant::now())) {
                                Got::Msg(Message::Ping(Ping { nonce })) => {
                                    let _ = c.send(&Message::Pong(Pong { nonce }));
                                }
                                Got::Msg(m @ Message::GetInitState(_)) => {
                                    c.unasked.push(m.command().to_string());
                                    let _ = c.send(&Message::InitState(Default::default()));
                                }
                                Got::Msg(m) => c.unasked.push(m.command().to_string()),
                                Got::Closed(_) => {
                                    dropped = true;
                                    break;
                                }
                                Got::Timeout => break,
                            }
                        }
                    }
                    let mut log = log.lock().unwrap();
                    log[i].handshaken = handshaken;
                    log[i].sent = std::mem::take(&mut c.unasked);
                    log[i].dropped = dropped;
                });
            }
        });
        RawNode { addr, log }
    }

    fn dialled(&self) -> Vec<Dialled> {
        self.log.lock().unwrap().clone()
    }

    /// The first connection, once its record is complete.
    fn first(&self) -> Option<Dialled> {
        let deadline = Instant::now() + HOLD + Duration::from_secs(10);
        loop {
            let first = self.dialled().first().cloned();
            if let Some(d) = &first {
                if d.handshaken || d.dropped || !d.sent.is_empty() || Instant::now() > deadline {
                    // A record is written once, when its connection ends.
                    std::thread::sleep(Duration::from_millis(100));
                    return self.dialled().first().cloned();
                }
            }
            if Instant::now() > deadline {
                return first;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// Whether a dialler kept the connection to a node lacking what it needs.
fn kept(d: Option<&Dialled>) -> String {
    match d {
        None => "never dialled".into(),
        Some(d) if !d.handshaken => "dropped in the handshake".into(),
        Some(d) if d.dropped => "dropped after the handshake".into(),
        Some(_) => format!("kept for {} s", HOLD.as_secs()),
    }
}

/// Whether a dialler asked for addresses, and what it sent.
fn asked_addresses(d: Option<&Dialled>) -> String {
    match d {
        None => "never dialled".into(),
        Some(d) => {
            let asked = d.sent.iter().any(|c| c == "getaddr");
            let sent: BTreeSet<&String> = d.sent.iter().collect();
            format!(
                "getaddr {} — sent {}",
                if asked { "sent" } else { "not sent" },
                sent.into_iter().cloned().collect::<Vec<_>>().join(", ")
            )
        }
    }
}

/// Whether the waits between a persistent peer's redials follow dcrd's
/// rule (`ConnManager.runPersistent`, `backoffWithJitter`): a connection
/// not kept for [`RETRY`] seconds is redialled after a wait drawn from
/// [half, all] of `RETRY · 2^(n-1)` for the n-th in a row, at most 5
/// minutes (slack for the dial and handshake).
fn redials(log: &[Dialled]) -> String {
    let at: Vec<f64> = log.iter().map(|d| d.at.as_secs_f64()).collect();
    let waits: Vec<f64> = at.windows(2).map(|w| w[1] - w[0]).collect();
    let follows = waits.len() >= 2
        && waits.iter().enumerate().all(|(i, w)| {
            let full = (RETRY * 2f64.powi(i as i32)).min(300.0);
            *w >= full / 2.0 - 0.1 && *w <= full + 1.0
        });
    format!(
        "{} — {} dials in {} s, waits {}",
        if follows {
            "backs off as dcrd's rule"
        } else {
            "does not back off as dcrd's rule"
        },
        log.len(),
        REDIAL_WINDOW.as_secs(),
        waits
            .iter()
            .map(|w| format!("{w:.1}"))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// Opens `n` connections from 127.0.0.1 to `to` first, then handshakes
/// on all at once and holds them a second: how many are up at the end.
fn same_host_burst(to: SocketAddr, n: usize) -> String {
    let streams: Vec<TcpStream> = (0..n).filter_map(|_| TcpStream::connect(to).ok()).collect();
    let opened = streams.len();
    let held = streams
        .into_iter()
        .map(|s| {
            std::thread::spawn(move || {
                let Ok(mut c) = Client::over(s, NET, pver::CURRENT) else {
                    return false;
                };
                if c.handshake(ServiceFlags::NONE, true).is_err() {
                    return false;
                }
                std::thread::sleep(Duration::from_secs(1));
                let _ = c.ask(&[], QUIET);
                !c.closed
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|h| h.join())
        .filter(|r| matches!(r, Ok(true)))
        .count();
    format!("{held} of {n} up — {opened} opened")
}

/// `dcrpeer node` with `args`, and the address it listens on when given
/// `--listen`.
fn start_node(args: &[String]) -> (Killed, Option<SocketAddr>, Lines) {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_dcrpeer"))
        .args(["node", "--net", "simnet"])
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut addr = None;
    if args.iter().any(|a| a == "--listen") {
        let mut first = String::new();
        std::io::BufRead::read_line(&mut out, &mut first).unwrap();
        addr = first
            .trim()
            .strip_prefix("listening on ")
            .and_then(|a| a.parse().ok());
    }
    (Killed(child), addr, Lines::gather(out))
}

/// The rows' compared part: what precedes " — ".
fn key(s: &str) -> &str {
    s.split(" — ").next().unwrap_or(s)
}

/// dcrd's connection manager and server as a dialled node and a listening
/// node see them, beside `dcrpeer node` (and `dcrpeer listen` for inbound
/// limits): required services of a dialled peer, `getaddr` on simnet,
/// redials of a persistent peer that is not kept, and `--maxsameip`'s
/// loopback exemption. Prints its table; fails on the rows that differ.
#[test]
#[ignore = "needs a dcrd binary in DCRD_BIN"]
fn dcrd_and_node_manage_connections_alike() {
    let started = Instant::now();
    let bin = dcrd_bin();
    let dcrd = Dcrd::start(&bin, "conns", &[]);

    // One raw node of each kind for dcrd and one for ours.
    let no_services = [ServiceFlags::NONE; 2].map(|s| RawNode::start(s, false));
    let full = [ServiceFlags::NODE_NETWORK; 2].map(|s| RawNode::start(s, false));
    let flaky = [ServiceFlags::NODE_NETWORK; 2].map(|s| RawNode::start(s, true));

    let window = Instant::now();
    dcrd.call("addnode", &format!(r#"["{}", "add"]"#, flaky[0].addr));
    let (_node, _, _) = start_node(&[
        "--connect".into(),
        flaky[1].addr.to_string(),
        "--connect".into(),
        no_services[1].addr.to_string(),
        "--connect".into(),
        full[1].addr.to_string(),
    ]);
    for n in [&no_services[0], &full[0]] {
        dcrd.call("addnode", &format!(r#"["{}", "onetry"]"#, n.addr));
    }
    let mut rows = vec![
        Row {
            case: "a dialled peer without NODE_NETWORK (node --connect)".into(),
            dcrd: kept(no_services[0].first().as_ref()),
            ours: kept(no_services[1].first().as_ref()),
        },
        Row {
            case: "simnet: what a dialled full node is sent (node --connect)".into(),
            dcrd: asked_addresses(full[0].first().as_ref()),
            ours: asked_addresses(full[1].first().as_ref()),
        },
    ];

    let (_listen_node, node_addr, _) = start_node(&[
        "--listen".into(),
        "127.0.0.1:0".into(),
        "--target".into(),
        "0".into(),
    ]);
    let chain = TempDir::new("conns-chain");
    std::fs::write(chain.0.join("chain.bin"), {
        let genesis = dcrd.call("getblockhash", "[0]");
        let raw = dcrd.call("getblock", &format!("[{genesis}, false]"));
        let raw = hex::decode(raw.as_str().unwrap()).unwrap();
        dcr_node::chain::block_records_file(&[raw])
    })
    .unwrap();
    let (listen, listen_addr, _lines) = start_listen_with(&["--chain", chain.0.to_str().unwrap()]);
    let _listen = Killed(listen);
    let dcrd_addr: SocketAddr = dcrd.p2p.parse().unwrap();
    let burst = 12;
    let dcrd_burst = same_host_burst(dcrd_addr, burst);
    rows.push(Row {
        case: format!("{burst} connections from 127.0.0.1 (maxsameip 5; listen)"),
        dcrd: dcrd_burst.clone(),
        ours: same_host_burst(listen_addr.parse().unwrap(), burst),
    });
    rows.push(Row {
        case: format!("{burst} connections from 127.0.0.1 (maxsameip 5; node --listen)"),
        dcrd: dcrd_burst,
        ours: node_addr.map_or("node did not listen".into(), |a| same_host_burst(a, burst)),
    });

    std::thread::sleep(REDIAL_WINDOW.saturating_sub(window.elapsed()));
    rows.push(Row {
        case: "persistent peer that hangs up after each handshake (node --connect)".into(),
        dcrd: redials(&flaky[0].dialled()),
        ours: redials(&flaky[1].dialled()),
    });

    let mut table = String::from("| case | dcrd | dcrpeer | same |\n| --- | --- | --- | --- |\n");
    for r in &rows {
        let same = if key(&r.dcrd) == key(&r.ours) {
            "yes"
        } else {
            "**no**"
        };
        table.push_str(&format!(
            "| {} | {} | {} | {same} |\n",
            r.case, r.dcrd, r.ours
        ));
    }
    let differ: Vec<&Row> = rows
        .iter()
        .filter(|r| key(&r.dcrd) != key(&r.ours))
        .collect();
    eprintln!(
        "{table}\n{} rows, {} differ; {:.1} s",
        rows.len(),
        differ.len(),
        started.elapsed().as_secs_f64()
    );
    assert_alike(&differ, rows.len());
}

/// Where an address learned from an `addr` stamped `sent` ended up, as
/// dcrd saved it (`saved`, Unix seconds) at `now`.
fn stamp_fate(sent: u64, saved: Option<i64>, now: u64) -> &'static str {
    const DAY: i64 = 24 * 3600;
    match saved {
        None => "not kept",
        Some(t) if (t - sent as i64).abs() <= 60 => "kept as sent",
        Some(t) if (t - (now as i64 - 5 * DAY)).abs() <= 120 => "set back to 5 days ago",
        Some(_) => "changed otherwise",
    }
}

/// The address rules of dcrd's server where they apply: on testnet
/// (simnet and regnet ignore `addr`, `addrv2` and `getaddr` altogether,
/// as the first test shows). dcrd bans for an empty `addr` (version 11)
/// and for an `addrv2` entry whose bytes do not fit its type; it sets a
/// timestamp more than 10 minutes ahead (its code; its comment says 24
/// hours) back to 5 days ago, which its saved address book shows; and it
/// answers `getaddr` only from addresses it once connected to. The same
/// requests go to `dcrpeer listen --net testnet` and must be answered
/// alike; the timestamps are dcrd's alone (listen keeps no book), checked
/// against what docs/NODE.md states.
#[test]
#[ignore = "needs a dcrd binary in DCRD_BIN"]
fn dcrd_and_listen_take_addresses_alike_on_testnet() {
    let started = Instant::now();
    let bin = dcrd_bin();
    let mut dcrd = Dcrd::start_on(&bin, "--testnet", "addrs", &[]);
    let mut listen = std::process::Command::new(env!("CARGO_BIN_EXE_dcrpeer"))
        .args(["listen", "--bind", "127.0.0.1:0", "--net", "testnet"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(listen.stdout.take().unwrap());
    let mut first = String::new();
    std::io::BufRead::read_line(&mut out, &mut first).unwrap();
    let _drain = Lines::gather(out);
    let _listen = Killed(listen);
    let ours_addr: SocketAddr = first.split_whitespace().nth(2).unwrap().parse().unwrap();
    let dcrd_addr: SocketAddr = dcrd.p2p.parse().unwrap();

    let now = now_secs();
    let stamps = [now + 9 * 60, now + 11 * 60, now + 2 * 3600];
    let older = pver::ADDR_V2 - 1;
    let getaddr = frame_to_vec(&Message::GetAddr(dcr_wire::GetAddr), NET_TESTNET, older)
        .expect("getaddr encodes");
    let cases = [
        Case::raw(
            "addr (version 11): empty",
            raw_frame_on(NET_TESTNET, "addr", &[0]),
            older,
        ),
        Case {
            name: "addr (version 11): 9 min, 11 min, 2 h ahead; then getaddr".into(),
            steps: vec![
                vec![raw_frame_on(NET_TESTNET, "addr", &addr_v1_stamped(&stamps))],
                vec![getaddr],
            ],
            pver: older,
            quiet: QUIET,
        },
        Case::raw(
            "addrv2: IPv4-mapped address typed IPv6",
            raw_frame_on(NET_TESTNET, "addrv2", &mapped_as_ipv6()),
            pver::CURRENT,
        ),
        Case::raw(
            "addrv2: empty",
            raw_frame_on(NET_TESTNET, "addrv2", &[0]),
            pver::CURRENT,
        ),
        Case::raw(
            "addr at version 12 (replaced by addrv2)",
            raw_frame_on(NET_TESTNET, "addr", &addr_v1_payload(1)),
            pver::CURRENT,
        ),
        Case::raw(
            "addr (version 11): 1,001 entries",
            raw_frame_on(NET_TESTNET, "addr", &{
                let mut p = vec![0xfd];
                p.extend_from_slice(&1001u16.to_le_bytes());
                let one = &addr_v1_stamped(&[now])[1..];
                for _ in 0..1001 {
                    p.extend_from_slice(one);
                }
                p
            }),
            older,
        ),
        Case::raw(
            "addrv2 at version 11",
            raw_frame_on(NET_TESTNET, "addrv2", &addr_v2_typed(1, &[8, 8, 8, 8])),
            older,
        ),
        Case::raw(
            "addrv2: an IPv4-compatible ::8.8.8.8 typed IPv6",
            raw_frame_on(
                NET_TESTNET,
                "addrv2",
                &addr_v2_typed(2, &{
                    let mut b = [0u8; 16];
                    b[12..].copy_from_slice(&[8, 8, 8, 8]);
                    b
                }),
            ),
            pver::CURRENT,
        ),
        Case::raw(
            "addrv2: a good entry, then an IPv4-mapped one typed IPv6",
            raw_frame_on(NET_TESTNET, "addrv2", &{
                let mut p = vec![2];
                p.extend_from_slice(&addr_v2_typed(1, &[8, 8, 4, 4])[1..]);
                p.extend_from_slice(&mapped_as_ipv6()[1..]);
                p
            }),
            pver::CURRENT,
        ),
        Case::raw(
            "addrv2: a Tor v3 entry (testnet)",
            raw_frame_on(NET_TESTNET, "addrv2", &addr_v2_typed(3, &[7; 32])),
            pver::CURRENT,
        ),
        Case::raw(
            "getaddr (version 12), twice",
            [
                raw_frame_on(NET_TESTNET, "getaddr", &[]),
                raw_frame_on(NET_TESTNET, "getaddr", &[]),
            ]
            .concat(),
            pver::CURRENT,
        ),
    ];
    let labels = Labels::new(Vec::new(), Vec::new());
    let mut rows = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        rows.push(Row {
            case: case.name.clone(),
            dcrd: run_case_on(NET_TESTNET, &labels, dcrd_addr, source(0, i), case),
            ours: run_case_on(NET_TESTNET, &labels, ours_addr, source(1, i), case),
        });
    }

    // dcrd's address book as it saves it on the way out.
    assert!(dcrd.interrupt(), "dcrd did not stop on SIGINT");
    let saved =
        std::fs::read_to_string(dcrd.dir().join("data/testnet3/peers.json")).unwrap_or_default();
    let book: serde_json::Value = serde_json::from_str(&saved).unwrap_or_default();
    let fates: Vec<&str> = stamps
        .iter()
        .enumerate()
        .map(|(i, sent)| {
            let addr = format!("8.8.9.{}:19108", i + 1);
            let saved = book["Addresses"]
                .as_array()
                .and_then(|a| a.iter().find(|e| e["Addr"] == addr.as_str()))
                .and_then(|e| e["TimeStamp"].as_i64());
            stamp_fate(*sent, saved, now)
        })
        .collect();

    let table = table(&rows);
    let differ: Vec<&Row> = rows.iter().filter(|r| r.dcrd != r.ours).collect();
    eprintln!(
        "{table}\ndcrd's saved timestamps (9 min, 11 min, 2 h ahead): {}\n{} rows, {} differ; {:.1} s",
        fates.join(" / "),
        rows.len(),
        differ.len(),
        started.elapsed().as_secs_f64()
    );
    assert_eq!(
        fates,
        [
            "kept as sent",
            "set back to 5 days ago",
            "set back to 5 days ago"
        ],
        "dcrd's cutoff for timestamps ahead is 10 minutes (docs/NODE.md)"
    );
    assert_alike(&differ, rows.len());
}

/// A `version` frame from `stream`'s local end at protocol `pver`.
fn version_frame(stream: &TcpStream, pver: u32) -> Vec<u8> {
    let (local, remote) = (stream.local_addr().unwrap(), stream.peer_addr().unwrap());
    let mut v = Version::new(
        NetAddress::new(local.ip(), 0, ServiceFlags::NONE),
        NetAddress::new(remote.ip(), remote.port(), ServiceFlags::NONE),
        fresh_nonce(),
        0,
    );
    v.protocol_version = pver as i32;
    v.add_user_agent("serve-parity", "0.1", &[]).unwrap();
    frame_to_vec(&Message::Version(v), NET, pver::CURRENT).unwrap()
}

/// What a connection from `from` that writes what `first` makes of the
/// fresh stream is left with (closed within 5 s or not), then whether a
/// well-formed handshake from the same address completes: the second
/// part shows whether the first was banned.
fn then_again(to: SocketAddr, from: Ipv4Addr, first: &dyn Fn(&TcpStream) -> Vec<u8>) -> String {
    let first_part = match connect_from(to, from) {
        Err(e) => format!("connect failed: {e}"),
        Ok(mut s) => {
            let bytes = first(&s);
            let _ = s.write_all(&bytes);
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut buf = [0u8; 4096];
            let deadline = Instant::now() + Duration::from_secs(5);
            let mut closed = false;
            while Instant::now() < deadline {
                match std::io::Read::read(&mut s, &mut buf) {
                    Ok(0) => {
                        closed = true;
                        break;
                    }
                    Ok(_) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == std::io::ErrorKind::TimedOut => break,
                    Err(_) => {
                        closed = true;
                        break;
                    }
                }
            }
            if closed {
                "closed".to_string()
            } else {
                "left open".to_string()
            }
        }
    };
    std::thread::sleep(Duration::from_millis(500));
    let second = match Client::open(NET, to, from, pver::CURRENT) {
        Ok(_) => "then a handshake from the same address completes",
        Err(_) => "then a handshake from the same address is refused (banned)",
    };
    format!("{first_part}; {second}")
}

/// As [`then_again`], but `first`'s bytes follow a completed handshake.
fn after_handshake_then_again(
    to: SocketAddr,
    from: Ipv4Addr,
    first: &dyn Fn(&TcpStream) -> Vec<u8>,
) -> String {
    let first_part = match Client::open(NET, to, from, pver::CURRENT) {
        Err(e) => format!("no handshake: {e}"),
        Ok(mut c) => {
            let bytes = first(&c.stream);
            let _ = c.stream.write_all(&bytes);
            let deadline = Instant::now() + Duration::from_secs(5);
            let mut closed = false;
            while Instant::now() < deadline {
                match c.recv(deadline.saturating_duration_since(Instant::now())) {
                    Got::Msg(Message::Ping(Ping { nonce })) => {
                        let _ = c.send(&Message::Pong(Pong { nonce }));
                    }
                    Got::Msg(Message::GetInitState(_)) => {
                        let _ = c.send(&Message::InitState(Default::default()));
                    }
                    Got::Msg(_) => {}
                    Got::Closed(_) => {
                        closed = true;
                        break;
                    }
                    Got::Timeout => break,
                }
            }
            if closed {
                "closed".to_string()
            } else {
                "left open".to_string()
            }
        }
    };
    std::thread::sleep(Duration::from_millis(500));
    let second = match Client::open(NET, to, from, pver::CURRENT) {
        Ok(_) => "then a handshake from the same address completes",
        Err(_) => "then a handshake from the same address is refused (banned)",
    };
    format!("{first_part}; {second}")
}

/// dcrd bans a peer whose message does not decode (`OnRead`, a
/// `wire.ErrorCode`) also during the handshake, as the server's listeners
/// see the `version` and `verack` reads; a refused version (too old, not
/// first) is a disconnect only. `dcrpeer node --listen` must do the same.
#[test]
#[ignore = "needs a dcrd binary in DCRD_BIN"]
fn dcrd_and_node_ban_malformed_handshakes_alike() {
    let started = Instant::now();
    let bin = dcrd_bin();
    let dcrd = Dcrd::start(&bin, "handshakes", &[]);
    let (_node, node_addr, _lines) = start_node(&[
        "--listen".into(),
        "127.0.0.1:0".into(),
        "--target".into(),
        "0".into(),
    ]);
    let node_addr = node_addr.expect("node listens");
    let dcrd_addr: SocketAddr = dcrd.p2p.parse().unwrap();
    type First = Box<dyn Fn(&TcpStream) -> Vec<u8>>;
    let cases: Vec<(&str, First)> = vec![
        (
            "a version with a bad checksum",
            Box::new(|s| {
                let mut f = version_frame(s, pver::CURRENT);
                f[20] ^= 0xff;
                f
            }),
        ),
        (
            "a truncated version payload (checksum right)",
            Box::new(|s| {
                let f = version_frame(s, pver::CURRENT);
                raw_frame("version", &f[24..24 + 30])
            }),
        ),
        (
            "a version, then a ping with a 3-byte payload",
            Box::new(|s| {
                let mut f = version_frame(s, pver::CURRENT);
                f.extend(raw_frame("ping", &[1, 2, 3]));
                f
            }),
        ),
        (
            "a version at protocol 8 (below 9)",
            Box::new(|s| version_frame(s, 8)),
        ),
        (
            "a ping before the version",
            Box::new(|_| frame(Message::Ping(Ping { nonce: 1 }))),
        ),
        (
            "an unknown command before the version",
            Box::new(|_| raw_frame("frobnicate", &[1, 2, 3])),
        ),
        (
            "a frame of another network's magic",
            Box::new(|s| {
                let mut f = version_frame(s, pver::CURRENT);
                f[..4].copy_from_slice(&CurrencyNet::MainNet.magic().to_le_bytes());
                f
            }),
        ),
    ];
    let mut rows = Vec::new();
    for (i, (name, first)) in cases.iter().enumerate() {
        rows.push(Row {
            case: (*name).to_string(),
            dcrd: then_again(dcrd_addr, source(0, 200 + i), first.as_ref()),
            ours: then_again(node_addr, source(1, 200 + i), first.as_ref()),
        });
    }
    let mut bad_checksum = frame(Message::Ping(Ping { nonce: 7 }));
    bad_checksum[20] ^= 0xff;
    let after: Vec<(&str, Vec<u8>)> = vec![
        (
            "after the handshake: a ping with a 3-byte payload (input ends)",
            raw_frame("ping", &[1, 2, 3]),
        ),
        (
            "after the handshake: a ping with 9 bytes (trailing bytes)",
            raw_frame("ping", &[1; 9]),
        ),
        (
            "after the handshake: a ping with a bad checksum",
            bad_checksum,
        ),
        (
            "after the handshake: a getheaders whose count is a non-canonical var-int",
            raw_frame("getheaders", &{
                let mut p = pver::CURRENT.to_le_bytes().to_vec();
                p.extend_from_slice(&[0xfd, 1, 0]);
                p.extend_from_slice(&[0; 64]);
                p
            }),
        ),
        (
            "after the handshake: a getdata cut inside its second item",
            raw_frame("getdata", &{
                let mut p = vec![2];
                p.extend_from_slice(&[2, 0, 0, 0]);
                p.extend_from_slice(&[9; 32]);
                p.extend_from_slice(&[2, 0, 0, 0]);
                p.extend_from_slice(&[9; 10]);
                p
            }),
        ),
        (
            "after the handshake: an unknown command",
            raw_frame("frobnicate", &[1, 2, 3]),
        ),
    ];
    for (i, (name, bytes)) in after.iter().enumerate() {
        let first = |_: &TcpStream| bytes.clone();
        rows.push(Row {
            case: (*name).to_string(),
            dcrd: after_handshake_then_again(dcrd_addr, source(0, 220 + i), &first),
            ours: after_handshake_then_again(node_addr, source(1, 220 + i), &first),
        });
    }
    let table = table_of(&rows, "dcrpeer node --listen");
    print_and_assert_alike(&table, &rows, started);
}

/// A whitelisted peer is scored but never banned: dcrd's `BanPeer` only
/// logs for it and its handler returns, leaving it connected, except where
/// the handler disconnects explicitly (a second `getinitstate`, v1 filter
/// requests) or the read itself failed; `--maxpeers` holds loopback
/// peers but not whitelisted ones. `dcrpeer node --listen` beside dcrd,
/// each with `--whitelist 127.0.0.0/8`, then each with `--maxpeers 3`.
#[test]
#[ignore = "needs a dcrd binary in DCRD_BIN"]
fn dcrd_and_node_spare_whitelisted_peers_alike() {
    let started = Instant::now();
    let bin = dcrd_bin();
    let white = Dcrd::start(&bin, "white", &["--whitelist=127.0.0.0/8".to_string()]);
    let (_node, node_addr, _lines) = start_node(&[
        "--listen".into(),
        "127.0.0.1:0".into(),
        "--whitelist".into(),
        "127.0.0.0/8".into(),
    ]);
    let node_addr = node_addr.expect("node listens");
    let dcrd_addr: SocketAddr = white.p2p.parse().unwrap();
    let mut labels = Labels::new(Vec::new(), Vec::new());
    let many: Vec<InvVect> = (1000..51_000)
        .map(|n| iv(InvType::BLOCK, labels.unknown(n)))
        .collect();
    let cases = [
        Case::raw("inv: empty", raw_frame("inv", &[0]), pver::CURRENT),
        Case::raw("getdata: empty", raw_frame("getdata", &[0]), pver::CURRENT),
        Case::steps(
            "mempool: five times",
            vec![vec![Message::MemPool(MemPool)]; 5],
        ),
        Case::new(
            "notfound: 6 blocks (120, persistent)",
            vec![Message::NotFound(NotFound {
                inv_list: many[..6].to_vec(),
            })],
        ),
        Case::steps(
            "getdata: 50,000 unknown blocks, twice",
            vec![vec![get_data(many.clone())], vec![get_data(many)]],
        )
        .quiet(Duration::from_secs(5)),
        Case::steps(
            "getinitstate: twice",
            vec![
                vec![Message::GetInitState(GetInitState::default())],
                vec![Message::GetInitState(GetInitState::default())],
            ],
        ),
        Case::new(
            "getcftypes (version 1 filters)",
            vec![Message::GetCFTypes(GetCFTypes)],
        ),
        Case::raw(
            "a ping with 9 bytes (trailing bytes)",
            raw_frame("ping", &[1; 9]),
            pver::CURRENT,
        ),
    ];
    let mut rows = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let answer = |to: SocketAddr, from: Ipv4Addr| {
            let a = run_case_on(NET, &labels, to, from, case);
            std::thread::sleep(Duration::from_millis(300));
            let again = match Client::open(NET, to, from, pver::CURRENT) {
                Ok(_) => "then the same address is let in",
                Err(_) => "then the same address is refused",
            };
            format!("{a}; {again}")
        };
        rows.push(Row {
            case: format!("whitelisted: {}", case.name),
            dcrd: answer(dcrd_addr, source(0, 240 + i)),
            ours: answer(node_addr, source(1, 240 + i)),
        });
    }
    drop(white);

    let capped = Dcrd::start(&bin, "capped", &["--maxpeers=3".to_string()]);
    let (_capped_node, capped_addr, _capped_lines) = start_node(&[
        "--listen".into(),
        "127.0.0.1:0".into(),
        "--maxpeers".into(),
        "3".into(),
    ]);
    rows.push(Row {
        case: "5 connections from 127.0.0.1 with maxpeers 3".into(),
        dcrd: key(&same_host_burst(capped.p2p.parse().unwrap(), 5)).to_string(),
        ours: capped_addr.map_or("node did not listen".into(), |a| {
            key(&same_host_burst(a, 5)).to_string()
        }),
    });
    let table = table_of(&rows, "dcrpeer node --listen");
    print_and_assert_alike(&table, &rows, started);
}

/// dcrd keeps a few outbound peers able to mix (`OnVersion`): an outbound
/// peer below protocol 10 is refused while fewer than `min(3, target)`
/// outbound peers are at 10 or later and the new one would leave too few
/// places, where the target is `min(8, --maxpeers)`. With `--maxpeers 2`
/// that refuses every version 9 outbound peer; with the default it keeps
/// the first. `dcrpeer node --connect` beside dcrd's `addnode`.
#[test]
#[ignore = "needs a dcrd binary in DCRD_BIN"]
fn dcrd_and_node_want_mix_capable_outbound_alike() {
    let started = Instant::now();
    let bin = dcrd_bin();
    let mut rows = Vec::new();
    for maxpeers in [2usize, 125] {
        let dcrd = Dcrd::start(&bin, "mixcap", &[format!("--maxpeers={maxpeers}")]);
        let old = [0, 1].map(|_| RawNode::start_at(ServiceFlags::NODE_NETWORK, false, 9));
        dcrd.call("addnode", &format!(r#"["{}", "add"]"#, old[0].addr));
        let (_node, _, _lines) = start_node(&[
            "--maxpeers".into(),
            maxpeers.to_string(),
            "--connect".into(),
            old[1].addr.to_string(),
        ]);
        rows.push(Row {
            case: format!("a version 9 persistent peer with maxpeers {maxpeers}"),
            dcrd: kept(old[0].first().as_ref()),
            ours: kept(old[1].first().as_ref()),
        });
    }
    let table = table_of(&rows, "dcrpeer node --connect");
    print_and_assert_alike(&table, &rows, started);
}

/// A local address that is not loopback (the machine's own interface
/// address), from which connections to a local server count as another
/// host's; `None` when the machine has none.
fn non_loopback_v4() -> Option<Ipv4Addr> {
    let s = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    s.connect("192.0.2.1:9")
        .or_else(|_| s.connect("8.8.8.8:53"))
        .ok()?;
    match s.local_addr().ok()?.ip() {
        IpAddr::V4(ip) if !ip.is_loopback() && !ip.is_unspecified() => Some(ip),
        _ => None,
    }
}

/// Opens `n` connections from `from` to `to`, each completing its
/// handshake: three at once (dcrd's rate limiter allows a burst of 3 per
/// host), then one every 5.5 s (it refills one every 5 s), all held to
/// the end: how many are up then.
fn one_host_over_time(to: SocketAddr, from: Ipv4Addr, n: usize) -> String {
    let mut clients = Vec::new();
    for i in 0..n {
        if i >= 3 {
            std::thread::sleep(Duration::from_millis(5500));
        }
        if let Ok(c) = Client::open(NET, to, from, pver::CURRENT) {
            clients.push(c);
        }
    }
    std::thread::sleep(Duration::from_secs(1));
    let up = clients
        .iter_mut()
        .map(|c| {
            let _ = c.ask(&[], QUIET);
            !c.closed
        })
        .filter(|up| *up)
        .count();
    format!("{up} of {n} up")
}

/// `--maxsameip` (5) holds connections from one host that is not
/// loopback, handshaken or not: dcrd refuses the sixth. The host is the
/// machine's own interface address, which is not loopback. `dcrpeer
/// listen` and `dcrpeer node --listen` beside dcrd.
#[test]
#[ignore = "needs a dcrd binary in DCRD_BIN"]
fn dcrd_and_ours_hold_one_remote_host_to_maxsameip_alike() {
    let started = Instant::now();
    let Some(ext) = non_loopback_v4() else {
        panic!("this test needs a non-loopback IPv4 address on the machine");
    };
    let bin = dcrd_bin();
    let dcrd = Dcrd::start(&bin, "samehost", &[]);
    let (listen, listen_addr, _lines) = start_listen_with(&[]);
    let _listen = Killed(listen);
    let (_node, node_addr, _node_lines) = start_node(&[
        "--listen".into(),
        "127.0.0.1:0".into(),
        "--target".into(),
        "0".into(),
    ]);
    let dcrd_addr: SocketAddr = dcrd.p2p.parse().unwrap();
    let listen_addr: SocketAddr = listen_addr.parse().unwrap();
    let node_addr = node_addr.expect("node listens");
    let n = 6;
    let [d, l, o] = [dcrd_addr, listen_addr, node_addr]
        .map(|to| std::thread::spawn(move || one_host_over_time(to, ext, n)));
    let dcrd_row = d.join().unwrap();
    let rows = vec![
        Row {
            case: format!("{n} connections from {ext} over 17 s (maxsameip 5; listen)"),
            dcrd: dcrd_row.clone(),
            ours: l.join().unwrap(),
        },
        Row {
            case: format!("{n} connections from {ext} over 17 s (maxsameip 5; node --listen)"),
            dcrd: dcrd_row,
            ours: o.join().unwrap(),
        },
    ];
    let table = table_of(&rows, "dcrpeer");
    print_and_assert_alike(&table, &rows, started);
}
