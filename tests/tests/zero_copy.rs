//! Decoding a block copies no script bytes and allocates nothing: measured
//! with a counting global allocator on the real blocks of the corpus.

use dcr_counting_alloc::thread_allocations;
use dcr_wire::{pver, Block};

#[global_allocator]
static GLOBAL: dcr_counting_alloc::Counting = dcr_counting_alloc::Counting;

/// What `f` returns and how many allocations this thread made running it.
/// Per thread, because other threads allocate at times of their own:
/// libtest's main thread, waiting on its channel for the test's result,
/// once allocated inside a measured window.
fn allocations_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = thread_allocations();
    let out = f();
    (out, (thread_allocations() - before) as usize)
}

fn within(outer: &[u8], inner: &[u8]) -> bool {
    let o = outer.as_ptr_range();
    let i = inner.as_ptr_range();
    inner.is_empty() || (o.start <= i.start && i.end <= o.end)
}

#[test]
fn block_decode_allocates_nothing_and_borrows_scripts() {
    let Some(dir) = dcr_tests::corpus_dir() else {
        return;
    };
    let mut blocks = Vec::new();
    for f in ["chain-0-168.bin", "mainnet-432100.bin"] {
        blocks.extend(
            dcr_tests::read_block_file(&dir.join("wire/blocks").join(f)).expect("block file"),
        );
    }
    assert_eq!(blocks.len(), 170);
    let mut total_allocs = 0;
    let mut scripts = 0;
    for bytes in &blocks {
        let (block, allocs) = allocations_during(|| Block::from_bytes(bytes, pver::CURRENT));
        let block = block.expect("real block decodes");
        total_allocs += allocs;
        // Hashing from the views allocates nothing either.
        let (_, hash_allocs) = allocations_during(|| {
            block
                .txs
                .raw_txs()
                .chain(block.stake_txs.raw_txs())
                .map(|t| t.tx_hash().0[0] ^ t.full_hash().0[0])
                .fold(0u8, |a, b| a ^ b)
        });
        assert_eq!(hash_allocs, 0, "hashing a block's transactions allocated");
        for tx in block.txs.iter().chain(block.stake_txs.iter()) {
            for i in &tx.inputs {
                assert!(
                    within(bytes, &i.signature_script),
                    "signature script copied"
                );
                scripts += 1;
            }
            for o in &tx.outputs {
                assert!(within(bytes, &o.pk_script), "pk script copied");
                scripts += 1;
            }
        }
    }
    dcr_tests::report(&format!(
        "zero-copy: {} blocks decoded with {} allocations; {} scripts borrowed",
        blocks.len(),
        total_allocs,
        scripts
    ));
    assert_eq!(total_allocs, 0, "block decoding allocated");
}

/// The payloads of the list messages a capture is full of: `inv`,
/// `getdata` and `notfound` of 1000 vectors, `headers` of 2000.
fn list_payloads() -> Vec<(dcr_wire::Command, Vec<u8>)> {
    use dcr_wire::{BlockHeader, Hash, Headers, Inv, InvType, InvVect, Message};
    let inv_list: Vec<InvVect> = (0..1000u32)
        .map(|i| InvVect {
            inv_type: InvType::TX,
            hash: Hash([i as u8; 32]),
        })
        .collect();
    let headers = Headers {
        headers: (0..2000)
            .map(|height| BlockHeader {
                height,
                ..Default::default()
            })
            .collect(),
    };
    let msgs = [
        Message::Inv(Inv {
            inv_list: inv_list.clone(),
        }),
        Message::GetData(dcr_wire::GetData {
            inv_list: inv_list.clone(),
        }),
        Message::NotFound(dcr_wire::NotFound { inv_list }),
        Message::Headers(headers),
    ];
    msgs.iter()
        .map(|m| {
            let mut payload = Vec::new();
            m.encode(&mut payload, pver::CURRENT).expect("encodes");
            (m.command(), payload)
        })
        .collect()
}

#[test]
fn list_messages_decode_into_views_without_allocating() {
    use dcr_node::bench::{work, DataSet, Level, Msg};
    for (command, payload) in list_payloads() {
        let (view, allocs) =
            allocations_during(|| dcr_wire::MessageView::decode(command, &payload, pver::CURRENT));
        let view = view.expect("decodes");
        assert_eq!(allocs, 0, "{command:?} view allocated");
        // Walking the list allocates nothing either.
        let (_, walk_allocs) = allocations_during(|| match &view {
            dcr_wire::MessageView::Inv(l)
            | dcr_wire::MessageView::GetData(l)
            | dcr_wire::MessageView::NotFound(l) => {
                l.iter().map(|iv| iv.hash.0[0]).fold(0u8, |a, b| a ^ b)
            }
            dcr_wire::MessageView::Headers(h) => {
                h.iter().map(|h| h.height as u8).fold(0u8, |a, b| a ^ b)
            }
            _ => 0,
        });
        assert_eq!(walk_allocs, 0, "{command:?} walk allocated");
        // The views level of `dcrpeer bench` is this decode: 0 per message.
        let set = DataSet {
            data: payload.clone(),
            ..Default::default()
        };
        let msg = Msg {
            command,
            pver: pver::CURRENT,
            start: 0,
            len: payload.len(),
            checksum: None,
        };
        let (done, bench_allocs) =
            allocations_during(|| work(Level::Views, &msg, set.payload(&msg)).is_ok());
        assert!(done, "{command:?} bench work failed");
        assert_eq!(bench_allocs, 0, "{command:?} at the views level allocated");
        // The owned level still copies the list out: one vector.
        let (_, owned) = allocations_during(|| work(Level::Owned, &msg, set.payload(&msg)).is_ok());
        assert_eq!(owned, 1, "{command:?} owned decode");
    }
}

/// Every valid message of the corpus, all 41 commands at every protocol
/// version the reference encodes them, decodes into a [`MessageView`]
/// without one allocation: the zero-copy decode holds for every message,
/// not only the lists a capture is full of.
///
/// [`MessageView`]: dcr_wire::MessageView
#[test]
fn every_message_of_the_corpus_decodes_into_a_view_without_allocating() {
    let Some(dir) = dcr_tests::corpus_dir() else {
        return;
    };
    let mut allocating = std::collections::BTreeMap::<String, (usize, usize)>::new();
    let mut commands = std::collections::HashSet::new();
    let records = dcr_tests::valid_messages(&dir);
    assert!(records.len() > 5000, "{} records", records.len());
    for r in &records {
        let (view, allocs) =
            allocations_during(|| dcr_wire::MessageView::decode(r.command, &r.payload, r.pver));
        let view = view.unwrap_or_else(|e| panic!("{:?} pver {}: {e}", r.command, r.pver));
        // Read back, the view is the message.
        assert_eq!(
            Ok(view.to_message()),
            dcr_wire::Message::decode(r.command, &r.payload, r.pver),
            "{:?} pver {}",
            r.command,
            r.pver
        );
        commands.insert(r.command);
        if allocs > 0 {
            let e = allocating.entry(r.command.to_string()).or_default();
            e.0 += 1;
            e.1 = e.1.max(allocs);
        }
    }
    assert!(
        allocating.is_empty(),
        "views that allocated (command: (records, most allocations)): {allocating:?}"
    );
    assert_eq!(
        commands.len(),
        dcr_wire::Command::ALL.len(),
        "every command"
    );
}

/// Every invalid payload of the corpus is refused by the view with the
/// message decoder's error, whatever the command.
#[test]
fn views_refuse_every_invalid_payload_of_the_corpus_as_the_messages_do() {
    let Some(dir) = dcr_tests::corpus_dir() else {
        return;
    };
    let mut compared = 0;
    for r in dcr_tests::read_jsonl(&dir.join("wire/invalid.jsonl")) {
        let (Some(name), Some(hex), Some(pver)) = (
            r["command"].as_str(),
            r["payload_hex"].as_str(),
            r["pver"].as_u64(),
        ) else {
            continue;
        };
        let Some(command) = dcr_wire::Command::from_name(name.as_bytes()) else {
            continue;
        };
        let payload = hex::decode(hex).expect("payload hex");
        let pver = pver as u32;
        let view = dcr_wire::MessageView::decode(command, &payload, pver);
        let msg = dcr_wire::Message::decode(command, &payload, pver);
        assert_eq!(
            view.map(|v| v.to_message()),
            msg,
            "{name} pver {pver}: {}",
            r["case"]
        );
        compared += 1;
    }
    assert!(compared > 3000, "only {compared} invalid payloads compared");
}

/// Every valid payload of the corpus cut short at each byte, and with each
/// byte changed (for payloads up to 4 KiB): the view still accepts and
/// refuses what the message decoder does, with the same error, and reads
/// back to the same message.
#[test]
fn views_and_messages_agree_on_every_corpus_payload_cut_or_changed() {
    let Some(dir) = dcr_tests::corpus_dir() else {
        return;
    };
    let agree = |command, bytes: &[u8], pver| {
        let view = dcr_wire::MessageView::decode(command, bytes, pver);
        let msg = dcr_wire::Message::decode(command, bytes, pver);
        assert_eq!(
            view.map(|v| v.to_message()),
            msg,
            "{command:?} pver {pver}: {}",
            hex::encode(bytes)
        );
    };
    let mut cases = 0usize;
    for r in dcr_tests::valid_messages(&dir) {
        if r.payload.len() > 4096 {
            continue;
        }
        for cut in 0..r.payload.len() {
            agree(r.command, &r.payload[..cut], r.pver);
        }
        let mut changed = r.payload.clone();
        for at in 0..changed.len() {
            let was = changed[at];
            for v in [was ^ 0x01, was ^ 0x80, 0xff, 0xfd] {
                changed[at] = v;
                agree(r.command, &changed, r.pver);
            }
            changed[at] = was;
        }
        cases += 1;
    }
    assert!(cases > 4000, "only {cases} payloads mangled");
}
