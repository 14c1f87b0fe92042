//! Messages decoded into views that allocate nothing: [`MessageView`].

use super::addr::{Addr, AddrV2};
use super::cfilter::{CFHeadersView, CFilterV2View, CFiltersV2, GetCFHeadersView};
use super::header::HeaderList;
use super::initstate::{GetInitState, InitStateView};
use super::inv::InvList;
use super::list::ListView;
use super::locator::BlockLocatorView;
use super::mining::MiningStateView;
use super::mix::{
    MixCiphertextsView, MixConfirmView, MixDCNetView, MixFactoredPolyView, MixKeyExchangeView,
    MixPairReqView, MixSecretsView, MixSlotReserveView,
};
use super::netaddr::{NetAddress, NetAddressV2};
use super::tx::RawTx;
use super::{require_pver, Command, Message};
use crate::error::Error;
use crate::primitives::{expect_end, PResult};

/// A payload decoded into views that borrow from it and allocate nothing:
/// the zero-copy decode. Where a [`Message`] holds a list in a vector
/// (`inv`, `headers`, a locator, a transaction's inputs, a mixing
/// message's referenced hashes, ...), the view reads it in place
/// ([`InvList`], [`HeaderList`], [`ListView`], [`RawTx`]); a message
/// without a list (`version`, `ping`, `block`, ...) is its [`Message`]
/// ([`MessageView::Other`]), which already borrows its byte fields from
/// the payload. Accepts and refuses exactly the payloads
/// [`Message::decode`] does, with the same errors (checked against it on
/// every corpus payload, cut and changed, and by fuzzing);
/// [`MessageView::to_message`] gives the same message.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
// As large as a `Message`: boxing it would allocate, which is what a view
// exists not to do.
#[allow(clippy::large_enum_variant)]
pub enum MessageView<'a> {
    /// `inv`'s vectors.
    Inv(InvList<'a>),
    /// `getdata`'s vectors.
    GetData(InvList<'a>),
    /// `notfound`'s vectors.
    NotFound(InvList<'a>),
    /// `headers`' headers.
    Headers(HeaderList<'a>),
    /// `tx`: the transaction, checked, read in place.
    Tx(RawTx<'a>),
    /// `getblocks`' locator and stop hash.
    GetBlocks(BlockLocatorView<'a>),
    /// `getheaders`' locator and stop hash.
    GetHeaders(BlockLocatorView<'a>),
    /// `addr`'s addresses.
    Addr(ListView<'a, NetAddress>),
    /// `addrv2`'s addresses.
    AddrV2(ListView<'a, NetAddressV2>),
    /// `getcfheaders`' locator, stop hash and filter type.
    GetCFHeaders(GetCFHeadersView<'a>),
    /// `cfheaders`' filter headers.
    CFHeaders(CFHeadersView<'a>),
    /// `cfilterv2`: a filter and its proof.
    CFilterV2(CFilterV2View<'a>),
    /// `cfiltersv2`'s filters.
    CFiltersV2(ListView<'a, CFilterV2View<'a>>),
    /// `getinitstate`'s type names.
    GetInitState(ListView<'a, &'a str>),
    /// `initstate`'s hash lists.
    InitState(InitStateView<'a>),
    /// `miningstate`'s hash lists.
    MiningState(MiningStateView<'a>),
    /// `mixpairreq`.
    MixPairReq(MixPairReqView<'a>),
    /// `mixkeyxchg`.
    MixKeyExchange(MixKeyExchangeView<'a>),
    /// `mixcphrtxt`.
    MixCiphertexts(MixCiphertextsView<'a>),
    /// `mixslotres`.
    MixSlotReserve(MixSlotReserveView<'a>),
    /// `mixfactpoly`.
    MixFactoredPoly(MixFactoredPolyView<'a>),
    /// `mixdcnet`.
    MixDCNet(MixDCNetView<'a>),
    /// `mixconfirm`.
    MixConfirm(MixConfirmView<'a>),
    /// `mixsecrets`.
    MixSecrets(MixSecretsView<'a>),
    /// A message without a list to read in place.
    Other(Message<'a>),
}

impl<'a> MessageView<'a> {
    /// Decodes a complete payload of `command` at `pver`; bytes left over
    /// after the message are an error (ErrTrailingBytes).
    pub fn decode(command: Command, payload: &'a [u8], pver: u32) -> Result<Self, Error> {
        fn whole<'a, T>(
            command: Command,
            payload: &'a [u8],
            pver: u32,
            what: &'static str,
            parse: impl FnOnce(&'a [u8]) -> PResult<'a, T>,
        ) -> Result<T, Error> {
            let (rest, list) = require_pver(command, pver)
                .and_then(|()| parse(payload))
                .map_err(|e| e.while_reading(what))?;
            expect_end(rest)?;
            Ok(list)
        }
        // What each message's error says it was reading, as
        // `Message::decode` words it.
        macro_rules! view {
            ($variant:ident, $cmd:literal, $parse:expr) => {
                MessageView::$variant(whole(
                    command,
                    payload,
                    pver,
                    concat!("a `", $cmd, "` message"),
                    $parse,
                )?)
            };
        }
        Ok(match command {
            Command::Inv => view!(Inv, "inv", InvList::parse),
            Command::GetData => view!(GetData, "getdata", InvList::parse),
            Command::NotFound => view!(NotFound, "notfound", InvList::parse),
            Command::Headers => view!(Headers, "headers", HeaderList::parse),
            Command::Tx => view!(Tx, "tx", RawTx::parse),
            Command::GetBlocks => view!(GetBlocks, "getblocks", BlockLocatorView::parse),
            Command::GetHeaders => view!(GetHeaders, "getheaders", BlockLocatorView::parse),
            Command::Addr => view!(Addr, "addr", Addr::parse_view),
            Command::AddrV2 => view!(AddrV2, "addrv2", AddrV2::parse_view),
            Command::GetCFHeaders => view!(GetCFHeaders, "getcfheaders", GetCFHeadersView::parse),
            Command::CFHeaders => view!(CFHeaders, "cfheaders", CFHeadersView::parse),
            Command::CFilterV2 => view!(CFilterV2, "cfilterv2", CFilterV2View::parse),
            Command::CFiltersV2 => view!(CFiltersV2, "cfiltersv2", CFiltersV2::parse_view),
            Command::GetInitState => {
                view!(GetInitState, "getinitstate", GetInitState::parse_view)
            }
            Command::InitState => view!(InitState, "initstate", InitStateView::parse),
            Command::MiningState => view!(MiningState, "miningstate", MiningStateView::parse),
            Command::MixPairReq => view!(MixPairReq, "mixpairreq", MixPairReqView::parse),
            Command::MixKeyExchange => {
                view!(MixKeyExchange, "mixkeyxchg", MixKeyExchangeView::parse)
            }
            Command::MixCiphertexts => {
                view!(MixCiphertexts, "mixcphrtxt", MixCiphertextsView::parse)
            }
            Command::MixSlotReserve => {
                view!(MixSlotReserve, "mixslotres", MixSlotReserveView::parse)
            }
            Command::MixFactoredPoly => {
                view!(MixFactoredPoly, "mixfactpoly", MixFactoredPolyView::parse)
            }
            Command::MixDCNet => view!(MixDCNet, "mixdcnet", MixDCNetView::parse),
            Command::MixConfirm => view!(MixConfirm, "mixconfirm", MixConfirmView::parse),
            Command::MixSecrets => view!(MixSecrets, "mixsecrets", MixSecretsView::parse),
            _ => MessageView::Other(Message::decode(command, payload, pver)?),
        })
    }

    /// The message's command.
    pub fn command(&self) -> Command {
        match self {
            MessageView::Inv(_) => Command::Inv,
            MessageView::GetData(_) => Command::GetData,
            MessageView::NotFound(_) => Command::NotFound,
            MessageView::Headers(_) => Command::Headers,
            MessageView::Tx(_) => Command::Tx,
            MessageView::GetBlocks(_) => Command::GetBlocks,
            MessageView::GetHeaders(_) => Command::GetHeaders,
            MessageView::Addr(_) => Command::Addr,
            MessageView::AddrV2(_) => Command::AddrV2,
            MessageView::GetCFHeaders(_) => Command::GetCFHeaders,
            MessageView::CFHeaders(_) => Command::CFHeaders,
            MessageView::CFilterV2(_) => Command::CFilterV2,
            MessageView::CFiltersV2(_) => Command::CFiltersV2,
            MessageView::GetInitState(_) => Command::GetInitState,
            MessageView::InitState(_) => Command::InitState,
            MessageView::MiningState(_) => Command::MiningState,
            MessageView::MixPairReq(_) => Command::MixPairReq,
            MessageView::MixKeyExchange(_) => Command::MixKeyExchange,
            MessageView::MixCiphertexts(_) => Command::MixCiphertexts,
            MessageView::MixSlotReserve(_) => Command::MixSlotReserve,
            MessageView::MixFactoredPoly(_) => Command::MixFactoredPoly,
            MessageView::MixDCNet(_) => Command::MixDCNet,
            MessageView::MixConfirm(_) => Command::MixConfirm,
            MessageView::MixSecrets(_) => Command::MixSecrets,
            MessageView::Other(m) => m.command(),
        }
    }

    /// The [`Message`] the payload decodes to, its lists collected into
    /// vectors (byte fields stay borrowed): what [`Message::decode`] gives
    /// for the same payload.
    pub fn to_message(&self) -> Message<'a> {
        use crate::msg::cfilter::{CFHeaders, CFilterV2, GetCFHeaders};
        use crate::msg::initstate::InitState;
        use crate::msg::inv::{GetData, Inv, NotFound};
        use crate::msg::locator::{GetBlocks, GetHeaders};
        use crate::msg::mining::MiningState;
        use crate::{Headers, Tx};
        use alloc::borrow::Cow;
        match *self {
            MessageView::Inv(l) => Inv {
                inv_list: l.to_vec(),
            }
            .into(),
            MessageView::GetData(l) => GetData {
                inv_list: l.to_vec(),
            }
            .into(),
            MessageView::NotFound(l) => NotFound {
                inv_list: l.to_vec(),
            }
            .into(),
            MessageView::Headers(h) => Headers {
                headers: h.iter().collect(),
            }
            .into(),
            MessageView::Tx(t) => Tx {
                ser_type: t.ser_type(),
                version: t.version(),
                inputs: t.inputs().collect(),
                outputs: t.outputs().collect(),
                lock_time: t.lock_time(),
                expiry: t.expiry(),
            }
            .into(),
            MessageView::GetBlocks(v) => GetBlocks {
                protocol_version: v.protocol_version,
                block_locator_hashes: v.block_locator_hashes.to_vec(),
                hash_stop: v.hash_stop,
            }
            .into(),
            MessageView::GetHeaders(v) => GetHeaders {
                protocol_version: v.protocol_version,
                block_locator_hashes: v.block_locator_hashes.to_vec(),
                hash_stop: v.hash_stop,
            }
            .into(),
            MessageView::Addr(l) => Addr {
                addr_list: l.to_vec(),
            }
            .into(),
            MessageView::AddrV2(l) => AddrV2 {
                addr_list: l.to_vec(),
            }
            .into(),
            MessageView::GetCFHeaders(v) => GetCFHeaders {
                block_locator_hashes: v.block_locator_hashes.to_vec(),
                hash_stop: v.hash_stop,
                filter_type: v.filter_type,
            }
            .into(),
            MessageView::CFHeaders(v) => CFHeaders {
                stop_hash: v.stop_hash,
                filter_type: v.filter_type,
                header_hashes: v.header_hashes.to_vec(),
            }
            .into(),
            MessageView::CFilterV2(v) => CFilterV2::from(v).into(),
            MessageView::CFiltersV2(l) => CFiltersV2 {
                cfilters: l.iter().map(CFilterV2::from).collect(),
            }
            .into(),
            MessageView::GetInitState(l) => GetInitState {
                types: l.iter().map(Cow::Borrowed).collect(),
            }
            .into(),
            MessageView::InitState(v) => InitState {
                block_hashes: v.block_hashes.to_vec(),
                vote_hashes: v.vote_hashes.to_vec(),
                tspend_hashes: v.tspend_hashes.to_vec(),
            }
            .into(),
            MessageView::MiningState(v) => MiningState {
                version: v.version,
                height: v.height,
                block_hashes: v.block_hashes.to_vec(),
                vote_hashes: v.vote_hashes.to_vec(),
            }
            .into(),
            MessageView::MixPairReq(ref v) => crate::MixPairReq::from(v.clone()).into(),
            MessageView::MixKeyExchange(ref v) => crate::MixKeyExchange::from(v.clone()).into(),
            MessageView::MixCiphertexts(ref v) => crate::MixCiphertexts::from(v.clone()).into(),
            MessageView::MixSlotReserve(ref v) => crate::MixSlotReserve::from(v.clone()).into(),
            MessageView::MixFactoredPoly(ref v) => crate::MixFactoredPoly::from(v.clone()).into(),
            MessageView::MixDCNet(ref v) => crate::MixDCNet::from(v.clone()).into(),
            MessageView::MixConfirm(ref v) => crate::MixConfirm::from(v.clone()).into(),
            MessageView::MixSecrets(ref v) => crate::MixSecrets::from(v.clone()).into(),
            MessageView::Other(ref m) => m.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msg::header::BLOCK_HEADER_SIZE;
    use crate::msg::inv::INV_VECT_SIZE;
    use crate::pver;
    use crate::{BlockHeader, Headers, Inv, InvType, InvVect};

    fn payload(msg: &Message<'_>) -> Vec<u8> {
        let mut buf = Vec::new();
        msg.encode(&mut buf, pver::CURRENT).unwrap();
        buf
    }

    fn inv(n: u8) -> Message<'static> {
        Message::Inv(Inv {
            inv_list: (0..n)
                .map(|i| InvVect {
                    inv_type: InvType(u32::from(i) * 0x0102_0304),
                    hash: crate::Hash([i; 32]),
                })
                .collect(),
        })
    }

    fn headers(n: u32) -> Message<'static> {
        Message::Headers(Headers {
            headers: (0..n)
                .map(|i| BlockHeader {
                    height: i,
                    nonce: i.wrapping_mul(0x9e37_79b9),
                    extra_data: [i as u8; 32],
                    ..Default::default()
                })
                .collect(),
        })
    }

    /// The view of `bytes` says what [`Message::decode`] says: the same
    /// list, or the same error.
    fn same(command: Command, bytes: &[u8], pver: u32) {
        let msg = Message::decode(command, bytes, pver);
        let view = MessageView::decode(command, bytes, pver);
        let list = |m: &Message<'_>| match m {
            Message::Inv(x) => Some(x.inv_list.clone()),
            Message::GetData(x) => Some(x.inv_list.clone()),
            Message::NotFound(x) => Some(x.inv_list.clone()),
            _ => None,
        };
        match (msg, view) {
            (
                Ok(m),
                Ok(MessageView::Inv(v) | MessageView::GetData(v) | MessageView::NotFound(v)),
            ) => {
                assert_eq!(m.command(), command);
                let m = list(&m).expect("a list message");
                assert_eq!(m, v.to_vec());
                assert_eq!(v.len(), m.len());
                for (i, iv) in m.iter().enumerate() {
                    assert_eq!(v.get(i), Some(*iv));
                }
                assert_eq!(v.get(m.len()), None);
            }
            (Ok(Message::Headers(m)), Ok(MessageView::Headers(v))) => {
                assert_eq!(m.headers, v.iter().collect::<Vec<_>>());
                assert_eq!(v.len(), m.headers.len());
            }
            (Ok(m), Ok(v)) => assert_eq!(m, v.to_message(), "{command:?}"),
            (Err(m), Err(v)) => assert_eq!(m, v, "{command:?}"),
            (m, v) => panic!("{command:?}: {m:?} but the view {v:?}"),
        }
    }

    #[test]
    fn list_views_accept_and_refuse_what_the_messages_do() {
        for bytes in [payload(&inv(0)), payload(&inv(1)), payload(&inv(40))] {
            for command in [Command::Inv, Command::GetData, Command::NotFound] {
                same(command, &bytes, pver::CURRENT);
                // Truncated anywhere, or with a byte left over.
                for cut in 0..bytes.len() {
                    same(command, &bytes[..cut], pver::CURRENT);
                }
                let mut long = bytes.clone();
                long.push(7);
                same(command, &long, pver::CURRENT);
            }
        }
        // One vector over the limit: refused on the count alone.
        let mut over = vec![0xfe];
        over.extend_from_slice(&50_001u32.to_le_bytes());
        over.resize(over.len() + 2 * INV_VECT_SIZE, 0);
        same(Command::Inv, &over, pver::CURRENT);

        for n in [0, 1, 3] {
            let bytes = payload(&headers(n));
            same(Command::Headers, &bytes, pver::CURRENT);
            for cut in 0..bytes.len() {
                same(Command::Headers, &bytes[..cut], pver::CURRENT);
            }
            let mut long = bytes.clone();
            long.push(0);
            same(Command::Headers, &long, pver::CURRENT);
        }
        // A header with a transaction count, canonical or not, at each
        // place; and over the limit.
        let good = payload(&headers(3));
        for at in 0..3 {
            let count = 1 + at * (BLOCK_HEADER_SIZE + 1) + BLOCK_HEADER_SIZE;
            let mut txs = good.clone();
            txs[count] = 1;
            same(Command::Headers, &txs, pver::CURRENT);
            let mut wide = good.clone();
            wide.splice(count..=count, [0xfd, 0, 0]);
            same(Command::Headers, &wide, pver::CURRENT);
        }
        let mut over = vec![0xfd];
        over.extend_from_slice(&2001u16.to_le_bytes());
        same(Command::Headers, &over, pver::CURRENT);
        // Other messages are their messages.
        same(Command::Ping, &[1, 2, 3, 4, 5, 6, 7, 8], pver::CURRENT);
        same(Command::Ping, &[1, 2, 3], pver::CURRENT);
    }

    #[test]
    fn a_list_view_borrows_its_payload() {
        let bytes = payload(&inv(5));
        let Ok(MessageView::Inv(v)) = MessageView::decode(Command::Inv, &bytes, pver::CURRENT)
        else {
            panic!("inv decodes");
        };
        assert_eq!(v.as_bytes().as_ptr(), bytes[1..].as_ptr());
        assert_eq!(MessageView::Inv(v).command(), Command::Inv);
        let bytes = payload(&headers(2));
        let Ok(MessageView::Headers(h)) =
            MessageView::decode(Command::Headers, &bytes, pver::CURRENT)
        else {
            panic!("headers decode");
        };
        assert_eq!(h.as_bytes().len(), 2 * (BLOCK_HEADER_SIZE + 1));
        assert_eq!(h.as_bytes().as_ptr(), bytes[1..].as_ptr());
    }

    /// A list message's payload with a few bytes changed, cut or added.
    fn mangled(base: Vec<u8>, edits: &[(usize, u8)], cut: usize, extra: &[u8]) -> Vec<u8> {
        let mut b = base;
        for &(at, v) in edits {
            if !b.is_empty() {
                let i = at % b.len();
                b[i] = v;
            }
        }
        b.truncate(b.len().saturating_sub(cut));
        b.extend_from_slice(extra);
        b
    }

    proptest::proptest! {
        /// Any bytes, at any protocol version: the views accept and
        /// refuse exactly what the messages do, with the same errors.
        #[test]
        fn views_and_messages_agree_on_any_payload(
            bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..400),
            pver in 0u32..=13,
        ) {
            for &command in Command::ALL {
                same(command, &bytes, pver);
            }
        }

        /// Transactions of every serialization with bytes changed, cut or
        /// added: the view's inputs, outputs, lock time and expiry are the
        /// decoded transaction's, and it refuses what the decoder refuses.
        #[test]
        fn tx_views_and_messages_agree(
            tx in crate::msg::tx::tests::arb_tx(),
            edits in proptest::collection::vec((0usize..2_000, proptest::num::u8::ANY), 0..3),
            cut in 0usize..4,
            extra in proptest::collection::vec(proptest::num::u8::ANY, 0..2),
        ) {
            let bytes = payload(&Message::Tx(tx));
            same(Command::Tx, &bytes, pver::CURRENT);
            same(Command::Tx, &mangled(bytes, &edits, cut, &extra), pver::CURRENT);
        }

        /// Valid lists with bytes changed, cut or added (counts, varint
        /// widths and transaction counts among them).
        #[test]
        fn views_and_messages_agree_on_mangled_lists(
            n in 0u8..6,
            edits in proptest::collection::vec((0usize..2_000, proptest::num::u8::ANY), 0..4),
            cut in 0usize..8,
            extra in proptest::collection::vec(proptest::num::u8::ANY, 0..4),
        ) {
            let bytes = mangled(payload(&inv(n)), &edits, cut, &extra);
            for command in [Command::Inv, Command::GetData, Command::NotFound, Command::Headers] {
                same(command, &bytes, pver::CURRENT);
            }
            let bytes = mangled(payload(&headers(u32::from(n % 4))), &edits, cut, &extra);
            same(Command::Headers, &bytes, pver::CURRENT);
        }
    }
}
