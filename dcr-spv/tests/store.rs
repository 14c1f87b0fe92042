//! The store across restarts: what was synced comes back, a torn or
//! corrupted tail is cut at the last good record wherever the cut falls,
//! nothing on disk makes opening panic, and syncing resumes where it
//! stopped.

mod common;

use std::fs::OpenOptions;
use std::io::Write;

use dcr_spv::store::{Store, HEADER_RECORD_SIZE};
use dcr_spv::synthetic::ChainBuilder;
use dcr_spv::{params, FilterSync, HeaderChain};
use dcr_wire::{BlockHeader, Hash};
use proptest::prelude::*;

fn chain(n: usize) -> (dcr_spv::Params, Vec<(BlockHeader, Hash)>) {
    let p = params::regnet().clone();
    let mut b = ChainBuilder::new(&p);
    let headers = b
        .extend(n)
        .into_iter()
        .map(|h| (h, h.block_hash()))
        .collect();
    (p, headers)
}

fn filter_of(height: u32) -> Vec<u8> {
    vec![height as u8; 1 + height as usize % 7]
}

/// A store in `dir` holding `headers` and a filter for each.
fn fill(dir: &std::path::Path, p: &dcr_spv::Params, headers: &[(BlockHeader, Hash)]) {
    let (mut s, rec) = Store::open(dir, &p.genesis_hash).unwrap();
    assert!(rec.headers.is_empty());
    s.append_filter(0, &p.genesis_hash, &filter_of(0)).unwrap();
    s.append_headers(headers).unwrap();
    for (h, hash) in headers {
        s.append_filter(h.height, hash, &filter_of(h.height))
            .unwrap();
    }
    s.sync().unwrap();
}

#[test]
fn reopens_with_everything_and_resumes() {
    let (p, headers) = chain(30);
    let dir = tempfile::tempdir().unwrap();
    fill(dir.path(), &p, &headers[..20]);
    let (mut s, rec) = Store::open(dir.path(), &p.genesis_hash).unwrap();
    assert_eq!(rec.headers.len(), 20);
    assert_eq!((rec.headers_cut, rec.filters_cut), (0, 0));
    assert_eq!((s.headers_height(), s.filters_end()), (20, 21));
    assert_eq!(s.read_filter(7).unwrap(), Some(filter_of(7)));
    assert_eq!(s.read_filter(0).unwrap(), Some(filter_of(0)));
    assert_eq!(s.read_filter(21).unwrap(), None);
    // The chain rebuilt from disk is checked like any other headers.
    let mut c = HeaderChain::new(p.clone());
    assert_eq!(c.accept(&rec.headers, None).rejected, None);
    assert_eq!(c.height(), 20);
    // Filters resume at the next height.
    let mut sync = FilterSync::new(p.clone(), s.filters_end());
    sync.add_headers(rec.headers.iter().zip(headers.iter().map(|x| x.1)));
    assert_eq!(sync.pending(), 0);
    // Appending continues where it stopped.
    s.append_headers(&headers[20..]).unwrap();
    s.sync().unwrap();
    let (_, rec) = Store::open(dir.path(), &p.genesis_hash).unwrap();
    assert_eq!(rec.headers.len(), 30);
}

#[test]
fn a_torn_tail_is_cut_at_every_offset() {
    let (p, headers) = chain(12);
    let dir = tempfile::tempdir().unwrap();
    fill(dir.path(), &p, &headers);
    let hpath = dir.path().join("headers.dat");
    let fpath = dir.path().join("filters.dat");
    let hbytes = std::fs::read(&hpath).unwrap();
    let fbytes = std::fs::read(&fpath).unwrap();
    // Every cut of the header file inside its last two records.
    for cut in hbytes.len() - 2 * HEADER_RECORD_SIZE..hbytes.len() {
        std::fs::write(&hpath, &hbytes[..cut]).unwrap();
        std::fs::write(&fpath, &fbytes).unwrap();
        let (s, rec) = Store::open(dir.path(), &p.genesis_hash).unwrap();
        let whole = cut / HEADER_RECORD_SIZE;
        assert_eq!(rec.headers.len(), whole, "cut {cut}");
        assert_eq!(rec.headers_cut as usize, cut % HEADER_RECORD_SIZE);
        // Filters of blocks no longer stored go too.
        assert_eq!(s.filters_end() as usize, whole + 1, "cut {cut}");
        assert_eq!(
            std::fs::metadata(&hpath).unwrap().len() as usize,
            whole * HEADER_RECORD_SIZE
        );
    }
    // Every cut of the filter file.
    for cut in 0..fbytes.len() {
        std::fs::write(&hpath, &hbytes).unwrap();
        std::fs::write(&fpath, &fbytes[..cut]).unwrap();
        let (mut s, rec) = Store::open(dir.path(), &p.genesis_hash).unwrap();
        assert_eq!(rec.headers.len(), 12);
        let end = s.filters_end();
        assert!(end <= 13);
        for h in 0..end {
            assert_eq!(s.read_filter(h).unwrap(), Some(filter_of(h)), "cut {cut}");
        }
        // And it takes the next filter where it stopped.
        if end > 0 && end <= 12 {
            let hash = headers[end as usize - 1].1;
            s.append_filter(end, &hash, &filter_of(end)).unwrap();
        }
    }
}

#[test]
fn an_interrupted_write_and_garbage_are_cut() {
    let (p, headers) = chain(10);
    let dir = tempfile::tempdir().unwrap();
    fill(dir.path(), &p, &headers[..8]);
    {
        // A write interrupted halfway through a record, then the process
        // gone without a sync.
        let (mut s, _) = Store::open(dir.path(), &p.genesis_hash).unwrap();
        s.append_headers(&headers[8..9]).unwrap();
        let mut f = OpenOptions::new()
            .append(true)
            .open(dir.path().join("headers.dat"))
            .unwrap();
        let mut half = Vec::new();
        headers[9].0.write(&mut half);
        f.write_all(&half[..100]).unwrap();
        let mut g = OpenOptions::new()
            .append(true)
            .open(dir.path().join("filters.dat"))
            .unwrap();
        g.write_all(&[0xff; 57]).unwrap();
    }
    let (s, rec) = Store::open(dir.path(), &p.genesis_hash).unwrap();
    assert_eq!(rec.headers.len(), 9);
    assert_eq!(rec.headers_cut, 100);
    assert_eq!(rec.filters_cut, 57);
    assert_eq!(s.filters_end(), 9);
    // A flipped bit in the middle: the record's checksum fails, and every
    // record after it is cut with it.
    let hpath = dir.path().join("headers.dat");
    let mut bytes = std::fs::read(&hpath).unwrap();
    bytes[4 * HEADER_RECORD_SIZE + 50] ^= 0x10;
    std::fs::write(&hpath, &bytes).unwrap();
    let (s, rec) = Store::open(dir.path(), &p.genesis_hash).unwrap();
    assert_eq!(rec.headers.len(), 4);
    assert_eq!(s.filters_end(), 5);
}

#[test]
fn reorganizations_truncate_both_files() {
    let (p, headers) = chain(15);
    let dir = tempfile::tempdir().unwrap();
    fill(dir.path(), &p, &headers);
    let (mut s, _) = Store::open(dir.path(), &p.genesis_hash).unwrap();
    s.truncate(9).unwrap();
    assert_eq!((s.headers_height(), s.filters_end()), (9, 10));
    let mut fork = ChainBuilder::new(&p);
    fork.extend(9);
    let h = fork.next(|h| h.extra_data[0] = 1);
    s.append_headers(&[(h, h.block_hash())]).unwrap();
    s.append_filter(10, &h.block_hash(), b"new").unwrap();
    s.sync().unwrap();
    let (mut s, rec) = Store::open(dir.path(), &p.genesis_hash).unwrap();
    assert_eq!(rec.headers.len(), 10);
    assert_eq!(rec.headers[9], h);
    assert_eq!(s.read_filter(10).unwrap(), Some(b"new".to_vec()));
    // A crash between cutting headers and filters: the filters of blocks
    // that are gone are cut at the next open.
    s.truncate(12).unwrap();
    let (_, _) = (s, ());
    let hpath = dir.path().join("headers.dat");
    let bytes = std::fs::read(&hpath).unwrap();
    std::fs::write(&hpath, &bytes[..5 * HEADER_RECORD_SIZE]).unwrap();
    let (s, rec) = Store::open(dir.path(), &p.genesis_hash).unwrap();
    assert_eq!((rec.headers.len(), s.filters_end()), (5, 6));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]
    #[test]
    fn any_damage_leaves_a_prefix(
        cut_h in any::<prop::sample::Index>(),
        cut_f in any::<prop::sample::Index>(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), any::<bool>()), 0..4),
        garbage in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        let (p, headers) = chain(8);
        let dir = tempfile::tempdir().unwrap();
        fill(dir.path(), &p, &headers);
        let hpath = dir.path().join("headers.dat");
        let fpath = dir.path().join("filters.dat");
        let mut hb = std::fs::read(&hpath).unwrap();
        let mut fb = std::fs::read(&fpath).unwrap();
        hb.truncate(cut_h.index(hb.len() + 1));
        fb.truncate(cut_f.index(fb.len() + 1));
        for (i, x, in_headers) in &flips {
            let buf = if *in_headers { &mut hb } else { &mut fb };
            if !buf.is_empty() {
                let at = i.index(buf.len());
                buf[at] ^= x;
            }
        }
        fb.extend_from_slice(&garbage);
        std::fs::write(&hpath, &hb).unwrap();
        std::fs::write(&fpath, &fb).unwrap();
        let (mut s, rec) = Store::open(dir.path(), &p.genesis_hash).unwrap();
        // What comes back is a prefix of what was written.
        for (i, h) in rec.headers.iter().enumerate() {
            prop_assert_eq!(h, &headers[i].0);
        }
        for h in 0..s.filters_end() {
            let f = s.read_filter(h).unwrap();
            prop_assert!(f.is_some());
        }
        prop_assert!(s.filters_end() as usize <= rec.headers.len() + 1);
    }
}

#[test]
fn headers_read_back_by_height_and_filters_appended_in_one_write() {
    let (p, headers) = chain(12);
    let dir = tempfile::tempdir().unwrap();
    let (mut s, _) = Store::open(dir.path(), &p.genesis_hash).unwrap();
    s.append_headers(&headers).unwrap();
    assert_eq!(s.read_headers(3, 4).unwrap(), headers[2..6]);
    // Past the end is cut; height 0 is genesis, which is not stored.
    assert_eq!(s.read_headers(10, 100).unwrap(), headers[9..]);
    assert_eq!(s.read_headers(0, 1).unwrap(), headers[..1]);
    assert!(s.read_headers(13, 5).unwrap().is_empty());
    // Appending goes on at the end after a read.
    let batch: Vec<(u32, &Hash, Vec<u8>)> = headers[..5]
        .iter()
        .map(|(h, hash)| (h.height, hash, filter_of(h.height)))
        .collect();
    s.append_filters(batch.iter().map(|(h, hash, d)| (*h, *hash, d.as_slice())))
        .unwrap();
    // A gap is refused and nothing of that call is written.
    let gap = [(9u32, &headers[8].1, &[1u8][..])];
    assert!(s.append_filters(gap).is_err());
    s.append_filter(6, &headers[5].1, &filter_of(6)).unwrap();
    s.sync().unwrap();
    let (mut s, rec) = Store::open(dir.path(), &p.genesis_hash).unwrap();
    assert_eq!(rec.headers.len(), 12);
    assert_eq!(s.filters_end(), 7);
    for h in 1..=6 {
        assert_eq!(s.read_filter(h).unwrap(), Some(filter_of(h)));
    }
}
