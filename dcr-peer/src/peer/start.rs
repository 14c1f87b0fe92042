//! Starting a peer: the handshake on a connected stream, in the caller's
//! task, then the connection's own task.

use std::net::SocketAddr;

use rand::SeedableRng;
use tokio::io::{AsyncRead, AsyncWrite};
use tracing::{debug, Instrument};

use super::conn::Conn;
use super::driver::{self, SessionHost};
use super::handle::Peer;
use super::handshake;
use crate::config::Config;
use crate::error::PeerError;
use crate::fsm::handshake::Direction;
use crate::fsm::session::{Limits, Session};
use crate::hooks::Hooks;
use crate::sync::now;

impl Peer {
    /// Runs the handshake on `stream` (connected to `addr`) and starts the
    /// peer's task, configured by `config` and wired to `hooks`. Fails
    /// when the configuration is unusable, the remote breaks the
    /// handshake, or it does not complete within
    /// [`Config::handshake_timeout`].
    pub async fn start<S>(
        stream: S,
        addr: SocketAddr,
        direction: Direction,
        config: Config,
        hooks: Hooks,
    ) -> Result<Peer, PeerError>
    where
        S: AsyncRead + AsyncWrite + Send + 'static,
    {
        Peer::start_on(stream, (addr, None), direction, config, hooks).await
    }

    /// [`Peer::start`] on a stream whose ends are `(remote, local)`: the
    /// local address is known for the sockets `net` dials and accepts.
    pub(crate) async fn start_on<S>(
        stream: S,
        (addr, local): (SocketAddr, Option<SocketAddr>),
        direction: Direction,
        config: Config,
        hooks: Hooks,
    ) -> Result<Peer, PeerError>
    where
        S: AsyncRead + AsyncWrite + Send + 'static,
    {
        config.validate()?;
        let (peer, inbox) = Peer::new(addr, local, direction, config);
        let cfg = &peer.inner.config;
        let mut conn = Conn::new(stream, cfg.net, cfg.protocol_version, &hooks);
        let span = tracing::debug_span!("handshake", addr = %addr);
        let outcome = tokio::time::timeout(
            cfg.handshake_timeout,
            handshake::run(&peer, &hooks, &mut conn).instrument(span),
        )
        .await
        .unwrap_or(Err(PeerError::HandshakeTimeout));
        let delayed = match outcome {
            Ok(delayed) => delayed,
            Err(e) => {
                peer.disconnect_with(e.to_reason());
                return Err(e);
            }
        };
        let pv = peer.protocol_version();
        let limits = Limits {
            idle_timeout: cfg.idle_timeout,
            ping_interval: cfg.ping_interval,
            stall_timeout: cfg.stall_timeout,
            trickle_interval: cfg.trickle_interval,
            write_timeout: cfg.write_timeout,
            max_owed_pongs: cfg.priority_queue_size,
        };
        let host = SessionHost {
            peer: peer.clone(),
            rng: rand::rngs::StdRng::seed_from_u64(rand::random()),
            pong: None,
        };
        let session = Session::new(limits, host, now());
        let span = tracing::debug_span!("peer", id = peer.id(), addr = %addr);
        let tasks = &peer.inner.tasks;
        let listeners = hooks.listeners.clone();
        let run = driver::run(peer.clone(), hooks, conn, session, inbox, delayed);
        tasks.spawn(run.instrument(span));
        tasks.close();
        listeners.on_verack(&peer);
        debug!(peer = %addr, pver = pv, "handshake complete");
        Ok(peer)
    }

    /// Starts an outbound peer on a connected stream.
    pub async fn outbound<S>(
        stream: S,
        addr: SocketAddr,
        config: Config,
        hooks: Hooks,
    ) -> Result<Peer, PeerError>
    where
        S: AsyncRead + AsyncWrite + Send + 'static,
    {
        Peer::start(stream, addr, Direction::Outbound, config, hooks).await
    }

    /// Starts an inbound peer on an accepted stream.
    pub async fn inbound<S>(
        stream: S,
        addr: SocketAddr,
        config: Config,
        hooks: Hooks,
    ) -> Result<Peer, PeerError>
    where
        S: AsyncRead + AsyncWrite + Send + 'static,
    {
        Peer::start(stream, addr, Direction::Inbound, config, hooks).await
    }
}
