//! `mixconfirm`: a peer's signatures on the mixed transaction, carried as
//! the whole transaction.

#[allow(unused_imports)]
use crate::prelude::*;
use bytes::BufMut;

use super::{
    check_seen, hashes_size, mix_payload, put_hashes, seen_hashes, SessionHeader,
    SESSION_HEADER_SIZE,
};
use crate::error::Error;
use crate::hash::Hash;
use crate::msg::Payload;
use crate::primitives::PResult;
use crate::Tx;

/// `mixconfirm`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MixConfirm<'a> {
    /// Signature, identity, session and run.
    pub header: SessionHeader<'a>,
    /// The mixed transaction with this peer's signatures (scripts borrowed).
    pub mix: Tx<'a>,
    /// Hashes of the DC-net messages this follows.
    pub seen_dc_nets: Vec<Hash>,
}

impl<'a> MixConfirm<'a> {
    fn parse(i: &'a [u8]) -> PResult<'a, Self> {
        let (i, header) = SessionHeader::parse(i)?;
        let (i, mix) = Tx::parse(i)?;
        let (i, seen_dc_nets) = seen_hashes(i)?;
        Ok((
            i,
            MixConfirm {
                header,
                mix,
                seen_dc_nets,
            },
        ))
    }

    fn check(&self) -> Result<(), Error> {
        check_seen(&self.seen_dc_nets)
    }

    fn write<B: BufMut + ?Sized>(&self, buf: &mut B) {
        self.header.write(buf);
        self.mix.write_as(buf, self.mix.ser_type);
        put_hashes(buf, &self.seen_dc_nets);
    }

    fn size(&self) -> usize {
        SESSION_HEADER_SIZE + self.mix.size_as(self.mix.ser_type) + hashes_size(&self.seen_dc_nets)
    }

    fn into_owned(self) -> MixConfirm<'static> {
        MixConfirm {
            header: self.header.into_owned(),
            mix: Payload::into_owned(self.mix),
            seen_dc_nets: self.seen_dc_nets,
        }
    }

    #[cfg(feature = "json")]
    fn to_json(&self) -> serde_json::Value {
        let mut m = serde_json::Map::new();
        self.header.json_into(&mut m);
        m.insert("Mix".into(), Payload::to_json(&self.mix));
        m.insert("SeenDCNets".into(), crate::json::hashes(&self.seen_dc_nets));
        m.into()
    }
}

mix_payload!(MixConfirm, MixConfirm, 1_016_520);
