//! Placeholder until this family is written.

crate::msg::placeholder!(MiningState = MiningState);
