//! Every message of the Decred wire protocol, one module per message family.
//!
//! The message types themselves ([`Tx`](crate::Tx), [`Block`](crate::Block),
//! [`Message`], ...) are at the crate root. This module holds
//! what belongs to a message but is not a type: its limits and constants
//! (`MAX_INV_PER_MSG`, `TX_VERSION`, ...) and the functions that go with it
//! ([`mix_hash`], [`max_block_payload`], ...).

pub(crate) mod addr;
pub(crate) mod block;
pub(crate) mod cfilter;
pub(crate) mod empty;
pub(crate) mod header;
pub(crate) mod initstate;
pub(crate) mod inv;
pub(crate) mod list;
pub(crate) mod locator;
pub(crate) mod mining;
pub(crate) mod mix;
pub(crate) mod netaddr;
pub(crate) mod reject;
pub(crate) mod set;
pub(crate) mod simple;
pub(crate) mod tx;
pub(crate) mod version;
pub(crate) mod view;

pub(crate) use set::{require_pver, Command, Message, Payload};

pub use addr::{MAX_ADDR_PER_MSG, MAX_ADDR_PER_V2_MSG};
pub use block::{max_tx_per_tree, MAX_BLOCKS_PER_MSG};
pub use cfilter::{
    MAX_CFILTERS_V2_PER_BATCH, MAX_CFILTER_DATA_SIZE, MAX_CF_HEADERS_PER_MSG,
    MAX_CF_HEADER_PAYLOAD, MAX_FILTER_TYPES_PER_MSG, MAX_HEADER_PROOF_HASHES,
};
pub use header::{BLOCK_HEADER_SIZE, MAX_BLOCK_HEADERS_PER_MSG};
pub use initstate::{
    init_state_type, MAX_INIT_STATE_TYPES, MAX_INIT_STATE_TYPE_LEN, MAX_IS_BLOCKS_AT_HEAD_PER_MSG,
    MAX_IS_TSPENDS_AT_HEAD_PER_MSG, MAX_IS_VOTES_AT_HEAD_PER_MSG,
};
pub use inv::{INV_VECT_SIZE, MAX_INV_PER_MSG};
pub use locator::MAX_BLOCK_LOCATORS_PER_MSG;
pub use mining::{
    MAX_MS_BLOCKS_AT_HEAD_PER_MSG, MAX_MS_VOTES_AT_HEAD_PER_MSG, MINING_STATE_VERSION,
};
pub use mix::{
    mix_hash, CIPHERTEXT_SIZE, MAX_MIX_FIELD_VAL_LEN, MAX_MIX_MCOUNT,
    MAX_MIX_PAIR_REQ_SCRIPT_CLASS_LEN, MAX_MIX_PAIR_REQ_UTXOS, MAX_MIX_PAIR_REQ_UTXO_PUBKEY_LEN,
    MAX_MIX_PAIR_REQ_UTXO_SCRIPT_LEN, MAX_MIX_PAIR_REQ_UTXO_SIGNATURE_LEN, MAX_MIX_PEERS,
    MIX_MSG_SIZE, PQ_PUBLIC_KEY_SIZE,
};
pub use netaddr::{
    MAX_NET_ADDRESS_PAYLOAD, MAX_NET_ADDRESS_V2_PAYLOAD, MIN_NET_ADDRESS_V2_PAYLOAD,
};
pub use tx::{
    max_block_payload, prefix_hashes_many, tree, tx_hashes_many, DEFAULT_PK_SCRIPT_VERSION,
    MAX_BLOCK_PAYLOAD, MAX_BLOCK_PAYLOAD_V3, MAX_PREV_OUT_INDEX, MAX_TX_IN_PER_MESSAGE,
    MAX_TX_IN_SEQUENCE_NUM, MAX_TX_OUT_PER_MESSAGE, MIN_TX_PAYLOAD, NO_EXPIRY_VALUE,
    NULL_BLOCK_HEIGHT, NULL_BLOCK_INDEX, NULL_VALUE_IN, SEQUENCE_LOCK_TIME_DISABLED,
    SEQUENCE_LOCK_TIME_GRANULARITY, SEQUENCE_LOCK_TIME_IS_SECONDS, SEQUENCE_LOCK_TIME_MASK,
    TX_VERSION, TX_VERSION_SEQ_LOCK, TX_VERSION_TREASURY,
};
pub use version::{format_user_agent, validate_user_agent, DEFAULT_USER_AGENT, MAX_USER_AGENT_LEN};
