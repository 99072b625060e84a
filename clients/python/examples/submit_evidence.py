"""Notarise a file's SHA-256 on chain, wait for the commit, and check the inclusion proof.

    python3 submit_evidence.py http://127.0.0.1:8080 CHAIN_DIR/identities/org0-admin FILE
"""

import hashlib
import sys

from xiangchain import Identity, Node


def main(url: str, identity_dir: str, path: str) -> None:
    me = Identity.load(identity_dir)
    node = Node(url)
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    result = node.submit_and_wait(me, "evidence", "put", {"hash": digest, "kind": "doc", "meta": {"file": path}})
    report = node.verified_proof(result["txid"])
    print(f"{digest} notarised in block {report.height} by {', '.join(report.valid_signers)} (tx {result['txid']})")


if __name__ == "__main__":
    main(*sys.argv[1:4])
