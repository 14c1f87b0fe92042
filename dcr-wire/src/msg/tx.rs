//! Placeholder until this family is written.

#[derive(Debug, Clone, PartialEq, Default)]
pub struct OutPoint;
crate::msg::placeholder!(borrowing Tx = Tx);
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TxIn<'a>(std::marker::PhantomData<&'a ()>);
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TxOut<'a>(std::marker::PhantomData<&'a ()>);
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TxSerType;
