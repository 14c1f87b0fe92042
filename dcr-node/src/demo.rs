//! The demo: inside one process, a serving peer on 127.0.0.1 holding a
//! chain of real blocks and a client peer that connects to it, completes
//! the handshake, syncs every header and block and checks them all.

use std::sync::Arc;

use dcr_peer::{Config, Hooks, PeerError, PeerStats, RecentNonces};
use dcr_wire::CurrencyNet;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use crate::serve::{
    node_config, serve_with, serving_config, serving_hooks, DisconnectOnly, Served,
};
use crate::store::{ChainStore, StoreError};
use crate::sync::{sync_chain, Progress, SyncError, SyncReport};

/// Why the demo failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DemoError {
    /// The blocks do not make a chain.
    #[error(transparent)]
    Chain(#[from] StoreError),
    /// The loopback listener could not be opened.
    #[error("cannot open the loopback listener")]
    Bind(#[source] std::io::Error),
    /// The client could not connect.
    #[error("the client could not connect")]
    Connect(#[source] PeerError),
    /// The server did not accept the client.
    #[error("the server did not accept the client")]
    Accept(#[source] PeerError),
    /// The server's task ended before it accepted.
    #[error("the server's task failed")]
    Server(#[from] tokio::task::JoinError),
    /// The sync failed.
    #[error(transparent)]
    Sync(#[from] SyncError),
    /// The sync ended without every block.
    #[error("synced {synced} of {}", dcr_wire::Counted(*held as u64, "block", "blocks"))]
    Incomplete {
        /// Blocks synced.
        synced: usize,
        /// Blocks the server holds.
        held: usize,
    },
    /// The closing ping could not be queued.
    #[error("the closing ping could not be queued")]
    Ping(#[source] PeerError),
}

/// What the demo did.
#[derive(Debug, Clone)]
pub struct DemoReport {
    /// What the client synced.
    pub sync: SyncReport,
    /// The client's stats at the end.
    pub client: PeerStats,
    /// The server's stats at the end.
    pub server: PeerStats,
}

/// Settings and wiring for one side of the demo, serving `chain` or not.
fn node(name: &str, chain: Option<&Arc<ChainStore>>) -> (Config, Hooks) {
    let (config, hooks) = match chain {
        Some(chain) => (
            serving_config(CurrencyNet::SimNet, name),
            serving_hooks(chain),
        ),
        None => (node_config(CurrencyNet::SimNet, name), Hooks::new()),
    };
    // Two nodes in one process: each its own nonces, or they would take
    // each other for themselves.
    (config, hooks.with_nonces(RecentNonces::new()))
}

/// Serves `blocks` on a loopback port and syncs them with a second peer.
pub async fn run_demo(
    blocks: Vec<Vec<u8>>,
    progress: impl FnMut(Progress),
) -> Result<DemoReport, DemoError> {
    let chain = Arc::new(ChainStore::new(blocks)?);
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(DemoError::Bind)?;
    let addr = listener.local_addr().map_err(DemoError::Bind)?;

    let (server_tx, server_rx) = mpsc::channel(256);
    let (server_cfg, server_hooks) = node("dcrpeer-server", Some(&chain));
    let server_hooks = server_hooks.with_events(server_tx);
    let server =
        tokio::spawn(
            async move { dcr_peer::net::accept(&listener, server_cfg, server_hooks).await },
        );
    let (peer_tx, peer_rx) = mpsc::channel(1);
    tokio::spawn(serve_with(
        Arc::new(Served::new(chain.clone())),
        server_rx,
        Some(peer_rx),
        DisconnectOnly::default(),
    ));

    let (client_tx, mut client_rx) = mpsc::channel(1024);
    let (client_cfg, client_hooks) = node("dcrpeer-client", None);
    let client_hooks = client_hooks.with_events(client_tx);
    let client = dcr_peer::net::connect(&addr.to_string(), client_cfg, client_hooks)
        .await
        .map_err(DemoError::Connect)?;
    let server = server.await?.map_err(DemoError::Accept)?;
    // The serving loop sends it `sendheaders` first, as dcrd's server.
    let _ = peer_tx.try_send(server.clone());

    let sync = match sync_chain(&client, &mut client_rx, progress).await {
        Ok(s) if s.blocks == chain.len() && s.tip == chain.tip().0 => s,
        failed => {
            // Both peers go before the error is reported.
            client.disconnect();
            client.wait_for_disconnect().await;
            server.wait_for_disconnect().await;
            return Err(match failed {
                Ok(s) => DemoError::Incomplete {
                    synced: s.blocks,
                    held: chain.len(),
                },
                Err(e) => e.into(),
            });
        }
    };
    // One ping each way so both snapshots carry a round-trip time.
    for p in [&client, &server] {
        p.push_ping().map_err(DemoError::Ping)?;
    }
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    while (client.stats().counters.ping_rtt.is_none() || server.stats().counters.ping_rtt.is_none())
        && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    let report = DemoReport {
        sync,
        client: client.stats(),
        server: server.stats(),
    };
    client.disconnect();
    client.wait_for_disconnect().await;
    server.wait_for_disconnect().await;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::build_chain;

    #[tokio::test]
    async fn demo_syncs_a_built_chain() {
        let blocks = build_chain(300);
        let total: usize = blocks.iter().map(Vec::len).sum();
        let mut seen_headers = 0;
        let r = run_demo(blocks, |p| {
            if let Progress::Headers(n) = p {
                seen_headers = n;
            }
        })
        .await
        .unwrap();
        assert_eq!(seen_headers, 299);
        assert_eq!(
            (r.sync.headers, r.sync.blocks, r.sync.transactions),
            (299, 300, 300)
        );
        assert_eq!(r.sync.bytes, total);
        assert_eq!(r.sync.separate_roots, 300);
        assert_eq!(r.client.starting_height, 299);
        assert!(r.client.user_agent.contains("dcrpeer-server"));
        assert!(r.server.counters.bytes_sent >= total as u64);
        assert_eq!(
            r.client.counters.bytes_received,
            r.server.counters.bytes_sent
        );
    }

    /// Rewrites each header with `f`, then relinks the chain.
    fn rewrite(blocks: Vec<Vec<u8>>, f: impl Fn(&mut dcr_wire::BlockHeader)) -> Vec<Vec<u8>> {
        use dcr_wire::{pver, Block, Payload};
        let mut prev = dcr_wire::Hash::ZERO;
        blocks
            .iter()
            .map(|raw| {
                let b = Block::from_bytes(raw, pver::CURRENT).unwrap();
                let mut header = b.header;
                f(&mut header);
                header.prev_block = prev;
                let txs: Vec<_> = b.txs.iter().collect();
                let block = Block::new(header, &txs, &[]);
                prev = block.block_hash();
                let mut out = Vec::new();
                block.encode(&mut out, pver::CURRENT).unwrap();
                out
            })
            .collect()
    }

    /// A chain whose heights jump is no chain: the store refuses it
    /// before serving (the sync client's own check of the same rule is
    /// tested against a server that sends such headers, in
    /// `tests/serve.rs`).
    #[tokio::test]
    async fn blocks_with_a_height_gap_are_refused() {
        let blocks = rewrite(build_chain(6), |h| {
            if h.height >= 3 {
                h.height += 10;
            }
        });
        let err = run_demo(blocks, |_| {}).await.unwrap_err();
        assert!(
            matches!(
                err,
                DemoError::Chain(StoreError::Height {
                    height: 13,
                    parent_height: 2,
                    ..
                })
            ),
            "{err}"
        );
    }
}
