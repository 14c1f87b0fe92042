//! Protocol versions, networks, service flags and the global limits.

#[allow(unused_imports)]
use crate::prelude::*;
use core::fmt;

/// Size of a frame header: magic, command, length, checksum.
pub const MESSAGE_HEADER_SIZE: usize = 24;
/// Size of the NUL-padded command field.
pub const COMMAND_SIZE: usize = 12;
/// No payload may be larger than this (32 MiB), whatever the message.
pub const MAX_MESSAGE_PAYLOAD: u32 = 32 * 1024 * 1024;

/// Protocol versions and what each one introduced. A version `v` means the
/// peer understands everything introduced at `v` and below.
pub mod pver {
    /// The first protocol version.
    pub const INITIAL: u32 = 1;
    /// Bloom filtering service flag (SFNodeBloom).
    pub const NODE_BLOOM: u32 = 2;
    /// `sendheaders`.
    pub const SEND_HEADERS: u32 = 3;
    /// Block size limit raised from 1,000,000 to 1,310,720 bytes.
    pub const MAX_BLOCK_SIZE: u32 = 4;
    /// `feefilter`.
    pub const FEE_FILTER: u32 = 5;
    /// Committed filters, first version (`getcfilter`, `cfilter`, ...).
    pub const NODE_CF: u32 = 6;
    /// Version 2 committed filters (`getcfilterv2`, `cfilterv2`); the first
    /// version is removed from here on.
    pub const CFILTER_V2: u32 = 7;
    /// `getinitstate`, `initstate`.
    pub const INIT_STATE: u32 = 8;
    /// `reject` removed.
    pub const REMOVE_REJECT: u32 = 9;
    /// Mixing messages (`mixpairreq`, ...).
    pub const MIX: u32 = 10;
    /// Batched version 2 filters (`getcfsv2`, `cfiltersv2`).
    pub const BATCHED_CFILTERS_V2: u32 = 11;
    /// `addrv2`; `addr` is removed.
    pub const ADDR_V2: u32 = 12;
    /// The newest version this crate speaks.
    pub const CURRENT: u32 = ADDR_V2;
}

/// A Decred network, identified on the wire by its magic number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum CurrencyNet {
    /// The main network.
    MainNet,
    /// The public test network (version 3).
    TestNet3,
    /// The simulation network, for private testing.
    SimNet,
    /// The regression test network.
    RegNet,
}

impl CurrencyNet {
    /// Every network.
    pub const ALL: [CurrencyNet; 4] = [
        CurrencyNet::MainNet,
        CurrencyNet::TestNet3,
        CurrencyNet::SimNet,
        CurrencyNet::RegNet,
    ];

    /// The frame magic (written little-endian).
    pub const fn magic(self) -> u32 {
        match self {
            CurrencyNet::MainNet => 0xd9b4_00f9,
            CurrencyNet::TestNet3 => 0xb194_aa75,
            CurrencyNet::SimNet => 0x1214_1c16,
            CurrencyNet::RegNet => 0xdab5_00fa,
        }
    }

    /// The network with this magic, if any.
    pub fn from_magic(magic: u32) -> Option<CurrencyNet> {
        CurrencyNet::ALL.into_iter().find(|n| n.magic() == magic)
    }

    /// The reference's name for the network ("MainNet", ...).
    pub fn name(self) -> &'static str {
        match self {
            CurrencyNet::MainNet => "MainNet",
            CurrencyNet::TestNet3 => "TestNet3",
            CurrencyNet::SimNet => "SimNet",
            CurrencyNet::RegNet => "RegNet",
        }
    }

    /// Looks a network up by its reference name, or by the short names
    /// `mainnet`, `testnet`, `simnet`, `regnet` (any case).
    pub fn from_name(name: &str) -> Option<CurrencyNet> {
        let n = name.to_ascii_lowercase();
        match n.as_str() {
            "mainnet" => Some(CurrencyNet::MainNet),
            "testnet" | "testnet3" => Some(CurrencyNet::TestNet3),
            "simnet" => Some(CurrencyNet::SimNet),
            "regnet" | "regtest" => Some(CurrencyNet::RegNet),
            _ => None,
        }
    }
}

/// A network name [`CurrencyNet::from_name`] does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown network {0:?} (mainnet, testnet, simnet or regnet)")]
pub struct ParseNetError(pub String);

/// Parses what [`CurrencyNet::from_name`] accepts.
impl core::str::FromStr for CurrencyNet {
    type Err = ParseNetError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CurrencyNet::from_name(s).ok_or_else(|| ParseNetError(s.to_owned()))
    }
}

impl fmt::Display for CurrencyNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Service flags a node advertises (a 64-bit bit set).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct ServiceFlags(pub u64);

impl ServiceFlags {
    /// No services.
    pub const NONE: ServiceFlags = ServiceFlags(0);
    /// A full node: serves blocks and transactions.
    pub const NODE_NETWORK: ServiceFlags = ServiceFlags(1);
    /// Bloom filtering.
    pub const NODE_BLOOM: ServiceFlags = ServiceFlags(1 << 1);
    /// Committed filters.
    pub const NODE_CF: ServiceFlags = ServiceFlags(1 << 2);

    /// True when every flag of `other` is set here.
    pub fn contains(self, other: ServiceFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// Sets the flags of `other` (the reference's `NetAddress.AddService`
    /// does this to an address's services).
    pub fn insert(&mut self, other: ServiceFlags) {
        self.0 |= other.0;
    }
}

impl core::ops::BitOrAssign for ServiceFlags {
    fn bitor_assign(&mut self, rhs: ServiceFlags) {
        self.insert(rhs);
    }
}

impl core::ops::BitOr for ServiceFlags {
    type Output = ServiceFlags;
    fn bitor(self, rhs: ServiceFlags) -> ServiceFlags {
        ServiceFlags(self.0 | rhs.0)
    }
}

impl fmt::Display for ServiceFlags {
    /// `SFNodeNetwork|SFNodeCF|0x10`, as the reference prints flags.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("0x0");
        }
        let mut rest = self.0;
        let mut first = true;
        for (flag, name) in [
            (ServiceFlags::NODE_NETWORK, "SFNodeNetwork"),
            (ServiceFlags::NODE_BLOOM, "SFNodeBloom"),
            (ServiceFlags::NODE_CF, "SFNodeCF"),
        ] {
            if rest & flag.0 != 0 {
                if !first {
                    f.write_str("|")?;
                }
                f.write_str(name)?;
                rest &= !flag.0;
                first = false;
            }
        }
        if rest != 0 {
            if !first {
                f.write_str("|")?;
            }
            write!(f, "0x{rest:x}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magics_and_names() {
        for n in CurrencyNet::ALL {
            assert_eq!(CurrencyNet::from_magic(n.magic()), Some(n));
            assert_eq!(CurrencyNet::from_name(n.name()), Some(n));
            assert_eq!(n.name().parse::<CurrencyNet>(), Ok(n));
        }
        assert_eq!(
            CurrencyNet::MainNet.magic().to_le_bytes(),
            [0xf9, 0x00, 0xb4, 0xd9]
        );
        assert_eq!(CurrencyNet::from_magic(0), None);
        assert_eq!("SIMNET".parse::<CurrencyNet>(), Ok(CurrencyNet::SimNet));
        assert_eq!(
            "moonnet".parse::<CurrencyNet>(),
            Err(ParseNetError("moonnet".into()))
        );
    }

    #[test]
    fn service_flags_display() {
        assert_eq!(ServiceFlags(0).to_string(), "0x0");
        assert_eq!(
            (ServiceFlags::NODE_NETWORK | ServiceFlags::NODE_CF).to_string(),
            "SFNodeNetwork|SFNodeCF"
        );
        assert_eq!(ServiceFlags(0x11).to_string(), "SFNodeNetwork|0x10");
        assert!(ServiceFlags(7).contains(ServiceFlags::NODE_BLOOM));
    }

    #[test]
    fn service_flags_insert() {
        let mut f = ServiceFlags::NONE;
        f.insert(ServiceFlags::NODE_CF);
        assert_eq!(f, ServiceFlags(4));
        f |= ServiceFlags::NODE_NETWORK;
        assert_eq!(f, ServiceFlags(5));
        f |= ServiceFlags::NODE_NETWORK;
        assert_eq!(f, ServiceFlags(5));
    }
}
