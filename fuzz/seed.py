#!/usr/bin/env python3
"""Writes one seed per valid corpus record for the `message` target:
[command index][protocol version][payload]."""
import json, os, sys


def main(jsonl, out):
    # The command order of dcr_wire::Command::ALL (the messages! list).
    order = ["version", "verack", "getaddr", "addr", "addrv2", "getblocks", "inv", "getdata",
             "notfound", "block", "tx", "getheaders", "headers", "ping", "pong", "mempool",
             "miningstate", "getminings", "reject", "sendheaders", "feefilter", "getcfilter",
             "getcfheaders", "getcftypes", "cfilter", "cfheaders", "cftypes", "getcfilterv2",
             "cfilterv2", "getcfsv2", "cfiltersv2", "getinitstate", "initstate", "mixpairreq",
             "mixkeyxchg", "mixcphrtxt", "mixslotres", "mixfactpoly", "mixdcnet", "mixconfirm",
             "mixsecrets"]
    os.makedirs(out, exist_ok=True)
    for n, line in enumerate(open(jsonl)):
        r = json.loads(line)
        data = bytes([order.index(r["command"]), r["pver"]]) + bytes.fromhex(r["payload_hex"])
        with open(os.path.join(out, "seed-%05d" % n), "wb") as f:
            f.write(data)

if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
