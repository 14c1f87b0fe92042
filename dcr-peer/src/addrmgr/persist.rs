//! The book on disk: dcrd's peers.json, read and written.
//!
//! The reference is dcrd's `addrmgr/addrmanager.go`: `savePeers`,
//! `loadPeers`, `deserializePeers` and the `serializedAddrManager` shape.
//! We write the same JSON (field names, order, the zero time as Go's
//! `time.Time{}.Unix()`), so a dcrd `peers.json` loads here and ours in
//! dcrd, and with the same key the buckets are the ones dcrd would choose.
//! Keeping dcrd's shape costs nothing and lets a node move its book
//! between the two; a format of our own would buy nothing a peer can see.
//!
//! Differences, each tested:
//! - the file is written crash-safe: to `peers.json.new`, flushed to disk
//!   (`fsync`), renamed over `peers.json`, and the directory flushed; dcrd
//!   renames without flushing, so a crash can leave an empty file;
//! - loading checks more than dcrd's checks (a listed address, no entry
//!   both new and tried, none in no bucket): no bucket over its size, no
//!   entry twice in a bucket or in more than [`NEW_BUCKETS_PER_ADDRESS`]
//!   new buckets or in two tried buckets, and a file at most
//!   [`MAX_PEERS_FILE_SIZE`]. dcrd accepts such a file and its counts then
//!   disagree with its buckets;
//! - an unroutable address in the file is dropped with its bucket entries
//!   (dcrd keeps it; it never adds one, so only a foreign file has one).
//!
//! As dcrd does, a loaded address has the load time as its last-seen time
//! and `SFNodeNetwork` as its services: dcrd writes `TimeStamp` but never
//! reads it back, and does not write services at all.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use dcr_wire::{NetAddressV2, ServiceFlags};
use rand::RngCore;
use serde::{Deserialize, Serialize};

use super::address::AddrKey;
use super::known::KnownAddress;
use super::network::host_is_routable;
use super::{
    type_of, AddrManager, Params, DEFAULT_TRIED_BUCKET_SIZE, NEW_BUCKETS_PER_ADDRESS,
    NEW_BUCKET_COUNT, NEW_BUCKET_SIZE, TRIED_BUCKET_COUNT,
};

/// The file name of the book in the data directory (dcrd's
/// `peersFilename`).
pub const PEERS_FILENAME: &str = "peers.json";

/// The version of the format (dcrd's `serialisationVersion`).
pub const SERIALISATION_VERSION: i64 = 1;

/// The largest peers.json we read: a full book of Tor addresses is about
/// 30 MB; anything larger is not ours.
pub const MAX_PEERS_FILE_SIZE: u64 = 64 << 20;

/// Go's zero `time.Time` as Unix seconds: what dcrd writes for "never".
const GO_ZERO_TIME: i64 = -62_135_596_800;

/// Why a peers.json could not be loaded; the book then starts empty.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The file could not be read.
    #[error("error reading file: {0}")]
    Io(#[from] io::Error),
    /// The file is larger than [`MAX_PEERS_FILE_SIZE`].
    #[error("file of {0} bytes is larger than {MAX_PEERS_FILE_SIZE}")]
    TooLarge(u64),
    /// Not JSON of the expected shape (truncated, garbage, wrong types).
    #[error("malformed file: {0}")]
    Json(#[from] serde_json::Error),
    /// A version other than [`SERIALISATION_VERSION`].
    #[error("unknown version {0} in serialized addrmanager")]
    Version(i64),
    /// An address or source that is not `host:port` of a known type.
    #[error("failed to deserialize netaddress {0:?}")]
    BadAddress(String),
    /// A bucket names an address the list does not have.
    #[error("{kind} buckets contain {addr} but none in address list")]
    NotListed {
        /// `new` or `tried`.
        kind: &'static str,
        /// The key as written.
        addr: String,
    },
    /// A bucket holds more entries than the manager ever puts in one.
    #[error("{kind} bucket {bucket} holds more than {max} addresses")]
    BucketOverflow {
        /// `new` or `tried`.
        kind: &'static str,
        /// The bucket.
        bucket: usize,
        /// Its size.
        max: usize,
    },
    /// An address twice in one new bucket.
    #[error("{0} twice in new bucket {1}")]
    DuplicateInBucket(String, usize),
    /// An address in more than [`NEW_BUCKETS_PER_ADDRESS`] new buckets.
    #[error("{0} in more than {NEW_BUCKETS_PER_ADDRESS} new buckets")]
    TooManyRefs(String),
    /// An address twice in the tried buckets.
    #[error("{0} in the tried buckets twice")]
    TriedTwice(String),
    /// An address in no bucket.
    #[error("address {0} after serialisation with no references")]
    NoReferences(String),
    /// An address both new and tried.
    #[error("address {0} after serialisation which is both new and tried")]
    NewAndTried(String),
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
struct SerializedKnownAddress {
    #[serde(rename = "Addr")]
    addr: String,
    #[serde(rename = "Src")]
    src: String,
    #[serde(rename = "Attempts")]
    attempts: i64,
    #[serde(rename = "TimeStamp")]
    timestamp: i64,
    #[serde(rename = "LastAttempt")]
    last_attempt: i64,
    #[serde(rename = "LastSuccess")]
    last_success: i64,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
struct SerializedAddrManager {
    #[serde(rename = "Version")]
    version: i64,
    /// Go's `[32]byte`: a JSON array of numbers; fewer leave zeros, more
    /// are ignored, as Go decodes a fixed array.
    #[serde(rename = "Key")]
    key: Vec<u8>,
    #[serde(rename = "Addresses")]
    addresses: Option<Vec<SerializedKnownAddress>>,
    #[serde(rename = "NewBuckets")]
    new_buckets: Vec<Option<Vec<String>>>,
    #[serde(rename = "TriedBuckets")]
    tried_buckets: Vec<Option<Vec<String>>>,
}

fn go_time(t: Option<u64>) -> i64 {
    t.map_or(GO_ZERO_TIME, |t| i64::try_from(t).unwrap_or(i64::MAX))
}

fn from_go_time(t: i64) -> Option<u64> {
    // Any other time before 1970 is a real (if odd) time: the epoch.
    (t != GO_ZERO_TIME).then(|| u64::try_from(t).unwrap_or(0))
}

/// `path` with `.new` appended (dcrd's temporary file).
fn temp_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".new");
    PathBuf::from(s)
}

impl AddrManager {
    /// The book as dcrd's peers.json (compact JSON and a newline, as Go's
    /// `json.Encoder` writes it).
    pub fn to_json(&self) -> Vec<u8> {
        let addresses = self
            .iter()
            .map(|ka| SerializedKnownAddress {
                addr: AddrKey::of(&ka.na).to_string(),
                src: AddrKey::of(&ka.src).to_string(),
                attempts: i64::from(ka.attempts),
                timestamp: i64::try_from(ka.na.timestamp).unwrap_or(i64::MAX),
                last_attempt: go_time(ka.last_attempt),
                last_success: go_time(ka.last_success),
            })
            .collect();
        let names = |bucket: &Vec<u32>| -> Option<Vec<String>> {
            Some(
                bucket
                    .iter()
                    .map(|&id| AddrKey::of(&self.entry(id).na).to_string())
                    .collect(),
            )
        };
        let sam = SerializedAddrManager {
            version: SERIALISATION_VERSION,
            key: self.key.to_vec(),
            addresses: Some(addresses),
            new_buckets: self.new_buckets.iter().map(names).collect(),
            tried_buckets: self.tried_buckets.iter().map(names).collect(),
        };
        // Strings, integers and arrays of them always serialize.
        let mut out = serde_json::to_vec(&sam).expect("plain data serializes");
        out.push(b'\n');
        out
    }

    /// Rebuilds a book from peers.json bytes (dcrd's `deserializePeers`,
    /// with the further checks the module docs list). Every address gets
    /// `now` as its last-seen time and `SFNodeNetwork` as its services,
    /// as in dcrd. The book counts as changed.
    pub fn from_json(
        bytes: &[u8],
        now: u64,
        tried_bucket_size: usize,
    ) -> Result<AddrManager, LoadError> {
        let sam: SerializedAddrManager = serde_json::from_slice(bytes)?;
        if sam.version != SERIALISATION_VERSION {
            return Err(LoadError::Version(sam.version));
        }
        let mut key = [0u8; 32];
        for (k, b) in key.iter_mut().zip(&sam.key) {
            *k = *b;
        }
        let mut m = AddrManager::new(Params {
            key,
            tried_bucket_size,
        });
        let loaded = |k: AddrKey| NetAddressV2 {
            timestamp: now,
            services: ServiceFlags::NODE_NETWORK,
            host: k.host,
            port: k.port,
        };
        let mut dropped = std::collections::HashSet::new();
        for v in sam.addresses.unwrap_or_default() {
            let k = AddrKey::parse(&v.addr).ok_or_else(|| LoadError::BadAddress(v.addr.clone()))?;
            let s = AddrKey::parse(&v.src).ok_or_else(|| LoadError::BadAddress(v.src.clone()))?;
            if !host_is_routable(&k.host) {
                dropped.insert(k);
                continue;
            }
            let ka = KnownAddress {
                attempts: u32::try_from(v.attempts.max(0)).unwrap_or(u32::MAX),
                last_attempt: from_go_time(v.last_attempt),
                last_success: from_go_time(v.last_success),
                ..KnownAddress::new(loaded(k), loaded(s))
            };
            // A repeated address replaces the earlier one, as dcrd's map
            // assignment does.
            match m.index.get(&k) {
                Some(&id) => *m.entry_mut(id) = ka,
                None => {
                    m.insert_entry(ka);
                }
            }
        }

        let lookup =
            |m: &AddrManager, kind: &'static str, s: &str| -> Result<Option<u32>, LoadError> {
                let not_listed = || LoadError::NotListed {
                    kind,
                    addr: s.to_string(),
                };
                let k = AddrKey::parse(s).ok_or_else(not_listed)?;
                if dropped.contains(&k) {
                    return Ok(None);
                }
                m.index.get(&k).copied().map(Some).ok_or_else(not_listed)
            };

        for (i, bucket) in sam.new_buckets.iter().take(NEW_BUCKET_COUNT).enumerate() {
            for s in bucket.iter().flatten() {
                let Some(id) = lookup(&m, "new", s)? else {
                    continue;
                };
                if m.new_buckets[i].contains(&id) {
                    return Err(LoadError::DuplicateInBucket(s.clone(), i));
                }
                if m.new_buckets[i].len() > NEW_BUCKET_SIZE {
                    return Err(LoadError::BucketOverflow {
                        kind: "new",
                        bucket: i,
                        max: NEW_BUCKET_SIZE + 1,
                    });
                }
                let ka = m.entry_mut(id);
                if usize::from(ka.refs) >= NEW_BUCKETS_PER_ADDRESS {
                    return Err(LoadError::TooManyRefs(s.clone()));
                }
                ka.add_ref(i);
                let (first, ty) = (ka.refs == 1, type_of(&ka.na));
                if first {
                    m.n_new += 1;
                }
                m.new_buckets[i].push(id);
                m.new_stats[i].increment(ty);
            }
        }
        for (i, bucket) in sam
            .tried_buckets
            .iter()
            .take(TRIED_BUCKET_COUNT)
            .enumerate()
        {
            for s in bucket.iter().flatten() {
                let Some(id) = lookup(&m, "tried", s)? else {
                    continue;
                };
                if m.tried_buckets[i].len() >= m.tried_bucket_size {
                    return Err(LoadError::BucketOverflow {
                        kind: "tried",
                        bucket: i,
                        max: m.tried_bucket_size,
                    });
                }
                let ka = m.entry_mut(id);
                if ka.tried {
                    return Err(LoadError::TriedTwice(s.clone()));
                }
                ka.tried = true;
                let ty = type_of(&ka.na);
                m.n_tried += 1;
                m.tried_buckets[i].push(id);
                m.tried_stats[i].increment(ty);
            }
        }
        for ka in m.iter() {
            let k = AddrKey::of(&ka.na).to_string();
            if ka.refs == 0 && !ka.tried {
                return Err(LoadError::NoReferences(k));
            }
            if ka.refs > 0 && ka.tried {
                return Err(LoadError::NewAndTried(k));
            }
        }
        Ok(m)
    }

    /// Writes the book to `path` if it changed since the last save (dcrd's
    /// `savePeers`), crash-safe: the bytes go to `path` + `.new`, which is
    /// flushed to disk and renamed over `path`; then the directory is
    /// flushed so the rename lasts. Whatever the moment of a crash, `path`
    /// holds the old book or the new one whole. `Ok(false)` when nothing
    /// changed. On an error the book stays marked changed.
    pub fn save(&mut self, path: &Path) -> io::Result<bool> {
        if !self.changed {
            return Ok(false);
        }
        let data = self.to_json();
        let tmp = temp_path(path);
        {
            let mut f = File::create(&tmp)?;
            f.write_all(&data)?;
            f.sync_all()?;
        }
        fs::rename(&tmp, path)?;
        sync_dir(path);
        self.changed = false;
        Ok(true)
    }

    /// Reads the book at `path`: `Ok(None)` when there is no file,
    /// otherwise what [`AddrManager::from_json`] makes of it.
    pub fn try_load(
        path: &Path,
        now: u64,
        tried_bucket_size: usize,
    ) -> Result<Option<AddrManager>, LoadError> {
        let mut f = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let len = f.metadata()?.len();
        if len > MAX_PEERS_FILE_SIZE {
            return Err(LoadError::TooLarge(len));
        }
        let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
        (&mut f)
            .take(MAX_PEERS_FILE_SIZE + 1)
            .read_to_end(&mut bytes)?;
        if bytes.len() as u64 > MAX_PEERS_FILE_SIZE {
            return Err(LoadError::TooLarge(bytes.len() as u64));
        }
        AddrManager::from_json(&bytes, now, tried_bucket_size).map(Some)
    }

    /// The book saved at `path`, or an empty one with a fresh random key
    /// (dcrd's `loadPeers`): when the file is missing; or, with a warning,
    /// when it cannot be read or is corrupt, truncated or inconsistent, in
    /// which case it is removed, as dcrd removes it. Never panics.
    pub fn load<R: RngCore + ?Sized>(path: &Path, now: u64, rng: &mut R) -> AddrManager {
        match AddrManager::try_load(path, now, DEFAULT_TRIED_BUCKET_SIZE) {
            Ok(Some(m)) => {
                tracing::info!(addresses = m.len(), file = %path.display(), "loaded addresses");
                m
            }
            Ok(None) => AddrManager::new(Params::random(rng)),
            Err(e) => {
                tracing::warn!(file = %path.display(), error = %e, "failed to parse peers file; starting with an empty address book");
                if let Err(e) = fs::remove_file(path) {
                    tracing::warn!(file = %path.display(), error = %e, "failed to remove corrupt peers file");
                }
                AddrManager::new(Params::random(rng))
            }
        }
    }
}

/// Flushes the directory holding `path`, so a rename in it survives a
/// crash. Best effort: some systems cannot open a directory.
fn sync_dir(path: &Path) {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}
