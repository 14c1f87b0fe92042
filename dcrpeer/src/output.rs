//! What the commands print on stdout: lines of text for people, or with
//! `--json` JSON lines, one object per line. Commands that report once
//! (`demo`, `connect`, `decode`) print one object; commands that run over
//! time (`listen`, `node`, `crawl`, `connect --listen-only`) print one
//! object per event as it happens, each with an `"event"` naming it, so a
//! reader can act on each line as it comes (`jq -c 'select(.event ==
//! "connected")'`). Addresses are strings, hashes are display-order hex,
//! a peer's figures are the `stats` object of every command.

use std::io::Write;

use dcr_peer::PeerStats;
use serde_json::{json, Value};

use crate::args::count;

/// Writes a line to stdout; a closed pipe ends the program quietly (exit
/// 0), as a reader that has seen enough (`| head -1`) is no failure.
pub fn write_line(args: std::fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(args).and_then(|()| out.write_all(b"\n")) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("dcrpeer: cannot write output: {e}");
        std::process::exit(1);
    }
}

/// Prints one JSON line: `{"event": kind, ...fields}`.
pub fn event(kind: &str, fields: Value) {
    let mut doc = json!({ "event": kind });
    if let (Some(doc), Value::Object(fields)) = (doc.as_object_mut(), fields) {
        doc.extend(fields);
    }
    say!("{doc}");
}

/// The `connected` event of `listen` and `node`, one shape for both.
pub fn connected_json(
    addr: std::net::SocketAddr,
    direction: dcr_peer::Direction,
    user_agent: &str,
    protocol_version: u32,
    starting_height: i64,
) -> Value {
    json!({
        "addr": addr.to_string(),
        "direction": format!("{direction:?}"),
        "user_agent": user_agent,
        "protocol_version": protocol_version,
        "starting_height": starting_height,
    })
}

/// `v` as JSON (`null` for what cannot be: nothing printed here).
pub fn to_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// A command line refused after parsing: a value whose meaning depends on
/// another argument (an address of `--net`'s network), or an input or a
/// combination the command cannot do without. `main` exits with status 2
/// for it, as for the usage errors the parser itself finds, and before
/// any network work.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Usage(pub String);

/// An error and its causes on one line, each cause once: a cause whose
/// text its error already shows is not repeated ("i/o: Connection
/// refused", not "i/o: Connection refused: Connection refused").
pub fn error_text(e: &anyhow::Error) -> String {
    chain_text(e.chain())
}

/// [`error_text`] for a standard error and its sources.
pub fn std_error_text(e: &(dyn std::error::Error + 'static)) -> String {
    chain_text(std::iter::successors(Some(e), |e| e.source()))
}

fn chain_text<'a>(chain: impl Iterator<Item = &'a (dyn std::error::Error + 'static)>) -> String {
    let mut text = String::new();
    for cause in chain {
        let part = cause.to_string();
        if part.is_empty() || text.contains(&part) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    text
}

/// A peer's figures as text, under `who`.
pub fn print_stats(who: &str, s: &PeerStats) {
    say!("{who}:");
    say!("  address        {} ({:?})", s.addr, s.direction);
    say!("  user agent     {}", s.user_agent);
    say!(
        "  protocol       {} (remote {})",
        s.protocol_version,
        s.remote_protocol_version
    );
    say!("  services       {:#x}", s.services.0);
    say!(
        "  height         {} (starting {})",
        s.counters.last_block_height,
        s.starting_height
    );
    say!(
        "  sent           {}, {}",
        count(s.counters.messages_sent, "message"),
        count(s.counters.bytes_sent, "byte")
    );
    say!(
        "  received       {}, {}",
        count(s.counters.messages_received, "message"),
        count(s.counters.bytes_received, "byte")
    );
    say!("  time offset    {} s", s.time_offset);
    match s.counters.ping_rtt {
        Some(rtt) => say!("  ping rtt       {:.3} ms", rtt.as_secs_f64() * 1e3),
        None => say!("  ping rtt       (no ping answered yet)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("i/o: {0}")]
    struct Repeats(#[source] std::io::Error);

    #[test]
    fn causes_are_said_once() {
        let io = || std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let e = anyhow::Error::new(Repeats(io())).context("127.0.0.1:1");
        assert_eq!(error_text(&e), "127.0.0.1:1: i/o: refused");
        let e = anyhow::Error::new(io()).context("dial");
        assert_eq!(error_text(&e), "dial: refused");
    }
}
