"""XiangChain's Python SDK.

Everything of the core module ``xiangchain_client`` (transactions, canonical JSON, signing,
identities, signed requests, Merkle proofs, offline proof verification, the HTTP ``Client``) is
re-exported here; ``xiangchain.signing`` holds the suite registry (ed25519 and p256 built in,
the hook for further suites such as sm2), ``xiangchain.node`` the high-level ``Node`` (submit
and wait, proofs checked against the genesis, signed requests, EPCIS capture and query),
``xiangchain.epcis`` EPCIS document helpers.

    from xiangchain import Identity, Node
    me = Identity.load("identities/org0-admin")
    node = Node("http://127.0.0.1:8080")
    result = node.submit_and_wait(me, "evidence", "put", {"hash": "...", "kind": "doc", "meta": {}})
    node.verified_proof(result["txid"])
"""

from __future__ import annotations

from xiangchain_client import (  # noqa: F401  (re-exports)
    APIError,
    BlockHeader,
    Client,
    Identity,
    JSONNumber,
    ProofError,
    ProofReport,
    SignedTransaction,
    build_body,
    canonical_json,
    epoch_signing_message,
    follow_epochs,
    genesis_hash,
    inclusion_path,
    leaf_hash,
    load_json_exact,
    merkle_root,
    node_hash,
    public_key_from_certificate,
    public_key_from_raw,
    quorum,
    result_leaf,
    sha256,
    sign_bytes,
    signed_request_headers,
    state_hash_genesis,
    state_hash_next,
    suite_of_key,
    txid_of,
    validator_keys,
    verify_inclusion,
    verify_proof,
    verify_signature,
)

from . import epcis, signing  # noqa: E402,F401
from .node import Node, TransactionFailed, WaitTimeout  # noqa: E402,F401
from .signing import register_suite, suites  # noqa: E402,F401

__version__ = "0.1.0"

__all__ = [
    "APIError", "BlockHeader", "Client", "Identity", "JSONNumber", "Node", "ProofError", "ProofReport",
    "SignedTransaction", "TransactionFailed", "WaitTimeout", "build_body", "canonical_json", "epcis",
    "epoch_signing_message", "follow_epochs", "genesis_hash", "inclusion_path", "leaf_hash", "load_json_exact",
    "merkle_root", "node_hash", "public_key_from_certificate", "public_key_from_raw", "quorum", "register_suite",
    "result_leaf", "sha256", "sign_bytes", "signed_request_headers", "signing", "state_hash_genesis",
    "state_hash_next", "suite_of_key", "suites", "txid_of", "validator_keys", "verify_inclusion", "verify_proof",
    "verify_signature",
]
