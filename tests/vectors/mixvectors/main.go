// Writes test vectors for the signed data, hash, pairing description and
// commitment of the eight mixing messages, computed by the reference's wire
// package on deterministic pseudo-random messages.
package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"math/rand"
	"os"

	"github.com/decred/dcrd/chaincfg/chainhash"
	"github.com/decred/dcrd/crypto/blake256"
	"github.com/decred/dcrd/wire"
)

// recorder is a hash.Hash that keeps what is written to it (WriteSignedData
// only writes; Sum is there to satisfy the interface).
type recorder struct{ bytes.Buffer }

func (r *recorder) Sum(b []byte) []byte { return append(b, make([]byte, 32)...) }
func (r *recorder) Size() int           { return 32 }
func (r *recorder) BlockSize() int      { return 64 }

var rng = rand.New(rand.NewSource(20261130))

func fill(b []byte) { rng.Read(b) }
func bytesN(n int) []byte {
	b := make([]byte, n)
	fill(b)
	return b
}
func hashes(n int) []chainhash.Hash {
	hs := make([]chainhash.Hash, n)
	for i := range hs {
		fill(hs[i][:])
	}
	return hs
}
func field() []byte { return bytesN(1 + rng.Intn(32)) }

type header struct {
	sig [64]byte
	id  [33]byte
	sid [32]byte
	run uint32
}

func newHeader() header {
	var h header
	fill(h.sig[:])
	fill(h.id[:])
	fill(h.sid[:])
	h.run = uint32(rng.Intn(4))
	return h
}

func tx() wire.MsgTx {
	t := wire.NewMsgTx()
	for i := 0; i < 1+rng.Intn(3); i++ {
		var h chainhash.Hash
		fill(h[:])
		t.AddTxIn(wire.NewTxIn(wire.NewOutPoint(&h, rng.Uint32(), 0), rng.Int63n(1e10), bytesN(rng.Intn(80))))
	}
	for i := 0; i < 1+rng.Intn(3); i++ {
		t.AddTxOut(wire.NewTxOut(rng.Int63n(1e10), bytesN(rng.Intn(40))))
	}
	t.LockTime = rng.Uint32()
	t.Expiry = rng.Uint32()
	return *t
}

func vect(n int) wire.MixVect {
	v := make(wire.MixVect, n)
	for i := range v {
		fill(v[i][:])
	}
	return v
}

type record struct {
	Command    string `json:"command"`
	Case       int    `json:"case"`
	Payload    string `json:"payload_hex"`
	Hash       string `json:"hash"`
	SignedData string `json:"signed_data_hex"`
	SigHash    string `json:"signature_hash"`
	Pairing    string `json:"pairing_hex,omitempty"`
	Commitment string `json:"commitment,omitempty"`
}

// mixMessage is what the eight mixing messages share.
type mixMessage interface {
	wire.Message
	WriteHash(hash.Hash)
	Hash() chainhash.Hash
	WriteSignedData(hash.Hash)
}

// emit hashes m as the reference does and records its encoding, hash and
// signed data.
func emit(n int, m mixMessage) record {
	var payload bytes.Buffer
	if err := m.BtcEncode(&payload, wire.ProtocolVersion); err != nil {
		panic(fmt.Sprintf("%s: %v", m.Command(), err))
	}
	m.WriteHash(blake256.New())
	var rec recorder
	m.WriteSignedData(&rec)
	sigHash := blake256.Sum256(rec.Bytes())
	return record{
		Command:    m.Command(),
		Case:       n,
		Payload:    hex.EncodeToString(payload.Bytes()),
		Hash:       m.Hash().String(),
		SignedData: hex.EncodeToString(rec.Bytes()),
		SigHash:    hex.EncodeToString(sigHash[:]),
	}
}

func main() {
	enc := json.NewEncoder(os.Stdout)
	out := func(r record) {
		if err := enc.Encode(r); err != nil {
			panic(err)
		}
	}
	for n := 0; n < 3; n++ {
		// Pair request.
		pr := &wire.MsgMixPairReq{
			Expiry:       rng.Uint32(),
			MixAmount:    rng.Int63(),
			ScriptClass:  []string{"P2PKH-secp256k1-v0", "", "nonstandard"}[n],
			TxVersion:    uint16(1 + n),
			LockTime:     rng.Uint32(),
			MessageCount: uint32(1 + rng.Intn(5)),
			InputValue:   rng.Int63(),
			Flags:        byte(n),
			PairingFlags: byte(rng.Intn(256)),
		}
		fill(pr.Signature[:])
		fill(pr.Identity[:])
		for i := 0; i < n+1; i++ {
			var h chainhash.Hash
			fill(h[:])
			pr.UTXOs = append(pr.UTXOs, wire.MixPairReqUTXO{
				OutPoint:  *wire.NewOutPoint(&h, rng.Uint32(), int8(i%2)),
				Script:    bytesN(i * 10),
				PubKey:    bytesN(33),
				Signature: bytesN(64),
				Opcode:    byte(0xc0 + i),
			})
		}
		if n != 1 {
			pr.Change = wire.NewTxOut(rng.Int63n(1e10), bytesN(25))
		}
		r := emit(n, pr)
		pairing, err := pr.Pairing()
		if err != nil {
			panic(err)
		}
		r.Pairing = hex.EncodeToString(pairing)
		out(r)

		h := newHeader()
		ke := &wire.MsgMixKeyExchange{Signature: h.sig, Identity: h.id, SessionID: h.sid,
			Epoch: rng.Uint64(), Run: h.run, Pos: uint32(rng.Intn(10)), SeenPRs: hashes(n + 1)}
		fill(ke.ECDH[:])
		fill(ke.PQPK[:])
		fill(ke.Commitment[:])
		out(emit(n, ke))

		h = newHeader()
		ct := &wire.MsgMixCiphertexts{Signature: h.sig, Identity: h.id, SessionID: h.sid, Run: h.run,
			SeenKeyExchanges: hashes(n + 1)}
		for i := 0; i < n+1; i++ {
			var c [1047]byte
			fill(c[:])
			ct.Ciphertexts = append(ct.Ciphertexts, c)
		}
		out(emit(n, ct))

		h = newHeader()
		rows, cols := n+1, n+2
		sr := &wire.MsgMixSlotReserve{Signature: h.sig, Identity: h.id, SessionID: h.sid, Run: h.run,
			SeenCiphertexts: hashes(n + 2)}
		for i := 0; i < rows; i++ {
			var row [][]byte
			for j := 0; j < cols; j++ {
				row = append(row, field())
			}
			sr.DCMix = append(sr.DCMix, row)
		}
		out(emit(n, sr))

		h = newHeader()
		fp := &wire.MsgMixFactoredPoly{Signature: h.sig, Identity: h.id, SessionID: h.sid, Run: h.run,
			SeenSlotReserves: hashes(n + 1)}
		for i := 0; i < n+2; i++ {
			fp.Roots = append(fp.Roots, field())
		}
		out(emit(n, fp))

		h = newHeader()
		dc := &wire.MsgMixDCNet{Signature: h.sig, Identity: h.id, SessionID: h.sid, Run: h.run,
			SeenSlotReserves: hashes(n + 1)}
		for i := 0; i < rows; i++ {
			dc.DCNet = append(dc.DCNet, vect(cols))
		}
		out(emit(n, dc))

		h = newHeader()
		cf := &wire.MsgMixConfirm{Signature: h.sig, Identity: h.id, SessionID: h.sid, Run: h.run,
			Mix: tx(), SeenDCNets: hashes(n + 1)}
		out(emit(n, cf))

		h = newHeader()
		se := &wire.MsgMixSecrets{Signature: h.sig, Identity: h.id, SessionID: h.sid, Run: h.run,
			DCNetMsgs: vect(n), SeenSecrets: hashes(n)}
		fill(se.Seed[:])
		for i := 0; i < n+1; i++ {
			se.SlotReserveMsgs = append(se.SlotReserveMsgs, field())
		}
		r = emit(n, se)
		commitment := se.Commitment(blake256.New())
		r.Commitment = commitment.String()
		out(r)
	}
}
