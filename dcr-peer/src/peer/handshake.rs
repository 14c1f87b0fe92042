//! The handshake driver: feeds the [`Handshake`] machine from the
//! connection and writes what it answers, in the caller's task, before the
//! connection's own task exists (a connection that never completes it
//! costs no task and no write buffer).

use dcr_wire::Message;
use tracing::debug;

use super::conn::{self, Conn};
use super::handle::{Negotiated, Peer};
use super::version::local_version;
use crate::codec::{CodecError, RawFrame};
use crate::error::PeerError;
use crate::fsm::handshake::{Handshake, HandshakeError, Step};
use crate::hooks::Hooks;
use crate::sync::{now, unix_now};

/// Runs the version handshake on `conn`. Returns the frames that arrived
/// early (tolerated before the verack below version 12), to be handled
/// first by the connection's task.
pub(super) async fn run<S>(
    peer: &Peer,
    hooks: &Hooks,
    conn: &mut Conn<S>,
) -> Result<Vec<RawFrame>, PeerError>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite,
{
    let config = &peer.inner.config;
    let ours = local_version(config, hooks, peer.addr(), peer.direction())?;
    let our_nonce = ours.nonce;
    let mut hs = Handshake::new(peer.direction(), ours);
    for m in hs.start() {
        write(peer, hooks, conn, &m, hs.negotiated_version()).await?;
    }
    let listeners = &*hooks.listeners;
    let nonces = &hooks.nonces;
    let mut delayed = Vec::new();
    loop {
        let frame = match conn.next_frame().await {
            Ok(frame) => frame,
            Err(e) => {
                conn::read_failed(peer, listeners, &e);
                // The remote closed because it is this process and saw our
                // nonce come back (it says so in the shared nonce set).
                if nonces.was_refused_as_self(our_nonce) {
                    return Err(HandshakeError::SelfConnection.into());
                }
                return Err(e.into());
            }
        };
        let msg = conn::read(peer, listeners, &frame, hs.negotiated_version(), now())
            .map_err(CodecError::Wire)?;
        let step = hs
            .on_message(
                &msg,
                unix_now(),
                |n| nonces.contains(n),
                |v| {
                    if let Some(rule) = &hooks.version_rule {
                        rule(peer, v)?;
                    }
                    listeners.on_version(peer, v)
                },
            )
            .inspect_err(|e| {
                if let (HandshakeError::SelfConnection, Message::Version(v)) = (e, &msg) {
                    // Before the connection closes: the side that sent the
                    // nonce looks for it when it sees the close.
                    nonces.came_back(v.nonce);
                }
            })?;
        if let (Message::Version(_), Some(remote)) = (&msg, hs.remote()) {
            // Fixed from here on: the version the rest of the connection uses.
            let _ = peer.inner.negotiated.set(Negotiated {
                protocol_version: hs.negotiated_version(),
                remote: remote.clone(),
            });
            peer.update_last_block_height(remote.starting_height);
            conn.set_protocol_version(hs.negotiated_version());
        }
        let (msgs, done) = match step {
            Step::Send(msgs) => (msgs, false),
            Step::Delay => {
                debug!(command = %frame.command(), "delivered after the handshake");
                delayed.push(frame.clone());
                continue;
            }
            Step::Complete(msgs) => (msgs, true),
        };
        for m in msgs {
            write(peer, hooks, conn, &m, hs.negotiated_version()).await?;
        }
        if done {
            return Ok(delayed);
        }
    }
}

/// Writes one handshake message straight to the socket.
async fn write<S>(
    peer: &Peer,
    hooks: &Hooks,
    conn: &mut Conn<S>,
    msg: &Message<'_>,
    pv: u32,
) -> Result<(), PeerError>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite,
{
    let frame = dcr_wire::frame_to_vec(msg, peer.inner.config.net, pv)?;
    let listeners = &*hooks.listeners;
    conn.write_all(&frame)
        .await
        .inspect_err(|e| conn::write_failed(peer, listeners, e))?;
    conn.wrote(peer, listeners, msg.command(), &frame, now());
    Ok(())
}
