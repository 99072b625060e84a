"""Fetch a transaction's proof and check it offline against a genesis file you trust.

    python3 verify_proof.py http://127.0.0.1:8080 TXID CHAIN_DIR/nodes/0/genesis.json
"""

import json
import sys

from xiangchain import Node, ProofError, verify_proof


def main(url: str, txid: str, genesis_path: str) -> int:
    with open(genesis_path, "rb") as f:
        genesis = json.load(f)
    try:
        report = verify_proof(Node(url).proof(txid), genesis)
    except ProofError as e:
        print(f"INVALID: {e}")
        return 1
    print(f"OK: {report.txid} is in block {report.height}, sealed by {', '.join(report.valid_signers)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:4]))
