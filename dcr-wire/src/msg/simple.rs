//! Placeholder until this family is written.

crate::msg::placeholder!(FeeFilter = FeeFilter);
crate::msg::placeholder!(Ping = Ping);
crate::msg::placeholder!(Pong = Pong);
