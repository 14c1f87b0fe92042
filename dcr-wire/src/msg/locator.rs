//! Placeholder until this family is written.

crate::msg::placeholder!(GetBlocks = GetBlocks);
crate::msg::placeholder!(GetHeaders = GetHeaders);
