//! The docs' numbers and rules, checked against the code.
//!
//! Every claim of a README (the workspace's, each crate's, the fuzz
//! targets'), of SECURITY.md and of docs/PEER.md, CAPTURE.md and LIGHT.md
//! that names a limit, a default, a timeout, a count or a per-message rule
//! is rendered here from the constant or the function that implements it,
//! and must stand in the text word for word (white space folded, so line
//! breaks do not matter); docs/NODE.md's summary is counted from its rows.
//! Change a constant and the doc must follow; edit a number in a doc and
//! this fails until the code agrees. The dcrpeer tour and its command list
//! are checked by running the tool (`dcrpeer/tests/readme.rs`). Figures
//! that were measured (BENCHMARKS.md, the fuzz runs, the attack runs) are
//! records of a run, not claims about the code, and are not checked here.

use std::path::{Path, PathBuf};
use std::time::Duration;

use dcr_peer::addrmgr::{
    DUMP_ADDRESS_INTERVAL, PEERS_FILENAME, RELAYED_FUTURE_CUTOFF, RELAYED_FUTURE_PENALTY,
};
use dcr_peer::connmgr::policy::{self, MAX_PERSISTENT, REQUIRED_SERVICES};
use dcr_peer::connmgr::{ManagerConfig, EVENT_BACKLOG};
use dcr_peer::fsm::handshake::MIN_ACCEPTED_PROTOCOL_VERSION;
use dcr_peer::fsm::inventory::{MAX_INV_TRICKLE_SIZE, MAX_TRICKLE_QUEUE};
use dcr_peer::fsm::session::WRITE_BYTES_PER_SEC;
use dcr_peer::fsm::stall::{Request, MAX_PENDING_DATA, STALL_TICK};
use dcr_peer::Config;
use dcr_wire::msg::{MAX_ADDR_PER_MSG, MAX_BLOCK_LOCATORS_PER_MSG, MAX_CFILTERS_V2_PER_BATCH};
use dcr_wire::{
    pver, Command, CurrencyNet, Hash, OutPoint, ServiceFlags, Tx, TxIn, MESSAGE_HEADER_SIZE,
};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The file at `rel` (from the workspace root), white space folded to
/// single spaces.
fn folded(rel: &str) -> String {
    let path = root().join(rel);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    fold(&text)
}

fn fold(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Asserts every claim stands in `rel`, reporting all that do not.
fn check(rel: &str, claims: &[String]) {
    let text = folded(rel);
    let missing: Vec<&String> = claims.iter().filter(|c| !text.contains(&fold(c))).collect();
    assert!(
        missing.is_empty(),
        "{rel} does not say what the code does; expected, word for word:\n{}",
        missing
            .iter()
            .map(|c| format!("  {c}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// `30 s`.
fn secs(d: Duration) -> String {
    assert_eq!(d.subsec_nanos(), 0, "{d:?} is not whole seconds");
    format!("{} s", d.as_secs())
}

/// `5000`, `10,000`, `75,000`: the READMEs' digit grouping (from five
/// digits on).
fn count(n: u64) -> String {
    let digits = n.to_string();
    if digits.len() < 5 {
        return digits;
    }
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The workspace's minimum Rust version (`rust-version` in Cargo.toml).
fn msrv() -> String {
    let manifest = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    manifest
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = \""))
        .and_then(|l| l.strip_suffix('"'))
        .expect("rust-version in the workspace manifest")
        .to_string()
}

/// The commands whose sending starts a stall deadline, in wire order:
/// every command's sample message through `Request::of`.
fn deadline_commands() -> Vec<String> {
    let mut with: Vec<String> = dcr_tests::sample_messages()
        .iter()
        .filter(|m| Request::of(m).is_some())
        .map(|m| m.command().to_string())
        .collect();
    with.sort_by_key(|c| Command::ALL.iter().position(|a| a.to_string() == *c));
    with
}

#[test]
fn the_stall_rule_lists_what_request_of_gives_deadlines() {
    let with = deadline_commands();
    // The reference gives deadlines to these two only (docs/PEER.md).
    assert_eq!(with, ["getdata", "getinitstate"]);
    check(
        "README.md",
        &[format!(
            "requests that expect an answer ({}) must be answered within `stall_timeout`",
            with.join(", ")
        )],
    );
    // The rule map and the threat model word the same two.
    check(
        "docs/PEER.md",
        &["| `getdata`: a deadline per vector; `getinitstate`: one for `initstate`; nothing else |"
            .to_string()],
    );
    check(
        "SECURITY.md",
        &["one deadline per `getdata` vector and `getinitstate` (the reference's table; requests dcrd may leave unanswered get none)"
            .to_string()],
    );
}

#[test]
fn the_peer_limits_table_is_the_configs_defaults() {
    let c = Config::new(CurrencyNet::MainNet);
    assert_eq!(c, Config::default());
    let kib = WRITE_BYTES_PER_SEC / 1024;
    let trickle_ms = c.trickle_interval.as_millis();
    let rows = [
        format!(
            "| handshake deadline | {} | `Config::handshake_timeout` |",
            secs(c.handshake_timeout)
        ),
        format!(
            "| idle (nothing received) | {} | `Config::idle_timeout` |",
            secs(c.idle_timeout)
        ),
        format!(
            "| ping interval | {} | `Config::ping_interval` |",
            secs(c.ping_interval)
        ),
        format!(
            "| unanswered request | {} (checked every {} at most) | `Config::stall_timeout` |",
            secs(c.stall_timeout),
            secs(STALL_TICK)
        ),
        format!(
            "| one write | {} + 1 s per {kib} KiB | `Config::write_timeout` |",
            secs(c.write_timeout)
        ),
        format!(
            "| outbound queue | {} messages | `Config::send_queue_size` |",
            count(c.send_queue_size as u64)
        ),
        format!(
            "| pings/pongs waiting | {} (more owed pongs: peer dropped) | `Config::priority_queue_size` |",
            c.priority_queue_size
        ),
        format!(
            "| known-inventory filter | {} entries, {} min each | `Config::max_known_inventory`, `known_inventory_ttl` |",
            count(c.max_known_inventory as u64),
            c.known_inventory_ttl.as_secs() / 60
        ),
        format!(
            "| data requests outstanding | {} (more: peer dropped) | fixed |",
            count(MAX_PENDING_DATA as u64)
        ),
        // The lower bound is a fifth of the interval (`Session::trickle_wait`).
        format!(
            "| trickle wait | random, {} to {trickle_ms} ms | `Config::trickle_interval` (the upper bound) |",
            trickle_ms / 5
        ),
        format!(
            "| event channel wait | {} | `Config::event_timeout` |",
            secs(c.event_timeout)
        ),
    ];
    check("README.md", &rows);
}

#[test]
fn the_peer_rules_prose_states_the_code_s_numbers() {
    let c = Config::new(CurrencyNet::MainNet);
    let trickle_ms = c.trickle_interval.as_millis();
    check(
        "README.md",
        &[
            format!(
                "peers below protocol version {MIN_ACCEPTED_PROTOCOL_VERSION} refused"
            ),
            format!(
                "batched into `inv` of at most {} at a random {} to {trickle_ms} ms interval; at most {} waiting",
                count(MAX_INV_TRICKLE_SIZE as u64),
                trickle_ms / 5,
                count(MAX_TRICKLE_QUEUE as u64)
            ),
            format!(
                "(plus one second per {} KiB)",
                WRITE_BYTES_PER_SEC / 1024
            ),
            format!(
                "`addr` below, at most {} chosen at random",
                count(MAX_ADDR_PER_MSG)
            ),
            format!("(`getheaders` with more than {MAX_BLOCK_LOCATORS_PER_MSG} locator hashes)"),
            format!("{MESSAGE_HEADER_SIZE} header bytes are there"),
            format!(
                "carries every message type of the corpus between two real peers at versions {MIN_ACCEPTED_PROTOCOL_VERSION} to {}",
                pver::CURRENT
            ),
        ],
    );
}

#[test]
fn the_connection_manager_table_is_its_defaults() {
    let m = ManagerConfig::new(Config::new(CurrencyNet::MainNet));
    let on_off = |b: bool| if b { "on" } else { "off" };
    assert_eq!(m.ban_duration.as_secs() % 3600, 0);
    assert_eq!(m.required_services, REQUIRED_SERVICES);
    assert_eq!(REQUIRED_SERVICES, ServiceFlags::NODE_NETWORK);
    assert!(m.seeds.is_empty() && m.persistent.is_empty() && m.datadir.is_none());
    let retry = secs(m.retry_duration);
    check(
        "README.md",
        &[
            format!("| `target_outbound` | {} |", m.target_outbound),
            format!("| `max_peers` | {} |", m.max_peers),
            format!(
                "| `max_per_host`, `exempt_loopback` | {}, {} |",
                m.max_per_host,
                on_off(m.exempt_loopback)
            ),
            "| `required_services` | `SFNodeNetwork` |".to_string(),
            format!(
                "| `ban_threshold`, `ban_duration`, `no_banning` | {}, {} h, {} |",
                m.ban_threshold,
                m.ban_duration.as_secs() / 3600,
                on_off(m.no_banning)
            ),
            format!(
                "| `persistent` | none | at most {MAX_PERSISTENT}, always redialled: at once after a connection that lasted `retry_duration` ({retry}) from its attempt, else after `min({retry}·2^(n−1), retry_max)`"
            ),
            format!(
                "saved every {} minutes and at shutdown",
                DUMP_ADDRESS_INTERVAL.as_secs() / 60
            ),
            format!(
                "({PEERS_FILENAME}, saved every {} minutes and at exit)",
                DUMP_ADDRESS_INTERVAL.as_secs() / 60
            ),
            format!(
                "A relayed address stamped more than {} minutes ahead is set {} days back",
                RELAYED_FUTURE_CUTOFF.as_secs() / 60,
                RELAYED_FUTURE_PENALTY.as_secs() / 86_400
            ),
        ],
    );
}

#[test]
fn seeded_addresses_are_stamped_within_the_readme_s_days() {
    use rand::SeedableRng;
    const DAY: u64 = 86_400;
    let now = 1_800_000_000;
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    let ages: Vec<u64> = (0..2000)
        .map(|_| now - policy::seed_timestamp(now, &mut rng))
        .collect();
    let (lo, hi) = (ages.iter().min().unwrap(), ages.iter().max().unwrap());
    // Drawn uniformly over the span, 2000 draws come within a day of
    // either end.
    let (lo_days, hi_days) = (lo / DAY, hi.div_ceil(DAY));
    assert!(*lo >= lo_days * DAY && *hi <= hi_days * DAY);
    check(
        "README.md",
        &[format!("stamped {lo_days} to {hi_days} days ago")],
    );
}

#[test]
fn the_peer_crate_readme_s_backlog_and_port() {
    check(
        "dcr-peer/README.md",
        &[
            format!("a consumer more than {EVENT_BACKLOG} events"),
            format!(
                "listen on port {} if you accept inbound peers",
                CurrencyNet::MainNet.default_port()
            ),
        ],
    );
}

#[test]
fn counts_versions_and_the_rust_version() {
    let msrv = msrv();
    check(
        "README.md",
        &[
            format!("protocol versions 1 to {}", pver::CURRENT),
            format!("for all {} commands", Command::ALL.len()),
            format!("a stable Rust toolchain ({msrv} or newer"),
            format!("CI builds {msrv} from the committed lock"),
        ],
    );
    check(
        "dcr-wire/README.md",
        &[
            format!("every message of protocol versions 1 to {}", pver::CURRENT),
            format!("A frame is a {MESSAGE_HEADER_SIZE}-byte header"),
        ],
    );
    check(
        "CHANGELOG.md",
        &[format!(
            "protocol versions 1 to {} (all {} commands)",
            pver::CURRENT,
            Command::ALL.len()
        )],
    );
    for rel in [
        "dcr-wire/README.md",
        "dcr-peer/README.md",
        "dcr-blake256/README.md",
    ] {
        check(rel, &[format!("Builds with Rust {msrv} or newer.")]);
    }
}

#[test]
fn transaction_defaults() {
    let tx = Tx::new();
    let input = TxIn::new(OutPoint::new(Hash::ZERO, 0, 0), 0, vec![]);
    check(
        "README.md",
        &[format!(
            "(version {}, sequence `{:#x}`, block index `{:#x}`)",
            tx.version, input.sequence, input.block_index
        )],
    );
}

#[test]
fn filter_parameters() {
    check(
        "dcr-gcs/README.md",
        &[format!(
            "(B = {}, M = {}), keyed by the first {} bytes of the block's merkle root",
            dcr_gcs::B,
            dcr_gcs::M,
            dcr_gcs::KEY_SIZE
        )],
    );
    check(
        "dcr-spv/README.md",
        &[format!(
            "`getcfsv2` ranges of up to {MAX_CFILTERS_V2_PER_BATCH}"
        )],
    );
}

#[test]
fn the_demo_chain_size() {
    let Some(dir) = dcr_tests::corpus_dir() else {
        return;
    };
    let blocks = dcr_tests::read_block_file(&dir.join("wire/blocks/chain-0-168.bin")).unwrap();
    check(
        "README.md",
        &[
            format!("the corpus's {}-block test chain", blocks.len()),
            format!("chain: {} blocks from ../shared/testdata", blocks.len()),
        ],
    );
}

#[test]
fn the_threat_model_s_bounds_are_the_code_s() {
    use dcr_peer::addrmgr::{
        DEFAULT_TRIED_BUCKET_SIZE, NEW_BUCKETS_PER_GROUP, NEW_BUCKET_COUNT, NEW_BUCKET_SIZE,
        TRIED_BUCKET_COUNT,
    };
    use dcr_peer::admission::{
        MAX_PENDING, MAX_PENDING_PER_ADDRESS, MAX_PENDING_PER_GROUP, PRESSURE,
        PRESSURE_HANDSHAKE_TIMEOUT,
    };
    let c = Config::new(CurrencyNet::MainNet);
    let mib = |n: u64| {
        assert_eq!(n % (1 << 20), 0);
        n >> 20
    };
    let share = match NEW_BUCKET_COUNT as u64 / NEW_BUCKETS_PER_GROUP {
        16 => "a sixteenth",
        8 => "an eighth",
        n => panic!("SECURITY.md words a share of 1/{n} no way yet"),
    };
    check(
        "SECURITY.md",
        &[
            format!("one frame header ({MESSAGE_HEADER_SIZE} bytes)"),
            format!(
                "plus one {} KiB step of read buffer",
                dcr_peer::codec::READ_CHUNK / 1024
            ),
            format!("within the idle timeout ({})", secs(c.idle_timeout)),
            format!(
                "holds at most {MAX_PENDING} such connections at once, at most {MAX_PENDING_PER_ADDRESS} per source address and {MAX_PENDING_PER_GROUP} per /16"
            ),
            format!("when all {MAX_PENDING} are taken"),
            format!(
                "disconnected at the handshake deadline ({}), after {} once {PRESSURE} are pending",
                secs(c.handshake_timeout),
                secs(PRESSURE_HANDSHAKE_TIMEOUT)
            ),
            format!("the pressure mark of {PRESSURE}"),
            format!(
                "the known-inventory filter, {} entries by default",
                count(c.max_known_inventory as u64)
            ),
            format!(
                "bounded at {NEW_BUCKET_COUNT} new buckets of {NEW_BUCKET_SIZE} and {TRIED_BUCKET_COUNT} tried buckets of {DEFAULT_TRIED_BUCKET_SIZE}"
            ),
            format!("lets one source group reach {share} of the new buckets at most"),
            format!(
                "{} pongs owed (`Config::priority_queue_size`)",
                c.priority_queue_size
            ),
            format!(
                "{} MiB of queued output (`Config::max_queued_bytes`, the reference's bound) and at most {} frames",
                mib(c.max_queued_bytes),
                count(c.send_queue_size as u64)
            ),
            format!(
                "past {} MiB the peer is dropped at once",
                mib(c.max_queued_bytes)
            ),
            format!(
                "`queue_message` reports `QueueFull` past {} frames; a write that does not finish in {} + 1 s per {} KiB drops the peer",
                count(c.send_queue_size as u64),
                secs(c.write_timeout),
                WRITE_BYTES_PER_SEC / 1024
            ),
            format!(
                "at most {} data requests",
                count(MAX_PENDING_DATA as u64)
            ),
            format!(
                "disconnected at the first {} tick past {}",
                secs(STALL_TICK),
                secs(c.stall_timeout)
            ),
            format!(
                "checks the frame header ({} MiB, the command's own maximum)",
                mib(u64::from(dcr_wire::MAX_MESSAGE_PAYLOAD))
            ),
        ],
    );
}

#[test]
fn the_peer_rule_map_states_the_code_s_numbers() {
    use dcr_wire::msg::MAX_INV_PER_MSG;
    let c = Config::new(CurrencyNet::MainNet);
    // docs/PEER.md groups every count from four digits on.
    let grouped = |n: u64| {
        if (1000..10_000).contains(&n) {
            format!("{},{:03}", n / 1000, n % 1000)
        } else {
            count(n)
        }
    };
    let idle = c.idle_timeout.as_secs();
    let ping = c.ping_interval.as_secs();
    let trickle_ms = c.trickle_interval.as_millis();
    assert_eq!(MAX_PENDING_DATA as u64 * 2, MAX_INV_PER_MSG * 3);
    check(
        "docs/PEER.md",
        &[
            format!("read deadline of the idle timeout ({idle} s) per message"),
            format!(
                "ping every {ping} s (idle timeout − {} s)",
                idle - ping
            ),
            format!(
                "write deadline: {} plus 1 s per {} KiB of the message",
                secs(c.write_timeout),
                WRITE_BYTES_PER_SEC / 1024
            ),
            format!(
                "| {} messages may wait | `Config::send_queue_size`",
                grouped(c.send_queue_size as u64)
            ),
            format!(
                "more than {} MiB queued ends the peer",
                c.max_queued_bytes >> 20
            ),
            format!(
                "trickle every {}–{trickle_ms} ms (random), at most {} vectors per `inv`",
                trickle_ms / 5,
                grouped(MAX_INV_TRICKLE_SIZE as u64)
            ),
            format!(
                "{} to answer, checked every {}",
                secs(c.stall_timeout),
                secs(STALL_TICK)
            ),
            format!(
                "more than 1.5 × {} vectors pending ends the peer",
                grouped(MAX_INV_PER_MSG)
            ),
            format!("(more than {MAX_BLOCK_LOCATORS_PER_MSG} locator hashes)"),
            format!(
                "handshake within {}, version first, verack rules, self-connection nonces, minimum version {MIN_ACCEPTED_PROTOCOL_VERSION}",
                secs(c.handshake_timeout)
            ),
        ],
    );
}

#[test]
fn the_capture_format_s_sizes_are_the_code_s() {
    use dcr_peer::capture::{
        FlushPolicy, DEFAULT_BACKLOG, HEADER_LEN, MAGIC, MAX_FRAME_LEN, RECORD_HEAD_LEN,
        RECORD_OVERHEAD, VERSION,
    };
    let FlushPolicy::Buffered {
        max_bytes,
        max_delay,
    } = FlushPolicy::default()
    else {
        panic!("the default flush policy is not Buffered");
    };
    assert_eq!(max_bytes, 1 << 20);
    let magic: Vec<String> = MAGIC.iter().map(|b| format!("{b:02x}")).collect();
    check(
        "docs/CAPTURE.md",
        &[
            format!("# Frame captures (format version {VERSION})"),
            format!("### Header ({HEADER_LEN} bytes)"),
            format!("| 0 | {} | magic | `{}`", MAGIC.len(), magic.join(" ")),
            format!("| {} | 2 | version | `{VERSION}` (u16) |", MAGIC.len()),
            format!("### Record ({RECORD_OVERHEAD} bytes + the frame)"),
            format!(
                "at most {} (a {MESSAGE_HEADER_SIZE}-byte frame header and dcrd's `MaxMessagePayload`, {} MiB)",
                count(MAX_FRAME_LEN as u64),
                dcr_wire::MAX_MESSAGE_PAYLOAD >> 20
            ),
            format!("| {RECORD_HEAD_LEN} | *N* | frame |"),
            format!("| {RECORD_HEAD_LEN} + *N* | 4 | checksum |"),
            format!("({} MiB, `with_backlog`)", DEFAULT_BACKLOG >> 20),
            format!(
                "(the default: 1 MiB, {})",
                secs(max_delay)
            ),
        ],
    );
}

#[test]
fn the_light_client_s_rule_map_states_its_parameters() {
    use dcr_spv::params::{self, Activation};
    let at = |a: Activation| match a {
        Activation::At(h) => count(u64::from(h)),
        other => panic!("{other:?} is not at a height"),
    };
    let (main, test, sim) = (params::mainnet(), params::testnet3(), params::simnet());
    assert_eq!(test.dcp0001, Activation::Forced);
    assert_eq!(sim.dcp0001, Activation::Forced);
    assert_eq!(sim.dcp0005, Activation::Forced);
    let checkpoints: Vec<String> = test
        .checkpoints
        .iter()
        .map(|c| count(u64::from(c.height)))
        .collect();
    check(
        "docs/LIGHT.md",
        &[
            format!(
                "B = {}, M = {}, SipHash-2-4 keyed by the first {} bytes of the merkle root",
                dcr_gcs::B,
                count(dcr_gcs::M),
                dcr_gcs::KEY_SIZE
            ),
            format!(
                "DCP-0005 heights: mainnet {}, testnet3 {} (dcrwallet), simnet forced from 1",
                at(main.dcp0005),
                at(test.dcp0005)
            ),
            format!(
                "DCP-0001 from mainnet {} (dcrwallet's hard-coded height), forced on testnet3 and simnet",
                at(main.dcp0001)
            ),
            format!("checkpoints (testnet3 {})", checkpoints.join(", ")),
            format!("start to end inclusive, at most {MAX_CFILTERS_V2_PER_BATCH};"),
        ],
    );
}

/// A rule row's verdict in docs/NODE.md's last column: its first word,
/// except that `ok (...); deviation: ...` is a deviation.
fn verdict(cell: &str) -> &'static str {
    if cell.contains("; deviation") || cell.starts_with("deviation") {
        "deviation"
    } else if cell.starts_with("ok") {
        "ok"
    } else if cell.starts_with("n/a") {
        "n/a"
    } else {
        panic!("docs/NODE.md: a rule row without a verdict: {cell}")
    }
}

#[test]
fn the_node_rule_map_s_summary_counts_its_rows() {
    let path = root().join("docs/NODE.md");
    let text = std::fs::read_to_string(&path).unwrap();
    // The rule sections: from the summary to the eleven cases.
    let mut sections: Vec<[usize; 3]> = Vec::new();
    let mut in_rules = false;
    for line in text.lines() {
        if let Some(heading) = line.strip_prefix("## ") {
            in_rules = !heading.starts_with("Summary")
                && !heading.starts_with("The eleven cases")
                && (in_rules || sections.is_empty() && heading.starts_with("Locators"));
            if in_rules {
                sections.push([0; 3]);
            }
            continue;
        }
        let cells: Vec<&str> = line
            .trim()
            .trim_matches('|')
            .split('|')
            .map(str::trim)
            .collect();
        let is_rule = cells.len() > 2
            && cells[0].len() >= 2
            && cells[0].starts_with(|c: char| c.is_ascii_uppercase())
            && cells[0][1..].chars().all(|c| c.is_ascii_digit());
        if in_rules && is_rule {
            let counts = sections.last_mut().unwrap();
            match verdict(cells[cells.len() - 1]) {
                "ok" => counts[0] += 1,
                "deviation" => counts[1] += 1,
                _ => counts[2] += 1,
            }
        }
    }
    let summary: Vec<Vec<String>> = text
        .split("## Summary")
        .nth(1)
        .expect("a summary")
        .lines()
        .skip_while(|l| !l.starts_with("| group"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            l.trim_matches('|')
                .split('|')
                .map(|c| c.trim().replace("**", ""))
                .collect()
        })
        .collect();
    assert_eq!(
        summary.len(),
        sections.len() + 1,
        "a summary row per section, and all"
    );
    let mut all = [0; 3];
    for (row, counts) in summary.iter().zip(&sections) {
        let rendered =
            [counts.iter().sum(), counts[0], counts[1], counts[2]].map(|n: usize| n.to_string());
        assert_eq!(row[1..], rendered, "docs/NODE.md summary row {}", row[0]);
        for i in 0..3 {
            all[i] += counts[i];
        }
    }
    let total = summary.last().unwrap();
    assert_eq!(total[0], "all");
    let rendered = [all.iter().sum(), all[0], all[1], all[2]].map(|n: usize| n.to_string());
    assert_eq!(total[1..], rendered, "docs/NODE.md summary, all");
}

/// The value of `const NAME: usize = VALUE;` in the source file `rel`.
fn source_const(rel: &str, name: &str) -> u64 {
    let text = std::fs::read_to_string(root().join(rel)).unwrap();
    let decl = format!("const {name}: usize = ");
    text.lines()
        .find_map(|l| l.trim().strip_prefix(&decl))
        .and_then(|v| v.strip_suffix(';'))
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or_else(|| panic!("{rel}: no `{decl}N;`"))
}

#[test]
fn the_load_test_s_peer_counts() {
    let rel = "dcr-peer/tests/hardening.rs";
    let pairs = source_const(rel, "LOAD_PAIRS");
    let full = source_const(rel, "FULL_LOAD_PAIRS");
    check(
        "README.md",
        &[
            format!("brings {} peers up and down", count(2 * pairs)),
            // "1,000": the README groups this one.
            format!("The full {}-peer version", {
                let n = 2 * full;
                if n >= 1000 {
                    format!("{},{:03}", n / 1000, n % 1000)
                } else {
                    n.to_string()
                }
            }),
        ],
    );
}

/// The fuzz targets the README's table lists are the fuzz crate's.
#[test]
fn the_fuzz_table_lists_every_target() {
    let manifest = std::fs::read_to_string(root().join("fuzz/Cargo.toml")).unwrap();
    let mut bins: Vec<&str> = manifest
        .split("[[bin]]")
        .skip(1)
        .filter_map(|b| b.lines().find_map(|l| l.strip_prefix("name = \"")))
        .map(|n| n.trim_end_matches('"'))
        .collect();
    let readme = std::fs::read_to_string(root().join("fuzz/README.md")).unwrap();
    let mut listed: Vec<&str> = readme
        .lines()
        .skip_while(|l| !l.starts_with("| target |"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .filter_map(|l| l.split('`').nth(1))
        .collect();
    bins.sort_unstable();
    listed.sort_unstable();
    assert!(!bins.is_empty());
    assert_eq!(
        listed, bins,
        "fuzz/README.md's table against fuzz/Cargo.toml's targets"
    );
}

/// The committed vectors' README counts their records.
#[test]
fn the_vector_files_hold_what_their_readme_counts() {
    let text = std::fs::read_to_string(root().join("tests/vectors/mix_signed.jsonl")).unwrap();
    let records = text.lines().filter(|l| !l.trim().is_empty()).count();
    // Eight mixing messages, three cases each.
    assert_eq!(records, 8 * 3);
    check(
        "tests/vectors/README.md",
        &[format!("## mix_signed.jsonl ({records} records)")],
    );
}

/// Every crate that may be published documents all its features on
/// docs.rs, and the CHANGELOG has an entry for it.
#[test]
fn publishable_crates_have_docs_rs_metadata() {
    let manifest = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let members = manifest
        .lines()
        .find_map(|l| l.strip_prefix("members = ["))
        .expect("workspace members");
    let changelog = folded("CHANGELOG.md");
    let mut publishable = 0;
    for member in members.trim_end_matches(']').split(',') {
        let member = member.trim().trim_matches('"');
        let text = std::fs::read_to_string(root().join(member).join("Cargo.toml")).unwrap();
        if text.contains("publish = false") {
            continue;
        }
        publishable += 1;
        assert!(
            fold(&text).contains("[package.metadata.docs.rs] all-features = true"),
            "{member}/Cargo.toml: no [package.metadata.docs.rs] all-features = true"
        );
        assert!(
            changelog.contains(&format!("`{member}`")),
            "CHANGELOG.md does not name {member}"
        );
    }
    assert!(publishable >= 3, "{publishable} publishable crates");
}

#[test]
fn the_light_client_s_peering_table_states_the_code_s_numbers() {
    use dcr_peer::connmgr::banscore::HALF_LIFE_SECS;
    use dcr_spv::announce::{ORPHAN_SCORE, ORPHAN_SCORE_LIMIT};
    use dcr_spv::peering::STRAGGLER_LIMIT;
    let c = Config::new(CurrencyNet::MainNet);
    // "halved every minute", "speak 10", "fewer than 3": the table's words.
    assert_eq!(HALF_LIFE_SECS, 60);
    assert_eq!(pver::CURRENT, pver::ADDR_V2);
    check(
        "docs/LIGHT.md",
        &[
            format!("is more than {STRAGGLER_LIMIT} below is disconnected, not banned"),
            format!(
                "adds a decaying {ORPHAN_SCORE} to the ban score (halved every minute); \
                 above {ORPHAN_SCORE_LIMIT}"
            ),
            format!(
                "a ping every {} (`DEFAULT_PING_INTERVAL`), disconnected after {} without any \
                 message (`DEFAULT_IDLE_TIMEOUT`)",
                secs(c.ping_interval),
                secs(c.idle_timeout)
            ),
            format!(
                "dial {} (`DEFAULT_DIAL_TIMEOUT`), handshake {} (`DEFAULT_HANDSHAKE_TIMEOUT`)",
                secs(dcr_peer::net::DEFAULT_DIAL_TIMEOUT),
                secs(c.handshake_timeout)
            ),
            format!(
                "`MIN_ACCEPTED_PROTOCOL_VERSION` ({MIN_ACCEPTED_PROTOCOL_VERSION}, dcrd's too)"
            ),
            format!("we speak protocol {} (`ADDR_V2`)", pver::CURRENT),
            format!(
                "fewer than {} (`minVersionTarget`) speak {}",
                policy::WANT_MIX_CAPABLE_OUTBOUND,
                pver::MIX
            ),
            format!(
                "the same numbers with the target of {}",
                policy::DEFAULT_TARGET_OUTBOUND
            ),
            format!(
                "`dcrpeer spv --target` ({})",
                policy::DEFAULT_TARGET_OUTBOUND
            ),
            format!(
                "up to {} draws; the first {} skip addresses attempted in the last {} min, \
                 the first {} those",
                policy::PICK_DRAWS,
                policy::SKIP_RECENT_DRAWS,
                policy::RECENT_ATTEMPT.as_secs() / 60,
                policy::SKIP_PORT_DRAWS
            ),
            format!(
                "a persistent peer {} doubling to {} min with jitter",
                secs(policy::DEFAULT_RETRY_DURATION),
                policy::DEFAULT_MAX_RETRY_DURATION.as_secs() / 60
            ),
        ],
    );
}
