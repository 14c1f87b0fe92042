//! The address manager's constants, each dcrd's own (`addrmgr`'s
//! `addrmanager.go` and `knownaddress.go`, and the server's `OnAddr`
//! cutoffs), named as dcrd names them. They sit apart from the manager so
//! the known-address rules and the manager read them without importing
//! each other.

use std::time::Duration;

/// Fewer addresses than this and the manager wants more: dcrd sends
/// `getaddr` to new outbound peers and keeps asking seeders while
/// `AddrManager::need_more_addresses` (`needAddressThreshold`).
pub const NEED_ADDRESS_THRESHOLD: usize = 1000;

/// How often dcrd writes the book to disk when it changed
/// (`dumpAddressInterval`); the owner of the manager runs this timer and
/// calls `AddrManager::save`, and once more at shutdown.
pub const DUMP_ADDRESS_INTERVAL: Duration = Duration::from_secs(10 * 60);

/// Addresses per tried bucket (`defaultTriedBucketSize`).
pub const DEFAULT_TRIED_BUCKET_SIZE: usize = 256;

/// Tried buckets (`triedBucketCount`).
pub const TRIED_BUCKET_COUNT: usize = 64;

/// Addresses per new bucket (`newBucketSize`). dcrd expires an entry only
/// when a bucket holds *more* than this, so a bucket reaches one more
/// ([`NEW_BUCKET_SIZE`] + 1); we follow the code.
pub const NEW_BUCKET_SIZE: usize = 64;

/// New buckets (`newBucketCount`).
pub const NEW_BUCKET_COUNT: usize = 1024;

/// Tried buckets one address group can reach (`triedBucketsPerGroup`).
pub const TRIED_BUCKETS_PER_GROUP: u64 = 8;

/// New buckets one source group can reach (`newBucketsPerGroup`).
pub const NEW_BUCKETS_PER_GROUP: u64 = 64;

/// New buckets one address can be in (`newBucketsPerAddress`).
pub const NEW_BUCKETS_PER_ADDRESS: usize = 8;

/// Days without being seen after which an address is bad
/// (`numMissingDays`).
pub const NUM_MISSING_DAYS: u32 = 30;

/// Attempts without ever succeeding after which an address is bad
/// (`numRetries`).
pub const NUM_RETRIES: u32 = 3;

/// Attempts without a success in [`MIN_BAD_DAYS`] after which an address
/// is bad (`maxFailures`).
pub const MAX_FAILURES: u32 = 5;

/// Days since the last success within which [`MAX_FAILURES`] does not make
/// an address bad (`minBadDays`).
pub const MIN_BAD_DAYS: u32 = 7;

/// Most addresses in a `getaddr` answer (`getKnownAddressLimit`).
pub const GET_KNOWN_ADDRESS_LIMIT: usize = 2500;

/// Share, in per cent, of the eligible addresses a `getaddr` answer holds,
/// rounded up (`getKnownAddressPercentage`).
pub const GET_KNOWN_ADDRESS_PERCENTAGE: usize = 23;

/// An address attempted this recently is never bad (`isBad`'s first case).
pub const BAD_GRACE: Duration = Duration::from_secs(60);

/// An address last seen further than this in the future is bad (`isBad`).
pub const FUTURE_TOLERANCE: Duration = Duration::from_secs(10 * 60);

/// An address attempted this recently gets only [`MIN_CHANCE`] (`chance`).
pub const RECENT_ATTEMPT: Duration = Duration::from_secs(10 * 60);

/// The lowest selection weight (`chance`'s `minChance`).
pub const MIN_CHANCE: f64 = 0.01;

/// Each rejected draw in `AddrManager::get_address` multiplies the
/// acceptance factor by this (dcrd's `factor *= 1.2`).
pub const SELECTION_FACTOR_GROWTH: f64 = 1.2;

/// The random range of an acceptance draw (dcrd's `large := 1 << 30`).
pub(crate) const SELECTION_LARGE: u32 = 1 << 30;

/// `AddrManager::connected` moves an address's last-seen time only when
/// it is older than this (`Connected`'s 20 minutes).
pub const CONNECTED_UPDATE_INTERVAL: Duration = Duration::from_secs(20 * 60);

/// A relayed address claiming to be seen further than this in the future
/// is set back (dcrd server's `OnAddr`/`OnAddrV2`: `now + 10 minutes`; its
/// comment says 24 hours, its code says ten minutes, and we follow the
/// code).
pub const RELAYED_FUTURE_CUTOFF: Duration = Duration::from_secs(10 * 60);

/// How far in the past such an address is set: five days, so it is among
/// the first expired (`OnAddr`/`OnAddrV2`).
pub const RELAYED_FUTURE_PENALTY: Duration = Duration::from_secs(5 * 24 * 60 * 60);
