//! What can go wrong in an operation on the book.

use super::address::AddrKey;

/// Why an operation on a known address failed (dcrd's
/// `ErrAddressNotFound`; the error is logged and otherwise ignored by
/// dcrd's server).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AddrManagerError {
    /// The address is not in the book.
    #[error("address {0} not found")]
    NotFound(AddrKey),
    /// `good` on an address in no bucket (cannot happen while the book's
    /// invariants hold; dcrd has the same check).
    #[error("{0} is not marked as a new address")]
    NotNew(AddrKey),
    /// A local address that is not routable (`AddLocalAddress`).
    #[error("address {0} is not routable")]
    NotRoutable(AddrKey),
}
