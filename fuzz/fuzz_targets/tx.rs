//! Transactions in every serialization: the structured decoder and the
//! allocation-free scanner agree, and hashes from the received bytes equal
//! hashes of the re-serialized transaction.
#![no_main]

use dcr_wire::{RawTx, Tx, TxSerType};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let structured = Tx::parse(data);
    let raw = RawTx::parse(data);
    assert_eq!(structured.is_ok(), raw.is_ok());
    if let (Ok((rest_a, tx)), Ok((rest_b, raw))) = (structured, raw) {
        assert_eq!(rest_a.len(), rest_b.len());
        assert_eq!(raw.bytes(), &data[..data.len() - rest_a.len()]);
        assert_eq!(tx.to_bytes_as(tx.ser_type), raw.bytes());
        assert_eq!(raw.tx_hash(), tx.tx_hash());
        assert_eq!(raw.witness_hash(), tx.witness_hash());
        for t in [
            TxSerType::Full,
            TxSerType::NoWitness,
            TxSerType::OnlyWitness,
        ] {
            assert_eq!(tx.to_bytes_as(t).len(), tx.size_as(t));
        }
    }
});
