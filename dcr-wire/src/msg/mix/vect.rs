//! DC-net vectors: the 20-byte mixed messages exchanged by `mixdcnet`
//! (a matrix, one vector per slot) and `mixsecrets` (a single vector).
//!
//! Both are kept as one contiguous slice of the input, so decoding a
//! multi-megabyte DC-net copies nothing.

#[allow(unused_imports)]
use crate::prelude::*;
use alloc::borrow::Cow;

use bytes::BufMut;

use super::{invalid, MAX_MIX_MCOUNT, MIX_MSG_SIZE};
use crate::error::Error;
use crate::primitives::{put_var_int, take, var_int, var_int_size, PResult};

/// One 20-byte mixed message.
pub type MixMsg = [u8; MIX_MSG_SIZE];

fn chunks(data: &[u8]) -> impl ExactSizeIterator<Item = &MixMsg> + '_ {
    data.as_chunks::<MIX_MSG_SIZE>().0.iter()
}

/// Reads the declared message size, which must be [`MIX_MSG_SIZE`].
fn check_dims(dims: &[u64], msize: u64) -> Result<(), Error> {
    if dims.iter().any(|&d| d > MAX_MIX_MCOUNT) {
        return Err(invalid(
            "DC-net vector dimensions exceed the maximum message count",
        ));
    }
    if msize != MIX_MSG_SIZE as u64 {
        return Err(invalid("mixed message length must be 20"));
    }
    Ok(())
}

/// A vector of mixed messages.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MixVect<'a> {
    data: Cow<'a, [u8]>,
}

impl<'a> MixVect<'a> {
    /// A vector holding `msgs`.
    pub fn new(msgs: &[MixMsg]) -> MixVect<'static> {
        MixVect {
            data: Cow::Owned(msgs.concat()),
        }
    }

    /// How many messages it holds.
    pub fn len(&self) -> usize {
        self.data.len() / MIX_MSG_SIZE
    }

    /// True when it holds no message.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The messages in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &MixMsg> + '_ {
        chunks(&self.data)
    }

    /// Wire form: count, then (if not empty) the message size and the
    /// messages. A count over 1024 or a size other than 20 is ErrInvalidMsg.
    pub(crate) fn parse(i: &'a [u8]) -> PResult<'a, MixVect<'a>> {
        let (i, n) = var_int(i)?;
        if n == 0 {
            return Ok((i, MixVect::default()));
        }
        let (i, msize) = var_int(i)?;
        check_dims(&[n], msize)?;
        let (i, data) = take(i, n as usize * MIX_MSG_SIZE)?;
        Ok((
            i,
            MixVect {
                data: Cow::Borrowed(data),
            },
        ))
    }

    pub(crate) fn check(&self) -> Result<(), Error> {
        if self.len() as u64 > MAX_MIX_MCOUNT {
            return Err(invalid("too many mixed messages in a DC-net vector"));
        }
        Ok(())
    }

    pub(crate) fn write<B: BufMut + ?Sized>(&self, buf: &mut B) {
        put_var_int(buf, self.len() as u64);
        if !self.is_empty() {
            put_var_int(buf, MIX_MSG_SIZE as u64);
            buf.put_slice(&self.data);
        }
    }

    pub(crate) fn size(&self) -> usize {
        var_int_size(self.len() as u64)
            + if self.is_empty() {
                0
            } else {
                var_int_size(MIX_MSG_SIZE as u64) + self.data.len()
            }
    }

    /// Copies the messages so the vector no longer borrows.
    pub fn into_owned(self) -> MixVect<'static> {
        MixVect {
            data: Cow::Owned(self.data.into_owned()),
        }
    }
}

impl core::fmt::Display for MixVect<'_> {
    /// `[0a1b... 2c3d...]`: the messages as hex, space-separated, in
    /// brackets, as the reference's `MixVect.String` prints them.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("[")?;
        for (i, msg) in self.iter().enumerate() {
            if i != 0 {
                f.write_str(" ")?;
            }
            for b in msg {
                write!(f, "{b:02x}")?;
            }
        }
        f.write_str("]")
    }
}

/// A matrix of mixed messages: `rows` vectors of `cols` messages each.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MixVects<'a> {
    rows: usize,
    cols: usize,
    data: Cow<'a, [u8]>,
}

impl<'a> MixVects<'a> {
    /// A matrix from its rows; `None` when they differ in length.
    pub fn new(rows: &[Vec<MixMsg>]) -> Option<MixVects<'static>> {
        let cols = rows.first().map_or(0, Vec::len);
        if rows.iter().any(|r| r.len() != cols) {
            return None;
        }
        Some(MixVects {
            rows: rows.len(),
            cols,
            data: Cow::Owned(rows.iter().flat_map(|r| r.concat()).collect()),
        })
    }

    /// Number of vectors.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Messages per vector.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Vector `r` as its messages, `None` past the end.
    pub fn row(&self, r: usize) -> Option<impl ExactSizeIterator<Item = &MixMsg> + '_> {
        if r >= self.rows {
            return None;
        }
        let width = self.cols * MIX_MSG_SIZE;
        Some(chunks(&self.data[r * width..(r + 1) * width]))
    }

    /// Wire form: row count, then (if not zero) the row length, the message
    /// size and the messages. Dimensions over 1024 or a size other than 20
    /// are ErrInvalidMsg.
    pub(crate) fn parse(i: &'a [u8]) -> PResult<'a, MixVects<'a>> {
        let (i, rows) = var_int(i)?;
        if rows == 0 {
            return Ok((i, MixVects::default()));
        }
        let (i, cols) = var_int(i)?;
        let (i, msize) = var_int(i)?;
        check_dims(&[rows, cols], msize)?;
        // Both at most 1024: the product is at most 20 MiB and fits.
        let (rows, cols) = (rows as usize, cols as usize);
        let (i, data) = take(i, rows * cols * MIX_MSG_SIZE)?;
        Ok((
            i,
            MixVects {
                rows,
                cols,
                data: Cow::Borrowed(data),
            },
        ))
    }

    /// Encoding needs at least one vector, at most 1024 of at most 1024
    /// messages each.
    pub(crate) fn check(&self) -> Result<(), Error> {
        if self.rows == 0 {
            return Err(invalid("too few mixed messages"));
        }
        if self.rows as u64 > MAX_MIX_MCOUNT || self.cols as u64 > MAX_MIX_MCOUNT {
            return Err(invalid("too many mixed messages"));
        }
        // Kept by construction: the fields are private, and `new` and
        // `parse` both size the data from the dimensions.
        debug_assert_eq!(self.data.len(), self.rows * self.cols * MIX_MSG_SIZE);
        Ok(())
    }

    pub(crate) fn write<B: BufMut + ?Sized>(&self, buf: &mut B) {
        put_var_int(buf, self.rows as u64);
        if self.rows > 0 {
            put_var_int(buf, self.cols as u64);
            put_var_int(buf, MIX_MSG_SIZE as u64);
            buf.put_slice(&self.data);
        }
    }

    pub(crate) fn size(&self) -> usize {
        var_int_size(self.rows as u64)
            + if self.rows == 0 {
                0
            } else {
                var_int_size(self.cols as u64) + var_int_size(MIX_MSG_SIZE as u64) + self.data.len()
            }
    }

    /// Copies the messages so the matrix no longer borrows.
    pub fn into_owned(self) -> MixVects<'static> {
        MixVects {
            rows: self.rows,
            cols: self.cols,
            data: Cow::Owned(self.data.into_owned()),
        }
    }
}

/// A vector as the reference shows it: its messages, each as hex.
#[cfg(feature = "serde")]
impl serde::Serialize for MixVect<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use crate::serde_impls::hex::Hex;
        s.collect_seq(self.iter().map(|m| Hex(m)))
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for MixVect<'_> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use crate::serde_impls::hex::HexArray;
        let msgs = Vec::<HexArray<MIX_MSG_SIZE>>::deserialize(d)?;
        let msgs: Vec<MixMsg> = msgs.into_iter().map(|m| m.0).collect();
        Ok(MixVect::new(&msgs))
    }
}

/// A matrix as the reference shows it: its vectors, each a list of hex
/// messages.
#[cfg(feature = "serde")]
impl serde::Serialize for MixVects<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use crate::serde_impls::hex::Hex;
        struct Row<'r>(&'r [u8]);
        impl serde::Serialize for Row<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_seq(chunks(self.0).map(|m| Hex(m)))
            }
        }
        let width = self.cols * MIX_MSG_SIZE;
        s.collect_seq((0..self.rows).map(|r| Row(&self.data[r * width..(r + 1) * width])))
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for MixVects<'_> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use crate::serde_impls::hex::HexArray;
        let rows = Vec::<Vec<HexArray<MIX_MSG_SIZE>>>::deserialize(d)?;
        let rows: Vec<Vec<MixMsg>> = rows
            .into_iter()
            .map(|r| r.into_iter().map(|m| m.0).collect())
            .collect();
        MixVects::new(&rows)
            .ok_or_else(|| serde::de::Error::custom("the vectors of a DC-net differ in length"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn display_as_the_reference() {
        assert_eq!(MixVect::default().to_string(), "[]");
        let mut a = [0u8; MIX_MSG_SIZE];
        a[0] = 0xab;
        let b = [0xffu8; MIX_MSG_SIZE];
        let text = MixVect::new(&[a, b]).to_string();
        assert_eq!(text, format!("[ab{} {}]", "00".repeat(19), "ff".repeat(20)));
    }

    #[test]
    fn vect_round_trip_and_limits() {
        let v = MixVect::new(&[[1; 20], [2; 20]]);
        let mut buf = Vec::new();
        v.write(&mut buf);
        assert_eq!(buf.len(), v.size());
        assert_eq!(&buf[..2], &[2, 20]);
        let (rest, back) = MixVect::parse(&buf).unwrap();
        assert!(rest.is_empty());
        assert_eq!(back, v);
        assert_eq!(back.iter().nth(1), Some(&[2; 20]));
        // Wrong message size, too many messages.
        let e = MixVect::parse(&[1, 21]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidMsg);
        let e = MixVect::parse(&[0xfd, 0x01, 0x04, 20]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidMsg);
    }

    #[test]
    fn matrix_round_trip_and_checks() {
        let m = MixVects::new(&[vec![[1; 20], [2; 20]], vec![[3; 20], [4; 20]]]).unwrap();
        let mut buf = Vec::new();
        m.write(&mut buf);
        assert_eq!(buf.len(), m.size());
        let (_, back) = MixVects::parse(&buf).unwrap();
        assert_eq!(back, m);
        assert_eq!(back.row(1).unwrap().next(), Some(&[3; 20]));
        assert!(back.row(2).is_none());
        assert!(MixVects::new(&[vec![[1; 20]], vec![]]).is_none());
        assert_eq!(
            MixVects::default().check().unwrap_err().kind(),
            ErrorKind::InvalidMsg
        );
        // Rows with no messages are legal on the wire.
        let (_, empty_rows) = MixVects::parse(&[3, 0, 20]).unwrap();
        assert_eq!((empty_rows.rows(), empty_rows.cols()), (3, 0));
        let e = MixVects::parse(&[1, 0xfd, 0x01, 0x04, 20]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidMsg);
    }
}
