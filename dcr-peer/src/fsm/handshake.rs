//! The version handshake, inbound and outbound, in the reference's order.
//!
//! Outbound: we send our version; read theirs; read their verack; send
//! ours. Inbound: read their version; send our version and a verack; read
//! their verack. Below protocol version 12 the reference tolerates other
//! messages before the verack as long as the verack is among the first
//! three messages after the version, so at most two others (they are
//! delivered after the handshake); from 12 the verack must come next.
//!
//! The machine decides; the caller sends what it returns and keeps delayed
//! frames. The negotiated version is the lower of ours and theirs, a version
//! carrying one of our own recent nonces is a connection to ourselves (the
//! caller keeps the nonces and answers whether one is ours), and peers below
//! [`MIN_ACCEPTED_PROTOCOL_VERSION`] are refused (after the caller's
//! `on_version` hook has seen them, as the reference orders it).

use std::fmt;

use dcr_wire::{pver, Message, ServiceFlags, Version};

/// The oldest protocol version we talk to (the reference's requirement).
pub const MIN_ACCEPTED_PROTOCOL_VERSION: u32 = pver::REMOVE_REJECT;

/// Below version 12, the verack must be among this many messages after
/// the version: at most `VERACK_WITHIN - 1` others may precede it.
pub const VERACK_WITHIN: usize = 3;

/// Which side opened the connection (serialized by name with the `serde`
/// feature; the impls are in `stats.rs`, outside this I/O-free module).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// The remote connected to us.
    Inbound,
    /// We connected to the remote.
    Outbound,
}

/// Why a handshake failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandshakeError {
    /// Something other than `version` came first (its command).
    NotVersion(&'static str),
    /// Something other than `verack` answered our version (its command).
    NotVerAck(&'static str),
    /// The remote is this process: our nonce came back.
    SelfConnection,
    /// The remote's protocol version is below the minimum accepted.
    ProtocolTooOld(u32),
    /// One of our hooks refused the peer (why).
    Refused(Refusal),
}

/// Why one of our hooks refused a peer during its handshake: the version
/// hook after reading the remote's version, or the host-to-address hook
/// when it has no address to give the remote in ours. The reference's
/// server refuses for the first two reasons (`OnVersion`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// The remote lacks services we require of it: those it lacks.
    MissingServices(ServiceFlags),
    /// The remote's protocol version is below the one we require of it.
    ProtocolVersion {
        /// The version the remote advertised.
        theirs: u32,
        /// The version we require.
        required: u32,
    },
    /// We have no address to give the remote in our version message.
    NoAddress,
    /// Another rule of ours, by name.
    Policy(&'static str),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::MissingServices(s) => write!(f, "missing required services {:#x}", s.0),
            Refusal::ProtocolVersion { theirs, required } => {
                write!(f, "protocol version {theirs} below the required {required}")
            }
            Refusal::NoAddress => f.write_str("no address to give the remote"),
            Refusal::Policy(rule) => f.write_str(rule),
        }
    }
}

impl std::error::Error for Refusal {}

impl fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HandshakeError::NotVersion(c) => {
                write!(f, "a version message must precede all others (got {c})")
            }
            HandshakeError::NotVerAck(c) => {
                write!(f, "the verack must follow the version message (got {c})")
            }
            HandshakeError::SelfConnection => {
                f.write_str("connected to ourselves (our own nonce came back)")
            }
            HandshakeError::ProtocolTooOld(v) => write!(
                f,
                "protocol version {v} is older than the minimum {MIN_ACCEPTED_PROTOCOL_VERSION}"
            ),
            HandshakeError::Refused(r) => write!(f, "refused by our rules: {r}"),
        }
    }
}

impl std::error::Error for HandshakeError {}

/// What the remote's version told us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteVersion {
    /// The version the remote advertised.
    pub protocol_version: u32,
    /// Services the remote advertised.
    pub services: ServiceFlags,
    /// The remote's user agent.
    pub user_agent: String,
    /// The remote's best height when it connected.
    pub starting_height: i64,
    /// Remote clock minus ours, in seconds.
    pub time_offset: i64,
    /// The remote asked not to be sent transactions.
    pub disable_relay_tx: bool,
    /// The remote's version nonce.
    pub nonce: u64,
}

/// Where the handshake stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    AwaitVersion,
    AwaitVerAck { tolerated: usize },
    Done,
}

/// What the caller must do after an event.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Send these messages, in order, and keep reading.
    Send(Vec<Message<'static>>),
    /// Keep this message's frame; deliver it once the handshake completes.
    Delay,
    /// The handshake is complete; send these messages first.
    Complete(Vec<Message<'static>>),
}

/// The handshake of one connection.
#[derive(Debug, Clone)]
pub struct Handshake {
    direction: Direction,
    our_version: Version<'static>,
    state: State,
    negotiated: u32,
    remote: Option<RemoteVersion>,
}

impl Handshake {
    /// `our_version` is the version message we send (its protocol version is
    /// our maximum; its nonce must be one the caller remembers for
    /// self-connection detection).
    pub fn new(direction: Direction, our_version: Version<'static>) -> Self {
        let negotiated = our_version.protocol_version as u32;
        Handshake {
            direction,
            our_version,
            state: State::AwaitVersion,
            negotiated,
            remote: None,
        }
    }

    /// Our version as an inbound answer: it gives the remote the services
    /// its own version reported, as the reference does (an outbound
    /// version goes first, when they are not known yet).
    fn reply_version(&self, services: ServiceFlags) -> Version<'static> {
        let mut v = self.our_version.clone();
        v.addr_you.services = services;
        v
    }

    /// Messages to send when the connection opens (our version, outbound).
    pub fn start(&self) -> Vec<Message<'static>> {
        match self.direction {
            Direction::Outbound => vec![Message::Version(self.our_version.clone())],
            Direction::Inbound => Vec::new(),
        }
    }

    /// The negotiated protocol version (ours until their version arrives).
    pub fn negotiated_version(&self) -> u32 {
        self.negotiated
    }

    /// What the remote's version said, once it arrived.
    pub fn remote(&self) -> Option<&RemoteVersion> {
        self.remote.as_ref()
    }

    /// True once both versions and veracks have been exchanged.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// A message arrived. `is_own_nonce` says whether a nonce is one of our
    /// recent ones; `on_version` may refuse the peer; `now_unix` is our clock
    /// for the time offset.
    pub fn on_message(
        &mut self,
        msg: &Message<'_>,
        now_unix: i64,
        is_own_nonce: impl Fn(u64) -> bool,
        on_version: impl FnOnce(&Version<'_>) -> Result<(), Refusal>,
    ) -> Result<Step, HandshakeError> {
        match self.state {
            State::AwaitVersion => {
                let Message::Version(v) = msg else {
                    return Err(HandshakeError::NotVersion(msg.command().as_str()));
                };
                if is_own_nonce(v.nonce) {
                    return Err(HandshakeError::SelfConnection);
                }
                let theirs = v.protocol_version.max(0) as u32;
                self.negotiated = self.negotiated.min(theirs);
                self.remote = Some(RemoteVersion {
                    protocol_version: theirs,
                    services: v.services,
                    user_agent: String::from_utf8_lossy(&v.user_agent).into_owned(),
                    starting_height: i64::from(v.last_block),
                    time_offset: i64::try_from(v.timestamp)
                        .unwrap_or(i64::MAX)
                        .saturating_sub(now_unix),
                    disable_relay_tx: v.disable_relay_tx,
                    nonce: v.nonce,
                });
                on_version(v).map_err(HandshakeError::Refused)?;
                if theirs < MIN_ACCEPTED_PROTOCOL_VERSION {
                    return Err(HandshakeError::ProtocolTooOld(theirs));
                }
                self.state = State::AwaitVerAck { tolerated: 0 };
                Ok(Step::Send(match self.direction {
                    Direction::Inbound => vec![
                        Message::Version(self.reply_version(v.services)),
                        Message::VerAck(Default::default()),
                    ],
                    Direction::Outbound => Vec::new(),
                }))
            }
            State::AwaitVerAck { tolerated } => {
                if let Message::VerAck(_) = msg {
                    self.state = State::Done;
                    return Ok(Step::Complete(match self.direction {
                        Direction::Outbound => vec![Message::VerAck(Default::default())],
                        Direction::Inbound => Vec::new(),
                    }));
                }
                let legacy = self.negotiated < pver::ADDR_V2;
                if legacy && tolerated + 1 < VERACK_WITHIN && !matches!(msg, Message::Version(_)) {
                    self.state = State::AwaitVerAck {
                        tolerated: tolerated + 1,
                    };
                    return Ok(Step::Delay);
                }
                Err(HandshakeError::NotVerAck(msg.command().as_str()))
            }
            State::Done => Ok(Step::Send(Vec::new())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dcr_wire::{NetAddress, Ping, VerAck};

    fn version(pver: u32, nonce: u64) -> Version<'static> {
        let mut v = Version::new(NetAddress::default(), NetAddress::default(), nonce, 100);
        v.protocol_version = pver as i32;
        v
    }

    fn feed(h: &mut Handshake, msg: Message<'_>) -> Result<Step, HandshakeError> {
        h.on_message(&msg, 0, |n| n == 42, |_| Ok(()))
    }

    #[test]
    fn an_inbound_answer_gives_the_remote_its_reported_services() {
        let mut h = Handshake::new(Direction::Inbound, version(12, 1));
        let mut theirs = version(12, 7);
        theirs.services = ServiceFlags::NODE_NETWORK;
        let Ok(Step::Send(msgs)) = feed(&mut h, Message::Version(theirs)) else {
            panic!("the version is answered");
        };
        let Message::Version(ours) = &msgs[0] else {
            panic!("{msgs:?}")
        };
        assert_eq!(ours.addr_you.services, ServiceFlags::NODE_NETWORK);
    }

    #[test]
    fn outbound_order_and_negotiation() {
        let mut h = Handshake::new(Direction::Outbound, version(12, 42));
        assert!(matches!(h.start().as_slice(), [Message::Version(_)]));
        assert_eq!(
            feed(&mut h, Message::Version(version(10, 7))),
            Ok(Step::Send(vec![]))
        );
        assert_eq!(h.negotiated_version(), 10);
        assert_eq!(h.remote().map(|r| r.starting_height), Some(100));
        assert_eq!(
            feed(&mut h, Message::VerAck(VerAck)),
            Ok(Step::Complete(vec![Message::VerAck(VerAck)]))
        );
        assert!(h.is_done());
    }

    #[test]
    fn inbound_answers_version_with_version_and_verack() {
        let mut h = Handshake::new(Direction::Inbound, version(12, 42));
        assert!(h.start().is_empty());
        match feed(&mut h, Message::Version(version(12, 7))) {
            Ok(Step::Send(m)) => {
                assert!(matches!(
                    m.as_slice(),
                    [Message::Version(_), Message::VerAck(_)]
                ))
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            feed(&mut h, Message::VerAck(VerAck)),
            Ok(Step::Complete(vec![]))
        );
    }

    #[test]
    fn refusals() {
        let mut h = Handshake::new(Direction::Inbound, version(12, 42));
        assert_eq!(
            feed(&mut h, Message::VerAck(VerAck)),
            Err(HandshakeError::NotVersion("verack"))
        );
        let mut h = Handshake::new(Direction::Inbound, version(12, 42));
        assert_eq!(
            feed(&mut h, Message::Version(version(12, 42))),
            Err(HandshakeError::SelfConnection)
        );
        let mut h = Handshake::new(Direction::Inbound, version(12, 42));
        assert_eq!(
            feed(&mut h, Message::Version(version(8, 7))),
            Err(HandshakeError::ProtocolTooOld(8))
        );
        let mut h = Handshake::new(Direction::Inbound, version(12, 42));
        assert_eq!(
            h.on_message(
                &Message::Version(version(12, 7)),
                0,
                |_| false,
                |_| Err(Refusal::Policy("no"))
            ),
            Err(HandshakeError::Refused(Refusal::Policy("no")))
        );
    }

    #[test]
    fn verack_strict_from_12_tolerant_below() {
        let ping = || Message::Ping(Ping { nonce: 1 });
        let mut h = Handshake::new(Direction::Outbound, version(12, 42));
        feed(&mut h, Message::Version(version(12, 7))).unwrap();
        assert_eq!(feed(&mut h, ping()), Err(HandshakeError::NotVerAck("ping")));

        let mut h = Handshake::new(Direction::Outbound, version(12, 42));
        feed(&mut h, Message::Version(version(11, 7))).unwrap();
        assert_eq!(feed(&mut h, ping()), Ok(Step::Delay));
        assert_eq!(feed(&mut h, ping()), Ok(Step::Delay));
        assert_eq!(feed(&mut h, ping()), Err(HandshakeError::NotVerAck("ping")));
    }
}
