#!/usr/bin/env python3
"""Opens N silent connections to HOST:PORT from 8 /16 groups of 127.0.0.0/8,
holds them HOLD seconds, then counts those the server closed.
usage: idle_flood.py HOST:PORT N HOLD"""
import socket, sys, time
host, port = sys.argv[1].rsplit(":", 1); port = int(port)
n_total = int(sys.argv[2]); hold = float(sys.argv[3])
socks = []; failed = 0
t0 = time.time()
for n in range(n_total):
    g = 1 + n % 8; h = (n // 8) % 250
    s = socket.socket()
    s.setblocking(True)
    s.settimeout(5)
    try:
        s.bind((f"127.{g}.{h // 100}.{h % 100 + 1}", 0)); s.connect((host, port)); socks.append(s)
    except OSError:
        failed += 1; s.close()
print(f"opened {len(socks)} (failed {failed}) in {time.time()-t0:.2f} s", flush=True)
time.sleep(hold)
# How many the server closed: a read returns b"" or resets at once.
closed = 0
for s in socks:
    s.setblocking(False)
    try:
        if s.recv(1) == b"": closed += 1
    except BlockingIOError: pass
    except OSError: closed += 1
print(f"closed by the server after {hold:.0f} s: {closed} of {len(socks)}", flush=True)
