//! Messages with an empty payload: `verack`, `getaddr`, `mempool`,
//! `sendheaders`, `getminings` and `getcftypes`. Some exist only from a
//! given protocol version.

#[allow(unused_imports)]
use crate::prelude::*;
use bytes::BufMut;

use super::{require_pver, Command, Payload};
use crate::error::Error;
use crate::primitives::PResult;

/// Declares an empty message (the protocol versions it exists at are in
/// the `messages!` list).
macro_rules! empty_message {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
        pub struct $name;

        #[cfg(feature = "serde")]
        crate::serde_impls::empty_message_serde!($name);

        impl<'a> Payload<'a> for $name {
            const COMMAND: Command = Command::$name;
            type Owned = $name;

            fn decode(input: &'a [u8], pver: u32) -> PResult<'a, Self> {
                require_pver(Self::COMMAND, pver)?;
                Ok((input, $name))
            }

            fn encode<B: BufMut>(&self, _buf: &mut B, pver: u32) -> Result<(), Error> {
                require_pver(Self::COMMAND, pver)
            }

            fn serialized_size(&self, _pver: u32) -> usize {
                0
            }

            fn max_payload_length(_pver: u32) -> u32 {
                0
            }

            fn into_owned(self) -> Self::Owned {
                self
            }
        }
    };
}

empty_message! {
    /// `verack`: accepts the peer's `version`, completing one side of the
    /// handshake.
    VerAck
}

empty_message! {
    /// `getaddr`: asks the peer for addresses of other peers.
    GetAddr
}

empty_message! {
    /// `mempool`: asks the peer to announce the transactions in its memory
    /// pool.
    MemPool
}

empty_message! {
    /// `sendheaders`: asks the peer to announce new blocks with `headers`
    /// instead of `inv`. From protocol version 3.
    SendHeaders
}

empty_message! {
    /// `getminings`: asks the peer for its mining state (the blocks at the
    /// tip and their votes), answered by `miningstate`.
    GetMiningState
}

empty_message! {
    /// `getcftypes`: asks which committed filter types the peer serves.
    /// From protocol version 6 on: the reference's codec sets no upper
    /// version, even though version 2 filters (protocol 7) supersede it.
    GetCFTypes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::protocol::pver;

    /// Valid from `since`, refused below it both ways, nothing on the wire.
    fn check<T: for<'a> Payload<'a> + Default>(since: u32) {
        let m = T::default();
        for p in pver::INITIAL..=pver::CURRENT {
            let mut b = Vec::new();
            let enc = m.encode(&mut b, p);
            let dec = T::decode(&[], p);
            assert!(b.is_empty());
            assert_eq!(m.serialized_size(p), 0);
            assert_eq!(T::max_payload_length(p), 0);
            if p < since {
                assert_eq!(enc.unwrap_err().kind(), ErrorKind::MsgInvalidForPVer);
                assert_eq!(dec.unwrap_err().kind(), ErrorKind::MsgInvalidForPVer);
            } else {
                enc.unwrap();
                assert_eq!(dec.unwrap(), (&[][..], m.clone()));
            }
        }
    }

    #[test]
    fn versions() {
        check::<VerAck>(pver::INITIAL);
        check::<GetAddr>(pver::INITIAL);
        check::<MemPool>(pver::INITIAL);
        check::<GetMiningState>(pver::INITIAL);
        check::<SendHeaders>(3);
        check::<GetCFTypes>(6);
    }

    #[test]
    fn leftover_input_is_returned() {
        let (rest, _) = VerAck::decode(&[1, 2], 1).unwrap();
        assert_eq!(rest, [1, 2]);
    }
}
