//! Helpers for rendering messages in the reference's JSON layout (feature
//! `json`): hashes in display order, byte fields as lower-case hex in wire
//! order, Go strings as JSON strings.

#[allow(unused_imports)]
use crate::prelude::*;
use serde_json::Value;

use crate::hash::Hash;

/// A hash in display order.
pub fn hash(h: &Hash) -> Value {
    Value::String(h.to_string())
}

/// A list of hashes in display order.
pub fn hashes<'h>(hs: impl IntoIterator<Item = &'h Hash>) -> Value {
    Value::Array(hs.into_iter().map(hash).collect())
}

/// Bytes as lower-case hex, wire order.
pub fn bytes(b: &[u8]) -> Value {
    Value::String(hex::encode(b))
}

/// A Go string: arbitrary bytes, shown as text (invalid UTF-8 replaced by
/// U+FFFD, as Go's encoder does).
pub fn string(b: &[u8]) -> Value {
    Value::String(String::from_utf8_lossy(b).into_owned())
}
