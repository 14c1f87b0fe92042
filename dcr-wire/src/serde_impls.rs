//! The `serde` feature: `Serialize`/`Deserialize` for the value types.
//!
//! Most are derived where the type is defined; the one hand-written pair is
//! [`Hash`](struct@Hash)'s, which travels as its display-order hex string
//! (the form dcrd's JSON-RPC and block explorers use), not as 32 numbers in
//! wire order.

#[allow(unused_imports)]
use crate::prelude::*;
use core::fmt;

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
                v.parse().map_err(E::custom)
            }
        }
        d.deserialize_str(HexHash)
    }
}

#[cfg(test)]
mod tests {
    use std::fmt::Debug;
    use std::net::{Ipv4Addr, Ipv6Addr};

    use serde::de::DeserializeOwned;

    use crate::{
        CurrencyNet, Hash, InvType, InvVect, NetAddress, NetAddressV2, NetAddressV2Host,
        ServiceFlags,
    };

    /// Serializes `v`, checks the JSON is `expected`, and reads it back.
    fn round_trip<T: serde::Serialize + DeserializeOwned + PartialEq + Debug>(
        v: &T,
        expected: serde_json::Value,
    ) {
        let json = serde_json::to_value(v).unwrap();
        assert_eq!(json, expected);
        let back: T = serde_json::from_value(json).unwrap();
        assert_eq!(&back, v);
    }

    fn sample_hash() -> Hash {
        let mut b = [0u8; 32];
        b[0] = 0xab; // wire order: the first byte prints last
        b[31] = 0x01;
        Hash(b)
    }

    #[test]
    fn hash_is_display_order_hex() {
        let h = sample_hash();
        let text = h.to_string();
        assert!(text.starts_with("01") && text.ends_with("ab"));
        round_trip(&h, serde_json::Value::String(text));
        assert!(serde_json::from_str::<Hash>("\"00\"").is_err());
        assert!(serde_json::from_str::<Hash>("[1,2,3]").is_err());
    }

    #[test]
    fn nets_and_flags() {
        for n in CurrencyNet::ALL {
            round_trip(&n, serde_json::json!(n.name()));
        }
        round_trip(&ServiceFlags(5), serde_json::json!(5));
        assert!(serde_json::from_str::<CurrencyNet>("\"MoonNet\"").is_err());
    }

    #[test]
    fn addresses() {
        let a = NetAddress {
            timestamp: Some(1_700_000_000),
            services: ServiceFlags::NODE_NETWORK,
            ip: Ipv4Addr::new(10, 0, 0, 1).to_ipv6_mapped(),
            port: 9108,
        };
        round_trip(
            &a,
            serde_json::json!({
                "timestamp": 1_700_000_000u32, "services": 1,
                "ip": "::ffff:10.0.0.1", "port": 9108
            }),
        );
        let v2 = NetAddressV2 {
            timestamp: 1_700_000_000,
            services: ServiceFlags::NODE_CF,
            host: NetAddressV2Host::Ipv6(Ipv6Addr::LOCALHOST),
            port: 19108,
        };
        round_trip(
            &v2,
            serde_json::json!({
                "timestamp": 1_700_000_000u64, "services": 4,
                "host": {"Ipv6": "::1"}, "port": 19108
            }),
        );
        let tor = NetAddressV2 {
            host: NetAddressV2Host::TorV3([7; 32]),
            ..v2
        };
        let json = serde_json::to_value(tor).unwrap();
        assert_eq!(serde_json::from_value::<NetAddressV2>(json).unwrap(), tor);
    }

    #[test]
    fn inventory() {
        let iv = InvVect {
            inv_type: InvType::BLOCK,
            hash: sample_hash(),
        };
        round_trip(
            &iv,
            serde_json::json!({"inv_type": 2, "hash": sample_hash().to_string()}),
        );
    }
}
