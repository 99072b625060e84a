"""Interim solo-mode load measurement (until `xiangchain bench` of issue 6 exists).

Starts `xiangchain solo` on a fresh directory, pre-signs N evidence transactions in Python,
submits them from several threads over keep-alive connections, and reports accepted, refused
(503) and committed counts and the committed rate, measured from the first submission to the
block that holds the last accepted transaction.

    python3 clients/python/solo_load.py --bin .build/release/xiangchain --count 20000 --threads 16
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(__file__))
import xiangchain_client as xc  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port: int, path: str) -> dict:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("GET", path)
    return json.loads(c.getresponse().read())


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=".build/debug/xiangchain")
    ap.add_argument("--count", type=int, default=20000)
    ap.add_argument("--threads", type=int, default=16)
    a = ap.parse_args()

    home = tempfile.mkdtemp(prefix="xc-load-")
    port = free_port()
    node = subprocess.Popen([a.bin, "solo", "--dir", home, "--api-port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                status = get(port, "/v1/status")
                break
            except OSError:
                time.sleep(0.1)
        chain = status["chainId"]
        ident = xc.Identity.load(os.path.join(home, "identities", "org0-admin"))
        t0 = time.time()
        payloads = []
        for i in range(a.count):
            h = xc.sha256(uuid.uuid4().bytes).hex()
            tx = ident.transaction(chain, "evidence", "put", {"hash": h, "kind": "load"})
            payloads.append(json.dumps(tx.envelope()).encode())
        sign_s = time.time() - t0

        accepted = [0] * a.threads
        refused = [0] * a.threads

        def worker(k: int) -> None:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            for body in payloads[k::a.threads]:
                while True:
                    c.request("POST", "/v1/txs", body=body, headers={"Content-Type": "application/json"})
                    r = c.getresponse()
                    r.read()
                    if r.status == 503:
                        refused[k] += 1
                        time.sleep(0.05)
                        continue
                    if r.status == 202:
                        accepted[k] += 1
                    break

        start = time.time()
        threads = [threading.Thread(target=worker, args=(k,)) for k in range(a.threads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        submit_s = time.time() - start
        total = sum(accepted)
        while True:
            s = get(port, "/v1/status")
            if s["mempool"]["size"] == 0:
                break
            time.sleep(0.05)
        end = time.time()
        height = s["height"]
        print(json.dumps({
            "transactions": a.count, "accepted": total, "refused503Retries": sum(refused),
            "signingPerSecond": round(a.count / sign_s), "submitSeconds": round(submit_s, 2),
            "committedPerSecond": round(total / (end - start)), "blocks": height,
        }, indent=2))
    finally:
        node.send_signal(signal.SIGTERM)
        node.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
