//! Typed requests: a question to a peer and its answer, matched by the
//! connection's request → answer table (`fsm/stall.rs`).
//!
//! [`Request`] names what to ask, [`Response`] what came back, and
//! [`RequestError`] why nothing did. [`crate::Peer::call`] sends one and
//! waits for its answer; the methods beside it (`get_headers`,
//! `get_cfilters_v2`, `ping`, ...) are the same calls with typed answers.
//! Whether a peer can answer at all is decided before anything is sent,
//! from its negotiated protocol version and the services it advertised
//! ([`Request::check_support`]): asking dcrd for something its version
//! does not know ends the connection, so it is refused here instead.

use std::time::Duration;

use dcr_wire::{
    pver, Block, BlockHeader, CFilterV2, GetBlocks, GetCFilterV2, GetCFsV2, GetData, GetHeaders,
    GetInitState, Hash, InitState, InvType, InvVect, Message, Ping, ServiceFlags, Tx,
};

use crate::error::DisconnectReason;
use crate::fsm::stall::Awaited;

/// A question to a peer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Request {
    /// `getheaders`: the headers after the first locator hash the peer
    /// has on its main chain, up to `stop` (zero: as many as one message
    /// holds, 2000). Answered with [`Response::Headers`].
    Headers {
        /// Block locator, newest first.
        locator: Vec<Hash>,
        /// Last block wanted, or zero.
        stop: Hash,
    },
    /// `getblocks`: the hashes of the blocks after the locator, up to 500.
    /// Answered with [`Response::Blocks`]; dcrd says nothing when it has
    /// nothing to say, so the request then times out.
    Blocks {
        /// Block locator, newest first.
        locator: Vec<Hash>,
        /// Last block wanted, or zero.
        stop: Hash,
    },
    /// `getdata`: each vector answered with its block, transaction or
    /// mixing message, or as not found ([`Response::Data`]).
    Data(Vec<InvVect>),
    /// `getcfilterv2`: the version 2 filter of a block, with its
    /// inclusion proof ([`Response::CFilterV2`]).
    CFilterV2(Hash),
    /// `getcfsv2`: the filters of blocks `start` to `end` inclusive, at
    /// most 100 ([`Response::CFiltersV2`]); protocol 11 and up.
    CFiltersV2 {
        /// First block.
        start: Hash,
        /// Last block.
        end: Hash,
    },
    /// `getinitstate` for these state types ([`Response::InitState`]).
    InitState(Vec<String>),
    /// `ping`: the round trip to the matching `pong`
    /// ([`Response::Pong`]).
    Ping,
}

/// One vector's answer to a `getdata`.
#[derive(Debug, Clone, PartialEq)]
pub enum DataItem {
    /// The block asked for.
    Block(Block<'static>),
    /// The transaction asked for.
    Tx(Tx<'static>),
    /// The mixing message asked for.
    Mix(Message<'static>),
    /// The peer said it does not have it.
    NotFound(InvVect),
}

/// An answer.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Response {
    /// The headers sent (none: nothing after the locator).
    Headers(Vec<BlockHeader>),
    /// The block hashes announced in answer to `getblocks`.
    Blocks(Vec<Hash>),
    /// Each vector's answer, in the order asked.
    Data(Vec<DataItem>),
    /// The filter.
    CFilterV2(CFilterV2<'static>),
    /// The filters, in block order.
    CFiltersV2(Vec<CFilterV2<'static>>),
    /// The initial state.
    InitState(InitState),
    /// The round trip, from the ping's write to its pong.
    Pong(Duration),
}

/// Why a peer cannot be asked something: the protocol version negotiated
/// with it, or the services it advertised, lack it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Unsupported {
    /// The request needs protocol version `needs`; `negotiated` is below.
    #[error("needs protocol version {needs}, negotiated {negotiated}")]
    Version {
        /// The version the request needs.
        needs: u32,
        /// The version negotiated.
        negotiated: u32,
    },
    /// The request needs services the peer does not advertise (a node
    /// without `SFNodeNetwork` serves no blocks, headers or filters).
    #[error("needs services {needs:#x}, the peer advertises {has:#x}", needs = needs.0, has = has.0)]
    Services {
        /// The services needed.
        needs: ServiceFlags,
        /// The services advertised.
        has: ServiceFlags,
    },
}

/// Why a typed request has no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// The peer said it does not have what was asked (a `notfound`); for
    /// [`crate::Peer::get_block`] and the other one-item helpers.
    #[error("not found: {0:?}")]
    NotFound(InvVect),
    /// No answer before the caller's deadline. The connection carries on.
    #[error("no answer before the request's deadline")]
    Timeout,
    /// The peer disconnected first, and why.
    #[error("peer disconnected: {0}")]
    Disconnected(DisconnectReason),
    /// The peer cannot answer it; nothing was sent.
    #[error("unsupported by the peer")]
    Unsupported(#[from] Unsupported),
    /// The request cannot be encoded (a locator of more than 500 hashes, a
    /// `getdata` of more than 50,000 vectors, ...): our fault, nothing
    /// was sent and the peer carries on.
    #[error("cannot encode the request")]
    Encode(#[source] dcr_wire::Error),
}

impl RequestError {
    /// True when the peer was at fault or failed to answer, so another
    /// peer may do better: not found, timed out, disconnected or
    /// unsupported. False for our own encoding failures.
    pub fn is_retryable(&self) -> bool {
        !matches!(self, RequestError::Encode(_))
    }
}

impl Request {
    /// The protocol version the request needs: `getcfilterv2` 7,
    /// `getinitstate` 8, `getcfsv2` 11, mixing vectors 10 (dcrd's
    /// `wire.CFilterV2Version`, `InitStateVersion`,
    /// `BatchedCFiltersV2Version`, `MixVersion`: below them the message
    /// does not decode and dcrd disconnects).
    pub fn min_protocol_version(&self) -> u32 {
        match self {
            Request::CFilterV2(_) => pver::CFILTER_V2,
            Request::CFiltersV2 { .. } => pver::BATCHED_CFILTERS_V2,
            Request::InitState(_) => pver::INIT_STATE,
            Request::Data(list) if list.iter().any(|iv| iv.inv_type == InvType::MIX) => pver::MIX,
            _ => pver::INITIAL,
        }
    }

    /// The services the remote must advertise: `SFNodeNetwork` for
    /// headers, blocks and filters (dcrd syncs only from such peers,
    /// `syncManager.isSyncCandidate`; a node without it has no chain to
    /// serve); nothing for transactions, mixing messages, the initial
    /// state and pings.
    pub fn required_services(&self) -> ServiceFlags {
        let chain = match self {
            Request::Headers { .. }
            | Request::Blocks { .. }
            | Request::CFilterV2(_)
            | Request::CFiltersV2 { .. } => true,
            Request::Data(list) => list.iter().any(|iv| iv.inv_type == InvType::BLOCK),
            Request::InitState(_) | Request::Ping => false,
        };
        if chain {
            ServiceFlags::NODE_NETWORK
        } else {
            ServiceFlags::NONE
        }
    }

    /// Whether a peer that negotiated `pver` and advertises `services`
    /// can answer.
    pub fn check_support(&self, pver: u32, services: ServiceFlags) -> Result<(), Unsupported> {
        let needs = self.min_protocol_version();
        if pver < needs {
            return Err(Unsupported::Version {
                needs,
                negotiated: pver,
            });
        }
        let needs = self.required_services();
        if services.0 & needs.0 != needs.0 {
            return Err(Unsupported::Services {
                needs,
                has: services,
            });
        }
        Ok(())
    }

    /// The message to send at protocol version `pver`, and what answers
    /// it; `nonce` is the ping's.
    pub(crate) fn message(&self, pver: u32, nonce: u64) -> (Message<'static>, Awaited) {
        match self {
            Request::Headers { locator, stop } => (
                Message::GetHeaders(GetHeaders {
                    protocol_version: pver,
                    block_locator_hashes: locator.clone(),
                    hash_stop: *stop,
                }),
                Awaited::Headers {
                    locator: locator.clone(),
                    stop: *stop,
                },
            ),
            Request::Blocks { locator, stop } => (
                Message::GetBlocks(GetBlocks {
                    protocol_version: pver,
                    block_locator_hashes: locator.clone(),
                    hash_stop: *stop,
                }),
                Awaited::Blocks,
            ),
            Request::Data(list) => (
                Message::GetData(GetData {
                    inv_list: list.clone(),
                }),
                Awaited::Data(list.clone()),
            ),
            Request::CFilterV2(hash) => (
                Message::GetCFilterV2(GetCFilterV2 { block_hash: *hash }),
                Awaited::CFilter(*hash),
            ),
            Request::CFiltersV2 { start, end } => (
                Message::GetCFsV2(GetCFsV2 {
                    start_hash: *start,
                    end_hash: *end,
                }),
                Awaited::CFilters(*start),
            ),
            Request::InitState(types) => (
                Message::GetInitState(GetInitState {
                    types: types.iter().map(|t| t.clone().into()).collect(),
                }),
                Awaited::InitState,
            ),
            Request::Ping => (Message::Ping(Ping { nonce }), Awaited::Pong(nonce)),
        }
    }

    /// The kind of answer to build, and the vectors of a `getdata`.
    pub(crate) fn kind(&self) -> Kind {
        match self {
            Request::Headers { .. } => Kind::Headers,
            Request::Blocks { .. } => Kind::Blocks,
            Request::Data(list) => Kind::Data(list.clone()),
            Request::CFilterV2(_) => Kind::CFilter,
            Request::CFiltersV2 { .. } => Kind::CFilters,
            Request::InitState(_) => Kind::InitState,
            Request::Ping => Kind::Pong,
        }
    }
}

/// What the connection's task builds the answer from.
#[derive(Debug, Clone)]
pub(crate) enum Kind {
    Headers,
    Blocks,
    Data(Vec<InvVect>),
    CFilter,
    CFilters,
    InitState,
    Pong,
}

impl Kind {
    /// The answer `msg` gives to a request of this kind (one that is not
    /// a `getdata`); `rtt` is a ping's round trip.
    pub(crate) fn response(
        &self,
        msg: Message<'static>,
        rtt: Option<Duration>,
    ) -> Option<Response> {
        Some(match (self, msg) {
            (Kind::Headers, Message::Headers(h)) => Response::Headers(h.headers),
            (Kind::Blocks, Message::Inv(inv)) => {
                Response::Blocks(inv.inv_list.into_iter().map(|iv| iv.hash).collect())
            }
            (Kind::CFilter, Message::CFilterV2(f)) => Response::CFilterV2(f),
            (Kind::CFilters, Message::CFiltersV2(f)) => Response::CFiltersV2(f.cfilters),
            (Kind::InitState, Message::InitState(s)) => Response::InitState(s),
            (Kind::Pong, Message::Pong(_)) => Response::Pong(rtt.unwrap_or_default()),
            _ => return None,
        })
    }
}

/// The answer `msg` gives to vector `asked` of a `getdata`.
pub(crate) fn data_item(asked: InvVect, msg: Message<'static>) -> DataItem {
    match msg {
        Message::Block(b) => DataItem::Block(b),
        Message::Tx(t) => DataItem::Tx(t),
        Message::NotFound(_) => DataItem::NotFound(asked),
        other => DataItem::Mix(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn support_comes_from_the_version_and_the_services() {
        let net = ServiceFlags::NODE_NETWORK;
        let none = ServiceFlags::NONE;
        let batch = Request::CFiltersV2 {
            start: Hash::ZERO,
            end: Hash::ZERO,
        };
        assert_eq!(batch.check_support(pver::CURRENT, net), Ok(()));
        assert_eq!(
            batch.check_support(pver::MIX, net),
            Err(Unsupported::Version {
                needs: pver::BATCHED_CFILTERS_V2,
                negotiated: pver::MIX
            })
        );
        assert_eq!(
            batch.check_support(pver::CURRENT, none),
            Err(Unsupported::Services {
                needs: net,
                has: none
            })
        );
        let one = Request::CFilterV2(Hash::ZERO);
        assert!(one.check_support(pver::CFILTER_V2, net).is_ok());
        assert!(one.check_support(pver::NODE_CF, net).is_err());
        // Transactions, pings and the initial state need no chain.
        let tx = Request::Data(vec![InvVect {
            inv_type: InvType::TX,
            hash: Hash::ZERO,
        }]);
        assert_eq!(tx.check_support(pver::INITIAL, none), Ok(()));
        assert_eq!(Request::Ping.check_support(pver::INITIAL, none), Ok(()));
        assert!(Request::InitState(vec![])
            .check_support(pver::INIT_STATE - 1, none)
            .is_err());
        let mix = Request::Data(vec![InvVect {
            inv_type: InvType::MIX,
            hash: Hash::ZERO,
        }]);
        assert_eq!(mix.min_protocol_version(), pver::MIX);
        let block = Request::Data(vec![InvVect {
            inv_type: InvType::BLOCK,
            hash: Hash::ZERO,
        }]);
        assert!(block.check_support(pver::CURRENT, none).is_err());
    }

    #[test]
    fn only_our_own_failures_are_not_worth_another_peer() {
        assert!(RequestError::Timeout.is_retryable());
        assert!(RequestError::Disconnected(DisconnectReason::Idle).is_retryable());
        assert!(!RequestError::Encode(dcr_wire::Error::eof(1)).is_retryable());
    }
}
