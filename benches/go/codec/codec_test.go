// Package codec benchmarks the reference (dcrd's wire and crypto/blake256)
// on the same work as dcr-rs's benches/benches/codec.rs and allocs.rs:
// real blocks, a synthetic ~1.3 MB block built the same way, framing with
// checksum, headers/inv at their maxima, a ping frame, one representative
// corpus message per command, block/tx parts and BLAKE-256.
//
// Run time is set with go test's -benchtime; the corpus folder with
// $DCR_TESTDATA (default ../shared/testdata (relative to the working directory)).
package codec

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"benchgo/blocks"
	"benchgo/work"
	"github.com/decred/dcrd/blockchain/standalone/v2"
	"github.com/decred/dcrd/chaincfg/chainhash"
	"github.com/decred/dcrd/crypto/blake256"
	"github.com/decred/dcrd/wire"
)

const pver = wire.ProtocolVersion // 12, as pver::CURRENT on the Rust side

func corpus() string { return blocks.Corpus() }

var (
	loadOnce      sync.Once
	chain, mainnt [][]byte
	synth13       []byte
	loadErr       error
)

func load(b *testing.B) {
	loadOnce.Do(func() {
		chain, mainnt, loadErr = blocks.Real()
		if loadErr != nil {
			return
		}
		synth13, loadErr = blocks.Synthetic(chain, mainnt, 1_300_000)
	})
	if loadErr != nil {
		b.Skipf("corpus: %v", loadErr)
	}
}

func frame(b *testing.B, msg wire.Message) []byte {
	var buf bytes.Buffer
	if _, err := wire.WriteMessageN(&buf, msg, pver, wire.MainNet); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

func decodeBlock(raw []byte) (*wire.MsgBlock, error) {
	var m wire.MsgBlock
	err := m.BtcDecode(bytes.NewReader(raw), pver)
	return &m, err
}

func largest(blocks [][]byte) []byte {
	var big []byte
	for _, r := range blocks {
		if len(r) > len(big) {
			big = r
		}
	}
	return big
}

// BenchmarkBlock: decode of real and synthetic blocks, with BtcDecode at
// protocol 12 and with Deserialize (protocol 0, the storage format).
func BenchmarkBlock(b *testing.B) {
	load(b)
	type one struct {
		name string
		raws [][]byte
	}
	cases := []one{
		{"chain-169-blocks-stream", chain},
		{"chain-largest", [][]byte{largest(chain)}},
		{"mainnet-432100", mainnt[:1]},
		{"synthetic-1.3MB", [][]byte{synth13}},
	}
	for _, c := range cases {
		total := 0
		for _, r := range c.raws {
			total += len(r)
		}
		b.Run("BtcDecode-bytes.Reader/"+c.name, func(b *testing.B) {
			b.SetBytes(int64(total))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				for _, raw := range c.raws {
					var m wire.MsgBlock
					if err := m.BtcDecode(bytes.NewReader(raw), pver); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(len(c.raws)), "blocks/op")
		})
		// A *bytes.Buffer takes the reference's short-read fast path
		// (scripts are still copied; only ReadMessageN's internal buffer
		// avoids that).
		b.Run("BtcDecode-bytes.Buffer/"+c.name, func(b *testing.B) {
			b.SetBytes(int64(total))
			b.ReportAllocs()
			var buf bytes.Buffer
			for i := 0; i < b.N; i++ {
				for _, raw := range c.raws {
					buf = *bytes.NewBuffer(raw)
					var m wire.MsgBlock
					if err := m.BtcDecode(&buf, pver); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(len(c.raws)), "blocks/op")
		})
		b.Run("Deserialize/"+c.name, func(b *testing.B) {
			b.SetBytes(int64(total))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				for _, raw := range c.raws {
					var m wire.MsgBlock
					if err := m.Deserialize(bytes.NewReader(raw)); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(len(c.raws)), "blocks/op")
		})
		// The whole frame path: header, checksum, payload decode.
		frames := make([][]byte, len(c.raws))
		ftotal := 0
		for i, raw := range c.raws {
			m, err := decodeBlock(raw)
			if err != nil {
				b.Fatal(err)
			}
			frames[i] = frame(b, m)
			ftotal += len(frames[i])
		}
		b.Run("ReadMessageN/"+c.name, func(b *testing.B) {
			b.SetBytes(int64(ftotal))
			b.ReportAllocs()
			r := new(bytes.Reader)
			for i := 0; i < b.N; i++ {
				for _, f := range frames {
					r.Reset(f)
					if _, _, _, err := wire.ReadMessageN(r, pver, wire.MainNet); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(len(c.raws)), "blocks/op")
		})
		if c.name == "synthetic-1.3MB" {
			f := frames[0]
			b.Run("checksum-only/"+c.name, func(b *testing.B) {
				b.SetBytes(int64(len(f)))
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					_ = blake256.Sum256(f[24:])
				}
			})
		}
	}
	raw := mainnt[0]
	b.Run("decode+hash-all-txs/mainnet-432100", func(b *testing.B) {
		b.SetBytes(int64(len(raw)))
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			m, err := decodeBlock(raw)
			if err != nil {
				b.Fatal(err)
			}
			for _, t := range m.Transactions {
				_ = t.TxHashFull()
			}
			for _, t := range m.STransactions {
				_ = t.TxHashFull()
			}
		}
	})
}

// BenchmarkRoots: what a node does with each block it receives (decode,
// hash every transaction, check both roots), and a merkle root of 4,096
// hashes: the counterparts of `block/decode+hash-all-txs+roots/*` and
// `many/merkle-root/4096` of benches/benches/codec.rs. Added by dcr-rs to
// the reference's codecbench (benches/go/README.md).
func BenchmarkRoots(b *testing.B) {
	load(b)
	cases := []struct {
		name string
		raws [][]byte
		real bool
	}{
		{"chain-169-blocks-stream", chain, true},
		{"mainnet-432100", mainnt[:1], true},
		{"synthetic-1.3MB", [][]byte{synth13}, false},
	}
	for _, c := range cases {
		total := 0
		for _, raw := range c.raws {
			total += len(raw)
			m, err := decodeBlock(raw)
			if err != nil {
				b.Fatal(err)
			}
			// Real blocks must check; the synthetic block's header
			// commits to other transactions, so it must not.
			if work.CheckRoots(m) != c.real {
				b.Fatalf("%s: roots check %v", c.name, !c.real)
			}
		}
		b.Run("decode+hash-all-txs+roots/"+c.name, func(b *testing.B) {
			b.SetBytes(int64(total))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				for _, raw := range c.raws {
					m, err := decodeBlock(raw)
					if err != nil {
						b.Fatal(err)
					}
					_ = work.CheckRoots(m)
				}
			}
		})
	}
	// The same leaves as the Rust side: BLAKE-256 of i as 4 bytes LE.
	leaves := make([]chainhash.Hash, 4096)
	for i := range leaves {
		var le [4]byte
		binary.LittleEndian.PutUint32(le[:], uint32(i))
		leaves[i] = blake256.Sum256(le[:])
	}
	b.Run("merkle-root/4096", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			_ = standalone.CalcMerkleRoot(leaves)
		}
	})
}

// BenchmarkMaxMessages: headers with 2000 headers and inv with 50000
// entries (the reference's own BenchmarkDecodeHeaders/Inv, with bytes and
// allocations reported), payload decode and whole frame read.
func BenchmarkMaxMessages(b *testing.B) {
	var hdrs wire.MsgHeaders
	for i := 0; i < wire.MaxBlockHeadersPerMsg; i++ {
		hash, _ := chainhash.NewHashFromStr(fmt.Sprintf("%x", i))
		hdrs.AddBlockHeader(wire.NewBlockHeader(1, hash, hash, hash, 0, [6]byte{}, 0, 0,
			0, 0, 0, 0, 0, 0, uint32(i), [32]byte{}, 0xdeadbeef))
	}
	var inv wire.MsgInv
	for i := 0; i < wire.MaxInvPerMsg; i++ {
		hash, _ := chainhash.NewHashFromStr(fmt.Sprintf("%x", i))
		inv.AddInvVect(wire.NewInvVect(wire.InvTypeBlock, hash))
	}
	inv1000 := wire.NewMsgInvSizeHint(1000)
	for n := 0; n < 1000; n++ {
		var h chainhash.Hash
		for j := range h {
			h[j] = byte(n)
		}
		inv1000.AddInvVect(wire.NewInvVect(wire.InvTypeTx, &h))
	}
	msgs := []struct {
		name string
		msg  wire.Message
		mk   func() wire.Message
	}{
		{"headers-2000", &hdrs, func() wire.Message { return &wire.MsgHeaders{} }},
		{"inv-50000", &inv, func() wire.Message { return &wire.MsgInv{} }},
		{"inv-1000", inv1000, func() wire.Message { return &wire.MsgInv{} }},
		{"ping", wire.NewMsgPing(0x0123456789abcdef), func() wire.Message { return &wire.MsgPing{} }},
	}
	for _, m := range msgs {
		var pb bytes.Buffer
		if err := m.msg.BtcEncode(&pb, pver); err != nil {
			b.Fatal(err)
		}
		payload := pb.Bytes()
		f := frame(b, m.msg)
		b.Run("BtcDecode/"+m.name, func(b *testing.B) {
			b.SetBytes(int64(len(payload)))
			b.ReportAllocs()
			var buf bytes.Buffer
			for i := 0; i < b.N; i++ {
				buf = *bytes.NewBuffer(payload)
				if err := m.mk().BtcDecode(&buf, pver); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("ReadMessageN/"+m.name, func(b *testing.B) {
			b.SetBytes(int64(len(f)))
			b.ReportAllocs()
			r := new(bytes.Reader)
			for i := 0; i < b.N; i++ {
				r.Reset(f)
				if _, _, _, err := wire.ReadMessageN(r, pver, wire.MainNet); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("WriteMessageN/"+m.name, func(b *testing.B) {
			b.SetBytes(int64(len(f)))
			b.ReportAllocs()
			var w bytes.Buffer
			for i := 0; i < b.N; i++ {
				w.Reset()
				if _, err := wire.WriteMessageN(&w, m.msg, pver, wire.MainNet); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

type record struct {
	Command    string `json:"command"`
	Pver       uint32 `json:"pver"`
	PayloadHex string `json:"payload_hex"`
	Valid      bool   `json:"valid"`
}

type rep struct {
	cmd     string
	pver    uint32
	payload []byte
}

// representative mirrors dcr_benches::representative_messages: per
// command, the largest valid corpus record at the newest version carrying it.
func representative(b *testing.B) []rep {
	f, err := os.Open(filepath.Join(corpus(), "wire", "messages.jsonl"))
	if err != nil {
		b.Skipf("corpus: %v", err)
	}
	defer f.Close()
	best := map[string]rep{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var r record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			b.Fatal(err)
		}
		if !r.Valid {
			continue
		}
		p, err := hex.DecodeString(r.PayloadHex)
		if err != nil {
			b.Fatal(err)
		}
		cur, ok := best[r.Command]
		if !ok || r.Pver > cur.pver || (r.Pver == cur.pver && len(p) > len(cur.payload)) {
			best[r.Command] = rep{r.Command, r.Pver, p}
		}
	}
	var names []string
	for k := range best {
		names = append(names, k)
	}
	// alphabetical, as the Rust side's BTreeMap
	for i := 1; i < len(names); i++ {
		for j := i; j > 0 && names[j] < names[j-1]; j-- {
			names[j], names[j-1] = names[j-1], names[j]
		}
	}
	out := make([]rep, 0, len(names))
	for _, n := range names {
		out = append(out, best[n])
	}
	return out
}

// BenchmarkMessage: payload decode and encode of one representative corpus
// message per command (message/decode/* and message/encode/* on the Rust side).
func BenchmarkMessage(b *testing.B) {
	for _, m := range representative(b) {
		m := m
		proto := work.NewMessage(m.cmd)
		if proto == nil {
			b.Logf("%s: no Go type", m.cmd)
			continue
		}
		if err := proto.BtcDecode(bytes.NewBuffer(m.payload), m.pver); err != nil {
			b.Logf("%s at pver %d: reference refuses: %v", m.cmd, m.pver, err)
			continue
		}
		b.Run("decode/"+m.cmd, func(b *testing.B) {
			b.SetBytes(int64(len(m.payload)))
			b.ReportAllocs()
			var buf bytes.Buffer
			for i := 0; i < b.N; i++ {
				buf = *bytes.NewBuffer(m.payload)
				if err := work.NewMessage(m.cmd).BtcDecode(&buf, m.pver); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("encode/"+m.cmd, func(b *testing.B) {
			b.SetBytes(int64(len(m.payload)))
			b.ReportAllocs()
			var w bytes.Buffer
			w.Grow(len(m.payload))
			for i := 0; i < b.N; i++ {
				w.Reset()
				if err := proto.BtcEncode(&w, m.pver); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkParts: header decode, the largest regular transaction of
// mainnet 432100 in each serialization, transaction and block hashes.
func BenchmarkParts(b *testing.B) {
	load(b)
	var hdr wire.BlockHeader
	hb, err := hdr.Bytes()
	if err != nil {
		b.Fatal(err)
	}
	b.Run("header/decode", func(b *testing.B) {
		b.SetBytes(int64(len(hb)))
		b.ReportAllocs()
		r := new(bytes.Reader)
		for i := 0; i < b.N; i++ {
			r.Reset(hb)
			var h wire.BlockHeader
			if err := h.Deserialize(r); err != nil {
				b.Fatal(err)
			}
		}
	})
	blk, err := decodeBlock(mainnt[0])
	if err != nil {
		b.Fatal(err)
	}
	var tx *wire.MsgTx
	for _, t := range blk.Transactions {
		if tx == nil || t.SerializeSize() > tx.SerializeSize() {
			tx = t
		}
	}
	full, _ := tx.Bytes()
	prefix, _ := tx.BytesPrefix()
	witness, _ := tx.BytesWitness()
	for _, s := range []struct {
		name  string
		bytes []byte
	}{{"Full", full}, {"NoWitness", prefix}, {"OnlyWitness", witness}} {
		s := s
		b.Run("tx/decode/"+s.name, func(b *testing.B) {
			b.SetBytes(int64(len(s.bytes)))
			b.ReportAllocs()
			r := new(bytes.Reader)
			for i := 0; i < b.N; i++ {
				r.Reset(s.bytes)
				var t wire.MsgTx
				if err := t.Deserialize(r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("hash/tx-prefix", func(b *testing.B) {
		b.SetBytes(int64(len(full)))
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			_ = tx.TxHash()
		}
	})
	b.Run("hash/tx-full", func(b *testing.B) {
		b.SetBytes(int64(len(full)))
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			_ = tx.TxHashFull()
		}
	})
	b.Run("hash/block", func(b *testing.B) {
		b.SetBytes(180)
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			_ = blk.Header.BlockHash()
		}
	})
}

// BenchmarkBlake256: blake256.Sum256 over 0xa5 bytes at the Rust bench's
// sizes (parts/blake256/*).
func BenchmarkBlake256(b *testing.B) {
	for _, size := range []int{32, 64, 180, 1024, 8192, 16384, 1 << 20} {
		data := bytes.Repeat([]byte{0xa5}, size)
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				_ = blake256.Sum256(data)
			}
		})
	}
}

// TestAllocsPerBlock prints allocations per decoded block (the Rust
// side's `--bench allocs`), measured with testing.AllocsPerRun.
func TestAllocsPerBlock(t *testing.T) {
	chain, mainnt, err := blocks.Real()
	if err != nil {
		t.Skip(err)
	}
	big, err := blocks.Synthetic(chain, mainnt, 1_300_000)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		blocks [][]byte
	}{{"chain-0-168", chain}, {"mainnet-432100", mainnt}, {"synthetic-1.3MB", [][]byte{big}}} {
		var rd, bf, fr, max float64
		for _, raw := range c.blocks {
			n := testing.AllocsPerRun(20, func() {
				var m wire.MsgBlock
				if err := m.BtcDecode(bytes.NewReader(raw), pver); err != nil {
					t.Fatal(err)
				}
			})
			rd += n
			if n > max {
				max = n
			}
			bf += testing.AllocsPerRun(20, func() {
				var m wire.MsgBlock
				if err := m.BtcDecode(bytes.NewBuffer(raw), pver); err != nil {
					t.Fatal(err)
				}
			})
			var m wire.MsgBlock
			if err := m.BtcDecode(bytes.NewReader(raw), pver); err != nil {
				t.Fatal(err)
			}
			var fb bytes.Buffer
			if _, err := wire.WriteMessageN(&fb, &m, pver, wire.MainNet); err != nil {
				t.Fatal(err)
			}
			f := fb.Bytes()
			fr += testing.AllocsPerRun(20, func() {
				if _, _, _, err := wire.ReadMessageN(bytes.NewReader(f), pver, wire.MainNet); err != nil {
					t.Fatal(err)
				}
			})
		}
		k := float64(len(c.blocks))
		fmt.Printf("allocs %s: BtcDecode(bytes.Reader) %.1f allocations/block (max %.0f); BtcDecode(bytes.Buffer) %.1f; ReadMessageN(frame) %.1f; over %d blocks\n",
			c.name, rd/k, max, bf/k, fr/k, len(c.blocks))
	}
}
