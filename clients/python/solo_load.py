"""Interim load measurement (until `xiangchain bench` of issue 6 exists).

Starts a fresh chain — `xiangchain solo`, or with `--validators N` N `xiangchain node` processes
(real TLS between them) — pre-signs evidence transactions in Python, submits them from several
threads over keep-alive connections (round-robin over the validators), and reports accepted,
refused (503) and committed counts and the committed rate, measured from the first submission
until every validator's mempool is empty. With `--latency`, every submission waits for its
commit (`wait=commit`) and the p50/p95/p99 of submit → committed are reported.

    python3 clients/python/solo_load.py --bin .build/release/xiangchain --count 20000 --threads 16
    python3 clients/python/solo_load.py --bin .build/release/xiangchain --validators 4 --count 20000 --threads 32 --latency
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(__file__))
import xiangchain_client as xc  # noqa: E402
from local_ports import free_block, free_port  # noqa: E402


def get(port: int, path: str) -> dict:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("GET", path)
    return json.loads(c.getresponse().read())


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=".build/debug/xiangchain")
    ap.add_argument("--count", type=int, default=20000)
    ap.add_argument("--threads", type=int, default=16)
    ap.add_argument("--validators", type=int, default=1)
    ap.add_argument("--latency", action="store_true")
    a = ap.parse_args()

    home = tempfile.mkdtemp(prefix="xc-load-")
    procs = []
    if a.validators == 1:
        ports = [free_port()]
        procs.append(subprocess.Popen([a.bin, "solo", "--dir", home, "--api-port", str(ports[0])],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    else:
        base = free_block(a.validators)
        orgs = ",".join(f"org{k}" for k in range(a.validators))
        subprocess.run([a.bin, "init", "--dir", home, "--orgs", orgs, "--base-port", str(base)], check=True,
                       stdout=subprocess.DEVNULL)
        ports = [base + k for k in range(a.validators)]
        for k in range(a.validators):
            cfg_path = os.path.join(home, "nodes", str(k), "config.json")
            cfg = json.load(open(cfg_path))
            cfg["emptyBlockDelayMs"] = 100
            json.dump(cfg, open(cfg_path, "w"))
            log = open(os.path.join(home, "nodes", str(k), "node.log"), "ab")
            procs.append(subprocess.Popen([a.bin, "node", "--home", os.path.join(home, "nodes", str(k))],
                                          stdout=log, stderr=log))
    port = ports[0]
    try:
        for p in ports:
            for _ in range(300):
                try:
                    status = get(p, "/v1/status")
                    break
                except OSError:
                    time.sleep(0.1)
        time.sleep(1.0 if a.validators > 1 else 0)
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
        latencies: list = []
        path = "/v1/txs?wait=commit" if a.latency else "/v1/txs"

        def worker(k: int) -> None:
            c = http.client.HTTPConnection("127.0.0.1", ports[k % len(ports)], timeout=120)
            for body in payloads[k::a.threads]:
                while True:
                    sent = time.time()
                    c.request("POST", path, body=body, headers={"Content-Type": "application/json"})
                    r = c.getresponse()
                    reply = r.read()
                    if r.status == 503:
                        refused[k] += 1
                        time.sleep(0.05)
                        continue
                    if r.status == 202 or (r.status == 200 and b'"committed"' in reply):
                        accepted[k] += 1
                        if a.latency:
                            latencies.append(time.time() - sent)
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
            statuses = [get(p, "/v1/status") for p in ports]
            if all(s["mempool"]["size"] == 0 for s in statuses):
                break
            time.sleep(0.05)
        end = time.time()
        result = {
            "validators": a.validators, "transactions": a.count, "accepted": total,
            "refused503Retries": sum(refused), "signingPerSecond": round(a.count / sign_s),
            "submitSeconds": round(submit_s, 2), "committedPerSecond": round(total / (end - start)),
            "blocks": statuses[0]["height"], "heights": [s["height"] for s in statuses],
        }
        if latencies:
            latencies.sort()
            pick = lambda q: round(1000 * latencies[min(len(latencies) - 1, int(q * len(latencies)))])
            result["latencyMs"] = {"p50": pick(0.50), "p95": pick(0.95), "p99": pick(0.99)}
        print(json.dumps(result, indent=2))
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
