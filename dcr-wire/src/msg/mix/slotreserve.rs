//! `mixslotres`: a peer's slot reservation, a matrix of field elements
//! (one row per mixed message, one column per peer) whose sums let every
//! peer find a unique slot without learning whose it is.

#[allow(unused_imports)]
use crate::prelude::*;
use alloc::borrow::Cow;

use bytes::BufMut;

use super::{
    check_seen, hashes_size, invalid, mix_payload, put_hashes, seen_hashes, seen_view,
    SessionHeader, MAX_MIX_FIELD_VAL_LEN, MAX_MIX_MCOUNT, MAX_MIX_PEERS, SESSION_HEADER_SIZE,
};
use crate::error::Error;
use crate::hash::Hash;
use crate::msg::list::ListView;
use crate::primitives::{
    bounded_capacity, put_var_bytes, put_var_int, var_bytes, var_bytes_size, var_int, var_int_size,
    PResult,
};

/// `mixslotres`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct MixSlotReserve<'a> {
    /// Signature, identity, session and run.
    #[cfg_attr(feature = "serde", serde(flatten))]
    pub header: SessionHeader<'a>,
    /// `mcount` rows of `kpcount` field elements (at most 32 bytes each),
    /// borrowed when decoded.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "DCMix", with = "crate::serde_impls::hex::matrix")
    )]
    pub dc_mix: Vec<Vec<Cow<'a, [u8]>>>,
    /// Hashes of the ciphertext messages this follows.
    #[cfg_attr(feature = "serde", serde(rename = "SeenCiphertexts"))]
    pub seen_ciphertexts: Vec<Hash>,
}

#[cfg(feature = "serde")]
super::session_message_serde!(MixSlotReserve {
    dc_mix: Vec<Vec<Cow<'static, [u8]>>> = "DCMix", with "crate::serde_impls::hex::matrix";
    seen_ciphertexts: Vec<crate::Hash> = "SeenCiphertexts";
});

/// Checks the matrix dimensions as the reference does: at least one row,
/// at most [`MAX_MIX_MCOUNT`]; at least one column, at most [`MAX_MIX_PEERS`].
fn check_dims(mcount: u64, kpcount: u64) -> Result<(), Error> {
    check_mcount(mcount)?;
    check_kpcount(kpcount)
}

/// The rows, checked on their own: decoding refuses them before it reads
/// the column count.
fn check_mcount(mcount: u64) -> Result<(), Error> {
    if mcount == 0 {
        return Err(invalid("too few mixed messages"));
    }
    if mcount > MAX_MIX_MCOUNT {
        return Err(invalid("too many mixed messages"));
    }
    Ok(())
}

fn check_kpcount(kpcount: u64) -> Result<(), Error> {
    if kpcount == 0 {
        return Err(invalid("too few mixing peers"));
    }
    if kpcount > MAX_MIX_PEERS {
        return Err(invalid("too many mixing peers"));
    }
    Ok(())
}

/// `mixslotres` read in place: the zero-copy form of [`MixSlotReserve`],
/// with its checks and errors. One to [`MAX_MIX_MCOUNT`] rows of one to
/// [`MAX_MIX_PEERS`] elements (ErrInvalidMsg), each element of at most
/// [`MAX_MIX_FIELD_VAL_LEN`] bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MixSlotReserveView<'a> {
    /// Signature, identity, session and run.
    pub header: SessionHeader<'a>,
    /// The matrix's elements row after row, [`MixSlotReserveView::kpcount`]
    /// to a row; [`MixSlotReserveView::rows`] reads them by row.
    pub dc_mix: ListView<'a, &'a [u8]>,
    /// Elements per row: the number of peers (at least one).
    pub kpcount: usize,
    /// Hashes of the ciphertext messages this follows.
    pub seen_ciphertexts: ListView<'a, Hash>,
}

impl<'a> MixSlotReserveView<'a> {
    /// Reads the fields from the front of `i` (no version gate).
    pub fn parse(i: &'a [u8]) -> PResult<'a, Self> {
        let (i, header) = SessionHeader::parse(i)?;
        let (i, mcount) = var_int(i)?;
        check_mcount(mcount)?;
        let (i, kpcount) = var_int(i)?;
        check_kpcount(kpcount)?;
        // Both checked: at most 1024 × 512 elements.
        let (mcount, kpcount) = (mcount as usize, kpcount as usize);
        let (i, dc_mix) = ListView::parse_n(i, mcount * kpcount, |i| {
            var_bytes(i, MAX_MIX_FIELD_VAL_LEN, "slot reservation field value")
        })?;
        let (i, seen_ciphertexts) = seen_view(i)?;
        Ok((
            i,
            MixSlotReserveView {
                header,
                dc_mix,
                kpcount,
                seen_ciphertexts,
            },
        ))
    }

    /// Rows: the number of mixed messages.
    pub fn mcount(&self) -> usize {
        self.dc_mix.len() / self.kpcount.max(1)
    }

    /// The rows in order, each a view of its
    /// [`MixSlotReserveView::kpcount`] elements. Walking them all reads
    /// each element once more (linear in the matrix, never quadratic).
    pub fn rows(&self) -> impl ExactSizeIterator<Item = ListView<'a, &'a [u8]>> + 'a {
        let mut elements = self.dc_mix.iter();
        let kpcount = self.kpcount;
        (0..self.mcount()).map(move |_| elements.next_view(kpcount))
    }
}

impl<'a> From<MixSlotReserveView<'a>> for MixSlotReserve<'a> {
    fn from(v: MixSlotReserveView<'a>) -> Self {
        let dc_mix = v
            .rows()
            .map(|row| row.iter().map(Cow::Borrowed).collect())
            .collect();
        MixSlotReserve {
            header: v.header,
            dc_mix,
            seen_ciphertexts: v.seen_ciphertexts.to_vec(),
        }
    }
}

impl<'a> MixSlotReserve<'a> {
    fn parse(i: &'a [u8]) -> PResult<'a, Self> {
        let (i, header) = SessionHeader::parse(i)?;
        let (i, mcount) = var_int(i)?;
        check_mcount(mcount)?;
        let (mut i, kpcount) = var_int(i)?;
        check_kpcount(kpcount)?;
        let (mcount, kpcount) = (mcount as usize, kpcount as usize);
        // Every element takes at least its one-byte length.
        let mut dc_mix = Vec::with_capacity(bounded_capacity(mcount, i.len(), kpcount));
        for _ in 0..mcount {
            let mut row = Vec::with_capacity(bounded_capacity(kpcount, i.len(), 1));
            for _ in 0..kpcount {
                let (r, v) = var_bytes(i, MAX_MIX_FIELD_VAL_LEN, "slot reservation field value")?;
                row.push(Cow::Borrowed(v));
                i = r;
            }
            dc_mix.push(row);
        }
        let (i, seen_ciphertexts) = seen_hashes(i)?;
        Ok((
            i,
            MixSlotReserve {
                header,
                dc_mix,
                seen_ciphertexts,
            },
        ))
    }

    fn check(&self) -> Result<(), Error> {
        let kpcount = self.dc_mix.first().map_or(0, Vec::len);
        check_dims(self.dc_mix.len() as u64, kpcount as u64)?;
        for row in &self.dc_mix {
            if row.len() != kpcount {
                return Err(invalid("slot reservation rows differ in length"));
            }
            if row.iter().any(|v| v.len() as u64 > MAX_MIX_FIELD_VAL_LEN) {
                return Err(invalid("value longer than a field element"));
            }
        }
        check_seen(&self.seen_ciphertexts)
    }

    fn write<B: BufMut + ?Sized>(&self, buf: &mut B) {
        self.header.write(buf);
        put_var_int(buf, self.dc_mix.len() as u64);
        put_var_int(buf, self.dc_mix.first().map_or(0, Vec::len) as u64);
        for v in self.dc_mix.iter().flatten() {
            put_var_bytes(buf, v);
        }
        put_hashes(buf, &self.seen_ciphertexts);
    }

    fn size(&self) -> usize {
        SESSION_HEADER_SIZE
            + var_int_size(self.dc_mix.len() as u64)
            + var_int_size(self.dc_mix.first().map_or(0, Vec::len) as u64)
            + self
                .dc_mix
                .iter()
                .flatten()
                .map(|v| var_bytes_size(v))
                .sum::<usize>()
            + hashes_size(&self.seen_ciphertexts)
    }

    fn into_owned(self) -> MixSlotReserve<'static> {
        MixSlotReserve {
            header: self.header.into_owned(),
            dc_mix: self
                .dc_mix
                .into_iter()
                .map(|row| {
                    row.into_iter()
                        .map(|v| Cow::Owned(v.into_owned()))
                        .collect()
                })
                .collect(),
            seen_ciphertexts: self.seen_ciphertexts,
        }
    }
}

mix_payload!(MixSlotReserve, MixSlotReserve, 17_318_030);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::msg::Payload;

    #[test]
    fn dimensions_checked_both_ways() {
        let mut m = MixSlotReserve::default();
        let mut buf = Vec::new();
        assert_eq!(
            m.encode(&mut buf, 10).unwrap_err().kind(),
            ErrorKind::InvalidMsg
        );
        m.dc_mix = vec![vec![Cow::Borrowed(&[1u8][..])], vec![]];
        assert_eq!(
            m.encode(&mut buf, 10).unwrap_err().kind(),
            ErrorKind::InvalidMsg
        );
        m.dc_mix[1].push(Cow::Borrowed(&[2u8, 3][..]));
        m.encode(&mut buf, 10).unwrap();
        assert_eq!(buf.len(), m.serialized_size(10));
        let back = MixSlotReserve::decode(&buf, 10).unwrap().1;
        assert_eq!(back, m);
        // A zero column count on the wire.
        let mut bad = buf[..SESSION_HEADER_SIZE].to_vec();
        bad.extend_from_slice(&[1, 0, 0]);
        let e = MixSlotReserve::decode(&bad, 10).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidMsg);
    }

    #[test]
    fn the_view_reads_the_matrix_row_by_row() {
        let cell = |r: u8, c: u8| vec![r; usize::from(c) + 1];
        let cells: Vec<Vec<Vec<u8>>> = (0..3)
            .map(|r| (0..4).map(|c| cell(r, c)).collect())
            .collect();
        let m = MixSlotReserve {
            dc_mix: cells
                .iter()
                .map(|row| row.iter().map(|v| Cow::Borrowed(&v[..])).collect())
                .collect(),
            ..MixSlotReserve::default()
        };
        let mut buf = Vec::new();
        m.encode(&mut buf, 10).unwrap();
        let (rest, v) = MixSlotReserveView::parse(&buf).unwrap();
        assert!(rest.is_empty());
        assert_eq!((v.mcount(), v.kpcount, v.dc_mix.len()), (3, 4, 12));
        let rows: Vec<Vec<&[u8]>> = v.rows().map(|row| row.iter().collect()).collect();
        assert_eq!(rows, cells);
        assert_eq!(v.rows().len(), 3);
        assert_eq!(MixSlotReserve::from(v), m);
    }
}
