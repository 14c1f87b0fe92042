//! Placeholder until this family is written.

crate::msg::placeholder!(borrowing Reject = Reject);
