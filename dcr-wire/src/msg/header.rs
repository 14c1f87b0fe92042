//! Placeholder until this family is written.

#[derive(Debug, Clone, PartialEq, Default)]
pub struct BlockHeader;
crate::msg::placeholder!(Headers = Headers);
