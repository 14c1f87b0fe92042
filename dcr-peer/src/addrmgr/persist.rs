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

use dcr_wire::{ByteCount, NetAddressV2, ServiceFlags};
use rand::Rng;
use serde::{Deserialize, Serialize};

use super::address::AddrKey;
use super::consts::{
    DEFAULT_TRIED_BUCKET_SIZE, NEW_BUCKETS_PER_ADDRESS, NEW_BUCKET_COUNT, NEW_BUCKET_SIZE,
    TRIED_BUCKET_COUNT,
};
use super::known::KnownAddress;
use super::manager::{type_of, AddrManager, Params};
use super::network::host_is_routable;

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
    #[error("cannot read the file")]
    Io(#[from] io::Error),
    /// The file is larger than [`MAX_PEERS_FILE_SIZE`].
    #[error("a file of {} is larger than {}", ByteCount(*.0), ByteCount(MAX_PEERS_FILE_SIZE))]
    TooLarge(u64),
    /// Not JSON of the expected shape (truncated, garbage, wrong types).
    #[error("malformed file")]
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

/// Go decodes JSON `null` into a field as "leave it zero": so do we.
fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
struct SerializedKnownAddress {
    #[serde(rename = "Addr", deserialize_with = "nullable")]
    addr: String,
    #[serde(rename = "Src", deserialize_with = "nullable")]
    src: String,
    #[serde(rename = "Attempts", deserialize_with = "nullable")]
    attempts: i64,
    #[serde(rename = "TimeStamp", deserialize_with = "nullable")]
    timestamp: i64,
    #[serde(rename = "LastAttempt", deserialize_with = "nullable")]
    last_attempt: i64,
    #[serde(rename = "LastSuccess", deserialize_with = "nullable")]
    last_success: i64,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
struct SerializedAddrManager {
    #[serde(rename = "Version", deserialize_with = "nullable")]
    version: i64,
    /// Go's `[32]byte`: a JSON array of numbers; fewer leave zeros, more
    /// are ignored, as Go decodes a fixed array.
    #[serde(rename = "Key", deserialize_with = "nullable")]
    key: Vec<u8>,
    #[serde(rename = "Addresses", deserialize_with = "nullable")]
    addresses: Vec<Option<SerializedKnownAddress>>,
    #[serde(rename = "NewBuckets", deserialize_with = "nullable")]
    new_buckets: Vec<Option<Vec<String>>>,
    #[serde(rename = "TriedBuckets", deserialize_with = "nullable")]
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
            .map(|ka| {
                Some(SerializedKnownAddress {
                    addr: AddrKey::of(&ka.na).to_string(),
                    src: AddrKey::of(&ka.src).to_string(),
                    attempts: i64::from(ka.attempts),
                    timestamp: i64::try_from(ka.na.timestamp).unwrap_or(i64::MAX),
                    last_attempt: go_time(ka.last_attempt),
                    last_success: go_time(ka.last_success),
                })
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
            addresses,
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
        // A null entry is Go's nil pointer, on which dcrd's loop would
        // fail: refused as an unparsable address.
        for v in sam.addresses {
            let v = v.ok_or_else(|| LoadError::BadAddress("null".to_string()))?;
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
    pub fn load<R: Rng + ?Sized>(path: &Path, now: u64, rng: &mut R) -> AddrManager {
        match AddrManager::try_load(path, now, DEFAULT_TRIED_BUCKET_SIZE) {
            Ok(Some(m)) => {
                tracing::info!(addresses = m.len(), file = %path.display(), "loaded addresses");
                m
            }
            Ok(None) => AddrManager::new(Params::random(rng)),
            Err(e) => {
                tracing::warn!(file = %path.display(), error = %dcr_wire::Report(&e), "failed to parse peers file; starting with an empty address book");
                if let Err(e) = fs::remove_file(path) {
                    tracing::warn!(file = %path.display(), error = %dcr_wire::Report(&e), "failed to remove corrupt peers file");
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addrmgr::address::tests::ONION;
    use crate::addrmgr::{parse_host, AddressPriority};
    use rand::rngs::StdRng;
    use rand::SeedableRng;
    use serde_json::{json, Value};

    const NOW: u64 = 1_700_000_000;

    fn addr(host: &str, port: u16, ts: u64) -> NetAddressV2 {
        NetAddressV2 {
            timestamp: ts,
            services: ServiceFlags::NODE_CF,
            host: parse_host(host).unwrap(),
            port,
        }
    }

    /// A book with new (several buckets), tried, IPv6 and Tor entries and
    /// some history.
    fn sample() -> AddrManager {
        let mut m = AddrManager::new(Params {
            key: [3; 32],
            tried_bucket_size: DEFAULT_TRIED_BUCKET_SIZE,
        });
        let mut r = StdRng::seed_from_u64(1);
        let src = addr("200.1.1.1", 9108, 0);
        let addrs = [
            addr("1.2.3.4", 9108, NOW - 10),
            addr("2602:100::1", 19108, NOW - 20),
            addr(ONION, 9108, NOW - 30),
            addr("5.6.7.8", 9108, NOW - 40),
        ];
        m.add_addresses(&addrs, &src, NOW, &mut r);
        for g in 2..40u8 {
            m.add_addresses(
                &addrs[..1],
                &addr(&format!("201.{g}.1.1"), 1, 0),
                NOW,
                &mut r,
            );
        }
        m.attempt(&addrs[1], NOW - 5).unwrap();
        m.attempt(&addrs[1], NOW - 4).unwrap();
        m.good(&addrs[3], NOW - 3).unwrap();
        m.add_local_address(&addr("9.9.9.9", 9108, 0), AddressPriority::Manual)
            .unwrap();
        m.check_invariants().unwrap();
        m
    }

    #[test]
    fn round_trip_keeps_key_buckets_and_history() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(PEERS_FILENAME);
        let mut m = sample();
        assert!(m.save(&path).unwrap());
        let mut r = StdRng::seed_from_u64(2);
        let back = AddrManager::load(&path, NOW + 100, &mut r);
        back.check_invariants().unwrap();
        assert_eq!(back.key(), m.key());
        assert_eq!(
            (back.len(), back.num_new(), back.num_tried()),
            (m.len(), m.num_new(), m.num_tried())
        );
        assert!(m.get(&addr("1.2.3.4", 9108, 0)).unwrap().new_refs() > 1);
        for ka in m.iter() {
            let a = ka.net_address();
            let b = back.get(a).unwrap();
            assert_eq!(back.new_buckets_of(a), m.new_buckets_of(a));
            assert_eq!(back.tried_bucket_of(a), m.tried_bucket_of(a));
            assert_eq!(
                (
                    b.attempts(),
                    b.last_attempt(),
                    b.last_success(),
                    b.is_tried()
                ),
                (
                    ka.attempts(),
                    ka.last_attempt(),
                    ka.last_success(),
                    ka.is_tried()
                )
            );
            assert_eq!(AddrKey::of(b.source()), AddrKey::of(ka.source()));
            // As dcrd: the last-seen time is the load time, the services
            // SFNodeNetwork (dcrd never reads TimeStamp back and does not
            // save services).
            assert_eq!(b.net_address().timestamp, NOW + 100);
            assert_eq!(b.net_address().services, ServiceFlags::NODE_NETWORK);
        }
        // Local addresses are not saved (dcrd rediscovers them each start).
        assert!(back.local_addresses().is_empty());
        // The loaded book counts as changed, as dcrd's does.
        assert!(back.is_changed());
    }

    #[test]
    fn json_is_dcrds_shape() {
        let m = sample();
        let bytes = m.to_json();
        assert_eq!(bytes.last(), Some(&b'\n'));
        let text = std::str::from_utf8(&bytes).unwrap();
        // Field order as dcrd's structs.
        let pos = |k: &str| text.find(&format!("\"{k}\"")).unwrap();
        assert!(pos("Version") < pos("Key") && pos("Key") < pos("Addresses"));
        assert!(pos("Addresses") < pos("NewBuckets") && pos("NewBuckets") < pos("TriedBuckets"));
        assert!(
            pos("Addr") < pos("Src")
                && pos("Src") < pos("Attempts")
                && pos("Attempts") < pos("TimeStamp")
        );
        assert!(pos("TimeStamp") < pos("LastAttempt") && pos("LastAttempt") < pos("LastSuccess"));
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(v["Version"], 1);
        assert_eq!(v["Key"], json!([3u8; 32].to_vec()));
        assert_eq!(v["NewBuckets"].as_array().unwrap().len(), NEW_BUCKET_COUNT);
        assert_eq!(
            v["TriedBuckets"].as_array().unwrap().len(),
            TRIED_BUCKET_COUNT
        );
        let list = v["Addresses"].as_array().unwrap();
        let find = |a: &str| list.iter().find(|e| e["Addr"] == a).unwrap().clone();
        let onion = find(&format!("{ONION}:9108"));
        assert_eq!(onion["Src"], "200.1.1.1:9108");
        assert_eq!(onion["TimeStamp"], NOW - 30);
        // Never attempted / never succeeded: Go's zero time.
        assert_eq!(onion["LastAttempt"], GO_ZERO_TIME);
        assert_eq!(onion["LastSuccess"], GO_ZERO_TIME);
        let v6 = find("[2602:100::1]:19108");
        assert_eq!(
            (v6["Attempts"].clone(), v6["LastAttempt"].clone()),
            (json!(2), json!(NOW - 4))
        );
        assert_eq!(find("5.6.7.8:9108")["LastSuccess"], NOW - 3);
        // Empty buckets are [] (Go's make), never null.
        assert!(v["NewBuckets"]
            .as_array()
            .unwrap()
            .iter()
            .all(Value::is_array));
    }

    #[test]
    fn save_writes_only_changes_through_a_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(PEERS_FILENAME);
        let mut m = sample();
        assert!(m.save(&path).unwrap());
        assert!(path.exists());
        assert!(!temp_path(&path).exists());
        assert!(!m.is_changed());
        // Unchanged: nothing written.
        fs::write(&path, b"sentinel").unwrap();
        assert!(!m.save(&path).unwrap());
        assert_eq!(fs::read(&path).unwrap(), b"sentinel");
        // Changed: written whole.
        let mut r = StdRng::seed_from_u64(3);
        m.add_addresses(
            &[addr("77.1.1.1", 9108, NOW)],
            &addr("200.1.1.1", 1, 0),
            NOW,
            &mut r,
        );
        assert!(m.save(&path).unwrap());
        assert_eq!(fs::read(&path).unwrap(), m.to_json());

        // A crash mid-write leaves a partial peers.json.new beside the
        // last complete peers.json: the book loads from the latter.
        fs::write(temp_path(&path), &m.to_json()[..100]).unwrap();
        let back = AddrManager::try_load(&path, NOW, DEFAULT_TRIED_BUCKET_SIZE)
            .unwrap()
            .unwrap();
        assert_eq!(back.len(), m.len());
        // And the next save replaces the leftover.
        let mut back = back;
        assert!(back.save(&path).unwrap());
        assert!(!temp_path(&path).exists());

        // A failed save leaves the book marked changed.
        let mut m2 = sample();
        assert!(m2
            .save(&dir.path().join("missing").join(PEERS_FILENAME))
            .is_err());
        assert!(m2.is_changed());
    }

    /// Loads `bytes` from a file: the error, and that `load` then starts
    /// empty, removes the file and does not panic.
    fn load_fails(bytes: &[u8]) -> LoadError {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(PEERS_FILENAME);
        fs::write(&path, bytes).unwrap();
        let err = AddrManager::try_load(&path, NOW, DEFAULT_TRIED_BUCKET_SIZE).unwrap_err();
        let m = AddrManager::load(&path, NOW, &mut StdRng::seed_from_u64(4));
        assert!(m.is_empty());
        assert!(!path.exists(), "the corrupt file is removed");
        err
    }

    #[test]
    fn missing_file_starts_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(PEERS_FILENAME);
        assert!(AddrManager::try_load(&path, NOW, 256).unwrap().is_none());
        let a = AddrManager::load(&path, NOW, &mut StdRng::seed_from_u64(5));
        let b = AddrManager::load(&path, NOW, &mut StdRng::seed_from_u64(6));
        assert!(a.is_empty());
        // A fresh random key each time.
        assert_ne!(a.key(), b.key());
    }

    #[test]
    fn truncated_garbage_and_empty_files_start_empty() {
        let full = sample().to_json();
        for cut in [1, full.len() / 3, full.len() / 2, full.len() - 2] {
            assert!(
                matches!(load_fails(&full[..cut]), LoadError::Json(_)),
                "cut at {cut}"
            );
        }
        assert!(matches!(load_fails(b""), LoadError::Json(_)));
        assert!(matches!(
            load_fails(b"\x00\xff\x13garbage{{{"),
            LoadError::Json(_)
        ));
        assert!(matches!(load_fails(b"[1,2,3]"), LoadError::Json(_)));
        assert!(matches!(
            load_fails(br#"{"Version":1,"Key":[256]}"#),
            LoadError::Json(_)
        ));
        assert!(matches!(
            load_fails(br#"{"Version":"1"}"#),
            LoadError::Json(_)
        ));
    }

    #[test]
    fn other_versions_are_refused() {
        let mut v: Value = serde_json::from_slice(&sample().to_json()).unwrap();
        v["Version"] = json!(2);
        assert!(matches!(
            load_fails(v.to_string().as_bytes()),
            LoadError::Version(2)
        ));
        assert!(matches!(load_fails(b"{}"), LoadError::Version(0)));
    }

    #[test]
    fn a_file_larger_than_the_cap_is_refused_unread() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(PEERS_FILENAME);
        let f = File::create(&path).unwrap();
        f.set_len(MAX_PEERS_FILE_SIZE + 1).unwrap();
        assert!(matches!(
            AddrManager::try_load(&path, NOW, 256),
            Err(LoadError::TooLarge(n)) if n == MAX_PEERS_FILE_SIZE + 1
        ));
        assert!(AddrManager::load(&path, NOW, &mut StdRng::seed_from_u64(7)).is_empty());
    }

    /// A file from its parts: addresses (addr, src), new and tried
    /// buckets by index.
    fn file(
        addrs: &[(&str, &str)],
        new: &[(usize, &[&str])],
        tried: &[(usize, &[&str])],
    ) -> Vec<u8> {
        let mut nb = vec![json!([]); NEW_BUCKET_COUNT];
        for (i, b) in new {
            nb[*i] = json!(b);
        }
        let mut tb = vec![json!([]); TRIED_BUCKET_COUNT];
        for (i, b) in tried {
            tb[*i] = json!(b);
        }
        let list: Vec<Value> = addrs
            .iter()
            .map(|(a, s)| {
                json!({"Addr": a, "Src": s, "Attempts": 1, "TimeStamp": 5,
                       "LastAttempt": GO_ZERO_TIME, "LastSuccess": GO_ZERO_TIME})
            })
            .collect();
        let key = [1u8; 32].to_vec();
        json!({"Version": 1, "Key": key, "Addresses": list, "NewBuckets": nb, "TriedBuckets": tb})
            .to_string()
            .into_bytes()
    }

    const A: &str = "1.2.3.4:9108";
    const B: &str = "5.6.7.8:9108";
    const S: &str = "200.1.1.1:9108";

    #[test]
    fn dcrds_consistency_checks() {
        // A consistent file loads.
        let m = AddrManager::from_json(
            &file(&[(A, S), (B, S)], &[(3, &[A])], &[(9, &[B])]),
            NOW,
            256,
        )
        .unwrap();
        m.check_invariants().unwrap();
        assert_eq!((m.num_new(), m.num_tried()), (1, 1));
        // A bucket naming an address the list lacks.
        assert!(matches!(
            load_fails(&file(&[(A, S)], &[(3, &[A, B])], &[])),
            LoadError::NotListed { kind: "new", .. }
        ));
        assert!(matches!(
            load_fails(&file(&[(A, S)], &[(3, &[A])], &[(1, &[B])])),
            LoadError::NotListed { kind: "tried", .. }
        ));
        // An address in no bucket.
        assert!(matches!(
            load_fails(&file(&[(A, S), (B, S)], &[(3, &[A])], &[])),
            LoadError::NoReferences(_)
        ));
        // An address both new and tried.
        assert!(matches!(
            load_fails(&file(&[(A, S)], &[(3, &[A])], &[(1, &[A])])),
            LoadError::NewAndTried(_)
        ));
        // Addresses that do not parse.
        for bad in ["1.2.3.4", "host.example:9108", "1.2.3.4:99999", "[::1:9108"] {
            assert!(
                matches!(
                    load_fails(&file(&[(bad, S)], &[], &[])),
                    LoadError::BadAddress(_)
                ),
                "{bad}"
            );
            assert!(
                matches!(
                    load_fails(&file(&[(A, bad)], &[(0, &[A])], &[])),
                    LoadError::BadAddress(_)
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn checks_beyond_dcrds() {
        // Twice in one bucket.
        assert!(matches!(
            load_fails(&file(&[(A, S)], &[(3, &[A, A])], &[])),
            LoadError::DuplicateInBucket(_, 3)
        ));
        // In nine new buckets.
        let nine: Vec<(usize, &[&str])> = (0..9).map(|i| (i, &[A][..])).collect();
        assert!(matches!(
            load_fails(&file(&[(A, S)], &nine, &[])),
            LoadError::TooManyRefs(_)
        ));
        let eight: Vec<(usize, &[&str])> = (0..8).map(|i| (i, &[A][..])).collect();
        assert_eq!(
            AddrManager::from_json(&file(&[(A, S)], &eight, &[]), NOW, 256)
                .unwrap()
                .len(),
            1
        );
        // Twice tried.
        assert!(matches!(
            load_fails(&file(&[(A, S)], &[], &[(1, &[A]), (2, &[A])])),
            LoadError::TriedTwice(_)
        ));
        // A new bucket of 66 (65 is what the manager reaches).
        let many: Vec<String> = (0..66).map(|i| format!("9.9.{i}.1:9108")).collect();
        let pairs: Vec<(&str, &str)> = many.iter().map(|a| (a.as_str(), S)).collect();
        let names: Vec<&str> = many.iter().map(String::as_str).collect();
        assert!(matches!(
            load_fails(&file(&pairs, &[(5, &names)], &[])),
            LoadError::BucketOverflow {
                kind: "new",
                bucket: 5,
                ..
            }
        ));
        let m = AddrManager::from_json(&file(&pairs[..65], &[(5, &names[..65])], &[]), NOW, 256)
            .unwrap();
        m.check_invariants().unwrap();
        // A tried bucket over the tried bucket size.
        assert!(matches!(
            AddrManager::from_json(&file(&pairs[..3], &[], &[(0, &names[..3])]), NOW, 2),
            Err(LoadError::BucketOverflow {
                kind: "tried",
                bucket: 0,
                max: 2
            })
        ));
    }

    #[test]
    fn unroutable_entries_are_dropped_with_their_bucket_entries() {
        let lan = "192.168.1.1:9108";
        let m = AddrManager::from_json(
            &file(&[(A, S), (lan, S)], &[(3, &[A, lan])], &[(2, &[lan])]),
            NOW,
            256,
        )
        .unwrap();
        m.check_invariants().unwrap();
        assert_eq!(m.len(), 1);
        assert!(m.get(&addr("192.168.1.1", 9108, 0)).is_none());
    }

    #[test]
    fn go_quirks_of_the_format() {
        // A repeated address: the later one wins. Negative attempts are 0.
        let mut v: Value =
            serde_json::from_slice(&file(&[(A, S), (A, B)], &[(3, &[A])], &[])).unwrap();
        v["Addresses"][1]["Attempts"] = json!(-4);
        v["Addresses"][1]["LastAttempt"] = json!(-5);
        v["Addresses"][1]["LastSuccess"] = json!(123);
        let m = AddrManager::from_json(v.to_string().as_bytes(), NOW, 256).unwrap();
        let ka = m.get(&addr("1.2.3.4", 9108, 0)).unwrap();
        assert_eq!(AddrKey::of(ka.source()).to_string(), B);
        assert_eq!(
            (ka.attempts(), ka.last_attempt(), ka.last_success()),
            (0, Some(0), Some(123))
        );
        // A short key is zero-filled, a long one cut; unknown fields and
        // missing buckets are fine; null bucket lists are empty.
        let mut v: Value = serde_json::from_slice(&file(&[(A, S)], &[(3, &[A])], &[])).unwrap();
        v["Key"] = json!([9, 9]);
        v["Extra"] = json!("ignored");
        v["TriedBuckets"] = Value::Null;
        v["NewBuckets"][0] = Value::Null;
        let m = AddrManager::from_json(v.to_string().as_bytes(), NOW, 256).unwrap();
        let mut key = [0u8; 32];
        key[..2].copy_from_slice(&[9, 9]);
        assert_eq!(m.key(), &key);
        v["Key"] = json!([1u8; 40].to_vec());
        let m = AddrManager::from_json(v.to_string().as_bytes(), NOW, 256).unwrap();
        assert_eq!(m.key(), &[1; 32]);
    }

    /// A peers.json the reference dcrd (036b7090) wrote after five fake
    /// peers on routable addresses sent it IPv4, IPv6 (tunnelled,
    /// translated, Hurricane Electric, odd zero runs) and Tor v3
    /// addresses (see `testdata/README.md`). Our key strings print its
    /// strings, our hashes put every entry in the bucket dcrd put it in,
    /// and the file loads.
    #[test]
    fn dcrd_written_peers_json_matches_our_buckets_and_loads() {
        let bytes = include_bytes!("testdata/dcrd-peers.json");
        let v: Value = serde_json::from_slice(bytes).unwrap();
        let key: [u8; 32] = serde_json::from_value(v["Key"].clone()).unwrap();
        let as_addr = |s: &str| {
            let k = AddrKey::parse(s).unwrap_or_else(|| panic!("dcrd's {s} parses"));
            assert_eq!(k.to_string(), s, "we print dcrd's key text");
            NetAddressV2 {
                timestamp: 0,
                services: ServiceFlags::NONE,
                host: k.host,
                port: k.port,
            }
        };
        let mut src_of = std::collections::HashMap::new();
        for a in v["Addresses"].as_array().unwrap() {
            let (addr, src) = (a["Addr"].as_str().unwrap(), a["Src"].as_str().unwrap());
            src_of.insert(addr.to_string(), (as_addr(addr), as_addr(src)));
        }
        let mut kinds = std::collections::HashSet::new();
        let mut checked = 0;
        for (i, bucket) in v["NewBuckets"].as_array().unwrap().iter().enumerate() {
            for s in bucket.as_array().unwrap() {
                let (na, src) = src_of[s.as_str().unwrap()];
                assert_eq!(
                    crate::addrmgr::new_bucket(&key, &na, &src),
                    i,
                    "new bucket of {s}"
                );
                kinds.insert(
                    crate::addrmgr::GroupKey::of(&na.host)
                        .to_string()
                        .contains(':'),
                );
                checked += 1;
            }
        }
        for (i, bucket) in v["TriedBuckets"].as_array().unwrap().iter().enumerate() {
            for s in bucket.as_array().unwrap() {
                let (na, _) = src_of[s.as_str().unwrap()];
                assert_eq!(
                    crate::addrmgr::tried_bucket(&key, &na),
                    i,
                    "tried bucket of {s}"
                );
                checked += 1;
            }
        }
        assert_eq!(checked, 308);
        assert_eq!(
            kinds.len(),
            2,
            "IPv4-style and IPv6/Tor-style groups both covered"
        );
        // dcrd dropped the unroutable addresses the peers sent.
        for lan in [
            "10.0.0.1:9108",
            "192.168.1.1:9108",
            "[fd00::1]:9108",
            "[2001:db8::1]:9122",
        ] {
            assert!(!src_of.contains_key(lan));
        }

        let m = AddrManager::from_json(bytes, NOW, DEFAULT_TRIED_BUCKET_SIZE).unwrap();
        m.check_invariants().unwrap();
        assert_eq!((m.len(), m.num_new(), m.num_tried()), (308, 303, 5));
        assert_eq!(m.key(), &key);
        let good = m.get(&as_addr("[2001:470:abcd::1]:29109")).unwrap();
        assert!(good.is_tried());
        assert_eq!(good.last_success(), Some(1_796_363_420));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        /// Any bytes: an error or a book, never a panic.
        #[test]
        fn any_bytes_load_without_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
            if let Ok(m) = AddrManager::from_json(&bytes, NOW, 256) {
                m.check_invariants().map_err(proptest::test_runner::TestCaseError::fail)?;
            }
        }

        /// A real file with a byte changed and maybe cut short: an error,
        /// or a book whose invariants hold.
        #[test]
        fn damaged_files_load_or_fail_cleanly(
            pos in proptest::prelude::any::<proptest::sample::Index>(),
            byte in proptest::prelude::any::<u8>(),
            cut in proptest::prelude::any::<Option<proptest::sample::Index>>(),
        ) {
            let mut f = sample().to_json();
            let i = pos.index(f.len());
            f[i] = byte;
            if let Some(c) = cut {
                f.truncate(c.index(f.len()));
            }
            if let Ok(m) = AddrManager::from_json(&f, NOW, 256) {
                m.check_invariants().map_err(proptest::test_runner::TestCaseError::fail)?;
            }
        }
    }
}
