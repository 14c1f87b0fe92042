//! A counted list read in place: [`ListView`], the zero-copy form of the
//! `Vec` fields of the owned messages.

#[allow(unused_imports)]
use crate::prelude::*;
use core::fmt;

use crate::error::ErrorKind;
use crate::primitives::{count, PResult};

/// The items of a counted list (a var-int count, then that many items),
/// held as the bytes they were read from: a view that allocates nothing.
///
/// Decoding reads and checks every item once, with the same checks and
/// errors as the owned message's decoder; [`ListView::iter`] then reads
/// each item again as it is taken, borrowing byte fields from the input.
/// (The owned decoders read their lists straight into vectors: collecting
/// a view instead reads every item twice, which measured up to 2.5 times
/// slower.) Got from
/// [`MessageView`](crate::MessageView) or a message's `parse_view`.
pub struct ListView<'a, T> {
    /// The items' bytes (without the count).
    bytes: &'a [u8],
    /// How many items they hold.
    len: usize,
    /// Reads one item; every item of `bytes` reads without error.
    item: fn(&'a [u8]) -> PResult<'a, T>,
}

impl<'a, T> ListView<'a, T> {
    /// Reads a var-int count of at most `max` (else an error of `kind`
    /// naming `what`) and that many items with `item`, from the front of
    /// `input`. Returns the view and what follows.
    pub(crate) fn parse(
        input: &'a [u8],
        max: u64,
        kind: ErrorKind,
        what: &'static str,
        item: fn(&'a [u8]) -> PResult<'a, T>,
    ) -> PResult<'a, ListView<'a, T>> {
        let (start, len) = count(input, max, kind, what)?;
        ListView::parse_n(start, len, item)
    }

    /// Reads `len` items with `item` from the front of `input`, with no
    /// count before them (a count the list shares with another, checked
    /// by the caller).
    pub(crate) fn parse_n(
        input: &'a [u8],
        len: usize,
        item: fn(&'a [u8]) -> PResult<'a, T>,
    ) -> PResult<'a, ListView<'a, T>> {
        let mut rest = input;
        for _ in 0..len {
            rest = item(rest)?.0;
        }
        let bytes = &input[..input.len() - rest.len()];
        Ok((rest, ListView { bytes, len, item }))
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The items, in order, each read as it is taken.
    pub fn iter(&self) -> ListIter<'a, T> {
        ListIter {
            rest: self.bytes,
            left: self.len,
            item: self.item,
        }
    }

    /// The items, copied out (one allocation, of exactly their number).
    pub fn to_vec(&self) -> Vec<T> {
        let mut out = Vec::with_capacity(self.len);
        out.extend(self.iter());
        out
    }

    /// The bytes the items were read from (without the count).
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }
}

impl<T> Clone for ListView<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for ListView<'_, T> {}

/// Two views are equal when they hold the same items: the same bytes, read
/// the same way (every list of one item type is read by one function).
impl<T> PartialEq for ListView<'_, T> {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.bytes == other.bytes
    }
}

impl<T> Eq for ListView<'_, T> {}

impl<T: fmt::Debug> fmt::Debug for ListView<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'a, T> IntoIterator for &ListView<'a, T> {
    type Item = T;
    type IntoIter = ListIter<'a, T>;
    fn into_iter(self) -> ListIter<'a, T> {
        self.iter()
    }
}

/// The items of a [`ListView`], in order.
pub struct ListIter<'a, T> {
    rest: &'a [u8],
    left: usize,
    item: fn(&'a [u8]) -> PResult<'a, T>,
}

impl<'a, T> ListIter<'a, T> {
    /// The next `n` items (fewer if fewer are left) as a view of their
    /// own, each read once; the iterator moves past them.
    pub(crate) fn next_view(&mut self, n: usize) -> ListView<'a, T> {
        let start = self.rest;
        let mut len = 0;
        while len < n && self.next().is_some() {
            len += 1;
        }
        ListView {
            bytes: &start[..start.len() - self.rest.len()],
            len,
            item: self.item,
        }
    }
}

impl<T> Iterator for ListIter<'_, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        if self.left == 0 {
            return None;
        }
        // Every item was read once by `ListView::parse`; were one to fail
        // now (a bug), the list would end early rather than panic.
        match (self.item)(self.rest) {
            Ok((rest, v)) => {
                self.rest = rest;
                self.left -= 1;
                Some(v)
            }
            Err(_) => {
                self.left = 0;
                None
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl<T> ExactSizeIterator for ListIter<'_, T> {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::{Hash, HASH_SIZE};
    use crate::primitives::{hash, list};

    #[test]
    fn reads_as_the_owned_list_does() {
        let mut input = vec![3u8];
        for b in 1..=3u8 {
            input.extend_from_slice(&[b; HASH_SIZE]);
        }
        input.push(0xee);
        let (rest, view) =
            ListView::parse(&input, 10, ErrorKind::TooManyVectors, "hashes", hash).unwrap();
        let (owned_rest, owned) = list(
            &input,
            10,
            ErrorKind::TooManyVectors,
            "hashes",
            HASH_SIZE,
            hash,
        )
        .unwrap();
        assert_eq!((rest, view.to_vec()), (owned_rest, owned));
        assert_eq!(rest, [0xee]);
        assert_eq!(view.len(), 3);
        assert_eq!(view.iter().len(), 3);
        assert_eq!(view.iter().nth(2), Some(Hash([3; HASH_SIZE])));
        assert_eq!(view.as_bytes().len(), 3 * HASH_SIZE);
        // Too many, and too short: the owned list's errors.
        for (max, cut) in [(2, 0), (10, 1)] {
            let input = &input[..input.len() - 1 - cut];
            assert_eq!(
                ListView::parse(input, max, ErrorKind::TooManyVectors, "hashes", hash).unwrap_err(),
                list(
                    input,
                    max,
                    ErrorKind::TooManyVectors,
                    "hashes",
                    HASH_SIZE,
                    hash
                )
                .unwrap_err()
            );
        }
    }
}
