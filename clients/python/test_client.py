"""Tests of the independent Python client against the documented vectors and a real node.

Run from the repository root:  python3 -m pytest -q clients/python
The end-to-end tests start ``$XIANGCHAIN_BIN`` (default ``<repo>/.build/debug/xiangchain``).
"""

from __future__ import annotations

import base64
import copy
import datetime
import hashlib
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from cryptography.x509.oid import NameOID

import xiangchain_client as xc
from local_ports import free_block, free_port

REPO = Path(__file__).resolve().parents[2]
XIANGCHAIN_BIN = Path(os.environ.get("XIANGCHAIN_BIN", str(REPO / ".build" / "debug" / "xiangchain")))

# ---------------------------------------------------------------------------------------------
# (a) transaction test vectors (docs/transactions.md)
# ---------------------------------------------------------------------------------------------

VECTOR_SEED = bytes.fromhex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
VECTOR_PUBLIC = "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"
VECTOR_BODY = (
    b'{"chain":"xiangchain-local","nonce":"vector-1","timestamp":1767225600000,"contract":"evidence",'
    b'"method":"put","args":{"hash":"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",'
    b'"kind":"doc","meta":{"title":"hello"}}}'
)
VECTOR_TXID = "f354db9b147e01240cf59525bfaab06fad955cbad08a295bdf8a3e6870b9e980"
VECTOR_SIGNATURE = (
    "c78ba4cdd9796048c90b60acba98e92f5b84bdc9b5ea54ec5f28788aae18fdcf"
    "2ca1478d56eb9b32314cabb9f8396b9bd54882287e89441ef4a50ff7c8eb6106"
)

# P-256 (verify-only): key of RFC 6979 §A.2.5; signature made with an RFC 6979 nonce.
P256_SCALAR = "c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721"
P256_PUBLIC = (
    "0460fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6"
    "7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299"
)
P256_SIGNATURE = (
    "3046022100aba86fa69b1e39c25f811d9c1d2b1cc371489a59a6d9d13047e53022c0abd1ba"
    "022100b3768d9c06adaaf9f19183ec5776542e68756cf86d6b71057f0d3394e5d7509c"
)
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def test_vector_body_is_231_bytes_and_rebuilt_exactly() -> None:
    assert len(VECTOR_BODY) == 231
    built = xc.build_body(
        "xiangchain-local",
        "evidence",
        "put",
        {"meta": {"title": "hello"}, "kind": "doc", "hash": "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"},
        nonce="vector-1",
        timestamp=1767225600000,
    )
    assert built == VECTOR_BODY


def test_vector_txid() -> None:
    assert xc.txid_of(VECTOR_BODY) == VECTOR_TXID
    assert hashlib.sha256(VECTOR_BODY).hexdigest() == VECTOR_TXID


def test_vector_ed25519_key_and_signature() -> None:
    key = ed25519.Ed25519PrivateKey.from_private_bytes(VECTOR_SEED)
    public = key.public_key()
    assert public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex() == VECTOR_PUBLIC
    sig = xc.sign_bytes(key, VECTOR_BODY)
    assert len(sig) == 64
    assert sig.hex() == VECTOR_SIGNATURE
    assert xc.verify_signature(public, bytes.fromhex(VECTOR_SIGNATURE), VECTOR_BODY)


def test_vector_signature_rejects_any_change() -> None:
    public = ed25519.Ed25519PublicKey.from_public_bytes(bytes.fromhex(VECTOR_PUBLIC))
    sig = bytes.fromhex(VECTOR_SIGNATURE)
    # One more space is a different body: a different txid and an invalid signature.
    respaced = VECTOR_BODY.replace(b'"nonce":', b'"nonce": ')
    assert xc.txid_of(respaced) != VECTOR_TXID
    assert not xc.verify_signature(public, sig, respaced)
    flipped = bytearray(sig)
    flipped[10] ^= 0x01
    assert not xc.verify_signature(public, bytes(flipped), VECTOR_BODY)
    assert not xc.verify_signature(public, sig[:63], VECTOR_BODY)


def test_vector_identity_from_pkcs8_pem(tmp_path: Path) -> None:
    # The node writes Ed25519 keys as PKCS#8 "PRIVATE KEY" PEM: the fixed 16-byte prefix + seed.
    prefix = bytes.fromhex("302e020100300506032b657004220420")
    key = ed25519.Ed25519PrivateKey.from_private_bytes(VECTOR_SEED)
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    assert der == prefix + VECTOR_SEED


def test_p256_verify_only_vector() -> None:
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), bytes.fromhex(P256_PUBLIC))
    private = ec.derive_private_key(int(P256_SCALAR, 16), ec.SECP256R1())
    assert private.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    ).hex() == P256_PUBLIC
    sig = bytes.fromhex(P256_SIGNATURE)
    assert xc.verify_signature(public, sig, VECTOR_BODY)
    assert not xc.verify_signature(public, sig, VECTOR_BODY + b" ")
    # Fresh signatures differ every time (random nonce) yet all verify: P-256 is verify-only.
    a, b = xc.sign_bytes(private, VECTOR_BODY), xc.sign_bytes(private, VECTOR_BODY)
    assert a != b
    assert xc.verify_signature(public, a, VECTOR_BODY) and xc.verify_signature(public, b, VECTOR_BODY)
    # The other S of the same signature also verifies (ECDSA malleability); the txid does not
    # depend on the signature, so this changes nothing about the transaction's identity.
    r, s = decode_dss_signature(sig)
    assert xc.verify_signature(public, encode_dss_signature(r, P256_ORDER - s), VECTOR_BODY)
    # The ECDSA message is the body itself (hashed with SHA-256 inside ECDSA), not its txid.
    assert not xc.verify_signature(public, sig, bytes.fromhex(VECTOR_TXID))


def test_envelope_shape() -> None:
    key = ed25519.Ed25519PrivateKey.from_private_bytes(VECTOR_SEED)
    tx = xc.SignedTransaction(VECTOR_BODY, xc.sign_bytes(key, VECTOR_BODY), "-----BEGIN CERTIFICATE-----\n…")
    env = tx.envelope()
    assert set(env) == {"body", "signature", "signer"}
    assert base64.b64decode(env["body"], validate=True) == VECTOR_BODY
    assert base64.b64decode(env["signature"], validate=True).hex() == VECTOR_SIGNATURE
    assert tx.txid == VECTOR_TXID


# ---------------------------------------------------------------------------------------------
# canonical JSON and header layout
# ---------------------------------------------------------------------------------------------


def test_canonical_json_sorts_keys_by_utf8_bytes() -> None:
    value = {"b": 1, "a": [True, None, "x\ny\u0001\"\\"], "\uffff": 0, "\U0001f600": 0, "é": 0}
    out = xc.canonical_json(value)
    # UTF-8 order puts U+FFFF (ef bf bf) before U+1F600 (f0 9f 98 80); UTF-16 order would not.
    assert out == '{"a":[true,null,"x\\ny\\u0001\\"\\\\"],"b":1,"é":0,"\uffff":0,"\U0001f600":0}'.encode()


def test_exact_json_keeps_number_literals_and_refuses_duplicates() -> None:
    v = xc.load_json_exact(b'{"n": 1.50, "e": 1E+3, "i": -0}')
    assert xc.canonical_json(v) == b'{"e":1E+3,"i":-0,"n":1.50}'
    with pytest.raises(ValueError):
        xc.load_json_exact(b'{"a":1,"a":2}')
    with pytest.raises(ValueError):
        xc.load_json_exact(b'{"a":NaN}')


def _sample_header() -> xc.BlockHeader:
    return xc.BlockHeader(
        version=1,
        chain_id="xiangchain-local",
        height=2,
        parent_hash=bytes(range(32)),
        timestamp=1767225600123,
        proposer="node0",
        tx_count=3,
        tx_root=bytes([0xAA]) * 32,
        exec_height=1,
        result_root=bytes([0xBB]) * 32,
        state_hash=bytes([0xCC]) * 32,
    )


def test_header_layout_offsets() -> None:
    h = _sample_header()
    raw = h.encode()
    n = len("xiangchain-local")
    p = len("node0")
    assert len(raw) == 2 + 4 + n + 8 + 32 + 8 + 4 + p + 4 + 32 + 8 + 32 + 32
    assert raw[0:2] == b"\x00\x01"
    assert raw[2:6] == n.to_bytes(4, "big") and raw[6 : 6 + n] == b"xiangchain-local"
    o = 6 + n
    assert raw[o : o + 8] == (2).to_bytes(8, "big")
    assert raw[o + 8 : o + 40] == bytes(range(32))
    assert raw[o + 40 : o + 48] == (1767225600123).to_bytes(8, "big")
    assert xc.BlockHeader.decode(raw) == h
    assert h.hash == hashlib.sha256(raw).digest()
    assert h.signing_message == b"XIANGCHAIN-BLOCK-V1" + h.hash
    assert len(h.signing_message) == 19 + 32


HEADER_VECTOR_HEX = (
    "0001" "00000010" "7869616e67636861696e2d6c6f63616c" "0000000000000001"
    + "00" * 32
    + "0000019b76daa9f4" "00000005" "6e6f646530" "00000001"
    "cde3a0c0448c6ef6f8b99f2441faac3fefda3d6e29af411020f9d0458e694456" "0000000000000000"
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    + "11" * 32
)
HEADER_VECTOR_HASH = "9726969bf104fd36be8e46a9ed1cdec101141bbc7839d58778f4fbbe53d22450"
HEADER_VECTOR_SEAL = (
    "4d980f0b4ac8aaf32f473b5a8d4ac3581d2eb5f7bb7240412bf93b5c09694ee8"
    "283ada48b5dc376f55b4c6198c1a17a43f611ac780fd0316fd9bfbe295a0a40a"
)


def test_header_and_seal_vector() -> None:
    """The vector of docs/proofs.md §3–4."""
    tx_root = xc.merkle_root([xc.leaf_hash(bytes.fromhex(VECTOR_TXID))])
    assert tx_root.hex() == "cde3a0c0448c6ef6f8b99f2441faac3fefda3d6e29af411020f9d0458e694456"
    h = xc.BlockHeader(
        version=1, chain_id="xiangchain-local", height=1, parent_hash=bytes(32), timestamp=1767225600500,
        proposer="node0", tx_count=1, tx_root=tx_root, exec_height=0, result_root=xc.merkle_root([]),
        state_hash=bytes([0x11]) * 32,
    )
    assert h.encode().hex() == HEADER_VECTOR_HEX
    assert len(h.encode()) == 187 == 166 + len("xiangchain-local") + len("node0")
    assert xc.BlockHeader.decode(bytes.fromhex(HEADER_VECTOR_HEX)) == h
    assert h.hash.hex() == HEADER_VECTOR_HASH
    assert h.signing_message.hex() == "5849414e47434841494e2d424c4f434b2d5631" + HEADER_VECTOR_HASH
    key = ed25519.Ed25519PrivateKey.from_private_bytes(VECTOR_SEED)
    assert key.sign(h.signing_message).hex() == HEADER_VECTOR_SEAL


def test_header_decode_refuses_bad_input() -> None:
    raw = _sample_header().encode()
    for bad in (raw + b"\x00", raw[:-1], b"\x00\x02" + raw[2:], raw[:2] + b"\xff\xff\xff\xff" + raw[6:]):
        with pytest.raises(xc.ProofError):
            xc.BlockHeader.decode(bad)


# ---------------------------------------------------------------------------------------------
# (b) RFC 6962 reference trees
# ---------------------------------------------------------------------------------------------

CT_LEAVES = [
    bytes.fromhex(h)
    for h in ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
# Published inclusion paths of the same test data: (leaf index, tree size) -> path.
CT_PATHS = {
    (0, 8): [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (5, 8): [
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
    (2, 3): ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
}


def test_empty_tree_root() -> None:
    assert xc.merkle_root([]).hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@pytest.mark.parametrize("size", range(1, 9))
def test_ct_reference_roots(size: int) -> None:
    leaves = [xc.leaf_hash(d) for d in CT_LEAVES[:size]]
    assert xc.merkle_root(leaves).hex() == CT_ROOTS[size - 1]


def test_ct_reference_paths() -> None:
    leaves = [xc.leaf_hash(d) for d in CT_LEAVES]
    for (index, size), expected in CT_PATHS.items():
        path = xc.inclusion_path(index, leaves[:size])
        assert [p.hex() for p in path] == expected
        assert xc.verify_inclusion(leaves[index], index, size, path, bytes.fromhex(CT_ROOTS[size - 1]))


@pytest.mark.parametrize("size", range(1, 9))
def test_inclusion_every_index(size: int) -> None:
    leaves = [xc.leaf_hash(d) for d in CT_LEAVES[:size]]
    root = bytes.fromhex(CT_ROOTS[size - 1])
    for index in range(size):
        path = xc.inclusion_path(index, leaves)
        assert xc.verify_inclusion(leaves[index], index, size, path, root), (index, size)
        # Everything that must not verify.
        assert not xc.verify_inclusion(leaves[index], index, size, path, bytes(32))
        assert not xc.verify_inclusion(leaves[index], size, size, path, root)
        assert not xc.verify_inclusion(leaves[index], index, size, path + [bytes(32)], root)
        if path:
            assert not xc.verify_inclusion(leaves[index], index, size, path[:-1], root)
            for k in range(len(path)):
                bad = list(path)
                bad[k] = bytes([bad[k][0] ^ 1]) + bad[k][1:]
                assert not xc.verify_inclusion(leaves[index], index, size, bad, root)
        for other in range(size):
            if other != index:
                assert not xc.verify_inclusion(leaves[other], index, size, path, root)
                assert not xc.verify_inclusion(leaves[index], other, size, path, root)


def test_leaf_of_txid_uses_raw_bytes() -> None:
    txid = bytes.fromhex(VECTOR_TXID)
    assert xc.leaf_hash(txid) == hashlib.sha256(b"\x00" + txid).digest()
    assert xc.merkle_root([xc.leaf_hash(txid)]) == xc.leaf_hash(txid)


RESULT_WITH_VALUE_HEX = (
    "1111111111111111111111111111111111111111111111111111111111111111"
    "00" "00000000" "00000000" "00000000" "01" "00000011" "7b2261223a312c2262223a5b2278225d7d"
)


def test_result_leaf_vector_with_and_without_value() -> None:
    # The vector of docs/proofs.md §6 (also checked by the Swift NativeQueryTests): a value is
    # 0x01 + its length-prefixed canonical JSON after the events; without one the leaf ends there.
    with_value = xc.result_leaf("11" * 32, None, [], {"b": ["x"], "a": 1})
    assert with_value.hex() == RESULT_WITH_VALUE_HEX
    assert xc.result_leaf("11" * 32, None, []) == with_value[:45]
    assert xc.leaf_hash(with_value).hex() == "602ad44b43eedaa387e3b3aaad746aef456f39debdd1123912f8e94f53d5ddd3"


# ---------------------------------------------------------------------------------------------
# (c) end to end against a real node
# ---------------------------------------------------------------------------------------------

needs_binary = pytest.mark.skipif(
    not XIANGCHAIN_BIN.is_file(), reason=f"xiangchain binary not found at {XIANGCHAIN_BIN} (set XIANGCHAIN_BIN)"
)


class NodeProcess:
    """A xiangchain node started for a test; always stopped with SIGTERM, then SIGKILL."""

    def __init__(self, args: List[str], directory: Path, port: int):
        self.directory = directory
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = directory.parent / f"node-{port}.log"
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([str(XIANGCHAIN_BIN), *args], stdout=self.log, stderr=subprocess.STDOUT)
        self.api = xc.Client(self.url, timeout=60)

    def wait_ready(self, timeout: float = 60.0) -> Dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"node exited with {self.proc.returncode}:\n{self.log_path.read_text()}")
            try:
                return self.api.status()
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.1)
        raise RuntimeError(f"node did not answer /v1/status within {timeout} s:\n{self.log_path.read_text()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)
        self.log.close()


def start_node(args: List[str], directory: Path, port: int) -> NodeProcess:
    node = NodeProcess(args, directory, port)
    try:
        node.wait_ready()
    except BaseException:
        node.stop()
        raise
    return node


@pytest.fixture(scope="module")
def solo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeProcess]:
    if not XIANGCHAIN_BIN.is_file():
        pytest.skip(f"xiangchain binary not found at {XIANGCHAIN_BIN} (set XIANGCHAIN_BIN)")
    directory = tmp_path_factory.mktemp("solo") / "chain"
    port = free_port()
    node = start_node(["solo", "--dir", str(directory), "--api-port", str(port)], directory, port)
    try:
        yield node
    finally:
        node.stop()


@pytest.fixture(scope="module")
def p256_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeProcess]:
    if not XIANGCHAIN_BIN.is_file():
        pytest.skip(f"xiangchain binary not found at {XIANGCHAIN_BIN} (set XIANGCHAIN_BIN)")
    directory = tmp_path_factory.mktemp("p256") / "chain"
    subprocess.run(
        [str(XIANGCHAIN_BIN), "init", "--dir", str(directory), "--suite", "p256", "--chain-id", "xiangchain-p256"],
        check=True,
        capture_output=True,
    )
    port = free_port()
    node = start_node(["node", "--home", str(directory / "nodes" / "0"), "--api-port", str(port)], directory, port)
    try:
        yield node
    finally:
        node.stop()


def evidence_args(kind: str = "doc") -> Dict[str, Any]:
    return {"hash": hashlib.sha256(uuid.uuid4().bytes).hexdigest(), "kind": kind, "meta": {"source": "pytest"}}


def load_genesis(node: NodeProcess) -> Dict[str, Any]:
    return json.loads((node.directory / "genesis.json").read_bytes())


def flip_hex(h: str, at: int = 0) -> str:
    b = bytearray(bytes.fromhex(h))
    b[at] ^= 0x01
    return b.hex()


def flip_b64(s: str, at: int) -> str:
    b = bytearray(base64.b64decode(s))
    b[at] ^= 0x01
    return base64.b64encode(bytes(b)).decode()


def wait_committed(api: xc.Client, txids: List[str], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    pending = set(txids)
    while pending and time.monotonic() < deadline:
        for t in list(pending):
            if api.transaction(t).get("status") in ("committed", "failed"):
                pending.discard(t)
        if pending:
            time.sleep(0.1)
    assert not pending, f"not committed in {timeout} s: {sorted(pending)}"


def run_cli_verify(proof: Dict[str, Any], genesis_path: Path, tmp: Path) -> subprocess.CompletedProcess:
    f = tmp / f"proof-{uuid.uuid4().hex}.json"
    f.write_text(json.dumps(proof))
    return subprocess.run(
        [str(XIANGCHAIN_BIN), "verify-proof", str(f), "--genesis", str(genesis_path)], capture_output=True, text=True
    )


@needs_binary
def test_e2e_submit_prove_and_tamper(solo: NodeProcess, tmp_path: Path) -> None:
    api = solo.api
    status = api.status()
    chain = status["chainId"]
    assert status["suite"] == "ed25519"
    ident = xc.Identity.load(str(solo.directory / "identities" / "org0-admin"))
    assert (ident.org, ident.role, ident.name) == ("org0", "admin", "org0-admin")
    genesis_path = solo.directory / "genesis.json"
    genesis = load_genesis(solo)
    # The genesis served by the node is the same document (same canonical hash).
    assert xc.canonical_json(api.genesis()) == xc.canonical_json(genesis)
    assert xc.genesis_hash(genesis_path.read_bytes()).hex() == status["genesisHash"]

    # A few transactions without waiting, so that ours most likely shares a block and has a path.
    fillers = [ident.transaction(chain, "evidence", "put", evidence_args("filler")) for _ in range(3)]
    for f in fillers:
        assert api.submit(f, wait=False)["http_status"] == 202
    tx = ident.transaction(chain, "evidence", "put", evidence_args())
    outcome = api.submit(tx, wait=True)
    assert outcome["http_status"] == 200
    assert outcome["status"] == "committed", outcome
    assert outcome["txid"] == tx.txid == hashlib.sha256(tx.body).hexdigest()
    wait_committed(api, [f.txid for f in fillers])

    proof = api.proof(tx.txid)
    assert proof["status"] == "committed"
    report = xc.verify_proof(proof, genesis=genesis, body=tx.body)
    assert report.valid_signers == ["node0"] and report.signatures_checked
    assert report.height == outcome["height"] and proof["leafIndex"] == outcome["index"]
    assert report.header.chain_id == chain
    assert report.header.exec_height == report.height - 1
    assert run_cli_verify(proof, genesis_path, tmp_path).returncode == 0

    # Make sure at least one proof has a non-empty audit path to tamper with.
    path_proof = proof
    for _ in range(5):
        if path_proof["auditPath"]:
            break
        batch = [ident.transaction(chain, "evidence", "put", evidence_args("batch")) for _ in range(4)]
        for b in batch:
            api.submit(b, wait=False)
        wait_committed(api, [b.txid for b in batch])
        path_proof = next((p for p in (api.proof(b.txid) for b in batch) if p["auditPath"]), path_proof)
    assert path_proof["auditPath"], "could not get a block with more than one transaction"
    xc.verify_proof(path_proof, genesis=genesis)

    def must_fail(p: Dict[str, Any], with_genesis: bool = True) -> None:
        with pytest.raises(xc.ProofError):
            xc.verify_proof(p, genesis=genesis if with_genesis else None)

    # Audit path: flip one byte of each entry.
    for k in range(len(path_proof["auditPath"])):
        bad = copy.deepcopy(path_proof)
        bad["auditPath"][k] = flip_hex(bad["auditPath"][k], at=k % 32)
        must_fail(bad, with_genesis=False)
        assert run_cli_verify(bad, genesis_path, tmp_path).returncode != 0
    # Path entries dropped or added, wrong index or size, wrong txid.
    bad = copy.deepcopy(path_proof)
    bad["auditPath"].pop()
    must_fail(bad, with_genesis=False)
    bad = copy.deepcopy(path_proof)
    bad["auditPath"].append("00" * 32)
    must_fail(bad, with_genesis=False)
    bad = copy.deepcopy(path_proof)
    bad["leafIndex"] = (bad["leafIndex"] + 1) % bad["treeSize"]
    must_fail(bad, with_genesis=False)
    bad = copy.deepcopy(path_proof)
    bad["txid"] = flip_hex(bad["txid"])
    must_fail(bad, with_genesis=False)
    with pytest.raises(xc.ProofError):
        xc.verify_proof(proof, genesis=genesis, body=tx.body + b" ")

    # Header bytes: flip a byte of the tx root (offset known from the layout).
    header = report.header
    tx_root_offset = 2 + 4 + len(header.chain_id.encode()) + 8 + 32 + 8 + 4 + len(header.proposer.encode()) + 4
    assert base64.b64decode(proof["headerBytes"])[tx_root_offset : tx_root_offset + 32] == header.tx_root
    for offset in (tx_root_offset, 0, 10):
        bad = copy.deepcopy(proof)
        bad["headerBytes"] = flip_b64(bad["headerBytes"], offset)
        must_fail(bad, with_genesis=False)
        assert run_cli_verify(bad, genesis_path, tmp_path).returncode != 0

    # A changed timestamp with the hash fields removed still has a valid Merkle path: only the
    # seal catches it, which is why proofs must be checked against the genesis keys.
    ts_offset = 2 + 4 + len(header.chain_id.encode()) + 8 + 32
    bad = copy.deepcopy(proof)
    bad["headerBytes"] = flip_b64(bad["headerBytes"], ts_offset + 7)
    for k in ("headerHash", "header"):
        bad.pop(k)
    xc.verify_proof(bad)  # Merkle-only check passes
    must_fail(bad)  # the seal does not
    # The unauthenticated JSON view must agree with the bytes.
    bad = copy.deepcopy(proof)
    bad["header"]["height"] += 1
    must_fail(bad)
    # Seal: corrupted signature, missing signature, another chain's validator keys.
    bad = copy.deepcopy(proof)
    bad["finality"]["signatures"][0]["signature"] = flip_b64(bad["finality"]["signatures"][0]["signature"], 5)
    must_fail(bad)
    assert run_cli_verify(bad, genesis_path, tmp_path).returncode != 0
    bad = copy.deepcopy(proof)
    bad["finality"]["signatures"] = []
    must_fail(bad)
    other_key = ed25519.Ed25519PrivateKey.generate()
    forged = copy.deepcopy(proof)
    forged["finality"]["signatures"] = [
        {"validator": "node0", "signature": base64.b64encode(other_key.sign(header.signing_message)).decode()}
    ]
    must_fail(forged)

    # Replay: the same signed transaction again is refused with 409 duplicate_tx.
    with pytest.raises(xc.APIError) as e:
        api.submit(tx, wait=True)
    assert (e.value.status, e.value.code) == (409, "duplicate_tx")

    # A body for another chain is refused with 400 wrong_chain.
    wrong = ident.transaction(chain + "-other", "evidence", "put", evidence_args())
    with pytest.raises(xc.APIError) as e:
        api.submit(wrong, wait=True)
    assert (e.value.status, e.value.code) == (400, "wrong_chain")

    # The evidence record is readable.
    record = api.evidence(json.loads(tx.body)["args"]["hash"])
    assert record["txid"] == tx.txid and record["signer"]["subject"] == "org0-admin"


def _post_raw(node: NodeProcess, payload: bytes, query: str = "") -> tuple:
    req = urllib.request.Request(node.url + "/v1/txs" + query, data=payload, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


@needs_binary
def test_e2e_admission_errors(solo: NodeProcess) -> None:
    chain = solo.api.status()["chainId"]
    ident = xc.Identity.load(str(solo.directory / "identities" / "org0-admin"))
    now = int(time.time() * 1000)

    def body(**fields: Any) -> bytes:
        b = {"chain": chain, "nonce": uuid.uuid4().hex, "timestamp": now, "contract": "evidence", "method": "put",
             "args": evidence_args()}
        b.update(fields)
        return json.dumps(b).encode()

    def submit(b: bytes, sig: Optional[bytes] = None) -> tuple:
        env = ident.sign(b).envelope()
        if sig is not None:
            env["signature"] = base64.b64encode(sig).decode()
        return _post_raw(solo, json.dumps(env).encode(), "?wait=commit")

    cases = [
        (submit(body(timestamp=now - 11 * 60 * 1000)), 400, "stale_timestamp"),
        (submit(body(extra=1)), 400, "malformed_body"),
        (submit(body(nonce="n" * 65)), 400, "malformed_body"),
        (submit(body(timestamp=1.5)), 400, "malformed_body"),
        (submit(b'{"chain":"a","chain":"b"}'), 400, "malformed_body"),
        (submit(body(), sig=bytes(64)), 401, "bad_signature"),
        (_post_raw(solo, b"{"), 400, "malformed_json"),
        (_post_raw(solo, json.dumps({**ident.sign(body()).envelope(), "x": 1}).encode()), 400, "malformed"),
        (_post_raw(solo, json.dumps({**ident.sign(body()).envelope(), "body": "not base64!"}).encode()), 400, "bad_base64"),
        (_post_raw(solo, json.dumps({**ident.sign(body()).envelope(), "signer": "x"}).encode()), 401, "bad_certificate"),
        (_post_raw(solo, json.dumps(ident.sign(body()).envelope()).encode(), "?wait=yes"), 400, "invalid_parameter"),
    ]
    for (status, answer), want_status, want_code in cases:
        assert (status, answer["error"]["code"]) == (want_status, want_code), answer
        assert set(answer) == {"error"} and set(answer["error"]) == {"code", "message"}

    # A signer whose certificate comes from a CA outside the consortium.
    key = ed25519.Ed25519PrivateKey.generate()
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "org0"),
                      x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "admin"),
                      x509.NameAttribute(NameOID.COMMON_NAME, "intruder")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5))
            .not_valid_after(datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1))
            .sign(key, None))
    intruder = xc.Identity(key, cert.public_bytes(serialization.Encoding.PEM).decode())
    with pytest.raises(xc.APIError) as e:
        solo.api.submit(intruder.transaction(chain, "evidence", "put", evidence_args()))
    assert (e.value.status, e.value.code) == (401, "unknown_ca")

    # Contract, method and role are checked at admission.
    for contract, method, want in (("nope", "put", "unknown_contract"), ("evidence", "get", "unknown_method")):
        with pytest.raises(xc.APIError) as e:
            solo.api.submit(ident.transaction(chain, contract, method, {}))
        assert (e.value.status, e.value.code) == (400, want)
    home = solo.directory / "nodes" / "0"
    node_ident = xc.Identity(
        serialization.load_pem_private_key((home / "node.key.pem").read_bytes(), None), (home / "node.cert.pem").read_text()
    )
    assert node_ident.role == "node"
    with pytest.raises(xc.APIError) as e:
        solo.api.submit(node_ident.transaction(chain, "evidence", "put", evidence_args()))
    assert (e.value.status, e.value.code) == (403, "role_not_allowed")

    # Execution failures are committed and reported with HTTP 200, status "failed".
    failed = solo.api.submit(ident.transaction(chain, "evidence", "put", {"hash": "zz", "kind": "doc"}))
    assert (failed["http_status"], failed["status"], failed["error"]["code"]) == (200, "failed", "bad_args")
    args = evidence_args()
    assert solo.api.submit(ident.transaction(chain, "evidence", "put", args))["status"] == "committed"
    again = solo.api.submit(ident.transaction(chain, "evidence", "put", args))
    assert (again["status"], again["error"]["code"]) == ("failed", "already_exists")
    # A failed transaction is still in its block and provable.
    xc.verify_proof(solo.api.proof(again["txid"]), genesis=load_genesis(solo))

    # Lookups.
    for path, want_status, want_code in [
        ("/v1/txs/" + "0" * 64, 404, "not_found"),
        ("/v1/txs/ABC", 400, "invalid_parameter"),
        ("/v1/blocks/999999", 404, "not_found"),
        ("/v1/blocks?limit=0", 400, "invalid_parameter"),
        ("/v1/evidence/" + "0" * 64, 404, "not_found"),
    ]:
        with pytest.raises(xc.APIError) as e:
            solo.api.get(path)
        assert (e.value.status, e.value.code) == (want_status, want_code), path


def check_commitments(api: xc.Client, genesis_path: Path) -> int:
    """Recomputes every block's header hash, tx root, result root and state hash with the chain's
    hash (SHA-256, or SM3 on an sm2 chain) and checks a validator signature on each header;
    returns the number of blocks checked."""
    genesis_bytes = genesis_path.read_bytes()
    genesis = json.loads(genesis_bytes)
    suite = genesis["suite"]
    keys = xc.validator_keys(genesis)
    tip = api.status()["height"]
    state = xc.state_hash_genesis(xc.genesis_hash(genesis_bytes, suite), suite)
    previous_hash = bytes(32)
    previous_result_root = xc.merkle_root([], suite)
    for h in range(1, tip + 1):
        blk = api.get_exact(f"/v1/blocks/{h}")
        header = xc.BlockHeader.decode(base64.b64decode(blk["headerBytes"]))
        assert header.hash_for(suite).hex() == blk["hash"]
        assert header.height == h and header.parent_hash == previous_hash and header.exec_height == h - 1
        # Order-then-execute: this header carries the previous block's execution results.
        assert header.result_root == previous_result_root
        assert header.state_hash == state
        assert header.tx_root == xc.merkle_root([xc.leaf_hash(bytes.fromhex(t), suite) for t in blk["txids"]], suite)
        assert any(
            xc.verify_signature(keys[s["validator"]], base64.b64decode(s["signature"]), header.signing_message_for(suite))
            for s in blk["signatures"]
        )
        leaves = []
        writes: Dict[str, Optional[bytes]] = {}
        for txid in blk["txids"]:
            view = api.get_exact(f"/v1/txs/{txid}")
            leaves.append(xc.leaf_hash(xc.result_leaf(txid, view.get("error"), view["events"], view.get("result")), suite))
            if view["status"] == "committed" and view["contract"] == "evidence":
                digest = view["args"]["hash"].lower()
                writes["evidence/" + digest] = xc.canonical_json(api.get_exact(f"/v1/evidence/{digest}"))
        previous_result_root = xc.merkle_root(leaves, suite)
        assert previous_result_root.hex() == blk["resultRoot"], h
        state = xc.state_hash_next(state, h, writes, suite)
        assert state.hex() == blk["stateHash"], h
        previous_hash = header.hash_for(suite)
    return tip


@needs_binary
def test_e2e_execution_commitments(solo: NodeProcess) -> None:
    """Recomputes every block's result root and state hash and checks the next header carries them."""
    api = solo.api
    chain = api.status()["chainId"]
    ident = xc.Identity.load(str(solo.directory / "identities" / "org0-admin"))
    batch = [ident.transaction(chain, "evidence", "put", evidence_args("commit")) for _ in range(6)]
    for t in batch:
        api.submit(t, wait=False)
    wait_committed(api, [t.txid for t in batch])
    for t in batch:
        xc.verify_proof(api.proof(t.txid), genesis=load_genesis(solo), body=t.body)
    # One more block so the last batch block's results appear in a header.
    assert api.submit(ident.transaction(chain, "evidence", "put", evidence_args()))["status"] == "committed"

    check_commitments(api, solo.directory / "genesis.json")


@needs_binary
def test_e2e_p256_chain(p256_node: NodeProcess, tmp_path: Path) -> None:
    api = p256_node.api
    status = api.status()
    assert (status["suite"], status["chainId"]) == ("p256", "xiangchain-p256")
    ident = xc.Identity.load(str(p256_node.directory / "identities" / "org0-admin"))
    assert ident.suite == "p256"
    genesis = load_genesis(p256_node)

    tx = ident.transaction(status["chainId"], "evidence", "put", evidence_args())
    # Submit with a high-S and a low-S form of signatures: both are valid ECDSA and accepted.
    r, s = decode_dss_signature(tx.signature)
    low = min(s, P256_ORDER - s)
    tx_low = xc.SignedTransaction(tx.body, encode_dss_signature(r, low), tx.signer_pem)
    outcome = api.submit(tx_low)
    assert outcome["status"] == "committed", outcome
    tx2 = ident.transaction(status["chainId"], "evidence", "put", evidence_args())
    r2, s2 = decode_dss_signature(tx2.signature)
    tx2_high = xc.SignedTransaction(tx2.body, encode_dss_signature(r2, max(s2, P256_ORDER - s2)), tx2.signer_pem)
    assert api.submit(tx2_high)["status"] == "committed"

    proof = api.proof(tx.txid)
    report = xc.verify_proof(proof, genesis=genesis, body=tx.body)
    assert report.valid_signers == ["node0"]
    seal = base64.b64decode(proof["finality"]["signatures"][0]["signature"])
    assert seal[0] == 0x30  # DER SEQUENCE: ECDSA signatures are DER on P-256 chains
    assert run_cli_verify(proof, p256_node.directory / "genesis.json", tmp_path).returncode == 0
    # A P-256 chain's proof does not verify against an Ed25519-shaped forgery.
    bad = copy.deepcopy(proof)
    bad["finality"]["signatures"][0]["signature"] = base64.b64encode(bytes(64)).decode()
    with pytest.raises(xc.ProofError):
        xc.verify_proof(bad, genesis=genesis)
    # A raw Ed25519 signature is not a signature of the P-256 suite at all (not DER).
    fresh = xc.build_body(status["chainId"], "evidence", "put", evidence_args())
    ed_sig = ed25519.Ed25519PrivateKey.generate().sign(fresh)
    with pytest.raises(xc.APIError) as e:
        api.submit(xc.SignedTransaction(fresh, ed_sig, tx.signer_pem))
    assert (e.value.status, e.value.code) == (401, "malformed_signature")


# ---------------------------------------------------------------------------------------------
# docs/openapi.yaml against the router and against real answers
# ---------------------------------------------------------------------------------------------

OPENAPI = REPO / "docs" / "openapi.yaml"


def _openapi() -> Dict[str, Any]:
    yaml = pytest.importorskip("yaml", reason="PyYAML is needed to read docs/openapi.yaml")
    return yaml.safe_load(OPENAPI.read_text())


# That docs/openapi.yaml lists exactly the router's routes is checked by the Swift test
# OpenAPITests (it reads the router's own route table).



@needs_binary
def test_e2e_answers_match_openapi(solo: NodeProcess) -> None:
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is needed to check answers")
    doc = _openapi()

    def schema_for(template: str, method: str, status: int) -> Dict[str, Any]:
        responses = doc["paths"][template][method]["responses"]
        assert str(status) in responses, f"{method.upper()} {template} does not document HTTP {status}"
        response = responses[str(status)]
        if "$ref" in response:
            response = doc["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
        return response["content"]["application/json"]["schema"]

    def check(template: str, method: str, status: int, value: Any) -> None:
        schema = {**doc, **schema_for(template, method, status)}
        jsonschema.Draft202012Validator(schema).validate(value)

    def call(method: str, path: str, payload: Optional[bytes] = None) -> tuple:
        req = urllib.request.Request(solo.url + path, data=payload, method=method.upper())
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    chain = solo.api.status()["chainId"]
    ident = xc.Identity.load(str(solo.directory / "identities" / "org0-admin"))
    args = evidence_args()
    queued = ident.transaction(chain, "evidence", "put", evidence_args())
    waited = ident.transaction(chain, "evidence", "put", args)
    wrong = ident.transaction(chain + "-x", "evidence", "put", evidence_args())
    unsigned = xc.build_body(chain, "evidence", "put", evidence_args())
    absent = "0" * 64
    cases = [
        ("/v1/status", "get", "/v1/status", None),
        ("/v1/genesis", "get", "/v1/genesis", None),
        ("/v1/txs", "post", "/v1/txs", queued),
        ("/v1/txs", "post", "/v1/txs?wait=commit", waited),
        ("/v1/txs", "post", "/v1/txs?wait=commit", waited),
        ("/v1/txs", "post", "/v1/txs?wait=commit", wrong),
        ("/v1/txs", "post", "/v1/txs?wait=commit", xc.SignedTransaction(unsigned, bytes(64), wrong.signer_pem)),
        ("/v1/txs/{txid}", "get", f"/v1/txs/{waited.txid}", None),
        ("/v1/txs/{txid}", "get", f"/v1/txs/{absent}", None),
        ("/v1/txs/{txid}", "get", "/v1/txs/xyz", None),
        ("/v1/txs/{txid}/proof", "get", f"/v1/txs/{waited.txid}/proof", None),
        ("/v1/txs/{txid}/proof", "get", f"/v1/txs/{absent}/proof", None),
        ("/v1/blocks", "get", "/v1/blocks", None),
        ("/v1/blocks", "get", "/v1/blocks?from=1&limit=2", None),
        ("/v1/blocks", "get", "/v1/blocks?limit=101", None),
        ("/v1/blocks/{height}", "get", "/v1/blocks/1", None),
        ("/v1/blocks/{height}", "get", "/v1/blocks/999999", None),
        ("/v1/blocks/{height}", "get", "/v1/blocks/x", None),
        ("/v1/evidence/{hash}", "get", f"/v1/evidence/{args['hash'].upper()}", None),
        ("/v1/evidence/{hash}", "get", f"/v1/evidence/{absent}", None),
    ]
    seen = set()
    for template, method, path, tx in cases:
        payload = json.dumps(tx.envelope()).encode() if tx is not None else None
        status, answer = call(method, path, payload)
        check(template, method, status, answer)
        seen.add((template, status))
        if tx is queued:
            wait_committed(solo.api, [queued.txid])
    assert {("/v1/txs", 200), ("/v1/txs", 202), ("/v1/txs", 409), ("/v1/txs", 400), ("/v1/txs", 401)} <= seen
    assert ("/v1/evidence/{hash}", 200) in seen and ("/v1/blocks/{height}", 404) in seen


# ---------------------------------------------------------------------------------------------
# Crab routes: public verify and complaints, signed requests (docs/api-auth.md), both suites
# ---------------------------------------------------------------------------------------------


def _http(node: NodeProcess, method: str, target: str, headers: Optional[Dict[str, str]] = None, body: Optional[bytes] = None) -> tuple:
    req = urllib.request.Request(node.url + target, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def _issue(node: NodeProcess, role: str, name: str) -> xc.Identity:
    subprocess.run(
        [str(XIANGCHAIN_BIN), "identity", "issue", "--dir", str(node.directory), "--org", "org0", "--role", role, "--name", name],
        check=True,
        capture_output=True,
    )
    return xc.Identity.load(str(node.directory / "identities" / name))


@needs_binary
@pytest.mark.parametrize("fixture", ["solo", "p256_node"])
def test_crab_signed_requests_and_public_routes(fixture: str, request: pytest.FixtureRequest) -> None:
    import urllib.parse

    node: NodeProcess = request.getfixturevalue(fixture)
    code = "(01)09521234543213(21)R0001#K7Q2M9XZ"
    status, verdict = _http(node, "GET", "/v1/verify?code=" + urllib.parse.quote(code, safe="") + "&city=Suzhou")
    assert status == 200 and verdict["status"] == "unknown" and verdict["reasons"] == ["never_issued"]
    assert len(verdict["scanRecorded"]["txid"]) == 64
    complaint = json.dumps({"code": code, "phone": "+8613900001111", "text": "forged ring"}).encode()
    status, accepted = _http(node, "POST", "/v1/complaints", {"Content-Type": "application/json"}, complaint)
    assert status == 202 and accepted["status"] == "pending"

    regulator = _issue(node, "regulator", f"reg-{fixture}")
    farm = _issue(node, "farm", f"farm-{fixture}")
    target = "/v1/trace/accountability?code=" + urllib.parse.quote(code, safe="")
    st = _http(node, "GET", "/v1/status")[1]
    here = {"chain_id": st["chainId"], "node_id": st["nodeId"]}
    assert _http(node, "GET", target)[0] == 401
    assert _http(node, "GET", target, xc.signed_request_headers(farm, "GET", target, **here))[1]["error"]["code"] == "forbidden"
    stale = xc.signed_request_headers(regulator, "GET", target, timestamp_ms=int(time.time() * 1000) - 10 * 60_000, **here)
    assert _http(node, "GET", target, stale)[1]["error"]["code"] == "stale_request"
    tampered = xc.signed_request_headers(regulator, "GET", target + "&format=epcis", **here)
    assert _http(node, "GET", target, tampered)[1]["error"]["code"] == "bad_signature"
    elsewhere = xc.signed_request_headers(regulator, "GET", target, st["chainId"], "some-other-node")
    assert _http(node, "GET", target, elsewhere)[1]["error"]["code"] == "bad_signature"
    once = xc.signed_request_headers(regulator, "GET", target, **here)
    assert _http(node, "GET", target, once)[0] == 200
    assert _http(node, "GET", target, once)[1]["error"]["code"] == "replayed_request"
    deadline = time.monotonic() + 30
    while True:
        status, trace = _http(node, "GET", target, xc.signed_request_headers(regulator, "GET", target, **here))
        assert status == 200, trace
        if {e["step"] for e in trace["entries"]} >= {"scan", "complain"} or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert {e["step"] for e in trace["entries"]} >= {"scan", "complain"}
    assert {p["txid"] for p in trace["proofs"]} == {e["txid"] for e in trace["entries"]}
    status, complaints = _http(node, "GET", "/v1/crab/complaints", xc.signed_request_headers(regulator, "GET", "/v1/crab/complaints", **here))
    assert status == 200 and complaints["complaints"][0]["contactPhone"] == "+8613900001111"
    assert "+8613900001111" not in json.dumps(trace)


def _ws_frames(sock: socket.socket) -> Iterator[str]:
    """Text messages of a server's WebSocket frames (RFC 6455; server frames are unmasked)."""
    while True:
        opcode, payload = _ws_next(sock)
        if opcode == 0x1:
            yield payload.decode("utf-8")


@needs_binary
def test_websocket_stream_sends_each_committed_block(solo: NodeProcess) -> None:
    api = solo.api
    status = api.status()
    assert "stream" in status["features"]
    sock = _ws_open(solo, "/v1/stream")
    frames = _ws_frames(sock)
    hello = json.loads(next(frames))
    assert hello["type"] == "hello" and hello["height"] >= 0
    ident = xc.Identity.load(str(solo.directory / "identities" / "org0-admin"))
    tx = ident.transaction(status["chainId"], "evidence", "put", evidence_args("stream"))
    assert api.submit(tx, wait=False)["http_status"] == 202
    for _ in range(50):
        message = json.loads(next(frames))
        assert message["type"] == "block"
        assert message["block"]["height"] > hello["height"]
        if tx.txid in message["block"]["txids"]:
            break
    else:
        raise AssertionError("the block with our transaction never came")
    sock.close()


def _ws_open(node: NodeProcess, path: str) -> socket.socket:
    """A WebSocket to `path` on `node`, its handshake checked."""
    sock = socket.create_connection(("127.0.0.1", node.port), timeout=30)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head
    accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
    assert f"sec-websocket-accept: {accept}".lower() in head.decode().lower()
    return sock


def _ws_send(sock: socket.socket, payload: bytes, opcode: int = 0x1, fin: bool = True) -> None:
    """One masked client frame (RFC 6455 § 5.3)."""
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    elif n <= 0xFFFF:
        head += bytes([0x80 | 126]) + struct.pack(">H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack(">Q", n)
    mask = os.urandom(4)
    sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))


def _ws_next(sock: socket.socket) -> tuple:
    """The next frame a server sent: (opcode, payload)."""

    def need(n: int) -> bytes:
        out = b""
        while len(out) < n:
            chunk = sock.recv(n - len(out))
            if not chunk:
                raise ConnectionError("closed")
            out += chunk
        return out

    b0, b1 = need(2)
    length = b1 & 0x7F
    if length == 126:
        length = struct.unpack(">H", need(2))[0]
    elif length == 127:
        length = struct.unpack(">Q", need(8))[0]
    return b0 & 0x0F, need(length)


@needs_binary
def test_submission_stream_takes_transactions_and_answers_each_in_order(solo: NodeProcess) -> None:
    """GET /v1/txs/stream: one message per envelope (text or binary, pipelined), one answer each in
    order; a bad envelope gets its error and the stream goes on; the transactions commit."""
    api = solo.api
    chain = api.status()["chainId"]
    ident = xc.Identity.load(str(solo.directory / "identities" / "org0-admin"))
    txs = [ident.transaction(chain, "evidence", "put", evidence_args(f"ws-{i}")) for i in range(5)]
    sock = _ws_open(solo, "/v1/txs/stream")
    bodies = [json.dumps(tx.envelope()).encode() for tx in txs]
    # Pipelined: all five (one as a binary message, one in two fragments) and two bad ones before
    # any answer is read.
    _ws_send(sock, bodies[0])
    _ws_send(sock, bodies[1], opcode=0x2)
    _ws_send(sock, b"{not json")
    _ws_send(sock, bodies[2][:40], fin=False)
    _ws_send(sock, bodies[2][40:], opcode=0x0)
    tampered = dict(txs[3].envelope())
    raw = bytearray(base64.b64decode(tampered["signature"]))
    raw[5] ^= 0x01
    tampered["signature"] = base64.b64encode(bytes(raw)).decode()
    _ws_send(sock, json.dumps(tampered).encode())
    _ws_send(sock, bodies[3])
    _ws_send(sock, bodies[4])
    _ws_send(sock, bodies[0])
    answers = []
    while len(answers) < 8:
        opcode, payload = _ws_next(sock)
        if opcode == 0x1:
            answers.append(json.loads(payload))
    assert answers[0] == {"txid": txs[0].txid, "status": "accepted"}
    assert answers[1] == {"txid": txs[1].txid, "status": "accepted"}
    assert answers[2]["error"]["code"] == "malformed_json" and "txid" not in answers[2]
    assert answers[3] == {"txid": txs[2].txid, "status": "accepted"}
    assert answers[4]["error"]["code"] == "bad_signature"
    assert answers[5]["status"] == "accepted" and answers[6]["status"] == "accepted"
    assert answers[7]["txid"] == txs[0].txid and answers[7]["error"]["code"] == "duplicate_tx"
    sock.close()
    deadline = time.monotonic() + 30
    for tx in txs:
        while api.transaction(tx.txid).get("status") != "committed":
            assert time.monotonic() < deadline, f"{tx.txid} never committed"
            time.sleep(0.2)


@needs_binary
def test_submission_stream_bounds_a_message_and_refuses_other_paths(solo: NodeProcess) -> None:
    """A message larger than POST /v1/txs takes closes the stream (1009); a WebSocket elsewhere
    under /v1/txs is not opened; the node goes on serving."""
    # One frame over 64 KiB, and a message of frames under it that adds up to more than
    # POST /v1/txs takes (2 x 128 KiB + 64 KiB): each closes its stream with 1009.
    sock = _ws_open(solo, "/v1/txs/stream")
    _ws_send(sock, b"x" * (64 * 1024 + 1))
    opcode, payload = _ws_next(sock)
    assert opcode == 0x8 and struct.unpack(">H", payload[:2])[0] == 1009
    sock.close()
    sock = _ws_open(solo, "/v1/txs/stream")
    _ws_send(sock, b"[" + b" " * 60_000, fin=False)
    try:
        for _ in range(6):
            _ws_send(sock, b" " * 60_000, opcode=0x0, fin=False)
    except OSError:
        pass  # the node may close before the last fragment
    opcode, payload = _ws_next(sock)
    assert opcode == 0x8 and struct.unpack(">H", payload[:2])[0] == 1009
    sock.close()
    sock = socket.create_connection(("127.0.0.1", solo.port), timeout=30)
    sock.sendall(
        b"GET /v1/txs/streams HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    head = sock.recv(4096)
    assert head.startswith(b"HTTP/1.1 4"), head  # refused, not upgraded
    sock.close()
    assert solo.api.status()["height"] >= 0


# ---------------------------------------------------------------------------------------------
# sm2 chains (SM2 signatures, SM3 hashes) through gmalg: docs/transactions.md §10, the standards'
# examples, hostile signatures, and a real four-validator SM2 devnet
# ---------------------------------------------------------------------------------------------

gmalg = pytest.importorskip("gmalg", reason="gmalg is needed for sm2 chains")

SM2_D = "3945208f7b2144b13f36e38ac6d39f95889393692860b51a42fb81ef4df7c5b8"
SM2_PUBLIC = (
    "0409f9df311e5421a150dd7d161e4bc5c672179fad1833fc076bb08ff356f35020"
    "ccea490ce26775a52dc6ea718cc1aa600aed05fbf35e084a6632f6072da9ad13"
)
SM2_TXID = "497925f6c8aacef7f202cc57ac4621e8d39eaba1d14c04f7162e3158aa44e05f"
SM2_SIGNATURE = (
    "3044022050c1b6b7e35ccdcf7d66844eccad03330cde6baf9bae69f65a6304db5eb83694"
    "0220042db84a1441aaeb6ce6478e9d6fd60f1495773564a6f659924779c69cda9d03"
)
# GB/T 32918.5 / GM/T 0003.5 Annex A: "message digest", default id, the standard's k.
SM2_STANDARD_R = 0xF5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3
SM2_STANDARD_S = 0xB1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA
SM2_STANDARD_K = 0x59276E27D506861A16680F3AD9C02DCCEF3CC1FA3CDBE4CE6D54B80DEAC1BC21


def test_sm3_standard_vectors() -> None:
    # GB/T 32905-2016 Annex A.
    assert xc.sm3(b"abc").hex() == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    assert xc.sm3(b"abcd" * 16).hex() == "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
    assert xc.chain_hash("sm2", b"ab", b"c") == xc.sm3(b"abc")
    assert xc.chain_hash("p256", b"abc") == hashlib.sha256(b"abc").digest()
    with pytest.raises(ValueError):
        xc.chain_hash("rsa", b"abc")


def test_sm2_docs_vector() -> None:
    """docs/transactions.md §10, SM2 / SM3: the txid, the key and the openssl-made signature."""
    assert xc.txid_of(VECTOR_BODY, "sm2") == SM2_TXID
    key = xc.SM2PrivateKey(int(SM2_D, 16))
    public = key.public_key()
    assert public.point.hex() == SM2_PUBLIC
    assert xc.suite_of_key(key) == xc.suite_of_key(public) == "sm2"
    sig = bytes.fromhex(SM2_SIGNATURE)
    assert xc.verify_signature(public, sig, VECTOR_BODY)
    # Any other bytes, any other user id: refused.
    assert not xc.verify_signature(public, sig, VECTOR_BODY.replace(b'"nonce":', b'"nonce": '))
    assert not xc.verify_signature(xc.SM2PublicKey(public.point, b"1234567812345679"), sig, VECTOR_BODY)
    assert not xc.verify_signature(xc.SM2PublicKey(public.point, b"ALICE123@YAHOO.COM"), sig, VECTOR_BODY)
    # A fresh Python signature over the vector body verifies, and is DER.
    mine = xc.sign_bytes(key, VECTOR_BODY)
    assert mine[0] == 0x30 and xc.verify_signature(public, mine, VECTOR_BODY)
    assert xc.SignedTransaction(VECTOR_BODY, mine, "", suite="sm2").txid == SM2_TXID


def test_sm2_standard_example_with_its_k() -> None:
    """GB/T 32918.5 Annex A: with the standard's k, gmalg reproduces r and s exactly, and the
    standard's signature verifies through the client's verifier (default id)."""
    d = bytes.fromhex(SM2_D)
    signer = gmalg.SM2(sk=d, uid=xc.SM2_DEFAULT_ID, rnd_fn=lambda _bits: SM2_STANDARD_K)
    r, s = signer.sign(b"message digest")
    assert (int.from_bytes(r, "big"), int.from_bytes(s, "big")) == (SM2_STANDARD_R, SM2_STANDARD_S)
    public = xc.SM2PublicKey(bytes.fromhex(SM2_PUBLIC))
    sig = encode_dss_signature(SM2_STANDARD_R, SM2_STANDARD_S)
    assert xc.verify_signature(public, sig, b"message digest")
    assert not xc.verify_signature(public, sig, b"message digesT")


def test_sm2_hostile_signatures_and_keys() -> None:
    public = xc.SM2PublicKey(bytes.fromhex(SM2_PUBLIC))
    sig = bytes.fromhex(SM2_SIGNATURE)
    r, s = decode_dss_signature(sig)
    n = xc.SM2_ORDER
    bad = [
        b"",
        sig[:-1],  # truncated
        sig + b"\x00",  # trailing byte
        bytes(64),  # an Ed25519-shaped signature
        sig[:2] + b"\x02\x21\x00" + sig[4:],  # r with a needless leading zero: not DER
        encode_dss_signature(0, s),
        encode_dss_signature(r, 0),
        encode_dss_signature(r, s + n),  # same s modulo n, out of range
        encode_dss_signature(r + n, s),
    ]
    for b in bad:
        assert not xc.verify_signature(public, b, VECTOR_BODY), b.hex()
    # A P-256 signature over the same body (valid DER) does not verify under the SM2 key.
    p256 = ec.derive_private_key(int(P256_SCALAR, 16), ec.SECP256R1())
    assert not xc.verify_signature(public, xc.sign_bytes(p256, VECTOR_BODY), VECTOR_BODY)
    # Points off the curve, compressed or short points: not SM2 public keys.
    off = bytearray(bytes.fromhex(SM2_PUBLIC))
    off[-1] ^= 0x01
    for raw in (bytes(off), bytes.fromhex(SM2_PUBLIC)[:33], bytes(65), b"\x02" + bytes.fromhex(SM2_PUBLIC)[1:33]):
        with pytest.raises(ValueError):
            xc.SM2PublicKey(raw)
        with pytest.raises(ValueError):
            xc.public_key_from_raw(raw, "sm2")
    with pytest.raises(ValueError):
        xc.SM2PrivateKey(0)
    with pytest.raises(ValueError):
        xc.SM2PrivateKey(n)


def test_sm2_pkcs8_and_certificate_as_the_node_writes_them(tmp_path: Path) -> None:
    """Keys made by the `openssl` command line (the node's OpenSSL writes the same PKCS#8) load, sign
    in Python and verify with openssl; an openssl signature verifies in Python."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl command line not found")
    key_pem = tmp_path / "key.pem"
    subprocess.run([openssl, "genpkey", "-algorithm", "SM2", "-out", str(key_pem)], check=True, capture_output=True)
    subprocess.run(
        [openssl, "req", "-new", "-x509", "-key", str(key_pem), "-sm3", "-sigopt", "distid:1234567812345678",
         "-subj", "/O=org0/OU=admin/CN=py", "-days", "1", "-out", str(tmp_path / "cert.pem")],
        check=True, capture_output=True,
    )
    ident = xc.Identity.load(str(tmp_path))
    assert (ident.suite, ident.org, ident.role, ident.name) == ("sm2", "org0", "admin", "py")
    tx = ident.transaction("xc-sm2", "evidence", "put", evidence_args())
    assert tx.txid == xc.sm3(tx.body).hex()
    (tmp_path / "body").write_bytes(tx.body)
    (tmp_path / "sig").write_bytes(tx.signature)
    verify = [openssl, "pkeyutl", "-verify", "-rawin", "-digest", "sm3", "-certin", "-inkey", str(tmp_path / "cert.pem"),
              "-in", str(tmp_path / "body"), "-sigfile", str(tmp_path / "sig")]
    assert subprocess.run(verify + ["-pkeyopt", "distid:1234567812345678"], capture_output=True).returncode == 0
    assert subprocess.run(verify + ["-pkeyopt", "distid:1234567812345679"], capture_output=True).returncode != 0
    subprocess.run(
        [openssl, "pkeyutl", "-sign", "-rawin", "-digest", "sm3", "-pkeyopt", "distid:1234567812345678",
         "-inkey", str(key_pem), "-in", str(tmp_path / "body"), "-out", str(tmp_path / "osig")],
        check=True, capture_output=True,
    )
    public = xc.public_key_from_certificate(ident.certificate_pem, "sm2")
    assert xc.verify_signature(public, (tmp_path / "osig").read_bytes(), tx.body)
    with pytest.raises(ValueError):
        xc.public_key_from_certificate(ident.certificate_pem, "p256")
    # A PKCS#8 whose stored public key is another key's is refused.
    der = base64.b64decode("".join(key_pem.read_text().splitlines()[1:-1]))
    other = xc.SM2PrivateKey.generate().public_key().point
    at = der.index(public.point)
    with pytest.raises(ValueError):
        xc.SM2PrivateKey.from_pkcs8(der[:at] + other + der[at + 65 :])


class SM2Devnet:
    """``xiangchain devnet --suite sm2 --nodes 4`` as a subprocess; stopped with SIGINT."""

    def __init__(self, root: Path):
        self.dir = root / "net"
        self.base = free_block(4)
        self.log_path = root / "devnet.out"
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [str(XIANGCHAIN_BIN), "devnet", "--suite", "sm2", "--nodes", "4", "--dir", str(self.dir),
             "--base-port", str(self.base), "--chain-id", "xiangchain-sm2"],
            stdout=self.log, stderr=subprocess.STDOUT,
        )
        self.apis = [xc.Client(f"http://127.0.0.1:{self.base + k}", timeout=60) for k in range(4)]
        deadline = time.monotonic() + 240
        pending = set(range(4))
        while pending:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the SM2 devnet did not start:\n" + self.log_path.read_text()[-4000:])
            for k in list(pending):
                try:
                    self.apis[k].status()
                    pending.discard(k)
                except (urllib.error.URLError, ConnectionError, OSError, xc.APIError):
                    pass
            time.sleep(0.3)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


@pytest.fixture(scope="module")
def sm2_devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SM2Devnet]:
    if not XIANGCHAIN_BIN.is_file():
        pytest.skip(f"xiangchain binary not found at {XIANGCHAIN_BIN} (set XIANGCHAIN_BIN)")
    net = SM2Devnet(tmp_path_factory.mktemp("sm2devnet"))
    try:
        yield net
    finally:
        net.stop()


@needs_binary
def test_e2e_sm2_devnet_python_signed_transactions_and_proofs(sm2_devnet: SM2Devnet, tmp_path: Path) -> None:
    api = sm2_devnet.apis[0]
    status = api.status()
    assert (status["suite"], status["chainId"]) == ("sm2", "xiangchain-sm2")
    genesis_path = sm2_devnet.dir / "genesis.json"
    genesis = json.loads(genesis_path.read_bytes())
    ident = xc.Identity.load(str(sm2_devnet.dir / "identities" / "org0-admin"))
    assert ident.suite == "sm2"

    # Python-signed transactions, sent to different validators, are committed; their txid is SM3.
    txs = [ident.transaction(status["chainId"], "evidence", "put", evidence_args("sm2")) for _ in range(4)]
    for k, tx in enumerate(txs):
        outcome = sm2_devnet.apis[k].submit(tx)
        assert outcome["status"] == "committed", outcome
        assert outcome.get("txid", tx.txid) == tx.txid == xc.sm3(tx.body).hex()

    # The node's own signatures (finality seals by four SM2 validators) verify in Python, and the
    # proof verifies with SM3 throughout; the node's verify-proof agrees.
    for tx in txs:
        proof = api.proof(tx.txid)
        assert proof["hashAlgorithm"] == "sm3"
        report = xc.verify_proof(proof, genesis=genesis, body=tx.body)
        assert len(report.valid_signers) >= 3 and report.signatures_checked
        assert run_cli_verify(proof, genesis_path, tmp_path).returncode == 0
    # The client's own offline verifier (python3 xiangchain_client.py verify PROOF GENESIS).
    proof_file = tmp_path / "sm2-proof.json"
    proof_file.write_text(json.dumps(api.proof(txs[-1].txid)))
    cli = subprocess.run(
        ["python3", str(Path(xc.__file__)), "verify", str(proof_file), str(genesis_path)], capture_output=True, text=True
    )
    assert cli.returncode == 0 and cli.stdout.startswith("OK:"), cli.stdout + cli.stderr
    proof = api.proof(txs[0].txid)
    # Read as a SHA-256 chain, the same proof fails; a tampered seal or path fails.
    with pytest.raises(xc.ProofError):
        xc.verify_proof(proof, suite="ed25519")
    with pytest.raises(xc.ProofError):
        xc.verify_proof(proof, genesis={**genesis, "suite": "ed25519"})
    bad = copy.deepcopy(proof)
    for s in bad["finality"]["signatures"]:
        s["signature"] = flip_b64(s["signature"], 10)
    with pytest.raises(xc.ProofError):
        xc.verify_proof(bad, genesis=genesis)
    # Every header, tx root, result root and state hash recomputed with SM3.
    assert check_commitments(api, genesis_path) >= 1

    # Hostile: an Ed25519 signature, a P-256 signature, a wrong user id, a malformed DER.
    body = xc.build_body(status["chainId"], "evidence", "put", evidence_args())
    p256 = ec.derive_private_key(int(P256_SCALAR, 16), ec.SECP256R1())
    wrong_id = xc.SM2PrivateKey(ident.private_key.d, b"1234567812345679")
    good = xc.sign_bytes(ident.private_key, body)
    cases = [
        (ed25519.Ed25519PrivateKey.generate().sign(body), "malformed_signature"),
        (xc.sign_bytes(p256, body), "bad_signature"),
        (xc.sign_bytes(wrong_id, body), "bad_signature"),
        (good + b"\x00", "malformed_signature"),
        (good[:-1], "malformed_signature"),
    ]
    for sig, code in cases:
        with pytest.raises(xc.APIError) as e:
            api.submit(xc.SignedTransaction(body, sig, ident.certificate_pem, suite="sm2"))
        assert (e.value.status, e.value.code) == (401, code), sig.hex()
    assert api.submit(xc.SignedTransaction(body, good, ident.certificate_pem, suite="sm2"))["status"] == "committed"


def _hmac_sm3(key: bytes, data: bytes) -> bytes:
    """HMAC (RFC 2104) over SM3, block size 64, written out from the RFC (no OpenSSL)."""
    if len(key) > 64:
        key = xc.sm3(key)
    key = key.ljust(64, b"\x00")
    inner = xc.sm3(bytes(b ^ 0x36 for b in key), data)
    return xc.sm3(bytes(b ^ 0x5C for b in key), inner)


def test_sm4_sealed_box_vector_with_gmalg() -> None:
    """docs/sealed-box.vector (the SM4 box that seals the node's data at rest on sm2 chains)
    recomputed without OpenSSL: HKDF-SM3 (RFC 5869, no salt) for the two keys, SM4-CTR with
    gmalg's SM4 block, HMAC-SM3 over version ‖ IV ‖ len(aad) ‖ aad ‖ ciphertext."""
    v = dict(
        line.split(" = ", 1)
        for line in (REPO / "docs" / "sealed-box.vector").read_text().splitlines()
        if line and not line.startswith("#")
    )
    key, iv = bytes.fromhex(v["key"]), bytes.fromhex(v["iv"])
    plaintext, aad = v["plaintext_utf8"].encode(), v["aad_utf8"].encode()
    prk = _hmac_sm3(bytes(32), key)
    okm, block = b"", b""
    for i in range(1, 3):
        block = _hmac_sm3(prk, block + b"XiangChain SM4-CTR+HMAC-SM3 sealed box v1" + bytes([i]))
        okm += block
    sm4_key, mac_key = okm[:16], okm[16:48]
    assert (sm4_key.hex(), mac_key.hex()) == (v["sm4_key"], v["mac_key"])
    cipher = gmalg.SM4(sm4_key)
    counter = int.from_bytes(iv, "big")
    stream = b""
    while len(stream) < len(plaintext):
        stream += cipher.encrypt(((counter + len(stream) // 16) % (1 << 128)).to_bytes(16, "big"))
    ciphertext = bytes(p ^ s for p, s in zip(plaintext, stream))
    assert ciphertext.hex() == v["ciphertext"]
    tag = _hmac_sm3(mac_key, b"\x01" + iv + struct.pack(">Q", len(aad)) + aad + ciphertext)
    assert tag.hex() == v["tag"]
    assert (b"\x01" + iv + ciphertext + tag).hex() == v["box"]
    # One changed byte of the aad, another tag.
    assert _hmac_sm3(mac_key, b"\x01" + iv + struct.pack(">Q", len(aad)) + b"tenant=8" + ciphertext) != tag
