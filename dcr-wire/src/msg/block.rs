//! Placeholder until this family is written.

crate::msg::placeholder!(borrowing Block = Block);
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TxTree<'a>(std::marker::PhantomData<&'a ()>);
