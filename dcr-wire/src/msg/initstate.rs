//! Placeholder until this family is written.

crate::msg::placeholder!(borrowing GetInitState = GetInitState);
crate::msg::placeholder!(InitState = InitState);
