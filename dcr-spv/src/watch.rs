//! What the client looks for: output scripts (given directly or as
//! addresses) and the outputs it has seen paid to them, which it then
//! watches for spends.
//!
//! Filters hold output scripts and the scripts of the outputs inputs spend,
//! with a stake opcode tag stripped (dcrd `blockcf2.Regular`), so a filter
//! is matched against the plain scripts ([`WatchList::filter_items`]). A
//! block's transactions are matched as dcrwallet's `spv/rescan.go`
//! (`rescanCheckTransactions`) does: an input spending a watched output, or
//! an output paying a watched script (also behind a stake tag, where
//! dcrwallet's address extraction finds the same address); each such output
//! is watched from then on.

use std::collections::HashSet;

use dcr_wire::{blake256, Hash, OutPoint, Tx};

use crate::params::Params;

/// The stake opcodes that tag P2PKH and P2SH scripts in the stake tree:
/// OP_SSTX, OP_SSGEN, OP_SSRTX, OP_SSTXCHANGE, OP_TGEN.
const STAKE_TAGS: [u8; 5] = [0xba, 0xbb, 0xbc, 0xbd, 0xc3];

/// Why an address does not decode for a network.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// Not base58.
    #[error("address is not base58")]
    Base58,
    /// Not 26 bytes (a 2-byte prefix, a 20-byte hash, a 4-byte checksum).
    #[error("address decodes to {}, expected 26", dcr_wire::ByteCount(*.0 as u64))]
    Length(usize),
    /// The checksum (BLAKE-256 twice, first four bytes) does not match.
    #[error("address checksum mismatch")]
    Checksum,
    /// A prefix that is neither this network's P2PKH nor its P2SH prefix.
    #[error("address prefix {0:02x?} is not a P2PKH or P2SH prefix of {1}")]
    Prefix([u8; 2], &'static str),
}

/// The pay-to-pubkey-hash script of a 20-byte hash: `OP_DUP OP_HASH160
/// <hash> OP_EQUALVERIFY OP_CHECKSIG`.
pub fn p2pkh_script(hash: &[u8; 20]) -> Vec<u8> {
    let mut s = vec![0x76, 0xa9, 0x14];
    s.extend_from_slice(hash);
    s.extend_from_slice(&[0x88, 0xac]);
    s
}

/// The pay-to-script-hash script of a 20-byte hash: `OP_HASH160 <hash>
/// OP_EQUAL`.
pub fn p2sh_script(hash: &[u8; 20]) -> Vec<u8> {
    let mut s = vec![0xa9, 0x14];
    s.extend_from_slice(hash);
    s.push(0x87);
    s
}

/// The output script a P2PKH (secp256k1) or P2SH address of `params`'
/// network pays to: base58 of a 2-byte network prefix, the 20-byte hash and
/// the first four bytes of BLAKE-256 applied twice (dcrd `stdaddr` with
/// `base58.CheckDecode`).
pub fn address_script(address: &str, params: &Params) -> Result<Vec<u8>, AddressError> {
    let raw = bs58::decode(address)
        .into_vec()
        .map_err(|_| AddressError::Base58)?;
    if raw.len() != 26 {
        return Err(AddressError::Length(raw.len()));
    }
    let (payload, sum) = raw.split_at(22);
    if blake256(&blake256(payload).0).0[..4] != *sum {
        return Err(AddressError::Checksum);
    }
    let prefix = [payload[0], payload[1]];
    let mut hash = [0u8; 20];
    hash.copy_from_slice(&payload[2..]);
    if prefix == params.pubkey_hash_addr_id {
        Ok(p2pkh_script(&hash))
    } else if prefix == params.script_hash_addr_id {
        Ok(p2sh_script(&hash))
    } else {
        Err(AddressError::Prefix(prefix, params.name))
    }
}

/// A transaction of a block that concerns the watch list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchedTx {
    /// Its hash.
    pub hash: Hash,
    /// Its tree (`dcr_wire::tx::tree`: 0 regular, 1 stake).
    pub tree: i8,
    /// Its index in that tree.
    pub index: usize,
    /// Outputs of it that pay a watched script (now watched themselves).
    pub outputs: Vec<u32>,
    /// Its inputs that spend a watched output.
    pub spends: Vec<OutPoint>,
}

/// Scripts and outputs to look for.
#[derive(Debug, Clone, Default)]
pub struct WatchList {
    scripts: HashSet<Vec<u8>>,
    outpoints: HashSet<OutPoint>,
}

impl WatchList {
    /// An empty list.
    pub fn new() -> WatchList {
        WatchList::default()
    }

    /// Watches an output script.
    pub fn add_script(&mut self, script: impl Into<Vec<u8>>) {
        self.scripts.insert(script.into());
    }

    /// Watches the script an address pays to.
    pub fn add_address(&mut self, address: &str, params: &Params) -> Result<(), AddressError> {
        self.add_script(address_script(address, params)?);
        Ok(())
    }

    /// Watches an output for being spent.
    pub fn add_outpoint(&mut self, outpoint: OutPoint) {
        self.outpoints.insert(outpoint);
    }

    /// The watched scripts.
    pub fn scripts(&self) -> impl Iterator<Item = &[u8]> {
        self.scripts.iter().map(Vec::as_slice)
    }

    /// Whether an output is watched.
    pub fn watches_outpoint(&self, outpoint: &OutPoint) -> bool {
        self.outpoints.contains(outpoint)
    }

    /// Whether nothing is watched.
    pub fn is_empty(&self) -> bool {
        self.scripts.is_empty() && self.outpoints.is_empty()
    }

    /// What to match a filter against: the watched scripts (which are also
    /// in a filter when an input spends an output paying them).
    pub fn filter_items(&self) -> Vec<&[u8]> {
        self.scripts().collect()
    }

    /// Whether a filter may hold anything watched.
    pub fn matches_filter(&self, filter: &crate::gcs::Filter<'_>, key: &[u8; 16]) -> bool {
        filter.n() != 0 && filter.matches_any(key, &self.filter_items())
    }

    fn pays_watched(&self, version: u16, script: &[u8]) -> bool {
        if version != 0 {
            return false;
        }
        if self.scripts.contains(script) {
            return true;
        }
        matches!(script.split_first(), Some((tag, rest))
            if STAKE_TAGS.contains(tag) && is_p2pkh_or_p2sh(rest) && self.scripts.contains(rest))
    }

    /// The transactions of one tree that concern the list, updating it with
    /// the outputs they pay (dcrwallet `rescanCheckTransactions`). The
    /// caller runs the stake tree before the regular tree, as dcrwallet's
    /// `rescanBlock` does.
    pub fn check_tree<'a>(
        &mut self,
        txs: impl Iterator<Item = (Hash, Tx<'a>)>,
        tree: i8,
    ) -> Vec<MatchedTx> {
        let mut out = Vec::new();
        for (index, (hash, tx)) in txs.enumerate() {
            // Coinbase and stakebase inputs spend the null outpoint, which is
            // never watched.
            let spends: Vec<OutPoint> = tx
                .inputs
                .iter()
                .map(|i| i.previous_out_point)
                .filter(|op| self.outpoints.contains(op))
                .collect();
            let mut outputs = Vec::new();
            for (i, o) in tx.outputs.iter().enumerate() {
                if self.pays_watched(o.version, &o.pk_script) {
                    outputs.push(i as u32);
                    self.outpoints.insert(OutPoint::new(hash, i as u32, tree));
                }
            }
            if !spends.is_empty() || !outputs.is_empty() {
                out.push(MatchedTx {
                    hash,
                    tree,
                    index,
                    outputs,
                    spends,
                });
            }
        }
        out
    }
}

fn is_p2pkh_or_p2sh(s: &[u8]) -> bool {
    (s.len() == 25 && s[..3] == [0x76, 0xa9, 0x14] && s[23..] == [0x88, 0xac])
        || (s.len() == 23 && s[..2] == [0xa9, 0x14] && s[22] == 0x87)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params;

    #[test]
    fn addresses_decode_to_their_scripts() {
        // The reference's simnet mining address of the vectors.
        let s = address_script("Ssn23a3rJaCUxjqXiVSNwU6FxV45sLkiFpz", params::simnet()).unwrap();
        assert_eq!(s.len(), 25);
        assert_eq!(&s[..3], &[0x76, 0xa9, 0x14]);
        // Wrong network, checksum, length, alphabet.
        assert!(matches!(
            address_script("Ssn23a3rJaCUxjqXiVSNwU6FxV45sLkiFpz", params::mainnet()),
            Err(AddressError::Prefix(..))
        ));
        assert_eq!(
            address_script("Ssn23a3rJaCUxjqXiVSNwU6FxV45sLkiFpy", params::simnet()),
            Err(AddressError::Checksum)
        );
        assert!(matches!(
            address_script("Ssn23", params::simnet()),
            Err(AddressError::Length(_))
        ));
        assert_eq!(
            address_script("0OIl", params::simnet()),
            Err(AddressError::Base58)
        );
        // A P2SH address built from its parts decodes to the P2SH script.
        let p = params::mainnet();
        let mut payload = p.script_hash_addr_id.to_vec();
        payload.extend_from_slice(&[7u8; 20]);
        let sum = blake256(&blake256(&payload).0);
        payload.extend_from_slice(&sum.0[..4]);
        let addr = bs58::encode(payload).into_string();
        assert!(addr.starts_with("Dc"));
        assert_eq!(address_script(&addr, p), Ok(p2sh_script(&[7u8; 20])));
    }

    #[test]
    fn stake_tagged_outputs_match_and_become_watched() {
        use dcr_wire::{Tx, TxIn, TxOut};
        let script = p2pkh_script(&[1u8; 20]);
        let mut w = WatchList::new();
        w.add_script(script.clone());
        let mut tagged = vec![0xbb];
        tagged.extend_from_slice(&script);
        let mut tx = Tx::new();
        tx.outputs.push(TxOut::new(5, vec![0x6a]));
        tx.outputs.push(TxOut::new(7, tagged));
        let h = blake256(b"tx");
        let m = w.check_tree(std::iter::once((h, tx.clone())), 1);
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].outputs, vec![1]);
        let op = OutPoint::new(h, 1, 1);
        assert!(w.watches_outpoint(&op));
        // A later transaction spending it matches by its input.
        let mut spend = Tx::new();
        spend.inputs.push(TxIn::new(op, 0, vec![]));
        let m = w.check_tree(std::iter::once((blake256(b"spend"), spend)), 0);
        assert_eq!(m[0].spends, vec![op]);
        // Another script version does not match.
        let mut v1 = Tx::new();
        let mut o = TxOut::new(1, script.clone());
        o.version = 1;
        v1.outputs.push(o);
        assert!(w.check_tree(std::iter::once((h, v1)), 0).is_empty());
    }
}
