//! Listeners: the user's callbacks for what a peer receives and sends.
//!
//! One method per message type (default: do nothing), plus `on_message`
//! for every message, `on_read`/`on_write` for every frame, and
//! `on_version`, which may refuse the peer during the handshake. Messages
//! are lent to the callback as views into the received frame, so a
//! listener that keeps one calls `into_owned`.
//!
//! Callbacks run on the peer's own task: time spent in them delays that
//! peer's reading and writing (and is excluded from its stall deadlines,
//! as the reference does), so hand long work to another task, for example
//! through [`crate::Hooks::events`] and [`PeerEvent`].

use dcr_wire::{Command, Message, Version};

use crate::codec::CodecError;
use crate::fsm::handshake::Refusal;
use crate::peer::Peer;

/// A frame as it was written: its command and its bytes, header included.
/// The message decodes from it on demand, borrowing the frame, so a
/// listener that does not look pays nothing.
#[derive(Debug, Clone, Copy)]
pub struct SentFrame<'a> {
    /// The frame's command.
    pub command: Command,
    /// The whole frame, header included.
    pub bytes: &'a [u8],
}

impl<'a> SentFrame<'a> {
    /// The message, decoded at `pver` (the peer's
    /// [`Peer::protocol_version`]).
    pub fn message(&self, pver: u32) -> Result<Message<'a>, dcr_wire::Error> {
        let payload = self
            .bytes
            .get(dcr_wire::MESSAGE_HEADER_SIZE..)
            .unwrap_or(&[]);
        Message::decode(self.command, payload, pver)
    }
}

/// A message received by a peer, delivered through
/// [`crate::Hooks::events`] as an owned value.
#[derive(Debug, Clone)]
pub struct PeerEvent {
    /// The peer that received it.
    pub peer: Peer,
    /// The message, detached from the frame.
    pub message: Message<'static>,
    /// Whether the message answered one of this peer's typed requests
    /// ([`Peer::call`] and the methods beside it), whose caller has it
    /// too. A consumer that acts on what peers send unasked (block
    /// announcements, say) skips these, as dcrwallet routes a `headers`
    /// that answers its `getheaders` to the request and not to its
    /// announcement handler (`p2p/peering.go` `receivedHeaders`).
    pub answered: bool,
}

/// `192.0.2.1:9108 sent headers`.
impl std::fmt::Display for PeerEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} sent {}", self.peer.addr(), self.message.command())
    }
}

/// The receiving end of a peer event channel as a [`Stream`]: every
/// message the peers given the [`Sender`] receive, in the order each
/// peer received them. The stream ends once every sender is gone (every
/// peer using it has stopped and the `Hooks` holding it are dropped).
///
/// [`Stream`]: futures_core::Stream
/// [`Sender`]: tokio::sync::mpsc::Sender
#[derive(Debug)]
pub struct PeerEvents {
    rx: tokio::sync::mpsc::Receiver<PeerEvent>,
}

impl PeerEvents {
    /// A channel holding up to `capacity` events (at least 1): the sender
    /// goes in [`crate::Hooks::events`], the stream to the consumer. A
    /// consumer that leaves it full for [`crate::Config::event_timeout`]
    /// gets the peer disconnected.
    pub fn channel(capacity: usize) -> (tokio::sync::mpsc::Sender<PeerEvent>, PeerEvents) {
        let (tx, rx) = tokio::sync::mpsc::channel(capacity.max(1));
        (tx, PeerEvents { rx })
    }

    /// The next event, or `None` once every sender is gone (the same as
    /// the stream's `next`, without a `StreamExt` import).
    pub async fn recv(&mut self) -> Option<PeerEvent> {
        self.rx.recv().await
    }

    /// The channel's receiver, for code that wants it directly.
    pub fn into_inner(self) -> tokio::sync::mpsc::Receiver<PeerEvent> {
        self.rx
    }
}

impl From<tokio::sync::mpsc::Receiver<PeerEvent>> for PeerEvents {
    fn from(rx: tokio::sync::mpsc::Receiver<PeerEvent>) -> Self {
        PeerEvents { rx }
    }
}

impl futures_core::Stream for PeerEvents {
    type Item = PeerEvent;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<PeerEvent>> {
        self.rx.poll_recv(cx)
    }
}

/// The type a listener method is lent: the message's type from dcr-wire,
/// with an anonymous lifetime where it borrows the frame.
macro_rules! view {
    ($name:ident) => { dcr_wire::$name };
    ($name:ident <$lt:lifetime>) => { dcr_wire::$name<'_> };
}

/// Declares [`Listeners`] and its dispatch from dcr-wire's message list
/// ([`dcr_wire::for_each_message!`]): one method per message, named as the
/// list names its handler. `version` and `verack` come first in that list
/// and have methods of their own (the handshake's).
macro_rules! listeners {
    (
        Version($($version:tt)*) = $version_cmd:literal, on_version;
        VerAck($($verack:tt)*) = $verack_cmd:literal, on_verack;
        $($variant:ident($name:ident $(<$lt:lifetime>)?) = $cmd:literal, $method:ident;)*
    ) => {
        /// Callbacks for one or many peers. Every method has a default that
        /// does nothing; implement the ones you need.
        #[allow(unused_variables)]
        pub trait Listeners: Send + Sync + 'static {
            /// The remote's version arrived, before we answer it. A
            /// refusal ends the handshake with it
            /// ([`crate::HandshakeError::Refused`]).
            fn on_version(&self, peer: &Peer, msg: &Version<'_>) -> Result<(), Refusal> {
                Ok(())
            }
            /// The handshake completed.
            fn on_verack(&self, peer: &Peer) {}
            /// Every message received after the handshake, after its own
            /// method.
            fn on_message(&self, peer: &Peer, msg: &Message<'_>) {}
            /// A message was read (its frame's size on the wire and the
            /// message), or reading failed: the frame or its message did not
            /// decode (`bytes` is the frame's size when its header was
            /// whole, else 0) or the connection failed. Called before the
            /// message's own method, as the reference's `OnRead`.
            fn on_read(&self, peer: &Peer, bytes: usize, msg: Result<&Message<'_>, &CodecError>) {}
            /// A frame was written (its size and the frame, whose message
            /// decodes on demand), or writing failed (`bytes` 0), as the
            /// reference's `OnWrite`.
            fn on_write(&self, peer: &Peer, bytes: usize, msg: Result<SentFrame<'_>, &std::io::Error>) {}
            $(
                #[doc = concat!("A `", $cmd, "` message arrived.")]
                fn $method(&self, peer: &Peer, msg: &view!($name $(<$lt>)?)) {}
            )*
        }

        /// Calls the method for `msg`, then `on_message`.
        pub(crate) fn dispatch(l: &dyn Listeners, peer: &Peer, msg: &Message<'_>) {
            match msg {
                Message::Version(_) | Message::VerAck(_) => {}
                $( Message::$variant(m) => l.$method(peer, m), )*
                // `Message` is non-exhaustive: a message a newer dcr-wire
                // adds reaches `on_message` alone until it has a method.
                _ => {}
            }
            l.on_message(peer, msg);
        }
    };
}

dcr_wire::for_each_message!(listeners);

/// Listeners that do nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoListeners;

impl Listeners for NoListeners {}
