//! An outbound peer, as in the reference's "New Outbound Peer" example: a
//! listener on the remote's version, the handshake, then a disconnect.
//!
//! Run against a node: `cargo run -p dcr-peer-examples --example outbound -- HOST:PORT`.
//! Without an address it starts its own inbound peer on 127.0.0.1 (simnet)
//! and connects to that, so it runs anywhere.

use std::sync::mpsc as std_mpsc;
use std::sync::Mutex;
use std::time::Duration;

use dcr_peer::wire::{CurrencyNet, Version};
use dcr_peer::{Config, Hooks, Listeners, Peer, RecentNonces, Refusal};

/// Reports the remote's version and the completed handshake.
struct Report(Mutex<std_mpsc::Sender<String>>);

impl Listeners for Report {
    fn on_version(&self, _peer: &Peer, v: &Version<'_>) -> Result<(), Refusal> {
        let ua = v.user_agent_str().unwrap_or("?");
        let _ = self.0.lock().map(|tx| {
            tx.send(format!(
                "version: protocol {} agent {ua}",
                v.protocol_version
            ))
        });
        Ok(())
    }

    fn on_verack(&self, _peer: &Peer) {
        let _ = self
            .0
            .lock()
            .map(|tx| tx.send("verack: handshake complete".to_string()));
    }
}

/// Connects to `target` (or to an in-process inbound peer), handshakes,
/// disconnects; returns what the listener saw.
pub async fn run(target: Option<String>) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let (target, net) = match target {
        Some(t) => (t, CurrencyNet::MainNet),
        None => (start_local_peer().await?, CurrencyNet::SimNet),
    };
    let (tx, rx) = std_mpsc::channel();
    let mut cfg = Config::new(net);
    cfg.user_agent_name = "peer".into();
    cfg.user_agent_version = "1.0.0".into();
    let hooks = Hooks::new()
        .with_listeners(Report(Mutex::new(tx)))
        .with_nonces(RecentNonces::new());
    let peer = tokio::time::timeout(
        Duration::from_secs(30),
        dcr_peer::net::connect(&target, cfg, hooks),
    )
    .await??;
    peer.disconnect();
    let reason = peer.wait_for_disconnect().await;
    let mut seen: Vec<String> = rx.try_iter().collect();
    seen.push(format!("disconnected: {reason}"));
    Ok(seen)
}

/// An inbound peer on a loopback port, standing in for a remote node.
async fn start_local_peer() -> std::io::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let cfg = Config::new(CurrencyNet::SimNet);
        let hooks = Hooks::new().with_nonces(RecentNonces::new());
        if let Ok(peer) = dcr_peer::net::accept(&listener, cfg, hooks).await {
            peer.wait_for_disconnect().await;
        }
    });
    Ok(addr.to_string())
}

#[tokio::main]
async fn main() {
    match run(std::env::args().nth(1)).await {
        Ok(lines) => lines.iter().for_each(|l| println!("{l}")),
        Err(e) => {
            eprintln!("outbound: {e}");
            std::process::exit(1);
        }
    }
}
