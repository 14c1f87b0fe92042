//! 32-byte hashes and BLAKE-256, the hash Decred uses for block hashes,
//! transaction hashes and the frame checksum (computed by the
//! dcr-blake256 crate).

#[allow(unused_imports)]
use crate::prelude::*;
use core::fmt;
use core::str::FromStr;

use dcr_blake256::Blake256;

/// One message of a batch for [`blake256_many`]: `head` then `body`,
/// hashed as if contiguous (dcr-blake256's `Message`).
pub use dcr_blake256::Message as HashInput;

/// Size of a [`Hash`](struct@Hash) in bytes.
pub const HASH_SIZE: usize = 32;

/// A 32-byte hash, stored in wire order.
///
/// `Display`/`FromStr` use the reference's display order: the bytes reversed,
/// as lower-case hex (the form block explorers and dcrd print).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[repr(transparent)]
pub struct Hash(pub [u8; HASH_SIZE]);

impl Hash {
    /// The all-zero hash.
    pub const ZERO: Hash = Hash([0; HASH_SIZE]);

    /// Wire-order bytes.
    pub fn as_bytes(&self) -> &[u8; HASH_SIZE] {
        &self.0
    }
}

impl From<[u8; HASH_SIZE]> for Hash {
    fn from(b: [u8; HASH_SIZE]) -> Self {
        Hash(b)
    }
}

impl AsRef<[u8]> for Hash {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0.iter().rev() {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({self})")
    }
}

/// Why a display-order hash string could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a hash is 64 hex digits")]
pub struct ParseHashError;

impl FromStr for Hash {
    type Err = ParseHashError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.as_bytes();
        if s.len() != 2 * HASH_SIZE {
            return Err(ParseHashError);
        }
        let mut out = [0u8; HASH_SIZE];
        for (i, pair) in s.chunks_exact(2).enumerate() {
            let hi = hex_digit(pair[0]).ok_or(ParseHashError)?;
            let lo = hex_digit(pair[1]).ok_or(ParseHashError)?;
            out[HASH_SIZE - 1 - i] = (hi << 4) | lo;
        }
        Ok(Hash(out))
    }
}

fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// An incremental BLAKE-256 hasher, for hashing data that is not contiguous
/// (a transaction prefix with a rewritten version word, say) without copying.
#[derive(Clone, Default)]
pub struct Hasher(Blake256);

impl Hasher {
    /// A hasher with nothing written yet.
    #[inline]
    pub fn new() -> Self {
        Hasher(Blake256::new())
    }

    /// Appends `data` to what is hashed; returns `self` for chaining.
    #[inline]
    pub fn update(&mut self, data: &[u8]) -> &mut Self {
        self.0.update(data);
        self
    }

    /// The BLAKE-256 digest of everything written.
    #[inline]
    pub fn finish(self) -> Hash {
        Hash(self.0.finalize())
    }
}

/// BLAKE-256 of `data`.
#[inline]
pub fn blake256(data: &[u8]) -> Hash {
    Hash(Blake256::digest(data))
}

/// BLAKE-256 of many independent messages at once: `out[i]` receives the
/// hash of `inputs[i]` (only the first `min(inputs.len(), out.len())` are
/// hashed). The same digests as [`blake256`] one by one; where the CPU has
/// AVX2 (8 lanes) or AVX-512F (16 lanes), messages are hashed side by side
/// in the lanes of one vector, which is several times the throughput of one
/// stream, whose speed is bound by the latency of its G chain. Messages may
/// differ in length.
pub fn blake256_many(inputs: &[HashInput<'_>], out: &mut [Hash]) {
    dcr_blake256::digest_many(inputs, out);
}

/// The frame checksum: the first four bytes of BLAKE-256 of the payload.
#[inline]
pub fn checksum(payload: &[u8]) -> [u8; 4] {
    let h = blake256(payload);
    [h.0[0], h.0[1], h.0[2], h.0[3]]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blake256_known_vectors() {
        // The BLAKE-256 test vectors from the SHA-3 submission.
        assert_eq!(
            hex::encode(blake256(&[0u8]).0),
            "0ce8d4ef4dd7cd8d62dfded9d4edb0a774ae6a41929a74da23109e8f11139c87"
        );
        assert_eq!(
            hex::encode(blake256(&[0u8; 72]).0),
            "d419bad32d504fb7d44d460c42c5593fe544fa4c135dec31e21bd9abdcc22d41"
        );
    }

    #[test]
    fn empty_payload_checksum() {
        // Every empty message carries this checksum in the corpus frames.
        assert_eq!(checksum(&[]), [0x71, 0x6f, 0x6e, 0x86]);
    }

    #[test]
    fn display_is_reversed() {
        let mut b = [0u8; 32];
        b[0] = 0xab;
        b[31] = 0x01;
        let h = Hash(b);
        let s = h.to_string();
        assert!(s.starts_with("01") && s.ends_with("ab"));
        assert_eq!(s.parse::<Hash>(), Ok(h));
        assert_eq!("zz".parse::<Hash>(), Err(ParseHashError));
        assert_eq!("g".repeat(64).parse::<Hash>(), Err(ParseHashError));
    }
}
