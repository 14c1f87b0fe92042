// Command decodebench is the reference's side of `dcrpeer bench
// --reference`: dcrd's wire package decoding the very messages dcrpeer
// bench decodes, timed by the same rule, one JSON line per figure.
//
//	decodebench -input FILE [-min-time 1s] [-clock wall|cpu]
//
// FILE is written by dcrpeer bench (README.md gives its layout): the
// messages of one or more data sets, each with its set name, command,
// protocol version, frame checksum (framed input) and payload. Per set and
// command, in order of first appearance, two levels:
//
//   - decode: BtcDecode of each payload into a fresh message from a
//     bytes.Buffer, as wire.ReadMessageN does (the reference has no
//     zero-copy decode: this is the counterpart of both dcrpeer's views
//     and owned levels);
//   - full: the frame checksum (framed input), the decode, and the hashes
//     a node computes: for a block every transaction's full hash, both
//     merkle roots checked against the header (work.CheckRoots, as dcrd's
//     checkMerkleRoots) and the block hash; for headers each header's
//     hash; for a transaction its full hash.
//
// Timing, as dcrpeer's: one pass counts allocations (runtime.MemStats
// Mallocs), then whole passes warm up for a quarter of -min-time, then
// samples of at least 1 ms of whole passes run until -min-time has passed
// and five are taken; the figure is the median sample's time per pass.
// -clock cpu times samples by the process's CPU time, every thread
// (CLOCK_PROCESS_CPUTIME_ID, so the garbage collector's work counts),
// as dcrpeer bench --clock cpu does; wall, the default, by elapsed time.
package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"sort"
	"syscall"
	"time"
	"unsafe"

	"benchgo/work"
	"github.com/decred/dcrd/crypto/blake256"
	"github.com/decred/dcrd/wire"
)

type msg struct {
	set      string
	command  string
	pver     uint32
	framed   bool
	checksum [4]byte
	payload  []byte
}

func readInput(path string) ([]msg, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(data) < 12 || string(data[:8]) != "DCRBENCH" {
		return nil, errors.New("not a decodebench input (magic DCRBENCH)")
	}
	if v := binary.LittleEndian.Uint32(data[8:]); v != 1 {
		return nil, fmt.Errorf("input version %d, this program reads 1", v)
	}
	rest := data[12:]
	short := errors.New("input truncated")
	take := func(n int) ([]byte, error) {
		if len(rest) < n {
			return nil, short
		}
		b := rest[:n]
		rest = rest[n:]
		return b, nil
	}
	var out []msg
	for len(rest) > 0 {
		var m msg
		b, err := take(2)
		if err != nil {
			return nil, err
		}
		if b, err = take(int(binary.LittleEndian.Uint16(b))); err != nil {
			return nil, err
		}
		m.set = string(b)
		if b, err = take(12); err != nil {
			return nil, err
		}
		m.command = string(bytes.TrimRight(b, "\x00"))
		if b, err = take(5); err != nil {
			return nil, err
		}
		m.pver = binary.LittleEndian.Uint32(b)
		if b[4] == 1 {
			if b, err = take(4); err != nil {
				return nil, err
			}
			m.framed = true
			copy(m.checksum[:], b)
		}
		if b, err = take(4); err != nil {
			return nil, err
		}
		if m.payload, err = take(int(binary.LittleEndian.Uint32(b))); err != nil {
			return nil, err
		}
		if work.NewMessage(m.command) == nil {
			return nil, fmt.Errorf("%s: a command the reference does not know", m.command)
		}
		out = append(out, m)
	}
	return out, nil
}

func decode(m *msg) (wire.Message, error) {
	w := work.NewMessage(m.command)
	err := w.BtcDecode(bytes.NewBuffer(m.payload), m.pver)
	return w, err
}

var sink byte

func full(m *msg) error {
	if m.framed {
		sum := blake256.Sum256(m.payload)
		if !bytes.Equal(sum[:4], m.checksum[:]) {
			return errors.New("checksum mismatch")
		}
	}
	w, err := decode(m)
	if err != nil {
		return err
	}
	switch v := w.(type) {
	case *wire.MsgBlock:
		if work.CheckRoots(v) {
			sink++
		}
		h := v.Header.BlockHash()
		sink ^= h[0]
	case *wire.MsgHeaders:
		for _, hd := range v.Headers {
			h := hd.BlockHash()
			sink ^= h[0]
		}
	case *wire.MsgTx:
		h := v.TxHashFull()
		sink ^= h[0]
	}
	return nil
}

// processCPU is the CPU time the process has used, every thread.
func processCPU() time.Duration {
	const clockProcessCPUTimeID = 2
	var ts syscall.Timespec
	_, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockProcessCPUTimeID,
		uintptr(unsafe.Pointer(&ts)), 0)
	if errno != 0 {
		panic(errno)
	}
	return time.Duration(ts.Nano())
}

var wallOrigin = time.Now()

// now reads the clock samples are timed by.
var now = func() time.Duration { return time.Since(wallOrigin) }

type figure struct {
	Set      string  `json:"set"`
	Command  string  `json:"command"`
	Level    string  `json:"level"`
	Messages int     `json:"messages"`
	Bytes    int     `json:"bytes"`
	NsPass   float64 `json:"ns_per_pass"`
	Allocs   float64 `json:"allocs_per_pass"`
	Samples  int     `json:"samples"`
}

func measure(msgs []*msg, level string, min time.Duration) (figure, error) {
	do := decode
	if level == "full" {
		do = func(m *msg) (wire.Message, error) { return nil, full(m) }
	}
	pass := func() error {
		for _, m := range msgs {
			if _, err := do(m); err != nil {
				return fmt.Errorf("%s %s: %w", m.set, m.command, err)
			}
		}
		return nil
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if err := pass(); err != nil {
		return figure{}, err
	}
	runtime.ReadMemStats(&after)
	warm := time.Now()
	passes := 0
	for passes == 0 || time.Since(warm) < min/4 {
		_ = pass()
		passes++
	}
	perPass := time.Since(warm) / time.Duration(passes)
	perSample := int(time.Millisecond / max(perPass, 1))
	perSample = max(perSample, 1)
	var samples []float64
	started := time.Now()
	for len(samples) < 5 || time.Since(started) < min {
		t := now()
		for i := 0; i < perSample; i++ {
			_ = pass()
		}
		samples = append(samples, float64((now()-t).Nanoseconds())/float64(perSample))
	}
	sort.Float64s(samples)
	f := figure{
		Set: msgs[0].set, Command: msgs[0].command, Level: level,
		Messages: len(msgs), NsPass: samples[len(samples)/2],
		Allocs: float64(after.Mallocs - before.Mallocs), Samples: len(samples),
	}
	for _, m := range msgs {
		f.Bytes += len(m.payload)
	}
	return f, nil
}

func main() {
	input := flag.String("input", "", "the messages, as dcrpeer bench writes them")
	min := flag.Duration("min-time", time.Second, "each figure's run time, at least")
	clock := flag.String("clock", "wall", "what times the samples: wall or cpu")
	flag.Parse()
	if *input == "" || *min <= 0 || (*clock != "wall" && *clock != "cpu") {
		fmt.Fprintln(os.Stderr, "usage: decodebench -input FILE [-min-time 1s] [-clock wall|cpu]")
		os.Exit(2)
	}
	if *clock == "cpu" {
		now = processCPU
	}
	msgs, err := readInput(*input)
	if err != nil {
		fmt.Fprintf(os.Stderr, "decodebench: %s: %v\n", *input, err)
		os.Exit(1)
	}
	// Groups by set and command, in order of first appearance.
	type key struct{ set, command string }
	var order []key
	groups := map[key][]*msg{}
	for i := range msgs {
		k := key{msgs[i].set, msgs[i].command}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], &msgs[i])
	}
	fmt.Printf("decodebench: %d messages, dcrd wire protocol %d, %s, %s clock\n",
		len(msgs), wire.ProtocolVersion, runtime.Version(), *clock)
	enc := json.NewEncoder(os.Stdout)
	for _, k := range order {
		for _, level := range []string{"decode", "full"} {
			f, err := measure(groups[k], level, *min)
			if err != nil {
				fmt.Fprintf(os.Stderr, "decodebench: the reference refuses: %v\n", err)
				os.Exit(1)
			}
			if err := enc.Encode(f); err != nil {
				os.Exit(1)
			}
		}
	}
}
