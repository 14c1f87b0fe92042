//! Placeholder until this family is written.

crate::msg::placeholder!(GetData = GetData);
crate::msg::placeholder!(Inv = Inv);
#[derive(Debug, Clone, PartialEq, Default)]
pub struct InvType;
#[derive(Debug, Clone, PartialEq, Default)]
pub struct InvVect;
crate::msg::placeholder!(NotFound = NotFound);
