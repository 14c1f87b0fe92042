//! Version 2 committed filters: Golomb-coded sets with the parameters of
//! dcrd's `gcs/blockcf2` (B = 19, M = 784931), keyed by the block's merkle
//! root. They are [`dcr_gcs`]'s, re-exported here so the light client's
//! API names them where it uses them; the header-commitment proofs are in
//! [`crate::commitment`].

pub use dcr_gcs::{build, filter_hash, key, Filter, FilterDecodeError, B, KEY_SIZE, M};
