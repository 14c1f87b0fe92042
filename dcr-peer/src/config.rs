//! Peer configuration: what we advertise and the limits and timers we
//! apply, as plain data, and the defaults of each (the reference's). What
//! a peer is wired to (listeners, event channel, nonces, the version
//! message's hooks) is apart, in [`crate::Hooks`].

use std::time::Duration;

use dcr_wire::msg::{format_user_agent, validate_user_agent, DEFAULT_USER_AGENT};
use dcr_wire::{pver, CurrencyNet, ServiceFlags};

use crate::proxy::Proxy;

/// Time allowed for the whole version handshake (the reference's).
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);
/// A peer that sends nothing for this long is dropped (the reference's).
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(120);
/// Upper bound of the random wait between inventory trickles; the lower
/// bound is a fifth of it (the reference waits 100 to 500 ms).
pub const DEFAULT_TRICKLE_INTERVAL: Duration = Duration::from_millis(500);
/// Messages that may wait in the outbound queue (the reference's channel
/// size).
pub const DEFAULT_SEND_QUEUE_SIZE: usize = 5000;
/// Pongs that may be owed and not yet written: a peer that makes us owe
/// more without reading them is dropped (beyond the reference, which
/// relies on its 40 MiB output bound for this).
pub const DEFAULT_PRIORITY_QUEUE_SIZE: usize = 64;
/// Base time one write may take; one second more per 256 KiB of message
/// (the reference's write stall rule).
pub const DEFAULT_WRITE_TIMEOUT: Duration = Duration::from_secs(20);

/// How long a full event channel may hold up a peer's reader.
pub const DEFAULT_EVENT_TIMEOUT: Duration = Duration::from_secs(30);
/// The reference pings a little more often than its idle timeout so a
/// healthy but quiet peer is never dropped as idle.
pub const DEFAULT_PING_INTERVAL: Duration = Duration::from_secs(120 - 13);
/// How long a peer has to answer a request (the reference's
/// `stallResponseTimeout`).
pub const DEFAULT_STALL_TIMEOUT: Duration = Duration::from_secs(30);
/// Size of the known-inventory filter (the reference's).
pub const DEFAULT_MAX_KNOWN_INVENTORY: usize = 1000;
/// How long a known-inventory entry lasts (the reference's).
pub const DEFAULT_KNOWN_INVENTORY_TTL: Duration = Duration::from_secs(15 * 60);
/// Time a typed request ([`crate::Peer::call`] and the methods built on
/// it) waits for its answer unless the caller says otherwise: the
/// reference's stall timeout. It ends the request, never the connection.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Typed requests one peer may have outstanding; more wait for a slot.
pub const DEFAULT_MAX_REQUESTS_IN_FLIGHT: usize = 32;
/// Output queued for one peer past which it is dropped (the reference's
/// `maxQueuedOutputBytes`): comfortably over the largest message.
pub const DEFAULT_MAX_QUEUED_BYTES: u64 = 40 * 1024 * 1024;

/// How a peer behaves. `Config::new(net)` gives the reference's defaults
/// for `net`, and `Config::default()` those of mainnet; change fields
/// afterwards (`let mut c = Config::new(net); c.idle_timeout = ...;`) or
/// with the `with_*` setters.
///
/// Non-exhaustive: new settings may be added without a breaking change, so
/// it cannot be built with a struct literal outside this crate. With the
/// `serde` feature it reads from and writes to any serde format; fields
/// left out take their defaults (mainnet's).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(default)
)]
#[non_exhaustive]
pub struct Config {
    /// The network: frames carry its magic.
    pub net: CurrencyNet,
    /// Services we advertise.
    pub services: ServiceFlags,
    /// Our user agent component, appended to the library's own as
    /// `/dcrwire:1.0.0/name:version(comments)/`.
    pub user_agent_name: String,
    /// Our user agent version.
    pub user_agent_version: String,
    /// Our user agent comments, in parentheses after the version.
    pub user_agent_comments: Vec<String>,
    /// Highest protocol version we advertise (the negotiated one is the
    /// lower of this and the remote's).
    pub protocol_version: u32,
    /// Ask the remote not to relay transactions to us.
    pub disable_relay_tx: bool,
    /// SOCKS5 proxy that outbound connections go through (its address
    /// and authentication: none, a username and password, or fresh random
    /// credentials per connection for Tor stream isolation).
    /// When the remote's IP is the proxy's host (a connection that comes
    /// from it), or the proxy has no port, the version message gives the
    /// remote the unspecified address and port 0, so the proxy's address
    /// is not leaked (the reference's rule; the reference compares the
    /// addresses as text, we as IP addresses).
    pub proxy: Option<Proxy>,
    /// Time allowed for the whole version handshake.
    pub handshake_timeout: Duration,
    /// A peer that sends nothing for this long is dropped (not zero).
    pub idle_timeout: Duration,
    /// Time between our pings.
    pub ping_interval: Duration,
    /// Time a request may wait for its answer (not zero).
    pub stall_timeout: Duration,
    /// Upper bound of the random wait between inventory trickles.
    pub trickle_interval: Duration,
    /// Entries of the known-inventory filter.
    pub max_known_inventory: usize,
    /// How long a known-inventory entry lasts.
    pub known_inventory_ttl: Duration,
    /// Frames callers may have queued and not yet written;
    /// [`crate::Peer::queue_message`] refuses beyond, the waiting sends
    /// wait.
    pub send_queue_size: usize,
    /// Pongs owed and unwritten before the peer is dropped as flooding.
    pub priority_queue_size: usize,
    /// Bytes of output queued and unwritten before the peer is dropped
    /// (the reference's 40 MiB); waiting sends wait for room instead.
    pub max_queued_bytes: u64,
    /// Base time one write may take (plus one second per 256 KiB).
    pub write_timeout: Duration,
    /// How long a full event channel ([`crate::Hooks::events`]) may hold
    /// up the reader.
    pub event_timeout: Duration,
    /// Time a typed request waits for its answer by default (not zero).
    pub request_timeout: Duration,
    /// Typed requests outstanding at once; callers beyond wait for a slot
    /// (not zero).
    pub max_requests_in_flight: usize,
}

/// A configuration that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("the user agent breaks the reference's rules")]
    /// The user agent breaks the reference's rules.
    UserAgent(#[source] dcr_wire::Error),
    #[error("protocol version {0} is outside 1..={max}", max = pver::CURRENT)]
    /// A protocol version this crate does not speak.
    ProtocolVersion(u32),
    #[error("{0} must not be zero")]
    /// A limit or timeout that must not be zero (its name).
    Zero(&'static str),
    #[error("{0} is longer than 30 years")]
    /// A timeout longer than 30 years (its name): past what the clock's
    /// arithmetic holds, and as good as never.
    TooLong(&'static str),
}

impl Default for Config {
    /// The reference's defaults on mainnet: `Config::new(CurrencyNet::MainNet)`.
    fn default() -> Self {
        Config::new(CurrencyNet::MainNet)
    }
}

impl Config {
    /// The reference's defaults on `net`: its timeouts, queue sizes and
    /// inventory limits, the current protocol version, no services and no
    /// proxy.
    pub fn new(net: CurrencyNet) -> Self {
        Config {
            net,
            services: ServiceFlags::NONE,
            user_agent_name: String::new(),
            user_agent_version: String::new(),
            user_agent_comments: Vec::new(),
            protocol_version: pver::CURRENT,
            disable_relay_tx: false,
            proxy: None,
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            ping_interval: DEFAULT_PING_INTERVAL,
            stall_timeout: DEFAULT_STALL_TIMEOUT,
            trickle_interval: DEFAULT_TRICKLE_INTERVAL,
            max_known_inventory: DEFAULT_MAX_KNOWN_INVENTORY,
            known_inventory_ttl: DEFAULT_KNOWN_INVENTORY_TTL,
            send_queue_size: DEFAULT_SEND_QUEUE_SIZE,
            priority_queue_size: DEFAULT_PRIORITY_QUEUE_SIZE,
            max_queued_bytes: DEFAULT_MAX_QUEUED_BYTES,
            write_timeout: DEFAULT_WRITE_TIMEOUT,
            event_timeout: DEFAULT_EVENT_TIMEOUT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            max_requests_in_flight: DEFAULT_MAX_REQUESTS_IN_FLIGHT,
        }
    }

    /// The full user agent we send, checked as the reference checks it
    /// (at most 256 bytes of printable ASCII).
    pub fn user_agent(&self) -> Result<String, ConfigError> {
        let mut ua = DEFAULT_USER_AGENT.to_string();
        if !self.user_agent_name.is_empty() {
            let comments: Vec<&str> = self
                .user_agent_comments
                .iter()
                .map(String::as_str)
                .collect();
            ua.push_str(&format_user_agent(
                &self.user_agent_name,
                &self.user_agent_version,
                &comments,
            ));
        }
        validate_user_agent(ua.as_bytes()).map_err(ConfigError::UserAgent)?;
        Ok(ua)
    }

    /// Checks the configuration before a connection uses it.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.user_agent()?;
        if !(1..=pver::CURRENT).contains(&self.protocol_version) {
            return Err(ConfigError::ProtocolVersion(self.protocol_version));
        }
        for (name, zero) in [
            ("send_queue_size", self.send_queue_size == 0),
            ("priority_queue_size", self.priority_queue_size == 0),
            ("max_queued_bytes", self.max_queued_bytes == 0),
            ("idle_timeout", self.idle_timeout.is_zero()),
            ("stall_timeout", self.stall_timeout.is_zero()),
            ("max_known_inventory", self.max_known_inventory == 0),
            ("ping_interval", self.ping_interval.is_zero()),
            ("trickle_interval", self.trickle_interval.is_zero()),
            ("request_timeout", self.request_timeout.is_zero()),
            ("max_requests_in_flight", self.max_requests_in_flight == 0),
        ] {
            if zero {
                return Err(ConfigError::Zero(name));
            }
        }
        for (name, wait) in [
            ("handshake_timeout", self.handshake_timeout),
            ("idle_timeout", self.idle_timeout),
            ("ping_interval", self.ping_interval),
            ("stall_timeout", self.stall_timeout),
            ("trickle_interval", self.trickle_interval),
            ("known_inventory_ttl", self.known_inventory_ttl),
            ("write_timeout", self.write_timeout),
            ("event_timeout", self.event_timeout),
            ("request_timeout", self.request_timeout),
        ] {
            if wait > crate::sync::FOREVER {
                return Err(ConfigError::TooLong(name));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timeout_past_what_the_clock_holds_is_refused_by_name() {
        let mut c = Config::new(CurrencyNet::SimNet);
        c.stall_timeout = crate::sync::FOREVER;
        assert_eq!(c.validate(), Ok(()));
        c.stall_timeout = Duration::MAX;
        assert_eq!(c.validate(), Err(ConfigError::TooLong("stall_timeout")));
        let mut c = Config::new(CurrencyNet::SimNet);
        c.event_timeout = crate::sync::FOREVER + Duration::from_secs(1);
        assert_eq!(c.validate(), Err(ConfigError::TooLong("event_timeout")));
    }

    #[test]
    fn user_agent_is_formatted_and_checked() {
        let mut c = Config::new(CurrencyNet::SimNet);
        c.user_agent_name = "wallet".into();
        c.user_agent_version = "1.2".into();
        c.user_agent_comments = vec!["a".into(), "b".into()];
        assert_eq!(
            c.user_agent().unwrap(),
            format!("{DEFAULT_USER_AGENT}wallet:1.2(a; b)/")
        );
        c.user_agent_comments = vec!["x".repeat(300)];
        assert!(matches!(c.validate(), Err(ConfigError::UserAgent(_))));
        c.user_agent_comments = vec!["caf\u{e9}".into()];
        assert!(matches!(c.user_agent(), Err(ConfigError::UserAgent(_))));
    }

    #[cfg(feature = "serde")]
    #[test]
    fn serde_reads_a_configuration_with_defaults_for_what_is_left_out() {
        let c: Config = serde_json::from_str(
            r#"{"net": "SimNet", "idle_timeout": {"secs": 60, "nanos": 0},
                "proxy": {"addr": "127.0.0.1:9050", "auth": "Isolated"}}"#,
        )
        .unwrap();
        let mut want = Config::new(CurrencyNet::SimNet);
        want.idle_timeout = Duration::from_secs(60);
        want.proxy =
            Some(Proxy::new("127.0.0.1:9050").with_auth(crate::proxy::ProxyAuth::Isolated));
        assert_eq!(c, want);
        let back: Config = serde_json::from_value(serde_json::to_value(&c).unwrap()).unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn limits_must_be_usable() {
        let mut c = Config::new(CurrencyNet::SimNet);
        assert_eq!(c.validate(), Ok(()));
        c.send_queue_size = 0;
        assert_eq!(c.validate(), Err(ConfigError::Zero("send_queue_size")));
        c = Config::new(CurrencyNet::SimNet);
        c.protocol_version = 13;
        assert_eq!(c.validate(), Err(ConfigError::ProtocolVersion(13)));
    }
}
