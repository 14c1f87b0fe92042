//! `version`: the first message of a connection, in which each side states
//! its protocol version, services, addresses, user agent and chain height.

#[allow(unused_imports)]
use crate::prelude::*;
use alloc::borrow::Cow;

use bytes::BufMut;

use super::netaddr::{NetAddress, MAX_NET_ADDRESS_PAYLOAD};
use super::{require_pver, Command, Payload};
use crate::error::{Error, ErrorKind};
use crate::primitives::{
    bool, i32_le, is_strict_ascii, put_var_bytes, time_u64, u64_le, var_bytes_size, var_string,
    PResult, MAX_INT64_TIME, MAX_VAR_INT_SIZE,
};
#[cfg(feature = "std")]
use crate::protocol::pver;
use crate::protocol::ServiceFlags;

/// Longest user agent a `version` message may carry.
pub const MAX_USER_AGENT_LEN: usize = 256;

/// The user agent [`Version::new`] starts from; [`Version::add_user_agent`]
/// appends the application's own part to it.
pub const DEFAULT_USER_AGENT: &str = "/dcrwire:1.0.0/";

/// Serialized size of an address inside `version` (no timestamp).
const VERSION_ADDR_SIZE: usize = NetAddress::serialized_size(false);

/// `version`. Its layout does not depend on the negotiated protocol version
/// (there is none yet when it is sent): everything after the remote address
/// is optional on decode, read only while bytes remain, and absent fields
/// keep their zero values. Encoding always writes every field.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct Version<'a> {
    /// The highest protocol version the sender speaks.
    #[cfg_attr(
        feature = "serde",
        serde(
            rename = "ProtocolVersion",
            deserialize_with = "crate::serde_impls::int"
        )
    )]
    pub protocol_version: i32,
    /// Services the sender offers.
    #[cfg_attr(feature = "serde", serde(rename = "Services"))]
    pub services: ServiceFlags,
    /// When the message was made, Unix seconds (64 bits on the wire; values
    /// above [`MAX_INT64_TIME`] are refused with ErrInvalidTimestamp).
    #[cfg_attr(
        feature = "serde",
        serde(rename = "Timestamp", with = "crate::serde_impls::time")
    )]
    pub timestamp: u64,
    /// The receiver's address as the sender sees it (no timestamp on the
    /// wire).
    #[cfg_attr(feature = "serde", serde(rename = "AddrYou"))]
    pub addr_you: NetAddress,
    /// The sender's own address (no timestamp on the wire).
    #[cfg_attr(feature = "serde", serde(rename = "AddrMe"))]
    pub addr_me: NetAddress,
    /// Random value that lets a node detect a connection to itself.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "Nonce", deserialize_with = "crate::serde_impls::int")
    )]
    pub nonce: u64,
    /// The sender's software, e.g. `/dcrwire:1.0.0/dcrd:2.0.0/`: printable
    /// ASCII, at most [`MAX_USER_AGENT_LEN`] bytes (borrowed from the
    /// input).
    #[cfg_attr(
        feature = "serde",
        serde(rename = "UserAgent", with = "crate::serde_impls::text")
    )]
    pub user_agent: Cow<'a, [u8]>,
    /// Height of the sender's best block.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "LastBlock", deserialize_with = "crate::serde_impls::int")
    )]
    pub last_block: i32,
    /// Asks the receiver not to announce transactions. On the wire the
    /// byte says the opposite ("relay"), and a missing byte means relay.
    #[cfg_attr(feature = "serde", serde(rename = "DisableRelayTx"))]
    pub disable_relay_tx: bool,
}

impl Version<'static> {
    /// A version message as a node sends it: the current protocol version,
    /// no services, the current time, [`DEFAULT_USER_AGENT`], relaying on.
    /// Adjust the public fields or call [`Version::add_user_agent`] after.
    #[cfg(feature = "std")]
    pub fn new(addr_me: NetAddress, addr_you: NetAddress, nonce: u64, last_block: i32) -> Self {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Version {
            protocol_version: pver::CURRENT as i32,
            services: ServiceFlags::NONE,
            timestamp: now,
            addr_you: NetAddress {
                timestamp: None,
                ..addr_you
            },
            addr_me: NetAddress {
                timestamp: None,
                ..addr_me
            },
            nonce,
            user_agent: Cow::Borrowed(DEFAULT_USER_AGENT.as_bytes()),
            last_block,
            disable_relay_tx: false,
        }
    }
}

impl<'a> Version<'a> {
    /// The user agent as text (it is always ASCII once validated).
    pub fn user_agent_str(&self) -> Option<&str> {
        core::str::from_utf8(&self.user_agent).ok()
    }

    /// True when every flag of `service` is advertised.
    pub fn has_service(&self, service: ServiceFlags) -> bool {
        self.services.contains(service)
    }

    /// Appends `name:version/` to the user agent, or
    /// `name:version(c1; c2)/` when comments are given. Refused, leaving
    /// the user agent as it was, when the result would be longer than
    /// [`MAX_USER_AGENT_LEN`] (ErrUserAgentTooLong) or not printable ASCII
    /// (ErrMalformedStrictString).
    pub fn add_user_agent(
        &mut self,
        name: &str,
        version: &str,
        comments: &[&str],
    ) -> Result<(), Error> {
        let mut ua = self.user_agent.to_vec();
        ua.extend_from_slice(format_user_agent(name, version, comments).as_bytes());
        validate_user_agent(&ua)?;
        self.user_agent = Cow::Owned(ua);
        Ok(())
    }
}

/// One user agent component: `name:version/`, or `name:version(c1; c2)/`
/// with comments, as [`Version::add_user_agent`] appends it.
pub fn format_user_agent(name: &str, version: &str, comments: &[&str]) -> String {
    if comments.is_empty() {
        format!("{name}:{version}/")
    } else {
        format!("{name}:{version}({})/", comments.join("; "))
    }
}

/// The user agent rules: the length first, then the characters.
pub fn validate_user_agent(ua: &[u8]) -> Result<(), Error> {
    if ua.len() > MAX_USER_AGENT_LEN {
        return Err(Error::limit(
            ErrorKind::UserAgentTooLong,
            "user agent length",
            ua.len() as u64,
            MAX_USER_AGENT_LEN as u64,
        ));
    }
    if !is_strict_ascii(ua) {
        return Err(Error::invalid(
            ErrorKind::MalformedStrictString,
            "user agent is not strict ASCII",
        ));
    }
    Ok(())
}

/// The user agent as read: any var-string (up to 32 MiB, read whole), then
/// the user agent rules.
fn user_agent(input: &[u8]) -> PResult<'_, &[u8]> {
    let (i, ua) = var_string(input)?;
    validate_user_agent(ua)?;
    Ok((i, ua))
}

/// Parses an optional trailing field only when input remains.
fn optional<'a, T>(
    input: &'a [u8],
    parse: impl FnOnce(&'a [u8]) -> PResult<'a, T>,
) -> PResult<'a, Option<T>> {
    if input.is_empty() {
        return Ok((input, None));
    }
    let (i, v) = parse(input)?;
    Ok((i, Some(v)))
}

impl<'a> Payload<'a> for Version<'a> {
    const COMMAND: Command = Command::Version;
    type Owned = Version<'static>;

    fn decode(input: &'a [u8], pver: u32) -> PResult<'a, Self> {
        require_pver(Self::COMMAND, pver)?;
        let (i, protocol_version) = i32_le(input)?;
        let (i, services) = u64_le(i)?;
        let (i, timestamp) = time_u64(i)?;
        let (i, addr_you) = NetAddress::decode(i, false)?;
        let (i, addr_me) = optional(i, |i| NetAddress::decode(i, false))?;
        let (i, nonce) = optional(i, u64_le)?;
        let (i, user_agent) = optional(i, user_agent)?;
        let (i, last_block) = optional(i, i32_le)?;
        let (i, relay) = optional(i, bool)?;
        let msg = Version {
            protocol_version,
            services: ServiceFlags(services),
            timestamp,
            addr_you,
            addr_me: addr_me.unwrap_or_default(),
            nonce: nonce.unwrap_or(0),
            user_agent: Cow::Borrowed(user_agent.unwrap_or(&[])),
            last_block: last_block.unwrap_or(0),
            disable_relay_tx: !relay.unwrap_or(true),
        };
        Ok((i, msg))
    }

    fn encode<B: BufMut>(&self, buf: &mut B, pver: u32) -> Result<(), Error> {
        require_pver(Self::COMMAND, pver)?;
        validate_user_agent(&self.user_agent)?;
        if self.timestamp > MAX_INT64_TIME {
            return Err(Error::invalid(
                ErrorKind::InvalidTimestamp,
                "timestamp exceeds maximum allowed value",
            ));
        }
        buf.put_i32_le(self.protocol_version);
        buf.put_u64_le(self.services.0);
        buf.put_u64_le(self.timestamp);
        self.addr_you.encode(buf, false);
        self.addr_me.encode(buf, false);
        buf.put_u64_le(self.nonce);
        put_var_bytes(buf, &self.user_agent);
        buf.put_i32_le(self.last_block);
        buf.put_u8(u8::from(!self.disable_relay_tx));
        Ok(())
    }

    fn serialized_size(&self, _pver: u32) -> usize {
        4 + 8 + 8 + 2 * VERSION_ADDR_SIZE + 8 + var_bytes_size(&self.user_agent) + 4 + 1
    }

    fn max_payload_length(_pver: u32) -> u32 {
        // Fixed fields (33 bytes: version, services, time, nonce, last
        // block, relay) + two addresses at their largest + the user agent.
        (33 + 2 * MAX_NET_ADDRESS_PAYLOAD + MAX_VAR_INT_SIZE + MAX_USER_AGENT_LEN) as u32
    }

    fn into_owned(self) -> Self::Owned {
        Version {
            user_agent: Cow::Owned(self.user_agent.into_owned()),
            ..self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::netaddr::strategies;
    use super::*;
    use proptest::prelude::*;

    fn decode(b: &[u8]) -> Result<Version<'_>, Error> {
        let (rest, m) = Version::decode(b, pver::CURRENT)?;
        crate::primitives::expect_end(rest)?;
        Ok(m)
    }

    fn sample() -> Version<'static> {
        let me = NetAddress::new("127.0.0.1".parse().unwrap(), 9108, ServiceFlags(1));
        let you = NetAddress::new("::1".parse().unwrap(), 9108, ServiceFlags(0));
        let mut v = Version::new(me, you, 42, 1000);
        v.timestamp = 1_700_000_000;
        v
    }

    fn encoded(v: &Version<'_>) -> Vec<u8> {
        let mut b = Vec::new();
        v.encode(&mut b, pver::CURRENT).unwrap();
        b
    }

    #[test]
    fn trailing_fields_are_optional() {
        let v = sample();
        let full = encoded(&v);
        // Cut after the remote address, after the local one, after the
        // nonce, after the user agent and after the last block.
        let ua_end = 80 + var_bytes_size(&v.user_agent);
        for cut in [46, 72, 80, ua_end, ua_end + 4] {
            let d = decode(&full[..cut]).unwrap();
            assert_eq!(d.addr_you, v.addr_you);
            assert!(!d.disable_relay_tx, "missing relay byte means relay");
            if cut < 72 {
                assert_eq!(d.addr_me, NetAddress::default());
            }
            if cut < ua_end {
                assert!(d.user_agent.is_empty());
            }
        }
        assert_eq!(decode(&full).unwrap(), v);
        // A field that has started must be complete.
        assert_eq!(
            decode(&full[..50]).unwrap_err().kind(),
            ErrorKind::UnexpectedEof
        );
    }

    #[test]
    fn relay_byte_inverted_and_any_nonzero_is_true() {
        let mut b = encoded(&sample());
        let last = b.len() - 1;
        b[last] = 0;
        assert!(decode(&b).unwrap().disable_relay_tx);
        b[last] = 7;
        assert!(!decode(&b).unwrap().disable_relay_tx);
    }

    #[test]
    fn user_agent_limits() {
        let mut v = sample();
        v.user_agent = Cow::Owned(vec![b'a'; MAX_USER_AGENT_LEN]);
        let b = encoded(&v);
        assert_eq!(decode(&b).unwrap(), v);

        v.user_agent = Cow::Owned(vec![b'a'; MAX_USER_AGENT_LEN + 1]);
        let mut out = Vec::new();
        let e = v.encode(&mut out, pver::CURRENT).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::UserAgentTooLong);
        assert!(out.is_empty());
        // Decoding refuses it the same way (the reference reads the whole
        // string first, so a short input is EOF instead).
        let mut raw = b[..80].to_vec();
        put_var_bytes(&mut raw, &[b'a'; MAX_USER_AGENT_LEN + 1]);
        assert_eq!(
            decode(&raw).unwrap_err().kind(),
            ErrorKind::UserAgentTooLong
        );
        assert_eq!(
            decode(&raw[..raw.len() - 1]).unwrap_err().kind(),
            ErrorKind::UnexpectedEof
        );

        v.user_agent = Cow::Borrowed(b"/caf\xc3\xa9/");
        let e = v.encode(&mut out, pver::CURRENT).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::MalformedStrictString);
        let mut raw = b[..80].to_vec();
        put_var_bytes(&mut raw, b"a\x7f");
        assert_eq!(
            decode(&raw).unwrap_err().kind(),
            ErrorKind::MalformedStrictString
        );
    }

    #[test]
    fn timestamp_limit() {
        let mut v = sample();
        v.timestamp = MAX_INT64_TIME + 1;
        let mut out = Vec::new();
        let e = v.encode(&mut out, pver::CURRENT).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidTimestamp);
        assert!(out.is_empty());
        let mut b = encoded(&sample());
        b[12..20].copy_from_slice(&(MAX_INT64_TIME + 1).to_le_bytes());
        assert_eq!(decode(&b).unwrap_err().kind(), ErrorKind::InvalidTimestamp);
    }

    #[test]
    fn add_user_agent_formats_and_checks() {
        let mut v = sample();
        v.add_user_agent("dcrpeer", "0.1.0", &[]).unwrap();
        assert_eq!(v.user_agent_str(), Some("/dcrwire:1.0.0/dcrpeer:0.1.0/"));
        v.add_user_agent("app", "2", &["a", "b"]).unwrap();
        assert_eq!(
            v.user_agent_str(),
            Some("/dcrwire:1.0.0/dcrpeer:0.1.0/app:2(a; b)/")
        );
        let before = v.user_agent.clone();
        let long = "x".repeat(MAX_USER_AGENT_LEN);
        let e = v.add_user_agent(&long, "1", &[]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::UserAgentTooLong);
        let e = v.add_user_agent("é", "1", &[]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::MalformedStrictString);
        assert_eq!(v.user_agent, before);
    }

    #[test]
    fn max_payload_length_matches_reference() {
        assert_eq!(Version::max_payload_length(pver::INITIAL), 358);
        assert_eq!(Version::max_payload_length(pver::CURRENT), 358);
    }

    proptest! {
        #[test]
        fn round_trip(
            protocol_version in any::<i32>(),
            services in any::<u64>(),
            timestamp in 0..=MAX_INT64_TIME,
            addr_you in strategies::net_address(false),
            addr_me in strategies::net_address(false),
            nonce in any::<u64>(),
            user_agent in proptest::collection::vec(0x20u8..=0x7e, 0..=MAX_USER_AGENT_LEN),
            last_block in any::<i32>(),
            disable_relay_tx in any::<bool>(),
        ) {
            let v = Version {
                protocol_version,
                services: ServiceFlags(services),
                timestamp,
                addr_you,
                addr_me,
                nonce,
                user_agent: Cow::Owned(user_agent),
                last_block,
                disable_relay_tx,
            };
            let b = encoded(&v);
            prop_assert_eq!(b.len(), v.serialized_size(pver::CURRENT));
            let d = decode(&b).unwrap();
            prop_assert!(matches!(d.user_agent, Cow::Borrowed(_)));
            prop_assert_eq!(d.into_owned(), v);
        }
    }
}
