//! What kind of stake transaction a transaction is, as dcrd's
//! `blockchain/stake` tells them apart (`DetermineTxType` with `CheckSStx`,
//! `CheckSSGenVotes`, `CheckSSRtx`, `CheckTAdd`, `CheckTSpend`,
//! `CheckTreasuryBase`, and the script shapes of `scripttype.go`), for the
//! committed filters ([`crate::cfilter`]): each kind puts other scripts
//! into a block's filter.
//!
//! Only the shape of a transaction is checked, as those functions do:
//! amounts, signatures and the chain's state are not looked at.

use dcr_wire::msg::tree;
use dcr_wire::{Tx, TxOut};

/// The script opcodes the shapes are made of (dcrd `txscript`).
pub mod op {
    /// `OP_0`.
    pub const OP_0: u8 = 0x00;
    /// `OP_DATA_1`.
    pub const OP_DATA_1: u8 = 0x01;
    /// `OP_DATA_2`.
    pub const OP_DATA_2: u8 = 0x02;
    /// `OP_DATA_20`.
    pub const OP_DATA_20: u8 = 0x14;
    /// `OP_DATA_30`.
    pub const OP_DATA_30: u8 = 0x1e;
    /// `OP_DATA_33`.
    pub const OP_DATA_33: u8 = 0x21;
    /// `OP_DATA_36`.
    pub const OP_DATA_36: u8 = 0x24;
    /// `OP_DATA_64`.
    pub const OP_DATA_64: u8 = 0x40;
    /// `OP_DATA_75`.
    pub const OP_DATA_75: u8 = 0x4b;
    /// `OP_PUSHDATA1`.
    pub const OP_PUSHDATA1: u8 = 0x4c;
    /// `OP_PUSHDATA2`.
    pub const OP_PUSHDATA2: u8 = 0x4d;
    /// `OP_PUSHDATA4`.
    pub const OP_PUSHDATA4: u8 = 0x4e;
    /// `OP_1`.
    pub const OP_1: u8 = 0x51;
    /// `OP_16`.
    pub const OP_16: u8 = 0x60;
    /// `OP_RETURN`.
    pub const OP_RETURN: u8 = 0x6a;
    /// `OP_DUP`.
    pub const OP_DUP: u8 = 0x76;
    /// `OP_EQUAL`.
    pub const OP_EQUAL: u8 = 0x87;
    /// `OP_EQUALVERIFY`.
    pub const OP_EQUALVERIFY: u8 = 0x88;
    /// `OP_HASH160`.
    pub const OP_HASH160: u8 = 0xa9;
    /// `OP_CHECKSIG`.
    pub const OP_CHECKSIG: u8 = 0xac;
    /// `OP_SSTX`: a ticket's voting rights.
    pub const OP_SSTX: u8 = 0xba;
    /// `OP_SSGEN`: a vote's payout.
    pub const OP_SSGEN: u8 = 0xbb;
    /// `OP_SSRTX`: a revocation's payout.
    pub const OP_SSRTX: u8 = 0xbc;
    /// `OP_SSTXCHANGE`: a ticket's or treasury add's change.
    pub const OP_SSTXCHANGE: u8 = 0xbd;
    /// `OP_TADD`: a treasury add.
    pub const OP_TADD: u8 = 0xc1;
    /// `OP_TSPEND`: a treasury spend's signature script end.
    pub const OP_TSPEND: u8 = 0xc2;
    /// `OP_TGEN`: a treasury spend's payment.
    pub const OP_TGEN: u8 = 0xc3;
}
use op::*;

/// The transaction version from which treasury transactions exist
/// (`wire.TxVersionTreasury`).
pub const TX_VERSION_TREASURY: u16 = 3;
/// The transaction version from which revocations are automatic
/// (`stake.TxVersionAutoRevocations`).
pub const TX_VERSION_AUTO_REVOCATIONS: u16 = 2;
/// Most inputs of a ticket (`MaxInputsPerSStx`).
pub const MAX_INPUTS_PER_SSTX: usize = 64;
/// Most outputs of a ticket (`MaxOutputsPerSStx`).
pub const MAX_OUTPUTS_PER_SSTX: usize = MAX_INPUTS_PER_SSTX * 2 + 1;
/// Most outputs of a vote (`MaxOutputsPerSSGen`).
pub const MAX_OUTPUTS_PER_SSGEN: usize = MAX_INPUTS_PER_SSTX + 2;
/// Most outputs of a revocation (`MaxOutputsPerSSRtx`).
pub const MAX_OUTPUTS_PER_SSRTX: usize = MAX_INPUTS_PER_SSTX;
/// Most data a null-data script carries (`MaxDataCarrierSize`).
pub const MAX_DATA_CARRIER_SIZE: usize = 256;
/// Longest push a single opcode makes (`MaxSingleBytePushLength`).
const MAX_SINGLE_BYTE_PUSH_LENGTH: u8 = 75;

/// The kinds of transaction (dcrd `stake.TxType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TxType {
    /// Not a stake transaction.
    Regular,
    /// A ticket purchase (`SStx`).
    Ticket,
    /// A vote (`SSGen`).
    Vote,
    /// A revocation (`SSRtx`).
    Revocation,
    /// A treasury add (`TAdd`).
    TreasuryAdd,
    /// A treasury spend (`TSpend`).
    TreasurySpend,
    /// A treasury base (`TreasuryBase`).
    TreasuryBase,
}

/// dcrd `DetermineTxType`: the first of ticket, vote, revocation, and
/// from transaction version 3 treasury add, spend and base, whose shape
/// `tx` has; regular otherwise.
pub fn determine_tx_type(tx: &Tx<'_>) -> TxType {
    if is_ticket(tx) {
        TxType::Ticket
    } else if is_vote(tx) {
        TxType::Vote
    } else if is_revocation(tx) {
        TxType::Revocation
    } else if tx.version >= TX_VERSION_TREASURY && is_treasury_add(tx) {
        TxType::TreasuryAdd
    } else if tx.version >= TX_VERSION_TREASURY && is_treasury_spend(tx) {
        TxType::TreasurySpend
    } else if tx.version >= TX_VERSION_TREASURY && is_treasury_base(tx) {
        TxType::TreasuryBase
    } else {
        TxType::Regular
    }
}

/// `OP_HASH160 <20 bytes> OP_EQUAL`.
pub fn is_script_hash_script(s: &[u8]) -> bool {
    s.len() == 23 && s[0] == OP_HASH160 && s[1] == OP_DATA_20 && s[22] == OP_EQUAL
}

/// `OP_DUP OP_HASH160 <20 bytes> OP_EQUALVERIFY OP_CHECKSIG`.
pub fn is_pub_key_hash_script(s: &[u8]) -> bool {
    s.len() == 25
        && s[0] == OP_DUP
        && s[1] == OP_HASH160
        && s[2] == OP_DATA_20
        && s[23] == OP_EQUALVERIFY
        && s[24] == OP_CHECKSIG
}

/// A version 0 script of `tag` followed by a P2PKH or P2SH script
/// (`isTaggedScript`).
fn is_tagged(version: u16, s: &[u8], tag: u8) -> bool {
    version == 0
        && s.first() == Some(&tag)
        && (is_pub_key_hash_script(&s[1..]) || is_script_hash_script(&s[1..]))
}

/// Whether an output script is one of the stake kinds whose tag a filter
/// leaves out (`blockcf2`'s `isStakeOutput`: ticket, vote, revocation,
/// stake change, treasury generation).
pub fn is_stake_output(version: u16, s: &[u8]) -> bool {
    [OP_SSTX, OP_SSGEN, OP_SSRTX, OP_SSTXCHANGE, OP_TGEN]
        .iter()
        .any(|&tag| is_tagged(version, s, tag))
}

/// One opcode and its data read from the front of a version 0 script
/// (dcrd's script tokenizer, one step): `None` when the script ends inside
/// it.
fn next_opcode(s: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&op, rest) = s.split_first()?;
    let (len, rest) = match op {
        OP_DATA_1..=OP_DATA_75 => (usize::from(op), rest),
        OP_PUSHDATA1 => (usize::from(*rest.first()?), &rest[1..]),
        OP_PUSHDATA2 => (
            usize::from(u16::from_le_bytes(rest.get(..2)?.try_into().ok()?)),
            &rest[2..],
        ),
        OP_PUSHDATA4 => (
            u32::from_le_bytes(rest.get(..4)?.try_into().ok()?) as usize,
            &rest[4..],
        ),
        _ => (0, rest),
    };
    let data = rest.get(..len)?;
    Some((op, data, &rest[len..]))
}

fn is_small_int(op: u8) -> bool {
    op == OP_0 || (OP_1..=OP_16).contains(&op)
}

/// `OP_RETURN` alone, or followed by exactly one push of at most 256
/// bytes (`stake.IsNullDataScript`).
pub fn is_null_data_script(version: u16, s: &[u8]) -> bool {
    if version != 0 || s.first() != Some(&OP_RETURN) {
        return false;
    }
    if s.len() == 1 {
        return true;
    }
    match next_opcode(&s[1..]) {
        Some((op, data, rest)) => {
            rest.is_empty()
                && (is_small_int(op) || op <= OP_PUSHDATA4)
                && data.len() <= MAX_DATA_CARRIER_SIZE
        }
        None => false,
    }
}

/// `OP_RETURN OP_DATA_n <n bytes>` exactly, for `n` from 2 to 75
/// (`txscript.IsStrictNullData` at the lengths the treasury uses, 12 and
/// 32, where the canonical push is `OP_DATA_n`).
fn is_strict_null_data(version: u16, s: &[u8], n: u8) -> bool {
    debug_assert!((2..=OP_DATA_75).contains(&n));
    version == 0 && s.len() == 2 + usize::from(n) && s[0] == OP_RETURN && s[1] == n
}

fn versions_zero(outs: &[TxOut<'_>]) -> bool {
    outs.iter().all(|o| o.version == 0)
}

/// An `OP_RETURN` whose second byte is a push of `min` to 75 bytes.
fn has_push_prefix(s: &[u8], min: u8) -> bool {
    s.len() >= 2 && s[0] == OP_RETURN && (min..=MAX_SINGLE_BYTE_PUSH_LENGTH).contains(&s[1])
}

/// `CheckSStx`: at most 64 inputs and 129 outputs, all version 0; output
/// 0 an `OP_SSTX` script; twice as many outputs as inputs plus one; odd
/// outputs null-data commitments of 32 to 77 bytes starting `OP_RETURN`
/// and a push of 30 to 75 bytes; even outputs `OP_SSTXCHANGE` scripts.
pub fn is_ticket(tx: &Tx<'_>) -> bool {
    let (ins, outs) = (&tx.inputs, &tx.outputs);
    if ins.len() > MAX_INPUTS_PER_SSTX || outs.len() > MAX_OUTPUTS_PER_SSTX || outs.is_empty() {
        return false;
    }
    if !versions_zero(outs) || !is_tagged(outs[0].version, &outs[0].pk_script, OP_SSTX) {
        return false;
    }
    if ins.len() * 2 + 1 != outs.len() {
        return false;
    }
    outs.iter().enumerate().skip(1).all(|(i, o)| {
        let s = &o.pk_script[..];
        if i % 2 == 0 {
            is_tagged(o.version, s, OP_SSTXCHANGE)
        } else {
            is_null_data_script(o.version, s)
                && (32..=77).contains(&s.len())
                && has_push_prefix(s, OP_DATA_30)
        }
    })
}

/// `IsStakeBase`: two inputs, the first spending the null outpoint of the
/// regular tree with null fraud proofs (block height 0, block index
/// `u32::MAX`: `wire.NullBlockHeight`, `NullBlockIndex`).
fn is_stake_base(tx: &Tx<'_>) -> bool {
    if tx.inputs.len() != 2 {
        return false;
    }
    let first = &tx.inputs[0];
    is_null_outpoint(tx) && first.block_height == 0 && first.block_index == u32::MAX
}

/// The first input spends output `u32::MAX` of the zero hash in the
/// regular tree (`isNullOutpoint`).
fn is_null_outpoint(tx: &Tx<'_>) -> bool {
    tx.inputs.first().is_some_and(|i| {
        let p = &i.previous_out_point;
        p.index == u32::MAX && p.hash == dcr_wire::Hash::ZERO && p.tree == tree::REGULAR
    })
}

/// `GetSSGenTreasuryVotes` on a vote's last output, as far as validity
/// goes: a `'T' 'V'` discriminator after the push opcode, then 33-byte
/// (hash, vote) tuples, each vote 1 or 2, no hash twice.
fn treasury_votes_are_valid(s: &[u8]) -> Option<usize> {
    if s.len() < 4 || s[1] > OP_PUSHDATA1 {
        return None;
    }
    let start = if s[1] == OP_PUSHDATA1 { 3 } else { 2 };
    if start + 2 > s.len() || &s[start..start + 2] != b"TV" {
        return None;
    }
    let tuples = &s[start + 2..];
    if tuples.len() < 33 || !tuples.len().is_multiple_of(33) {
        return None;
    }
    let mut seen = std::collections::HashSet::new();
    for t in tuples.chunks_exact(33) {
        if !matches!(t[32], 1 | 2) || !seen.insert(&t[..32]) {
            return None;
        }
    }
    Some(tuples.len() / 33)
}

/// `CheckSSGenVotes`: two inputs, the first a stake base, the second
/// output 0 of the stake tree; 2 to 66 outputs, all version 0; output 0
/// `OP_RETURN OP_DATA_36 <36 bytes>`; output 1 a null-data push of 4 to 77
/// bytes starting `OP_RETURN` and a push of 2 to 75 bytes; a last output
/// that is null data holds valid treasury votes in a version 3
/// transaction; the rest `OP_SSGEN` scripts.
pub fn is_vote(tx: &Tx<'_>) -> bool {
    let (ins, outs) = (&tx.inputs, &tx.outputs);
    if ins.len() != 2 || outs.len() > MAX_OUTPUTS_PER_SSGEN || outs.len() < 2 {
        return false;
    }
    if !is_stake_base(tx) {
        return false;
    }
    let ticket = &ins[1].previous_out_point;
    if ticket.index != 0 || ticket.tree != tree::STAKE {
        return false;
    }
    if !versions_zero(outs) {
        return false;
    }
    let reference = &outs[0].pk_script[..];
    if !is_null_data_script(outs[0].version, reference)
        || reference.len() != 38
        || reference[..2] != [OP_RETURN, OP_DATA_36]
    {
        return false;
    }
    let bits = &outs[1].pk_script[..];
    if !is_null_data_script(outs[1].version, bits)
        || !(4..=77).contains(&bits.len())
        || !has_push_prefix(bits, OP_DATA_2)
    {
        return false;
    }
    let mut tagged_end = outs.len();
    let last = &outs[outs.len() - 1];
    if is_null_data_script(last.version, &last.pk_script) {
        tagged_end -= 1;
        match treasury_votes_are_valid(&last.pk_script) {
            Some(n) if n > 0 && tx.version == TX_VERSION_TREASURY => {}
            _ => return false,
        }
    }
    outs[2..tagged_end.max(2)]
        .iter()
        .all(|o| is_tagged(o.version, &o.pk_script, OP_SSGEN))
}

/// `CheckSSRtx`: one input from the stake tree; 1 to 64 outputs, all
/// version 0 `OP_SSRTX` scripts; from version 2, an empty signature script
/// and no fee.
pub fn is_revocation(tx: &Tx<'_>) -> bool {
    let (ins, outs) = (&tx.inputs, &tx.outputs);
    if ins.len() != 1 || outs.len() > MAX_OUTPUTS_PER_SSRTX || outs.is_empty() {
        return false;
    }
    if !versions_zero(outs) || ins[0].previous_out_point.tree != tree::STAKE {
        return false;
    }
    if !outs
        .iter()
        .all(|o| is_tagged(o.version, &o.pk_script, OP_SSRTX))
    {
        return false;
    }
    if tx.version >= TX_VERSION_AUTO_REVOCATIONS {
        if !ins[0].signature_script.is_empty() {
            return false;
        }
        let paid = outs.iter().fold(0i64, |sum, o| sum.wrapping_add(o.value));
        if paid < ins[0].value_in {
            return false;
        }
    }
    true
}

/// `CheckTAdd`: version 3; at least one input; one or two outputs, version
/// 0 and not empty; output 0 `OP_TADD` alone; output 1, if any, an
/// `OP_SSTXCHANGE` script.
pub fn is_treasury_add(tx: &Tx<'_>) -> bool {
    let outs = &tx.outputs;
    tx.version == TX_VERSION_TREASURY
        && !tx.inputs.is_empty()
        && (outs.len() == 1 || outs.len() == 2)
        && outs
            .iter()
            .all(|o| o.version == 0 && !o.pk_script.is_empty())
        && outs[0].pk_script[..] == [OP_TADD]
        && (outs.len() == 1 || is_tagged(outs[1].version, &outs[1].pk_script, OP_SSTXCHANGE))
}

/// `CheckTSpend`: version 3; one input whose signature script is a
/// 64-byte push, a 33-byte strictly compressed public key push and
/// `OP_TSPEND` (100 bytes); two or more outputs, version 0 and not empty;
/// output 0 `OP_RETURN` and a 32-byte push; the rest `OP_TGEN` followed by
/// a P2PKH or P2SH script.
pub fn is_treasury_spend(tx: &Tx<'_>) -> bool {
    let outs = &tx.outputs;
    if tx.version != TX_VERSION_TREASURY || tx.inputs.len() != 1 || outs.len() < 2 {
        return false;
    }
    if !outs
        .iter()
        .all(|o| o.version == 0 && !o.pk_script.is_empty())
    {
        return false;
    }
    let sig = &tx.inputs[0].signature_script[..];
    if sig.len() != 100 || sig[0] != OP_DATA_64 || sig[65] != OP_DATA_33 || sig[99] != OP_TSPEND {
        return false;
    }
    if !matches!(sig[66], 0x02 | 0x03) {
        return false;
    }
    if !is_strict_null_data(outs[0].version, &outs[0].pk_script, 32) {
        return false;
    }
    outs[1..].iter().all(|o| {
        let s = &o.pk_script[..];
        s[0] == OP_TGEN && (is_pub_key_hash_script(&s[1..]) || is_script_hash_script(&s[1..]))
    })
}

/// `CheckTreasuryBase`: version 3; one input with an empty signature
/// script spending the null outpoint; two outputs, version 0: `OP_TADD`
/// alone, then `OP_RETURN` and a 12-byte push.
pub fn is_treasury_base(tx: &Tx<'_>) -> bool {
    let outs = &tx.outputs;
    tx.version == TX_VERSION_TREASURY
        && tx.inputs.len() == 1
        && outs.len() == 2
        && tx.inputs[0].signature_script.is_empty()
        && is_null_outpoint(tx)
        && versions_zero(outs)
        && outs[0].pk_script[..] == [OP_TADD]
        && is_strict_null_data(outs[1].version, &outs[1].pk_script, 12)
}

#[cfg(test)]
mod tests {
    use super::*;
    use dcr_wire::{pver, Block};

    #[test]
    fn null_data_scripts() {
        assert!(is_null_data_script(0, &[OP_RETURN]));
        assert!(is_null_data_script(0, &[OP_RETURN, OP_0]));
        assert!(is_null_data_script(0, &[OP_RETURN, OP_16]));
        assert!(is_null_data_script(0, &[OP_RETURN, 2, 9, 9]));
        let mut big = vec![OP_RETURN, OP_PUSHDATA2, 0, 1];
        big.extend([0u8; 256]);
        assert!(is_null_data_script(0, &big));
        big[2] = 1;
        big.push(0);
        assert!(!is_null_data_script(0, &big), "257 bytes");
        // Two pushes, a push running past the end, another opcode, another
        // version.
        assert!(!is_null_data_script(0, &[OP_RETURN, 1, 9, 1, 9]));
        assert!(!is_null_data_script(0, &[OP_RETURN, 3, 9]));
        assert!(!is_null_data_script(0, &[OP_RETURN, OP_DUP]));
        assert!(!is_null_data_script(1, &[OP_RETURN]));
        assert!(!is_null_data_script(0, &[]));
        assert!(is_strict_null_data(0, &[OP_RETURN, 2, 1, 1], 2));
        assert!(!is_strict_null_data(
            0,
            &[OP_RETURN, OP_PUSHDATA1, 2, 1, 1],
            2
        ));
    }

    #[test]
    fn tagged_scripts() {
        let mut pkh = vec![OP_SSGEN, OP_DUP, OP_HASH160, OP_DATA_20];
        pkh.extend([7; 20]);
        pkh.extend([OP_EQUALVERIFY, OP_CHECKSIG]);
        assert!(is_stake_output(0, &pkh));
        assert!(!is_stake_output(1, &pkh));
        let mut sh = vec![OP_TGEN, OP_HASH160, OP_DATA_20];
        sh.extend([7; 20]);
        sh.push(OP_EQUAL);
        assert!(is_stake_output(0, &sh));
        sh[0] = OP_TADD;
        assert!(!is_stake_output(0, &sh));
        assert!(!is_stake_output(0, &pkh[1..]));
    }

    /// The corpus chain (dcrd's own test chain, heights 0 to 168) holds
    /// tickets, votes and revocations: every stake-tree transaction is one
    /// of them, every regular one none, and the kinds appear where its
    /// stake rules put them.
    #[test]
    fn the_corpus_chain_s_stake_transactions_are_told_apart() {
        let Some(blocks) = crate::chain::corpus_chain_for_tests() else {
            return;
        };
        let mut counts = std::collections::HashMap::new();
        for raw in &blocks {
            let b = Block::from_bytes(raw, pver::CURRENT).unwrap();
            for tx in b.txs.iter() {
                assert_eq!(determine_tx_type(&tx), TxType::Regular);
            }
            for tx in b.stake_txs.iter() {
                let t = determine_tx_type(&tx);
                assert_ne!(t, TxType::Regular, "block {}", b.header.height);
                *counts.entry(t).or_insert(0) += 1;
            }
            // A vote is counted in the header for each one held.
            let votes = b
                .stake_txs
                .iter()
                .filter(|t| determine_tx_type(t) == TxType::Vote)
                .count();
            assert_eq!(votes, usize::from(b.header.voters));
            let tickets = b
                .stake_txs
                .iter()
                .filter(|t| determine_tx_type(t) == TxType::Ticket)
                .count();
            assert_eq!(tickets, usize::from(b.header.fresh_stake));
            let revocations = b
                .stake_txs
                .iter()
                .filter(|t| determine_tx_type(t) == TxType::Revocation)
                .count();
            assert_eq!(revocations, usize::from(b.header.revocations));
        }
        assert!(counts[&TxType::Ticket] > 0 && counts[&TxType::Vote] > 0);
        assert!(counts.contains_key(&TxType::Revocation), "{counts:?}");
    }
}
