// Package work holds what the reference side's benchmarks share: an empty
// message per command, and the checks a node makes of a block's roots.
package work

import (
	"github.com/decred/dcrd/blockchain/standalone/v2"
	"github.com/decred/dcrd/chaincfg/chainhash"
	"github.com/decred/dcrd/wire"
)

// NewMessage returns an empty message of the command, nil for one the
// wire package does not know.
func NewMessage(cmd string) wire.Message {
	switch cmd {
	case wire.CmdVersion:
		return &wire.MsgVersion{}
	case wire.CmdVerAck:
		return &wire.MsgVerAck{}
	case wire.CmdGetAddr:
		return &wire.MsgGetAddr{}
	case wire.CmdAddr:
		return &wire.MsgAddr{}
	case wire.CmdAddrV2:
		return &wire.MsgAddrV2{}
	case wire.CmdGetBlocks:
		return &wire.MsgGetBlocks{}
	case wire.CmdBlock:
		return &wire.MsgBlock{}
	case wire.CmdInv:
		return &wire.MsgInv{}
	case wire.CmdGetData:
		return &wire.MsgGetData{}
	case wire.CmdNotFound:
		return &wire.MsgNotFound{}
	case wire.CmdTx:
		return &wire.MsgTx{}
	case wire.CmdPing:
		return &wire.MsgPing{}
	case wire.CmdPong:
		return &wire.MsgPong{}
	case wire.CmdGetHeaders:
		return &wire.MsgGetHeaders{}
	case wire.CmdHeaders:
		return &wire.MsgHeaders{}
	case wire.CmdMemPool:
		return &wire.MsgMemPool{}
	case wire.CmdMiningState:
		return &wire.MsgMiningState{}
	case wire.CmdGetMiningState:
		return &wire.MsgGetMiningState{}
	case wire.CmdSendHeaders:
		return &wire.MsgSendHeaders{}
	case wire.CmdFeeFilter:
		return &wire.MsgFeeFilter{}
	case wire.CmdGetCFilter:
		return &wire.MsgGetCFilter{}
	case wire.CmdGetCFHeaders:
		return &wire.MsgGetCFHeaders{}
	case wire.CmdGetCFTypes:
		return &wire.MsgGetCFTypes{}
	case wire.CmdCFilter:
		return &wire.MsgCFilter{}
	case wire.CmdCFHeaders:
		return &wire.MsgCFHeaders{}
	case wire.CmdCFTypes:
		return &wire.MsgCFTypes{}
	case wire.CmdGetCFilterV2:
		return &wire.MsgGetCFilterV2{}
	case wire.CmdCFilterV2:
		return &wire.MsgCFilterV2{}
	case wire.CmdGetInitState:
		return &wire.MsgGetInitState{}
	case wire.CmdInitState:
		return &wire.MsgInitState{}
	case wire.CmdMixPairReq:
		return &wire.MsgMixPairReq{}
	case wire.CmdMixKeyExchange:
		return &wire.MsgMixKeyExchange{}
	case wire.CmdMixCiphertexts:
		return &wire.MsgMixCiphertexts{}
	case wire.CmdMixSlotReserve:
		return &wire.MsgMixSlotReserve{}
	case wire.CmdMixFactoredPoly:
		return &wire.MsgMixFactoredPoly{}
	case wire.CmdMixDCNet:
		return &wire.MsgMixDCNet{}
	case wire.CmdMixConfirm:
		return &wire.MsgMixConfirm{}
	case wire.CmdMixSecrets:
		return &wire.MsgMixSecrets{}
	case wire.CmdGetCFiltersV2:
		return &wire.MsgGetCFsV2{}
	case wire.CmdCFiltersV2:
		return &wire.MsgCFiltersV2{}
	case wire.CmdReject:
		return &wire.MsgReject{}
	}
	return nil
}

// CheckRoots checks a block's header roots against its transactions the
// way dcrd's checkMerkleRoots does (every transaction's full hash, the
// regular and stake trees with standalone.CalcTxTreeMerkleRoot), under
// either rule: separate trees (merkle root and stake root fields), or
// header commitments (DCP0005: the merkle root field is the hash of both
// roots). A genesis block commits to its coinbase's prefix hash. It is the
// counterpart of dcr_wire::merkle::check_block_roots.
func CheckRoots(m *wire.MsgBlock) bool {
	regular := standalone.CalcTxTreeMerkleRoot(m.Transactions)
	stake := standalone.CalcTxTreeMerkleRoot(m.STransactions)
	h := &m.Header
	if h.MerkleRoot == regular && h.StakeRoot == stake {
		return true
	}
	var both [2 * chainhash.HashSize]byte
	copy(both[:chainhash.HashSize], regular[:])
	copy(both[chainhash.HashSize:], stake[:])
	if h.MerkleRoot == chainhash.HashH(both[:]) {
		return true
	}
	return h.Height == 0 && len(m.Transactions) == 1 &&
		m.Transactions[0].TxHash() == h.MerkleRoot
}
