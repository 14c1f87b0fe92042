//! The building blocks every message is made of: fixed-width integers,
//! var-ints, var-bytes, var-strings, hashes and counted lists, as `nom`
//! parsers that borrow from the input, and their writers.
//!
//! Every parser here reports a short input as [`Error::UnexpectedEof`] with
//! how many more bytes the field needed, and every count or length read from
//! the wire is checked against its limit *before* anything is allocated.

#[allow(unused_imports)]
use crate::prelude::*;
use bytes::BufMut;

use crate::error::{Error, ErrorKind};
use crate::hash::{Hash, HASH_SIZE};
use crate::protocol::MAX_MESSAGE_PAYLOAD;

/// The result of every parser in this crate: the rest of the input and the
/// value, or an [`Error`]. (The parsers are combinators in `nom`'s style,
/// each taking the input and returning what follows the value, without
/// depending on nom.)
pub type PResult<'a, T> = Result<(&'a [u8], T), Error>;

/// The largest number of bytes a var-int takes.
pub const MAX_VAR_INT_SIZE: usize = 9;

/// Takes `n` bytes.
#[inline]
pub fn take(input: &[u8], n: usize) -> PResult<'_, &[u8]> {
    if input.len() < n {
        return Err(Error::eof(n - input.len()));
    }
    let (head, rest) = input.split_at(n);
    Ok((rest, head))
}

/// Takes a fixed-size array by reference (no copy).
#[inline]
pub fn array_ref<const N: usize>(input: &[u8]) -> PResult<'_, &[u8; N]> {
    let (rest, head) = take(input, N)?;
    match head.try_into() {
        Ok(a) => Ok((rest, a)),
        // `take` returned exactly N bytes, so this arm is unreachable; it
        // still answers with an error rather than a panic.
        Err(_) => Err(Error::eof(N)),
    }
}

/// Takes a fixed-size array by value.
#[inline]
pub fn array<const N: usize>(input: &[u8]) -> PResult<'_, [u8; N]> {
    let (rest, a) = array_ref::<N>(input)?;
    Ok((rest, *a))
}

#[inline]
/// One byte.
pub fn u8(input: &[u8]) -> PResult<'_, u8> {
    match input.split_first() {
        Some((b, rest)) => Ok((rest, *b)),
        None => Err(Error::eof(1)),
    }
}

#[inline]
/// A little-endian `u16`.
pub fn u16_le(input: &[u8]) -> PResult<'_, u16> {
    let (rest, a) = array::<2>(input)?;
    Ok((rest, u16::from_le_bytes(a)))
}

#[inline]
/// A big-endian `u16` (the original address form's port).
pub fn u16_be(input: &[u8]) -> PResult<'_, u16> {
    let (rest, a) = array::<2>(input)?;
    Ok((rest, u16::from_be_bytes(a)))
}

#[inline]
/// A little-endian `u32`.
pub fn u32_le(input: &[u8]) -> PResult<'_, u32> {
    let (rest, a) = array::<4>(input)?;
    Ok((rest, u32::from_le_bytes(a)))
}

#[inline]
/// A little-endian `i32`.
pub fn i32_le(input: &[u8]) -> PResult<'_, i32> {
    let (rest, a) = array::<4>(input)?;
    Ok((rest, i32::from_le_bytes(a)))
}

#[inline]
/// A little-endian `u64`.
pub fn u64_le(input: &[u8]) -> PResult<'_, u64> {
    let (rest, a) = array::<8>(input)?;
    Ok((rest, u64::from_le_bytes(a)))
}

#[inline]
/// A little-endian `i64`.
pub fn i64_le(input: &[u8]) -> PResult<'_, i64> {
    let (rest, a) = array::<8>(input)?;
    Ok((rest, i64::from_le_bytes(a)))
}

/// A one-byte boolean. As in the reference, any non-zero byte reads as true
/// (and true is written back as 1).
#[inline]
pub fn bool(input: &[u8]) -> PResult<'_, bool> {
    let (rest, b) = u8(input)?;
    Ok((rest, b != 0))
}

/// A 32-byte hash, copied out of the input (it is small and `Copy`).
#[inline]
pub fn hash(input: &[u8]) -> PResult<'_, Hash> {
    let (rest, a) = array::<HASH_SIZE>(input)?;
    Ok((rest, Hash(a)))
}

/// The largest Unix time (seconds) the reference accepts in a 64-bit time
/// field: larger values overflow Go's internal time representation.
pub const MAX_INT64_TIME: u64 = (i64::MAX as u64) - 62_135_596_800;

/// A 64-bit Unix timestamp in seconds, refused above [`MAX_INT64_TIME`]
/// (ErrInvalidTimestamp) as the reference does.
pub fn time_u64(input: &[u8]) -> PResult<'_, u64> {
    let (rest, t) = u64_le(input)?;
    if t > MAX_INT64_TIME {
        return Err(Error::invalid(
            ErrorKind::InvalidTimestamp,
            "timestamp exceeds maximum allowed value",
        ));
    }
    Ok((rest, t))
}

/// A variable-length integer in canonical (shortest) form; longer encodings
/// are refused with ErrNonCanonicalVarInt.
pub fn var_int(input: &[u8]) -> PResult<'_, u64> {
    let (rest, d) = u8(input)?;
    let (rest, value, min) = match d {
        0xff => {
            let (r, v) = u64_le(rest)?;
            (r, v, 0x1_0000_0000)
        }
        0xfe => {
            let (r, v) = u32_le(rest)?;
            (r, u64::from(v), 0x1_0000)
        }
        0xfd => {
            let (r, v) = u16_le(rest)?;
            (r, u64::from(v), 0xfd)
        }
        _ => return Ok((rest, u64::from(d))),
    };
    if value < min {
        return Err(Error::NonCanonicalVarInt {
            discriminant: d,
            value,
        });
    }
    Ok((rest, value))
}

/// A var-int count checked against `max` before anything is allocated for
/// it; over the limit gives `kind` (ErrTooManyAddrs, ...).
#[inline]
pub fn count<'a>(
    input: &'a [u8],
    max: u64,
    kind: ErrorKind,
    what: &'static str,
) -> PResult<'a, usize> {
    let (rest, n) = var_int(input)?;
    check_count(n, max, kind, what)?;
    // `n <= max`, and every max in the protocol fits in usize.
    Ok((rest, usize::try_from(n).unwrap_or(usize::MAX)))
}

/// The one limit check: `count > max` is an error of `kind`.
#[inline]
pub fn check_count(count: u64, max: u64, kind: ErrorKind, what: &'static str) -> Result<(), Error> {
    if count > max {
        return Err(Error::limit(kind, what, count, max));
    }
    Ok(())
}

/// A counted list: a var-int count (limited to `max`, error `kind`) and that
/// many items parsed by `item`.
///
/// The vector's initial capacity is bounded by what the remaining input could
/// possibly hold (`min_item_size` bytes per item), so a lying count cannot
/// make us allocate more than the payload itself justifies.
pub fn list<'a, T>(
    input: &'a [u8],
    max: u64,
    kind: ErrorKind,
    what: &'static str,
    min_item_size: usize,
    mut item: impl FnMut(&'a [u8]) -> PResult<'a, T>,
) -> PResult<'a, Vec<T>> {
    let (mut rest, n) = count(input, max, kind, what)?;
    let mut out = Vec::with_capacity(bounded_capacity(n, rest.len(), min_item_size));
    for _ in 0..n {
        let (r, v) = item(rest)?;
        out.push(v);
        rest = r;
    }
    Ok((rest, out))
}

/// The capacity to reserve for `n` items of at least `min_item_size` bytes
/// when `available` bytes remain.
#[inline]
pub fn bounded_capacity(n: usize, available: usize, min_item_size: usize) -> usize {
    n.min(available / min_item_size.max(1))
}

/// Var-bytes: a var-int length (at most `max`, else ErrVarBytesTooLong) and
/// that many bytes, borrowed from the input.
pub fn var_bytes<'a>(input: &'a [u8], max: u64, what: &'static str) -> PResult<'a, &'a [u8]> {
    let (rest, n) = var_int(input)?;
    check_count(n, max, ErrorKind::VarBytesTooLong, what)?;
    take(rest, n as usize)
}

/// A var-string as the reference reads it: any bytes (not necessarily UTF-8),
/// at most 32 MiB (ErrVarStringTooLong), borrowed from the input.
pub fn var_string(input: &[u8]) -> PResult<'_, &[u8]> {
    let (rest, n) = var_int(input)?;
    check_count(
        n,
        MAX_MESSAGE_PAYLOAD as u64,
        ErrorKind::VarStringTooLong,
        "string length",
    )?;
    take(rest, n as usize)
}

/// A var-string that must be printable ASCII (0x20..=0x7e): at most `max`
/// bytes (ErrVarStringTooLong), else ErrMalformedStrictString.
pub fn ascii_var_string(input: &[u8], max: u64) -> PResult<'_, &str> {
    let (rest, n) = var_int(input)?;
    check_count(
        n,
        max.min(MAX_MESSAGE_PAYLOAD as u64),
        ErrorKind::VarStringTooLong,
        "string length",
    )?;
    let (rest, s) = take(rest, n as usize)?;
    if !is_strict_ascii(s) {
        return Err(Error::invalid(
            ErrorKind::MalformedStrictString,
            "string is not strict ASCII",
        ));
    }
    // Printable ASCII is valid UTF-8.
    match core::str::from_utf8(s) {
        Ok(s) => Ok((rest, s)),
        Err(_) => Err(Error::invalid(
            ErrorKind::MalformedStrictString,
            "string is not strict ASCII",
        )),
    }
}

/// True when every byte is printable ASCII (space through tilde).
pub fn is_strict_ascii(s: &[u8]) -> bool {
    s.iter().all(|&c| (0x20..=0x7e).contains(&c))
}

/// Ensures nothing is left of the input.
pub fn expect_end(rest: &[u8]) -> Result<(), Error> {
    if rest.is_empty() {
        Ok(())
    } else {
        Err(Error::TrailingBytes { count: rest.len() })
    }
}

// ---- writers ----------------------------------------------------------------

/// How many bytes `v` takes as a var-int.
#[inline]
pub fn var_int_size(v: u64) -> usize {
    match v {
        0..=0xfc => 1,
        0xfd..=0xffff => 3,
        0x1_0000..=0xffff_ffff => 5,
        _ => 9,
    }
}

/// Writes `v` as a canonical var-int.
#[inline]
pub fn put_var_int<B: BufMut + ?Sized>(buf: &mut B, v: u64) {
    match v {
        0..=0xfc => buf.put_u8(v as u8),
        0xfd..=0xffff => {
            buf.put_u8(0xfd);
            buf.put_u16_le(v as u16);
        }
        0x1_0000..=0xffff_ffff => {
            buf.put_u8(0xfe);
            buf.put_u32_le(v as u32);
        }
        _ => {
            buf.put_u8(0xff);
            buf.put_u64_le(v);
        }
    }
}

/// How many bytes `data` takes as var-bytes (length prefix included).
#[inline]
pub fn var_bytes_size(data: &[u8]) -> usize {
    var_int_size(data.len() as u64) + data.len()
}

/// Writes `data` with its var-int length prefix.
#[inline]
pub fn put_var_bytes<B: BufMut + ?Sized>(buf: &mut B, data: &[u8]) {
    put_var_int(buf, data.len() as u64);
    buf.put_slice(data);
}

/// Writes a counted list of hashes: a var-int count, then each hash.
pub fn put_hashes<B: BufMut + ?Sized>(buf: &mut B, hashes: &[Hash]) {
    put_var_int(buf, hashes.len() as u64);
    for h in hashes {
        buf.put_slice(&h.0);
    }
}

/// Encoded size of [`put_hashes`]'s output.
pub fn hashes_size(hashes: &[Hash]) -> usize {
    var_int_size(hashes.len() as u64) + hashes.len() * HASH_SIZE
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vi(bytes: &[u8]) -> Result<(u64, usize), Error> {
        let (rest, v) = var_int(bytes)?;
        Ok((v, bytes.len() - rest.len()))
    }

    #[test]
    fn var_int_canonical_boundaries() {
        for v in [
            0u64,
            0xfc,
            0xfd,
            0xffff,
            0x1_0000,
            0xffff_ffff,
            0x1_0000_0000,
            u64::MAX,
        ] {
            let mut b = Vec::new();
            put_var_int(&mut b, v);
            assert_eq!(b.len(), var_int_size(v));
            assert_eq!(vi(&b), Ok((v, b.len())));
        }
    }

    #[test]
    fn var_int_non_canonical_refused() {
        for bytes in [
            &[0xfd, 0xfc, 0x00][..],
            &[0xfe, 0xff, 0xff, 0x00, 0x00],
            &[0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0],
        ] {
            assert_eq!(vi(bytes).unwrap_err().kind(), ErrorKind::NonCanonicalVarInt);
        }
    }

    #[test]
    fn var_int_short_input_says_how_much() {
        assert_eq!(vi(&[]), Err(Error::eof(1)));
        assert_eq!(vi(&[0xfe, 1]), Err(Error::eof(3)));
    }

    #[test]
    fn var_bytes_limit_checked_before_reading() {
        // Claims 2^32 bytes with only two present: refused by the limit, not
        // by a read (and nothing is allocated).
        let input = [0xff, 0, 0, 0, 0, 1, 0, 0, 0, 1, 2];
        let e = var_bytes(&input, 100, "x").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::VarBytesTooLong);
        let (rest, b) = var_bytes(&[2, 9, 8, 7], 2, "x").unwrap();
        assert_eq!((b, rest), (&[9u8, 8][..], &[7u8][..]));
    }

    #[test]
    fn var_string_limits() {
        let mut big = vec![0xfe];
        big.extend_from_slice(&(MAX_MESSAGE_PAYLOAD + 1).to_le_bytes());
        let e = var_string(&big).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::VarStringTooLong);
        let e = ascii_var_string(&[3, b'a', b'b', b'c'], 2).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::VarStringTooLong);
        let e = ascii_var_string(&[2, b'a', 0x7f], 2).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::MalformedStrictString);
        assert_eq!(ascii_var_string(&[2, b'o', b'k'], 2).unwrap().1, "ok");
    }

    #[test]
    fn list_capacity_is_bounded_by_input() {
        // A count of 1000 with room for only one item: the capacity follows
        // the input, and the parse fails on the second item.
        assert_eq!(bounded_capacity(1000, 40, 32), 1);
        let mut input = vec![0xfd, 0xe8, 0x03];
        input.extend_from_slice(&[0u8; 32]);
        let e = list(&input, 1000, ErrorKind::TooManyVectors, "v", 32, hash).unwrap_err();
        assert_eq!(e, Error::eof(32));
        let e = list(&input, 999, ErrorKind::TooManyVectors, "v", 32, hash).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TooManyVectors);
    }

    #[test]
    fn timestamps_over_go_limit_refused() {
        let ok = MAX_INT64_TIME.to_le_bytes();
        assert_eq!(time_u64(&ok).unwrap().1, MAX_INT64_TIME);
        let bad = (MAX_INT64_TIME + 1).to_le_bytes();
        let e = time_u64(&bad).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidTimestamp);
    }
}
