//! Placeholder until this family is written.

crate::msg::placeholder!(borrowing MixCiphertexts = MixCiphertexts);
crate::msg::placeholder!(borrowing MixConfirm = MixConfirm);
crate::msg::placeholder!(borrowing MixDCNet = MixDCNet);
crate::msg::placeholder!(borrowing MixFactoredPoly = MixFactoredPoly);
crate::msg::placeholder!(borrowing MixKeyExchange = MixKeyExchange);
crate::msg::placeholder!(borrowing MixPairReq = MixPairReq);
crate::msg::placeholder!(borrowing MixSecrets = MixSecrets);
crate::msg::placeholder!(borrowing MixSlotReserve = MixSlotReserve);
