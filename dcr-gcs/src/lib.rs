#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::collections::HashSet;

use dcr_wire::{blake256, Hash};
use siphasher::sip::SipHasher24;

pub mod proof;

/// The bin size exponent of blockcf2 filters (`blockcf2.B`).
pub const B: u8 = 19;
/// The inverse false positive rate of blockcf2 filters (`blockcf2.M`).
pub const M: u64 = 784_931;
/// Size of a filter key (`gcs.KeySize`).
pub const KEY_SIZE: usize = 16;

/// A filter's key: the first 16 bytes of the block's merkle root, in wire
/// order (`blockcf2.Key`).
pub fn key(merkle_root: &Hash) -> [u8; KEY_SIZE] {
    let mut k = [0u8; KEY_SIZE];
    k.copy_from_slice(&merkle_root.0[..KEY_SIZE]);
    k
}

/// A filter's hash, the leaf its header commits to: BLAKE-256 of its
/// serialization, or the zero hash for an empty filter (`filter.Hash`).
pub fn filter_hash(data: &[u8]) -> Hash {
    if data.is_empty() {
        Hash::ZERO
    } else {
        blake256(data)
    }
}

/// Why filter bytes do not decode (dcrd `ErrMisserialized`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("failed to read number of filter items")]
pub struct FilterDecodeError;

/// A version 2 filter, borrowing its serialization: the item count as a
/// canonical varint, then the Golomb-Rice coded deltas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Filter<'a> {
    data: &'a [u8],
    bits: &'a [u8],
    n: u32,
    modulus_nm: u64,
}

fn siphash(key: &[u8; KEY_SIZE], data: &[u8]) -> u64 {
    let k0 = u64::from_le_bytes(key[..8].try_into().unwrap_or_default());
    let k1 = u64::from_le_bytes(key[8..].try_into().unwrap_or_default());
    let mut h = SipHasher24::new_with_keys(k0, k1);
    std::hash::Hasher::write(&mut h, data);
    std::hash::Hasher::finish(&h)
}

/// `fastReduce`: maps a 64-bit hash into `[0, n)` by the high half of the
/// 128-bit product.
fn reduce(x: u64, n: u64) -> u64 {
    ((u128::from(x) * u128::from(n)) >> 64) as u64
}

impl<'a> Filter<'a> {
    /// The empty filter (no items).
    pub const EMPTY: Filter<'static> = Filter {
        data: &[],
        bits: &[],
        n: 0,
        modulus_nm: 0,
    };

    /// Reads a filter (`FromBytesV2` with blockcf2's B and M). Empty bytes
    /// are the empty filter. As the reference, the count is read as 64 bits
    /// and kept as 32, and the modulus is computed from the 64-bit count.
    pub fn from_bytes(data: &'a [u8]) -> Result<Filter<'a>, FilterDecodeError> {
        if data.is_empty() {
            return Ok(Filter {
                data,
                bits: data,
                n: 0,
                modulus_nm: 0,
            });
        }
        let (bits, n) = dcr_wire::primitives::var_int(data).map_err(|_| FilterDecodeError)?;
        Ok(Filter {
            data,
            bits,
            n: n as u32,
            modulus_nm: n.wrapping_mul(M),
        })
    }

    /// The number of items (`N`).
    pub fn n(&self) -> u32 {
        self.n
    }

    /// The serialization.
    pub fn bytes(&self) -> &'a [u8] {
        self.data
    }

    /// The filter's hash (see [`filter_hash`]).
    pub fn hash(&self) -> Hash {
        filter_hash(self.data)
    }

    /// Whether `data` may be in the set (`Match`): false positives at a
    /// rate of 1/M, no false negatives.
    pub fn matches(&self, key: &[u8; KEY_SIZE], data: &[u8]) -> bool {
        if self.bits.is_empty() || data.is_empty() {
            return false;
        }
        let term = reduce(siphash(key, data), self.modulus_nm);
        let mut r = BitReader::new(self.bits);
        let mut last: u64 = 0;
        while last <= term {
            let Some(delta) = r.read_value() else {
                return false;
            };
            let value = delta.wrapping_add(last);
            if value == term {
                return true;
            }
            last = value;
        }
        false
    }

    /// Whether any of `items` may be in the set (`MatchAny`). Empty items
    /// are skipped.
    pub fn matches_any<T: AsRef<[u8]>>(&self, key: &[u8; KEY_SIZE], items: &[T]) -> bool {
        if self.bits.is_empty() || items.is_empty() {
            return false;
        }
        let mut values: Vec<u64> = items
            .iter()
            .map(AsRef::as_ref)
            .filter(|d| !d.is_empty())
            .map(|d| reduce(siphash(key, d), self.modulus_nm))
            .collect();
        if values.is_empty() {
            return false;
        }
        values.sort_unstable();
        let mut r = BitReader::new(self.bits);
        let mut search = 0;
        let mut value: u64 = 0;
        'items: for _ in 0..self.n {
            let Some(delta) = r.read_value() else {
                return false;
            };
            value = value.wrapping_add(delta);
            while search < values.len() {
                let v = values[search];
                if v == value {
                    return true;
                }
                if v > value {
                    continue 'items;
                }
                search += 1;
            }
            break;
        }
        false
    }
}

/// Builds a version 2 filter from the items a block contributes (dcrd
/// `gcs.NewFilterV2` with blockcf2's B and M): empty items and duplicate
/// hashes are dropped, the hashes reduced, sorted and their differences
/// Golomb-Rice coded; the count goes first as a varint. No items give the
/// empty filter.
pub fn build<T: AsRef<[u8]>>(key: &[u8; KEY_SIZE], items: &[T]) -> Vec<u8> {
    let mut seen = HashSet::with_capacity(items.len());
    let mut values: Vec<u64> = Vec::with_capacity(items.len());
    for d in items.iter().map(AsRef::as_ref).filter(|d| !d.is_empty()) {
        let v = siphash(key, d);
        if seen.insert(v) {
            values.push(v);
        }
    }
    if values.is_empty() {
        return Vec::new();
    }
    let n = values.len() as u64;
    let modulus = n.wrapping_mul(M);
    for v in &mut values {
        *v = reduce(*v, modulus);
    }
    values.sort_unstable();
    let mut w = BitWriter::default();
    let mut prev = 0u64;
    for v in values {
        let delta = v - prev;
        prev = v;
        for _ in 0..delta >> B {
            w.push_bit(true);
        }
        w.push_bit(false);
        w.push_bits(delta & ((1 << B) - 1), u32::from(B));
    }
    let mut out = Vec::with_capacity(9 + w.bytes.len());
    dcr_wire::primitives::put_var_int(&mut out, n);
    out.extend_from_slice(&w.bytes);
    out
}

/// Reads bits most significant first (dcrd `bitReader`).
struct BitReader<'a> {
    data: &'a [u8],
    /// The next bit to read, counted from the first byte's top bit.
    pos: usize,
}

impl<'a> BitReader<'a> {
    fn new(data: &'a [u8]) -> Self {
        BitReader { data, pos: 0 }
    }

    fn bit(&self, pos: usize) -> Option<bool> {
        let byte = *self.data.get(pos / 8)?;
        Some(byte & (0x80 >> (pos % 8)) != 0)
    }

    /// A run of one bits ended by a zero: its length (`readUnary`); `None`
    /// when the input ends first.
    fn read_unary(&mut self) -> Option<u64> {
        let mut count = 0u64;
        loop {
            // Whole bytes of ones at once.
            if self.pos.is_multiple_of(8) && self.data.get(self.pos / 8) == Some(&0xff) {
                count += 8;
                self.pos += 8;
                continue;
            }
            let b = self.bit(self.pos)?;
            self.pos += 1;
            if !b {
                return Some(count);
            }
            count += 1;
        }
    }

    /// `n` bits as a number (`readNBits`, `n` ≤ 64).
    fn read_bits(&mut self, n: u32) -> Option<u64> {
        if self.pos + n as usize > self.data.len() * 8 {
            return None;
        }
        let mut v = 0u64;
        for _ in 0..n {
            v = (v << 1) | u64::from(self.bit(self.pos)?);
            self.pos += 1;
        }
        Some(v)
    }

    /// One coded value: the quotient in unary, then B remainder bits
    /// (`readFullUint64`).
    fn read_value(&mut self) -> Option<u64> {
        let q = self.read_unary()?;
        let r = self.read_bits(u32::from(B))?;
        Some(q.wrapping_shl(u32::from(B)).wrapping_add(r))
    }
}

/// Writes bits most significant first, the last byte padded with zeros
/// (dcrd `bitWriter`).
#[derive(Default)]
struct BitWriter {
    bytes: Vec<u8>,
    used: u32,
}

impl BitWriter {
    fn push_bit(&mut self, one: bool) {
        if self.used.is_multiple_of(8) {
            self.bytes.push(0);
        }
        if one {
            if let Some(last) = self.bytes.last_mut() {
                *last |= 0x80 >> (self.used % 8);
            }
        }
        self.used += 1;
    }

    fn push_bits(&mut self, v: u64, n: u32) {
        for i in (0..n).rev() {
            self.push_bit(v >> i & 1 == 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn k(b: u8) -> [u8; KEY_SIZE] {
        [b; KEY_SIZE]
    }

    #[test]
    fn empty_filters() {
        let f = Filter::from_bytes(&[]).unwrap();
        assert_eq!(f.n(), 0);
        assert_eq!(f.hash(), Hash::ZERO);
        assert!(!f.matches(&k(1), b"x"));
        assert!(!f.matches_any(&k(1), &[b"x"]));
        assert!(build::<&[u8]>(&k(1), &[]).is_empty());
        assert!(build(&k(1), &[b"", b""]).is_empty());
        // A non-canonical count is refused, as the reference's varint.
        assert_eq!(
            Filter::from_bytes(&[0xfd, 0x01, 0x00]),
            Err(FilterDecodeError)
        );
        assert_eq!(Filter::from_bytes(&[0xfd]), Err(FilterDecodeError));
    }

    #[test]
    fn members_match_and_strangers_mostly_do_not() {
        let items: Vec<Vec<u8>> = (0..500u32).map(|i| i.to_le_bytes().to_vec()).collect();
        let data = build(&k(7), &items);
        let f = Filter::from_bytes(&data).unwrap();
        assert_eq!(f.n(), 500);
        for it in &items {
            assert!(f.matches(&k(7), it));
            assert!(f.matches_any(&k(7), &[b"nope".as_slice(), it]));
        }
        let strangers = (1000..6_000u32)
            .filter(|i| f.matches(&k(7), &i.to_le_bytes()))
            .count();
        // 5,000 tries at 1/784931 each: a handful at most.
        assert!(strangers < 5, "{strangers}");
        // Another key is another set.
        assert!(items.iter().filter(|it| f.matches(&k(8), it)).count() < 3);
    }

    #[test]
    fn duplicates_and_empty_items_are_dropped() {
        let a = build(&k(1), &[b"a".as_slice(), b"b", b"a", b""]);
        let b = build(&k(1), &[b"b".as_slice(), b"a"]);
        assert_eq!(a, b);
        assert_eq!(Filter::from_bytes(&a).unwrap().n(), 2);
    }

    proptest! {
        #[test]
        fn built_filters_contain_their_items(
            items in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 1..40), 1..60),
            key in any::<[u8; 16]>(),
        ) {
            let data = build(&key, &items);
            let f = Filter::from_bytes(&data).unwrap();
            for it in &items {
                prop_assert!(f.matches(&key, it));
            }
            prop_assert!(f.matches_any(&key, &items));
        }

        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..300)) {
            if let Ok(f) = Filter::from_bytes(&data) {
                let _ = f.matches(&k(3), b"abc");
                let _ = f.matches_any(&k(3), &[b"abc".as_slice(), b"def"]);
            }
        }
    }
}

/// The crate's error reads as one sentence with no source (docs/ERRORS.md).
#[cfg(test)]
mod reads_once {
    #[test]
    fn the_decode_error_reads_once() {
        assert_eq!(dcr_wire::Report(&super::FilterDecodeError).fault(), None);
    }
}
