//! Shared helpers for the workspace-level tests: finding the conformance
//! corpus and reading its files.

use std::path::PathBuf;

/// The corpus folder (the one holding `wire/`): `$DCR_TESTDATA` when set,
/// else `../shared/testdata` beside the workspace.
///
/// Returns `None` when it is missing, after printing why. It panics
/// instead when `CI` is set (to anything but `false` or `0`), so CI can
/// never pass by skipping, and when `$DCR_TESTDATA` names a folder without
/// the corpus, which is a mistake rather than a machine without it.
pub fn corpus_dir() -> Option<PathBuf> {
    let given = std::env::var_os("DCR_TESTDATA");
    let dir = match &given {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/testdata"),
    };
    if dir.join("wire").is_dir() {
        return Some(dir);
    }
    let ci = std::env::var("CI").is_ok_and(|v| !matches!(v.as_str(), "" | "false" | "0"));
    assert!(
        !ci,
        "conformance corpus not found at {} (CI is set: a missing corpus is a failure)",
        dir.display()
    );
    assert!(
        given.is_none(),
        "DCR_TESTDATA={} holds no wire/ folder",
        dir.display()
    );
    eprintln!(
        "SKIPPED: conformance corpus not found at {} (set DCR_TESTDATA)",
        dir.display()
    );
    None
}

/// Reads the length-prefixed block records of a `wire/blocks/*.bin` file:
/// `[u32 little-endian length][serialized block]`, repeated.
pub fn read_block_file(path: &std::path::Path) -> std::io::Result<Vec<Vec<u8>>> {
    let data = std::fs::read(path)?;
    let mut blocks = Vec::new();
    let mut rest = &data[..];
    while !rest.is_empty() {
        let bad = || std::io::Error::new(std::io::ErrorKind::InvalidData, "truncated block record");
        let len_bytes: [u8; 4] = rest
            .get(..4)
            .ok_or_else(bad)?
            .try_into()
            .map_err(|_| bad())?;
        let len = u32::from_le_bytes(len_bytes) as usize;
        let block = rest.get(4..4 + len).ok_or_else(bad)?;
        blocks.push(block.to_vec());
        rest = &rest[4 + len..];
    }
    Ok(blocks)
}

/// A valid record of `wire/messages.jsonl`, its hex decoded.
#[derive(Debug, Clone)]
pub struct ValidMessage {
    pub command: dcr_wire::Command,
    pub pver: u32,
    pub net: dcr_wire::CurrencyNet,
    pub payload: Vec<u8>,
    pub frame: Vec<u8>,
    /// The reference's fields, as it printed them.
    pub fields: serde_json::Value,
}

/// Every valid record of `wire/messages.jsonl` under the corpus folder
/// `dir`. A record that does not read is a panic: the corpus is fixed
/// input, and a broken one must not be skipped quietly.
pub fn valid_messages(dir: &std::path::Path) -> Vec<ValidMessage> {
    read_jsonl(&dir.join("wire/messages.jsonl"))
        .into_iter()
        .filter(|r| r["valid"].as_bool() == Some(true))
        .map(|r| {
            let text = |k: &str| {
                r[k].as_str()
                    .unwrap_or_else(|| panic!("record without {k}: {r}"))
            };
            let hex = |k: &str| hex::decode(text(k)).unwrap_or_else(|e| panic!("{k}: {e}: {r}"));
            ValidMessage {
                command: dcr_wire::Command::from_name(text("command").as_bytes())
                    .unwrap_or_else(|| panic!("unknown command: {r}")),
                pver: r["pver"]
                    .as_u64()
                    .and_then(|v| u32::try_from(v).ok())
                    .unwrap_or_else(|| panic!("record without pver: {r}")),
                net: dcr_wire::CurrencyNet::from_name(text("net"))
                    .unwrap_or_else(|| panic!("unknown net: {r}")),
                payload: hex("payload_hex"),
                frame: hex("frame_hex"),
                fields: r["fields"].clone(),
            }
        })
        .collect()
}

/// Reads a JSON-lines file of the corpus.
pub fn read_jsonl(path: &std::path::Path) -> Vec<serde_json::Value> {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    text.lines()
        .enumerate()
        .map(|(n, l)| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("{}:{}: {e}", path.display(), n + 1))
        })
        .collect()
}

/// Tallies checks and keeps the first failures of each group for the
/// report.
#[derive(Default)]
pub struct Tally {
    pub checked: usize,
    pub passed: usize,
    failures: std::collections::BTreeMap<String, Vec<String>>,
    failed_per_group: std::collections::BTreeMap<String, usize>,
}

impl Tally {
    /// Records one check of `group`: `Ok` passes, `Err(why)` fails.
    pub fn record(&mut self, group: &str, result: Result<(), String>) {
        self.checked += 1;
        match result {
            Ok(()) => self.passed += 1,
            Err(why) => {
                *self.failed_per_group.entry(group.to_string()).or_default() += 1;
                let list = self.failures.entry(group.to_string()).or_default();
                if list.len() < 3 {
                    list.push(why);
                }
            }
        }
    }

    /// Prints `name: N checked, M passed` and the failures, then asserts
    /// that everything passed.
    pub fn finish(self, name: &str) {
        // Written to the stderr handle directly so the counts show in the
        // test output even when the test passes (libtest captures only the
        // print macros).
        use std::io::Write;
        let mut report = format!("{name}: {} checked, {} passed\n", self.checked, self.passed);
        for (group, n) in &self.failed_per_group {
            report += &format!("  {group}: {n} failed\n");
            for why in &self.failures[group] {
                report += &format!("    {why}\n");
            }
        }
        let _ = std::io::stderr().write_all(report.as_bytes());
        assert!(self.checked > 0, "{name}: nothing checked");
        assert_eq!(
            self.passed,
            self.checked,
            "{name}: {} failed",
            self.checked - self.passed
        );
    }
}

/// Whether `ours` is the RFC 3339 form of the Unix seconds `theirs`: the
/// corpus writes times as seconds, dcr-wire's serde as RFC 3339 (seconds
/// past year 9999 stay numbers in both).
fn same_time(path: &str, ours: &serde_json::Value, theirs: &serde_json::Value) -> bool {
    let (Some(text), Some(secs)) = (ours.as_str(), theirs.as_u64()) else {
        return false;
    };
    path.ends_with(".Timestamp")
        && humantime::parse_rfc3339(text).is_ok_and(|t| {
            t.duration_since(std::time::UNIX_EPOCH)
                .is_ok_and(|d| d.as_secs() == secs)
        })
}

/// Describes where two JSON values first differ (for failure reports). A
/// time (a `Timestamp` field) matches when `ours` is the RFC 3339 form of
/// `theirs`' Unix seconds.
pub fn json_diff(
    path: &str,
    ours: &serde_json::Value,
    theirs: &serde_json::Value,
) -> Option<String> {
    use serde_json::Value;
    match (ours, theirs) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, bv) in b {
                match a.get(k) {
                    None => return Some(format!("{path}.{k}: missing (expected {bv})")),
                    Some(av) => {
                        if let Some(d) = json_diff(&format!("{path}.{k}"), av, bv) {
                            return Some(d);
                        }
                    }
                }
            }
            a.keys()
                .find(|k| !b.contains_key(*k))
                .map(|k| format!("{path}.{k}: unexpected key"))
        }
        (Value::Array(a), Value::Array(b)) => {
            if a.len() != b.len() {
                return Some(format!("{path}: {} items, expected {}", a.len(), b.len()));
            }
            a.iter()
                .zip(b)
                .enumerate()
                .find_map(|(i, (x, y))| json_diff(&format!("{path}[{i}]"), x, y))
        }
        _ if ours == theirs || same_time(path, ours, theirs) => None,
        _ => {
            let show = |v: &Value| {
                let s = v.to_string();
                if s.len() > 80 {
                    format!("{}...", &s[..80])
                } else {
                    s
                }
            };
            Some(format!(
                "{path}: got {}, expected {}",
                show(ours),
                show(theirs)
            ))
        }
    }
}

/// Prints a line to the test output even when the test passes.
pub fn report(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// A global allocator that counts live heap bytes and allocator calls, for
/// tests, benches and `dcrpeer bench`, which bound or compare memory.
/// Install it in the binary that measures:
/// `#[global_allocator] static GLOBAL: dcr_tests::Counting = dcr_tests::Counting;`
/// then read [`live`] and [`allocations`].
pub struct Counting;

static LIVE: std::sync::atomic::AtomicIsize = std::sync::atomic::AtomicIsize::new(0);
static ALLOCATIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Allocations made so far in the whole process, as counted by
/// [`Counting`]: every `alloc` and every `realloc` (which may move the
/// block), not `dealloc` (0 where it is not the global allocator).
pub fn allocations() -> u64 {
    ALLOCATIONS.load(std::sync::atomic::Ordering::Relaxed)
}

/// Heap bytes live now, as counted by [`Counting`] (0 where it is not the
/// global allocator).
pub fn live() -> isize {
    LIVE.load(std::sync::atomic::Ordering::Relaxed)
}

// SAFETY: every call is forwarded unchanged to the system allocator; only
// a counter is updated beside it.
unsafe impl std::alloc::GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        LIVE.fetch_add(layout.size() as isize, std::sync::atomic::Ordering::Relaxed);
        // SAFETY: the caller's layout is passed on unchanged.
        unsafe { std::alloc::System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        LIVE.fetch_sub(layout.size() as isize, std::sync::atomic::Ordering::Relaxed);
        // SAFETY: `ptr` was allocated by this allocator with this layout.
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            std::sync::atomic::Ordering::Relaxed,
        );
        // SAFETY: as for `GlobalAlloc::realloc`, forwarded unchanged.
        unsafe { std::alloc::System.realloc(ptr, layout, new_size) }
    }
}

/// One message of every command (all 41), each with its fields filled
/// (times, hashes, byte fields, nested lists) and encodable at every
/// protocol version where its command exists: for tests that go through
/// every message without the corpus.
pub fn sample_messages() -> Vec<dcr_wire::Message<'static>> {
    use dcr_wire::*;
    use std::borrow::Cow;
    let h = |b: u8| Hash([b; 32]);
    let hs = |b: u8| vec![h(b), h(b + 1)];
    let bytes = |b: u8, n: usize| Cow::Owned(vec![b; n]);
    let services = ServiceFlags::NODE_NETWORK | ServiceFlags::NODE_CF;
    let addr = |last: u8| {
        NetAddress::new([10, 0, 0, last].into(), 9108, services).with_timestamp(1_700_000_000)
    };
    let mut tx = Tx::new();
    tx.inputs
        .push(TxIn::new(OutPoint::new(h(9), 1, 0), 5_000, bytes(0x51, 3)));
    tx.outputs.push(TxOut::new(4_000, bytes(0x76, 25)));
    tx.lock_time = 7;
    tx.expiry = 1_000;
    let header = BlockHeader {
        version: 9,
        prev_block: h(1),
        merkle_root: h(2),
        stake_root: h(3),
        vote_bits: 1,
        final_state: [4; 6],
        voters: 5,
        fresh_stake: 2,
        revocations: 1,
        pool_size: 40_000,
        bits: 0x1b01_ffff,
        sbits: 20_000_000_000,
        height: 432_100,
        size: 5_000,
        timestamp: 1_581_000_000,
        nonce: 77,
        extra_data: [6; 32],
        stake_version: 8,
    };
    let cfilter_v2 = CFilterV2 {
        block_hash: h(5),
        data: bytes(0xaa, 10),
        proof_index: 3,
        proof_hashes: hs(6),
    };
    let session = |b: u8| SessionHeader {
        signature: Cow::Owned([b; 64]),
        identity: Cow::Owned([b + 1; 33]),
        session_id: Cow::Owned([b + 2; 32]),
        run: 1,
    };
    let mix_msgs = [[0x11; msg::MIX_MSG_SIZE], [0x22; msg::MIX_MSG_SIZE]];
    let messages = vec![
        Message::Version({
            let mut v = Version::new(
                NetAddress::new([127, 0, 0, 1].into(), 9108, services),
                NetAddress::new("2001:db8::1".parse().unwrap(), 19108, ServiceFlags::NONE),
                0x0123_4567_89ab_cdef,
                432_100,
            );
            v.timestamp = 1_700_000_000;
            v.services = services;
            v
        }),
        Message::VerAck(VerAck),
        Message::GetAddr(GetAddr),
        Message::Addr(Addr {
            addr_list: vec![addr(1), addr(2)],
        }),
        Message::AddrV2(AddrV2 {
            addr_list: vec![
                NetAddressV2::new([10, 0, 0, 3].into(), 9108, services, 1_700_000_000),
                NetAddressV2 {
                    host: NetAddressV2Host::TorV3([0x5a; 32]),
                    ..NetAddressV2::new([0, 0, 0, 0].into(), 9108, services, 1_700_000_001)
                },
            ],
        }),
        Message::GetBlocks(GetBlocks {
            protocol_version: 12,
            block_locator_hashes: hs(1),
            hash_stop: h(3),
        }),
        Message::Inv(Inv {
            inv_list: vec![InvVect {
                inv_type: InvType::BLOCK,
                hash: h(1),
            }],
        }),
        Message::GetData(GetData {
            inv_list: vec![InvVect {
                inv_type: InvType::TX,
                hash: h(2),
            }],
        }),
        Message::NotFound(NotFound {
            inv_list: vec![InvVect {
                inv_type: InvType::MIX,
                hash: h(3),
            }],
        }),
        Message::Block(Block::new(header, std::slice::from_ref(&tx), &[tx.clone()])),
        Message::Tx(tx.clone()),
        Message::GetHeaders(GetHeaders {
            protocol_version: 12,
            block_locator_hashes: hs(4),
            hash_stop: Hash::ZERO,
        }),
        Message::Headers(Headers {
            headers: vec![header, header],
        }),
        Message::Ping(Ping {
            nonce: u64::MAX - 1,
        }),
        Message::Pong(Pong {
            nonce: u64::MAX - 1,
        }),
        Message::MemPool(MemPool),
        Message::MiningState(MiningState {
            version: 1,
            height: 432_100,
            block_hashes: hs(1),
            vote_hashes: hs(7),
        }),
        Message::GetMiningState(GetMiningState),
        Message::Reject(Reject {
            cmd: "block".into(),
            code: RejectCode::INVALID,
            reason: "bad votes".into(),
            hash: h(8),
        }),
        Message::SendHeaders(SendHeaders),
        Message::FeeFilter(FeeFilter { min_fee: 10_000 }),
        Message::GetCFilter(GetCFilter {
            block_hash: h(1),
            filter_type: FilterType::EXTENDED,
        }),
        Message::GetCFHeaders(GetCFHeaders {
            block_locator_hashes: hs(2),
            hash_stop: h(4),
            filter_type: FilterType::REGULAR,
        }),
        Message::GetCFTypes(GetCFTypes),
        Message::CFilter(CFilter {
            block_hash: h(2),
            filter_type: FilterType::REGULAR,
            data: bytes(0xbb, 12),
        }),
        Message::CFHeaders(CFHeaders {
            stop_hash: h(3),
            filter_type: FilterType::REGULAR,
            header_hashes: hs(9),
        }),
        Message::CFTypes(CFTypes {
            supported_filters: Cow::Owned(vec![0, 1]),
        }),
        Message::GetCFilterV2(GetCFilterV2 { block_hash: h(4) }),
        Message::CFilterV2(cfilter_v2.clone()),
        Message::GetCFsV2(GetCFsV2 {
            start_hash: h(1),
            end_hash: h(2),
        }),
        Message::CFiltersV2(CFiltersV2 {
            cfilters: vec![cfilter_v2.clone(), cfilter_v2],
        }),
        Message::GetInitState(GetInitState {
            types: vec!["headblocks".into(), "votes".into()],
        }),
        Message::InitState(InitState {
            block_hashes: hs(1),
            vote_hashes: hs(3),
            tspend_hashes: hs(5),
        }),
        Message::MixPairReq(MixPairReq {
            signature: Cow::Owned([1; 64]),
            identity: Cow::Owned([2; 33]),
            expiry: 432_200,
            mix_amount: 100_000_000,
            script_class: "P2PKH-secp256k1-v0".into(),
            tx_version: 1,
            lock_time: 0,
            message_count: 2,
            input_value: 250_000_000,
            utxos: vec![MixPairReqUtxo {
                out_point: OutPoint::new(h(9), 0, 0),
                script: Cow::Owned(vec![]),
                pub_key: bytes(3, 33),
                signature: bytes(4, 64),
                opcode: 0xc0,
            }],
            change: Some(TxOut::new(49_000_000, bytes(0x76, 25))),
            flags: 0,
            pairing_flags: 0,
        }),
        Message::MixKeyExchange(MixKeyExchange {
            signature: Cow::Owned([1; 64]),
            identity: Cow::Owned([2; 33]),
            session_id: Cow::Owned([3; 32]),
            epoch: 1_700_000_000,
            run: 0,
            pos: 1,
            ecdh: Cow::Owned([4; 33]),
            pqpk: bytes(5, msg::PQ_PUBLIC_KEY_SIZE),
            commitment: Cow::Owned([6; 32]),
            seen_prs: hs(7),
        }),
        Message::MixCiphertexts(MixCiphertexts {
            header: session(1),
            ciphertexts: vec![bytes(8, msg::CIPHERTEXT_SIZE)],
            seen_key_exchanges: vec![h(9)],
        }),
        Message::MixSlotReserve(MixSlotReserve {
            header: session(2),
            dc_mix: vec![
                vec![bytes(1, 32), bytes(2, 32)],
                vec![bytes(3, 32), bytes(4, 32)],
            ],
            seen_ciphertexts: hs(3),
        }),
        Message::MixFactoredPoly(MixFactoredPoly {
            header: session(3),
            roots: vec![bytes(5, 32), bytes(6, 20)],
            seen_slot_reserves: hs(4),
        }),
        Message::MixDCNet(MixDCNet {
            header: session(4),
            dc_net: MixVects::new(&[mix_msgs.to_vec(), mix_msgs.to_vec()])
                .expect("rows of one length"),
            seen_slot_reserves: hs(5),
        }),
        Message::MixConfirm(MixConfirm {
            header: session(5),
            mix: tx,
            seen_dc_nets: hs(6),
        }),
        Message::MixSecrets(MixSecrets {
            header: session(6),
            seed: Cow::Owned([7; 32]),
            slot_reserve_msgs: vec![bytes(8, 32)],
            dc_net_msgs: MixVect::new(&mix_msgs),
            seen_secrets: hs(8),
        }),
    ];
    assert_eq!(messages.len(), Command::ALL.len());
    messages
}
