//! The capture file format: its header and records, the two readers,
//! and [`CaptureWriter`], a writer owned by one caller. The layout is in
//! `docs/CAPTURE.md`.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use dcr_wire::{ByteCount, CurrencyNet, MAX_MESSAGE_PAYLOAD, MESSAGE_HEADER_SIZE};

/// The first eight bytes of every capture: a non-ASCII first byte (so the
/// file is never taken for text), the name, and a line feed (so a transfer
/// that rewrites line ends is caught at once).
pub const MAGIC: [u8; 8] = *b"\x89DCRCAP\n";

/// The format version this module writes and reads.
pub const VERSION: u16 = 1;

/// Bytes of the file header: magic, version, reserved.
pub const HEADER_LEN: usize = 12;

/// Bytes of a record before its frame: length (4), direction (1),
/// connection (4), network magic (4), time (8).
pub const RECORD_HEAD_LEN: usize = 21;

/// Bytes of a record besides its frame: [`RECORD_HEAD_LEN`] and the
/// checksum (4).
pub const RECORD_OVERHEAD: usize = RECORD_HEAD_LEN + 4;

/// The longest frame a record may hold: a frame header and the largest
/// payload the protocol allows (dcrd's `MaxMessagePayload`). A longer
/// length field is corruption, and a reader never allocates for it.
pub const MAX_FRAME_LEN: usize = MESSAGE_HEADER_SIZE + MAX_MESSAGE_PAYLOAD as usize;

/// Which way a frame went, seen from the capturing peer. (Not the
/// connection's direction: an outbound connection both sends and
/// receives.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Read from the remote.
    Received,
    /// Written to the remote.
    Sent,
}

impl Direction {
    /// The record's direction byte.
    pub const fn byte(self) -> u8 {
        match self {
            Direction::Received => 0,
            Direction::Sent => 1,
        }
    }

    /// The direction of a record's direction byte.
    pub const fn from_byte(b: u8) -> Option<Direction> {
        match b {
            0 => Some(Direction::Received),
            1 => Some(Direction::Sent),
            _ => None,
        }
    }

    /// "received" or "sent".
    pub const fn as_str(self) -> &'static str {
        match self {
            Direction::Received => "received",
            Direction::Sent => "sent",
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a capture could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CaptureError {
    /// The input does not start with [`MAGIC`]: it is not a capture.
    #[error("not a frame capture (it starts with {}, a capture with {})", hex(found), hex(&MAGIC))]
    BadMagic {
        /// The first bytes found (up to eight).
        found: Vec<u8>,
    },
    /// A capture of a format version this reader does not know.
    #[error(
        "capture format version {found} is not supported (this program reads version {VERSION})"
    )]
    UnsupportedVersion {
        /// The version in the header.
        found: u16,
    },
    /// The header's reserved field is not zero: written by something that
    /// means more than version 1 says.
    #[error("the capture header's reserved field is {found:#06x}, not 0")]
    ReservedHeader {
        /// The field's value.
        found: u16,
    },
    /// The input ends inside the 12-byte header.
    #[error("the capture ends inside its {HEADER_LEN}-byte header, after {}", ByteCount(*have as u64))]
    ShortHeader {
        /// Bytes present.
        have: usize,
    },
    /// The last record is incomplete or fails its checksum, as a crash
    /// while it was being appended leaves it. Every record before it was
    /// read; a writer resuming the file cuts it off
    /// ([`CaptureWriter::open_file`]).
    #[error(
        "the capture ends in a torn record at byte {offset} ({} dropped); every record before it was read",
        ByteCount(*bytes)
    )]
    TornTail {
        /// Where the torn record starts.
        offset: u64,
        /// Bytes from there to the end of the input.
        bytes: u64,
    },
    /// A record that cannot be a torn tail is damaged: more data follows a
    /// record failing its checksum, or a field holds a value no writer
    /// writes. Records before it were read; nothing after it can be.
    #[error("corrupt capture record at byte {offset}: {kind}")]
    Corrupt {
        /// Where the record starts.
        offset: u64,
        /// What is wrong with it.
        kind: Corruption,
    },
    /// A frame longer than [`MAX_FRAME_LEN`] was given to the writer.
    #[error("a frame of {} is longer than any the protocol allows ({MAX_FRAME_LEN})", ByteCount(*len as u64))]
    FrameTooLong {
        /// The frame's length.
        len: usize,
    },
    /// A [`CaptureSink`](super::CaptureSink)'s writer is behind by more than its backlog
    /// bound: the record was dropped (and counted) rather than make the
    /// peer wait for the disk.
    #[error("the capture's writer is {} behind; the record was dropped", ByteCount(*bytes as u64))]
    Backlog {
        /// Bytes of records waiting for the writer.
        bytes: usize,
    },
    /// The [`CaptureSink`](super::CaptureSink) was closed, or stopped after a failed write:
    /// the record was dropped.
    #[error("the capture is closed")]
    Closed,
    /// Another writer holds the file (a lock on it, for as long as it
    /// records): two writers would write their records over each other's,
    /// and one reading the other's record being written would cut it off
    /// as a torn tail.
    #[error("the capture is being written by another program or sink; give another file")]
    InUse,
    /// Reading or writing the underlying file or stream failed.
    #[error("capture i/o failed")]
    Io(#[source] io::Error),
}

impl CaptureError {
    /// True for [`CaptureError::TornTail`]: the expected end of a capture
    /// whose writer stopped mid-record, a warning rather than a failure.
    pub fn is_torn_tail(&self) -> bool {
        matches!(self, CaptureError::TornTail { .. })
    }
}

impl From<io::Error> for CaptureError {
    fn from(e: io::Error) -> Self {
        CaptureError::Io(e)
    }
}

/// What is wrong with a corrupt record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Corruption {
    /// The stored checksum does not match the record, and more data
    /// follows (so it is not a torn tail).
    #[error("checksum {stored:#010x} stored, {computed:#010x} computed")]
    Checksum {
        /// The checksum in the record.
        stored: u32,
        /// The checksum of the record's bytes.
        computed: u32,
    },
    /// The length field exceeds [`MAX_FRAME_LEN`].
    #[error("frame length {0} exceeds the largest frame ({MAX_FRAME_LEN})")]
    Length(u32),
    /// The direction byte is neither 0 (received) nor 1 (sent).
    #[error("direction byte {0} (0 is received, 1 sent)")]
    Direction(u8),
}

fn hex(bytes: &[u8]) -> String {
    use fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// The file header of this version.
pub fn header() -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[..8].copy_from_slice(&MAGIC);
    h[8..10].copy_from_slice(&VERSION.to_le_bytes());
    h
}

/// Checks a file header: magic, then version, then the reserved field.
/// `bytes` may be longer than the header; shorter is
/// [`CaptureError::ShortHeader`] unless what is there already differs from
/// the magic.
pub fn check_header(bytes: &[u8]) -> Result<(), CaptureError> {
    let head = &bytes[..bytes.len().min(MAGIC.len())];
    if head != &MAGIC[..head.len()] {
        return Err(CaptureError::BadMagic {
            found: head.to_vec(),
        });
    }
    let Some(h) = bytes.first_chunk::<HEADER_LEN>() else {
        return Err(CaptureError::ShortHeader { have: bytes.len() });
    };
    let version = u16::from_le_bytes([h[8], h[9]]);
    if version != VERSION {
        return Err(CaptureError::UnsupportedVersion { found: version });
    }
    let reserved = u16::from_le_bytes([h[10], h[11]]);
    if reserved != 0 {
        return Err(CaptureError::ReservedHeader { found: reserved });
    }
    Ok(())
}

/// True when `bytes` start with the capture magic (a quick test to tell a
/// capture from other input; [`check_header`] checks the rest).
pub fn looks_like_capture(bytes: &[u8]) -> bool {
    bytes.starts_with(&MAGIC)
}

/// One frame of a capture. The frame borrows from the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    /// Sent or received.
    pub direction: Direction,
    /// The capturing program's number for the connection the frame went
    /// over (a capture may hold many peers' frames).
    pub conn: u32,
    /// The network magic the capturing peer was set up with (a received
    /// frame may carry another: it is stored as it came).
    pub magic: u32,
    /// When the frame was read or written: nanoseconds since the Unix
    /// epoch, UTC.
    pub time_ns: u64,
    /// The whole frame as on the wire: 24-byte header, then payload.
    pub frame: &'a [u8],
}

impl Record<'_> {
    /// The network of [`Record::magic`], when it is one of the four.
    pub fn net(&self) -> Option<CurrencyNet> {
        CurrencyNet::from_magic(self.magic)
    }

    /// [`Record::time_ns`] as a time.
    pub fn time(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_nanos(self.time_ns)
    }
}

/// The fixed part of a record, parsed.
struct Head {
    len: usize,
    direction: Direction,
    conn: u32,
    magic: u32,
    time_ns: u64,
}

/// Parses a record's first [`RECORD_HEAD_LEN`] bytes; `offset` is where
/// the record starts, for the error.
fn parse_head(h: &[u8; RECORD_HEAD_LEN], offset: u64) -> Result<Head, CaptureError> {
    let u32_at = |i: usize| u32_le(&h[i..]);
    let len = u32_at(0);
    if len as usize > MAX_FRAME_LEN {
        return Err(CaptureError::Corrupt {
            offset,
            kind: Corruption::Length(len),
        });
    }
    let direction = Direction::from_byte(h[4]).ok_or(CaptureError::Corrupt {
        offset,
        kind: Corruption::Direction(h[4]),
    })?;
    Ok(Head {
        len: len as usize,
        direction,
        conn: u32_at(5),
        magic: u32_at(9),
        time_ns: u64_le(&h[13..21]),
    })
}

/// The checksum of a record: CRC-32 (IEEE) of its head and frame.
fn checksum(head: &[u8], frame: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(head);
    h.update(frame);
    h.finalize()
}

/// A record whose checksum does not match: a torn tail when nothing but
/// zero bytes follows its start (`tail_zero`: the file was extended and the
/// data never reached it) or nothing follows it at all (`tail_bytes` is
/// then the record's own length), else corruption.
fn mismatch(
    offset: u64,
    stored: u32,
    computed: u32,
    tail_bytes: u64,
    nothing_after: bool,
    tail_zero: bool,
) -> CaptureError {
    if nothing_after || tail_zero {
        CaptureError::TornTail {
            offset,
            bytes: tail_bytes,
        }
    } else {
        CaptureError::Corrupt {
            offset,
            kind: Corruption::Checksum { stored, computed },
        }
    }
}

fn u32_le(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

fn u64_le(b: &[u8]) -> u64 {
    let mut x = [0u8; 8];
    x.copy_from_slice(&b[..8]);
    u64::from_le_bytes(x)
}

/// Nanoseconds since the Unix epoch (0 before it, `u64::MAX` past 2554).
fn unix_ns(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// A record's fixed fields and its checksum, for a frame given in `parts`
/// (the record is the head, the parts one after the other, the checksum).
/// A frame longer than [`MAX_FRAME_LEN`] is refused.
pub(super) fn record_head(
    direction: Direction,
    conn: u32,
    time: SystemTime,
    net: CurrencyNet,
    parts: &[&[u8]],
) -> Result<([u8; RECORD_HEAD_LEN], [u8; 4]), CaptureError> {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    if len > MAX_FRAME_LEN {
        return Err(CaptureError::FrameTooLong { len });
    }
    let mut head = [0u8; RECORD_HEAD_LEN];
    head[0..4].copy_from_slice(&(len as u32).to_le_bytes());
    head[4] = direction.byte();
    head[5..9].copy_from_slice(&conn.to_le_bytes());
    head[9..13].copy_from_slice(&net.magic().to_le_bytes());
    head[13..21].copy_from_slice(&unix_ns(time).to_le_bytes());
    let mut crc = crc32fast::Hasher::new();
    crc.update(&head);
    for p in parts {
        crc.update(p);
    }
    Ok((head, crc.finalize().to_le_bytes()))
}

/// The records of a capture held in memory, in order; each frame borrows
/// from the input.
///
/// It yields every whole record, then at most one error: a
/// [`CaptureError::TornTail`] (see [`CaptureError::is_torn_tail`]) or a
/// [`CaptureError::Corrupt`], after which it ends.
#[derive(Debug, Clone)]
pub struct Records<'a> {
    bytes: &'a [u8],
    offset: usize,
    done: bool,
}

impl<'a> Records<'a> {
    /// Checks the header (magic, version) and starts after it.
    pub fn new(bytes: &'a [u8]) -> Result<Records<'a>, CaptureError> {
        check_header(bytes)?;
        Ok(Records {
            bytes,
            offset: HEADER_LEN,
            done: false,
        })
    }

    /// Where the next record starts: after the last whole record read.
    pub fn offset(&self) -> u64 {
        self.offset as u64
    }

    fn next_record(&mut self) -> Result<Option<Record<'a>>, CaptureError> {
        let rest = &self.bytes[self.offset..];
        if rest.is_empty() {
            return Ok(None);
        }
        let offset = self.offset as u64;
        let torn = CaptureError::TornTail {
            offset,
            bytes: rest.len() as u64,
        };
        let Some(h) = rest.first_chunk::<RECORD_HEAD_LEN>() else {
            return Err(torn);
        };
        let head = parse_head(h, offset)?;
        let total = RECORD_OVERHEAD + head.len;
        if rest.len() < total {
            return Err(torn);
        }
        let frame = &rest[RECORD_HEAD_LEN..RECORD_HEAD_LEN + head.len];
        let stored = u32_le(&rest[total - 4..total]);
        let computed = checksum(h, frame);
        if stored != computed {
            let zero = rest.iter().all(|&b| b == 0);
            let after = rest.len() == total;
            return Err(mismatch(
                offset,
                stored,
                computed,
                rest.len() as u64,
                after,
                zero,
            ));
        }
        self.offset += total;
        Ok(Some(Record {
            direction: head.direction,
            conn: head.conn,
            magic: head.magic,
            time_ns: head.time_ns,
            frame,
        }))
    }
}

impl<'a> Iterator for Records<'a> {
    type Item = Result<Record<'a>, CaptureError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.next_record() {
            Ok(Some(r)) => Some(Ok(r)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

impl std::iter::FusedIterator for Records<'_> {}

/// Reads a capture from a stream, one record at a time, into one buffer
/// reused for every frame (so a capture larger than memory can be read).
///
/// A record's frame is read as it arrives: a length field near
/// [`MAX_FRAME_LEN`] in a short, damaged file costs the bytes present, not
/// the length claimed.
#[derive(Debug)]
pub struct StreamReader<R> {
    input: R,
    buf: Vec<u8>,
    offset: u64,
    done: bool,
}

impl<R: Read> StreamReader<R> {
    /// Reads and checks the header.
    pub fn new(mut input: R) -> Result<StreamReader<R>, CaptureError> {
        let mut h = [0u8; HEADER_LEN];
        let have = read_up_to(&mut input, &mut h)?;
        check_header(&h[..have])?;
        Ok(StreamReader {
            input,
            buf: Vec::new(),
            offset: HEADER_LEN as u64,
            done: false,
        })
    }

    /// Where the next record starts: after the last whole record read.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The next record; `Ok(None)` at a clean end. After an error (a torn
    /// tail, corruption, i/o) it returns `Ok(None)`.
    pub fn next_record(&mut self) -> Result<Option<Record<'_>>, CaptureError> {
        if self.done {
            return Ok(None);
        }
        match self.read_next() {
            Ok(Some(head)) => Ok(Some(Record {
                direction: head.direction,
                conn: head.conn,
                magic: head.magic,
                time_ns: head.time_ns,
                frame: &self.buf[RECORD_HEAD_LEN..RECORD_HEAD_LEN + head.len],
            })),
            Ok(None) => {
                self.done = true;
                Ok(None)
            }
            Err(e) => {
                self.done = true;
                Err(e)
            }
        }
    }

    fn read_next(&mut self) -> Result<Option<Head>, CaptureError> {
        let offset = self.offset;
        let mut h = [0u8; RECORD_HEAD_LEN];
        let have = read_up_to(&mut self.input, &mut h)?;
        if have == 0 {
            return Ok(None);
        }
        if have < RECORD_HEAD_LEN {
            return Err(CaptureError::TornTail {
                offset,
                bytes: have as u64,
            });
        }
        let head = parse_head(&h, offset)?;
        self.buf.clear();
        self.buf.extend_from_slice(&h);
        let want = (head.len + 4) as u64;
        let got = (&mut self.input).take(want).read_to_end(&mut self.buf)? as u64;
        if got < want {
            return Err(CaptureError::TornTail {
                offset,
                bytes: RECORD_HEAD_LEN as u64 + got,
            });
        }
        let total = RECORD_OVERHEAD + head.len;
        let stored = u32_le(&self.buf[total - 4..total]);
        let computed = checksum(&h, &self.buf[RECORD_HEAD_LEN..total - 4]);
        if stored != computed {
            // A torn tail only if nothing, or only zeros, follow: read on
            // to the end to tell (a chunk at a time).
            let mut zero = self.buf.iter().all(|&b| b == 0);
            let mut rest = total as u64;
            let mut chunk = [0u8; 4096];
            let mut after = true;
            loop {
                let n = read_up_to(&mut self.input, &mut chunk)?;
                if n == 0 {
                    break;
                }
                after = false;
                zero &= chunk[..n].iter().all(|&b| b == 0);
                rest += n as u64;
                if !zero {
                    break;
                }
            }
            return Err(mismatch(offset, stored, computed, rest, after, zero));
        }
        self.offset += total as u64;
        Ok(Some(head))
    }
}

/// Reads until `buf` is full or the input ends; how many bytes were read.
fn read_up_to(input: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut have = 0;
    while have < buf.len() {
        match input.read(&mut buf[have..]) {
            Ok(0) => break,
            Ok(n) => have += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(have)
}

/// When a [`CaptureWriter`] hands its records to the underlying writer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlushPolicy {
    /// Each record is written (one `write_all`) and flushed as it comes.
    /// Nothing is lost in a crash of the program; one system call or more
    /// per frame.
    EveryRecord,
    /// Records gather in memory and are written together, in one
    /// `write_all`, when `max_bytes` are buffered or when a record comes
    /// `max_delay` or more after the oldest one buffered (by the records'
    /// own times: no clock is read), and on [`CaptureWriter::flush`] and
    /// drop. A crash loses at most what was buffered, and leaves at most
    /// one torn record. A record larger than `max_bytes` is written at
    /// once, after what was buffered.
    Buffered {
        /// Bytes buffered before a write.
        max_bytes: usize,
        /// Age of the oldest buffered record that forces a write.
        max_delay: Duration,
    },
}

impl Default for FlushPolicy {
    /// Buffered: 1 MiB or 1 s. A megabyte a write keeps the system calls
    /// (and a [`CaptureSink`](super::CaptureSink)'s hand-overs to its
    /// writer thread) rare for frames of any size while the buffer stays
    /// in a core's cache: with 64 KiB, recording a 36 KB `inv` frame into
    /// a sink took three times as long (`--bench capture`,
    /// BENCHMARKS.md).
    fn default() -> Self {
        FlushPolicy::Buffered {
            max_bytes: 1 << 20,
            max_delay: Duration::from_secs(1),
        }
    }
}

/// Appends records to a capture: per frame a few dozen bytes of fixed
/// fields, one copy of the frame into a buffer and a CRC-32 over it (many
/// GB/s); the system call comes per [`FlushPolicy`].
///
/// The writer does not `fsync`: what it has written survives a crash of
/// the program, not of the machine.
#[derive(Debug)]
pub struct CaptureWriter<W: Write> {
    // `None` only after `into_inner` took it.
    out: Option<W>,
    buf: Vec<u8>,
    policy: FlushPolicy,
    /// The time of the oldest buffered record.
    oldest_ns: Option<u64>,
    records: u64,
}

impl<W: Write> CaptureWriter<W> {
    /// Starts a new capture on `out`: writes the header at once.
    pub fn new(mut out: W, policy: FlushPolicy) -> Result<CaptureWriter<W>, CaptureError> {
        out.write_all(&header())?;
        out.flush()?;
        Ok(CaptureWriter::resume(out, policy))
    }

    /// Continues a capture whose header, and whole records only, `out`
    /// already holds (it must be positioned at their end). No header is
    /// written.
    pub fn resume(out: W, policy: FlushPolicy) -> CaptureWriter<W> {
        CaptureWriter {
            out: Some(out),
            buf: Vec::new(),
            policy,
            oldest_ns: None,
            records: 0,
        }
    }

    /// Records one frame. `conn` is the caller's number for the
    /// connection; `frame` the whole frame as on the wire.
    pub fn record(
        &mut self,
        direction: Direction,
        conn: u32,
        time: SystemTime,
        net: CurrencyNet,
        frame: &[u8],
    ) -> Result<(), CaptureError> {
        self.record_parts(direction, conn, time, net, &[frame])
    }

    /// Records one frame given in pieces, written one after the other (a
    /// received frame's rebuilt 24-byte header and its payload, without
    /// joining them first).
    pub fn record_parts(
        &mut self,
        direction: Direction,
        conn: u32,
        time: SystemTime,
        net: CurrencyNet,
        parts: &[&[u8]],
    ) -> Result<(), CaptureError> {
        let (head, crc) = record_head(direction, conn, time, net, parts)?;
        let len = parts.iter().map(|p| p.len()).sum::<usize>();
        let time_ns = u64_le(&head[13..21]);

        let (max_bytes, max_delay) = match self.policy {
            // Buffered and written at once, in one `write_all`.
            FlushPolicy::EveryRecord => (usize::MAX, Duration::ZERO),
            FlushPolicy::Buffered {
                max_bytes,
                max_delay,
            } => (max_bytes, max_delay),
        };
        let total = RECORD_OVERHEAD + len;
        if !self.buf.is_empty() && self.buf.len().saturating_add(total) > max_bytes {
            self.write_buffer()?;
        }
        if total > max_bytes {
            // Too large to buffer: straight out, after what was buffered.
            let out = self.out_mut()?;
            out.write_all(&head)?;
            for p in parts {
                out.write_all(p)?;
            }
            out.write_all(&crc)?;
            out.flush()?;
        } else {
            self.buf.extend_from_slice(&head);
            for p in parts {
                self.buf.extend_from_slice(p);
            }
            self.buf.extend_from_slice(&crc);
            let oldest = *self.oldest_ns.get_or_insert(time_ns);
            let age = Duration::from_nanos(time_ns.saturating_sub(oldest));
            if self.buf.len() >= max_bytes || age >= max_delay {
                self.write_buffer()?;
            }
        }
        self.records += 1;
        Ok(())
    }

    /// Records written or buffered by this writer.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Writes what is buffered and flushes the underlying writer.
    pub fn flush(&mut self) -> Result<(), CaptureError> {
        self.write_buffer()
    }

    /// Flushes and hands back the underlying writer.
    pub fn into_inner(mut self) -> Result<W, CaptureError> {
        self.write_buffer()?;
        self.out_mut()?;
        Ok(self.out.take().expect("checked just above"))
    }

    fn out_mut(&mut self) -> Result<&mut W, CaptureError> {
        self.out
            .as_mut()
            .ok_or_else(|| CaptureError::Io(io::ErrorKind::NotConnected.into()))
    }

    fn write_buffer(&mut self) -> Result<(), CaptureError> {
        let Some(out) = self.out.as_mut() else {
            return Ok(());
        };
        if !self.buf.is_empty() {
            let r = out.write_all(&self.buf);
            // Dropped either way: after a failed write the buffer's
            // records are in an unknown state, and writing them again
            // could duplicate a prefix.
            self.buf.clear();
            self.oldest_ns = None;
            r?;
        }
        out.flush()?;
        Ok(())
    }
}

impl CaptureWriter<File> {
    /// Opens `path` for capturing: a new file gets the header; an existing
    /// capture is checked record by record and appended to. A torn tail
    /// (a crash of the last writer) is cut off first and returned, so the
    /// caller can report it; a file that is not a capture, or is corrupt
    /// before its end, is refused untouched.
    pub fn open_file(
        path: &Path,
        policy: FlushPolicy,
    ) -> Result<(CaptureWriter<File>, Option<CaptureError>), CaptureError> {
        let opened = open_for_append(path)?;
        let writer = if opened.is_new {
            CaptureWriter::new(opened.file, policy)?
        } else {
            CaptureWriter::resume(opened.file, policy)
        };
        Ok((writer, opened.torn))
    }
}

/// A capture file opened for appending.
pub(super) struct Opened {
    /// Positioned at the end of its last whole record (or at 0 when new).
    pub file: File,
    /// True when the file was empty or absent: it has no header yet.
    pub is_new: bool,
    /// The torn tail that was cut off.
    pub torn: Option<CaptureError>,
    /// The highest connection number its records use.
    pub last_conn: Option<u32>,
}

/// Opens or creates `path` and reads what it holds: a capture's records
/// are checked to their end, a torn tail is cut off, anything else is
/// refused and left untouched.
pub(super) fn open_for_append(path: &Path) -> Result<Opened, CaptureError> {
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)?;
    // One writer at a time, from before the file is read (a record that
    // another writer is appending would look torn) until the writer is
    // dropped. Where the file system has no locks, as before.
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => return Err(CaptureError::InUse),
        Err(std::fs::TryLockError::Error(e)) if e.kind() == io::ErrorKind::Unsupported => {}
        Err(std::fs::TryLockError::Error(e)) => return Err(e.into()),
    }
    if file.metadata()?.len() == 0 {
        return Ok(Opened {
            file,
            is_new: true,
            torn: None,
            last_conn: None,
        });
    }
    let mut reader = StreamReader::new(io::BufReader::new(&mut file))?;
    let mut torn = None;
    let mut last_conn = None;
    loop {
        match reader.next_record() {
            Ok(Some(r)) => last_conn = last_conn.max(Some(r.conn)),
            Ok(None) => break,
            Err(e) if e.is_torn_tail() => {
                torn = Some(e);
                break;
            }
            Err(e) => return Err(e),
        }
    }
    let end = reader.offset();
    drop(reader);
    if torn.is_some() {
        file.set_len(end)?;
    }
    file.seek(SeekFrom::Start(end))?;
    Ok(Opened {
        file,
        is_new: false,
        torn,
        last_conn,
    })
}

impl<W: Write> Drop for CaptureWriter<W> {
    fn drop(&mut self) {
        if let Err(e) = self.write_buffer() {
            tracing::warn!(error = %dcr_wire::Report(&e), "capture: buffered records lost at drop");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A record's fields: direction, connection, time, magic, frame.
    type Fields = (Direction, u32, u64, u32, Vec<u8>);

    fn t(secs: u64, nanos: u32) -> SystemTime {
        UNIX_EPOCH + Duration::new(secs, nanos)
    }

    /// A capture of `n` frames of varied sizes, directions, connections and
    /// networks, and what was recorded.
    fn sample(n: usize, policy: FlushPolicy) -> (Vec<u8>, Vec<Fields>) {
        let mut w = CaptureWriter::new(Vec::new(), policy).unwrap();
        let mut want = Vec::new();
        for i in 0..n {
            let frame: Vec<u8> = (0..(i * 37) % 300).map(|j| (i * 7 + j) as u8).collect();
            let dir = if i % 3 == 0 {
                Direction::Sent
            } else {
                Direction::Received
            };
            let net = CurrencyNet::ALL[i % 4];
            let time = t(
                1_700_000_000 + i as u64,
                (i * 1_000_003) as u32 % 1_000_000_000,
            );
            w.record(dir, i as u32 % 5, time, net, &frame).unwrap();
            let ns = time.duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64;
            want.push((dir, i as u32 % 5, ns, net.magic(), frame));
        }
        (w.into_inner().unwrap(), want)
    }

    fn read_all(bytes: &[u8]) -> (Vec<Fields>, Option<CaptureError>) {
        let mut got = Vec::new();
        let mut err = None;
        for r in Records::new(bytes).unwrap() {
            match r {
                Ok(r) => got.push((r.direction, r.conn, r.time_ns, r.magic, r.frame.to_vec())),
                Err(e) => err = Some(e),
            }
        }
        (got, err)
    }

    /// The stream reader over the same bytes, read a few bytes at a time.
    fn read_stream(bytes: &[u8]) -> (Vec<Fields>, Option<CaptureError>) {
        struct Trickle<'a>(&'a [u8]);
        impl Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = buf.len().min(self.0.len()).min(7);
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut r = StreamReader::new(Trickle(bytes)).unwrap();
        let mut got = Vec::new();
        loop {
            match r.next_record() {
                Ok(Some(r)) => {
                    got.push((r.direction, r.conn, r.time_ns, r.magic, r.frame.to_vec()))
                }
                Ok(None) => return (got, None),
                Err(e) => {
                    assert!(matches!(r.next_record(), Ok(None)), "ends after an error");
                    return (got, Some(e));
                }
            }
        }
    }

    #[test]
    fn records_round_trip_through_both_readers_under_both_policies() {
        for policy in [FlushPolicy::EveryRecord, FlushPolicy::default()] {
            let (bytes, want) = sample(40, policy);
            let (got, err) = read_all(&bytes);
            assert!(err.is_none(), "{err:?}");
            assert_eq!(got, want);
            let (got, err) = read_stream(&bytes);
            assert!(err.is_none(), "{err:?}");
            assert_eq!(got, want);
        }
    }

    #[test]
    fn the_layout_is_the_documented_one() {
        let mut w = CaptureWriter::new(Vec::new(), FlushPolicy::EveryRecord).unwrap();
        w.record(Direction::Sent, 7, t(1, 2), CurrencyNet::MainNet, b"ab")
            .unwrap();
        let bytes = w.into_inner().unwrap();
        let mut want = b"\x89DCRCAP\n\x01\x00\x00\x00".to_vec();
        want.extend_from_slice(&[2, 0, 0, 0, 1, 7, 0, 0, 0]);
        want.extend_from_slice(&[0xf9, 0x00, 0xb4, 0xd9]);
        want.extend_from_slice(&1_000_000_002u64.to_le_bytes());
        want.extend_from_slice(b"ab");
        let crc = crc32fast::hash(&want[HEADER_LEN..]);
        want.extend_from_slice(&crc.to_le_bytes());
        assert_eq!(bytes, want);
        let r = Records::new(&bytes).unwrap().next().unwrap().unwrap();
        assert_eq!(r.net(), Some(CurrencyNet::MainNet));
        assert_eq!(r.time(), t(1, 2));
    }

    #[test]
    fn a_torn_tail_at_every_byte_of_the_last_record_keeps_the_rest() {
        let (bytes, want) = sample(6, FlushPolicy::default());
        let last_len = RECORD_OVERHEAD + want[5].4.len();
        let last = bytes.len() - last_len;
        for cut in last..bytes.len() {
            let torn = &bytes[..cut];
            for (got, err) in [read_all(torn), read_stream(torn)] {
                assert_eq!(got, want[..5], "cut at {cut}");
                match err {
                    None => assert_eq!(cut, last, "a cut inside a record is reported"),
                    Some(CaptureError::TornTail { offset, bytes }) => {
                        assert_eq!(offset, last as u64);
                        assert_eq!(bytes, (cut - last) as u64);
                    }
                    Some(e) => panic!("cut at {cut}: {e}"),
                }
            }
        }
    }

    #[test]
    fn a_last_record_of_zeros_is_a_torn_tail_and_damage_before_the_end_is_corruption() {
        let (bytes, want) = sample(4, FlushPolicy::default());
        let last = bytes.len() - (RECORD_OVERHEAD + want[3].4.len());
        // The file grew but the last record's bytes never arrived.
        let mut zeroed = bytes.clone();
        zeroed[last..].fill(0);
        for (got, err) in [read_all(&zeroed), read_stream(&zeroed)] {
            assert_eq!(got, want[..3]);
            assert!(
                matches!(err, Some(CaptureError::TornTail { offset, .. }) if offset == last as u64)
            );
        }
        // A flipped byte in the second record's frame, with records after it.
        let second = HEADER_LEN + RECORD_OVERHEAD + want[0].4.len();
        let mut flipped = bytes.clone();
        flipped[second + RECORD_HEAD_LEN] ^= 1;
        for (got, err) in [read_all(&flipped), read_stream(&flipped)] {
            assert_eq!(got, want[..1]);
            assert!(
                matches!(err, Some(CaptureError::Corrupt { offset, kind: Corruption::Checksum { .. } }) if offset == second as u64),
                "{err:?}"
            );
        }
        // A direction byte no writer writes.
        let mut bad_dir = bytes.clone();
        bad_dir[second + 4] = 9;
        let (got, err) = read_all(&bad_dir);
        assert_eq!(got, want[..1]);
        assert!(matches!(
            err,
            Some(CaptureError::Corrupt {
                kind: Corruption::Direction(9),
                ..
            })
        ));
    }

    #[test]
    fn a_length_beyond_any_frame_is_corruption_and_allocates_nothing_for_it() {
        let mut bytes = header().to_vec();
        bytes.extend_from_slice(&u32::MAX.to_le_bytes());
        bytes.extend_from_slice(&[0u8; 40]);
        let (got, err) = read_all(&bytes);
        assert!(got.is_empty());
        assert!(matches!(
            err,
            Some(CaptureError::Corrupt {
                offset: 12,
                kind: Corruption::Length(u32::MAX)
            })
        ));
        // Just within the limit, but the file is short: torn, after
        // reading what is there.
        let mut bytes = header().to_vec();
        bytes.extend_from_slice(&(MAX_FRAME_LEN as u32).to_le_bytes());
        bytes.extend_from_slice(&[0u8; 40]);
        let (_, err) = read_stream(&bytes);
        assert!(matches!(
            err,
            Some(CaptureError::TornTail {
                offset: 12,
                bytes: 44
            })
        ));
    }

    #[test]
    fn wrong_magic_unknown_version_and_short_headers_are_typed() {
        let mut bad = header();
        bad[1] = b'X';
        assert!(
            matches!(Records::new(&bad), Err(CaptureError::BadMagic { found }) if found == bad[..8])
        );
        assert!(matches!(
            StreamReader::new(&bad[..]),
            Err(CaptureError::BadMagic { .. })
        ));
        let mut v2 = header();
        v2[8] = 2;
        assert!(matches!(
            Records::new(&v2),
            Err(CaptureError::UnsupportedVersion { found: 2 })
        ));
        let mut reserved = header();
        reserved[11] = 1;
        assert!(matches!(
            Records::new(&reserved),
            Err(CaptureError::ReservedHeader { found: 0x100 })
        ));
        assert!(matches!(
            Records::new(&header()[..10]),
            Err(CaptureError::ShortHeader { have: 10 })
        ));
        // Not even the magic's first bytes: not a capture, however short.
        assert!(matches!(
            Records::new(b"{\"j"),
            Err(CaptureError::BadMagic { .. })
        ));
        assert!(matches!(
            Records::new(b""),
            Err(CaptureError::ShortHeader { have: 0 })
        ));
        let msg = Records::new(b"\x89DCRCAP\n\x07\x00\x00\x00")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("version 7"), "{msg}");
    }

    #[test]
    fn garbage_after_the_header_ends_in_one_error_never_a_panic() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for len in 0..400 {
            let mut bytes = header().to_vec();
            for _ in 0..len {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                bytes.push(seed as u8);
            }
            let (got, err) = read_all(&bytes);
            let (got_s, err_s) = read_stream(&bytes);
            assert_eq!(got, got_s);
            assert_eq!(err.is_some(), len > 0, "{len}: {err:?}");
            assert_eq!(
                err.map(|e| e.to_string()),
                err_s.map(|e| e.to_string()),
                "both readers agree"
            );
        }
    }

    #[test]
    fn buffered_writes_wait_for_size_or_age_and_large_frames_go_straight_out() {
        #[derive(Default)]
        struct Writes(Vec<usize>);
        impl Write for Writes {
            fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
                self.0.push(buf.len());
                Ok(buf.len())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let policy = FlushPolicy::Buffered {
            max_bytes: 1000,
            max_delay: Duration::from_secs(1),
        };
        let net = CurrencyNet::MainNet;
        let mut w = CaptureWriter::new(Writes::default(), policy).unwrap();
        let frame = [0u8; 75]; // 100 bytes a record
        for i in 0..9 {
            w.record(Direction::Sent, 0, t(10, i), net, &frame).unwrap();
        }
        assert_eq!(w.out.as_ref().unwrap().0, [HEADER_LEN], "nine records wait");
        w.record(Direction::Sent, 0, t(10, 9), net, &frame).unwrap();
        assert_eq!(
            w.out.as_ref().unwrap().0,
            [HEADER_LEN, 1000],
            "the tenth fills it"
        );
        w.record(Direction::Sent, 0, t(10, 0), net, &frame).unwrap();
        w.record(Direction::Sent, 0, t(11, 0), net, &frame).unwrap();
        assert_eq!(
            w.out.as_ref().unwrap().0,
            [HEADER_LEN, 1000, 200],
            "a second later"
        );
        w.record(Direction::Sent, 0, t(11, 0), net, &frame).unwrap();
        w.record(Direction::Sent, 0, t(11, 0), net, &[0u8; 2000])
            .unwrap();
        assert_eq!(
            w.out.as_ref().unwrap().0,
            [HEADER_LEN, 1000, 200, 100, 21, 2000, 4],
            "the buffer, then the large record"
        );
        assert_eq!(w.records(), 14);
        assert!(matches!(
            w.record(
                Direction::Sent,
                0,
                t(11, 0),
                net,
                &vec![0u8; MAX_FRAME_LEN + 1]
            ),
            Err(CaptureError::FrameTooLong { .. })
        ));
    }

    #[test]
    fn opening_a_file_appends_and_cuts_a_torn_tail_off() {
        let dir = std::env::temp_dir().join(format!("dcr-capture-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("a.dcrcap");
        let _ = std::fs::remove_file(&path);
        let net = CurrencyNet::SimNet;
        {
            let (mut w, torn) = CaptureWriter::open_file(&path, FlushPolicy::default()).unwrap();
            assert!(torn.is_none());
            w.record(Direction::Sent, 1, t(5, 0), net, b"one").unwrap();
            w.record(Direction::Received, 1, t(6, 0), net, b"two")
                .unwrap();
        }
        // A crash in the middle of a third record.
        let mut bytes = std::fs::read(&path).unwrap();
        let whole = bytes.len();
        bytes.extend_from_slice(&[5, 0, 0, 0, 1, 1]);
        std::fs::write(&path, &bytes).unwrap();
        {
            let (mut w, torn) = CaptureWriter::open_file(&path, FlushPolicy::default()).unwrap();
            assert!(
                matches!(torn, Some(CaptureError::TornTail { offset, bytes: 6 }) if offset == whole as u64)
            );
            w.record(Direction::Sent, 2, t(7, 0), net, b"three")
                .unwrap();
        }
        let bytes = std::fs::read(&path).unwrap();
        let (got, err) = read_all(&bytes);
        assert!(err.is_none());
        let frames: Vec<&[u8]> = got.iter().map(|r| &r.4[..]).collect();
        assert_eq!(frames, [&b"one"[..], b"two", b"three"]);
        // Not a capture: refused, and left as it was.
        std::fs::write(&path, b"hello, world").unwrap();
        assert!(matches!(
            CaptureWriter::open_file(&path, FlushPolicy::default()),
            Err(CaptureError::BadMagic { .. })
        ));
        assert_eq!(std::fs::read(&path).unwrap(), b"hello, world");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
