//! The `serde` feature: `Serialize`/`Deserialize` for every message, in
//! the layout of the reference's decoded Go structs (the JSON of the shared
//! conformance corpus): exported Go field names, integers as numbers,
//! hashes as display-order hex, other byte arrays and slices as hex in wire
//! order, Go strings as strings, IPs as text, times as RFC 3339.
//!
//! The message types derive both traits where they are defined, with the
//! Go names and `deny_unknown_fields`; this module holds what the derives
//! call:
//!
//! - [`int`]: every integer field reads through it, so a number that does
//!   not fit the field is refused as out of range with the field's limits
//!   (not as a type error), and a negative one for an unsigned field the
//!   same way.
//! - [`hex`]: byte fields as lower-case hex, fixed-size ones checked for
//!   their length.
//! - [`time`]: Unix-second times as RFC 3339 (`2016-02-08T18:00:00Z`);
//!   one past year 9999, which RFC 3339 cannot write, stays a number of
//!   seconds. Either form is read back. Formats that are not human-readable
//!   (bincode, postcard) get the number always.
//! - [`text`]: Go strings held as bytes (the user agent), shown as text.
//!
//! Deserializing borrows nothing: byte fields come back owned (`Cow::Owned`)
//! and the message encodes from there. [`Message`](crate::Message)'s own
//! `Deserialize` names the field of any error by its path
//! (`fields.Nonce: ...`), through `serde_path_to_error`; the message types
//! deserialized on their own report the same errors without the path.

#[allow(unused_imports)]
use crate::prelude::*;
use core::fmt;
use core::marker::PhantomData;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::hash::Hash;

impl Serialize for Hash {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Hash {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct HexHash;
        impl Visitor<'_> for HexHash {
            type Value = Hash;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a hash as 64 hex digits in display order")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Hash, E> {
                v.parse()
                    .map_err(|_| E::custom(format_args!("bad hash {v:?}: a hash is 64 hex digits")))
            }
        }
        d.deserialize_str(HexHash)
    }
}

/// An integer type a message field can have, with its range.
pub(crate) trait Int: Copy + TryFrom<i128> + Into<i128> {
    /// Asks the format for this exact type (binary formats need it).
    fn request<'de, D: Deserializer<'de>, V: Visitor<'de>>(
        d: D,
        v: V,
    ) -> Result<V::Value, D::Error>;
    /// The smallest value.
    fn min() -> i128;
    /// The largest value.
    fn max() -> i128;
}

macro_rules! int_types {
    ($($t:ty => $method:ident),* $(,)?) => {$(
        impl Int for $t {
            fn request<'de, D: Deserializer<'de>, V: Visitor<'de>>(
                d: D,
                v: V,
            ) -> Result<V::Value, D::Error> {
                d.$method(v)
            }
            fn min() -> i128 {
                <$t>::MIN.into()
            }
            fn max() -> i128 {
                <$t>::MAX.into()
            }
        }
    )*};
}

int_types! {
    u8 => deserialize_u8, u16 => deserialize_u16, u32 => deserialize_u32,
    u64 => deserialize_u64, i8 => deserialize_i8, i32 => deserialize_i32,
    i64 => deserialize_i64,
}

/// Why a number does not fit its field: it and the field's range.
fn out_of_range<T: Int, E: de::Error>(shown: impl fmt::Display) -> E {
    E::custom(format_args!(
        "{shown} is out of range ({} to {})",
        T::min(),
        T::max()
    ))
}

/// Accepts any integer the format gives and narrows it to `T`; a float
/// with no fraction counts as the integer it is (JSON readers give one
/// for an integer past 64 bits, so 2^64 is out of range, not "a float").
struct IntVisitor<T>(PhantomData<T>);

impl<T: Int> IntVisitor<T> {
    fn narrow<E: de::Error>(v: i128) -> Result<T, E> {
        T::try_from(v).map_err(|_| out_of_range::<T, E>(v))
    }
}

impl<T: Int> Visitor<'_> for IntVisitor<T> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an integer from {} to {}", T::min(), T::max())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        Self::narrow(v.into())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        Self::narrow(v.into())
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<T, E> {
        Self::narrow(v)
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<T, E> {
        match i128::try_from(v) {
            Ok(v) => Self::narrow(v),
            Err(_) => Err(out_of_range::<T, E>(v)),
        }
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
        if !v.is_finite() || v != (v as i128) as f64 {
            return Err(E::invalid_type(de::Unexpected::Float(v), &self));
        }
        // In i128's range (the cast round-trips), integral: exact.
        match T::try_from(v as i128) {
            Ok(t) => Ok(t),
            // `{:.0}` writes the float's exact value: 2^64 reads back as
            // 18446744073709551616, the number the user wrote.
            Err(_) => Err(out_of_range::<T, E>(format_args!("{v:.0}"))),
        }
    }
}

/// Reads an integer field: a value outside the field's type is refused as
/// out of range, with the range (`deserialize_with = "int"`).
pub(crate) fn int<'de, D: Deserializer<'de>, T: Int>(d: D) -> Result<T, D::Error> {
    T::request(d, IntVisitor(PhantomData))
}

/// Implements `Serialize`/`Deserialize` for an integer newtype (a service
/// bit set, an inventory type, ...) as its number, read through [`int`].
macro_rules! int_newtype {
    ($($name:ty),* $(,)?) => {$(
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                self.0.serialize(s)
            }
        }
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                crate::serde_impls::int(d).map(Self)
            }
        }
    )*};
}

int_newtype!(
    crate::ServiceFlags,
    crate::InvType,
    crate::FilterType,
    crate::RejectCode
);

/// Byte fields as lower-case hex in wire order.
pub(crate) mod hex {
    #[allow(unused_imports)]
    use crate::prelude::*;
    use alloc::borrow::Cow;
    use core::fmt;

    use serde::de::{self, Visitor};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// Bytes shown as hex (writes straight into the serializer).
    pub(crate) struct Hex<'b>(pub &'b [u8]);

    impl fmt::Display for Hex<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
        }
    }

    impl Serialize for Hex<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_str(self)
        }
    }

    fn digit(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }

    /// Decodes hex text; errors say what is wrong with it.
    pub(crate) fn decode<E: de::Error>(v: &str) -> Result<Vec<u8>, E> {
        if !v.len().is_multiple_of(2) {
            return Err(E::custom(format_args!(
                "hex of odd length {} (two digits a byte)",
                v.len()
            )));
        }
        v.as_bytes()
            .chunks_exact(2)
            .map(|p| match (digit(p[0]), digit(p[1])) {
                (Some(h), Some(l)) => Ok(h << 4 | l),
                _ => Err(E::custom(format_args!(
                    "{:?} is not hex",
                    String::from_utf8_lossy(p)
                ))),
            })
            .collect()
    }

    /// Hex text read into bytes.
    pub(crate) struct HexBuf(pub Vec<u8>);

    impl<'de> Deserialize<'de> for HexBuf {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl Visitor<'_> for V {
                type Value = HexBuf;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("bytes as a string of hex digits")
                }
                fn visit_str<E: de::Error>(self, v: &str) -> Result<HexBuf, E> {
                    decode(v).map(HexBuf)
                }
            }
            d.deserialize_str(V)
        }
    }

    /// Hex text of exactly `N` bytes.
    pub(crate) struct HexArray<const N: usize>(pub [u8; N]);

    impl<'de, const N: usize> Deserialize<'de> for HexArray<N> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let HexBuf(v) = HexBuf::deserialize(d)?;
            let n = v.len();
            v.try_into().map(HexArray).map_err(|_| {
                de::Error::custom(format_args!(
                    "{n} bytes where {N} are due ({} hex digits)",
                    2 * N
                ))
            })
        }
    }

    /// `Cow<[u8]>` (`with = "hex::bytes"`).
    pub(crate) mod bytes {
        use super::*;

        pub(crate) fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
            Hex(v).serialize(s)
        }

        pub(crate) fn deserialize<'de, 'a, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Cow<'a, [u8]>, D::Error> {
            HexBuf::deserialize(d).map(|h| Cow::Owned(h.0))
        }
    }

    /// `[u8; N]` (`with = "hex::array"`).
    pub(crate) mod array {
        use super::*;

        pub(crate) fn serialize<S: Serializer, const N: usize>(
            v: &[u8; N],
            s: S,
        ) -> Result<S::Ok, S::Error> {
            Hex(v).serialize(s)
        }

        pub(crate) fn deserialize<'de, D: Deserializer<'de>, const N: usize>(
            d: D,
        ) -> Result<[u8; N], D::Error> {
            HexArray::deserialize(d).map(|h| h.0)
        }
    }

    /// `Cow<[u8; N]>`, the mixing messages' fixed fields
    /// (`with = "hex::fixed"`).
    pub(crate) mod fixed {
        use super::*;

        pub(crate) fn serialize<S: Serializer, const N: usize>(
            v: &[u8; N],
            s: S,
        ) -> Result<S::Ok, S::Error> {
            Hex(v).serialize(s)
        }

        pub(crate) fn deserialize<'de, 'a, D: Deserializer<'de>, const N: usize>(
            d: D,
        ) -> Result<Cow<'a, [u8; N]>, D::Error> {
            HexArray::deserialize(d).map(|h| Cow::Owned(h.0))
        }
    }

    /// `Vec<Cow<[u8]>>` (`with = "hex::list"`).
    pub(crate) mod list {
        use super::*;

        pub(crate) fn serialize<S: Serializer>(
            v: &[Cow<'_, [u8]>],
            s: S,
        ) -> Result<S::Ok, S::Error> {
            s.collect_seq(v.iter().map(|b| Hex(b)))
        }

        pub(crate) fn deserialize<'de, 'a, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Vec<Cow<'a, [u8]>>, D::Error> {
            let v = Vec::<HexBuf>::deserialize(d)?;
            Ok(v.into_iter().map(|h| Cow::Owned(h.0)).collect())
        }
    }

    /// `Vec<Vec<Cow<[u8]>>>` (`with = "hex::matrix"`).
    pub(crate) mod matrix {
        use super::*;

        /// Rows of byte fields.
        type Rows<'a> = Vec<Vec<Cow<'a, [u8]>>>;

        struct Row<'r, 'a>(&'r [Cow<'a, [u8]>]);

        impl Serialize for Row<'_, '_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                list::serialize(self.0, s)
            }
        }

        pub(crate) fn serialize<S: Serializer>(
            v: &[Vec<Cow<'_, [u8]>>],
            s: S,
        ) -> Result<S::Ok, S::Error> {
            s.collect_seq(v.iter().map(|r| Row(r)))
        }

        pub(crate) fn deserialize<'de, 'a, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Rows<'a>, D::Error> {
            let v = Vec::<Vec<HexBuf>>::deserialize(d)?;
            Ok(v.into_iter()
                .map(|r| r.into_iter().map(|h| Cow::Owned(h.0)).collect())
                .collect())
        }
    }
}

/// Go strings the messages hold as bytes (the `version` user agent), shown
/// as text: invalid UTF-8 as U+FFFD, as Go's JSON encoder writes it
/// (`with = "text"`).
pub(crate) mod text {
    #[allow(unused_imports)]
    use crate::prelude::*;
    use alloc::borrow::Cow;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&String::from_utf8_lossy(v))
    }

    pub(crate) fn deserialize<'de, 'a, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Cow<'a, [u8]>, D::Error> {
        String::deserialize(d).map(|s| Cow::Owned(s.into_bytes()))
    }
}

/// Unix-second times as RFC 3339 (UTC, whole seconds), or as the number
/// of seconds past year 9999; both forms read back.
pub(crate) mod time {
    #[allow(unused_imports)]
    use crate::prelude::*;
    use core::fmt;
    use core::marker::PhantomData;

    use chrono::DateTime;
    use serde::de::{self, Visitor};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::{Int, IntVisitor};

    /// 9999-12-31T23:59:59Z, the last second RFC 3339 can write.
    pub(crate) const MAX_RFC3339: u64 = 253_402_300_799;

    /// A time of the wire, Unix seconds held in `T` (`u32` or `u64`).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub(crate) struct Time<T>(pub T);

    impl<T: Int> Serialize for Time<T> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let secs: i128 = self.0.into();
            match u64::try_from(secs) {
                Ok(secs) if s.is_human_readable() && secs <= MAX_RFC3339 => {
                    // In range: chrono has every such second.
                    let t = DateTime::from_timestamp(secs as i64, 0).unwrap_or_default();
                    s.collect_str(&t.format("%Y-%m-%dT%H:%M:%SZ"))
                }
                Ok(secs) => s.serialize_u64(secs),
                // No time of the wire is negative.
                Err(_) => s.serialize_i64(secs as i64),
            }
        }
    }

    struct TimeVisitor<T>(PhantomData<T>);

    impl<T: Int> TimeVisitor<T> {
        fn from_rfc3339<E: de::Error>(v: &str) -> Result<T, E> {
            let t = DateTime::parse_from_rfc3339(v)
                .map_err(|e| E::custom(format_args!("{v:?} is not an RFC 3339 time: {e}")))?;
            if t.timestamp_subsec_nanos() != 0 {
                return Err(E::custom(format_args!(
                    "{v:?} has a fraction of a second; the wire carries whole seconds"
                )));
            }
            T::try_from(t.timestamp().into()).map_err(|_| {
                E::custom(format_args!(
                    "{v:?} is out of range: the field holds Unix seconds from {} to {}",
                    T::min(),
                    T::max()
                ))
            })
        }
    }

    impl<T: Int> Visitor<'_> for TimeVisitor<T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an RFC 3339 time or a number of Unix seconds")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
            Self::from_rfc3339(v)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
            IntVisitor(PhantomData).visit_i64(v)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
            IntVisitor(PhantomData).visit_u64(v)
        }
        fn visit_i128<E: de::Error>(self, v: i128) -> Result<T, E> {
            IntVisitor(PhantomData).visit_i128(v)
        }
        fn visit_u128<E: de::Error>(self, v: u128) -> Result<T, E> {
            IntVisitor(PhantomData).visit_u128(v)
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
            IntVisitor(PhantomData).visit_f64(v)
        }
    }

    impl<'de, T: Int> Deserialize<'de> for Time<T> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let v = TimeVisitor(PhantomData);
            if d.is_human_readable() {
                d.deserialize_any(v).map(Time)
            } else {
                T::request(d, v).map(Time)
            }
        }
    }

    /// `u32` and `u64` seconds (`with = "time"`).
    pub(crate) fn serialize<S: Serializer, T: Int>(v: &T, s: S) -> Result<S::Ok, S::Error> {
        Time(*v).serialize(s)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>, T: Int>(d: D) -> Result<T, D::Error> {
        Time::deserialize(d).map(|t| t.0)
    }

    /// `Option<u32>`: `null` where the message carries no time
    /// (`with = "time::option"`).
    pub(crate) mod option {
        use super::*;

        pub(crate) fn serialize<S: Serializer, T: Int>(
            v: &Option<T>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            v.map(Time).serialize(s)
        }

        pub(crate) fn deserialize<'de, D: Deserializer<'de>, T: Int>(
            d: D,
        ) -> Result<Option<T>, D::Error> {
            Option::<Time<T>>::deserialize(d).map(|t| t.map(|t| t.0))
        }
    }
}

/// The messages with no fields travel as `{}` (the reference's empty
/// struct), not as `null`.
macro_rules! empty_message_serde {
    ($($name:ident),* $(,)?) => {$(
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeStruct;
                s.serialize_struct(stringify!($name), 0)?.end()
            }
        }
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                #[derive(serde::Deserialize)]
                #[serde(deny_unknown_fields)]
                struct Fields {}
                Fields::deserialize(d).map(|Fields {}| $name)
            }
        }
    )*};
}
pub(crate) use empty_message_serde;

/// Puts the path of the field an error is about in front of it
/// (`fields.Nonce: 18446744073709551616 is out of range ...`).
pub(crate) fn with_path<E: de::Error>(e: serde_path_to_error::Error<E>) -> E {
    let path = e.path().to_string();
    let inner = e.into_inner();
    if path == "." {
        inner
    } else {
        E::custom(format_args!("{path}: {inner}"))
    }
}
