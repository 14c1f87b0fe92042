//! docs/PARITY.md lists every exported item of the reference's `wire` and
//! `peer` packages with its equivalent here. This file names each Rust
//! item the table lists, so removing or renaming one fails the build, and
//! checks that the table lists nothing this file does not name.

/// Names a type, so that it must exist.
fn named<T: ?Sized>() {}

/// Names the message trait, so that it must exist.
fn a_payload<'a, T: dcr_wire::Payload<'a>>() {}

/// Every Rust item of the table's "Here" column, in table order.
#[test]
fn every_listed_item_exists() {
    let _ = dcr_wire::msg::BLOCK_HEADER_SIZE;
    named::<dcr_wire::BlockHeader>();
    let _ = dcr_wire::BlockHeader::block_hash;
    let _ = dcr_wire::BlockHeader::pow_hash_v1;
    let _ = dcr_wire::BlockHeader::pow_hash_v2;
    let _ = dcr_wire::BlockHeader::parse;
    let _ = dcr_wire::BlockHeader::write::<Vec<u8>>;
    let _ = dcr_wire::BlockHeader::from_bytes;
    let _ = dcr_wire::BlockHeader::to_bytes;
    let _ = dcr_wire::primitives::MAX_VAR_INT_SIZE;
    let _ = dcr_wire::primitives::var_int;
    let _ = dcr_wire::primitives::put_var_int::<Vec<u8>>;
    let _ = dcr_wire::primitives::var_int_size;
    let _ = dcr_wire::primitives::var_string;
    let _ = dcr_wire::primitives::ascii_var_string;
    let _ = dcr_wire::primitives::put_var_bytes::<Vec<u8>>;
    let _ = dcr_wire::primitives::var_bytes;
    named::<dcr_wire::ErrorKind>();
    let _ = dcr_wire::ErrorKind::NonCanonicalVarInt;
    let _ = dcr_wire::ErrorKind::VarStringTooLong;
    let _ = dcr_wire::ErrorKind::VarBytesTooLong;
    let _ = dcr_wire::ErrorKind::CmdTooLong;
    let _ = dcr_wire::ErrorKind::PayloadTooLarge;
    let _ = dcr_wire::ErrorKind::WrongNetwork;
    let _ = dcr_wire::ErrorKind::MalformedCmd;
    let _ = dcr_wire::ErrorKind::UnknownCmd;
    let _ = dcr_wire::ErrorKind::PayloadChecksum;
    let _ = dcr_wire::ErrorKind::TrailingBytes;
    let _ = dcr_wire::ErrorKind::TooManyAddrs;
    let _ = dcr_wire::ErrorKind::TooManyTxs;
    let _ = dcr_wire::ErrorKind::MsgInvalidForPVer;
    let _ = dcr_wire::ErrorKind::FilterTooLarge;
    let _ = dcr_wire::ErrorKind::TooManyProofs;
    let _ = dcr_wire::ErrorKind::TooManyFilterTypes;
    let _ = dcr_wire::ErrorKind::TooManyLocators;
    let _ = dcr_wire::ErrorKind::TooManyVectors;
    let _ = dcr_wire::ErrorKind::TooManyHeaders;
    let _ = dcr_wire::ErrorKind::HeaderContainsTxs;
    let _ = dcr_wire::ErrorKind::TooManyVotes;
    let _ = dcr_wire::ErrorKind::TooManyBlocks;
    let _ = dcr_wire::ErrorKind::MismatchedWitnessCount;
    let _ = dcr_wire::ErrorKind::UnknownTxType;
    let _ = dcr_wire::ErrorKind::ReadInPrefixFromWitnessOnlyTx;
    let _ = dcr_wire::ErrorKind::InvalidMsg;
    let _ = dcr_wire::ErrorKind::UserAgentTooLong;
    let _ = dcr_wire::ErrorKind::TooManyFilterHeaders;
    let _ = dcr_wire::ErrorKind::MalformedStrictString;
    let _ = dcr_wire::ErrorKind::TooManyInitStateTypes;
    let _ = dcr_wire::ErrorKind::InitStateTypeTooLong;
    let _ = dcr_wire::ErrorKind::TooManyTSpends;
    let _ = dcr_wire::ErrorKind::TooManyManyMixPairReqs;
    let _ = dcr_wire::ErrorKind::MixPairReqScriptClassTooLong;
    let _ = dcr_wire::ErrorKind::TooManyMixPairReqUTXOs;
    let _ = dcr_wire::ErrorKind::TooManyPrevMixMsgs;
    let _ = dcr_wire::ErrorKind::TooManyCFilters;
    let _ = dcr_wire::ErrorKind::TooFewAddrs;
    let _ = dcr_wire::ErrorKind::UnknownNetAddrType;
    let _ = dcr_wire::ErrorKind::InvalidTimestamp;
    let _ = <dcr_wire::ErrorKind as std::fmt::Display>::fmt;
    let _ = dcr_wire::ErrorKind::reference_name;
    named::<dcr_wire::Error>();
    let _ = <dcr_wire::Error as std::fmt::Display>::fmt;
    let _ = dcr_wire::Error::kind;
    let _ = dcr_wire::msg::MAX_INV_PER_MSG;
    named::<dcr_wire::InvType>();
    let _ = dcr_wire::InvType::ERROR;
    let _ = dcr_wire::InvType::TX;
    let _ = dcr_wire::InvType::BLOCK;
    let _ = dcr_wire::InvType::FILTERED_BLOCK;
    let _ = dcr_wire::InvType::MIX;
    let _ = <dcr_wire::InvType as std::fmt::Display>::fmt;
    named::<dcr_wire::InvVect>();
    let _ = dcr_wire::MESSAGE_HEADER_SIZE;
    let _ = dcr_wire::COMMAND_SIZE;
    let _ = dcr_wire::MAX_MESSAGE_PAYLOAD;
    let _ = dcr_wire::Command::Version;
    let _ = dcr_wire::Command::VerAck;
    let _ = dcr_wire::Command::GetAddr;
    let _ = dcr_wire::Command::Addr;
    let _ = dcr_wire::Command::AddrV2;
    let _ = dcr_wire::Command::GetBlocks;
    let _ = dcr_wire::Command::Inv;
    let _ = dcr_wire::Command::GetData;
    let _ = dcr_wire::Command::NotFound;
    let _ = dcr_wire::Command::Block;
    let _ = dcr_wire::Command::Tx;
    let _ = dcr_wire::Command::GetHeaders;
    let _ = dcr_wire::Command::Headers;
    let _ = dcr_wire::Command::Ping;
    let _ = dcr_wire::Command::Pong;
    let _ = dcr_wire::Command::MemPool;
    let _ = dcr_wire::Command::MiningState;
    let _ = dcr_wire::Command::GetMiningState;
    let _ = dcr_wire::Command::Reject;
    let _ = dcr_wire::Command::SendHeaders;
    let _ = dcr_wire::Command::FeeFilter;
    let _ = dcr_wire::Command::GetCFilterV2;
    let _ = dcr_wire::Command::CFilterV2;
    let _ = dcr_wire::Command::GetInitState;
    let _ = dcr_wire::Command::InitState;
    let _ = dcr_wire::Command::MixPairReq;
    let _ = dcr_wire::Command::MixKeyExchange;
    let _ = dcr_wire::Command::MixCiphertexts;
    let _ = dcr_wire::Command::MixSlotReserve;
    let _ = dcr_wire::Command::MixFactoredPoly;
    let _ = dcr_wire::Command::MixDCNet;
    let _ = dcr_wire::Command::MixConfirm;
    let _ = dcr_wire::Command::MixSecrets;
    let _ = dcr_wire::Command::GetCFsV2;
    let _ = dcr_wire::Command::CFiltersV2;
    let _ = dcr_wire::Command::GetCFilter;
    let _ = dcr_wire::Command::GetCFHeaders;
    let _ = dcr_wire::Command::GetCFTypes;
    let _ = dcr_wire::Command::CFilter;
    let _ = dcr_wire::Command::CFHeaders;
    let _ = dcr_wire::Command::CFTypes;
    named::<dcr_wire::Message>();
    a_payload::<dcr_wire::Ping>();
    let _ = dcr_wire::write_message::<Vec<u8>>;
    let _ = dcr_wire::read_message::<&[u8]>;
    let _ = dcr_wire::msg::MIX_MSG_SIZE;
    named::<dcr_wire::MixVect>();
    let _ = <dcr_wire::MixVect as std::fmt::Display>::fmt;
    let _ = dcr_wire::msg::MAX_ADDR_PER_MSG;
    named::<dcr_wire::Addr>();
    let _ = |x: &dcr_wire::Addr| {
        let _ = &x.addr_list;
    };
    let _ = <dcr_wire::Addr as dcr_wire::Payload>::decode;
    let _ = <dcr_wire::Addr as dcr_wire::Payload>::encode::<Vec<u8>>;
    let _ = <dcr_wire::Addr as dcr_wire::Payload>::COMMAND;
    let _ = <dcr_wire::Addr as dcr_wire::Payload>::max_payload_length;
    let _ = <dcr_wire::Addr as dcr_wire::Payload>::serialized_size;
    let _ = dcr_wire::msg::MAX_ADDR_PER_V2_MSG;
    named::<dcr_wire::AddrV2>();
    let _ = <dcr_wire::AddrV2 as dcr_wire::Payload>::decode;
    let _ = <dcr_wire::AddrV2 as dcr_wire::Payload>::encode::<Vec<u8>>;
    let _ = <dcr_wire::AddrV2 as dcr_wire::Payload>::COMMAND;
    let _ = <dcr_wire::AddrV2 as dcr_wire::Payload>::max_payload_length;
    let _ = <dcr_wire::AddrV2 as dcr_wire::Payload>::serialized_size;
    let _ = dcr_wire::msg::MAX_BLOCKS_PER_MSG;
    let _ = dcr_wire::msg::MAX_BLOCK_PAYLOAD_V3;
    let _ = dcr_wire::msg::MAX_BLOCK_PAYLOAD;
    let _ = dcr_wire::msg::max_tx_per_tree;
    named::<dcr_wire::TxLoc>();
    named::<dcr_wire::Block>();
    let _ = dcr_wire::Block::new;
    let _ = dcr_wire::TxTree::from_txs;
    let _ = |x: &dcr_wire::Block| {
        let _ = &x.txs;
    };
    let _ = |x: &dcr_wire::Block| {
        let _ = &x.stake_txs;
    };
    let _ = <dcr_wire::Block as dcr_wire::Payload>::decode;
    let _ = dcr_wire::Block::from_bytes;
    let _ = dcr_wire::Block::tx_locs;
    let _ = <dcr_wire::Block as dcr_wire::Payload>::encode::<Vec<u8>>;
    let _ = <dcr_wire::Block as dcr_wire::Payload>::serialized_size;
    let _ = <dcr_wire::Block as dcr_wire::Payload>::COMMAND;
    let _ = <dcr_wire::Block as dcr_wire::Payload>::max_payload_length;
    let _ = dcr_wire::Block::block_hash;
    let _ = dcr_wire::Block::pow_hash_v1;
    let _ = dcr_wire::Block::pow_hash_v2;
    let _ = dcr_wire::TxTree::tx_hashes;
    let _ = dcr_wire::msg::MAX_CF_HEADER_PAYLOAD;
    let _ = dcr_wire::msg::MAX_CF_HEADERS_PER_MSG;
    named::<dcr_wire::CFHeaders>();
    let _ = |x: &dcr_wire::CFHeaders| {
        let _ = &x.header_hashes;
    };
    let _ = <dcr_wire::CFHeaders as dcr_wire::Payload>::decode;
    let _ = <dcr_wire::CFHeaders as dcr_wire::Payload>::encode::<Vec<u8>>;
    let _ = <dcr_wire::CFHeaders as dcr_wire::Payload>::COMMAND;
    let _ = <dcr_wire::CFHeaders as dcr_wire::Payload>::max_payload_length;
    let _ = <dcr_wire::CFHeaders as dcr_wire::Payload>::serialized_size;
    let _ = dcr_wire::msg::MAX_CFILTER_DATA_SIZE;
    named::<dcr_wire::CFilter>();
    let _ = <dcr_wire::CFilter as dcr_wire::Payload>::decode;
    let _ = <dcr_wire::CFilter as dcr_wire::Payload>::encode::<Vec<u8>>;
    let _ = <dcr_wire::CFilter as dcr_wire::Payload>::COMMAND;
    let _ = <dcr_wire::CFilter as dcr_wire::Payload>::max_payload_length;
    let _ = <dcr_wire::CFilter as dcr_wire::Payload>::serialized_size;
    let _ = dcr_wire::msg::MAX_CFILTERS_V2_PER_BATCH;
    named::<dcr_wire::CFiltersV2>();
    let _ = <dcr_wire::CFiltersV2 as dcr_wire::Payload>::decode;
    let _ = <dcr_wire::CFiltersV2 as dcr_wire::Payload>::encode::<Vec<u8>>;
    let _ = <dcr_wire::CFiltersV2 as dcr_wire::Payload>::COMMAND;
    let _ = <dcr_wire::CFiltersV2 as dcr_wire::Payload>::max_payload_length;
    let _ = <dcr_wire::CFiltersV2 as dcr_wire::Payload>::serialized_size;
    let _ = dcr_wire::msg::MAX_HEADER_PROOF_HASHES;
    named::<dcr_wire::CFilterV2>();
    let _ = <dcr_wire::CFilterV2 as dcr_wire::Payload>::decode;
    let _ = <dcr_wire::CFilterV2 as dcr_wire::Payload>::encode::<Vec<u8>>;
    let _ = <dcr_wire::CFilterV2 as dcr_wire::Payload>::COMMAND;
    let _ = <dcr_wire::CFilterV2 as dcr_wire::Payload>::max_payload_length;
    let _ = <dcr_wire::CFilterV2 as dcr_wire::Payload>::serialized_size;
    let _ = dcr_wire::msg::MAX_FILTER_TYPES_PER_MSG;
    named::<dcr_wire::FilterType>();
    let _ = dcr_wire::FilterType::REGULAR;
    let _ = dcr_wire::FilterType::EXTENDED;
    named::<dcr_wire::CFTypes>();
    let _ = <dcr_wire::CFTypes as dcr_wire::Payload>::decode;
    let _ = <dcr_wire::CFTypes as dcr_wire::Payload>::encode::<Vec<u8>>;
    let _ = <dcr_wire::CFTypes as dcr_wire::Payload>::COMMAND;
    let _ = <dcr_wire::CFTypes as dcr_wire::Payload>::max_payload_length;
    let _ = <dcr_wire::CFTypes as dcr_wire::Payload>::serialized_size;
    named::<dcr_wire::FeeFilter>();
    let _ = <dcr_wire::FeeFilter as dcr_wire::Payload>::decode;
    let _ = <dcr_wire::FeeFilter as dcr_wire::Payload>::encode::<Vec<u8>>;
    let _ = <dcr_wire::FeeFilter as dcr_wire::Payload>::COMMAND;
    let _ = <dcr_wire::FeeFilter as dcr_wire::Payload>::max_payload_length;
    let _ = <dcr_wire::FeeFilter as dcr_wire::Payload>::serialized_size;
    named::<dcr_wire::GetAddr>();
    let _ = <dcr_wire::GetAddr as dcr_wire::Payload>::decode;
    let _ = <dcr_wire::GetAddr as dcr_wire::Payload>::encode::<Vec<u8>>;
    let _ = <dcr_wire::GetAddr as dcr_wire::Payload>::COMMAND;
    let _ = <dcr_wire::GetAddr as dcr_wire::Payload>::max_payload_length;
    let _ = <dcr_wire::GetAddr as dcr_wire::Payload>::serialized_size;
    let _ = dcr_wire::msg::MAX_BLOCK_LOCATORS_PER_MSG;
    named::<dcr_wire::GetBlocks>();
    let _ = |x: &dcr_wire::GetBlocks| {
        let _ = &x.block_locator_hashes;
    };
    let _ = <dcr_wire::GetBlocks as dcr_wire::Payload>::decode;
    let _ = <dcr_wire::GetBlocks as dcr_wire::Payload>::encode::<Vec<u8>>;
    let _ = <dcr_wire::GetBlocks as dcr_wire::Payload>::COMMAND;
    let _ = <dcr_wire::GetBlocks as dcr_wire::Payload>::max_payload_length;
    let _ = <dcr_wire::GetBlocks as dcr_wire::Payload>::serialized_size;
    let _ = dcr_wire::GetBlocks::new;
    named::<dcr_wire::GetCFHeaders>();
    let _ = |x: &dcr_wire::GetCFHeaders| {
        let _ = &x.block_locator_hashes;
    };
    let _ = <dcr_wire::GetCFHeaders as dcr_wire::Payload>::decode;
    let _ = <dcr_wire::GetCFHeaders as dcr_wire::Payload>::encode::<Vec<u8>>;
    let _ = <dcr_wire::GetCFHeaders as dcr_wire::Payload>::COMMAND;
    let _ = <dcr_wire::GetCFHeaders as dcr_wire::Payload>::max_payload_length;
    let _ = <dcr_wire::GetCFHeaders as dcr_wire::Payload>::serialized_size;
    named::<dcr_wire::GetCFilter>();
    let _ = <dcr_wire::GetCFilter as dcr_wire::Payload>::decode;
    let _ = <dcr_wire::GetCFilter as dcr_wire::Payload>::encode::<Vec<u8>>;
    let _ = <dcr_wire::GetCFilter as dcr_wire::Payload>::COMMAND;
    let _ = <dcr_wire::GetCFilter as dcr_wire::Payload>::max_payload_length;
    let _ = <dcr_wire::GetCFilter as dcr_wire::Payload>::serialized_size;
    named::<dcr_wire::GetCFilterV2>();
    let _ = <dcr_wire::GetCFilterV2 as dcr_wire::Payload>::decode;
    let _ = <dcr_wire::GetCFilterV2 as dcr_wire::Payload>::encode::<Vec<u8>>;
    let _ = <dcr_wire::GetCFilterV2 as dcr_wire::Payload>::COMMAND;
    let _ = <dcr_wire::GetCFilterV2 as dcr_wire::Payload>::max_payload_length;
    let _ = <dcr_wire::GetCFilterV2 as dcr_wire::Payload>::serialized_size;
    named::<dcr_wire::GetCFsV2>();
    let _ = <dcr_wire::GetCFsV2 as dcr_wire::Payload>::decode;
    let _ = <dcr_wire::GetCFsV2 as dcr_wire::Payload>::encode::<Vec<u8>>;
    let _ = <dcr_wire::GetCFsV2 as dcr_wire::Payload>::COMMAND;
    let _ = <dcr_wire::GetCFsV2 as dcr_wire::Payload>::max_payload_length;
    let _ = <dcr_wire::GetCFsV2 as dcr_wire::Payload>::serialized_size;
    named::<dcr_wire::GetCFTypes>();
    let _ = <dcr_wire::GetCFTypes as dcr_wire::Payload>::decode;
    let _ = <dcr_wire::GetCFTypes as dcr_wire::Payload>::encode::<Vec<u8>>;
    let _ = <dcr_wire::GetCFTypes as dcr_wire::Payload>::COMMAND;
    let _ = <dcr_wire::GetCFTypes as dcr_wire::Payload>::max_payload_length;
    let _ = <dcr_wire::GetCFTypes as dcr_wire::Payload>::serialized_size;
    named::<dcr_wire::GetData>();
    let _ = |x: &dcr_wire::GetData| {
        let _ = &x.inv_list;
    };
    let _ = <dcr_wire::GetData as dcr_wire::Payload>::decode;
    let _ = <dcr_wire::GetData as dcr_wire::Payload>::encode::<Vec<u8>>;
    let _ = <dcr_wire::GetData as dcr_wire::Payload>::COMMAND;
    let _ = <dcr_wire::GetData as dcr_wire::Payload>::max_payload_length;
    let _ = <dcr_wire::GetData as dcr_wire::Payload>::serialized_size;
    named::<dcr_wire::GetHeaders>();
    let _ = |x: &dcr_wire::GetHeaders| {
        let _ = &x.block_locator_hashes;
    };
    let _ = <dcr_wire::GetHeaders as dcr_wire::Payload>::decode;
    let _ = <dcr_wire::GetHeaders as dcr_wire::Payload>::encode::<Vec<u8>>;
    let _ = <dcr_wire::GetHeaders as dcr_wire::Payload>::COMMAND;
    let _ = <dcr_wire::GetHeaders as dcr_wire::Payload>::max_payload_length;
    let _ = <dcr_wire::GetHeaders as dcr_wire::Payload>::serialized_size;
    let _ = dcr_wire::msg::MAX_INIT_STATE_TYPE_LEN;
    let _ = dcr_wire::msg::MAX_INIT_STATE_TYPES;
    let _ = dcr_wire::msg::init_state_type::HEAD_BLOCKS;
    let _ = dcr_wire::msg::init_state_type::HEAD_BLOCK_VOTES;
    let _ = dcr_wire::msg::init_state_type::TSPENDS;
    named::<dcr_wire::GetInitState>();
    let _ = |x: &dcr_wire::GetInitState| {
        let _ = &x.types;
    };
    let _ = <dcr_wire::GetInitState as dcr_wire::Payload>::decode;
    let _ = <dcr_wire::GetInitState as dcr_wire::Payload>::encode::<Vec<u8>>;
    let _ = <dcr_wire::GetInitState as dcr_wire::Payload>::COMMAND;
    let _ = <dcr_wire::GetInitState as dcr_wire::Payload>::max_payload_length;
    let _ = <dcr_wire::GetInitState as dcr_wire::Payload>::serialized_size;
    named::<dcr_wire::GetMiningState>();
    let _ = <dcr_wire::GetMiningState as dcr_wire::Payload>::decode;
    let _ = <dcr_wire::GetMiningState as dcr_wire::Payload>::encode::<Vec<u8>>;
    let _ = <dcr_wire::GetMiningState as dcr_wire::Payload>::COMMAND;
    let _ = <dcr_wire::GetMiningState as dcr_wire::Payload>::max_payload_length;
    let _ = <dcr_wire::GetMiningState as dcr_wire::Payload>::serialized_size;
    let _ = dcr_wire::msg::MAX_BLOCK_HEADERS_PER_MSG;
    named::<dcr_wire::Headers>();
    let _ = |x: &dcr_wire::Headers| {
        let _ = &x.headers;
    };
    let _ = <dcr_wire::Headers as dcr_wire::Payload>::decode;
    let _ = <dcr_wire::Headers as dcr_wire::Payload>::encode::<Vec<u8>>;
    let _ = <dcr_wire::Headers as dcr_wire::Payload>::COMMAND;
    let _ = <dcr_wire::Headers as dcr_wire::Payload>::max_payload_length;
    let _ = <dcr_wire::Headers as dcr_wire::Payload>::serialized_size;
    let _ = dcr_wire::msg::MAX_IS_BLOCKS_AT_HEAD_PER_MSG;
    let _ = dcr_wire::msg::MAX_IS_VOTES_AT_HEAD_PER_MSG;
    let _ = dcr_wire::msg::MAX_IS_TSPENDS_AT_HEAD_PER_MSG;
    named::<dcr_wire::InitState>();
    let _ = |x: &dcr_wire::InitState| {
        let _ = &x.block_hashes;
    };
    let _ = |x: &dcr_wire::InitState| {
        let _ = &x.vote_hashes;
    };
    let _ = |x: &dcr_wire::InitState| {
        let _ = &x.tspend_hashes;
    };
    let _ = <dcr_wire::InitState as dcr_wire::Payload>::decode;
    let _ = <dcr_wire::InitState as dcr_wire::Payload>::encode::<Vec<u8>>;
    let _ = <dcr_wire::InitState as dcr_wire::Payload>::COMMAND;
    let _ = <dcr_wire::InitState as dcr_wire::Payload>::max_payload_length;
    let _ = <dcr_wire::InitState as dcr_wire::Payload>::serialized_size;
    named::<dcr_wire::Inv>();
    let _ = |x: &dcr_wire::Inv| {
        let _ = &x.inv_list;
    };
    let _ = <dcr_wire::Inv as dcr_wire::Payload>::decode;
    let _ = <dcr_wire::Inv as dcr_wire::Payload>::encode::<Vec<u8>>;
    let _ = <dcr_wire::Inv as dcr_wire::Payload>::COMMAND;
    let _ = <dcr_wire::Inv as dcr_wire::Payload>::max_payload_length;
    let _ = <dcr_wire::Inv as dcr_wire::Payload>::serialized_size;
    named::<dcr_wire::MemPool>();
    let _ = <dcr_wire::MemPool as dcr_wire::Payload>::decode;
    let _ = <dcr_wire::MemPool as dcr_wire::Payload>::encode::<Vec<u8>>;
    let _ = <dcr_wire::MemPool as dcr_wire::Payload>::COMMAND;
    let _ = <dcr_wire::MemPool as dcr_wire::Payload>::max_payload_length;
    let _ = <dcr_wire::MemPool as dcr_wire::Payload>::serialized_size;
    let _ = dcr_wire::msg::MAX_MS_BLOCKS_AT_HEAD_PER_MSG;
    let _ = dcr_wire::msg::MAX_MS_VOTES_AT_HEAD_PER_MSG;
    named::<dcr_wire::MiningState>();
    let _ = |x: &dcr_wire::MiningState| {
        let _ = &x.block_hashes;
    };
    let _ = |x: &dcr_wire::MiningState| {
        let _ = &x.vote_hashes;
    };
    let _ = <dcr_wire::MiningState as dcr_wire::Payload>::decode;
    let _ = <dcr_wire::MiningState as dcr_wire::Payload>::encode::<Vec<u8>>;
    let _ = <dcr_wire::MiningState as dcr_wire::Payload>::COMMAND;
    let _ = <dcr_wire::MiningState as dcr_wire::Payload>::max_payload_length;
    let _ = <dcr_wire::MiningState as dcr_wire::Payload>::serialized_size;
    let _ = dcr_wire::MiningState::new;
    named::<dcr_wire::MixCiphertexts>();
    let _ = <dcr_wire::MixCiphertexts as dcr_wire::Payload>::decode;
    let _ = <dcr_wire::MixCiphertexts as dcr_wire::Payload>::encode::<Vec<u8>>;
    let _ = <dcr_wire::MixCiphertexts as dcr_wire::MixMessage>::mix_hash;
    let _ = dcr_wire::msg::mix_hash;
    let _ = <dcr_wire::MixCiphertexts as dcr_wire::MixMessage>::signed_data;
    let _ = <dcr_wire::MixCiphertexts as dcr_wire::MixMessage>::signature_hash;
    let _ = <dcr_wire::MixCiphertexts as dcr_wire::Payload>::COMMAND;
    let _ = <dcr_wire::MixCiphertexts as dcr_wire::Payload>::max_payload_length;
    let _ = <dcr_wire::MixCiphertexts as dcr_wire::Payload>::serialized_size;
    let _ = <dcr_wire::MixCiphertexts as dcr_wire::MixMessage>::identity;
    let _ = <dcr_wire::MixCiphertexts as dcr_wire::MixMessage>::signature;
    let _ = <dcr_wire::MixCiphertexts as dcr_wire::MixMessage>::prev_msgs;
    let _ = <dcr_wire::MixCiphertexts as dcr_wire::MixMessage>::session_id;
    let _ = <dcr_wire::MixCiphertexts as dcr_wire::MixMessage>::run;
    named::<dcr_wire::MixConfirm>();
    let _ = <dcr_wire::MixConfirm as dcr_wire::Payload>::decode;
    let _ = <dcr_wire::MixConfirm as dcr_wire::Payload>::encode::<Vec<u8>>;
    let _ = <dcr_wire::MixConfirm as dcr_wire::MixMessage>::mix_hash;
    let _ = <dcr_wire::MixConfirm as dcr_wire::MixMessage>::signed_data;
    let _ = <dcr_wire::MixConfirm as dcr_wire::MixMessage>::signature_hash;
    let _ = <dcr_wire::MixConfirm as dcr_wire::Payload>::COMMAND;
    let _ = <dcr_wire::MixConfirm as dcr_wire::Payload>::max_payload_length;
    let _ = <dcr_wire::MixConfirm as dcr_wire::Payload>::serialized_size;
    let _ = <dcr_wire::MixConfirm as dcr_wire::MixMessage>::identity;
    let _ = <dcr_wire::MixConfirm as dcr_wire::MixMessage>::signature;
    let _ = <dcr_wire::MixConfirm as dcr_wire::MixMessage>::prev_msgs;
    let _ = <dcr_wire::MixConfirm as dcr_wire::MixMessage>::session_id;
    let _ = <dcr_wire::MixConfirm as dcr_wire::MixMessage>::run;
    named::<dcr_wire::MixDCNet>();
    let _ = <dcr_wire::MixDCNet as dcr_wire::Payload>::decode;
    let _ = <dcr_wire::MixDCNet as dcr_wire::Payload>::encode::<Vec<u8>>;
    let _ = <dcr_wire::MixDCNet as dcr_wire::MixMessage>::mix_hash;
    let _ = <dcr_wire::MixDCNet as dcr_wire::MixMessage>::signed_data;
    let _ = <dcr_wire::MixDCNet as dcr_wire::MixMessage>::signature_hash;
    let _ = <dcr_wire::MixDCNet as dcr_wire::Payload>::COMMAND;
    let _ = <dcr_wire::MixDCNet as dcr_wire::Payload>::max_payload_length;
    let _ = <dcr_wire::MixDCNet as dcr_wire::Payload>::serialized_size;
    let _ = <dcr_wire::MixDCNet as dcr_wire::MixMessage>::identity;
    let _ = <dcr_wire::MixDCNet as dcr_wire::MixMessage>::signature;
    let _ = <dcr_wire::MixDCNet as dcr_wire::MixMessage>::prev_msgs;
    let _ = <dcr_wire::MixDCNet as dcr_wire::MixMessage>::session_id;
    let _ = <dcr_wire::MixDCNet as dcr_wire::MixMessage>::run;
    named::<dcr_wire::MixFactoredPoly>();
    let _ = <dcr_wire::MixFactoredPoly as dcr_wire::Payload>::decode;
    let _ = <dcr_wire::MixFactoredPoly as dcr_wire::Payload>::encode::<Vec<u8>>;
    let _ = <dcr_wire::MixFactoredPoly as dcr_wire::MixMessage>::mix_hash;
    let _ = <dcr_wire::MixFactoredPoly as dcr_wire::MixMessage>::signed_data;
    let _ = <dcr_wire::MixFactoredPoly as dcr_wire::MixMessage>::signature_hash;
    let _ = <dcr_wire::MixFactoredPoly as dcr_wire::Payload>::COMMAND;
    let _ = <dcr_wire::MixFactoredPoly as dcr_wire::Payload>::max_payload_length;
    let _ = <dcr_wire::MixFactoredPoly as dcr_wire::Payload>::serialized_size;
    let _ = <dcr_wire::MixFactoredPoly as dcr_wire::MixMessage>::identity;
    let _ = <dcr_wire::MixFactoredPoly as dcr_wire::MixMessage>::signature;
    let _ = <dcr_wire::MixFactoredPoly as dcr_wire::MixMessage>::prev_msgs;
    let _ = <dcr_wire::MixFactoredPoly as dcr_wire::MixMessage>::session_id;
    let _ = <dcr_wire::MixFactoredPoly as dcr_wire::MixMessage>::run;
    let _ = dcr_wire::msg::MAX_MIX_PEERS;
    named::<dcr_wire::MixKeyExchange>();
    let _ = <dcr_wire::MixKeyExchange as dcr_wire::Payload>::decode;
    let _ = <dcr_wire::MixKeyExchange as dcr_wire::Payload>::encode::<Vec<u8>>;
    let _ = <dcr_wire::MixKeyExchange as dcr_wire::MixMessage>::mix_hash;
    let _ = <dcr_wire::MixKeyExchange as dcr_wire::MixMessage>::signed_data;
    let _ = <dcr_wire::MixKeyExchange as dcr_wire::MixMessage>::signature_hash;
    let _ = <dcr_wire::MixKeyExchange as dcr_wire::Payload>::COMMAND;
    let _ = <dcr_wire::MixKeyExchange as dcr_wire::Payload>::max_payload_length;
    let _ = <dcr_wire::MixKeyExchange as dcr_wire::Payload>::serialized_size;
    let _ = <dcr_wire::MixKeyExchange as dcr_wire::MixMessage>::identity;
    let _ = <dcr_wire::MixKeyExchange as dcr_wire::MixMessage>::signature;
    let _ = <dcr_wire::MixKeyExchange as dcr_wire::MixMessage>::prev_msgs;
    let _ = <dcr_wire::MixKeyExchange as dcr_wire::MixMessage>::session_id;
    let _ = <dcr_wire::MixKeyExchange as dcr_wire::MixMessage>::run;
    let _ = dcr_wire::msg::MAX_MIX_PAIR_REQ_SCRIPT_CLASS_LEN;
    let _ = dcr_wire::msg::MAX_MIX_PAIR_REQ_UTXOS;
    let _ = dcr_wire::msg::MAX_MIX_PAIR_REQ_UTXO_SCRIPT_LEN;
    let _ = dcr_wire::msg::MAX_MIX_PAIR_REQ_UTXO_PUBKEY_LEN;
    let _ = dcr_wire::msg::MAX_MIX_PAIR_REQ_UTXO_SIGNATURE_LEN;
    named::<dcr_wire::MixPairReqUtxo>();
    named::<dcr_wire::MixPairReq>();
    let _ = dcr_wire::MixPairReq::pairing;
    let _ = <dcr_wire::MixPairReq as dcr_wire::Payload>::decode;
    let _ = <dcr_wire::MixPairReq as dcr_wire::Payload>::encode::<Vec<u8>>;
    let _ = <dcr_wire::MixPairReq as dcr_wire::MixMessage>::mix_hash;
    let _ = <dcr_wire::MixPairReq as dcr_wire::MixMessage>::signed_data;
    let _ = <dcr_wire::MixPairReq as dcr_wire::MixMessage>::signature_hash;
    let _ = <dcr_wire::MixPairReq as dcr_wire::Payload>::COMMAND;
    let _ = <dcr_wire::MixPairReq as dcr_wire::Payload>::max_payload_length;
    let _ = <dcr_wire::MixPairReq as dcr_wire::Payload>::serialized_size;
    let _ = <dcr_wire::MixPairReq as dcr_wire::MixMessage>::identity;
    let _ = <dcr_wire::MixPairReq as dcr_wire::MixMessage>::signature;
    let _ = <dcr_wire::MixPairReq as dcr_wire::MixMessage>::expires;
    let _ = |x: &dcr_wire::MixPairReq| {
        let _ = &x.expiry;
    };
    let _ = <dcr_wire::MixPairReq as dcr_wire::MixMessage>::prev_msgs;
    let _ = <dcr_wire::MixPairReq as dcr_wire::MixMessage>::session_id;
    let _ = <dcr_wire::MixPairReq as dcr_wire::MixMessage>::run;
    named::<dcr_wire::MixSecrets>();
    let _ = <dcr_wire::MixSecrets as dcr_wire::Payload>::decode;
    let _ = <dcr_wire::MixSecrets as dcr_wire::Payload>::encode::<Vec<u8>>;
    let _ = <dcr_wire::MixSecrets as dcr_wire::MixMessage>::mix_hash;
    let _ = dcr_wire::MixSecrets::commitment;
    let _ = <dcr_wire::MixSecrets as dcr_wire::MixMessage>::signed_data;
    let _ = <dcr_wire::MixSecrets as dcr_wire::MixMessage>::signature_hash;
    let _ = <dcr_wire::MixSecrets as dcr_wire::Payload>::COMMAND;
    let _ = <dcr_wire::MixSecrets as dcr_wire::Payload>::max_payload_length;
    let _ = <dcr_wire::MixSecrets as dcr_wire::Payload>::serialized_size;
    let _ = <dcr_wire::MixSecrets as dcr_wire::MixMessage>::identity;
    let _ = <dcr_wire::MixSecrets as dcr_wire::MixMessage>::signature;
    let _ = <dcr_wire::MixSecrets as dcr_wire::MixMessage>::prev_msgs;
    let _ = <dcr_wire::MixSecrets as dcr_wire::MixMessage>::session_id;
    let _ = <dcr_wire::MixSecrets as dcr_wire::MixMessage>::run;
    let _ = dcr_wire::msg::MAX_MIX_MCOUNT;
    let _ = dcr_wire::msg::MAX_MIX_FIELD_VAL_LEN;
    named::<dcr_wire::MixSlotReserve>();
    let _ = <dcr_wire::MixSlotReserve as dcr_wire::Payload>::decode;
    let _ = <dcr_wire::MixSlotReserve as dcr_wire::Payload>::encode::<Vec<u8>>;
    let _ = <dcr_wire::MixSlotReserve as dcr_wire::MixMessage>::mix_hash;
    let _ = <dcr_wire::MixSlotReserve as dcr_wire::MixMessage>::signed_data;
    let _ = <dcr_wire::MixSlotReserve as dcr_wire::MixMessage>::signature_hash;
    let _ = <dcr_wire::MixSlotReserve as dcr_wire::Payload>::COMMAND;
    let _ = <dcr_wire::MixSlotReserve as dcr_wire::Payload>::max_payload_length;
    let _ = <dcr_wire::MixSlotReserve as dcr_wire::Payload>::serialized_size;
    let _ = <dcr_wire::MixSlotReserve as dcr_wire::MixMessage>::identity;
    let _ = <dcr_wire::MixSlotReserve as dcr_wire::MixMessage>::signature;
    let _ = <dcr_wire::MixSlotReserve as dcr_wire::MixMessage>::prev_msgs;
    let _ = <dcr_wire::MixSlotReserve as dcr_wire::MixMessage>::session_id;
    let _ = <dcr_wire::MixSlotReserve as dcr_wire::MixMessage>::run;
    named::<dcr_wire::NotFound>();
    let _ = |x: &dcr_wire::NotFound| {
        let _ = &x.inv_list;
    };
    let _ = <dcr_wire::NotFound as dcr_wire::Payload>::decode;
    let _ = <dcr_wire::NotFound as dcr_wire::Payload>::encode::<Vec<u8>>;
    let _ = <dcr_wire::NotFound as dcr_wire::Payload>::COMMAND;
    let _ = <dcr_wire::NotFound as dcr_wire::Payload>::max_payload_length;
    let _ = <dcr_wire::NotFound as dcr_wire::Payload>::serialized_size;
    named::<dcr_wire::Ping>();
    let _ = <dcr_wire::Ping as dcr_wire::Payload>::decode;
    let _ = <dcr_wire::Ping as dcr_wire::Payload>::encode::<Vec<u8>>;
    let _ = <dcr_wire::Ping as dcr_wire::Payload>::COMMAND;
    let _ = <dcr_wire::Ping as dcr_wire::Payload>::max_payload_length;
    let _ = <dcr_wire::Ping as dcr_wire::Payload>::serialized_size;
    named::<dcr_wire::Pong>();
    let _ = <dcr_wire::Pong as dcr_wire::Payload>::decode;
    let _ = <dcr_wire::Pong as dcr_wire::Payload>::encode::<Vec<u8>>;
    let _ = <dcr_wire::Pong as dcr_wire::Payload>::COMMAND;
    let _ = <dcr_wire::Pong as dcr_wire::Payload>::max_payload_length;
    let _ = <dcr_wire::Pong as dcr_wire::Payload>::serialized_size;
    named::<dcr_wire::RejectCode>();
    let _ = dcr_wire::RejectCode::MALFORMED;
    let _ = dcr_wire::RejectCode::INVALID;
    let _ = dcr_wire::RejectCode::OBSOLETE;
    let _ = dcr_wire::RejectCode::DUPLICATE;
    let _ = dcr_wire::RejectCode::NONSTANDARD;
    let _ = dcr_wire::RejectCode::DUST;
    let _ = dcr_wire::RejectCode::INSUFFICIENT_FEE;
    let _ = dcr_wire::RejectCode::CHECKPOINT;
    let _ = <dcr_wire::RejectCode as std::fmt::Display>::fmt;
    named::<dcr_wire::Reject>();
    let _ = <dcr_wire::Reject as dcr_wire::Payload>::decode;
    let _ = <dcr_wire::Reject as dcr_wire::Payload>::encode::<Vec<u8>>;
    let _ = <dcr_wire::Reject as dcr_wire::Payload>::COMMAND;
    let _ = <dcr_wire::Reject as dcr_wire::Payload>::max_payload_length;
    let _ = <dcr_wire::Reject as dcr_wire::Payload>::serialized_size;
    named::<dcr_wire::SendHeaders>();
    let _ = <dcr_wire::SendHeaders as dcr_wire::Payload>::decode;
    let _ = <dcr_wire::SendHeaders as dcr_wire::Payload>::encode::<Vec<u8>>;
    let _ = <dcr_wire::SendHeaders as dcr_wire::Payload>::COMMAND;
    let _ = <dcr_wire::SendHeaders as dcr_wire::Payload>::max_payload_length;
    let _ = <dcr_wire::SendHeaders as dcr_wire::Payload>::serialized_size;
    let _ = dcr_wire::msg::TX_VERSION;
    let _ = dcr_wire::msg::TX_VERSION_SEQ_LOCK;
    let _ = dcr_wire::msg::TX_VERSION_TREASURY;
    let _ = dcr_wire::msg::MAX_TX_IN_SEQUENCE_NUM;
    let _ = dcr_wire::msg::MAX_PREV_OUT_INDEX;
    let _ = dcr_wire::msg::NO_EXPIRY_VALUE;
    let _ = dcr_wire::msg::NULL_VALUE_IN;
    let _ = dcr_wire::msg::NULL_BLOCK_HEIGHT;
    let _ = dcr_wire::msg::NULL_BLOCK_INDEX;
    let _ = dcr_wire::msg::DEFAULT_PK_SCRIPT_VERSION;
    let _ = dcr_wire::msg::tree::UNKNOWN;
    let _ = dcr_wire::msg::tree::REGULAR;
    let _ = dcr_wire::msg::tree::STAKE;
    let _ = dcr_wire::msg::SEQUENCE_LOCK_TIME_DISABLED;
    let _ = dcr_wire::msg::SEQUENCE_LOCK_TIME_IS_SECONDS;
    let _ = dcr_wire::msg::SEQUENCE_LOCK_TIME_MASK;
    let _ = dcr_wire::msg::SEQUENCE_LOCK_TIME_GRANULARITY;
    named::<dcr_wire::TxSerType>();
    let _ = dcr_wire::TxSerType::Full;
    let _ = dcr_wire::TxSerType::NoWitness;
    let _ = dcr_wire::TxSerType::OnlyWitness;
    named::<dcr_wire::OutPoint>();
    let _ = dcr_wire::OutPoint::new;
    let _ = <dcr_wire::OutPoint as std::fmt::Display>::fmt;
    named::<dcr_wire::TxIn>();
    let _ = dcr_wire::TxIn::serialized_size_prefix;
    let _ = dcr_wire::TxIn::serialized_size_witness;
    let _: fn(dcr_wire::OutPoint, i64, Vec<u8>) -> dcr_wire::TxIn<'static> = dcr_wire::TxIn::new;
    named::<dcr_wire::TxOut>();
    let _ = dcr_wire::TxOut::serialized_size;
    let _: fn(i64, Vec<u8>) -> dcr_wire::TxOut<'static> = dcr_wire::TxOut::new;
    named::<dcr_wire::Tx>();
    let _ = |x: &dcr_wire::Tx| {
        let _ = &x.inputs;
    };
    let _ = |x: &dcr_wire::Tx| {
        let _ = &x.outputs;
    };
    let _ = dcr_wire::Tx::tx_hash;
    let _ = dcr_wire::RawTx::tx_hash;
    let _ = dcr_wire::Tx::witness_hash;
    let _ = dcr_wire::RawTx::witness_hash;
    let _ = dcr_wire::Tx::full_hash;
    let _ = dcr_wire::RawTx::full_hash;
    let _ = <dcr_wire::Tx as Clone>::clone;
    let _ = <dcr_wire::Tx as dcr_wire::Payload>::into_owned;
    let _ = <dcr_wire::Tx as dcr_wire::Payload>::decode;
    let _ = dcr_wire::Tx::parse;
    let _ = dcr_wire::Tx::from_bytes;
    let _ = <dcr_wire::Tx as dcr_wire::Payload>::encode::<Vec<u8>>;
    let _ = dcr_wire::Tx::write_as::<Vec<u8>>;
    let _ = dcr_wire::Tx::to_bytes_as;
    let _ = <dcr_wire::Tx as dcr_wire::Payload>::serialized_size;
    let _ = dcr_wire::Tx::size_as;
    let _ = <dcr_wire::Tx as dcr_wire::Payload>::COMMAND;
    let _ = <dcr_wire::Tx as dcr_wire::Payload>::max_payload_length;
    let _ = dcr_wire::Tx::pk_script_locs;
    let _ = dcr_wire::Tx::new;
    let _ = dcr_wire::OutPoint::parse;
    let _ = dcr_wire::OutPoint::write::<Vec<u8>>;
    named::<dcr_wire::VerAck>();
    let _ = <dcr_wire::VerAck as dcr_wire::Payload>::decode;
    let _ = <dcr_wire::VerAck as dcr_wire::Payload>::encode::<Vec<u8>>;
    let _ = <dcr_wire::VerAck as dcr_wire::Payload>::COMMAND;
    let _ = <dcr_wire::VerAck as dcr_wire::Payload>::max_payload_length;
    let _ = <dcr_wire::VerAck as dcr_wire::Payload>::serialized_size;
    let _ = dcr_wire::msg::MAX_USER_AGENT_LEN;
    let _ = dcr_wire::msg::DEFAULT_USER_AGENT;
    named::<dcr_wire::Version>();
    let _ = dcr_wire::Version::has_service;
    let _ = |x: &dcr_wire::Version| {
        let _ = &x.services;
    };
    let _ = dcr_wire::ServiceFlags::insert;
    let _ = <dcr_wire::Version as dcr_wire::Payload>::decode;
    let _ = <dcr_wire::Version as dcr_wire::Payload>::encode::<Vec<u8>>;
    let _ = <dcr_wire::Version as dcr_wire::Payload>::COMMAND;
    let _ = <dcr_wire::Version as dcr_wire::Payload>::max_payload_length;
    let _ = <dcr_wire::Version as dcr_wire::Payload>::serialized_size;
    let _ = dcr_wire::Version::new;
    let _ = dcr_wire::NetAddress::from_socket_addr;
    let _ = dcr_wire::Version::add_user_agent;
    named::<dcr_wire::NetAddress>();
    let _ = dcr_wire::NetAddress::has_service;
    let _ = |x: &dcr_wire::NetAddress| {
        let _ = &x.services;
    };
    let _ = dcr_wire::NetAddress::serialized_size;
    let _ = dcr_wire::NetAddress::now;
    let _ = dcr_wire::NetAddress::new;
    let _ = dcr_wire::NetAddress::with_timestamp;
    named::<dcr_wire::NetAddressType>();
    let _ = dcr_wire::NetAddressType::from_u8;
    let _ = dcr_wire::NetAddressType::IPv4;
    let _ = dcr_wire::NetAddressType::IPv6;
    let _ = dcr_wire::NetAddressType::TorV3;
    named::<dcr_wire::NetAddressV2>();
    let _ = dcr_wire::NetAddressV2::serialized_size;
    let _ = dcr_wire::NetAddressV2::new;
    let _ = dcr_wire::NetAddressV2::now;
    let _ = dcr_wire::pver::INITIAL;
    let _ = dcr_wire::pver::CURRENT;
    let _ = dcr_wire::pver::NODE_BLOOM;
    let _ = dcr_wire::pver::SEND_HEADERS;
    let _ = dcr_wire::pver::MAX_BLOCK_SIZE;
    let _ = dcr_wire::pver::FEE_FILTER;
    let _ = dcr_wire::pver::NODE_CF;
    let _ = dcr_wire::pver::CFILTER_V2;
    let _ = dcr_wire::pver::INIT_STATE;
    let _ = dcr_wire::pver::REMOVE_REJECT;
    let _ = dcr_wire::pver::MIX;
    let _ = dcr_wire::pver::BATCHED_CFILTERS_V2;
    let _ = dcr_wire::pver::ADDR_V2;
    named::<dcr_wire::ServiceFlags>();
    let _ = dcr_wire::ServiceFlags::NODE_NETWORK;
    let _ = dcr_wire::ServiceFlags::NODE_BLOOM;
    let _ = dcr_wire::ServiceFlags::NODE_CF;
    let _ = <dcr_wire::ServiceFlags as std::fmt::Display>::fmt;
    named::<dcr_wire::CurrencyNet>();
    let _ = dcr_wire::CurrencyNet::MainNet;
    let _ = dcr_wire::CurrencyNet::RegNet;
    let _ = dcr_wire::CurrencyNet::TestNet3;
    let _ = dcr_wire::CurrencyNet::SimNet;
    let _ = <dcr_wire::CurrencyNet as std::fmt::Display>::fmt;
    named::<dcr_peer::HandshakeError>();
    let _ = dcr_peer::HandshakeError::NotVersion;
    let _ = dcr_peer::HandshakeError::SelfConnection;
    let _ = dcr_peer::HandshakeError::ProtocolTooOld;
    let _ = dcr_peer::HandshakeError::NotVerAck;
    let _ = dcr_peer::PeerError::HandshakeTimeout;
    let _ = <dcr_peer::HandshakeError as std::fmt::Display>::fmt;
    named::<dcr_peer::PeerError>();
    let _ = <dcr_peer::PeerError as std::fmt::Display>::fmt;
    let _ = <dcr_peer::PeerError as std::error::Error>::source;
    named::<dyn dcr_peer::Listeners>();
    named::<dcr_peer::NoListeners>();
    let _ = <dcr_peer::NoListeners as dcr_peer::Listeners>::on_get_addr;
    let _ = <dcr_peer::NoListeners as dcr_peer::Listeners>::on_addr;
    let _ = <dcr_peer::NoListeners as dcr_peer::Listeners>::on_addr_v2;
    let _ = <dcr_peer::NoListeners as dcr_peer::Listeners>::on_ping;
    let _ = <dcr_peer::NoListeners as dcr_peer::Listeners>::on_pong;
    let _ = <dcr_peer::NoListeners as dcr_peer::Listeners>::on_mem_pool;
    let _ = <dcr_peer::NoListeners as dcr_peer::Listeners>::on_get_mining_state;
    let _ = <dcr_peer::NoListeners as dcr_peer::Listeners>::on_mining_state;
    let _ = <dcr_peer::NoListeners as dcr_peer::Listeners>::on_tx;
    let _ = <dcr_peer::NoListeners as dcr_peer::Listeners>::on_block;
    let _ = <dcr_peer::NoListeners as dcr_peer::Listeners>::on_cfilter;
    let _ = <dcr_peer::NoListeners as dcr_peer::Listeners>::on_cfilter_v2;
    let _ = <dcr_peer::NoListeners as dcr_peer::Listeners>::on_cfilters_v2;
    let _ = <dcr_peer::NoListeners as dcr_peer::Listeners>::on_cf_headers;
    let _ = <dcr_peer::NoListeners as dcr_peer::Listeners>::on_cf_types;
    let _ = <dcr_peer::NoListeners as dcr_peer::Listeners>::on_inv;
    let _ = <dcr_peer::NoListeners as dcr_peer::Listeners>::on_headers;
    let _ = <dcr_peer::NoListeners as dcr_peer::Listeners>::on_not_found;
    let _ = <dcr_peer::NoListeners as dcr_peer::Listeners>::on_get_data;
    let _ = <dcr_peer::NoListeners as dcr_peer::Listeners>::on_get_blocks;
    let _ = <dcr_peer::NoListeners as dcr_peer::Listeners>::on_get_headers;
    let _ = <dcr_peer::NoListeners as dcr_peer::Listeners>::on_get_cfilter;
    let _ = <dcr_peer::NoListeners as dcr_peer::Listeners>::on_get_cfilter_v2;
    let _ = <dcr_peer::NoListeners as dcr_peer::Listeners>::on_get_cfs_v2;
    let _ = <dcr_peer::NoListeners as dcr_peer::Listeners>::on_get_cf_headers;
    let _ = <dcr_peer::NoListeners as dcr_peer::Listeners>::on_get_cf_types;
    let _ = <dcr_peer::NoListeners as dcr_peer::Listeners>::on_fee_filter;
    let _ = <dcr_peer::NoListeners as dcr_peer::Listeners>::on_send_headers;
    let _ = <dcr_peer::NoListeners as dcr_peer::Listeners>::on_get_init_state;
    let _ = <dcr_peer::NoListeners as dcr_peer::Listeners>::on_init_state;
    let _ = <dcr_peer::NoListeners as dcr_peer::Listeners>::on_mix_pair_req;
    let _ = <dcr_peer::NoListeners as dcr_peer::Listeners>::on_mix_key_exchange;
    let _ = <dcr_peer::NoListeners as dcr_peer::Listeners>::on_mix_ciphertexts;
    let _ = <dcr_peer::NoListeners as dcr_peer::Listeners>::on_mix_slot_reserve;
    let _ = <dcr_peer::NoListeners as dcr_peer::Listeners>::on_mix_dc_net;
    let _ = <dcr_peer::NoListeners as dcr_peer::Listeners>::on_mix_confirm;
    let _ = <dcr_peer::NoListeners as dcr_peer::Listeners>::on_mix_factored_poly;
    let _ = <dcr_peer::NoListeners as dcr_peer::Listeners>::on_mix_secrets;
    let _ = <dcr_peer::NoListeners as dcr_peer::Listeners>::on_read;
    named::<dcr_peer::CodecError>();
    let _ = <dcr_peer::NoListeners as dcr_peer::Listeners>::on_write;
    named::<dcr_peer::SentFrame>();
    let _ = dcr_peer::SentFrame::message;
    named::<dcr_peer::Config>();
    named::<dcr_peer::Hooks>();
    let _ = |x: &dcr_peer::Hooks| {
        let _ = &x.newest_block;
    };
    let _ = |x: &dcr_peer::Hooks| {
        let _ = &x.host_to_addr;
    };
    let _ = |x: &dcr_peer::Config| {
        let _ = &x.proxy;
    };
    let _ = |x: &dcr_peer::Config| {
        let _ = &x.user_agent_name;
    };
    let _ = |x: &dcr_peer::Config| {
        let _ = &x.user_agent_version;
    };
    let _ = |x: &dcr_peer::Config| {
        let _ = &x.user_agent_comments;
    };
    let _ = |x: &dcr_peer::Config| {
        let _ = &x.net;
    };
    let _ = |x: &dcr_peer::Config| {
        let _ = &x.services;
    };
    let _ = |x: &dcr_peer::Config| {
        let _ = &x.protocol_version;
    };
    let _ = |x: &dcr_peer::Config| {
        let _ = &x.disable_relay_tx;
    };
    let _ = |x: &dcr_peer::Hooks| {
        let _ = &x.listeners;
    };
    let _ = |x: &dcr_peer::Config| {
        let _ = &x.idle_timeout;
    };
    let _ = dcr_peer::Config::validate;
    named::<dcr_peer::PeerStats>();
    let _ = |x: &dcr_peer::PeerStats| {
        let _ = &x.id;
    };
    let _ = |x: &dcr_peer::PeerStats| {
        let _ = &x.addr;
    };
    let _ = |x: &dcr_peer::PeerStats| {
        let _ = &x.services;
    };
    let _ = |x: &dcr_peer::PeerStats| {
        let _ = &x.counters;
    };
    let _ = |x: &dcr_peer::PeerCounters| {
        let _ = &x.last_send;
    };
    let _ = |x: &dcr_peer::PeerCounters| {
        let _ = &x.last_recv;
    };
    let _ = |x: &dcr_peer::PeerCounters| {
        let _ = &x.bytes_sent;
    };
    let _ = |x: &dcr_peer::PeerCounters| {
        let _ = &x.bytes_received;
    };
    let _ = |x: &dcr_peer::PeerStats| {
        let _ = &x.connected_at;
    };
    let _ = |x: &dcr_peer::PeerStats| {
        let _ = &x.time_offset;
    };
    let _ = |x: &dcr_peer::PeerStats| {
        let _ = &x.protocol_version;
    };
    let _ = |x: &dcr_peer::PeerStats| {
        let _ = &x.user_agent;
    };
    let _ = |x: &dcr_peer::PeerStats| {
        let _ = &x.direction;
    };
    let _ = |x: &dcr_peer::PeerStats| {
        let _ = &x.starting_height;
    };
    let _ = |x: &dcr_peer::PeerCounters| {
        let _ = &x.last_block_height;
    };
    let _ = |x: &dcr_peer::PeerCounters| {
        let _ = &x.last_ping_nonce;
    };
    let _ = |x: &dcr_peer::PeerCounters| {
        let _ = &x.last_ping_time;
    };
    let _ = |x: &dcr_peer::PeerCounters| {
        let _ = &x.ping_rtt;
    };
    named::<dcr_peer::hooks::NewestBlockFn>();
    named::<dcr_peer::hooks::HostToAddrFn>();
    named::<dcr_peer::Refusal>();
    named::<dcr_peer::Peer>();
    let _ = dcr_peer::Peer::addr;
    let _ = dcr_peer::Peer::direction;
    let _ = dcr_peer::Peer::update_last_block_height;
    let _ = dcr_peer::Peer::last_block;
    let _ = dcr_peer::Peer::last_announced_block;
    let _ = dcr_peer::Peer::update_last_announced_block;
    let _ = dcr_peer::Peer::local_addr;
    let _ = dcr_peer::Peer::add_known_inventory;
    let _ = dcr_peer::Peer::is_known_inventory;
    let _ = dcr_peer::Peer::stats;
    let _ = dcr_peer::Peer::id;
    let _ = dcr_peer::Peer::is_inbound;
    let _ = dcr_peer::Peer::remote_version;
    let _ = |x: &dcr_peer::RemoteVersion| {
        let _ = &x.services;
    };
    let _ = |x: &dcr_peer::RemoteVersion| {
        let _ = &x.user_agent;
    };
    let _ = dcr_peer::Peer::protocol_version;
    let _ = |x: &dcr_peer::RemoteVersion| {
        let _ = &x.time_offset;
    };
    let _ = |x: &dcr_peer::RemoteVersion| {
        let _ = &x.starting_height;
    };
    let _ = |x: &dcr_peer::PeerCounters| {
        let _ = &x.wants_headers;
    };
    let _ = dcr_peer::Peer::push_addresses;
    let _ = dcr_peer::Peer::push_get_headers;
    let _ = dcr_peer::Peer::queue_message;
    let _ = dcr_peer::Peer::queue_message_notify;
    let _ = dcr_peer::Peer::queue_inventory;
    let _ = dcr_peer::Peer::queue_inventory_immediate;
    let _ = dcr_peer::Peer::is_connected;
    let _ = dcr_peer::Peer::disconnect;
    let _ = <dcr_peer::NoListeners as dcr_peer::Listeners>::on_version;
    named::<dcr_peer::Refusal>();
    let _ = dcr_peer::Peer::outbound::<tokio::net::TcpStream>;
    let _ = dcr_peer::Peer::inbound::<tokio::net::TcpStream>;
    let _ = dcr_peer::Peer::wait_for_disconnect;
}

/// The "Here" column of every table row: the backquoted items.
fn listed_items(table: &str) -> Vec<&str> {
    table
        .lines()
        .filter(|l| l.starts_with("| `"))
        .filter_map(|l| l.split('|').nth(3))
        .flat_map(|cell| cell.split('`').skip(1).step_by(2))
        .collect()
}

/// How this file names `item`: a field through a closure, a type or trait
/// through `named` or a bound, anything else as a value.
fn is_named(item: &str, source: &str) -> bool {
    let forms = match item.rsplit_once('.') {
        Some((ty, field)) => vec![format!("|x: &{ty}| {{ let _ = &x.{field}; }};")],
        None => vec![
            format!(" = {item};"),
            format!(" = {item}::<"),
            format!("named::<{item}>();"),
            format!("named::<dyn {item}>();"),
            format!("T: {item}<"),
        ],
    };
    forms.iter().any(|f| source.contains(f.as_str()))
}

#[test]
fn the_table_names_only_what_this_file_checks() {
    let table = include_str!("../../docs/PARITY.md");
    // Compared with whitespace runs as single spaces, so that rustfmt's
    // line breaks do not matter.
    let source = include_str!("parity.rs")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let items = listed_items(table);
    assert!(
        items.len() > 500,
        "the table lost its rows: {} items",
        items.len()
    );
    let unnamed: Vec<_> = items.iter().filter(|i| !is_named(i, &source)).collect();
    assert!(
        unnamed.is_empty(),
        "listed in docs/PARITY.md but not named here: {unnamed:?}"
    );
}
