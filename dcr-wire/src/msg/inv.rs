//! Inventory vectors and the three messages made of them: `inv`
//! (announcements), `getdata` (requests) and `notfound` (answers to
//! requests that cannot be served).

#[allow(unused_imports)]
use crate::prelude::*;
use core::fmt;

use bytes::BufMut;

use super::{require_pver, Command, Payload};
use crate::error::{Error, ErrorKind};
use crate::hash::{Hash, HASH_SIZE};
use crate::primitives::{check_count, count, hash, put_var_int, u32_le, var_int_size, PResult};

/// Most inventory vectors one message may carry.
pub const MAX_INV_PER_MSG: u64 = 50_000;
/// Serialized size of one inventory vector: type and hash.
pub const INV_VECT_SIZE: usize = 4 + HASH_SIZE;

/// What an inventory vector refers to. Values the protocol does not define
/// are kept as they are (the reference accepts any 32-bit type).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct InvType(pub u32);

impl InvType {
    /// No item (the reference's `InvTypeError`).
    pub const ERROR: InvType = InvType(0);
    /// A transaction.
    pub const TX: InvType = InvType(1);
    /// A block.
    pub const BLOCK: InvType = InvType(2);
    /// A filtered block.
    pub const FILTERED_BLOCK: InvType = InvType(3);
    /// A mixing message.
    pub const MIX: InvType = InvType(4);
}

impl fmt::Display for InvType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            InvType::ERROR => f.write_str("ERROR"),
            InvType::TX => f.write_str("MSG_TX"),
            InvType::BLOCK => f.write_str("MSG_BLOCK"),
            InvType::FILTERED_BLOCK => f.write_str("MSG_FILTERED_BLOCK"),
            InvType::MIX => f.write_str("MSG_MIX"),
            InvType(n) => write!(f, "Unknown InvType ({n})"),
        }
    }
}

/// One inventory item: its kind and hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct InvVect {
    /// What kind of item.
    #[cfg_attr(feature = "serde", serde(rename = "Type"))]
    pub inv_type: InvType,
    /// The item's hash.
    #[cfg_attr(feature = "serde", serde(rename = "Hash"))]
    pub hash: Hash,
}

impl InvVect {
    fn parse(i: &[u8]) -> PResult<'_, InvVect> {
        let (i, t) = u32_le(i)?;
        let (i, hash) = hash(i)?;
        Ok((
            i,
            InvVect {
                inv_type: InvType(t),
                hash,
            },
        ))
    }

    /// The vector's wire bytes: type, then hash.
    #[inline]
    fn to_bytes(self) -> [u8; INV_VECT_SIZE] {
        let mut b = [0u8; INV_VECT_SIZE];
        b[..4].copy_from_slice(&self.inv_type.0.to_le_bytes());
        b[4..].copy_from_slice(&self.hash.0);
        b
    }

    fn write<B: BufMut + ?Sized>(&self, buf: &mut B) {
        buf.put_slice(&self.to_bytes());
    }

    /// The vector of [`INV_VECT_SIZE`] bytes `b` holds.
    #[inline]
    fn from_bytes(b: &[u8; INV_VECT_SIZE]) -> InvVect {
        let mut t = [0; 4];
        let mut h = [0; HASH_SIZE];
        t.copy_from_slice(&b[..4]);
        h.copy_from_slice(&b[4..]);
        InvVect {
            inv_type: InvType(u32::from_le_bytes(t)),
            hash: Hash(h),
        }
    }
}

/// The inventory vectors of an `inv`, `getdata` or `notfound` payload,
/// read in place: a zero-copy view that allocates nothing. Checked as
/// those messages' decoders check their lists (they collect this view):
/// a var-int count of at most [`MAX_INV_PER_MSG`] (ErrTooManyVectors, as
/// dcrd's `readInvList`) and that many vectors of [`INV_VECT_SIZE`]
/// bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct InvList<'a> {
    /// The vectors' bytes, [`INV_VECT_SIZE`] each.
    bytes: &'a [u8],
}

impl<'a> InvList<'a> {
    /// Reads a counted list of vectors from the front of `input`.
    pub fn parse(input: &'a [u8]) -> PResult<'a, InvList<'a>> {
        let (rest, n) = count(
            input,
            MAX_INV_PER_MSG,
            ErrorKind::TooManyVectors,
            "inventory vectors",
        )?;
        // At most 50,000 vectors: no overflow.
        let size = n * INV_VECT_SIZE;
        let Some((bytes, rest)) = rest.split_at_checked(size) else {
            // Short: the error of the first vector missing, as reading
            // vector by vector gives it.
            let mut r = rest;
            for _ in 0..n {
                r = InvVect::parse(r)?.0;
            }
            return Err(Error::eof(size - r.len()));
        };
        Ok((rest, InvList { bytes }))
    }

    /// Number of vectors.
    pub fn len(&self) -> usize {
        self.bytes.len() / INV_VECT_SIZE
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The vector at `index`.
    pub fn get(&self, index: usize) -> Option<InvVect> {
        let start = index.checked_mul(INV_VECT_SIZE)?;
        let b = self.bytes.get(start..start.checked_add(INV_VECT_SIZE)?)?;
        Some(InvVect::from_bytes(b.try_into().ok()?))
    }

    /// The vectors, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = InvVect> + 'a {
        let (chunks, _) = self.bytes.as_chunks::<INV_VECT_SIZE>();
        chunks.iter().map(InvVect::from_bytes)
    }

    /// The vectors, copied out.
    pub fn to_vec(&self) -> Vec<InvVect> {
        self.iter().collect()
    }

    /// The bytes the vectors were read from (without the count).
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }
}

/// Declares a message that is a list of inventory vectors.
macro_rules! inv_list_message {
    ($(#[$doc:meta])* $name:ident = $cmd:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Default)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
        #[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
        pub struct $name {
            /// The inventory vectors.
            #[cfg_attr(feature = "serde", serde(rename = "InvList"))]
            pub inv_list: Vec<InvVect>,
        }

        impl<'a> Payload<'a> for $name {
            const COMMAND: Command = Command::$cmd;
            type Owned = $name;

            fn decode(input: &'a [u8], pver: u32) -> PResult<'a, Self> {
                require_pver(Self::COMMAND, pver)?;
                let (i, list) = InvList::parse(input)?;
                Ok((i, $name { inv_list: list.to_vec() }))
            }

            fn encode<B: BufMut>(&self, buf: &mut B, pver: u32) -> Result<(), Error> {
                require_pver(Self::COMMAND, pver)?;
                check_count(
                    self.inv_list.len() as u64,
                    MAX_INV_PER_MSG,
                    ErrorKind::TooManyVectors,
                    "inventory vectors",
                )?;
                put_var_int(buf, self.inv_list.len() as u64);
                for iv in &self.inv_list {
                    iv.write(buf);
                }
                Ok(())
            }

            fn serialized_size(&self, _pver: u32) -> usize {
                var_int_size(self.inv_list.len() as u64) + self.inv_list.len() * INV_VECT_SIZE
            }

            fn max_payload_length(_pver: u32) -> u32 {
                (var_int_size(MAX_INV_PER_MSG) + MAX_INV_PER_MSG as usize * INV_VECT_SIZE) as u32
            }

            fn into_owned(self) -> Self::Owned {
                self
            }
        }
    };
}

inv_list_message!(
    /// `inv`: announces transactions, blocks or mixing messages the sender has.
    Inv = Inv
);
inv_list_message!(
    /// `getdata`: requests the listed items.
    GetData = GetData
);
inv_list_message!(
    /// `notfound`: the listed requested items cannot be served.
    NotFound = NotFound
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::primitives::list;
    use proptest::prelude::*;

    fn arb_inv() -> impl Strategy<Value = Vec<InvVect>> {
        proptest::collection::vec(
            (any::<u32>(), any::<[u8; 32]>()).prop_map(|(t, h)| InvVect {
                inv_type: InvType(t),
                hash: Hash(h),
            }),
            0..50,
        )
    }

    fn round_trip<'a, M: Payload<'a> + Eq>(m: &M, buf: &'a mut Vec<u8>) -> M {
        m.encode(buf, 12).unwrap();
        assert_eq!(buf.len(), m.serialized_size(12));
        let (rest, back) = M::decode(buf, 12).unwrap();
        assert!(rest.is_empty());
        back
    }

    proptest! {
        #[test]
        fn inv_messages_round_trip(inv_list in arb_inv()) {
            let m = Inv { inv_list: inv_list.clone() };
            prop_assert_eq!(round_trip(&m, &mut Vec::new()), m);
            let m = GetData { inv_list: inv_list.clone() };
            prop_assert_eq!(round_trip(&m, &mut Vec::new()), m);
            let m = NotFound { inv_list };
            prop_assert_eq!(round_trip(&m, &mut Vec::new()), m);
        }
    }

    /// The item-by-item decode the fixed-size pass must agree with.
    fn decode_item_by_item(input: &[u8]) -> PResult<'_, Vec<InvVect>> {
        list(
            input,
            MAX_INV_PER_MSG,
            ErrorKind::TooManyVectors,
            "inventory vectors",
            INV_VECT_SIZE,
            InvVect::parse,
        )
    }

    proptest! {
        #[test]
        fn the_fixed_size_pass_agrees_with_item_by_item(
            inv_list in arb_inv(),
            cut in 0usize..2_000,
            extra in proptest::collection::vec(any::<u8>(), 0..40),
        ) {
            let mut b = Vec::new();
            Inv { inv_list }.encode(&mut b, 12).unwrap();
            b.extend_from_slice(&extra);
            // Whole, with trailing bytes, and truncated anywhere.
            let b = &b[..b.len().saturating_sub(cut % (b.len() + 1))];
            let fast = Inv::decode(b, 12).map(|(rest, m)| (rest, m.inv_list));
            let slow = decode_item_by_item(b);
            prop_assert_eq!(fast.is_ok(), slow.is_ok());
            match (fast, slow) {
                (Ok(f), Ok(s)) => prop_assert_eq!(f, s),
                (Err(f), Err(s)) => prop_assert_eq!(format!("{f:?}"), format!("{s:?}")),
                _ => unreachable!(),
            }
        }
    }

    #[test]
    fn too_many_vectors() {
        let mut b = vec![0xfd];
        b.extend_from_slice(&50_001u16.to_le_bytes());
        let e = Inv::decode(&b, 12).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TooManyVectors);
        let m = GetData {
            inv_list: vec![InvVect::default(); 50_001],
        };
        let mut buf = Vec::new();
        assert_eq!(
            m.encode(&mut buf, 12).unwrap_err().kind(),
            ErrorKind::TooManyVectors
        );
        assert!(buf.is_empty());
        assert_eq!(
            <NotFound as Payload>::max_payload_length(12),
            3 + 50_000 * 36
        );
    }
}
