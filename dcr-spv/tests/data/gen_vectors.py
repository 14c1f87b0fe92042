#!/usr/bin/env python3
"""Makes dcr-spv's reference vectors by running the reference node (dcrd).

Usage: python3 dcr-spv/tests/data/gen_vectors.py [DCRD_BIN]
(default DCRD_BIN: ../shared/reference/bin/dcrd beside the workspace).

Writes, beside this script:
- simnet-chain.json: a simnet chain mined by dcrd on our own mining address
  (its `generate` RPC), with every block's header, serialized block,
  version 2 committed filter and the filter's header-commitment inclusion
  proof as dcrd's `getcfilterv2` RPC returns them.
- genesis.json: the genesis header of each network, as dcrd's
  `getblockheader` returns it.

Each dcrd runs on a fresh temporary appdata, listens on loopback only,
dials no peer and is stopped when its part is done. Nothing here is dcrd's
code: only its answers over JSON-RPC are recorded.
"""

import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
DCRD = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    ROOT, "..", "shared", "reference", "bin", "dcrd")

# Our mining address on simnet (a P2PKH address): every coinbase pays it,
# so its script is in every filter after the first block.
MINING_ADDR = "Ssn23a3rJaCUxjqXiVSNwU6FxV45sLkiFpz"
# Blocks to mine: simnet's stake validation height is 144 and no tickets
# are bought here, so the chain stays below it.
BLOCKS = 64


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Node:
    def __init__(self, net_flag, extra=()):
        self.dir = tempfile.mkdtemp(prefix="dcr-spv-vectors-")
        self.rpc = free_port()
        args = [DCRD, "--appdata=" + self.dir,
                "--listen=127.0.0.1:%d" % free_port(),
                "--rpclisten=127.0.0.1:%d" % self.rpc,
                "--rpcuser=u", "--rpcpass=p", "--notls", "--noseeders",
                "--nodiscoverip", "--connect=127.0.0.1:1", "--debuglevel=warn"]
        if net_flag:
            args.append(net_flag)
        args.extend(extra)
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        for _ in range(300):
            try:
                self.call("getbestblockhash")
                return
            except Exception:
                time.sleep(0.1)
        self.stop()
        raise SystemExit("dcrd did not answer RPC")

    def call(self, method, *params):
        body = json.dumps({"jsonrpc": "1.0", "id": 1, "method": method,
                           "params": list(params)}).encode()
        req = urllib.request.Request("http://127.0.0.1:%d/" % self.rpc, body)
        req.add_header("Authorization", "Basic " +
                       base64.b64encode(b"u:p").decode())
        req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=30) as r:
            out = json.load(r)
        if out.get("error"):
            raise RuntimeError("%s: %s" % (method, out["error"]))
        return out["result"]

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def block_record(node, height):
    h = node.call("getblockhash", height)
    f = node.call("getcfilterv2", h)
    return {
        "height": height,
        "hash": h,
        "header": node.call("getblockheader", h, False),
        "block": node.call("getblock", h, False),
        "filter": f["data"],
        "proof_index": f["proofindex"],
        "proof_hashes": f["proofhashes"],
    }


def simnet_chain():
    node = Node("--simnet", ["--miningaddr=" + MINING_ADDR])
    try:
        node.call("generate", BLOCKS)
        info = node.call("getblockchaininfo")
        return {
            "network": "simnet",
            "mining_address": MINING_ADDR,
            "dcrd_version": node.call("version"),
            "header_commitments": info.get("deployments", {}).get(
                "headercommitments"),
            "blocks": [block_record(node, h) for h in range(BLOCKS + 1)],
        }
    finally:
        node.stop()


def genesis():
    out = {}
    for name, flag in [("mainnet", None), ("testnet3", "--testnet"),
                       ("simnet", "--simnet"), ("regnet", "--regnet")]:
        node = Node(flag)
        try:
            h = node.call("getblockhash", 0)
            out[name] = {"hash": h,
                         "header": node.call("getblockheader", h, False)}
        finally:
            node.stop()
    return out


def write(name, value):
    with open(os.path.join(HERE, name), "w") as f:
        json.dump(value, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    write("genesis.json", genesis())
    write("simnet-chain.json", simnet_chain())
