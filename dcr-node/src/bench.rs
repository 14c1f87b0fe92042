//! The work and the data of `dcrpeer bench`, shared with the criterion
//! benches (`benches/benches/codec.rs`, group `levels`) so both time the
//! very same code.
//!
//! A [`DataSet`] is messages in memory: their payloads, commands and
//! protocol versions, and for framed input their frame checksums. It comes
//! from a user's file ([`load`]: a frame capture, a stream of frames, hex
//! lines such as dcrd's `getblock HASH false` answers, length-prefixed
//! block records, one raw block, or a folder of those) or from the corpus
//! ([`builtin`]: the 169-block test chain, mainnet block 432100 and a
//! synthetic 1.3 MB block). [`work`] does one message's work at a
//! [`Level`].

use std::collections::HashMap;
use std::hint::black_box;
use std::path::{Path, PathBuf};

use dcr_peer::capture::{self, Records};
use dcr_wire::merkle::check_block_roots_with;
use dcr_wire::{
    checksum, pver, split_frame, Block, BlockHeader, Command, CurrencyNet, FrameHeader, Message,
    MessageView, Payload, Split, Tx, MESSAGE_HEADER_SIZE,
};

use crate::chain::{block_records, load_block_file, TruncatedRecord};

/// How much of a node's work on a message is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    /// Decoded into views that borrow from the payload
    /// ([`dcr_wire::MessageView`]): no copy of scripts or other byte
    /// fields, and the lists of `inv`, `getdata`, `notfound` and
    /// `headers` read in place, so a block, a transaction or one of those
    /// lists allocates nothing.
    Views,
    /// Decoded, then every borrowed field copied, so the message outlives
    /// its bytes (`Message::into_owned`).
    Owned,
    /// What a node checks before it trusts a message: the frame checksum
    /// (framed input), the decode, and the hashes: for a block every
    /// transaction's prefix, witness and full hash, both merkle roots
    /// checked against the header under either rule (dcrd's
    /// `checkMerkleRoots`), and the block hash, which is also the version 1
    /// proof-of-work hash; for headers each header's; for a transaction its
    /// full hash.
    Full,
}

impl Level {
    /// Every level, cheapest first.
    pub const ALL: [Level; 3] = [Level::Views, Level::Owned, Level::Full];

    /// "views", "owned", "full".
    pub const fn as_str(self) -> &'static str {
        match self {
            Level::Views => "views",
            Level::Owned => "owned",
            Level::Full => "full",
        }
    }
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One message of a [`DataSet`]: where its payload is, and how to decode it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Msg {
    /// Its command.
    pub command: Command,
    /// The protocol version to decode it at.
    pub pver: u32,
    /// Its payload: `start..start + len` of [`DataSet::data`].
    pub start: usize,
    /// Payload bytes.
    pub len: usize,
    /// The frame's checksum, for framed input (checked at [`Level::Full`]).
    pub checksum: Option<[u8; 4]>,
}

/// Messages to benchmark, held in one buffer.
#[derive(Debug, Clone, Default)]
pub struct DataSet {
    /// Its name in reports: the file's or folder's, or the built-in set's.
    pub name: String,
    /// What it was read from and how (for the report).
    pub source: String,
    /// The payloads, back to back.
    pub data: Vec<u8>,
    /// The messages, in input order.
    pub msgs: Vec<Msg>,
    /// What was noticed while reading that is not an error: a torn capture
    /// tail, frames left out because they do not decode.
    pub warnings: Vec<String>,
}

impl DataSet {
    fn new(name: impl Into<String>, source: impl Into<String>) -> DataSet {
        DataSet {
            name: name.into(),
            source: source.into(),
            ..DataSet::default()
        }
    }

    /// A message's payload.
    pub fn payload(&self, m: &Msg) -> &[u8] {
        &self.data[m.start..m.start + m.len]
    }

    /// Adds a message after checking that it does [`Level::Full`]'s work
    /// without an error (so a timed run never meets one).
    fn push(
        &mut self,
        command: Command,
        pver: u32,
        payload: &[u8],
        checksum: Option<[u8; 4]>,
    ) -> Result<(), InputError> {
        let msg = Msg {
            command,
            pver,
            start: self.data.len(),
            len: payload.len(),
            checksum,
        };
        work(Level::Full, &msg, payload).map_err(InputError::Checks)?;
        self.data.extend_from_slice(payload);
        self.msgs.push(msg);
        Ok(())
    }

    /// Payload bytes of all messages.
    pub fn bytes(&self) -> usize {
        self.msgs.iter().map(|m| m.len).sum()
    }

    /// The messages by command, commands in order of first appearance:
    /// (command, indexes into [`DataSet::msgs`]).
    pub fn by_command(&self) -> Vec<(Command, Vec<usize>)> {
        let mut order: Vec<(Command, Vec<usize>)> = Vec::new();
        let mut at: HashMap<Command, usize> = HashMap::new();
        for (i, m) in self.msgs.iter().enumerate() {
            let slot = *at.entry(m.command).or_insert_with(|| {
                order.push((m.command, Vec::new()));
                order.len() - 1
            });
            order[slot].1.push(i);
        }
        order
    }
}

/// Why a message's work failed (only while a data set is read: its
/// messages are checked before any is timed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkError {
    /// The payload does not decode.
    #[error("does not decode")]
    Decode(#[source] dcr_wire::Error),
    /// The frame's checksum does not match its payload.
    #[error("frame checksum {expected:02x?} does not match the payload's {actual:02x?}")]
    Checksum {
        /// The frame's.
        expected: [u8; 4],
        /// The payload's.
        actual: [u8; 4],
    },
}

/// What [`work`] found, beyond the decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Checked {
    /// Hashes computed.
    pub hashes: usize,
    /// For a block at [`Level::Full`], whether its header's roots match its
    /// transactions.
    pub roots_match: Option<bool>,
}

/// One message's work at `level`. Results go through [`black_box`], so
/// none of the work is optimised away.
pub fn work(level: Level, msg: &Msg, payload: &[u8]) -> Result<Checked, WorkError> {
    let decode = || Message::decode(msg.command, payload, msg.pver).map_err(WorkError::Decode);
    match level {
        Level::Views => {
            let view = MessageView::decode(msg.command, payload, msg.pver);
            black_box(view.map_err(WorkError::Decode)?);
            Ok(Checked::default())
        }
        Level::Owned => {
            black_box(decode()?.into_owned());
            Ok(Checked::default())
        }
        Level::Full => {
            let mut hashes = 0;
            if let Some(expected) = msg.checksum {
                let actual = checksum(payload);
                if actual != expected {
                    return Err(WorkError::Checksum { expected, actual });
                }
                hashes += 1;
            }
            let mut roots_match = None;
            match decode()? {
                Message::Block(b) => {
                    let (found, matched) = full_block(&b);
                    hashes += found;
                    roots_match = Some(matched);
                }
                Message::Headers(h) => {
                    for header in &h.headers {
                        black_box(header.block_hash());
                    }
                    hashes += h.headers.len();
                }
                Message::Tx(t) => {
                    black_box(t.full_hash());
                    hashes += 1;
                }
                other => {
                    black_box(other);
                }
            }
            Ok(Checked {
                hashes,
                roots_match,
            })
        }
    }
}

/// A block's full checks: every transaction hash (many at a time), both
/// roots, the block hash. Returns the hashes computed (prefix, witness and
/// full per transaction, and the header's) and whether the roots match.
pub fn full_block(block: &Block<'_>) -> (usize, bool) {
    let hashes = block.tx_hashes();
    let matched = check_block_roots_with(block, &hashes).is_some();
    black_box(block.header.block_hash());
    let count = 3 * (hashes.regular.len() + hashes.stake.len()) + 1;
    black_box(hashes);
    (count, matched)
}

/// Which clock times a benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Clock {
    /// Elapsed time (a monotonic clock): what criterion measures. On a
    /// machine busy with other work it counts the time they take the CPU.
    #[default]
    Wall,
    /// CPU time of the whole process, every thread (Linux's
    /// `CLOCK_PROCESS_CPUTIME_ID`): the work done, however busy the
    /// machine.
    Cpu,
}

impl Clock {
    /// "wall" or "cpu".
    pub const fn as_str(self) -> &'static str {
        match self {
            Clock::Wall => "wall",
            Clock::Cpu => "cpu",
        }
    }

    /// The clock's reading, from an arbitrary origin fixed for the process.
    pub fn now(self) -> std::time::Duration {
        match self {
            Clock::Wall => {
                static ORIGIN: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
                ORIGIN.get_or_init(std::time::Instant::now).elapsed()
            }
            Clock::Cpu => process_cpu_time(),
        }
    }
}

/// CPU time the process has used so far, every thread, in nanoseconds
/// (`clock_gettime(CLOCK_PROCESS_CPUTIME_ID)`).
pub fn process_cpu_time() -> std::time::Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
    std::time::Duration::new(
        u64::try_from(t.tv_sec).unwrap_or(0),
        u32::try_from(t.tv_nsec).unwrap_or(0),
    )
}

// ---- the built-in data -----------------------------------------------------

/// A block of about `target` bytes made of the source blocks' transactions
/// replicated (valid framing and structure; not a valid block by
/// consensus: its default header commits to nothing). The regular
/// transactions of all sources, in order, go round until the block is big
/// enough, with every fourth one a stake transaction beside it. The
/// reference's side builds the same block (`benches/go/blocks`).
pub fn synthetic_block(sources: &[Vec<u8>], target: usize) -> Vec<u8> {
    let decoded: Vec<Block<'_>> = sources
        .iter()
        .filter_map(|b| Block::from_bytes(b, pver::CURRENT).ok())
        .collect();
    let pool: Vec<Tx<'_>> = decoded.iter().flat_map(|b| b.txs.iter()).collect();
    let stake: Vec<Tx<'_>> = decoded.iter().flat_map(|b| b.stake_txs.iter()).collect();
    let mut txs = Vec::new();
    let mut stake_txs = Vec::new();
    let mut size = 180;
    let mut i = 0;
    while size < target && !pool.is_empty() {
        let t = pool[i % pool.len()].clone();
        size += t.size_as(t.ser_type);
        txs.push(t);
        if let Some(s) = stake.get(i % stake.len().max(1)) {
            if i % 4 == 0 {
                size += s.size_as(s.ser_type);
                stake_txs.push(s.clone());
            }
        }
        i += 1;
    }
    let block = Block::new(BlockHeader::default(), &txs, &stake_txs);
    let mut out = Vec::with_capacity(block.serialized_size(pver::CURRENT));
    // Built from decoded parts: encoding cannot fail (an empty pool gives
    // an empty block).
    let _ = block.encode(&mut out, pver::CURRENT);
    out
}

/// The blocks of a corpus block file (`wire/blocks/NAME` under the corpus
/// folder `dir`).
fn corpus_blocks(dir: &Path, name: &str) -> Result<Vec<Vec<u8>>, InputError> {
    Ok(load_block_file(&dir.join("wire/blocks").join(name))?)
}

/// The built-in data sets, as the criterion benches have them: the
/// 169-block chain, mainnet block 432100, and the synthetic 1.3 MB block
/// built from both (mainnet's transactions first).
pub fn builtin(dir: &Path) -> Result<Vec<DataSet>, InputError> {
    let chain = corpus_blocks(dir, "chain-0-168.bin")?;
    let mainnet = corpus_blocks(dir, "mainnet-432100.bin")?;
    let sources: Vec<Vec<u8>> = mainnet.iter().chain(&chain).cloned().collect();
    let synthetic = synthetic_block(&sources, 1_300_000);
    let from = dir.join("wire/blocks").display().to_string();
    let mut sets = Vec::new();
    for (name, source, blocks) in [
        (
            "chain-169-blocks",
            format!("{from}/chain-0-168.bin (block records)"),
            &chain[..],
        ),
        (
            "mainnet-432100",
            format!("{from}/mainnet-432100.bin (block records)"),
            &mainnet[..],
        ),
        (
            "synthetic-1.3MB",
            "a block built from both's transactions (mainnet's first)".to_string(),
            &[synthetic][..],
        ),
    ] {
        let mut set = DataSet::new(name, source);
        for (index, b) in blocks.iter().enumerate() {
            set.push(Command::Block, pver::CURRENT, b, None)
                .map_err(|e| e.at(Place::Block { set: name, index }))?;
        }
        sets.push(set);
    }
    Ok(sets)
}

// ---- reading a user's data -------------------------------------------------

/// A count of bytes that reads as English: "1 byte", "2 bytes".
fn bytes(n: usize) -> dcr_wire::ByteCount {
    dcr_wire::ByteCount(n as u64)
}

/// Where in an input an error was met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Place {
    /// A line of hex text (counted from 1).
    Line(usize),
    /// A frame of frames back to back (counted from 0) at a byte offset,
    /// with its command once its header is read.
    Frame {
        /// Its number.
        index: usize,
        /// Its first byte's offset in the file.
        offset: usize,
        /// Its header's command.
        command: Option<Command>,
    },
    /// A `[length][block]` record (counted from 0) at a byte offset.
    BlockRecord {
        /// Its number.
        index: usize,
        /// Its length field's offset in the file.
        offset: usize,
    },
    /// A record of a frame capture (counted from 0).
    CaptureRecord(usize),
    /// A frame's command (hex lines, captures).
    Command(Command),
    /// A block of a built-in data set.
    Block {
        /// The data set's name.
        set: &'static str,
        /// The block's number in it.
        index: usize,
    },
}

impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Place::Line(n) => write!(f, "line {n}"),
            Place::Frame {
                index,
                offset,
                command: None,
            } => write!(f, "frame {index} at byte {offset}"),
            Place::Frame {
                index,
                offset,
                command: Some(c),
            } => write!(f, "frame {index} at byte {offset} ({c})"),
            Place::BlockRecord { index, offset } => {
                write!(f, "block record {index} at byte {offset}")
            }
            Place::CaptureRecord(n) => write!(f, "record {n}"),
            Place::Command(c) => write!(f, "{c}"),
            Place::Block { set, index } => write!(f, "{set}: block {index}"),
        }
    }
}

/// Why a benchmark input cannot be read ([`load`], [`builtin`],
/// [`frame_header`]). The variants that say where ([`InputError::In`] a
/// file, [`InputError::At`] a place in it) carry what went wrong there as
/// their [`source`](std::error::Error::source): print the whole chain
/// (anyhow's `{:#}`), e.g. `blocks.hex: line 3: bad hex: Invalid character
/// 'z' at position 1`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// The file or folder cannot be read.
    #[error("cannot read {}", path.display())]
    Read {
        /// What was read.
        path: PathBuf,
        /// Why not.
        #[source]
        source: std::io::Error,
    },
    /// Something is wrong in this file.
    #[error("{}", path.display())]
    In {
        /// The file.
        path: PathBuf,
        /// What.
        #[source]
        source: Box<InputError>,
    },
    /// Something is wrong at this place.
    #[error("{0}")]
    At(Place, #[source] Box<InputError>),
    /// The file is empty.
    #[error("an empty file")]
    EmptyFile,
    /// A folder without a file to read.
    #[error("no files to read in this folder")]
    EmptyFolder,
    /// Nothing in it is a message.
    #[error("no messages to benchmark")]
    NoMessages,
    /// Framed input of another network than `--net`'s.
    #[error(
        "{what} of {}, not {} (give --net {})",
        found.name(),
        want.name(),
        short_name(*found)
    )]
    WrongNetwork {
        /// "frames", "a frame", "a capture".
        what: &'static str,
        /// The input's network.
        found: CurrencyNet,
        /// `--net`'s.
        want: CurrencyNet,
    },
    /// A capture record of no known network.
    #[error("an unknown network magic {0:#010x}")]
    UnknownMagic(u32),
    /// A block record cut short.
    #[error(transparent)]
    Truncated(TruncatedRecord),
    /// A corpus block file that cannot be read.
    #[error(transparent)]
    Corpus(#[from] crate::chain::LoadError),
    /// The first record's length exceeds the file: not block records.
    #[error("not block records: the first record's length ({0}) exceeds the file")]
    NotRecords(usize),
    /// A frame cut short.
    #[error("truncated: {} missing", bytes(*.0))]
    FrameCut(usize),
    /// Bytes after a line's frame.
    #[error("{} after the frame", bytes(*.0))]
    AfterFrame(usize),
    /// A frame shorter than a frame header.
    #[error("a frame of {}, shorter than its header", bytes(*.0))]
    ShortFrame(usize),
    /// A frame whose header's length is not its payload's.
    #[error("the header says {}, the payload has {}", bytes(*header), bytes(*payload))]
    FrameLength {
        /// The header's length field.
        header: usize,
        /// The payload's bytes.
        payload: usize,
    },
    /// A frame's header or framing is bad.
    #[error("a bad frame")]
    Frame(#[source] dcr_wire::Error),
    /// Not a block.
    #[error("not a block")]
    NotBlock(#[source] dcr_wire::Error),
    /// The message does not pass [`Level::Full`]'s work.
    #[error("fails its checks")]
    Checks(#[source] WorkError),
    /// None of the formats: what each said.
    #[error(
        "{}; not a frame capture, frames, hex lines or one raw block either \
         (as a raw block: {raw})",
        chain_text(&**records)
    )]
    Unrecognised {
        /// Why not block records.
        records: Box<InputError>,
        /// Why not one raw block.
        raw: dcr_wire::Error,
    },
    /// Text that is not UTF-8.
    #[error("text that is not UTF-8")]
    NotUtf8,
    /// A line that is not hex.
    #[error("bad hex")]
    Hex(#[source] hex::FromHexError),
    /// A line that starts as JSON and is not.
    #[error("not JSON")]
    Json(#[source] serde_json::Error),
    /// A JSON-RPC reply with an error (its JSON).
    #[error("a JSON-RPC error: {0}")]
    Rpc(String),
    /// A JSON-RPC reply without a result string.
    #[error("JSON without a \"result\" string")]
    NoResult,
    /// Text without a line of hex.
    #[error("no hex lines")]
    NoHexLines,
    /// The capture is corrupt.
    #[error(transparent)]
    Capture(#[from] capture::CaptureError),
}

impl InputError {
    /// This error, met at `place`.
    fn at(self, place: Place) -> InputError {
        InputError::At(place, Box::new(self))
    }

    /// This error, met in `path`.
    fn in_file(self, path: &Path) -> InputError {
        InputError::In {
            path: path.to_path_buf(),
            source: Box::new(self),
        }
    }
}

fn read_file(path: &Path) -> Result<Vec<u8>, InputError> {
    std::fs::read(path).map_err(|source| InputError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// Reads `path`, a file or a folder of files, into one data set. Framed
/// input (a capture, a stream of frames, frames in hex) must be of `net`.
///
/// Recognised, in this order: a frame capture (by its magic,
/// `docs/CAPTURE.md`); frames back to back (the file starts with a network
/// magic); text: one block or frame per line as hex (dcrd's `getblock HASH
/// false` answer, bare, quoted, or as the JSON-RPC reply object); one raw
/// serialized block; `[u32 little-endian length][block]` records (the
/// corpus's `.bin` files, `dcrpeer listen --chain`'s). A folder: every
/// file in it (not hidden, not in subfolders), in name order.
pub fn load(path: &Path, net: CurrencyNet) -> Result<DataSet, InputError> {
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let unreadable = |source| InputError::Read {
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(unreadable)?;
    let mut set = DataSet::new(name, path.display().to_string());
    if meta.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(unreadable)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.is_file()
                    && !p
                        .file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            })
            .collect();
        files.sort();
        let mut kinds = Vec::new();
        for f in &files {
            let data = read_file(f)?;
            let kind = read_into(&mut set, &data, net).map_err(|e| e.in_file(f))?;
            if !kinds.contains(&kind) {
                kinds.push(kind);
            }
        }
        if set.msgs.is_empty() {
            return Err(InputError::EmptyFolder.in_file(path));
        }
        set.source = format!(
            "{} ({} files: {})",
            path.display(),
            files.len(),
            kinds.join(", ")
        );
    } else {
        let data = read_file(path)?;
        let kind = read_into(&mut set, &data, net).map_err(|e| e.in_file(path))?;
        set.source = format!("{} ({kind})", path.display());
    }
    if set.msgs.is_empty() {
        return Err(InputError::NoMessages.in_file(path));
    }
    Ok(set)
}

/// Reads one file's bytes into `set`; says what the file held.
fn read_into(set: &mut DataSet, data: &[u8], net: CurrencyNet) -> Result<&'static str, InputError> {
    if data.is_empty() {
        return Err(InputError::EmptyFile);
    }
    if capture::looks_like_capture(data) {
        read_capture(set, data, net)?;
        return Ok("frame capture");
    }
    if let Some(found) = data
        .first_chunk::<4>()
        .and_then(|m| CurrencyNet::from_magic(u32::from_le_bytes(*m)))
    {
        if found != net {
            return Err(InputError::WrongNetwork {
                what: "frames",
                found,
                want: net,
            });
        }
        read_frames(set, data, net)?;
        return Ok("frames");
    }
    if data
        .iter()
        .all(|b| b.is_ascii_graphic() || b.is_ascii_whitespace())
    {
        read_hex_lines(set, data, net)?;
        return Ok("hex lines");
    }
    let raw = match Block::from_bytes(data, pver::CURRENT) {
        Ok(_) => {
            set.push(Command::Block, pver::CURRENT, data, None)?;
            return Ok("one raw block");
        }
        Err(e) => e,
    };
    read_block_records(set, data).map_err(|records| InputError::Unrecognised {
        records: Box::new(records),
        raw,
    })?;
    Ok("block records")
}

/// The `--net` spelling of a network.
pub fn short_name(net: CurrencyNet) -> &'static str {
    match net {
        CurrencyNet::MainNet => "mainnet",
        CurrencyNet::TestNet3 => "testnet",
        CurrencyNet::SimNet => "simnet",
        CurrencyNet::RegNet => "regnet",
    }
}

/// `[u32 LE length][block]` records, each a block.
fn read_block_records(set: &mut DataSet, data: &[u8]) -> Result<(), InputError> {
    let mut offset = 0;
    for (index, record) in block_records(data).enumerate() {
        let block = record.map_err(|e| match e {
            TruncatedRecord::Block {
                index: 0, claimed, ..
            } => InputError::NotRecords(claimed),
            e => InputError::Truncated(e),
        })?;
        set.push(Command::Block, pver::CURRENT, block, None)
            .map_err(|e| e.at(Place::BlockRecord { index, offset }))?;
        offset += 4 + block.len();
    }
    Ok(())
}

/// Frames back to back, every one of `net`.
fn read_frames(set: &mut DataSet, data: &[u8], net: CurrencyNet) -> Result<(), InputError> {
    let mut offset = 0;
    let mut index = 0;
    while offset < data.len() {
        let mut place = Place::Frame {
            index,
            offset,
            command: None,
        };
        match split_frame(&data[offset..], net, pver::CURRENT) {
            Ok(Split::Frame { frame, consumed }) => {
                let h = frame.header;
                if let Place::Frame { command, .. } = &mut place {
                    *command = Some(h.command);
                }
                set.push(h.command, pver::CURRENT, frame.payload, Some(h.checksum))
                    .map_err(|e| e.at(place))?;
                offset += consumed;
                index += 1;
            }
            Ok(Split::Incomplete { needed }) => return Err(InputError::FrameCut(needed).at(place)),
            Err(e) => return Err(InputError::Frame(e).at(place)),
        }
    }
    Ok(())
}

/// Text: one block or frame per line, as hex; blank lines skipped.
fn read_hex_lines(set: &mut DataSet, data: &[u8], net: CurrencyNet) -> Result<(), InputError> {
    let text = std::str::from_utf8(data).map_err(|_| InputError::NotUtf8)?;
    let mut any = false;
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let place = Place::Line(i + 1);
        read_hex_line(set, line, net).map_err(|e| e.at(place))?;
        any = true;
    }
    if !any {
        return Err(InputError::NoHexLines);
    }
    Ok(())
}

/// One line of hex text: a frame of `net` or a block.
fn read_hex_line(set: &mut DataSet, line: &str, net: CurrencyNet) -> Result<(), InputError> {
    let bytes = hex::decode(hex_of_line(line)?).map_err(InputError::Hex)?;
    let magic = bytes
        .first_chunk::<4>()
        .and_then(|m| CurrencyNet::from_magic(u32::from_le_bytes(*m)));
    let Some(found) = magic else {
        return set
            .push(Command::Block, pver::CURRENT, &bytes, None)
            .map_err(|e| match e {
                InputError::Checks(WorkError::Decode(e)) => InputError::NotBlock(e),
                e => e,
            });
    };
    if found != net {
        return Err(InputError::WrongNetwork {
            what: "a frame",
            found,
            want: net,
        });
    }
    match split_frame(&bytes, net, pver::CURRENT) {
        Ok(Split::Frame { frame, consumed }) if consumed == bytes.len() => {
            let h = frame.header;
            set.push(h.command, pver::CURRENT, frame.payload, Some(h.checksum))
                .map_err(|e| e.at(Place::Command(h.command)))
        }
        Ok(Split::Frame { consumed, .. }) => Err(InputError::AfterFrame(bytes.len() - consumed)),
        Ok(Split::Incomplete { needed }) => Err(InputError::FrameCut(needed)),
        Err(e) => Err(InputError::Frame(e)),
    }
}

/// The hex of one line: bare, in double quotes, or the `result` of a
/// JSON-RPC reply (`{"result":"…","error":null,"id":1}`).
fn hex_of_line(line: &str) -> Result<String, InputError> {
    if line.starts_with('{') {
        let v: serde_json::Value = serde_json::from_str(line).map_err(InputError::Json)?;
        if let Some(err) = v.get("error").filter(|e| !e.is_null()) {
            return Err(InputError::Rpc(err.to_string()));
        }
        return v
            .get("result")
            .and_then(|r| r.as_str())
            .map(str::to_string)
            .ok_or(InputError::NoResult);
    }
    Ok(line.trim_matches('"').to_string())
}

/// Tracks each connection's negotiated protocol version from the version
/// messages it carries: the lower of the two sides' (as the peer does,
/// dcrd's `peer.negotiateProtocolVersion`), the newest until both are seen.
#[derive(Debug, Default)]
pub struct Versions {
    seen: HashMap<(u32, capture::Direction), u32>,
}

impl Versions {
    /// The version to decode a frame of connection `conn` at.
    pub fn pver(&self, conn: u32) -> u32 {
        let get = |d| self.seen.get(&(conn, d)).copied();
        match (
            get(capture::Direction::Sent),
            get(capture::Direction::Received),
        ) {
            (Some(a), Some(b)) => a.min(b),
            _ => pver::CURRENT,
        }
    }

    /// Notes a version message of `conn` going `direction`.
    pub fn note(&mut self, conn: u32, direction: capture::Direction, msg: &Message<'_>) {
        if let Message::Version(v) = msg {
            let pv = u32::try_from(v.protocol_version).unwrap_or(0);
            self.seen.insert((conn, direction), pv.min(pver::CURRENT));
        }
    }
}

/// The command of a frame's header, checked for `net` at `pv`.
pub fn frame_header(frame: &[u8], net: CurrencyNet, pv: u32) -> Result<FrameHeader, InputError> {
    let Some(raw) = frame.first_chunk::<MESSAGE_HEADER_SIZE>() else {
        return Err(InputError::ShortFrame(frame.len()));
    };
    let header = FrameHeader::parse(raw, net, pv).map_err(InputError::Frame)?;
    if header.frame_len() != frame.len() {
        return Err(InputError::FrameLength {
            header: header.length as usize,
            payload: frame.len() - MESSAGE_HEADER_SIZE,
        });
    }
    Ok(header)
}

/// A capture's frames. Frames that do not decode (a capture keeps what a
/// misbehaving remote sent) are left out with a warning; a torn tail is a
/// warning; corruption is an error.
fn read_capture(set: &mut DataSet, data: &[u8], net: CurrencyNet) -> Result<(), InputError> {
    let records = Records::new(data)?;
    let mut versions = Versions::default();
    let mut skipped = 0usize;
    let mut first_skip = None;
    for (n, r) in records.enumerate() {
        let place = Place::CaptureRecord(n);
        let r = match r {
            Ok(r) => r,
            Err(e) if e.is_torn_tail() => {
                set.warnings.push(e.to_string());
                break;
            }
            Err(e) => return Err(InputError::Capture(e).at(place)),
        };
        if r.magic != net.magic() {
            return Err(match r.net() {
                Some(found) => InputError::WrongNetwork {
                    what: "a capture",
                    found,
                    want: net,
                },
                None => InputError::UnknownMagic(r.magic),
            }
            .at(place));
        }
        let pv = versions.pver(r.conn);
        let pushed = frame_header(r.frame, net, pv).and_then(|h| {
            let payload = &r.frame[MESSAGE_HEADER_SIZE..];
            if let Ok(msg) = Message::decode(h.command, payload, pv) {
                versions.note(r.conn, r.direction, &msg);
            }
            set.push(h.command, pv, payload, Some(h.checksum))
                .map_err(|e| e.at(Place::Command(h.command)))
        });
        if let Err(e) = pushed {
            skipped += 1;
            first_skip.get_or_insert_with(|| chain_text(&e.at(place)));
        }
    }
    if let Some(first) = first_skip {
        let (frames, they) = match skipped {
            1 => ("1 frame".to_string(), "it does"),
            n => (format!("{n} frames"), "they do"),
        };
        set.warnings.push(format!(
            "{frames} left out: {they} not decode (first: {first})"
        ));
    }
    Ok(())
}

/// An error and its sources, joined by ": " (as anyhow's `{:#}`).
fn chain_text(e: &(dyn std::error::Error + 'static)) -> String {
    dcr_wire::Report(e).to_string()
}

// ---- the reference's input -------------------------------------------------

/// The magic of the file [`write_reference_input`] writes.
pub const REFERENCE_INPUT_MAGIC: [u8; 8] = *b"DCRBENCH";

/// Writes data sets in the input format of the reference's decode bench
/// (`benches/go/decodebench`, its README gives the layout): the same
/// messages, in the same order, so both sides time the same work.
pub fn write_reference_input(sets: &[DataSet]) -> Vec<u8> {
    let mut out = REFERENCE_INPUT_MAGIC.to_vec();
    out.extend_from_slice(&1u32.to_le_bytes());
    for set in sets {
        for m in &set.msgs {
            let name = set.name.as_bytes();
            let name = &name[..name.len().min(u16::MAX as usize)];
            out.extend_from_slice(&(name.len() as u16).to_le_bytes());
            out.extend_from_slice(name);
            let mut cmd = [0u8; 12];
            let c = m.command.as_str().as_bytes();
            cmd[..c.len()].copy_from_slice(c);
            out.extend_from_slice(&cmd);
            out.extend_from_slice(&m.pver.to_le_bytes());
            match m.checksum {
                Some(sum) => {
                    out.push(1);
                    out.extend_from_slice(&sum);
                }
                None => out.push(0),
            }
            out.extend_from_slice(&(m.len as u32).to_le_bytes());
            out.extend_from_slice(set.payload(m));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::build_chain;

    use crate::chain::block_records_file as records;

    fn read(data: &[u8]) -> Result<(DataSet, &'static str), InputError> {
        let mut set = DataSet::new("t", "t");
        let kind = read_into(&mut set, data, CurrencyNet::MainNet)?;
        Ok((set, kind))
    }

    /// The error's whole chain, as the CLI prints it.
    fn read_err(data: &[u8]) -> String {
        chain_text(&read(data).unwrap_err())
    }

    #[test]
    fn every_block_format_reads_the_same_blocks() {
        let blocks = build_chain(4);
        let (set, kind) = read(&records(&blocks)).unwrap();
        assert_eq!(kind, "block records");
        assert_eq!(set.msgs.len(), 4);
        for (m, b) in set.msgs.iter().zip(&blocks) {
            assert_eq!(set.payload(m), &b[..]);
            assert_eq!(m.command, Command::Block);
            assert_eq!(m.checksum, None);
        }
        let (one, kind) = read(&blocks[2]).unwrap();
        assert_eq!(kind, "one raw block");
        assert_eq!(one.data, blocks[2]);
        // As dcrd's getblock answers: bare, quoted, JSON-RPC.
        let hex_text = format!(
            "{}\n\n\"{}\"\n{{\"result\":\"{}\",\"error\":null,\"id\":1}}\n",
            hex::encode(&blocks[0]),
            hex::encode(&blocks[1]),
            hex::encode(&blocks[2])
        );
        let (h, kind) = read(hex_text.as_bytes()).unwrap();
        assert_eq!(kind, "hex lines");
        assert_eq!(h.data, blocks[..3].concat());
    }

    #[test]
    fn frames_and_captures_carry_their_checksums() {
        let blocks = build_chain(3);
        let net = CurrencyNet::MainNet;
        let frames: Vec<Vec<u8>> = blocks
            .iter()
            .map(|b| {
                let m = Message::Block(Block::from_bytes(b, pver::CURRENT).unwrap());
                dcr_wire::frame_to_vec(&m, net, pver::CURRENT).unwrap()
            })
            .collect();
        let (set, kind) = read(&frames.concat()).unwrap();
        assert_eq!(kind, "frames");
        assert_eq!(set.msgs.len(), 3);
        assert!(set.msgs.iter().all(|m| m.checksum.is_some()));
        let mut w =
            capture::CaptureWriter::new(Vec::new(), capture::FlushPolicy::default()).unwrap();
        for (i, f) in frames.iter().enumerate() {
            let dir = [capture::Direction::Sent, capture::Direction::Received][i % 2];
            w.record(dir, 0, std::time::SystemTime::now(), net, f)
                .unwrap();
        }
        let mut cap = w.into_inner().unwrap();
        let (set, kind) = read(&cap).unwrap();
        assert_eq!(kind, "frame capture");
        assert_eq!(set.data, blocks.concat());
        assert!(set.warnings.is_empty());
        cap.truncate(cap.len() - 3);
        let (set, _) = read(&cap).unwrap();
        assert_eq!(set.msgs.len(), 2);
        assert!(
            set.warnings[0].contains("torn record"),
            "{:?}",
            set.warnings
        );
    }

    #[test]
    fn bad_input_is_an_error_that_says_what_is_wrong() {
        let blocks = build_chain(3);
        let whole = records(&blocks);
        let e = read_err(&whole[..whole.len() - 10]);
        assert!(
            e.starts_with("truncated: block record 2 at byte 562 claims 277 bytes"),
            "{e}"
        );
        let e = read_err(&[0xff; 300]);
        assert!(e.contains("not a frame capture, frames, hex lines"), "{e}");
        let e = read_err(b"");
        assert_eq!(e, "an empty file");
        let e = read_err(b"00zz\n");
        assert!(e.starts_with("line 1: bad hex"), "{e}");
        let e = read_err(b"0011\n");
        assert!(e.starts_with("line 1: not a block"), "{e}");
        let e = read_err(b"{\"result\":null,\"error\":{\"code\":-5}}\n");
        assert!(e.contains("JSON-RPC error"), "{e}");
        // Another network's frames.
        let m = Message::Block(Block::from_bytes(&blocks[0], pver::CURRENT).unwrap());
        let f = dcr_wire::frame_to_vec(&m, CurrencyNet::TestNet3, pver::CURRENT).unwrap();
        let e = read_err(&f);
        assert!(
            e.contains("of TestNet3, not MainNet (give --net testnet)"),
            "{e}"
        );
        let mut w =
            capture::CaptureWriter::new(Vec::new(), capture::FlushPolicy::default()).unwrap();
        w.record(
            capture::Direction::Sent,
            0,
            std::time::SystemTime::now(),
            CurrencyNet::SimNet,
            &f,
        )
        .unwrap();
        let e = read_err(&w.into_inner().unwrap());
        assert!(e.contains("a capture of SimNet"), "{e}");
        // A frame cut short.
        let e = read_err(&f[..f.len() - 1]);
        assert!(e.contains("of TestNet3"), "{e}");
        let mf = dcr_wire::frame_to_vec(&m, CurrencyNet::MainNet, pver::CURRENT).unwrap();
        let e = read_err(&mf[..mf.len() - 1]);
        assert!(
            e.starts_with("frame 0 at byte 0: truncated: 1 byte missing"),
            "{e}"
        );
    }

    #[test]
    fn the_negotiated_version_is_the_lower_of_both_sides() {
        use capture::Direction::{Received, Sent};
        let version = |pv: i32| {
            let a = dcr_wire::NetAddress::default();
            let mut v = dcr_wire::Version::new(a, a, 1, 0);
            v.protocol_version = pv;
            Message::Version(v)
        };
        let mut v = Versions::default();
        assert_eq!(v.pver(3), pver::CURRENT);
        v.note(3, Sent, &version(12));
        assert_eq!(v.pver(3), pver::CURRENT, "one side is not enough");
        v.note(3, Received, &version(7));
        assert_eq!(v.pver(3), 7);
        assert_eq!(v.pver(4), pver::CURRENT, "per connection");
    }

    #[test]
    fn each_level_does_its_work_and_full_checks_roots() {
        let blocks = build_chain(2);
        let mut set = DataSet::new("t", "t");
        set.push(Command::Block, pver::CURRENT, &blocks[1], None)
            .unwrap();
        let m = set.msgs[0];
        for level in Level::ALL {
            work(level, &m, set.payload(&m)).unwrap();
        }
        let c = work(Level::Full, &m, set.payload(&m)).unwrap();
        assert_eq!(c.roots_match, Some(true));
        assert_eq!(c.hashes, 3 + 1);
        let bad = Msg {
            checksum: Some([0; 4]),
            ..m
        };
        assert!(matches!(
            work(Level::Full, &bad, set.payload(&m)),
            Err(WorkError::Checksum { .. })
        ));
        assert!(
            work(Level::Views, &bad, set.payload(&m)).is_ok(),
            "no checksum below full"
        );
    }

    #[test]
    fn the_cpu_clock_counts_the_work_done() {
        // Spin until the CPU clock has moved 20 ms. On a loaded machine
        // that takes longer than 20 ms of wall time, never shorter: a
        // clock that does not count work never gets there (the wall
        // bound turns that into a failure instead of a hang).
        let (c0, w0) = (Clock::Cpu.now(), Clock::Wall.now());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let mut c1 = c0;
        while c1 - c0 < std::time::Duration::from_millis(20) && std::time::Instant::now() < deadline
        {
            for _ in 0..10_000 {
                std::hint::black_box(0u64);
            }
            c1 = Clock::Cpu.now();
        }
        let w1 = Clock::Wall.now();
        assert!(
            c1 - c0 >= std::time::Duration::from_millis(20),
            "{:?}",
            c1 - c0
        );
        // One thread's work cannot use more CPU than the wall time it took
        // (other tests' threads may add to the process's count; allow them
        // one more core).
        assert!(c1 - c0 <= 2 * (w1 - w0) + std::time::Duration::from_millis(5));
    }

    #[test]
    fn the_reference_input_holds_every_message_in_order() {
        let blocks = build_chain(2);
        let mut set = DataSet::new("ab", "t");
        for b in &blocks {
            set.push(Command::Block, pver::CURRENT, b, None).unwrap();
        }
        let out = write_reference_input(&[set]);
        assert_eq!(&out[..8], b"DCRBENCH");
        assert_eq!(out[8..12], 1u32.to_le_bytes());
        let rec = &out[12..];
        assert_eq!(&rec[..4], &[2, 0, b'a', b'b']);
        assert_eq!(&rec[4..9], b"block");
        assert_eq!(rec[16..20], pver::CURRENT.to_le_bytes());
        assert_eq!(rec[20], 0);
        assert_eq!(rec[21..25], (blocks[0].len() as u32).to_le_bytes());
        assert_eq!(&rec[25..25 + blocks[0].len()], &blocks[0][..]);
        let per_record = 2 + 2 + 12 + 4 + 1 + 4;
        assert_eq!(
            out.len(),
            12 + 2 * per_record + blocks[0].len() + blocks[1].len()
        );
    }
}
