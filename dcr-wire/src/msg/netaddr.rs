//! Placeholder until this family is written.

#[derive(Debug, Clone, PartialEq, Default)]
pub struct NetAddress;
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NetAddressV2;
