//! Version 2 committed filters of blocks, as dcrd builds them when it
//! connects a block (`gcs/blockcf2` `Regular`) and serves them with their
//! header-commitment proof (`internal/blockchain/headercmt.go`
//! `FilterByBlockHash`, `LocateCFiltersV2`). The Golomb-coded set itself is
//! [`dcr_gcs`].
//!
//! What a block puts into its filter, each script version 0, not empty
//! and at most [`MAX_SCRIPT_SIZE`] bytes where the reference checks so:
//!
//! | transactions | items |
//! | --- | --- |
//! | regular | every output script (`OP_RETURN` ones too); the scripts of the outputs spent, except by the coinbase |
//! | tickets | the scripts spent; each commitment turned into the P2PKH or P2SH script it pays; change scripts with a value, untagged |
//! | votes | outputs from the third on, untagged |
//! | revocations | every output, untagged |
//! | treasury adds | the scripts spent; the change, untagged, when it has a value |
//! | treasury spends | outputs from the second on, untagged |
//!
//! "Untagged" drops a stake script's first byte (its `OP_SS*`/`OP_TGEN`
//! opcode); a script spent from the stake tree loses it too when it is one
//! of the tagged stake kinds ([`crate::stake::is_stake_output`]). The key
//! is the first 16 bytes of the block's merkle root.

use std::collections::HashMap;

use dcr_wire::{Block, CFilterV2, Hash, OutPoint, Tx};

use crate::stake::{self, op, TxType};

/// The longest script the reference puts in a filter
/// (`txscript.MaxScriptSize`).
pub const MAX_SCRIPT_SIZE: usize = 16_384;

/// A block's filter as served: its bytes and the inclusion proof of its
/// hash in the header's commitment root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommittedFilter {
    /// The serialized filter (empty for a filter of no items).
    pub data: Vec<u8>,
    /// The leaf of the filter hash among the header commitments.
    pub proof_index: u32,
    /// The sibling hashes from that leaf up (none while the filter is
    /// the only commitment).
    pub proof_hashes: Vec<Hash>,
}

impl CommittedFilter {
    /// A filter with its proof among version 1 header commitments.
    pub fn new(data: Vec<u8>) -> CommittedFilter {
        let leaves = dcr_gcs::proof::commitment_leaves_v1(dcr_gcs::filter_hash(&data));
        let proof_index = dcr_gcs::proof::FILTER_PROOF_INDEX;
        let proof_hashes =
            dcr_gcs::proof::generate_inclusion_proof(&leaves, proof_index).unwrap_or_default();
        CommittedFilter {
            data,
            proof_index,
            proof_hashes,
        }
    }

    /// The `cfilterv2` message for the block `block_hash`.
    pub fn message(&self, block_hash: Hash) -> CFilterV2<'static> {
        CFilterV2 {
            block_hash,
            data: std::borrow::Cow::Owned(self.data.clone()),
            proof_index: self.proof_index,
            proof_hashes: self.proof_hashes.clone(),
        }
    }
}

/// The outputs of the blocks seen so far, by outpoint: where the scripts
/// of spent outputs come from (dcrd looks them up in its UTXO view).
#[derive(Debug, Default)]
pub struct PrevScripts {
    outputs: HashMap<(Hash, u32), Script>,
}

/// A script version and script.
type Script = (u16, Box<[u8]>);

impl PrevScripts {
    /// Adds every output of `block`, both trees.
    pub fn add_block(&mut self, block: &Block<'_>) {
        for tx in block.txs.iter().chain(block.stake_txs.iter()) {
            let hash = tx.tx_hash();
            for (i, o) in tx.outputs.iter().enumerate() {
                self.outputs
                    .insert((hash, i as u32), (o.version, o.pk_script.to_vec().into()));
            }
        }
    }

    /// The script version and script of the output `p` names.
    pub fn get(&self, p: &OutPoint) -> Option<(u16, &[u8])> {
        self.outputs
            .get(&(p.hash, p.index))
            .map(|(v, s)| (*v, &s[..]))
    }
}

/// A spent output whose script is not at hand (dcrd `PrevScriptError`):
/// the block cannot be connected, so it has no filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unable to find output script {}:{} referenced by {tx}:{input}", prev_out.hash, prev_out.index)]
pub struct MissingPrevScript {
    /// The output spent.
    pub prev_out: OutPoint,
    /// The spending transaction.
    pub tx: Hash,
    /// Its input.
    pub input: usize,
}

/// Scripts left out of filters (`excludeFromFilter`): not version 0,
/// empty, or longer than the reference allows.
fn excluded(version: u16, script: &[u8]) -> bool {
    version != 0 || script.is_empty() || script.len() > MAX_SCRIPT_SIZE
}

/// The items of one block, in dcrd's order (the order does not change the
/// filter, which sorts them).
#[derive(Default)]
struct Items(Vec<Vec<u8>>);

impl Items {
    /// `AddRegularPkScript`.
    fn regular(&mut self, s: &[u8]) {
        if !s.is_empty() {
            self.0.push(s.to_vec());
        }
    }

    /// `AddStakePkScript`: without its first byte.
    fn untagged(&mut self, s: &[u8]) {
        if !s.is_empty() {
            self.0.push(s[1..].to_vec());
        }
    }

    /// The script of every output `tx` spends, untagged when it is a
    /// tagged stake output spent from the stake tree.
    fn spent(&mut self, tx: &Tx<'_>, prev: &PrevScripts) -> Result<(), MissingPrevScript> {
        for (input, txin) in tx.inputs.iter().enumerate() {
            let p = &txin.previous_out_point;
            let (version, script) = prev.get(p).ok_or(MissingPrevScript {
                prev_out: *p,
                tx: tx.tx_hash(),
                input,
            })?;
            if excluded(version, script) {
                continue;
            }
            if p.tree == dcr_wire::msg::tree::STAKE && stake::is_stake_output(version, script) {
                self.untagged(script);
            } else {
                self.regular(script);
            }
        }
        Ok(())
    }
}

/// The script a ticket commitment pays (`commitmentConverter`): P2SH when
/// the top bit of its amount is set, else P2PKH, to the 20-byte hash at
/// bytes 2 to 21.
fn commitment_payment_script(commitment: &[u8]) -> Vec<u8> {
    let hash = &commitment[2..22];
    if commitment[29] & 0x80 != 0 {
        let mut s = vec![op::OP_HASH160, op::OP_DATA_20];
        s.extend_from_slice(hash);
        s.push(op::OP_EQUAL);
        s
    } else {
        let mut s = vec![op::OP_DUP, op::OP_HASH160, op::OP_DATA_20];
        s.extend_from_slice(hash);
        s.extend_from_slice(&[op::OP_EQUALVERIFY, op::OP_CHECKSIG]);
        s
    }
}

/// The version 2 filter of `block` (dcrd `blockcf2.Regular`), with the
/// scripts of the outputs it spends from `prev` (which must hold the
/// block's own outputs, for spends within it).
pub fn regular(
    block: &Block<'_>,
    prev: &PrevScripts,
) -> Result<CommittedFilter, MissingPrevScript> {
    let mut items = Items::default();
    for (i, tx) in block.txs.iter().enumerate() {
        for o in &tx.outputs {
            if !excluded(o.version, &o.pk_script) {
                items.regular(&o.pk_script);
            }
        }
        // The coinbase spends nothing.
        if i > 0 {
            items.spent(&tx, prev)?;
        }
    }
    for tx in block.stake_txs.iter() {
        match stake::determine_tx_type(&tx) {
            TxType::Ticket => {
                items.spent(&tx, prev)?;
                // Output 0 is the voting right, left out (no SPV voting).
                for (i, o) in tx.outputs.iter().enumerate().skip(1) {
                    if i % 2 == 0 {
                        if o.value != 0 {
                            items.untagged(&o.pk_script);
                        }
                    } else if !o.pk_script.is_empty() {
                        items.regular(&commitment_payment_script(&o.pk_script));
                    }
                }
            }
            TxType::Vote => {
                for o in &tx.outputs[2..] {
                    items.untagged(&o.pk_script);
                }
            }
            TxType::Revocation => {
                for o in &tx.outputs {
                    items.untagged(&o.pk_script);
                }
            }
            TxType::TreasuryAdd => {
                items.spent(&tx, prev)?;
                if tx.outputs.len() == 2 && tx.outputs[1].value != 0 {
                    items.untagged(&tx.outputs[1].pk_script);
                }
            }
            TxType::TreasurySpend => {
                for o in &tx.outputs[1..] {
                    items.untagged(&o.pk_script);
                }
            }
            TxType::TreasuryBase | TxType::Regular => {}
        }
    }
    let key = dcr_gcs::key(&block.header.merkle_root);
    Ok(CommittedFilter::new(dcr_gcs::build(&key, &items.0)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use dcr_wire::pver;

    fn blocks() -> Option<Vec<Vec<u8>>> {
        crate::chain::corpus_chain_for_tests()
    }

    /// Every script a block's filter must hold matches it; a filter built
    /// without the spent scripts does not hold them.
    #[test]
    fn the_corpus_chain_s_filters_hold_what_blockcf2_puts_in() {
        let Some(blocks) = blocks() else {
            return;
        };
        let mut prev = PrevScripts::default();
        let mut kinds = std::collections::HashSet::new();
        for raw in &blocks {
            let b = Block::from_bytes(raw, pver::CURRENT).unwrap();
            prev.add_block(&b);
            let f = regular(&b, &prev).unwrap();
            assert!(f.proof_hashes.is_empty());
            let key = dcr_gcs::key(&b.header.merkle_root);
            let filter = dcr_gcs::Filter::from_bytes(&f.data).unwrap();
            for tx in b.txs.iter() {
                for o in &tx.outputs {
                    assert!(filter.matches(&key, &o.pk_script));
                }
            }
            for tx in b.stake_txs.iter() {
                let kind = stake::determine_tx_type(&tx);
                kinds.insert(kind);
                match kind {
                    TxType::Ticket => {
                        // The payment a commitment names is in.
                        let pay = commitment_payment_script(&tx.outputs[1].pk_script);
                        assert!(filter.matches(&key, &pay));
                        for i in &tx.inputs {
                            let p = &i.previous_out_point;
                            let (v, s) = prev.get(p).unwrap();
                            // Change from an earlier ticket loses its tag.
                            let tagged = p.tree == 1 && stake::is_stake_output(v, s);
                            let item = if tagged { &s[1..] } else { s };
                            assert!(filter.matches(&key, item));
                        }
                    }
                    TxType::Vote => {
                        for o in &tx.outputs[2..] {
                            assert!(filter.matches(&key, &o.pk_script[1..]));
                            assert!(!filter.matches(&key, &o.pk_script));
                        }
                    }
                    TxType::Revocation => {
                        for o in &tx.outputs {
                            assert!(filter.matches(&key, &o.pk_script[1..]));
                        }
                    }
                    _ => {}
                }
            }
        }
        assert!(kinds.contains(&TxType::Revocation), "{kinds:?}");
    }

    #[test]
    fn a_missing_spent_output_means_no_filter() {
        let Some(blocks) = blocks() else {
            return;
        };
        // The first block with a ticket spends outputs of earlier blocks.
        let raw = blocks
            .iter()
            .find(|raw| {
                let b = Block::from_bytes(raw, pver::CURRENT).unwrap();
                b.header.fresh_stake > 0
            })
            .unwrap();
        let b = Block::from_bytes(raw, pver::CURRENT).unwrap();
        let mut own = PrevScripts::default();
        own.add_block(&b);
        let err = regular(&b, &own).unwrap_err();
        assert_eq!(err.input, 0);
    }

    #[test]
    fn commitments_pay_p2pkh_or_p2sh() {
        let mut c = vec![op::OP_RETURN, op::OP_DATA_30];
        c.extend([5u8; 20]);
        c.extend([0u8; 8]);
        c.extend([0u8; 2]);
        let pkh = commitment_payment_script(&c);
        assert!(stake::is_pub_key_hash_script(&pkh));
        assert_eq!(&pkh[3..23], &[5u8; 20]);
        c[29] = 0x80;
        let sh = commitment_payment_script(&c);
        assert!(stake::is_script_hash_script(&sh));
        assert_eq!(&sh[2..22], &[5u8; 20]);
    }

    #[test]
    fn long_and_other_version_scripts_are_left_out() {
        assert!(excluded(1, b"a"));
        assert!(excluded(0, b""));
        assert!(excluded(0, &[0; MAX_SCRIPT_SIZE + 1]));
        assert!(!excluded(0, &[0; MAX_SCRIPT_SIZE]));
    }
}
