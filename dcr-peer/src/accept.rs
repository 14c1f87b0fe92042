//! The one way in: accepting inbound connections, admitting them to the
//! pending pool ([`crate::admission`]) and running their handshakes, so
//! that connections that never finish a handshake cannot keep a new peer
//! out. [`crate::net::serve`] and the connection manager both take this
//! path; they differ only in what they decide before a connection is
//! admitted (the manager's bans and limits, in `connmgr::policy`) and in
//! what they do with a peer once its handshake is done.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, warn};

use crate::admission::{Limits, PendingPool, Refusal};
use crate::config::Config;
use crate::error::PeerError;
use crate::fsm::handshake::Direction;
use crate::hooks::Hooks;
use crate::peer::Peer;

/// How long to wait after a failed accept (out of descriptors and the
/// like) before accepting again.
const ACCEPT_RETRY: Duration = Duration::from_millis(50);

/// The next connection on `listener`. A failed accept is logged and
/// retried after a short wait: no error stops a listener.
pub(crate) async fn next_connection(listener: &TcpListener) -> (TcpStream, SocketAddr) {
    loop {
        match listener.accept().await {
            Ok(accepted) => return accepted,
            Err(e) => {
                warn!(error = %e, "accept failed");
                tokio::time::sleep(ACCEPT_RETRY).await;
            }
        }
    }
}

/// An inbound handshake that ended: its id, the remote's address, and the
/// peer or why not.
#[derive(Debug)]
pub(crate) struct Handshaken {
    pub id: u64,
    pub addr: SocketAddr,
    pub result: Result<Peer, PeerError>,
}

/// A connection in its handshake: where from, the means to end it, and
/// its place in the pool (none when it is exempt from the pool).
#[derive(Debug)]
struct Running {
    addr: SocketAddr,
    end: CancellationToken,
    place: Option<u64>,
}

/// Inbound connections in their handshake: their places in the pending
/// pool, and the tasks running their handshakes, each ended at once when
/// its place is taken or expires. Each handshake that ends by itself is
/// reported on the channel given to [`Handshakes::new`]; the owner then
/// calls [`Handshakes::finish`] (or [`Handshakes::settle`] first, to keep
/// the place while it hands the peer on).
#[derive(Debug)]
pub(crate) struct Handshakes {
    pool: PendingPool<u64>,
    running: HashMap<u64, Running>,
    next_id: u64,
    config: Config,
    hooks: Hooks,
    stop: CancellationToken,
    tasks: TaskTracker,
    done: mpsc::Sender<Handshaken>,
}

impl Handshakes {
    /// No connection yet. Handshakes run as `config` and `hooks` say, in
    /// `tasks`, under a child of `stop`; their ends go to `done`.
    pub fn new(
        limits: Limits,
        config: Config,
        hooks: Hooks,
        stop: CancellationToken,
        tasks: TaskTracker,
        done: mpsc::Sender<Handshaken>,
    ) -> Self {
        Handshakes {
            pool: PendingPool::new(limits),
            running: HashMap::new(),
            next_id: 0,
            config,
            hooks,
            stop,
            tasks,
            done,
        }
    }

    /// Takes `stream`, accepted from `addr` at `now`, into a place of the
    /// pool (none when `exempt`), ending the handshake whose place the
    /// pool gives it, and starts its handshake; its id. Refused when the
    /// places it could take are all settled.
    pub fn admit(
        &mut self,
        stream: TcpStream,
        addr: SocketAddr,
        exempt: bool,
        now: Instant,
    ) -> Result<u64, Refusal> {
        let id = self.next_id;
        let place = if exempt {
            None
        } else {
            let (place, displaced) = self.pool.admit(addr.ip(), now, id)?;
            if let Some(victim) = displaced {
                self.end(victim, "displaced");
            }
            Some(place)
        };
        self.next_id += 1;
        let end = self.stop.child_token();
        self.running.insert(
            id,
            Running {
                addr,
                end: end.clone(),
                place,
            },
        );
        let (config, hooks, done) = (self.config.clone(), self.hooks.clone(), self.done.clone());
        self.tasks.spawn(async move {
            let _ = stream.set_nodelay(true);
            let local = stream.local_addr().ok();
            let start = Peer::start_on(stream, (addr, local), Direction::Inbound, config, hooks);
            let result = tokio::select! {
                _ = end.cancelled() => return,
                r = start => r,
            };
            let ended = Handshaken { id, addr, result };
            if let Err(mpsc::error::SendError(Handshaken { result: Ok(p), .. })) =
                done.send(ended).await
            {
                p.disconnect();
            }
        });
        Ok(id)
    }

    /// Under pressure, ends the handshakes past the pool's shorter
    /// deadline at `now`.
    pub fn expire(&mut self, now: Instant) {
        for id in self.pool.expire(now) {
            self.end(id, "expired");
        }
    }

    /// Frees the place of `id`, whose handshake ended; false when it had
    /// been ended already (displaced or expired while it finished).
    pub fn finish(&mut self, id: u64) -> bool {
        let Some(running) = self.running.remove(&id) else {
            return false;
        };
        if let Some(place) = running.place {
            self.pool.remove(place);
        }
        true
    }

    /// Connections in their handshake.
    pub fn len(&self) -> usize {
        self.running.len()
    }

    /// The addresses of the connections in their handshake outside the
    /// pool (exempt from it).
    pub fn exempt_addrs(&self) -> impl Iterator<Item = SocketAddr> + '_ {
        self.running
            .values()
            .filter(|r| r.place.is_none())
            .map(|r| r.addr)
    }

    /// The addresses of the connections in their handshake.
    pub fn addrs(&self) -> impl Iterator<Item = SocketAddr> + '_ {
        self.running.values().map(|r| r.addr)
    }

    /// Ends every handshake.
    pub fn drain(&mut self) {
        let ids: Vec<u64> = self.running.keys().copied().collect();
        for id in ids {
            self.end(id, "shut down");
        }
    }

    /// Ends the handshake of `id` and frees its place.
    fn end(&mut self, id: u64, why: &str) {
        if let Some(running) = self.running.remove(&id) {
            running.end.cancel();
            if let Some(place) = running.place {
                self.pool.remove(place);
            }
            debug!(addr = %running.addr, why, "pending inbound handshake ended");
        }
    }
}
