module benchgo

go 1.25.0

require (
	github.com/decred/dcrd/blockchain/standalone/v2 v2.2.1
	github.com/decred/dcrd/chaincfg/chainhash v1.0.5
	github.com/decred/dcrd/crypto/blake256 v1.1.0
	github.com/decred/dcrd/wire v1.7.5
)

require (
	github.com/klauspost/cpuid/v2 v2.0.9 // indirect
	lukechampine.com/blake3 v1.3.0 // indirect
)

// dcrd at the corpus commit (036b7090) in ../dcrd-src and three more
// modules in ../src, laid out by benches/compare-codec.py (README.md).
replace github.com/decred/dcrd/blockchain/standalone/v2 => ../dcrd-src/blockchain/standalone

replace github.com/decred/dcrd/chaincfg/chainhash => ../dcrd-src/chaincfg/chainhash

replace github.com/decred/dcrd/crypto/blake256 => ../dcrd-src/crypto/blake256

replace github.com/decred/dcrd/wire => ../dcrd-src/wire

replace lukechampine.com/blake3 => ../src/blake3

replace github.com/klauspost/cpuid/v2 => ../src/cpuid

replace github.com/davecgh/go-spew => ../src/go-spew
