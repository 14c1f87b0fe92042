//! A capture shared by every peer of a program: [`CaptureSink`].
//!
//! Peers record into one buffer behind one lock, which each holds only to
//! copy a record in (the checksum is computed before, outside it). A
//! thread of the sink's own takes the buffer when it is due and writes it
//! to the file with no lock held, while peers fill a second buffer; the
//! two swap, so once they have grown to the traffic's size no frame
//! allocates. A peer never waits for the disk: when the writer falls
//! behind by more than the backlog bound, records are dropped and
//! counted instead ([`CaptureStats::dropped`]).
//!
//! ```
//! use std::sync::Arc;
//! use dcr_peer::capture::{CaptureSink, Direction, FlushPolicy, Records};
//! use dcr_peer::wire::CurrencyNet;
//!
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("peers.dcrcap");
//! let (sink, torn) = CaptureSink::open_file(&path, FlushPolicy::default())?;
//! assert!(torn.is_none(), "a new file");
//! let sink = Arc::new(sink);
//! // One `CaptureConn` per connection: its number, its network. Peers get
//! // theirs from `Hooks::with_capture(sink.clone())`.
//! let conn = sink.connection(CurrencyNet::SimNet);
//! conn.record(Direction::Sent, &[b"a whole frame"]);
//! drop(conn);
//! let stats = sink.close()?;
//! assert_eq!((stats.connections, stats.records), (1, 1));
//!
//! let bytes = std::fs::read(&path)?;
//! let first = Records::new(&bytes)?.next().unwrap()?;
//! assert_eq!(first.frame, b"a whole frame");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::io::{self, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use dcr_wire::CurrencyNet;

use super::format::{
    header, open_for_append, record_head, CaptureError, Direction, FlushPolicy, RECORD_OVERHEAD,
};
use crate::sync::lock;

/// Bytes of records a sink holds for its writer before it drops new
/// ones, by default: 64 MiB (with as much again being written). A record
/// is always taken when nothing is waiting, so even the largest frame
/// ([`MAX_FRAME_LEN`](super::format::MAX_FRAME_LEN)) fits.
pub const DEFAULT_BACKLOG: usize = 64 << 20;

/// A buffer of more capacity than this is let go after its write rather
/// than kept for the next (a burst of large frames does not pin memory).
const KEEP_CAPACITY: usize = 8 << 20;

/// What a sink has done so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CaptureStats {
    /// Connections numbered by [`CaptureSink::connection`].
    pub connections: u32,
    /// Records written to the file (not those still buffered).
    pub records: u64,
    /// Bytes of those records.
    pub bytes: u64,
    /// Records dropped: the writer was behind by more than the backlog,
    /// the sink was closed, or its file failed.
    pub dropped: u64,
}

/// A frame capture that many peers record into at once; see the module
/// docs. Made with [`CaptureSink::new`] or [`CaptureSink::open_file`],
/// shared as an `Arc` (a peer gets it through
/// [`Hooks::with_capture`](crate::Hooks::with_capture)).
///
/// Records reach the file per the [`FlushPolicy`]: with the default,
/// once 1 MiB is buffered or 1 s after the oldest buffered record was
/// made, when a connection's [`CaptureConn`] is dropped, on
/// [`CaptureSink::flush`], and on [`CaptureSink::close`] and drop. With
/// [`FlushPolicy::EveryRecord`] the writer is woken for every record, and
/// writes all that is buffered when it runs. Every write is of whole
/// records, so a crash of the program loses at most what was buffered and
/// leaves at most one torn record at the end.
pub struct CaptureSink {
    shared: Arc<Shared>,
    writer: Mutex<Option<JoinHandle<()>>>,
    next_conn: AtomicU32,
    first_conn: u32,
}

/// What recorders and the writer thread share.
struct Shared {
    state: Mutex<State>,
    /// The writer waits on it for work.
    work: Condvar,
    /// [`CaptureSink::flush`] waits on it for the writer's progress.
    progress: Condvar,
    /// A buffer this long is due at once.
    max_bytes: usize,
    /// A buffer whose oldest record is this old is due.
    max_delay: Duration,
}

struct State {
    /// Records not yet taken by the writer.
    buf: Vec<u8>,
    /// When the first record in `buf` was added.
    oldest: Option<Instant>,
    /// Records put in the buffer so far, and of those, handed to the file
    /// (sequence numbers: a flush waits for `written` to reach `appended`).
    appended: u64,
    written: u64,
    bytes_written: u64,
    /// A write of everything up to this record is wanted now.
    flush_to: u64,
    dropped: u64,
    /// Bytes of `buf` beyond which records are dropped.
    backlog: usize,
    /// The writer is waiting on `work` (a recorder wakes it only then).
    writer_waiting: bool,
    /// A drop was logged already.
    warned: bool,
    closing: bool,
    /// The writer thread has ended.
    finished: bool,
    /// The file's write failed: recording stopped.
    failed: Option<(io::ErrorKind, String)>,
}

impl State {
    /// The buffer should be written now.
    fn due(&self, max_bytes: usize) -> bool {
        !self.buf.is_empty() && (self.buf.len() >= max_bytes || self.flush_to > self.written)
    }

    fn failure(&self) -> Option<CaptureError> {
        self.failed
            .as_ref()
            .map(|(kind, msg)| CaptureError::Io(io::Error::new(*kind, msg.clone())))
    }
}

impl CaptureSink {
    /// Starts a new capture on `out` (the header is written at once) and
    /// the thread that writes to it.
    pub fn new<W: Write + Send + 'static>(
        mut out: W,
        policy: FlushPolicy,
    ) -> Result<CaptureSink, CaptureError> {
        out.write_all(&header())?;
        out.flush()?;
        CaptureSink::start(Box::new(out), policy, 0)
    }

    /// Opens `path` for capturing, as [`CaptureWriter::open_file`]
    /// does: a new file gets the header, an existing capture is appended
    /// to after its torn tail (returned) is cut off, anything else is
    /// refused untouched. Connection numbers continue after the highest
    /// the file holds, so they stay unique within it.
    ///
    /// [`CaptureWriter::open_file`]: super::CaptureWriter::open_file
    pub fn open_file(
        path: &Path,
        policy: FlushPolicy,
    ) -> Result<(CaptureSink, Option<CaptureError>), CaptureError> {
        let mut opened = open_for_append(path)?;
        if opened.is_new {
            opened.file.write_all(&header())?;
            opened.file.flush()?;
        }
        let first = opened.last_conn.map_or(0, |c| c.wrapping_add(1));
        let sink = CaptureSink::start(Box::new(opened.file), policy, first)?;
        Ok((sink, opened.torn))
    }

    fn start(
        out: Box<dyn Write + Send>,
        policy: FlushPolicy,
        first_conn: u32,
    ) -> Result<CaptureSink, CaptureError> {
        let (max_bytes, max_delay) = match policy {
            FlushPolicy::EveryRecord => (0, Duration::ZERO),
            FlushPolicy::Buffered {
                max_bytes,
                max_delay,
            } => (max_bytes, max_delay),
        };
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                buf: Vec::new(),
                oldest: None,
                appended: 0,
                written: 0,
                bytes_written: 0,
                flush_to: 0,
                dropped: 0,
                backlog: DEFAULT_BACKLOG,
                writer_waiting: false,
                warned: false,
                closing: false,
                finished: false,
                failed: None,
            }),
            work: Condvar::new(),
            progress: Condvar::new(),
            max_bytes,
            max_delay,
        });
        let for_writer = shared.clone();
        let writer = std::thread::Builder::new()
            .name("dcr-capture".into())
            .spawn(move || write_loop(&for_writer, out))?;
        Ok(CaptureSink {
            shared,
            writer: Mutex::new(Some(writer)),
            next_conn: AtomicU32::new(first_conn),
            first_conn,
        })
    }

    /// Sets the backlog bound: bytes of records waiting for the writer
    /// beyond which new records are dropped ([`DEFAULT_BACKLOG`] unless
    /// set).
    pub fn with_backlog(self, bytes: usize) -> CaptureSink {
        lock(&self.shared.state).backlog = bytes;
        self
    }

    /// A new connection's side of the capture: the next connection
    /// number, and the network its records carry.
    pub fn connection(self: &Arc<Self>, net: CurrencyNet) -> CaptureConn {
        CaptureConn {
            sink: self.clone(),
            conn: self.next_conn.fetch_add(1, Ordering::Relaxed),
            net,
        }
    }

    /// Records one frame given in `parts` (written one after the other),
    /// of connection `conn`, made at `time`. Copies it into the buffer;
    /// never waits for the file. Refused when the frame is longer than
    /// any the protocol allows ([`CaptureError::FrameTooLong`]), when the
    /// writer is behind by more than the backlog
    /// ([`CaptureError::Backlog`]), and after [`CaptureSink::close`] or a
    /// failed write ([`CaptureError::Closed`]); every refusal but the
    /// first kind is counted in [`CaptureStats::dropped`].
    pub fn record(
        &self,
        direction: Direction,
        conn: u32,
        time: SystemTime,
        net: CurrencyNet,
        parts: &[&[u8]],
    ) -> Result<(), CaptureError> {
        let (head, crc) = record_head(direction, conn, time, net, parts)?;
        let total = RECORD_OVERHEAD + parts.iter().map(|p| p.len()).sum::<usize>();
        let shared = &*self.shared;
        let mut st = lock(&shared.state);
        if st.closing || st.failed.is_some() {
            st.dropped += 1;
            return Err(CaptureError::Closed);
        }
        let before = st.buf.len();
        if before > 0 && before.saturating_add(total) > st.backlog {
            st.dropped += 1;
            if !std::mem::replace(&mut st.warned, true) {
                tracing::warn!(
                    waiting = before,
                    "capture: the writer is behind; records are dropped (counted in the stats)"
                );
            }
            return Err(CaptureError::Backlog { bytes: before });
        }
        st.buf.extend_from_slice(&head);
        for p in parts {
            st.buf.extend_from_slice(p);
        }
        st.buf.extend_from_slice(&crc);
        st.appended += 1;
        if before == 0 {
            st.oldest = Some(Instant::now());
        }
        // The writer sleeps until its buffer is due; it is told only when
        // that changes: the first record (it starts the clock) or the one
        // that fills it.
        let wake = st.writer_waiting
            && (before == 0 || (before < shared.max_bytes && st.buf.len() >= shared.max_bytes));
        drop(st);
        if wake {
            shared.work.notify_one();
        }
        Ok(())
    }

    /// Asks the writer to write what is buffered now, without waiting for
    /// it (a connection's [`CaptureConn`] does this when dropped).
    pub fn request_flush(&self) {
        let mut st = lock(&self.shared.state);
        st.flush_to = st.appended;
        let wake = st.writer_waiting && !st.buf.is_empty();
        drop(st);
        if wake {
            self.shared.work.notify_one();
        }
    }

    /// Writes everything recorded so far and flushes the file, waiting
    /// for the writer (a blocking call: from async code, use
    /// `spawn_blocking` or [`CaptureSink::request_flush`]). Fails when a
    /// write has failed.
    pub fn flush(&self) -> Result<(), CaptureError> {
        let mut st = lock(&self.shared.state);
        let target = st.appended;
        st.flush_to = st.flush_to.max(target);
        if st.writer_waiting {
            self.shared.work.notify_one();
        }
        while st.written < target && st.failed.is_none() && !st.finished {
            st = self
                .shared
                .progress
                .wait(st)
                .unwrap_or_else(|e| e.into_inner());
        }
        match st.failure() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Writes everything recorded, stops the writer thread and returns
    /// the sink's figures; records made afterwards are refused. Blocks as
    /// [`CaptureSink::flush`] does. Closing again returns the figures
    /// again. Fails when a write has failed.
    pub fn close(&self) -> Result<CaptureStats, CaptureError> {
        let mut st = lock(&self.shared.state);
        st.closing = true;
        drop(st);
        self.shared.work.notify_one();
        let handle = lock(&self.writer).take();
        if let Some(handle) = handle {
            if handle.join().is_err() {
                tracing::error!("capture: the writer thread panicked");
            }
        }
        let st = lock(&self.shared.state);
        match st.failure() {
            Some(e) => Err(e),
            None => Ok(self.stats_of(&st)),
        }
    }

    /// What the sink has done so far.
    pub fn stats(&self) -> CaptureStats {
        self.stats_of(&lock(&self.shared.state))
    }

    fn stats_of(&self, st: &State) -> CaptureStats {
        CaptureStats {
            connections: self
                .next_conn
                .load(Ordering::Relaxed)
                .wrapping_sub(self.first_conn),
            records: st.written,
            bytes: st.bytes_written,
            dropped: st.dropped,
        }
    }
}

impl Drop for CaptureSink {
    fn drop(&mut self) {
        if let Err(e) = self.close() {
            tracing::warn!(error = %dcr_wire::Report(&e), "capture: closed with an error");
        }
    }
}

impl fmt::Debug for CaptureSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CaptureSink")
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

/// The writer thread: waits until the buffer is due, swaps it for its
/// spare, and writes it with no lock held; at close, writes what is left
/// and ends.
fn write_loop(shared: &Shared, mut out: Box<dyn Write + Send>) {
    let mut spare: Vec<u8> = Vec::new();
    let mut st = lock(&shared.state);
    loop {
        while !st.closing && !st.due(shared.max_bytes) {
            st.writer_waiting = true;
            st = match st.oldest {
                None => shared.work.wait(st).unwrap_or_else(|e| e.into_inner()),
                Some(t) => {
                    let age = t.elapsed();
                    if age >= shared.max_delay {
                        st.writer_waiting = false;
                        break;
                    }
                    shared
                        .work
                        .wait_timeout(st, shared.max_delay - age)
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
            };
            st.writer_waiting = false;
        }
        if st.buf.is_empty() {
            // Only closing gets here with nothing to write.
            break;
        }
        std::mem::swap(&mut st.buf, &mut spare);
        st.oldest = None;
        let upto = st.appended;
        drop(st);
        let result = out.write_all(&spare).and_then(|()| out.flush());
        let bytes = spare.len() as u64;
        spare.clear();
        if spare.capacity() > KEEP_CAPACITY {
            spare = Vec::new();
        }
        st = lock(&shared.state);
        match result {
            Ok(()) => {
                st.written = upto;
                st.bytes_written += bytes;
            }
            Err(e) => {
                tracing::error!(error = %dcr_wire::Report(&e), "capture: writing the file failed; recording stops");
                // What was being written, and what waits, is lost.
                let lost = st.appended - st.written;
                st.dropped += lost;
                st.written = st.appended;
                st.buf = Vec::new();
                st.oldest = None;
                st.failed = Some((e.kind(), e.to_string()));
                break;
            }
        }
        shared.progress.notify_all();
    }
    st.finished = true;
    drop(st);
    shared.progress.notify_all();
}

/// One connection's side of a [`CaptureSink`]: its number and network.
/// Dropping it (the connection closed) asks the sink to write what is
/// buffered.
#[derive(Debug)]
pub struct CaptureConn {
    sink: Arc<CaptureSink>,
    conn: u32,
    net: CurrencyNet,
}

impl CaptureConn {
    /// The connection's number in the capture.
    pub fn number(&self) -> u32 {
        self.conn
    }

    /// Records a frame of this connection, given in `parts`, made now. A
    /// refusal (see [`CaptureSink::record`]) is counted by the sink, and
    /// otherwise ignored: the connection goes on.
    pub fn record(&self, direction: Direction, parts: &[&[u8]]) {
        let now = SystemTime::now();
        if let Err(e) = self.sink.record(direction, self.conn, now, self.net, parts) {
            tracing::trace!(conn = self.conn, error = %dcr_wire::Report(&e), "frame not captured");
        }
    }
}

impl Drop for CaptureConn {
    fn drop(&mut self) {
        self.sink.request_flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::{Records, MAX_FRAME_LEN};

    /// A writer whose bytes the test reads back.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            lock(&self.0).extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Shared {
        fn bytes(&self) -> Vec<u8> {
            lock(&self.0).clone()
        }
    }

    fn frames(bytes: &[u8]) -> Vec<(u32, Direction, Vec<u8>)> {
        Records::new(bytes)
            .unwrap()
            .map(|r| {
                let r = r.unwrap();
                (r.conn, r.direction, r.frame.to_vec())
            })
            .collect()
    }

    #[test]
    fn threads_recording_at_once_keep_each_connection_s_order() {
        let out = Shared::default();
        let sink = Arc::new(CaptureSink::new(out.clone(), FlushPolicy::default()).unwrap());
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let c = sink.connection(CurrencyNet::SimNet);
                std::thread::spawn(move || {
                    for i in 0..500u32 {
                        let dir = [Direction::Sent, Direction::Received][i as usize % 2];
                        c.record(dir, &[&i.to_le_bytes(), &[c.number() as u8; 40]]);
                    }
                    c.number()
                })
            })
            .collect();
        let numbers: Vec<u32> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        let mut sorted = numbers.clone();
        sorted.sort();
        assert_eq!(sorted, [0, 1, 2, 3]);
        sink.flush().unwrap();
        let got = frames(&out.bytes());
        assert_eq!(got.len(), 2000);
        for n in numbers {
            let mine: Vec<_> = got.iter().filter(|f| f.0 == n).collect();
            assert_eq!(mine.len(), 500);
            for (i, (_, dir, frame)) in mine.iter().enumerate() {
                assert_eq!(frame[..4], (i as u32).to_le_bytes(), "in order");
                assert_eq!(*dir, [Direction::Sent, Direction::Received][i % 2]);
                assert_eq!(frame.len(), 44);
            }
        }
        let stats = sink.close().unwrap();
        assert_eq!(
            stats,
            CaptureStats {
                connections: 4,
                records: 2000,
                bytes: 2000 * (RECORD_OVERHEAD as u64 + 44),
                dropped: 0
            }
        );
        assert!(matches!(
            sink.record(
                Direction::Sent,
                0,
                SystemTime::now(),
                CurrencyNet::SimNet,
                &[b"x"]
            ),
            Err(CaptureError::Closed)
        ));
        assert_eq!(sink.stats().dropped, 1);
    }

    #[test]
    fn records_reach_the_file_by_age_and_when_a_connection_closes() {
        let out = Shared::default();
        let policy = FlushPolicy::Buffered {
            max_bytes: 1 << 20,
            max_delay: Duration::from_millis(50),
        };
        let sink = Arc::new(CaptureSink::new(out.clone(), policy).unwrap());
        let header_only = out.bytes().len();
        let c = sink.connection(CurrencyNet::MainNet);
        c.record(Direction::Sent, &[b"old"]);
        let deadline = Instant::now() + Duration::from_secs(10);
        while out.bytes().len() == header_only {
            assert!(Instant::now() < deadline, "written within its delay");
            std::thread::sleep(Duration::from_millis(5));
        }
        // A long delay: only the connection's end writes the next one.
        let policy = FlushPolicy::Buffered {
            max_bytes: 1 << 20,
            max_delay: Duration::from_secs(3600),
        };
        let out = Shared::default();
        let sink = Arc::new(CaptureSink::new(out.clone(), policy).unwrap());
        let c = sink.connection(CurrencyNet::MainNet);
        c.record(Direction::Received, &[b"last words"]);
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(out.bytes().len(), header().len(), "still buffered");
        drop(c);
        let deadline = Instant::now() + Duration::from_secs(10);
        while frames(&out.bytes()).is_empty() {
            assert!(
                Instant::now() < deadline,
                "written when the connection closed"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(frames(&out.bytes())[0].2, b"last words");
    }

    #[test]
    fn a_writer_behind_by_the_backlog_drops_and_counts_records() {
        /// A file that takes its writes only when the test lets it.
        struct Gate(Arc<(Mutex<bool>, Condvar)>, Shared);
        impl Write for Gate {
            fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
                let (open, cv) = &*self.0;
                let mut o = lock(open);
                while !*o {
                    o = cv.wait(o).unwrap();
                }
                self.1.write(buf)
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let gate = Arc::new((Mutex::new(true), Condvar::new()));
        let out = Shared::default();
        let sink = CaptureSink::new(Gate(gate.clone(), out.clone()), FlushPolicy::EveryRecord)
            .unwrap()
            .with_backlog(1000);
        let sink = Arc::new(sink);
        *lock(&gate.0) = false;
        let c = sink.connection(CurrencyNet::SimNet);
        // The writer takes the first record and blocks on the gate; the
        // next ones wait in the buffer up to 1000 bytes (100 a record).
        c.record(Direction::Sent, &[&[1u8; 75]]);
        let deadline = Instant::now() + Duration::from_secs(10);
        while lock(&sink.shared.state).appended != 1 || !lock(&sink.shared.state).buf.is_empty() {
            assert!(Instant::now() < deadline);
            std::thread::sleep(Duration::from_millis(1));
        }
        for _ in 0..15 {
            c.record(Direction::Sent, &[&[2u8; 75]]);
        }
        assert_eq!(sink.stats().dropped, 5, "10 wait, 5 dropped");
        // A frame as large as any: taken when nothing waits, however
        // small the backlog.
        assert!(matches!(
            sink.record(
                Direction::Sent,
                0,
                SystemTime::now(),
                CurrencyNet::SimNet,
                &[&vec![0u8; MAX_FRAME_LEN + 1]]
            ),
            Err(CaptureError::FrameTooLong { .. })
        ));
        *lock(&gate.0) = true;
        gate.1.notify_all();
        sink.flush().unwrap();
        let got = frames(&out.bytes());
        assert_eq!(got.len(), 11);
        let stats = sink.close().unwrap();
        assert_eq!((stats.records, stats.dropped), (11, 5));
    }

    #[test]
    fn a_failed_write_stops_recording_and_is_reported() {
        struct Broken;
        impl Write for Broken {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::Error::other("disk full"))
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        /// Takes the header, then fails.
        struct HeaderThenBroken(bool);
        impl Write for HeaderThenBroken {
            fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
                if std::mem::replace(&mut self.0, true) {
                    Broken.write(buf)
                } else {
                    Ok(buf.len())
                }
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        assert!(matches!(
            CaptureSink::new(Broken, FlushPolicy::default()),
            Err(CaptureError::Io(_))
        ));
        let sink =
            Arc::new(CaptureSink::new(HeaderThenBroken(false), FlushPolicy::EveryRecord).unwrap());
        let c = sink.connection(CurrencyNet::SimNet);
        c.record(Direction::Sent, &[b"lost"]);
        let e = sink.flush().unwrap_err();
        assert!(e.to_string().contains("i/o"), "{e}");
        c.record(Direction::Sent, &[b"refused"]);
        assert_eq!(sink.stats().dropped, 2);
        assert!(sink.close().is_err());
    }

    /// A file one sink records into is refused to a second (and to a
    /// `CaptureWriter`) until the first is closed: both appended from the
    /// same end and wrote their records over each other's, and the second
    /// would cut a record the first was writing off as a torn tail.
    #[test]
    fn a_file_has_one_writer_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.dcrcap");
        let (first, _) = CaptureSink::open_file(&path, FlushPolicy::default()).unwrap();
        let first = Arc::new(first);
        first
            .connection(CurrencyNet::SimNet)
            .record(Direction::Received, &[b"first"]);
        first.flush().unwrap();
        let before = std::fs::read(&path).unwrap();
        assert!(matches!(
            CaptureSink::open_file(&path, FlushPolicy::default()),
            Err(CaptureError::InUse)
        ));
        assert!(matches!(
            crate::capture::CaptureWriter::open_file(&path, FlushPolicy::default()),
            Err(CaptureError::InUse)
        ));
        assert_eq!(std::fs::read(&path).unwrap(), before, "left untouched");
        first.close().unwrap();
        drop(first);
        let (second, torn) = CaptureSink::open_file(&path, FlushPolicy::default()).unwrap();
        assert!(torn.is_none());
        let second = Arc::new(second);
        second
            .connection(CurrencyNet::SimNet)
            .record(Direction::Sent, &[b"second"]);
        second.close().unwrap();
        let got = frames(&std::fs::read(&path).unwrap());
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].2, b"second");
    }

    #[test]
    fn a_reopened_file_numbers_connections_after_its_last() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.dcrcap");
        let (sink, torn) = CaptureSink::open_file(&path, FlushPolicy::default()).unwrap();
        assert!(torn.is_none());
        let sink = Arc::new(sink);
        for _ in 0..3 {
            sink.connection(CurrencyNet::SimNet)
                .record(Direction::Received, &[b"first run"]);
        }
        assert_eq!(sink.close().unwrap().connections, 3);
        drop(sink);
        // A crash in the middle of a record.
        let mut bytes = std::fs::read(&path).unwrap();
        let whole = bytes.len();
        bytes.extend_from_slice(&[9, 0, 0, 0, 1]);
        std::fs::write(&path, &bytes).unwrap();
        let (sink, torn) = CaptureSink::open_file(&path, FlushPolicy::default()).unwrap();
        assert!(
            matches!(torn, Some(CaptureError::TornTail { offset, bytes: 5 }) if offset == whole as u64)
        );
        let sink = Arc::new(sink);
        let c = sink.connection(CurrencyNet::SimNet);
        assert_eq!(c.number(), 3);
        c.record(Direction::Sent, &[b"second run"]);
        drop(c);
        sink.close().unwrap();
        let got = frames(&std::fs::read(&path).unwrap());
        let conns: Vec<u32> = got.iter().map(|f| f.0).collect();
        assert_eq!(conns, [0, 1, 2, 3]);
        assert_eq!(got[3].2, b"second run");
    }
}
