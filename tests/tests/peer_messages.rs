//! Every message type of the corpus, sent by one real peer over loopback
//! TCP, arrives intact at the other's listener, at every protocol version
//! a peer negotiates (9 to 12).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dcr_peer::{Config, Hooks, Listeners, Peer, RecentNonces};
use dcr_tests::{corpus_dir, report, valid_messages};
use dcr_wire::{pver, Command, CurrencyNet, Message};

#[derive(Clone, Default)]
struct Inbox(Arc<Mutex<Vec<Message<'static>>>>);

impl Listeners for Inbox {
    fn on_message(&self, _: &Peer, msg: &Message<'_>) {
        self.0.lock().unwrap().push(msg.clone().into_owned());
    }
}

fn config(pv: u32) -> Config {
    let mut c = Config::new(CurrencyNet::MainNet);
    c.protocol_version = pv;
    // Requests in the corpus go unanswered here; keep them from stalling.
    c.stall_timeout = Duration::from_secs(600);
    c
}

/// A node's own nonces, so the two peers do not take each other for
/// themselves.
fn hooks() -> Hooks {
    Hooks::new().with_nonces(RecentNonces::new())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_message_type_crosses_a_real_connection() {
    let Some(dir) = corpus_dir() else { return };
    // One record per command and version: the first valid one.
    let mut picked: BTreeMap<(u32, &'static str), Vec<u8>> = BTreeMap::new();
    for m in valid_messages(&dir) {
        if m.pver < pver::REMOVE_REJECT || matches!(m.command, Command::Version | Command::VerAck) {
            continue;
        }
        picked
            .entry((m.pver, m.command.as_str()))
            .or_insert(m.payload);
    }
    let mut covered = BTreeSet::new();
    let mut total = 0;
    for pv in pver::REMOVE_REJECT..=pver::CURRENT {
        let inbox = Inbox::default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server_hooks = hooks().with_listeners(inbox.clone());
        let server = tokio::spawn(async move {
            dcr_peer::net::accept(&listener, config(pv), server_hooks).await
        });
        let client = dcr_peer::net::connect(&addr.to_string(), config(pv), hooks())
            .await
            .unwrap();
        let _server = server.await.unwrap().unwrap();
        assert_eq!(client.protocol_version(), pv);
        let mut sent = Vec::new();
        for ((_, cmd), payload) in picked.range((pv, "")..(pv + 1, "")) {
            let command = Command::from_name(cmd.as_bytes()).unwrap();
            let msg = Message::decode(command, payload, pv).unwrap().into_owned();
            client
                .send_message(&msg)
                .await
                .unwrap_or_else(|e| panic!("{cmd} at {pv}: {e}"));
            sent.push(msg);
            covered.insert(*cmd);
        }
        assert!(
            !sent.is_empty(),
            "pver {pv}: the corpus has nothing to send"
        );
        tokio::time::timeout(Duration::from_secs(30), async {
            while inbox.0.lock().unwrap().len() < sent.len() {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await
        .unwrap_or_else(|_| panic!("pver {pv}: not every message arrived"));
        let mut got = inbox.0.lock().unwrap().clone();
        // Pings overtake bulk messages, so order is not compared; each sent
        // message must be matched by one received (a multiset comparison).
        assert_eq!(got.len(), sent.len(), "pver {pv}: extra messages arrived");
        for m in &sent {
            let at = got
                .iter()
                .position(|g| g == m)
                .unwrap_or_else(|| panic!("pver {pv}: {} did not arrive intact", m.command()));
            got.swap_remove(at);
        }
        total += sent.len();
        client.disconnect();
        client.wait_for_disconnect().await;
    }
    // Everything but the handshake messages and reject (gone from version 9,
    // the oldest a peer accepts) must have been carried.
    for c in Command::ALL {
        if matches!(c, Command::Version | Command::VerAck | Command::Reject) {
            continue;
        }
        assert!(covered.contains(c.as_str()), "{} never sent", c.as_str());
    }
    report(&format!(
        "peer_messages: {total} messages of {} types carried intact",
        covered.len()
    ));
}
