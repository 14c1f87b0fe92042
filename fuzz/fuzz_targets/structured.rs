//! Structure-aware: the input drives a generator of valid messages, which
//! are encoded (at a chosen protocol version), decoded back and compared,
//! then mutated (a byte flipped, the bytes cut, a byte inserted, a range
//! repeated) and decoded again: no panic, and whatever decodes satisfies
//! the round-trip property.
#![no_main]

use std::borrow::Cow;

use arbitrary::{Result, Unstructured};
use dcr_wire::{
    AddrV2, Block, BlockHeader, GetHeaders, Hash, Headers, Inv, InvType, InvVect, Message,
    MixDCNet, MixPairReq, MixPairReqUtxo, MixSlotReserve, MixVects, NetAddress, NetAddressV2,
    OutPoint, Ping, ServiceFlags, Tx, TxIn, TxOut, TxSerType, Version,
};
use libfuzzer_sys::fuzz_target;

mod common;

fn hash(u: &mut Unstructured<'_>) -> Result<Hash> {
    Ok(Hash(u.arbitrary()?))
}

fn bytes(u: &mut Unstructured<'_>, max: usize) -> Result<Cow<'static, [u8]>> {
    let n = u.int_in_range(0..=max)?;
    Ok(Cow::Owned(u.bytes(n)?.to_vec()))
}

fn list<T>(
    u: &mut Unstructured<'_>,
    max: usize,
    mut f: impl FnMut(&mut Unstructured<'_>) -> Result<T>,
) -> Result<Vec<T>> {
    let n = u.int_in_range(0..=max)?;
    (0..n).map(|_| f(u)).collect()
}

fn tx(u: &mut Unstructured<'_>) -> Result<Tx<'static>> {
    let ser_type = *u.choose(&[
        TxSerType::Full,
        TxSerType::NoWitness,
        TxSerType::OnlyWitness,
    ])?;
    let inputs = list(u, 4, |u| {
        Ok(TxIn {
            previous_out_point: OutPoint {
                hash: hash(u)?,
                index: u.arbitrary()?,
                tree: u.arbitrary()?,
            },
            sequence: u.arbitrary()?,
            value_in: u.arbitrary()?,
            block_height: u.arbitrary()?,
            block_index: u.arbitrary()?,
            signature_script: bytes(u, 80)?,
        })
    })?;
    let mut t = Tx {
        ser_type,
        version: u.arbitrary()?,
        inputs,
        outputs: list(u, 4, |u| {
            Ok(TxOut {
                value: u.arbitrary()?,
                version: u.arbitrary()?,
                pk_script: bytes(u, 40)?,
            })
        })?,
        lock_time: u.arbitrary()?,
        expiry: u.arbitrary()?,
    };
    // What a serialization does not carry is zero once decoded.
    if ser_type == TxSerType::OnlyWitness {
        t.outputs.clear();
        t.lock_time = 0;
        t.expiry = 0;
        for i in &mut t.inputs {
            i.previous_out_point = OutPoint::default();
            i.sequence = 0;
        }
    }
    if ser_type == TxSerType::NoWitness {
        for i in &mut t.inputs {
            i.value_in = 0;
            i.block_height = 0;
            i.block_index = 0;
            i.signature_script = Cow::Borrowed(&[]);
        }
    }
    Ok(t)
}

fn header(u: &mut Unstructured<'_>) -> Result<BlockHeader> {
    Ok(BlockHeader {
        version: u.arbitrary()?,
        prev_block: hash(u)?,
        merkle_root: hash(u)?,
        stake_root: hash(u)?,
        vote_bits: u.arbitrary()?,
        final_state: u.arbitrary()?,
        voters: u.arbitrary()?,
        fresh_stake: u.arbitrary()?,
        revocations: u.arbitrary()?,
        pool_size: u.arbitrary()?,
        bits: u.arbitrary()?,
        sbits: u.arbitrary()?,
        height: u.arbitrary()?,
        size: u.arbitrary()?,
        timestamp: u.arbitrary()?,
        nonce: u.arbitrary()?,
        extra_data: u.arbitrary()?,
        stake_version: u.arbitrary()?,
    })
}

fn message(u: &mut Unstructured<'_>) -> Result<Message<'static>> {
    Ok(match u.int_in_range(0..=10u8)? {
        0 => Message::Ping(Ping {
            nonce: u.arbitrary()?,
        }),
        1 => Message::Inv(Inv {
            inv_list: list(u, 20, |u| {
                Ok(InvVect {
                    inv_type: InvType(u.int_in_range(0..=4)?),
                    hash: hash(u)?,
                })
            })?,
        }),
        2 => Message::GetHeaders(GetHeaders {
            protocol_version: u.arbitrary()?,
            block_locator_hashes: list(u, 10, hash)?,
            hash_stop: hash(u)?,
        }),
        3 => Message::Headers(Headers {
            headers: list(u, 5, header)?,
        }),
        4 => Message::Tx(tx(u)?),
        5 => {
            let h = header(u)?;
            let txs = list(u, 3, tx)?;
            let stake = list(u, 2, tx)?;
            Message::Block(Block::new(h, &txs, &stake))
        }
        6 => Message::AddrV2(AddrV2 {
            addr_list: list(u, 10, |u| {
                let v4: [u8; 4] = u.arbitrary()?;
                Ok(NetAddressV2::new(
                    std::net::Ipv4Addr::from(v4).into(),
                    u.arbitrary()?,
                    ServiceFlags(u.arbitrary()?),
                    u.int_in_range(0..=i64::MAX as u64 / 2)?,
                ))
            })?,
        }),
        7 => {
            let a = NetAddress::new(
                std::net::Ipv4Addr::from(u.arbitrary::<[u8; 4]>()?).into(),
                u.arbitrary()?,
                ServiceFlags(u.arbitrary()?),
            );
            let mut v = Version::new(a, a, u.arbitrary()?, u.arbitrary()?);
            v.protocol_version = u.arbitrary()?;
            v.disable_relay_tx = u.arbitrary()?;
            let ua: String = (0..u.int_in_range(0..=40)?)
                .map(|_| Ok(char::from(u.int_in_range(0x20..=0x7eu8)?)))
                .collect::<Result<_>>()?;
            v.user_agent = Cow::Owned(ua.into_bytes());
            Message::Version(v)
        }
        8 => Message::MixPairReq(MixPairReq {
            expiry: u.arbitrary()?,
            mix_amount: u.int_in_range(0..=i64::MAX)?,
            script_class: Cow::Owned("P2PKH-secp256k1-v0".into()),
            message_count: u.arbitrary()?,
            input_value: u.int_in_range(0..=i64::MAX)?,
            utxos: list(u, 3, |u| {
                Ok(MixPairReqUtxo {
                    out_point: OutPoint {
                        hash: hash(u)?,
                        index: u.arbitrary()?,
                        tree: u.arbitrary()?,
                    },
                    script: bytes(u, 30)?,
                    pub_key: bytes(u, 33)?,
                    signature: bytes(u, 64)?,
                    opcode: u.arbitrary()?,
                })
            })?,
            change: if u.arbitrary::<bool>()? {
                Some(TxOut {
                    value: u.arbitrary()?,
                    version: u.arbitrary()?,
                    pk_script: bytes(u, 30)?,
                })
            } else {
                None
            },
            flags: u.arbitrary()?,
            pairing_flags: u.arbitrary()?,
            ..Default::default()
        }),
        9 => {
            let rows = u.int_in_range(1..=4)?;
            let cols = u.int_in_range(0..=3)?;
            let m: Vec<Vec<[u8; 20]>> = (0..rows)
                .map(|_| (0..cols).map(|_| u.arbitrary()).collect::<Result<_>>())
                .collect::<Result<_>>()?;
            Message::MixDCNet(MixDCNet {
                dc_net: MixVects::new(&m).unwrap_or_default(),
                seen_slot_reserves: list(u, 3, hash)?,
                ..Default::default()
            })
        }
        _ => {
            let rows = u.int_in_range(1..=3)?;
            let cols = u.int_in_range(1..=3)?;
            let dc_mix = (0..rows)
                .map(|_| (0..cols).map(|_| bytes(u, 32)).collect::<Result<_>>())
                .collect::<Result<_>>()?;
            Message::MixSlotReserve(MixSlotReserve {
                dc_mix,
                seen_ciphertexts: list(u, 3, hash)?,
                ..Default::default()
            })
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(msg) = message(&mut u) else { return };
    let Ok(pver) = u.int_in_range(0..=12u32) else {
        return;
    };
    let mut bytes = Vec::new();
    if msg.encode(&mut bytes, pver).is_err() {
        // Refused at this version or over a limit: nothing was written.
        assert!(bytes.is_empty());
        return;
    }
    assert_eq!(bytes.len(), msg.serialized_size(pver));
    let back = Message::decode(msg.command(), &bytes, pver).expect("what we encode decodes");
    assert_eq!(back, msg);

    // Mutate and decode again.
    let Ok(op) = u.int_in_range(0..=3u8) else {
        return;
    };
    let Ok(at) = u.int_in_range(0..=bytes.len()) else {
        return;
    };
    let Ok(b) = u.arbitrary::<u8>() else { return };
    match op {
        0 if at < bytes.len() => bytes[at] ^= b | 1,
        1 => bytes.truncate(at),
        2 => bytes.insert(at, b),
        _ => {
            let end = (at + usize::from(b)).min(bytes.len());
            let piece = bytes[at..end].to_vec();
            bytes.splice(at..at, piece);
        }
    }
    if let Ok(m) = Message::decode(msg.command(), &bytes, pver) {
        common::check_round_trip(&m, &bytes, pver);
    }
});
