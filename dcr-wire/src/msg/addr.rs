//! Placeholder until this family is written.

crate::msg::placeholder!(Addr = Addr);
crate::msg::placeholder!(AddrV2 = AddrV2);
