//! The connection manager's decisions, I/O-free, rule for rule as dcrd's
//! `internal/connmgr` (`connmanager.go`) and the peer handling of its
//! `server.go`: whether to take an inbound connection, whether to dial and
//! keep an outbound one, which book address fills an outbound slot, when a
//! persistent peer is redialled, which version an outbound peer must
//! show, what a network exchanges, and the ban list with one score per
//! connection. The actor feeds them what happened and the clock, and does
//! what they say; every rule here is tested on a fake clock.
//!
//! Each rule names its row in docs/NODE.md.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use dcr_wire::{pver, CurrencyNet, NetAddressV2Host, ServiceFlags};
use ipnet::IpNet;
use rand::{Rng, RngExt};
use tokio::time::Instant;

use super::banscore::DynamicBanScore;
use super::book::Candidate;
use super::error::{BanInfo, ManagerError};
use crate::addrmgr::{self, GroupKey};
use crate::admission;
use crate::error::DisconnectReason;
use crate::fsm::handshake::Refusal;
use crate::fsm::session::ProtocolViolation;
use crate::sync::after;

/// Peers of every kind but persistent ones and whitelisted inbound ones
/// (dcrd's `--maxpeers`, `MaxNormalConns`): C1.
pub const DEFAULT_MAX_PEERS: usize = 125;
/// Automatic outbound peers kept connected (dcrd's `TargetOutbound`): C3.
pub const DEFAULT_TARGET_OUTBOUND: usize = 8;
/// Connections with one IP at most (dcrd's `--maxsameip`; 0: no limit):
/// C4.
pub const DEFAULT_MAX_PER_HOST: usize = 5;
/// Persistent peers at most (dcrd's `MaxPersistent`): P1.
pub const MAX_PERSISTENT: usize = 8;
/// The base wait before a retry, and the time a connection must last
/// from its attempt to count as kept (dcrd's `connectionRetryInterval`,
/// `RetryDuration`): P5, P6, P11.
pub const DEFAULT_RETRY_DURATION: Duration = Duration::from_secs(5);
/// The longest wait before a retry (dcrd's `defaultMaxRetryDuration`):
/// P7.
pub const DEFAULT_MAX_RETRY_DURATION: Duration = Duration::from_secs(300);
/// Failed automatic outbound attempts in a row after which they pause
/// for the retry duration (dcrd's `maxFailedAttempts`): P11.
pub const MAX_FAILED_ATTEMPTS: u32 = 25;
/// Book draws per outbound address picked (dcrd's `pickOutboundAddr`
/// `retries`): P8.
pub const PICK_DRAWS: u32 = 100;
/// Draws during which recently attempted addresses are skipped (30 %):
/// P9.
pub const SKIP_RECENT_DRAWS: u32 = PICK_DRAWS * 3 / 10;
/// Draws during which addresses off the network's port are skipped
/// (50 %): P10.
pub const SKIP_PORT_DRAWS: u32 = PICK_DRAWS / 2;
/// What counts as recently attempted in address picking: P9.
pub const RECENT_ATTEMPT: Duration = Duration::from_secs(10 * 60);
/// Outbound connections per address group (dcrd's
/// `defaultMaxPerOutboundGroup`): P8.
pub const MAX_PER_OUTBOUND_GROUP: usize = 1;
/// A score above this bans (dcrd's `--banthreshold`): B3.
pub const DEFAULT_BAN_THRESHOLD: u32 = 100;
/// How long a ban lasts (dcrd's `--banduration`): B4.
pub const DEFAULT_BAN_DURATION: Duration = Duration::from_secs(24 * 3600);
/// Services every outbound peer must advertise (dcrd's
/// `defaultRequiredServices`): V4.
pub const REQUIRED_SERVICES: ServiceFlags = ServiceFlags::NODE_NETWORK;
/// Mix-capable outbound peers wanted (dcrd `OnVersion`'s
/// `defaultWantMixCapableOutbound`, at most the target): V3.
pub const WANT_MIX_CAPABLE_OUTBOUND: usize = 3;

/// What a network exchanges: dcrd's server treats simnet and regnet as
/// connect-only networks that must never become public test networks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetworkRules {
    /// Addresses are learned, relayed, asked for and answered, dials are
    /// recorded in the book and outbound peers marked good (dcrd skips
    /// every address manager call on simnet and regnet): A1, A6, A13,
    /// V1, V14, V15.
    pub exchange_addresses: bool,
    /// Outbound peers are chosen from the book (dcrd gives its connection
    /// manager no `GetNewAddress` on simnet and regnet): A14.
    pub automatic_outbound: bool,
}

impl NetworkRules {
    /// dcrd's rules for `net`: everything on mainnet and testnet, nothing
    /// on simnet and regnet.
    pub fn of(net: CurrencyNet) -> NetworkRules {
        let public = !matches!(net, CurrencyNet::SimNet | CurrencyNet::RegNet);
        NetworkRules {
            exchange_addresses: public,
            automatic_outbound: public,
        }
    }
}

/// The network's default port (dcrd's `DefaultPort`, from dcr-wire's chain
/// parameters), which address picking prefers: P10.
pub fn default_port(net: CurrencyNet) -> u16 {
    net.default_port()
}

/// The whitelist (dcrd's `--whitelist`, `IsWhitelisted`): CIDR prefixes,
/// a single IP being its /32 or /128. Whitelisted peers are scored and
/// logged but never banned, and are exempt from the per-host limit, the
/// pending pool and `max_peers` (inbound): B6, B15, C1, C5.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Whitelist(Vec<IpNet>);

impl Whitelist {
    /// A whitelist of these prefixes (masked, as dcrd masks them).
    pub fn new(prefixes: impl IntoIterator<Item = IpNet>) -> Whitelist {
        Whitelist(prefixes.into_iter().map(|p| p.trunc()).collect())
    }

    /// Parses one entry as dcrd does: a prefix (`192.168.1.0/24`), else
    /// an IP (`::1`, as its /128).
    pub fn parse_entry(s: &str) -> Result<IpNet, ManagerError> {
        if let Ok(net) = s.parse::<IpNet>() {
            return Ok(net.trunc());
        }
        s.parse::<IpAddr>()
            .map(IpNet::from)
            .map_err(|_| ManagerError::BadWhitelist(s.to_string()))
    }

    /// True when a prefix holds `ip` (an IPv4-mapped IPv6 address is its
    /// IPv4 address, as dcrd's addresses are).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|p| p.contains(&ip))
    }

    /// The prefixes.
    pub fn prefixes(&self) -> &[IpNet] {
        &self.0
    }
}

impl From<Vec<IpAddr>> for Whitelist {
    fn from(ips: Vec<IpAddr>) -> Whitelist {
        Whitelist::new(ips.into_iter().map(IpNet::from))
    }
}

/// Whether a connection with `ip` takes a per-host place (dcrd's
/// `needsHostPermit`): not when the limit is off (0), nor for whitelisted
/// or loopback addresses (the latter unless `exempt_loopback` is off,
/// where loopback stands in for remote hosts): C4, C5.
pub fn needs_host_permit(
    ip: IpAddr,
    whitelisted: bool,
    exempt_loopback: bool,
    max_per_host: usize,
) -> bool {
    !(max_per_host == 0 || whitelisted || (exempt_loopback && ip.to_canonical().is_loopback()))
}

/// Why an inbound connection is refused, or its peer not kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum InboundRefusal {
    /// Its address is banned (B13).
    Banned,
    /// A pending, connected or persistent connection has its host:port
    /// (C9).
    Duplicate,
    /// As many connections with its IP as allowed exist (C4).
    PerHostLimit,
    /// As many peers as `max_peers` allows exist (C1).
    PeerLimit,
    /// A newcomer took its place in the pending pool, or its handshake
    /// outlasted the pool's deadline under pressure, while it completed.
    Displaced,
}

/// What the manager holds when an inbound connection arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InboundCheck {
    /// The address is banned now.
    pub banned: bool,
    /// The address is whitelisted.
    pub whitelisted: bool,
    /// The host:port is pending, connected or persistent.
    pub duplicate: bool,
    /// The connection needs a per-host place ([`needs_host_permit`]).
    pub needs_host_permit: bool,
    /// Connections with the newcomer's IP: connected, being dialled or in
    /// their handshake.
    pub same_host: usize,
    /// Peers counted toward `max_peers` ([`PeerCounts::normal`]).
    pub normal: usize,
}

/// Whether to take an inbound connection, in dcrd's order
/// (`listenHandler`, then the server's ban check): banned, duplicate,
/// per-host, total (which whitelisted addresses skip). dcrd's rate
/// limiter comes first in its order; here the pending pool takes its
/// place after these checks. The limits are `max_per_host` and
/// `max_peers`.
pub fn admit_inbound(
    c: InboundCheck,
    max_per_host: usize,
    max_peers: usize,
) -> Result<(), InboundRefusal> {
    if c.banned {
        Err(InboundRefusal::Banned)
    } else if c.duplicate {
        Err(InboundRefusal::Duplicate)
    } else if c.needs_host_permit && c.same_host >= max_per_host {
        Err(InboundRefusal::PerHostLimit)
    } else if !c.whitelisted && c.normal >= max_peers {
        Err(InboundRefusal::PeerLimit)
    } else {
        Ok(())
    }
}

/// Whether to keep an inbound peer whose handshake completed: not when it
/// was displaced from the pending pool meanwhile, nor banned meanwhile,
/// nor (unless whitelisted) when `max_peers` filled meanwhile. `normal`
/// counts the peers without this one.
///
/// dcrd takes a connection's place toward `max_peers` at accept; here a
/// connection that waits in the pending pool takes it when its handshake
/// completes, so that a flood of handshakes that never finish cannot hold
/// the places the automatic outbound connections need (dcrd's defence is
/// its rate limiter; ours the pool, bounded by `max_peers` itself).
/// Connections outside the pool (loopback, whitelisted) are counted from
/// their accept, as dcrd counts them.
pub fn keep_inbound(
    displaced: bool,
    banned: bool,
    whitelisted: bool,
    normal: usize,
    max_peers: usize,
) -> Result<(), InboundRefusal> {
    if displaced {
        Err(InboundRefusal::Displaced)
    } else if banned {
        Err(InboundRefusal::Banned)
    } else if !whitelisted && normal >= max_peers {
        Err(InboundRefusal::PeerLimit)
    } else {
        Ok(())
    }
}

/// The pending pool's bounds for a manager that takes `max_peers` peers
/// and `max_per_host` connections from one IP (0: no limit): at most as
/// many places as peers (and the admission module's maximum), at most
/// `max_per_host` from one address.
pub fn pending_limits(
    max_peers: usize,
    max_per_host: usize,
    exempt_loopback: bool,
) -> admission::Limits {
    let d = admission::Limits::default();
    let capacity = d.capacity.min(max_peers).max(1);
    let per_host = if max_per_host == 0 {
        capacity
    } else {
        max_per_host
    };
    admission::Limits {
        capacity,
        per_address: d.per_address.min(per_host).max(1),
        per_group: d.per_group.min(capacity),
        pressure: capacity / 2,
        pressure_timeout: d.pressure_timeout,
        exempt_loopback,
        // The manager counts its peers itself (C1) and per host (C4).
        max_peers: None,
        max_per_host: None,
    }
}

/// The connections the manager counts, by dcrd's semaphores.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PeerCounts {
    /// Inbound (connected, and in their handshake outside the pending
    /// pool; whitelisted excluded), automatic outbound and manual
    /// connections (pending and connected): dcrd's `totalNormalConnsSem`,
    /// bounded by `max_peers` (C1; see [`keep_inbound`] for the pool).
    /// Persistent connections are not counted (P2).
    pub normal: usize,
    /// Automatic outbound connections, pending and connected: dcrd's
    /// `activeOutboundsSem`, bounded by the target (C3, P2, P3).
    pub automatic: usize,
}

/// The automatic outbound target: at most `max_peers` (dcrd's `New`).
pub fn outbound_target(target: usize, max_peers: usize) -> usize {
    target.min(max_peers)
}

/// Whether another automatic outbound connection may be started: below
/// the target and below `max_peers` (dcrd's two semaphores): C1, C3.
pub fn wants_outbound(counts: PeerCounts, target: usize, max_peers: usize) -> bool {
    counts.automatic < outbound_target(target, max_peers) && counts.normal < max_peers
}

/// Whether a manual connection (`connect`) may start: not to a banned or
/// taken (pending, connected or persistent) address, within the per-host
/// limit and `max_peers` (dcrd's `Connect`): P3, C4.
pub fn may_connect(
    addr: SocketAddr,
    banned: bool,
    taken: bool,
    host_full: bool,
    counts: PeerCounts,
    max_peers: usize,
) -> Result<(), ManagerError> {
    if banned {
        Err(ManagerError::Banned(addr.ip()))
    } else if taken {
        Err(ManagerError::Duplicate(addr))
    } else if host_full {
        Err(ManagerError::PerHostLimit(addr.ip()))
    } else if counts.normal >= max_peers {
        Err(ManagerError::PeerLimit(max_peers))
    } else {
        Ok(())
    }
}

/// Whether to keep the peer a dial to `addr` gave: not when another
/// connection to it completed first.
pub fn keep_outbound(addr: SocketAddr, connected: bool) -> Result<(), ManagerError> {
    if connected {
        Err(ManagerError::Duplicate(addr))
    } else {
        Ok(())
    }
}

/// Whether a persistent peer may be added (dcrd's `AddPersistent`): at
/// most [`MAX_PERSISTENT`], no duplicate, and while it needs a per-host
/// place, fewer than `max_per_host` persistent entries with its IP: P1,
/// C6.
pub fn may_add_persistent(
    addr: SocketAddr,
    persistent: usize,
    duplicate: bool,
    needs_host_permit: bool,
    same_host_persistent: usize,
    max_per_host: usize,
) -> Result<(), ManagerError> {
    if persistent >= MAX_PERSISTENT {
        Err(ManagerError::MaxPersistent(MAX_PERSISTENT))
    } else if duplicate {
        Err(ManagerError::Duplicate(addr))
    } else if needs_host_permit && same_host_persistent >= max_per_host {
        Err(ManagerError::PerHostLimit(addr.ip()))
    } else {
        Ok(())
    }
}

/// The address group of `addr` for the one-outbound-per-group rule:
/// dcrd's address-manager group (`GroupKey`).
pub fn outbound_group(addr: SocketAddr) -> GroupKey {
    GroupKey::of(&NetAddressV2Host::from_ip(addr.ip()))
}

/// True when `addr`'s group already holds [`MAX_PER_OUTBOUND_GROUP`]
/// outbound connections (pending or connected, automatic, manual or
/// persistent): P8. dcrd's book only ever offers routable addresses; an
/// address source for a network on one machine or LAN (tests, the
/// crawler) offers local ones, all of one group, so the rule holds only
/// for routable addresses.
pub fn outbound_group_full(addr: SocketAddr, groups: &HashMap<GroupKey, usize>) -> bool {
    addrmgr::is_routable(addr.ip())
        && groups.get(&outbound_group(addr)).copied().unwrap_or(0) >= MAX_PER_OUTBOUND_GROUP
}

/// Picks an address for an automatic outbound connection (dcrd's
/// `pickOutboundAddr`): up to [`PICK_DRAWS`] draws from the book; skips
/// addresses whose group is full (P8), for the first
/// [`SKIP_RECENT_DRAWS`] draws those attempted in the last
/// [`RECENT_ATTEMPT`] (P9), for the first [`SKIP_PORT_DRAWS`] those off
/// `port` (P10; 0: no preference); and addresses `skip` names (taken,
/// banned, persistent). `None` when the book has nothing or no draw fits.
pub fn pick_outbound(
    mut draw: impl FnMut() -> Option<Candidate>,
    groups: &HashMap<GroupKey, usize>,
    skip: impl Fn(SocketAddr) -> bool,
    now_unix: u64,
    port: u16,
) -> Option<Candidate> {
    for tries in 0..PICK_DRAWS {
        let c = draw()?;
        if skip(c.addr) || outbound_group_full(c.addr, groups) {
            continue;
        }
        let recent = c
            .last_attempt
            .is_some_and(|t| t + RECENT_ATTEMPT.as_secs() > now_unix);
        if tries < SKIP_RECENT_DRAWS && recent {
            continue;
        }
        if port != 0 && tries < SKIP_PORT_DRAWS && c.addr.port() != port {
            continue;
        }
        return Some(c);
    }
    None
}

/// The pause of automatic outbound dialling after failures in a row
/// (dcrd's `targetOutboundHandler`): after [`MAX_FAILED_ATTEMPTS`], each
/// further attempt waits the retry duration; a connection resets it: P11.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboundFailures {
    failed: u32,
    resume: Option<Instant>,
}

impl OutboundFailures {
    /// Whether an attempt may start at `now`.
    pub fn ready(&self, now: Instant) -> bool {
        self.failed < MAX_FAILED_ATTEMPTS || self.resume.is_some_and(|t| now >= t)
    }

    /// An attempt (or the choice of an address) failed at `now`.
    pub fn failed(&mut self, now: Instant, retry: Duration) {
        self.failed = self.failed.saturating_add(1);
        if self.failed >= MAX_FAILED_ATTEMPTS {
            self.resume = Some(after(now, retry));
        }
    }

    /// A connection was made.
    pub fn succeeded(&mut self) {
        *self = OutboundFailures::default();
    }

    /// Failures in a row.
    pub fn count(&self) -> u32 {
        self.failed
    }
}

/// The wait before retry number `retries` (dcrd's `backoffWithJitter`):
/// none for 0; else `min(base·2^(retries−1), max)`, of which the first
/// half always and a uniform random part of the second: P6.
pub fn backoff_with_jitter(
    retries: u32,
    base: Duration,
    max: Duration,
    rng: &mut impl Rng,
) -> Duration {
    if retries == 0 {
        return Duration::ZERO;
    }
    let shift = (retries - 1).min(32);
    let full = base.saturating_mul(1u32 << shift.min(31)).min(max);
    if full.is_zero() {
        return Duration::ZERO;
    }
    let half = full / 2;
    let nanos = u64::try_from(half.as_nanos()).unwrap_or(u64::MAX);
    let jitter = if nanos == 0 {
        0
    } else {
        rng.random_range(0..nanos)
    };
    half + Duration::from_nanos(jitter)
}

/// One persistent peer's redial state (dcrd's `runPersistent`): P5, P6.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Persistent {
    /// Connections in a row not kept for the retry duration.
    pub retries: u32,
    /// When the last attempt began.
    pub last_attempt: Option<Instant>,
    /// When to dial it; `None` while dialling or connected.
    pub due: Option<Instant>,
}

impl Persistent {
    /// Added at `now`: dialled at once.
    pub fn new(now: Instant) -> Persistent {
        Persistent {
            retries: 0,
            last_attempt: None,
            due: Some(now),
        }
    }

    /// True when it should be dialled at `now`.
    pub fn is_due(&self, now: Instant) -> bool {
        self.due.is_some_and(|t| t <= now)
    }

    /// An attempt begins at `now`.
    pub fn attempting(&mut self, now: Instant) {
        self.last_attempt = Some(now);
        self.due = None;
    }

    /// Its attempt failed or its connection ended at `now`: when that was
    /// less than `retry` after the attempt began, the retry count grows
    /// and the redial waits [`backoff_with_jitter`]; otherwise the count
    /// clears and it is redialled at once. Returns the wait.
    pub fn ended(
        &mut self,
        now: Instant,
        retry: Duration,
        max: Duration,
        rng: &mut impl Rng,
    ) -> Duration {
        let short = self
            .last_attempt
            .is_some_and(|t| now.saturating_duration_since(t) < retry);
        let wait = if short {
            self.retries = self.retries.saturating_add(1);
            backoff_with_jitter(self.retries, retry, max, rng)
        } else {
            self.retries = 0;
            Duration::ZERO
        };
        self.due = Some(after(now, wait));
        wait
    }
}

/// Whether an outbound peer's version is acceptable (dcrd `OnVersion`,
/// after its own version rule): below the mix version (10) refused while
/// fewer than `min(3, target)` outbound peers are mix-capable and this one
/// would leave too few places for them (V3); without `required` services
/// refused (V4). `outbound` and `mix_capable` count the outbound peers
/// connected (automatic, manual and persistent).
pub fn check_outbound_version(
    services: ServiceFlags,
    protocol_version: u32,
    outbound: usize,
    mix_capable: usize,
    target: usize,
    required: ServiceFlags,
) -> Result<(), Refusal> {
    if protocol_version < pver::MIX {
        let want = WANT_MIX_CAPABLE_OUTBOUND.min(target);
        if mix_capable < want && outbound + want >= target {
            return Err(Refusal::ProtocolVersion {
                theirs: protocol_version,
                required: pver::MIX,
            });
        }
    }
    let missing = ServiceFlags(required.0 & !services.0);
    if missing.0 != 0 {
        return Err(Refusal::MissingServices(missing));
    }
    Ok(())
}

/// dcrd bans a peer whose message does not decode (server `OnRead`);
/// no other way a connection ends is scored (stalls, idle timeouts,
/// failed handshakes and dials are disconnects only): B10, S28.
pub fn bans_on_disconnect(reason: &DisconnectReason) -> bool {
    match reason {
        DisconnectReason::Protocol(ProtocolViolation::Undecodable { error, .. }) => {
            is_banned_wire_error(error)
        }
        _ => false,
    }
}

/// Whether dcrd's `OnRead` bans for this decode error: it bans when the
/// error is a `wire.ErrorCode` (`errors.As(err, &errCode)`). A payload
/// that ends inside a field fails in dcrd with Go's `io.EOF` or
/// `io.ErrUnexpectedEOF` from the reader, which is no `ErrorCode`: that
/// peer is disconnected, not banned (S28). Every other decode error of
/// dcrd's `wire` is a `MessageError` with its code, and bans.
pub fn is_banned_wire_error(error: &dcr_wire::Error) -> bool {
    error.kind() != dcr_wire::ErrorKind::UnexpectedEof
}

/// What a score increase did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scored {
    /// Nothing was added (banning off, or no points).
    Unchanged,
    /// The score is now this, at most the threshold (or the peer is
    /// whitelisted).
    Score(u32),
    /// The score passed the threshold: the address is banned until then.
    Banned(u32, Instant),
}

/// What a ban did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Banned {
    /// Banning is off (`--nobanning`): nothing happens, the peer stays.
    Disabled,
    /// The address is whitelisted: logged only, the peer stays.
    Whitelisted,
    /// Banned until then; the peer is to be disconnected.
    Until(Instant),
}

/// Bans held at most by a [`BanList`]. dcrd's `peerState.banned` has no
/// bound (an entry goes when its host next connects after the ban ends),
/// so a stream of remotes from distinct addresses (an IPv6 prefix holds
/// 2^64), each banned for one malformed message, would grow it by one
/// entry per connection for a whole ban duration. 10,000 is far above the
/// few hundred hosts of Decred's network and costs well under 1 MiB; when
/// full, the ban that ends soonest is dropped first (B16).
pub const MAX_BANS: usize = 10_000;

/// Misbehaviour scores, one per connection (dcrd's `serverPeer.banScore`),
/// and bans, one per IP (dcrd's `peerState.banned`, at most [`MAX_BANS`]):
/// B1–B7, B15, B16.
#[derive(Debug, Clone)]
pub struct BanList {
    threshold: u32,
    duration: Duration,
    disabled: bool,
    whitelist: Whitelist,
    scores: HashMap<u64, DynamicBanScore>,
    bans: HashMap<IpAddr, Instant>,
    /// Bans dropped to keep within [`MAX_BANS`] before they ended.
    dropped: u64,
}

impl BanList {
    /// Bans above `threshold` points for `duration`; never bans
    /// `whitelist`; with `disabled` (`--nobanning`) neither scores nor bans.
    pub fn new(threshold: u32, duration: Duration, disabled: bool, whitelist: Whitelist) -> Self {
        BanList {
            threshold,
            duration,
            disabled,
            whitelist,
            scores: HashMap::new(),
            bans: HashMap::new(),
            dropped: 0,
        }
    }

    /// True for an address that is never banned and bypasses limits.
    pub fn is_whitelisted(&self, ip: IpAddr) -> bool {
        self.whitelist.contains(ip)
    }

    /// When `ip`'s ban ends, if it is banned at `now`.
    pub fn banned_until(&self, ip: IpAddr, now: Instant) -> Option<Instant> {
        self.bans
            .get(&ip.to_canonical())
            .copied()
            .filter(|until| *until > now)
    }

    /// True while a ban on `ip` is in force at `now`.
    pub fn is_banned(&self, ip: IpAddr, now: Instant) -> bool {
        self.banned_until(ip, now).is_some()
    }

    /// Bans `ip` at `now` (dcrd's `BanPeer`): nothing with banning off,
    /// a log line only for a whitelisted address.
    pub fn ban(&mut self, ip: IpAddr, now: Instant) -> Banned {
        if self.disabled {
            Banned::Disabled
        } else if self.is_whitelisted(ip) {
            Banned::Whitelisted
        } else {
            let until = after(now, self.duration);
            let ip = ip.to_canonical();
            if self.bans.len() >= MAX_BANS && !self.bans.contains_key(&ip) {
                self.make_room(now);
            }
            self.bans.insert(ip, until);
            Banned::Until(until)
        }
    }

    /// Adds to the score of connection `id` (with `ip`) at Unix second
    /// `unix` (dcrd's `addBanScore`): nothing with banning off or no
    /// points; above the threshold, unless whitelisted, a ban.
    pub fn add_score(
        &mut self,
        id: u64,
        ip: IpAddr,
        persistent: u32,
        transient: u32,
        unix: i64,
        now: Instant,
    ) -> Scored {
        if self.disabled || (persistent == 0 && transient == 0) {
            return Scored::Unchanged;
        }
        let score = self
            .scores
            .entry(id)
            .or_default()
            .increase(persistent, transient, unix);
        if score > self.threshold {
            if let Banned::Until(until) = self.ban(ip, now) {
                return Scored::Banned(score, until);
            }
        }
        Scored::Score(score)
    }

    /// The threshold (a score above half of it is logged as a warning).
    pub fn threshold(&self) -> u32 {
        self.threshold
    }

    /// Connection `id`'s score at Unix second `unix`.
    pub fn score(&self, id: u64, unix: i64) -> u32 {
        self.scores.get(&id).map_or(0, |s| s.int(unix))
    }

    /// Connection `id` is gone: its score goes with it.
    pub fn forget(&mut self, id: u64) {
        self.scores.remove(&id);
    }

    /// The bans in force at `now`.
    pub fn bans(&self, now: Instant) -> Vec<BanInfo> {
        self.bans
            .iter()
            .filter(|(_, until)| **until > now)
            .map(|(ip, until)| BanInfo {
                ip: *ip,
                remaining: *until - now,
            })
            .collect()
    }

    /// The addresses banned at `now`.
    pub fn banned(&self, now: Instant) -> HashSet<IpAddr> {
        self.bans
            .iter()
            .filter(|(_, until)| **until > now)
            .map(|(ip, _)| *ip)
            .collect()
    }

    /// Drops expired bans (dcrd drops one when its host next connects).
    pub fn forget_expired(&mut self, now: Instant) {
        self.bans.retain(|_, until| *until > now);
    }

    /// Frees a place for a new ban: the expired ones go, else the one
    /// that ends soonest (B16).
    fn make_room(&mut self, now: Instant) {
        self.forget_expired(now);
        if self.bans.len() < MAX_BANS {
            return;
        }
        let soonest = self
            .bans
            .iter()
            .min_by_key(|(_, until)| **until)
            .map(|(ip, _)| *ip);
        if let Some(ip) = soonest {
            self.bans.remove(&ip);
            self.dropped += 1;
        }
    }

    /// Bans dropped before they ended to keep within [`MAX_BANS`].
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Bans and scores held, for the bound's tests.
    pub fn len(&self) -> usize {
        self.bans.len() + self.scores.len()
    }

    /// True when nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Whether a `getaddr` from a peer is answered (dcrd `OnGetAddr`): only
/// where addresses are exchanged, only from inbound peers, once per
/// connection: A1, A2, A3.
pub fn answers_get_addr(rules: NetworkRules, inbound: bool, answered: bool) -> bool {
    rules.exchange_addresses && inbound && !answered
}

/// Whether to ask a new outbound peer for addresses (dcrd
/// `handleAddPeer`): where addresses are exchanged and while the book
/// needs more: V14.
pub fn asks_for_addresses(rules: NetworkRules, outbound: bool, book_needs_more: bool) -> bool {
    rules.exchange_addresses && outbound && book_needs_more
}

/// The last-seen time of an address from a seed list: between 3 and 7
/// days before `now`, at random (dcrd `SeedAddrs`, so seeded addresses
/// rank as from a more authoritative source than other peers): Z3.
pub fn seed_timestamp(now_unix: u64, rng: &mut impl Rng) -> u64 {
    const DAY: u64 = 24 * 3600;
    now_unix.saturating_sub(3 * DAY + rng.random_range(0..4 * DAY))
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    use super::*;
    use crate::fsm::stall::StallError;
    use crate::sync::FOREVER;
    use crate::{HandshakeError, LocalFailure};

    const BASE: Duration = DEFAULT_RETRY_DURATION;
    const MAX: Duration = DEFAULT_MAX_RETRY_DURATION;

    fn sa(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    fn rng() -> StdRng {
        StdRng::seed_from_u64(7)
    }

    #[test]
    fn p6_backoff_is_half_fixed_and_half_jitter_of_a_doubling_capped_wait() {
        let mut r = rng();
        assert_eq!(backoff_with_jitter(0, BASE, MAX, &mut r), Duration::ZERO);
        for retries in 1..12u32 {
            let full = (BASE * (1 << (retries - 1))).min(MAX);
            let mut seen_low = false;
            let mut seen_high = false;
            for _ in 0..400 {
                let d = backoff_with_jitter(retries, BASE, MAX, &mut r);
                assert!(d >= full / 2 && d < full, "{retries}: {d:?} of {full:?}");
                seen_low |= d < full.mul_f64(0.6);
                seen_high |= d > full.mul_f64(0.9);
            }
            assert!(
                seen_low && seen_high,
                "{retries}: the jitter spans the half"
            );
        }
        // Huge counts neither overflow nor pass the cap.
        let d = backoff_with_jitter(u32::MAX, BASE, MAX, &mut r);
        assert!(d >= MAX / 2 && d < MAX);
    }

    #[test]
    fn p5_a_connection_not_kept_five_seconds_backs_off_and_one_kept_redials_at_once() {
        let mut r = rng();
        let t0 = Instant::now();
        let mut p = Persistent::new(t0);
        assert!(p.is_due(t0));
        // Dialled, connected, dropped after a second: first retry 2.5–5 s.
        p.attempting(t0);
        assert!(!p.is_due(t0));
        let t1 = t0 + Duration::from_secs(1);
        let w1 = p.ended(t1, BASE, MAX, &mut r);
        assert_eq!(p.retries, 1);
        assert!(w1 >= BASE / 2 && w1 < BASE, "{w1:?}");
        assert!(!p.is_due(t1) && p.is_due(t1 + w1));
        // Again at once after the redial: 5–10 s, then 10–20 s.
        let t2 = t1 + w1;
        p.attempting(t2);
        let w2 = p.ended(t2 + Duration::from_millis(10), BASE, MAX, &mut r);
        assert!(w2 >= BASE && w2 < 2 * BASE, "{w2:?}");
        let t3 = t2 + w2;
        p.attempting(t3);
        let w3 = p.ended(t3, BASE, MAX, &mut r);
        assert!(w3 >= 2 * BASE && w3 < 4 * BASE, "{w3:?}");
        // A connection that lasted 5 s from its attempt: redialled at once,
        // the count cleared.
        let t4 = t3 + w3;
        p.attempting(t4);
        let t5 = t4 + BASE;
        assert_eq!(p.ended(t5, BASE, MAX, &mut r), Duration::ZERO);
        assert_eq!(p.retries, 0);
        assert!(p.is_due(t5));
    }

    #[test]
    fn p1_c6_persistent_peers_at_most_eight_no_duplicates_per_host_limit() {
        let a = sa("8.8.8.8:9108");
        assert!(may_add_persistent(a, 7, false, true, 0, 5).is_ok());
        assert!(matches!(
            may_add_persistent(a, 8, false, true, 0, 5),
            Err(ManagerError::MaxPersistent(8))
        ));
        assert!(matches!(
            may_add_persistent(a, 1, true, true, 0, 5),
            Err(ManagerError::Duplicate(d)) if d == a
        ));
        assert!(matches!(
            may_add_persistent(a, 5, false, true, 5, 5),
            Err(ManagerError::PerHostLimit(_))
        ));
        // Exempt from the per-host limit: any number of its IP.
        assert!(may_add_persistent(a, 5, false, false, 5, 5).is_ok());
    }

    #[test]
    fn p2_p3_c1_c3_one_peer_count_and_a_target_for_automatic_outbound_only() {
        let counts = |normal, automatic| PeerCounts { normal, automatic };
        assert!(wants_outbound(counts(0, 0), 8, 125));
        assert!(!wants_outbound(counts(8, 8), 8, 125));
        // Inbound peers fill the shared count: no more outbound.
        assert!(!wants_outbound(counts(125, 3), 8, 125));
        // The target is at most max_peers.
        assert_eq!(outbound_target(8, 4), 4);
        assert!(!wants_outbound(counts(3, 4), 8, 4));
        // Manual connections count toward max_peers.
        let a = sa("8.8.8.8:9108");
        assert!(may_connect(a, false, false, false, counts(124, 8), 125).is_ok());
        assert!(matches!(
            may_connect(a, false, false, false, counts(125, 8), 125),
            Err(ManagerError::PeerLimit(125))
        ));
        assert!(matches!(
            may_connect(a, true, false, false, counts(0, 0), 125),
            Err(ManagerError::Banned(_))
        ));
        assert!(matches!(
            may_connect(a, false, true, false, counts(0, 0), 125),
            Err(ManagerError::Duplicate(_))
        ));
        assert!(matches!(
            may_connect(a, false, false, true, counts(0, 0), 125),
            Err(ManagerError::PerHostLimit(_))
        ));
        assert!(keep_outbound(a, false).is_ok());
        assert!(keep_outbound(a, true).is_err());
    }

    #[test]
    fn c4_c5_loopback_and_whitelisted_need_no_host_permit_and_zero_is_no_limit() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(needs_host_permit(ip("8.8.8.8"), false, true, 5));
        assert!(!needs_host_permit(ip("8.8.8.8"), true, true, 5));
        assert!(!needs_host_permit(ip("127.0.0.1"), false, true, 5));
        assert!(!needs_host_permit(ip("::1"), false, true, 5));
        assert!(!needs_host_permit(ip("::ffff:127.0.0.1"), false, true, 5));
        assert!(!needs_host_permit(ip("8.8.8.8"), false, true, 0));
        // Loopback standing in for remote hosts (tests): held to it.
        assert!(needs_host_permit(ip("127.0.0.1"), false, false, 5));
    }

    #[test]
    fn c1_c9_c10_inbound_refusals_in_dcrds_order() {
        let ok = InboundCheck {
            banned: false,
            whitelisted: false,
            duplicate: false,
            needs_host_permit: true,
            same_host: 0,
            normal: 0,
        };
        assert_eq!(admit_inbound(ok, 5, 125), Ok(()));
        let all = InboundCheck {
            banned: true,
            duplicate: true,
            same_host: 5,
            normal: 125,
            ..ok
        };
        assert_eq!(admit_inbound(all, 5, 125), Err(InboundRefusal::Banned));
        let all = InboundCheck {
            banned: false,
            ..all
        };
        assert_eq!(admit_inbound(all, 5, 125), Err(InboundRefusal::Duplicate));
        let all = InboundCheck {
            duplicate: false,
            ..all
        };
        assert_eq!(
            admit_inbound(all, 5, 125),
            Err(InboundRefusal::PerHostLimit)
        );
        let all = InboundCheck {
            same_host: 4,
            ..all
        };
        assert_eq!(admit_inbound(all, 5, 125), Err(InboundRefusal::PeerLimit));
        // Exempt from the per-host limit; whitelisted also from the total.
        let loopback = InboundCheck {
            needs_host_permit: false,
            same_host: 50,
            ..ok
        };
        assert_eq!(admit_inbound(loopback, 5, 125), Ok(()));
        let white = InboundCheck {
            whitelisted: true,
            needs_host_permit: false,
            normal: 500,
            ..ok
        };
        assert_eq!(admit_inbound(white, 5, 125), Ok(()));
        assert_eq!(keep_inbound(false, false, false, 124, 125), Ok(()));
        assert_eq!(
            keep_inbound(true, true, false, 0, 125),
            Err(InboundRefusal::Displaced)
        );
        assert_eq!(
            keep_inbound(false, true, true, 0, 125),
            Err(InboundRefusal::Banned)
        );
        // Places filled while it handshook: not kept, unless whitelisted.
        assert_eq!(
            keep_inbound(false, false, false, 125, 125),
            Err(InboundRefusal::PeerLimit)
        );
        assert_eq!(keep_inbound(false, false, true, 125, 125), Ok(()));
    }

    #[test]
    fn the_pending_pool_is_bounded_by_the_manager_s_limits() {
        let d = admission::Limits::default();
        assert_eq!(pending_limits(1000, 1000, true), d);
        let small = pending_limits(10, 2, false);
        assert_eq!(
            (
                small.capacity,
                small.per_address,
                small.per_group,
                small.pressure,
                small.exempt_loopback
            ),
            (10, 2, 10, 5, false)
        );
        // No per-host limit: the pool's own per-address bound.
        assert_eq!(pending_limits(125, 0, true).per_address, d.per_address);
        let none = pending_limits(0, 1, true);
        assert_eq!((none.capacity, none.per_address), (1, 1));
    }

    #[test]
    fn p8_one_outbound_connection_per_routable_group_keyed_as_dcrds_book() {
        let mut groups = HashMap::new();
        groups.insert(outbound_group(sa("8.8.1.1:9108")), 1);
        assert!(outbound_group_full(sa("8.8.200.7:9108"), &groups));
        assert!(!outbound_group_full(sa("8.9.0.1:9108"), &groups));
        // dcrd's groups, not a /16 of any address: 6to4 carries its IPv4.
        assert!(outbound_group_full(sa("[2002:808:1::1]:9108"), &groups));
        // Local networks (never in dcrd's book) are not held to it.
        groups.insert(outbound_group(sa("127.0.0.1:1")), 1);
        assert!(!outbound_group_full(sa("127.0.0.1:2"), &groups));
    }

    #[test]
    fn p8_p9_p10_address_picking_skips_groups_recent_attempts_and_other_ports() {
        let now = 1_700_000_000u64;
        let cand = |s: &str, last: Option<u64>| Candidate {
            addr: sa(s),
            last_attempt: last,
        };
        let no_groups = HashMap::new();
        let none = |_| false;
        // A recent attempt is skipped for the first 30 draws only.
        let recent = cand("8.8.8.8:9108", Some(now - 60));
        let mut draws = 0;
        let picked = pick_outbound(
            || {
                draws += 1;
                Some(recent)
            },
            &no_groups,
            none,
            now,
            9108,
        );
        assert_eq!((picked, draws), (Some(recent), 31));
        // Ten minutes ago is no longer recent.
        let old = cand("8.8.8.8:9108", Some(now - 600));
        let mut draws = 0;
        pick_outbound(
            || {
                draws += 1;
                Some(old)
            },
            &no_groups,
            none,
            now,
            9108,
        );
        assert_eq!(draws, 1);
        // Another port: skipped for the first 50 draws.
        let port = cand("8.8.8.8:1234", None);
        let mut draws = 0;
        pick_outbound(
            || {
                draws += 1;
                Some(port)
            },
            &no_groups,
            none,
            now,
            9108,
        );
        assert_eq!(draws, 51);
        // Port preference off (0): at once.
        let mut draws = 0;
        pick_outbound(
            || {
                draws += 1;
                Some(port)
            },
            &no_groups,
            none,
            now,
            0,
        );
        assert_eq!(draws, 1);
        // A full group is always skipped: nothing in 100 draws.
        let mut groups = HashMap::new();
        groups.insert(outbound_group(sa("8.8.1.1:9108")), 1);
        let mut draws = 0;
        let picked = pick_outbound(
            || {
                draws += 1;
                Some(old)
            },
            &groups,
            none,
            now,
            9108,
        );
        assert_eq!((picked, draws), (None, 100));
        // So is whatever `skip` names; an empty book ends it at once.
        assert_eq!(
            pick_outbound(|| Some(old), &no_groups, |a| a == old.addr, now, 9108),
            None
        );
        assert_eq!(pick_outbound(|| None, &no_groups, none, now, 9108), None);
    }

    #[test]
    fn p11_automatic_dialling_pauses_after_25_failures_until_a_success() {
        let t0 = Instant::now();
        let mut f = OutboundFailures::default();
        for i in 0..MAX_FAILED_ATTEMPTS {
            assert!(f.ready(t0), "{i}");
            f.failed(t0, BASE);
        }
        assert!(!f.ready(t0));
        assert!(!f.ready(t0 + BASE - Duration::from_millis(1)));
        assert!(f.ready(t0 + BASE));
        // Each further failure pauses again.
        f.failed(t0 + BASE, BASE);
        assert!(!f.ready(t0 + BASE));
        assert!(f.ready(t0 + 2 * BASE));
        f.succeeded();
        assert!(f.ready(t0) && f.count() == 0);
    }

    #[test]
    fn v3_v4_outbound_peers_need_node_network_and_mix_capability_while_short() {
        let full = ServiceFlags::NODE_NETWORK;
        assert_eq!(
            check_outbound_version(full, 12, 0, 0, 8, REQUIRED_SERVICES),
            Ok(())
        );
        assert_eq!(
            check_outbound_version(ServiceFlags::NONE, 12, 0, 0, 8, REQUIRED_SERVICES),
            Err(Refusal::MissingServices(ServiceFlags::NODE_NETWORK))
        );
        // Version 9: refused when it would leave too few places for the
        // three mix-capable peers wanted (5 outbound + 3 >= 8).
        assert_eq!(
            check_outbound_version(full, 9, 5, 0, 8, REQUIRED_SERVICES),
            Err(Refusal::ProtocolVersion {
                theirs: 9,
                required: 10
            })
        );
        assert_eq!(
            check_outbound_version(full, 9, 4, 0, 8, REQUIRED_SERVICES),
            Ok(())
        );
        assert_eq!(
            check_outbound_version(full, 9, 7, 3, 8, REQUIRED_SERVICES),
            Ok(())
        );
        // With a target of 1, one mix-capable peer is wanted.
        assert!(check_outbound_version(full, 9, 0, 0, 1, REQUIRED_SERVICES).is_err());
        assert_eq!(
            check_outbound_version(full, 9, 1, 1, 1, REQUIRED_SERVICES),
            Ok(())
        );
    }

    #[test]
    fn a1_a6_a14_v14_simnet_and_regnet_exchange_nothing_and_dial_nobody() {
        for net in [CurrencyNet::SimNet, CurrencyNet::RegNet] {
            let r = NetworkRules::of(net);
            assert!(!r.exchange_addresses && !r.automatic_outbound, "{net:?}");
            assert!(!answers_get_addr(r, true, false));
            assert!(!asks_for_addresses(r, true, true));
        }
        for net in [CurrencyNet::MainNet, CurrencyNet::TestNet3] {
            let r = NetworkRules::of(net);
            assert!(r.exchange_addresses && r.automatic_outbound, "{net:?}");
            // A2, A3: inbound only, once.
            assert!(answers_get_addr(r, true, false));
            assert!(!answers_get_addr(r, false, false));
            assert!(!answers_get_addr(r, true, true));
            // V14: outbound only, while the book needs more.
            assert!(asks_for_addresses(r, true, true));
            assert!(!asks_for_addresses(r, true, false));
            assert!(!asks_for_addresses(r, false, true));
        }
        assert_eq!(default_port(CurrencyNet::MainNet), 9108);
        assert_eq!(default_port(CurrencyNet::TestNet3), 19108);
    }

    #[test]
    fn b10_only_malformed_messages_are_held_against_a_peer_that_leaves() {
        let undecodable = DisconnectReason::Protocol(ProtocolViolation::Undecodable {
            command: None,
            error: dcr_wire::Error::invalid(dcr_wire::ErrorKind::TooFewAddrs, "x"),
        });
        assert!(bans_on_disconnect(&undecodable));
        // A payload cut short fails in dcrd with Go's io.ErrUnexpectedEOF,
        // which is no wire.ErrorCode: disconnected, not banned.
        let truncated = DisconnectReason::Protocol(ProtocolViolation::Undecodable {
            command: Some(dcr_wire::Command::Ping),
            error: dcr_wire::Error::eof(5),
        });
        assert!(!bans_on_disconnect(&truncated));
        for kind in dcr_wire::ErrorKind::ALL {
            let e = dcr_wire::Error::invalid(kind, "x");
            assert_eq!(
                is_banned_wire_error(&e),
                kind != dcr_wire::ErrorKind::UnexpectedEof,
                "{kind}"
            );
        }
        for fine in [
            DisconnectReason::Requested,
            DisconnectReason::RemoteClosed,
            DisconnectReason::Idle,
            DisconnectReason::HandshakeTimeout,
            DisconnectReason::Handshake(HandshakeError::SelfConnection),
            DisconnectReason::Stalled(StallError::TooManyPending),
            DisconnectReason::Protocol(ProtocolViolation::DuplicateVersion),
            DisconnectReason::Io(std::io::ErrorKind::ConnectionReset),
            DisconnectReason::Local(LocalFailure::QueuedOutput {
                queued: 2 << 20,
                max: 1 << 20,
            }),
        ] {
            assert!(!bans_on_disconnect(&fine), "{fine:?}");
        }
    }

    fn list(disabled: bool) -> BanList {
        let white = Whitelist::new([Whitelist::parse_entry("10.9.0.0/16").unwrap()]);
        BanList::new(DEFAULT_BAN_THRESHOLD, DEFAULT_BAN_DURATION, disabled, white)
    }

    const T: i64 = 1_700_000_000;

    #[test]
    fn b2_b3_one_score_per_connection_and_a_ban_only_above_the_threshold() {
        let t0 = Instant::now();
        let ip: IpAddr = "8.8.8.8".parse().unwrap();
        let mut b = list(false);
        // Five blocks not found: 100 persistent, at the threshold: kept.
        assert_eq!(b.add_score(1, ip, 100, 0, T, t0), Scored::Score(100));
        assert!(!b.is_banned(ip, t0));
        // Another connection of the same IP starts at 0.
        assert_eq!(b.add_score(2, ip, 20, 0, T, t0), Scored::Score(20));
        assert_eq!(b.score(2, T), 20);
        // One more on the first: 120 > 100, banned for 24 h.
        assert_eq!(
            b.add_score(1, ip, 20, 0, T, t0),
            Scored::Banned(120, t0 + DEFAULT_BAN_DURATION)
        );
        assert!(b.is_banned(ip, t0 + DEFAULT_BAN_DURATION - Duration::from_secs(1)));
        assert!(!b.is_banned(ip, t0 + DEFAULT_BAN_DURATION));
        assert_eq!(b.bans(t0)[0].remaining, DEFAULT_BAN_DURATION);
        // A reconnecting peer is a new connection: a new score.
        b.forget(1);
        assert_eq!(b.score(1, T), 0);
        b.forget_expired(t0 + DEFAULT_BAN_DURATION);
        b.forget(2);
        assert!(b.is_empty());
        // No points: nothing recorded.
        assert_eq!(b.add_score(3, ip, 0, 0, T, t0), Scored::Unchanged);
        assert!(b.is_empty());
    }

    /// A ban as long as a user may ask (`--banduration` of `u64::MAX`
    /// seconds) bans, as good as for ever, instead of overflowing the
    /// instant it ends at (a panic that stopped the manager).
    #[test]
    fn b4_a_ban_longer_than_an_instant_holds_is_for_ever() {
        let t0 = Instant::now();
        let ip: IpAddr = "8.8.8.8".parse().unwrap();
        let white = Whitelist::new([]);
        let mut b = BanList::new(DEFAULT_BAN_THRESHOLD, Duration::MAX, false, white);
        let Banned::Until(until) = b.ban(ip, t0) else {
            panic!("not banned");
        };
        assert_eq!(until, t0 + FOREVER);
        assert!(b.is_banned(ip, t0 + 10 * DEFAULT_BAN_DURATION));
        let mut failures = OutboundFailures::default();
        for _ in 0..MAX_FAILED_ATTEMPTS {
            failures.failed(t0, Duration::MAX);
        }
        assert!(!failures.ready(t0 + DEFAULT_BAN_DURATION));
    }

    #[test]
    fn b16_bans_are_bounded_and_the_soonest_to_end_goes_first() {
        let t0 = Instant::now();
        let mut b = list(false);
        let ip = |i: u32| {
            IpAddr::from(std::net::Ipv6Addr::from(
                0x2001_0db8_u128 << 96 | u128::from(i),
            ))
        };
        // A stream of remotes from one IPv6 prefix, each banned a second
        // after the last: the list stays at its bound.
        let n = MAX_BANS as u32 + 500;
        for i in 0..n {
            let at = t0 + Duration::from_secs(u64::from(i));
            assert!(matches!(b.ban(ip(i), at), Banned::Until(_)));
            assert!(b.len() <= MAX_BANS);
        }
        let now = t0 + Duration::from_secs(u64::from(n));
        assert_eq!(b.len(), MAX_BANS);
        assert_eq!(b.dropped(), 500);
        // The newest bans hold; the oldest were let go first.
        assert!((500..n).all(|i| b.is_banned(ip(i), now)));
        assert!((0..500).all(|i| !b.is_banned(ip(i), now)));
        // Banning one already banned takes no room.
        assert!(matches!(b.ban(ip(n - 1), now), Banned::Until(_)));
        assert_eq!(b.dropped(), 500);
        // Expired bans make room before any ban in force is dropped.
        let later = t0 + DEFAULT_BAN_DURATION + Duration::from_secs(600);
        assert!(matches!(b.ban(ip(n), later), Banned::Until(_)));
        assert_eq!(b.dropped(), 500);
        assert!(b.is_banned(ip(n), later));
        assert!(b.is_banned(ip(n - 1), later));
    }

    #[test]
    fn b1_scores_decay_in_whole_seconds_and_transient_parts_expire() {
        let t0 = Instant::now();
        let ip: IpAddr = "8.8.8.8".parse().unwrap();
        let mut b = list(false);
        assert_eq!(b.add_score(1, ip, 0, 99, T, t0), Scored::Score(99));
        assert_eq!(b.score(1, T + 60), 49);
        // A minute later another 99: 49 + 99 = 148, banned.
        assert!(matches!(
            b.add_score(1, ip, 0, 99, T + 60, t0),
            Scored::Banned(148, _)
        ));
        let mut b = list(false);
        b.add_score(1, ip, 0, 90, T, t0);
        assert_eq!(b.score(1, T + 1800), 0, "half an hour: gone");
    }

    #[test]
    fn b6_b7_b15_whitelisted_prefixes_are_scored_never_banned_and_nobanning_does_nothing() {
        let t0 = Instant::now();
        let white: IpAddr = "10.9.200.1".parse().unwrap();
        let mut b = list(false);
        assert!(b.is_whitelisted(white));
        assert!(b.is_whitelisted("::ffff:10.9.0.1".parse().unwrap()));
        assert!(!b.is_whitelisted("10.8.0.1".parse().unwrap()));
        assert_eq!(b.add_score(1, white, 500, 0, T, t0), Scored::Score(500));
        assert_eq!(b.ban(white, t0), Banned::Whitelisted);
        assert!(!b.is_banned(white, t0));
        let other: IpAddr = "8.8.8.8".parse().unwrap();
        assert_eq!(b.ban(other, t0), Banned::Until(t0 + DEFAULT_BAN_DURATION));
        // --nobanning: neither scores nor bans.
        let mut off = list(true);
        assert_eq!(off.add_score(1, other, 500, 0, T, t0), Scored::Unchanged);
        assert_eq!(off.ban(other, t0), Banned::Disabled);
        assert!(off.is_empty());
        // Entries as dcrd parses them: prefixes masked, single IPs /32 and
        // /128, anything else refused.
        assert_eq!(
            Whitelist::parse_entry("192.168.1.77/24")
                .unwrap()
                .to_string(),
            "192.168.1.0/24"
        );
        assert_eq!(
            Whitelist::parse_entry("::1").unwrap().to_string(),
            "::1/128"
        );
        assert_eq!(
            Whitelist::parse_entry("1.2.3.4").unwrap().to_string(),
            "1.2.3.4/32"
        );
        assert!(Whitelist::parse_entry("nope").is_err());
    }

    #[test]
    fn z3_seeded_addresses_are_stamped_three_to_seven_days_back() {
        let mut r = rng();
        let now = 1_700_000_000;
        for _ in 0..500 {
            let t = seed_timestamp(now, &mut r);
            assert!(t <= now - 3 * 86_400 && t > now - 7 * 86_400, "{}", now - t);
        }
    }
}
