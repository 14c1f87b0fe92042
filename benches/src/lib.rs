//! Data for the benchmarks: the corpus's real blocks, a synthetic
//! full-size block made of real transactions, and one representative
//! message per command. Without the corpus, built stand-ins are used and
//! the benches say so.

use std::path::PathBuf;

pub mod floors;
pub mod spv;

/// Criterion timing by the process's CPU time (every thread) instead of
/// wall time: the work done, however busy the machine, as `dcrpeer bench
/// --clock cpu` times it (`dcr_node::bench::process_cpu_time`).
pub struct ProcessCpuTime;

impl criterion::measurement::Measurement for ProcessCpuTime {
    type Intermediate = std::time::Duration;
    type Value = std::time::Duration;

    fn start(&self) -> Self::Intermediate {
        dcr_node::bench::process_cpu_time()
    }

    fn end(&self, start: Self::Intermediate) -> Self::Value {
        dcr_node::bench::process_cpu_time().saturating_sub(start)
    }

    fn add(&self, a: &Self::Value, b: &Self::Value) -> Self::Value {
        *a + *b
    }

    fn zero(&self) -> Self::Value {
        std::time::Duration::ZERO
    }

    fn to_f64(&self, value: &Self::Value) -> f64 {
        value.as_nanos() as f64
    }

    fn formatter(&self) -> &dyn criterion::measurement::ValueFormatter {
        // Nanoseconds, as wall time's.
        static WALL: criterion::measurement::WallTime = criterion::measurement::WallTime;
        criterion::measurement::Measurement::formatter(&WALL)
    }
}

use dcr_wire::{pver, Block, BlockHeader, Command, Message, Payload, Tx};

/// Resident memory of the process, from /proc (bytes; 0 elsewhere).
pub fn rss() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// The corpus folder, if present (`$DCR_TESTDATA` or `../shared/testdata`).
pub fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("DCR_TESTDATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/testdata"));
    dir.join("wire").is_dir().then_some(dir)
}

/// The real blocks: the 169-block test chain and mainnet block 432100
/// (empty without the corpus).
pub fn real_blocks() -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let Some(dir) = corpus() else {
        eprintln!("benches: corpus not found, real-block benches skipped");
        return (Vec::new(), Vec::new());
    };
    let read =
        |f: &str| dcr_tests::read_block_file(&dir.join("wire/blocks").join(f)).unwrap_or_default();
    (read("chain-0-168.bin"), read("mainnet-432100.bin"))
}

/// An `inv` of 1000 transaction vectors, as the peer and capture benches
/// send it.
pub fn inv_of_1000() -> Message<'static> {
    Message::Inv(dcr_wire::Inv {
        inv_list: (0..1000u32)
            .map(|n| dcr_wire::InvVect {
                inv_type: dcr_wire::InvType::TX,
                hash: dcr_wire::Hash([n as u8; 32]),
            })
            .collect(),
    })
}

/// A block of about `target` bytes made of the real blocks' transactions
/// replicated (valid framing and structure; not a valid block by consensus):
/// `dcrpeer bench --builtin`'s synthetic block, built by the same function
/// from the same blocks (mainnet's first).
pub fn synthetic_block(target: usize) -> Vec<u8> {
    let (chain, mainnet) = real_blocks();
    let sources: Vec<Vec<u8>> = if chain.is_empty() {
        dcr_benches_fallback_chain()
    } else {
        mainnet.into_iter().chain(chain).collect()
    };
    dcr_node::bench::synthetic_block(&sources, target)
}

fn dcr_benches_fallback_chain() -> Vec<Vec<u8>> {
    // A few structurally valid blocks with one transaction each.
    let tx = Tx {
        version: 1,
        outputs: vec![dcr_wire::TxOut {
            value: 1,
            version: 0,
            pk_script: std::borrow::Cow::Owned(vec![0x76; 25]),
        }],
        ..Tx::default()
    };
    let block = Block::new(BlockHeader::default(), &[tx], &[]);
    let mut out = Vec::new();
    block.encode(&mut out, pver::CURRENT).expect("valid");
    vec![out]
}

/// One representative payload per command: the largest valid corpus
/// record at the newest version that carries the command.
pub fn representative_messages() -> Vec<(Command, u32, Vec<u8>)> {
    let Some(dir) = corpus() else {
        eprintln!("benches: corpus not found, per-message benches skipped");
        return Vec::new();
    };
    // Keyed by name for a stable, alphabetical bench order.
    let mut best: std::collections::BTreeMap<&'static str, (Command, u32, Vec<u8>)> =
        Default::default();
    for m in dcr_tests::valid_messages(&dir) {
        let better = best
            .get(m.command.as_str())
            .is_none_or(|(_, pv, p)| m.pver > *pv || (m.pver == *pv && m.payload.len() > p.len()));
        if better {
            best.insert(m.command.as_str(), (m.command, m.pver, m.payload));
        }
    }
    best.into_values().collect()
}

/// Decodes and re-encodes `payload` once, as a sanity check for the benches.
pub fn round_trips(command: Command, pv: u32, payload: &[u8]) -> bool {
    let Ok(m) = Message::decode(command, payload, pv) else {
        return false;
    };
    let mut out = Vec::with_capacity(payload.len());
    m.encode(&mut out, pv).is_ok() && out == payload
}
