//! Headers and filters on disk, across restarts: two checksummed append-only
//! files in one folder.
//!
//! **Why files, not a database.** What a light client keeps is two
//! sequences indexed by height, whose only change besides appending is
//! cutting the tail at a reorganization. Fixed-size header records give
//! random access by height with no index; crash safety reduces to one rule,
//! "the longest prefix of records whose checksums hold", which a test can
//! exercise by tearing the files at every byte; and no dependency or file
//! format of someone else's is involved. An embedded database (redb) would
//! add a B-tree, a commit protocol and an MSRV to follow, for no query this
//! data needs.
//!
//! - `headers.dat`: one record per main chain block from height 1 (genesis
//!   comes from the parameters): the 180 header bytes, then the first four
//!   bytes of their BLAKE-256 (the block hash), 184 bytes in all.
//! - `filters.dat`: one record per block, in height order: a 4-byte
//!   little-endian body length, the body (height as 4 bytes, block hash,
//!   filter bytes), and the first four bytes of the body's BLAKE-256.
//!
//! Opening reads both files, keeps the longest valid prefix of each
//! (checksums, heights in sequence, each header linking to the one before,
//! each filter naming the block the header file has at its height) and cuts
//! anything after it: a torn write, garbage, or a tail a crash left
//! half-rewritten during a reorganization. Nothing read from disk can make
//! it panic or allocate beyond the largest filter the wire allows.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use dcr_wire::msg::BLOCK_HEADER_SIZE;
use dcr_wire::msg::MAX_CFILTER_DATA_SIZE;
use dcr_wire::{blake256, checksum, BlockHeader, Hash};

/// Bytes of one header record.
pub const HEADER_RECORD_SIZE: usize = BLOCK_HEADER_SIZE + 4;

const FILTER_BODY_FIXED: usize = 4 + 32;

/// The store: headers and filters of the main chain.
#[derive(Debug)]
pub struct Store {
    dir: PathBuf,
    genesis: Hash,
    headers: File,
    filters: File,
    /// Block hashes by height (index 0 is height 1).
    hashes: Vec<Hash>,
    /// Offset of each filter record by height, from `filters_start`.
    filter_offsets: Vec<u64>,
    filters_start: u32,
    filters_len: u64,
}

/// What [`Store::open`] found and kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recovered {
    /// The stored headers, from height 1 up.
    pub headers: Vec<BlockHeader>,
    /// Bytes cut from the end of the header file.
    pub headers_cut: u64,
    /// Bytes cut from the end of the filter file.
    pub filters_cut: u64,
}

impl Store {
    /// Opens (creating) the store in `dir` and recovers its valid prefix.
    /// `genesis` is the network's genesis hash, which the first stored
    /// header must name as parent.
    pub fn open(dir: impl AsRef<Path>, genesis: &Hash) -> io::Result<(Store, Recovered)> {
        let dir = dir.as_ref().to_path_buf();
        std::fs::create_dir_all(&dir)?;
        let open = |name: &str| {
            OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(dir.join(name))
        };
        let mut headers = open("headers.dat")?;
        let mut filters = open("filters.dat")?;
        let mut rec = Recovered::default();

        let mut bytes = Vec::new();
        headers.read_to_end(&mut bytes)?;
        let mut hashes = Vec::new();
        let mut prev = *genesis;
        let mut good = 0usize;
        for (i, r) in bytes.chunks_exact(HEADER_RECORD_SIZE).enumerate() {
            let (hb, sum) = r.split_at(BLOCK_HEADER_SIZE);
            let hash = blake256(hb);
            let Ok(h) = BlockHeader::from_bytes(hb) else {
                break;
            };
            if hash.0[..4] != *sum || h.prev_block != prev || h.height as usize != i + 1 {
                break;
            }
            rec.headers.push(h);
            hashes.push(hash);
            prev = hash;
            good += HEADER_RECORD_SIZE;
        }
        rec.headers_cut = (bytes.len() - good) as u64;
        if rec.headers_cut > 0 {
            headers.set_len(good as u64)?;
            headers.sync_all()?;
        }
        headers.seek(SeekFrom::End(0))?;

        let mut store = Store {
            dir,
            genesis: *genesis,
            headers,
            filters: filters.try_clone()?,
            hashes,
            filter_offsets: Vec::new(),
            filters_start: 0,
            filters_len: 0,
        };
        let total = filters.seek(SeekFrom::End(0))?;
        filters.seek(SeekFrom::Start(0))?;
        let mut reader = io::BufReader::new(&mut filters);
        let mut offset = 0u64;
        while let Some((height, hash, len)) = read_filter_record(&mut reader)? {
            let expected_height = store.filters_start + store.filter_offsets.len() as u32;
            let first = store.filter_offsets.is_empty();
            if (!first && height != expected_height) || store.hash_at(height) != Some(hash) {
                break;
            }
            if first {
                store.filters_start = height;
            }
            store.filter_offsets.push(offset);
            offset += len;
        }
        drop(reader);
        store.filters_len = offset;
        rec.filters_cut = total - offset;
        if rec.filters_cut > 0 {
            store.filters.set_len(offset)?;
            store.filters.sync_all()?;
        }
        store.filters.seek(SeekFrom::Start(offset))?;
        Ok((store, rec))
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The height of the last stored header (0: none but genesis).
    pub fn headers_height(&self) -> u32 {
        self.hashes.len() as u32
    }

    /// The hash of the stored block at `height` (genesis: the network's).
    pub fn hash_at(&self, height: u32) -> Option<Hash> {
        match height.checked_sub(1) {
            None => Some(self.genesis),
            Some(i) => self.hashes.get(i as usize).copied(),
        }
    }

    /// The height after the last stored filter (where filter fetching
    /// resumes); filters are stored from the height the first one was.
    pub fn filters_end(&self) -> u32 {
        self.filters_start + self.filter_offsets.len() as u32
    }

    /// Appends main chain headers, which must continue the stored ones.
    /// Call [`sync`](Self::sync) to make them durable.
    pub fn append_headers(&mut self, headers: &[(BlockHeader, Hash)]) -> io::Result<()> {
        let mut buf = Vec::with_capacity(headers.len() * HEADER_RECORD_SIZE);
        for (h, hash) in headers {
            let expect = self.headers_height() + 1 + (buf.len() / HEADER_RECORD_SIZE) as u32;
            if h.height != expect {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "header at height {} appended where {expect} is due",
                        h.height
                    ),
                ));
            }
            h.write(&mut buf);
            buf.extend_from_slice(&hash.0[..4]);
        }
        self.headers.write_all(&buf)?;
        self.hashes.extend(headers.iter().map(|(_, h)| *h));
        Ok(())
    }

    /// Cuts headers (and their filters) above `height`, for a
    /// reorganization whose fork is at `height`.
    pub fn truncate(&mut self, height: u32) -> io::Result<()> {
        if height < self.headers_height() {
            self.hashes.truncate(height as usize);
            let len = u64::from(height) * HEADER_RECORD_SIZE as u64;
            self.headers.set_len(len)?;
            self.headers.seek(SeekFrom::Start(len))?;
        }
        if height + 1 < self.filters_end() {
            let keep = (height + 1).saturating_sub(self.filters_start) as usize;
            let len = self
                .filter_offsets
                .get(keep)
                .copied()
                .unwrap_or(self.filters_len);
            self.filter_offsets.truncate(keep);
            self.filters_len = len;
            self.filters.set_len(len)?;
            self.filters.seek(SeekFrom::Start(len))?;
        }
        Ok(())
    }

    /// Appends the filter of the stored block at `height` (the next one
    /// due, or any height when none is stored yet).
    pub fn append_filter(&mut self, height: u32, hash: &Hash, data: &[u8]) -> io::Result<()> {
        let due = self.filters_end();
        if !self.filter_offsets.is_empty() && height != due {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("filter for height {height} appended where {due} is due"),
            ));
        }
        if data.len() as u64 > MAX_CFILTER_DATA_SIZE {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "filter too large",
            ));
        }
        let mut body = Vec::with_capacity(FILTER_BODY_FIXED + data.len());
        body.extend_from_slice(&height.to_le_bytes());
        body.extend_from_slice(&hash.0);
        body.extend_from_slice(data);
        let mut rec = Vec::with_capacity(body.len() + 8);
        rec.extend_from_slice(&(body.len() as u32).to_le_bytes());
        rec.extend_from_slice(&body);
        rec.extend_from_slice(&checksum(&body));
        self.filters.write_all(&rec)?;
        if self.filter_offsets.is_empty() {
            self.filters_start = height;
        }
        self.filter_offsets.push(self.filters_len);
        self.filters_len += rec.len() as u64;
        Ok(())
    }

    /// Appends the filters of consecutive stored blocks in one write, as
    /// [`append_filter`](Self::append_filter) appends one: `(height,
    /// block hash, filter bytes)` in height order.
    pub fn append_filters<'a>(
        &mut self,
        filters: impl IntoIterator<Item = (u32, &'a Hash, &'a [u8])>,
    ) -> io::Result<()> {
        let mut buf = Vec::new();
        let mut offsets = Vec::new();
        let (mut start, mut len) = (self.filters_start, self.filters_len);
        let mut due = (!self.filter_offsets.is_empty()).then(|| self.filters_end());
        for (height, hash, data) in filters {
            if due.is_some_and(|d| d != height) {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("filter for height {height} appended where {due:?} is due"),
                ));
            }
            if data.len() as u64 > MAX_CFILTER_DATA_SIZE {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "filter too large",
                ));
            }
            if due.is_none() {
                start = height;
            }
            due = Some(height + 1);
            let body_len = FILTER_BODY_FIXED + data.len();
            let at = buf.len();
            buf.extend_from_slice(&(body_len as u32).to_le_bytes());
            buf.extend_from_slice(&height.to_le_bytes());
            buf.extend_from_slice(&hash.0);
            buf.extend_from_slice(data);
            let sum = checksum(&buf[at + 4..]);
            buf.extend_from_slice(&sum);
            offsets.push(len);
            len += (buf.len() - at) as u64;
        }
        self.filters.write_all(&buf)?;
        self.filters_start = start;
        self.filter_offsets.extend(offsets);
        self.filters_len = len;
        Ok(())
    }

    /// The stored headers from `height` (at least 1) on, at most `count`
    /// of them, with their hashes: what a filter fetcher needs of blocks
    /// whose headers it no longer holds.
    pub fn read_headers(
        &mut self,
        height: u32,
        count: usize,
    ) -> io::Result<Vec<(BlockHeader, Hash)>> {
        let first = height.max(1);
        let last = (u64::from(first) + count as u64).min(u64::from(self.headers_height()) + 1);
        if u64::from(first) >= last {
            return Ok(Vec::new());
        }
        let n = (last - u64::from(first)) as usize;
        let mut bytes = vec![0u8; n * HEADER_RECORD_SIZE];
        self.headers.seek(SeekFrom::Start(
            u64::from(first - 1) * HEADER_RECORD_SIZE as u64,
        ))?;
        let read = read_full(&mut self.headers, &mut bytes);
        self.headers.seek(SeekFrom::End(0))?;
        if !read? {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let mut out = Vec::with_capacity(n);
        for (i, r) in bytes.chunks_exact(HEADER_RECORD_SIZE).enumerate() {
            let h = BlockHeader::from_bytes(&r[..BLOCK_HEADER_SIZE])
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            let hash = self.hashes[first as usize - 1 + i];
            out.push((h, hash));
        }
        Ok(out)
    }

    /// The stored filter of block `height`.
    pub fn read_filter(&mut self, height: u32) -> io::Result<Option<Vec<u8>>> {
        let Some(i) = height.checked_sub(self.filters_start) else {
            return Ok(None);
        };
        let Some(&offset) = self.filter_offsets.get(i as usize) else {
            return Ok(None);
        };
        let mut f = &self.filters;
        f.seek(SeekFrom::Start(offset))?;
        let mut r = io::BufReader::new(f);
        let out = read_filter_body(&mut r)?;
        self.filters.seek(SeekFrom::Start(self.filters_len))?;
        Ok(out.map(|(_, _, data)| data))
    }

    /// Makes everything written so far durable (fsync of both files).
    pub fn sync(&mut self) -> io::Result<()> {
        self.headers.sync_data()?;
        self.filters.sync_data()
    }
}

/// Reads one filter record's body: `None` at a clean end, a torn record or
/// a bad checksum (the caller cuts there).
fn read_filter_body(r: &mut impl Read) -> io::Result<Option<(u32, Hash, Vec<u8>)>> {
    let mut len = [0u8; 4];
    if !read_full(r, &mut len)? {
        return Ok(None);
    }
    let len = u32::from_le_bytes(len) as usize;
    if len < FILTER_BODY_FIXED || (len - FILTER_BODY_FIXED) as u64 > MAX_CFILTER_DATA_SIZE {
        return Ok(None);
    }
    let mut body = vec![0u8; len + 4];
    if !read_full(r, &mut body)? {
        return Ok(None);
    }
    let (body, sum) = body.split_at(len);
    if checksum(body) != sum {
        return Ok(None);
    }
    let height = u32::from_le_bytes([body[0], body[1], body[2], body[3]]);
    let mut hash = [0u8; 32];
    hash.copy_from_slice(&body[4..36]);
    Ok(Some((height, Hash(hash), body[36..].to_vec())))
}

fn read_filter_record(r: &mut impl Read) -> io::Result<Option<(u32, Hash, u64)>> {
    Ok(read_filter_body(r)?
        .map(|(h, hash, data)| (h, hash, (8 + FILTER_BODY_FIXED + data.len()) as u64)))
}

/// Fills `buf`; false when the input ends first.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<bool> {
    let mut at = 0;
    while at < buf.len() {
        match r.read(&mut buf[at..]) {
            Ok(0) => return Ok(false),
            Ok(n) => at += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}
