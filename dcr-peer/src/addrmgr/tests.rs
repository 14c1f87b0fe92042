//! The manager's rules on a fake clock and a seeded generator: adding,
//! expiring, attempts, `good`, selection, the `getaddr` share, relayed
//! timestamps, floods, and invariants under any sequence of operations.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use dcr_wire::{NetAddressV2, NetAddressV2Host, ServiceFlags};
use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::manager::BucketFns;
use super::*;

const NOW: u64 = 1_700_000_000;
const DAY: u64 = 86_400;
const KEY: [u8; 32] = [7; 32];

fn mgr() -> AddrManager {
    AddrManager::new(Params {
        key: KEY,
        tried_bucket_size: DEFAULT_TRIED_BUCKET_SIZE,
    })
}

fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

fn at(ip: &str, port: u16, ts: u64) -> NetAddressV2 {
    NetAddressV2::new(ip.parse().unwrap(), port, ServiceFlags::NODE_NETWORK, ts)
}

fn v4(a: u8, b: u8, c: u8, d: u8) -> NetAddressV2 {
    NetAddressV2::new(
        IpAddr::V4(Ipv4Addr::new(a, b, c, d)),
        9108,
        ServiceFlags::NODE_NETWORK,
        NOW,
    )
}

fn tor(first: u8, n: u8) -> NetAddressV2 {
    let mut pk = [n; 32];
    pk[0] = first;
    NetAddressV2 {
        timestamp: NOW,
        services: ServiceFlags::NODE_NETWORK,
        host: NetAddressV2Host::TorV3(pk),
        port: 9108,
    }
}

fn ok(m: &AddrManager) {
    if let Err(e) = m.check_invariants() {
        panic!("invariant broken: {e}");
    }
}

/// A source peer in group `g`.
fn src(g: u8) -> NetAddressV2 {
    v4(200, g, 1, 1)
}

// ---- adding --------------------------------------------------------------

#[test]
fn unroutable_addresses_are_ignored() {
    let mut m = mgr();
    let addrs: Vec<NetAddressV2> = [
        "10.1.2.3",
        "127.0.0.1",
        "::1",
        "255.255.255.255",
        "0.0.0.0",
        "fe80::1",
        "2001:db8::1",
    ]
    .iter()
    .map(|s| at(s, 9108, NOW))
    .collect();
    m.add_addresses(&addrs, &src(1), NOW, &mut rng(1));
    assert!(m.is_empty());
    ok(&m);
}

#[test]
fn new_address_enters_the_bucket_of_its_group_and_source_group() {
    let mut m = mgr();
    let a = v4(1, 2, 3, 4);
    m.changed = false;
    m.add_addresses(&[a], &src(1), NOW, &mut rng(1));
    assert_eq!((m.len(), m.num_new(), m.num_tried()), (1, 1, 0));
    assert_eq!(m.new_buckets_of(&a), vec![new_bucket(&KEY, &a, &src(1))]);
    assert_eq!(m.get(&a).unwrap().new_refs(), 1);
    assert!(m.is_changed());
    // The same address from the same source: already in that bucket.
    m.add_addresses(&[a], &src(1), NOW, &mut rng(2));
    assert_eq!(m.new_buckets_of(&a).len(), 1);
    ok(&m);
}

#[test]
fn known_address_takes_a_newer_time_and_added_services() {
    let mut m = mgr();
    let a = at("1.2.3.4", 9108, NOW);
    m.add_addresses(&[a], &src(1), NOW, &mut rng(1));
    // Older, same services: nothing changes.
    m.add_addresses(&[at("1.2.3.4", 9108, NOW - 50)], &src(1), NOW, &mut rng(1));
    assert_eq!(m.get(&a).unwrap().net_address().timestamp, NOW);
    // Newer: the time moves.
    m.add_addresses(&[at("1.2.3.4", 9108, NOW + 50)], &src(1), NOW, &mut rng(1));
    assert_eq!(m.get(&a).unwrap().net_address().timestamp, NOW + 50);
    // Older but with a service not listed: the services are added, and
    // the older time is taken too (dcrd's code does both together).
    let mut b = at("1.2.3.4", 9108, NOW - 100);
    b.services = ServiceFlags::NODE_CF;
    m.add_addresses(&[b], &src(1), NOW, &mut rng(1));
    let got = *m.get(&a).unwrap().net_address();
    assert_eq!(
        got.services,
        ServiceFlags::NODE_NETWORK | ServiceFlags::NODE_CF
    );
    assert_eq!(got.timestamp, NOW - 100);
    ok(&m);
}

#[test]
fn ipv4_mapped_ipv6_is_the_ipv4_entry() {
    let mut m = mgr();
    m.add_addresses(&[at("1.2.3.4", 9108, NOW)], &src(1), NOW, &mut rng(1));
    let mapped = NetAddressV2 {
        host: NetAddressV2Host::Ipv6("::ffff:1.2.3.4".parse().unwrap()),
        ..at("1.2.3.4", 9108, NOW + 5)
    };
    m.add_addresses(&[mapped], &src(1), NOW, &mut rng(1));
    assert_eq!(m.len(), 1);
    assert_eq!(m.get(&mapped).unwrap().net_address().timestamp, NOW + 5);
    ok(&m);
}

/// An address seen again from another source group enters that group's
/// bucket with probability 1/(2 × buckets it is in).
#[test]
fn another_source_adds_a_bucket_with_probability_one_in_two_n() {
    let mut m = mgr();
    let mut r = rng(3);
    let addrs: Vec<NetAddressV2> = (0..2000u32)
        .map(|i| v4(1 + (i / 250) as u8, (i % 250) as u8, 7, 7))
        .collect();
    m.add_addresses(&addrs, &src(1), NOW, &mut r);
    m.add_addresses(&addrs, &src(2), NOW, &mut r);
    let two = addrs
        .iter()
        .filter(|a| m.get(a).unwrap().new_refs() == 2)
        .count();
    // 1 in 2, over 2000 tries (σ ≈ 22).
    assert!(
        (900..=1100).contains(&two),
        "{two} of 2000 took a second bucket"
    );
    let with_two: Vec<NetAddressV2> = addrs
        .iter()
        .filter(|a| m.get(a).unwrap().new_refs() == 2)
        .copied()
        .collect();
    m.add_addresses(&with_two, &src(3), NOW, &mut r);
    let three = with_two
        .iter()
        .filter(|a| m.get(a).unwrap().new_refs() == 3)
        .count();
    // 1 in 4.
    let expect = with_two.len() as f64 / 4.0;
    assert!(
        (three as f64 - expect).abs() < 60.0,
        "{three} of {} took a third",
        with_two.len()
    );
    ok(&m);
}

#[test]
fn at_most_eight_new_buckets_per_address() {
    let mut m = mgr();
    let a = v4(1, 2, 3, 4);
    let mut r = rng(4);
    for g in 0..=255u8 {
        for _ in 0..4 {
            m.add_addresses(&[a], &src(g), NOW, &mut r);
        }
    }
    assert_eq!(
        m.get(&a).unwrap().new_refs() as usize,
        NEW_BUCKETS_PER_ADDRESS
    );
    assert_eq!(m.new_buckets_of(&a).len(), NEW_BUCKETS_PER_ADDRESS);
    assert_eq!(m.len(), 1);
    ok(&m);
}

#[test]
fn tried_address_is_updated_but_not_added_to_new_buckets() {
    let mut m = mgr();
    let a = v4(1, 2, 3, 4);
    m.add_addresses(&[a], &src(1), NOW, &mut rng(1));
    m.good(&a, NOW).unwrap();
    let mut newer = a;
    newer.timestamp = NOW + 30;
    for g in 0..50 {
        m.add_addresses(&[newer], &src(g), NOW, &mut rng(u64::from(g)));
    }
    let ka = m.get(&a).unwrap();
    assert!(ka.is_tried());
    assert_eq!(ka.new_refs(), 0);
    assert!(m.new_buckets_of(&a).is_empty());
    assert_eq!(ka.net_address().timestamp, NOW + 30);
    ok(&m);
}

/// Addresses of one group from one source group all land in one bucket,
/// which holds 65 (dcrd expires only above 64), then drops its bad entries
/// and its oldest.
#[test]
fn full_new_bucket_expires_bad_entries_then_the_oldest() {
    let mut m = mgr();
    let mut r = rng(5);
    let s = src(1);
    let bucket = new_bucket(&KEY, &v4(9, 9, 0, 0), &s);
    // 65 addresses in 9.9/16, the i-th seen at NOW - 1000 + i.
    let addrs: Vec<NetAddressV2> = (0..65u8)
        .map(|i| {
            let mut a = v4(9, 9, 0, i);
            a.timestamp = NOW - 1000 + u64::from(i);
            a
        })
        .collect();
    m.add_addresses(&addrs, &s, NOW, &mut r);
    assert_eq!(m.new_buckets[bucket].len(), NEW_BUCKET_SIZE + 1);
    assert_eq!(m.occupied_new_buckets(), 1);

    // The 66th: the oldest (9.9.0.0) goes.
    m.add_addresses(&[v4(9, 9, 1, 0)], &s, NOW, &mut r);
    assert_eq!(m.new_buckets[bucket].len(), NEW_BUCKET_SIZE + 1);
    assert!(m.get(&addrs[0]).is_none());
    assert!(m.get(&addrs[1]).is_some());
    ok(&m);

    // Make three entries bad (not seen for over 30 days): the next add
    // drops all three and the oldest good one (9.9.0.1).
    for i in [10u8, 20, 30] {
        let id = m.index[&AddrKey::of(&addrs[usize::from(i)])];
        m.entry_mut(id).na.timestamp = NOW - 31 * DAY;
    }
    m.add_addresses(&[v4(9, 9, 1, 1)], &s, NOW, &mut r);
    for i in [1usize, 10, 20, 30] {
        assert!(m.get(&addrs[i]).is_none(), "9.9.0.{i} should be gone");
    }
    assert_eq!(m.new_buckets[bucket].len(), NEW_BUCKET_SIZE + 1 - 4 + 1);
    assert_eq!(m.len(), 62);
    ok(&m);
}

#[test]
fn expiring_an_address_in_another_bucket_keeps_it() {
    let mut m = mgr();
    let mut r = rng(6);
    // 9.9.0.0 in the bucket of source group 1 and of source group 2.
    let a = v4(9, 9, 0, 0);
    assert_ne!(new_bucket(&KEY, &a, &src(1)), new_bucket(&KEY, &a, &src(2)));
    m.add_addresses(&[a], &src(1), NOW, &mut r);
    while m.get(&a).unwrap().new_refs() < 2 {
        m.add_addresses(&[a], &src(2), NOW, &mut r);
    }
    // Fill source 1's bucket with newer entries: `a` is the oldest there.
    let newer: Vec<NetAddressV2> = (1..=65u8)
        .map(|i| {
            let mut b = v4(9, 9, 0, i);
            b.timestamp = NOW + 1;
            b
        })
        .collect();
    m.add_addresses(&newer, &src(1), NOW, &mut r);
    // It left that bucket but stays in the book through the other one.
    assert_eq!(m.get(&a).unwrap().new_refs(), 1);
    assert_eq!(m.new_buckets_of(&a), vec![new_bucket(&KEY, &a, &src(2))]);
    ok(&m);
}

/// Of equal oldest times, the entry expired is one at random (dcrd's map
/// order), not always the same one.
#[test]
fn expiry_ties_are_broken_at_random() {
    let s = src(1);
    let addrs: Vec<NetAddressV2> = (0..65u8).map(|i| v4(9, 9, 0, i)).collect();
    let mut victims = std::collections::HashSet::new();
    for seed in 0..40 {
        let mut m = mgr();
        let mut r = rng(seed);
        m.add_addresses(&addrs, &s, NOW, &mut r);
        m.add_addresses(&[v4(9, 9, 1, 0)], &s, NOW, &mut r);
        let gone: Vec<&NetAddressV2> = addrs.iter().filter(|a| m.get(a).is_none()).collect();
        assert_eq!(gone.len(), 1);
        victims.insert(AddrKey::of(gone[0]));
    }
    assert!(
        victims.len() > 20,
        "only {} different victims",
        victims.len()
    );
}

/// The book counts as changed (to be saved) when entries or bucket places
/// change, not for attempts, connections or services, as dcrd's
/// `addrChanged`.
#[test]
fn changed_flag_follows_dcrd() {
    let mut m = mgr();
    assert!(m.is_changed(), "a fresh book is saved once");
    let a = v4(1, 2, 3, 4);
    m.changed = false;
    m.add_addresses(&[a], &src(1), NOW, &mut rng(1));
    assert!(m.is_changed());
    m.changed = false;
    m.attempt(&a, NOW).unwrap();
    m.connected(&a, NOW + 3600).unwrap();
    m.set_services(&a, ServiceFlags::NONE).unwrap();
    // A newer time for a known address, in the bucket it is already in.
    m.add_addresses(
        &[at("1.2.3.4", 9108, NOW + 7200)],
        &src(1),
        NOW,
        &mut rng(1),
    );
    assert!(!m.is_changed());
    m.good(&a, NOW).unwrap();
    assert!(m.is_changed());
}

// ---- attempt, connected, good, services -----------------------------------

#[test]
fn attempt_counts_and_stamps() {
    let mut m = mgr();
    let a = v4(1, 2, 3, 4);
    assert_eq!(
        m.attempt(&a, NOW),
        Err(AddrManagerError::NotFound(AddrKey::of(&a)))
    );
    m.add_addresses(&[a], &src(1), NOW, &mut rng(1));
    m.changed = false;
    m.attempt(&a, NOW + 1).unwrap();
    m.attempt(&a, NOW + 2).unwrap();
    let ka = m.get(&a).unwrap();
    assert_eq!((ka.attempts(), ka.last_attempt()), (2, Some(NOW + 2)));
    // dcrd does not mark the book changed for an attempt.
    assert!(!m.is_changed());
}

#[test]
fn connected_updates_last_seen_only_after_twenty_minutes() {
    let mut m = mgr();
    let a = v4(1, 2, 3, 4);
    assert!(m.connected(&a, NOW).is_err());
    m.add_addresses(&[a], &src(1), NOW, &mut rng(1));
    m.connected(&a, NOW + 20 * 60).unwrap();
    assert_eq!(m.get(&a).unwrap().net_address().timestamp, NOW);
    m.connected(&a, NOW + 20 * 60 + 1).unwrap();
    assert_eq!(
        m.get(&a).unwrap().net_address().timestamp,
        NOW + 20 * 60 + 1
    );
}

#[test]
fn good_moves_a_new_address_to_its_tried_bucket() {
    let mut m = mgr();
    let a = v4(1, 2, 3, 4);
    assert_eq!(
        m.good(&a, NOW),
        Err(AddrManagerError::NotFound(AddrKey::of(&a)))
    );
    let mut r = rng(7);
    m.add_addresses(&[a], &src(1), NOW - 100, &mut r);
    while m.get(&a).unwrap().new_refs() < 3 {
        m.add_addresses(&[a], &src(r.random()), NOW - 100, &mut r);
    }
    m.attempt(&a, NOW - 5).unwrap();
    m.attempt(&a, NOW - 4).unwrap();
    m.good(&a, NOW).unwrap();
    let ka = m.get(&a).unwrap();
    assert!(ka.is_tried());
    assert_eq!(ka.new_refs(), 0);
    assert_eq!(
        (ka.attempts(), ka.last_attempt(), ka.last_success()),
        (0, Some(NOW), Some(NOW))
    );
    // The last-seen time is not touched (it would tell whom we are
    // connected to).
    assert_eq!(ka.net_address().timestamp, NOW);
    assert!(m.new_buckets_of(&a).is_empty());
    assert_eq!(m.tried_bucket_of(&a), Some(tried_bucket(&KEY, &a)));
    assert_eq!((m.num_new(), m.num_tried()), (0, 1));
    ok(&m);

    // Good again: the times move, nothing else.
    m.attempt(&a, NOW + 1).unwrap();
    m.good(&a, NOW + 10).unwrap();
    let ka = m.get(&a).unwrap();
    assert_eq!((ka.attempts(), ka.last_success()), (0, Some(NOW + 10)));
    assert_eq!((m.num_new(), m.num_tried()), (0, 1));
    ok(&m);
}

fn bucket_zero_new(_: &[u8; 32], _: &NetAddressV2, _: &NetAddressV2) -> usize {
    0
}

fn bucket_zero_tried(_: &[u8; 32], _: &NetAddressV2) -> usize {
    0
}

/// New bucket = the address's last octet, so tests choose buckets.
fn bucket_by_last_octet(_: &[u8; 32], na: &NetAddressV2, _: &NetAddressV2) -> usize {
    match na.host {
        NetAddressV2Host::Ipv4(a) => usize::from(a.octets()[3]),
        _ => 0,
    }
}

#[test]
fn good_evicts_the_oldest_tried_entry_back_to_new() {
    let mut m = AddrManager::new(Params {
        key: KEY,
        tried_bucket_size: 1,
    });
    m.buckets = BucketFns {
        new: bucket_zero_new,
        tried: bucket_zero_tried,
    };
    let a = v4(173, 144, 173, 1);
    let b = v4(173, 144, 173, 2);
    m.add_addresses(&[a, b], &src(1), NOW, &mut rng(1));
    m.good(&a, NOW).unwrap();
    assert_eq!(m.tried_bucket_of(&a), Some(0));
    m.good(&b, NOW).unwrap();
    assert_eq!(m.tried_bucket_of(&b), Some(0));
    let ka = m.get(&a).unwrap();
    assert!(!ka.is_tried());
    assert_eq!(m.new_buckets_of(&a), vec![0]);
    // It keeps its history.
    assert_eq!(ka.last_success(), Some(NOW));
    assert_eq!((m.num_new(), m.num_tried()), (1, 1));
    ok(&m);
}

#[test]
fn good_evicts_the_oldest_by_last_seen_time() {
    let mut m = AddrManager::new(Params {
        key: KEY,
        tried_bucket_size: 3,
    });
    m.buckets.tried = bucket_zero_tried;
    let addrs: Vec<NetAddressV2> = [(1, NOW - 5), (2, NOW - 9), (3, NOW - 9), (4, NOW)]
        .iter()
        .map(|&(d, ts)| {
            let mut a = v4(50, 1, 1, d);
            a.timestamp = ts;
            a
        })
        .collect();
    m.add_addresses(&addrs, &src(1), NOW, &mut rng(1));
    for a in &addrs {
        m.good(a, NOW).unwrap();
    }
    // Of the two oldest, the first in the bucket went.
    assert!(!m.get(&addrs[1]).unwrap().is_tried());
    for i in [0, 2, 3] {
        assert!(m.get(&addrs[i]).unwrap().is_tried());
    }
    ok(&m);
}

/// When the evicted entry's new bucket is full, it goes to the first new
/// bucket the promoted address left.
#[test]
fn good_eviction_falls_back_to_the_bucket_left() {
    let mut m = AddrManager::new(Params {
        key: KEY,
        tried_bucket_size: 1,
    });
    m.buckets = BucketFns {
        new: bucket_by_last_octet,
        tried: bucket_zero_tried,
    };
    let a = v4(60, 1, 1, 5);
    m.add_addresses(&[a], &src(1), NOW, &mut rng(1));
    m.good(&a, NOW).unwrap();
    // Fill new bucket 5 to 64.
    let fill: Vec<NetAddressV2> = (0..64u8).map(|i| v4(61, i, 1, 5)).collect();
    m.add_addresses(&fill, &src(1), NOW, &mut rng(1));
    assert_eq!(m.new_buckets[5].len(), NEW_BUCKET_SIZE);
    let b = v4(62, 1, 1, 7);
    m.add_addresses(&[b], &src(1), NOW, &mut rng(1));
    m.good(&b, NOW).unwrap();
    assert_eq!(m.new_buckets_of(&a), vec![7]);
    assert_eq!(m.new_buckets[5].len(), NEW_BUCKET_SIZE);
    ok(&m);

    // With room (63 in bucket 5), the evicted entry goes to its own bucket.
    let mut m2 = AddrManager::new(Params {
        key: KEY,
        tried_bucket_size: 1,
    });
    m2.buckets = m.buckets;
    m2.add_addresses(&[a], &src(1), NOW, &mut rng(1));
    m2.good(&a, NOW).unwrap();
    m2.add_addresses(&fill[..63], &src(1), NOW, &mut rng(1));
    m2.add_addresses(&[b], &src(1), NOW, &mut rng(1));
    m2.good(&b, NOW).unwrap();
    assert_eq!(m2.new_buckets_of(&a), vec![5]);
    ok(&m2);
}

#[test]
fn set_services_replaces_them() {
    let mut m = mgr();
    let a = v4(1, 2, 3, 4);
    assert!(m.set_services(&a, ServiceFlags::NODE_CF).is_err());
    m.add_addresses(&[a], &src(1), NOW, &mut rng(1));
    m.set_services(&a, ServiceFlags::NODE_CF).unwrap();
    assert_eq!(
        m.get(&a).unwrap().net_address().services,
        ServiceFlags::NODE_CF
    );
}

#[test]
fn need_more_addresses_below_a_thousand() {
    let mut m = mgr();
    let mut r = rng(8);
    let addrs: Vec<NetAddressV2> = (0..999u32)
        .map(|i| v4(30 + (i / 200) as u8, (i % 200) as u8, 1, 1))
        .collect();
    m.add_addresses(&addrs, &src(1), NOW, &mut r);
    assert_eq!(m.len(), 999);
    assert!(m.need_more_addresses());
    m.add_addresses(&[v4(99, 1, 1, 1)], &src(1), NOW, &mut r);
    assert_eq!(m.len(), NEED_ADDRESS_THRESHOLD);
    assert!(!m.need_more_addresses());
}

// ---- selection -----------------------------------------------------------

#[test]
fn get_address_none_when_empty_or_filtered_out() {
    let mut m = mgr();
    assert!(m.get_address(TypeFilter::ALL, NOW, &mut rng(1)).is_none());
    m.add_addresses(&[v4(1, 2, 3, 4)], &src(1), NOW, &mut rng(1));
    let tor_only = TypeFilter {
        ipv4: false,
        ipv6: false,
        torv3: true,
    };
    assert!(m.get_address(tor_only, NOW, &mut rng(1)).is_none());
    let none = TypeFilter {
        ipv4: false,
        ipv6: false,
        torv3: false,
    };
    assert!(m.get_address(none, NOW, &mut rng(1)).is_none());
    assert_eq!(
        m.get_address(TypeFilter::ALL, NOW, &mut rng(1))
            .map(|k| *k.net_address()),
        Some(v4(1, 2, 3, 4))
    );
}

#[test]
fn get_address_respects_the_type_filter() {
    let mut m = mgr();
    let mut r = rng(9);
    let v6 = at("2602:100::1", 9108, NOW);
    m.add_addresses(&[v4(1, 2, 3, 4), v6, tor(0x18, 1)], &src(1), NOW, &mut r);
    for _ in 0..50 {
        let got = m.get_address(TypeFilter::IP, NOW, &mut r).unwrap();
        assert_ne!(
            got.net_address().host.address_type(),
            dcr_wire::NetAddressType::TorV3
        );
        let t = TypeFilter {
            ipv4: false,
            ipv6: false,
            torv3: true,
        };
        assert_eq!(
            *m.get_address(t, NOW, &mut r).unwrap().net_address(),
            tor(0x18, 1)
        );
    }
}

/// With tried and new entries both present, each side is taken half the
/// time, however many entries each holds.
#[test]
fn get_address_takes_tried_or_new_with_even_odds() {
    let mut m = mgr();
    let mut r = rng(10);
    let tried = v4(1, 2, 3, 4);
    m.add_addresses(&[tried], &src(1), NOW, &mut r);
    m.good(&tried, NOW).unwrap();
    let news: Vec<NetAddressV2> = (0..500u32)
        .map(|i| v4(40 + (i / 100) as u8, (i % 100) as u8, 1, 1))
        .collect();
    m.add_addresses(&news, &src(2), NOW, &mut r);
    let draws = 4000;
    let hits = (0..draws)
        .filter(|_| {
            *m.get_address(TypeFilter::ALL, NOW, &mut r)
                .unwrap()
                .net_address()
                == tried
        })
        .count();
    let share = hits as f64 / f64::from(draws);
    assert!((share - 0.5).abs() < 0.04, "tried share {share}");
}

/// The probability that `get_address` returns B out of a table of A and B,
/// each alone in its bucket, by dcrd's loop: a bucket at random, accepted
/// with `factor × chance`, the factor × 1.2 per refusal.
fn selection_probability(chance_a: f64, chance_b: f64) -> f64 {
    let (mut p_b, mut still, mut factor) = (0.0, 1.0, 1.0f64);
    for _ in 0..200 {
        let acc_a = (factor * chance_a).min(1.0);
        let acc_b = (factor * chance_b).min(1.0);
        p_b += still * 0.5 * acc_b;
        still *= 1.0 - 0.5 * acc_a - 0.5 * acc_b;
        factor *= SELECTION_FACTOR_GROWTH;
    }
    p_b
}

#[test]
fn get_address_weighs_by_chance_with_a_growing_factor() {
    let mut m = mgr();
    let a = v4(1, 2, 3, 4);
    let b = v4(5, 6, 7, 8);
    m.add_addresses(&[a], &src(1), NOW, &mut rng(1));
    m.add_addresses(&[b], &src(2), NOW, &mut rng(1));
    assert_ne!(m.new_buckets_of(&a), m.new_buckets_of(&b));
    // A: never attempted (0.01). B: attempted twice, last an hour ago
    // (1/2.25).
    m.attempt(&b, NOW - 7200).unwrap();
    m.attempt(&b, NOW - 3600).unwrap();
    let (ca, cb) = (
        m.get(&a).unwrap().chance(NOW),
        m.get(&b).unwrap().chance(NOW),
    );
    assert_eq!(ca, MIN_CHANCE);
    assert!((cb - 1.0 / 2.25).abs() < 1e-12);
    let want = selection_probability(ca, cb);
    let mut r = rng(11);
    let draws = 8_000;
    let hits = (0..draws)
        .filter(|_| {
            *m.get_address(TypeFilter::ALL, NOW, &mut r)
                .unwrap()
                .net_address()
                == b
        })
        .count();
    let got = hits as f64 / f64::from(draws);
    assert!(
        (got - want).abs() < 0.01,
        "B taken {got}, dcrd's loop gives {want}"
    );
}

/// The factor grows by 1.2 per refused draw, so even an entry of the
/// lowest chance is taken within 27 draws (1.2^26 × 0.01 > 1), and on
/// average within the number dcrd's loop gives.
#[test]
fn get_address_ends_within_27_draws() {
    let mut m = mgr();
    m.add_addresses(&[v4(1, 2, 3, 4)], &src(1), NOW, &mut rng(1));
    assert_eq!(m.get(&v4(1, 2, 3, 4)).unwrap().chance(NOW), MIN_CHANCE);
    let mut r = rng(14);
    let runs = 5000;
    let draws: Vec<u32> = (0..runs)
        .map(|_| m.select(TypeFilter::ALL, NOW, &mut r).unwrap().1)
        .collect();
    assert!(draws.iter().all(|&d| (1..=27).contains(&d)));
    // Expected draws: sum over k of P(refused k times).
    let (mut expect, mut refused, mut factor) = (0.0, 1.0, 1.0f64);
    for _ in 0..27 {
        expect += refused;
        refused *= 1.0 - (factor * MIN_CHANCE).min(1.0);
        factor *= SELECTION_FACTOR_GROWTH;
    }
    let mean = f64::from(draws.iter().sum::<u32>()) / f64::from(runs);
    assert!(
        (mean - expect).abs() < 0.3,
        "mean draws {mean}, expected {expect}"
    );
    // Without growth the mean would be 1 / 0.01 = 100.
    assert!(expect < 20.0);
}

// ---- the getaddr answer --------------------------------------------------

/// `n` routable IPv4 addresses, each in its own /16.
fn one_per_group(n: usize) -> Vec<NetAddressV2> {
    (1..=223u8)
        .flat_map(|a| (0..=255u8).map(move |b| v4(a, b, 1, 1)))
        .filter(|a| host_is_routable(&a.host))
        .take(n)
        .collect()
}

/// A book with `n` addresses that succeeded, each in its own /16 and
/// from one of 200 source groups.
fn book_of_good(n: usize) -> (AddrManager, Vec<NetAddressV2>) {
    let mut m = mgr();
    let mut r = rng(12);
    let addrs = one_per_group(n);
    for (i, a) in addrs.iter().enumerate() {
        m.add_addresses(&[*a], &src((i % 200) as u8), NOW, &mut r);
    }
    for a in &addrs {
        m.good(a, NOW).unwrap();
    }
    (m, addrs)
}

#[test]
fn address_cache_is_a_rounded_up_23_percent_share() {
    let mut m = mgr();
    assert!(m
        .address_cache(TypeFilter::ALL, NOW, &mut rng(1))
        .is_empty());
    for (n, want) in [
        (1u32, 1usize),
        (4, 1),
        (5, 2),
        (10, 3),
        (100, 23),
        (101, 24),
    ] {
        m = mgr();
        let addrs: Vec<NetAddressV2> = (0..n).map(|i| v4(70, i as u8, 1, 1)).collect();
        m.add_addresses(&addrs, &src(1), NOW, &mut rng(1));
        for a in &addrs {
            m.good(a, NOW).unwrap();
        }
        assert_eq!(
            m.address_cache(TypeFilter::ALL, NOW, &mut rng(2)).len(),
            want,
            "{n} eligible"
        );
    }
}

#[test]
fn address_cache_is_capped_at_2500() {
    // 23% of 11,000 is 2,530.
    let (m, _) = book_of_good(11_000);
    let eligible = m.iter().filter(|k| k.last_success().is_some()).count();
    assert_eq!(eligible, 11_000);
    assert_eq!(
        m.address_cache(TypeFilter::ALL, NOW, &mut rng(3)).len(),
        GET_KNOWN_ADDRESS_LIMIT
    );
}

#[test]
fn address_cache_leaves_out_never_succeeded_bad_and_filtered() {
    let mut m = mgr();
    let mut r = rng(13);
    let good = v4(80, 1, 1, 1);
    let never = v4(80, 2, 1, 1);
    let bad = v4(80, 3, 1, 1);
    let onion = tor(0x21, 2);
    m.add_addresses(&[good, never, bad, onion], &src(1), NOW, &mut r);
    for a in [good, bad, onion] {
        m.good(&a, NOW - 8 * DAY).unwrap();
    }
    // `bad`: five failures and no success for over a week.
    for i in 0..5 {
        m.attempt(&bad, NOW - 100 + i).unwrap();
    }
    let all: Vec<NetAddressV2> = (0..20)
        .flat_map(|s| m.address_cache(TypeFilter::ALL, NOW, &mut rng(s)))
        .collect();
    assert!(all.contains(&good) && all.contains(&onion));
    assert!(!all.contains(&never) && !all.contains(&bad));
    let ip_only: Vec<NetAddressV2> = (0..20)
        .flat_map(|s| m.address_cache(TypeFilter::IP, NOW, &mut rng(s)))
        .collect();
    assert!(ip_only.iter().all(|a| *a == good));
}

#[test]
fn address_cache_is_a_random_sample_in_random_order() {
    let (m, _) = book_of_good(400);
    let a = m.address_cache(TypeFilter::ALL, NOW, &mut rng(1));
    let b = m.address_cache(TypeFilter::ALL, NOW, &mut rng(2));
    assert_eq!(a.len(), 92);
    assert_ne!(a, b);
    let mut keys: Vec<AddrKey> = a.iter().map(AddrKey::of).collect();
    keys.sort_by_key(|k| k.to_string());
    keys.dedup();
    assert_eq!(keys.len(), a.len(), "no address twice");
    // Over many answers, every eligible address shows up.
    let mut seen = std::collections::HashSet::new();
    for s in 0..60 {
        seen.extend(
            m.address_cache(TypeFilter::ALL, NOW, &mut rng(s))
                .iter()
                .map(AddrKey::of),
        );
    }
    assert_eq!(seen.len(), 400);
}

// ---- relayed timestamps --------------------------------------------------

#[test]
fn relayed_future_cutoff_is_ten_minutes_not_a_day() {
    assert_eq!(relayed_timestamp(NOW + 600, NOW), NOW + 600);
    assert_eq!(relayed_timestamp(NOW + 601, NOW), NOW - 5 * DAY);
    assert_eq!(relayed_timestamp(NOW + 23 * 3600, NOW), NOW - 5 * DAY);
    assert_eq!(relayed_timestamp(NOW - 40 * DAY, NOW), NOW - 40 * DAY);
    assert_eq!(relayed_timestamp(u64::MAX, 100), 0);

    let mut m = mgr();
    let a = at("1.2.3.4", 9108, NOW + 601);
    let b = at("5.6.7.8", 9108, NOW + 600);
    m.add_relayed_addresses(&[a, b], &src(1), NOW, &mut rng(1));
    assert_eq!(m.get(&a).unwrap().net_address().timestamp, NOW - 5 * DAY);
    assert_eq!(m.get(&b).unwrap().net_address().timestamp, NOW + 600);
    // Seeds and dials (add_addresses) keep the time as given.
    let c = at("9.9.9.9", 9108, NOW + 3600);
    m.add_addresses(&[c], &src(1), NOW, &mut rng(1));
    assert_eq!(m.get(&c).unwrap().net_address().timestamp, NOW + 3600);
}

// ---- floods --------------------------------------------------------------

/// Honest addresses: `n` addresses in many groups, from 64 source groups.
fn honest(m: &mut AddrManager, n: u32, r: &mut StdRng) -> Vec<NetAddressV2> {
    let addrs: Vec<NetAddressV2> = (0..n)
        .map(|i| v4(100 + (i % 50) as u8, (i / 50) as u8, 9, 9))
        .collect();
    for (i, a) in addrs.iter().enumerate() {
        m.add_addresses(&[*a], &src((i % 64) as u8), NOW, r);
    }
    addrs
}

fn flood_addrs(n: u32) -> Vec<NetAddressV2> {
    // Spread over as many groups as possible and as new as is kept (ten
    // minutes ahead), so honest entries are the oldest: the attacker's
    // best.
    (0..n)
        .map(|i| {
            let mut a = v4(
                1 + (i % 90) as u8,
                (i / 90 % 250) as u8,
                (i / 22_500) as u8,
                1,
            );
            a.timestamp = NOW + 600;
            a
        })
        .collect()
}

#[test]
fn a_flood_from_one_source_holds_at_most_its_64_buckets() {
    let mut m = mgr();
    let mut r = rng(20);
    let honest = honest(&mut m, 2500, &mut r);
    let honest_buckets = m.occupied_new_buckets();
    let attacker = v4(66, 66, 66, 66);
    let flood = flood_addrs(10_000);
    m.add_relayed_addresses(&flood, &attacker, NOW, &mut r);
    ok(&m);
    let flood_kept: Vec<&NetAddressV2> = flood.iter().filter(|a| m.get(a).is_some()).collect();
    let mut flood_buckets: Vec<usize> = flood_kept
        .iter()
        .flat_map(|a| m.new_buckets_of(a))
        .collect();
    flood_buckets.sort_unstable();
    flood_buckets.dedup();
    assert!(flood_buckets.len() <= NEW_BUCKETS_PER_GROUP as usize);
    assert!(flood_kept.len() <= NEW_BUCKETS_PER_GROUP as usize * (NEW_BUCKET_SIZE + 1));
    // Honest addresses outside those buckets are all still there.
    let survivors = honest.iter().filter(|a| m.get(a).is_some()).count();
    let exposed = honest
        .iter()
        .filter(|a| {
            m.new_buckets_of(a)
                .iter()
                .all(|b| flood_buckets.contains(b))
        })
        .count();
    assert!(survivors + exposed >= honest.len());
    assert!(
        survivors >= honest.len() * 85 / 100,
        "{survivors} of {} honest left",
        honest.len()
    );
    assert!(m.occupied_new_buckets() <= honest_buckets + NEW_BUCKETS_PER_GROUP as usize);
}

#[test]
fn a_flood_from_many_sources_in_one_group_is_one_source_group() {
    let mut m = mgr();
    let mut r = rng(21);
    let flood = flood_addrs(8_000);
    for (i, chunk) in flood.chunks(27).enumerate() {
        // 300 attacker peers, all in 66.66/16.
        let peer = v4(66, 66, (i / 250) as u8, (i % 250) as u8);
        m.add_relayed_addresses(chunk, &peer, NOW, &mut r);
    }
    ok(&m);
    assert!(m.occupied_new_buckets() <= NEW_BUCKETS_PER_GROUP as usize);
    assert!(m.len() <= NEW_BUCKETS_PER_GROUP as usize * (NEW_BUCKET_SIZE + 1));
}

#[test]
fn a_flood_of_one_address_group_fills_one_bucket_per_source_group() {
    let mut m = mgr();
    let mut r = rng(22);
    let flood: Vec<NetAddressV2> = (0..10_000u32)
        .map(|i| v4(7, 7, (i / 250) as u8, (i % 250) as u8))
        .collect();
    m.add_relayed_addresses(&flood, &src(1), NOW, &mut r);
    assert_eq!(m.occupied_new_buckets(), 1);
    assert_eq!(m.len(), NEW_BUCKET_SIZE + 1);
    ok(&m);
}

/// With honest addresses in the book, the share of `get_address` answers
/// that come from a flood stays at most the flood's share of occupied new
/// buckets (and half that when tried addresses exist).
#[test]
fn a_flood_gets_a_bounded_share_of_selection() {
    let mut m = mgr();
    let mut r = rng(23);
    honest(&mut m, 2500, &mut r);
    let flood = flood_addrs(10_000);
    m.add_relayed_addresses(&flood, &v4(66, 66, 66, 66), NOW, &mut r);
    let is_flood =
        |a: &NetAddressV2| matches!(a.host, NetAddressV2Host::Ipv4(ip) if ip.octets()[3] == 1);
    let flood_buckets = (0..NEW_BUCKET_COUNT)
        .filter(|&b| m.new_buckets[b].iter().any(|&id| is_flood(&m.entry(id).na)))
        .count();
    let bound = flood_buckets as f64 / m.occupied_new_buckets() as f64;
    assert!(
        bound < 0.15,
        "flood holds {flood_buckets} of {} buckets",
        m.occupied_new_buckets()
    );
    let draws = 3000;
    let count = |m: &AddrManager, r: &mut StdRng| {
        (0..draws)
            .filter(|_| {
                is_flood(
                    m.get_address(TypeFilter::ALL, NOW, r)
                        .unwrap()
                        .net_address(),
                )
            })
            .count() as f64
            / f64::from(draws)
    };
    let share = count(&m, &mut r);
    assert!(
        share <= bound + 0.02,
        "flood selected {share}, bound {bound}"
    );

    // With honest tried addresses, new is taken half the time at most.
    let some_honest: Vec<NetAddressV2> = m
        .iter()
        .map(|k| *k.net_address())
        .filter(|a| !is_flood(a))
        .take(100)
        .collect();
    for a in &some_honest {
        m.good(a, NOW).unwrap();
    }
    let share = count(&m, &mut r);
    assert!(
        share <= bound / 2.0 + 0.02,
        "flood selected {share} with tried entries"
    );
}

// ---- invariants under any sequence ---------------------------------------

#[derive(Debug, Clone)]
enum Op {
    Add(Vec<NetAddressV2>, NetAddressV2),
    AddRelayed(Vec<NetAddressV2>, NetAddressV2),
    Attempt(NetAddressV2),
    Connected(NetAddressV2),
    Good(NetAddressV2),
    Services(NetAddressV2, u64),
    Select(u8),
    Cache(u8),
    Wait(u64),
}

/// Addresses from a small space, so buckets fill and entries repeat.
fn small_addr() -> impl Strategy<Value = NetAddressV2> {
    let host = prop_oneof![
        6 => (0u8..3, 0u8..3, 0u8..40).prop_map(|(a, b, d)| NetAddressV2Host::Ipv4(Ipv4Addr::new(11 + a, b, 0, d))),
        1 => (0u16..3, 0u16..20).prop_map(|(a, d)| NetAddressV2Host::Ipv6(Ipv6Addr::new(0x2602, a, 0, 0, 0, 0, 0, d))),
        1 => (0u8..4, 0u8..6).prop_map(|(f, n)| { let mut k = [n; 32]; k[0] = f; NetAddressV2Host::TorV3(k) }),
        1 => (0u8..3).prop_map(|d| NetAddressV2Host::Ipv6(Ipv4Addr::new(11, 0, 0, d).to_ipv6_mapped())),
        1 => (0u8..3).prop_map(|d| NetAddressV2Host::Ipv4(Ipv4Addr::new(10, 0, 0, d))),
    ];
    (host, 0u64..3, NOW - 40 * DAY..NOW + 3600).prop_map(|(host, s, ts)| NetAddressV2 {
        timestamp: ts,
        services: ServiceFlags(s),
        host,
        port: 9108,
    })
}

/// Any address at all: any host bytes (IPv4-mapped IPv6 included), any
/// time, any services and port.
fn any_addr() -> impl Strategy<Value = NetAddressV2> {
    let host = prop_oneof![
        any::<[u8; 4]>().prop_map(|a| NetAddressV2Host::Ipv4(a.into())),
        any::<[u8; 16]>().prop_map(|a| NetAddressV2Host::Ipv6(a.into())),
        any::<[u8; 4]>().prop_map(|a| NetAddressV2Host::Ipv6(Ipv4Addr::from(a).to_ipv6_mapped())),
        any::<[u8; 32]>().prop_map(NetAddressV2Host::TorV3),
    ];
    (host, any::<u64>(), any::<u64>(), any::<u16>()).prop_map(|(host, timestamp, s, port)| {
        NetAddressV2 {
            timestamp,
            services: ServiceFlags(s),
            host,
            port,
        }
    })
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (prop::collection::vec(small_addr(), 1..40), small_addr()).prop_map(|(a, s)| Op::Add(a, s)),
        2 => (prop::collection::vec(small_addr(), 1..40), small_addr()).prop_map(|(a, s)| Op::AddRelayed(a, s)),
        2 => small_addr().prop_map(Op::Attempt),
        1 => small_addr().prop_map(Op::Connected),
        3 => small_addr().prop_map(Op::Good),
        1 => (small_addr(), any::<u64>()).prop_map(|(a, s)| Op::Services(a, s)),
        2 => any::<u8>().prop_map(Op::Select),
        1 => any::<u8>().prop_map(Op::Cache),
        1 => (0u64..10 * DAY).prop_map(Op::Wait),
    ]
}

/// Makes a known address good now and then, so `Good` hits entries.
fn apply(m: &mut AddrManager, op: &Op, now: &mut u64, r: &mut StdRng) {
    match op {
        Op::Add(a, s) => m.add_addresses(a, s, *now, r),
        Op::AddRelayed(a, s) => m.add_relayed_addresses(a, s, *now, r),
        Op::Attempt(a) => {
            let _ = m.attempt(a, *now);
        }
        Op::Connected(a) => {
            let _ = m.connected(a, *now);
        }
        Op::Good(a) => {
            let _ = m.good(a, *now);
        }
        Op::Services(a, s) => {
            let _ = m.set_services(a, ServiceFlags(*s));
        }
        Op::Select(f) => {
            let filter = TypeFilter {
                ipv4: f & 1 != 0,
                ipv6: f & 2 != 0,
                torv3: f & 4 != 0,
            };
            if let Some(k) = m.get_address(filter, *now, r) {
                assert!(filter.matches(k.net_address().host.address_type()));
            }
        }
        Op::Cache(f) => {
            let filter = TypeFilter {
                ipv4: f & 1 != 0,
                ipv6: f & 2 != 0,
                torv3: f & 4 != 0,
            };
            let c = m.address_cache(filter, *now, r);
            assert!(c.len() <= GET_KNOWN_ADDRESS_LIMIT);
            assert!(c.iter().all(|a| filter.matches(a.host.address_type())));
        }
        Op::Wait(s) => *now += s,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    /// Counts match the buckets, no bucket over its size, no entry in more
    /// than eight new buckets or in new and tried at once, tried within
    /// capacity, and a save/load round trip keeps every bucket.
    #[test]
    fn invariants_hold_under_any_operations(
        ops in prop::collection::vec(op(), 1..120),
        tried_size in 1usize..4,
        seed in any::<u64>(),
    ) {
        let mut m = AddrManager::new(Params { key: KEY, tried_bucket_size: tried_size });
        let mut r = rng(seed);
        let mut now = NOW;
        for op in &ops {
            apply(&mut m, op, &mut now, &mut r);
            // Good on some known entry too, to exercise promotion.
            if let Some(k) = m.get_address(TypeFilter::ALL, now, &mut r).map(|k| *k.net_address()) {
                m.good(&k, now).unwrap();
            }
            if let Err(e) = m.check_invariants() {
                return Err(TestCaseError::fail(format!("after {op:?}: {e}")));
            }
            prop_assert!(m.num_tried() <= TRIED_BUCKET_COUNT * tried_size);
        }
        let back = AddrManager::from_json(&m.to_json(), now, tried_size).unwrap();
        back.check_invariants().map_err(TestCaseError::fail)?;
        prop_assert_eq!(back.len(), m.len());
        prop_assert_eq!(back.num_tried(), m.num_tried());
        for ka in m.iter() {
            let a = ka.net_address();
            prop_assert_eq!(back.new_buckets_of(a), m.new_buckets_of(a));
            prop_assert_eq!(back.tried_bucket_of(a), m.tried_bucket_of(a));
        }
    }

    /// Any address, any time, any clock: no panic, and the invariants hold.
    #[test]
    fn arbitrary_addresses_and_times_never_panic(
        addrs in prop::collection::vec(any_addr(), 1..30),
        source in any_addr(),
        nows in prop::collection::vec(any::<u64>(), 1..6),
        seed in any::<u64>(),
    ) {
        let mut m = AddrManager::new(Params { key: KEY, tried_bucket_size: 2 });
        let mut r = rng(seed);
        for &now in &nows {
            m.add_relayed_addresses(&addrs, &source, now, &mut r);
            m.add_addresses(&addrs, &source, now, &mut r);
            for a in &addrs {
                let _ = m.attempt(a, now);
                let _ = m.connected(a, now);
                let _ = m.good(a, now);
            }
            let _ = m.get_address(TypeFilter::ALL, now, &mut r);
            let _ = m.address_cache(TypeFilter::ALL, now, &mut r);
            let _ = m.best_local_address(&source, TypeFilter::ALL, now);
            let _ = m.add_local_address(&source, AddressPriority::Manual);
            m.check_invariants().map_err(TestCaseError::fail)?;
        }
        let back = AddrManager::from_json(&m.to_json(), 0, 2).unwrap();
        back.check_invariants().map_err(TestCaseError::fail)?;
    }
}
