"""A small, independent XiangChain client in Python.

It shows that nothing about XiangChain's wire formats is Swift-specific: this module builds and
signs transaction bodies, submits them over HTTP, and checks inclusion proofs, header hashes and
validator seals entirely on its own. It needs the standard library and ``cryptography``; on
``sm2`` chains (SM2 signatures, SM3 hashes) also ``gmalg`` (pure-Python GB/T 32918 / 32905).

The formats are described in ``docs/transactions.md`` and ``docs/proofs.md``; the HTTP API in
``docs/openapi.yaml``.

Typical use::

    ident = Identity.load("demo/identities/org0-admin")
    api = Client("http://127.0.0.1:8080")
    chain = api.status()["chainId"]
    tx = ident.sign(build_body(chain, "evidence", "put", {"hash": "…", "kind": "doc"}))
    outcome = api.submit(tx, wait=True)
    report = verify_proof(api.proof(tx.txid), genesis=api.genesis(), body=tx.body)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import struct
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

try:  # only needed on sm2 chains
    import gmalg
except ImportError:  # pragma: no cover - reported when an SM2 key or hash is first used
    gmalg = None

__all__ = [
    "APIError",
    "BlockHeader",
    "Client",
    "Identity",
    "ProofError",
    "ProofReport",
    "SignedTransaction",
    "SM2PrivateKey",
    "SM2PublicKey",
    "SM2_DEFAULT_ID",
    "BLOCK_SIGNING_DOMAIN",
    "STATE_DOMAIN",
    "build_body",
    "canonical_json",
    "chain_hash",
    "load_private_key_pem",
    "genesis_hash",
    "inclusion_path",
    "leaf_hash",
    "load_json_exact",
    "merkle_root",
    "node_hash",
    "quorum",
    "result_leaf",
    "sm3",
    "state_hash_genesis",
    "state_hash_next",
    "txid_of",
    "validator_keys",
    "verify_inclusion",
    "verify_proof",
    "verify_signature",
]

#: Domain tag prefixed to a header hash before validators sign it.
BLOCK_SIGNING_DOMAIN = b"XIANGCHAIN-BLOCK-V1"
#: Domain tag of the state hash chain.
STATE_DOMAIN = b"XIANGCHAIN-STATE-V1"
#: Longest string field accepted when decoding a header (as the node does).
HEADER_MAX_FIELD = 1024

SUITES = ("ed25519", "p256", "sm2")

#: The user id of SM2 signatures on XiangChain (GM/T 0009-2012's default; not OpenSSL's empty id).
SM2_DEFAULT_ID = b"1234567812345678"


def sha256(*parts: bytes) -> bytes:
    """SHA-256 over the concatenation of ``parts``."""
    h = hashlib.sha256()
    for p in parts:
        h.update(p)
    return h.digest()


def _need_gmalg() -> Any:
    if gmalg is None:
        raise RuntimeError("sm2 chains need the gmalg package (python3 -m pip install gmalg)")
    return gmalg


def sm3(*parts: bytes) -> bytes:
    """SM3 (GB/T 32905) over the concatenation of ``parts``."""
    h = _need_gmalg().SM3()
    for p in parts:
        h.update(p)
    return h.value()


def chain_hash(suite: Optional[str], *parts: bytes) -> bytes:
    """The hash a chain of ``suite`` defines (docs/crypto.md): SM3 on ``sm2``, else SHA-256."""
    if suite == "sm2":
        return sm3(*parts)
    if suite is not None and suite not in SUITES:
        raise ValueError(f"unknown suite {suite!r}")
    return sha256(*parts)


# --------------------------------------------------------------------------------------------
# JSON: body building, a literal-preserving strict reader, and the node's canonical form
# --------------------------------------------------------------------------------------------


class JSONNumber(str):
    """A JSON number kept as its literal text (the node never converts numbers to floats)."""

    def __int__(self) -> int:  # pragma: no cover - convenience
        return int(str(self))


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _no_duplicates(pairs: List[Tuple[str, Any]]) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"duplicate key {k!r}")
        out[k] = v
    return out


def load_json_exact(data: bytes) -> Any:
    """Parses JSON strictly (no duplicate keys, no NaN) and keeps numbers as literal text.

    Use it when a value must be re-serialised canonically (result leaves, the genesis hash).
    """
    return json.loads(
        data.decode("utf-8"),
        parse_int=JSONNumber,
        parse_float=JSONNumber,
        parse_constant=_refuse_constant,
        object_pairs_hook=_no_duplicates,
    )


def _json_string(s: str) -> str:
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif o == 0x08:
            out.append("\\b")
        elif o == 0x0C:
            out.append("\\f")
        elif o == 0x0A:
            out.append("\\n")
        elif o == 0x0D:
            out.append("\\r")
        elif o == 0x09:
            out.append("\\t")
        elif o < 0x20:
            out.append("\\u%04x" % o)
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _json_number(v: Any) -> str:
    if isinstance(v, JSONNumber):
        return str(v)
    if isinstance(v, bool):  # pragma: no cover - guarded by caller
        raise TypeError("bool is not a number")
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if v != v or v in (float("inf"), float("-inf")):
            raise ValueError("NaN and infinities are not JSON")
        return repr(v)
    raise TypeError(f"not a JSON number: {v!r}")


def canonical_json(value: Any) -> bytes:
    """The node's canonical JSON: compact, object keys sorted by UTF-8 bytes, strings escaped
    only where JSON requires it (``"``, ``\\``, control characters), numbers as literal text.

    Pass values read with :func:`load_json_exact` so numbers keep their exact literal.
    """
    parts: List[str] = []

    def write(v: Any) -> None:
        if v is None:
            parts.append("null")
        elif v is True:
            parts.append("true")
        elif v is False:
            parts.append("false")
        elif isinstance(v, JSONNumber) or (isinstance(v, (int, float)) and not isinstance(v, bool)):
            parts.append(_json_number(v))
        elif isinstance(v, str):
            parts.append(_json_string(v))
        elif isinstance(v, (list, tuple)):
            parts.append("[")
            for i, item in enumerate(v):
                if i:
                    parts.append(",")
                write(item)
            parts.append("]")
        elif isinstance(v, Mapping):
            parts.append("{")
            for i, k in enumerate(sorted(v, key=lambda key: key.encode("utf-8"))):
                if not isinstance(k, str):
                    raise TypeError("object keys must be strings")
                if i:
                    parts.append(",")
                parts.append(_json_string(k))
                parts.append(":")
                write(v[k])
            parts.append("}")
        else:
            raise TypeError(f"not JSON-serialisable: {v!r}")

    write(value)
    return "".join(parts).encode("utf-8")


def build_body(
    chain: str,
    contract: str,
    method: str,
    args: Mapping[str, Any],
    nonce: Optional[str] = None,
    timestamp: Optional[int] = None,
) -> bytes:
    """Builds body bytes: compact UTF-8 JSON with the six fields in a fixed order and ``args``
    in canonical form (keys sorted).

    Any other layout of the same fields is equally valid (the node hashes and verifies the exact
    bytes it receives); this one is byte-for-byte what the Swift ``TransactionBody.encode`` makes.
    """
    if not isinstance(args, Mapping):
        raise TypeError("args must be a JSON object")
    if nonce is None:
        nonce = uuid.uuid4().hex
    if timestamp is None:
        timestamp = int(time.time() * 1000)
    if not 1 <= len(nonce) <= 64:
        raise ValueError("nonce must be 1-64 characters")
    if isinstance(timestamp, bool) or not isinstance(timestamp, int) or not 0 <= timestamp < 2**63:
        raise ValueError("timestamp must be a non-negative integer (unix milliseconds)")
    text = (
        '{"chain":' + _json_string(chain)
        + ',"nonce":' + _json_string(nonce)
        + ',"timestamp":' + str(timestamp)
        + ',"contract":' + _json_string(contract)
        + ',"method":' + _json_string(method)
        + ',"args":'
    )
    return text.encode("utf-8") + canonical_json(args) + b"}"


def txid_of(body: bytes, suite: Optional[str] = None) -> str:
    """The transaction id: lowercase hex SHA-256 (SM3 on ``sm2`` chains) of the exact body bytes."""
    return chain_hash(suite, body).hex()


# --------------------------------------------------------------------------------------------
# Keys, signatures, identities
# --------------------------------------------------------------------------------------------


# SM2 (GB/T 32918) on the recommended curve, through gmalg. `cryptography` cannot load SM2 keys
# (OpenSSL's curve is not exposed), so the PKCS#8 and SubjectPublicKeyInfo forms are read here.

_OID_EC_PUBLIC_KEY = bytes.fromhex("2a8648ce3d0201")  # 1.2.840.10045.2.1
_OID_SM2_CURVE = bytes.fromhex("2a811ccf5501822d")  # 1.2.156.10197.1.301
SM2_ORDER = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123


def _der(data: bytes, pos: int = 0) -> Tuple[int, bytes, int]:
    """One DER element at ``pos``: (tag, content, position after it). Definite lengths only."""
    if pos + 2 > len(data):
        raise ValueError("truncated DER")
    tag, first = data[pos], data[pos + 1]
    pos += 2
    if first < 0x80:
        length = first
    else:
        n = first & 0x7F
        if n == 0 or n > 3 or pos + n > len(data):
            raise ValueError("bad DER length")
        length = int.from_bytes(data[pos : pos + n], "big")
        pos += n
    if pos + length > len(data):
        raise ValueError("truncated DER")
    return tag, data[pos : pos + length], pos + length


def _der_children(content: bytes) -> List[Tuple[int, bytes]]:
    out, pos = [], 0
    while pos < len(content):
        tag, value, pos = _der(content, pos)
        out.append((tag, value))
    return out


def _sm2_point_from_spki(spki: bytes) -> bytes:
    """The 65-byte point of an SM2 SubjectPublicKeyInfo; ValueError for anything else."""
    tag, content, end = _der(spki)
    if tag != 0x30 or end != len(spki):
        raise ValueError("not a SubjectPublicKeyInfo")
    (alg_tag, alg), (bits_tag, bits) = _der_children(content)
    oids = [v for t, v in _der_children(alg) if t == 0x06]
    if alg_tag != 0x30 or oids != [_OID_EC_PUBLIC_KEY, _OID_SM2_CURVE]:
        raise ValueError("not an SM2 public key")
    if bits_tag != 0x03 or len(bits) != 66 or bits[0] != 0:
        raise ValueError("SM2 public key is not an uncompressed point")
    return bits[1:]


class SM2PublicKey:
    """An SM2 public key (65-byte uncompressed point) with the user id its signatures use."""

    def __init__(self, point: bytes, uid: bytes = SM2_DEFAULT_ID):
        g = _need_gmalg()
        if len(point) != 65 or point[0] != 4:
            raise ValueError("an SM2 public key is a 65-byte uncompressed point")
        if not g.SM2().verify_pk(point):
            raise ValueError("the SM2 public key is not a point of the curve")
        self.point = bytes(point)
        self.uid = uid
        self._sm2 = g.SM2(pk=self.point, uid=uid)

    @classmethod
    def from_spki(cls, spki: bytes, uid: bytes = SM2_DEFAULT_ID) -> "SM2PublicKey":
        return cls(_sm2_point_from_spki(spki), uid)

    def verify(self, signature: bytes, message: bytes) -> bool:
        """SM2-with-SM3 over ``message``; ``signature`` must be strict DER ``SEQUENCE { r, s }``."""
        try:
            r, s = decode_dss_signature(signature)
        except ValueError:
            return False
        if not (0 < r < SM2_ORDER and 0 < s < SM2_ORDER):
            return False
        if encode_dss_signature(r, s) != signature:  # only the one canonical DER form
            return False
        return bool(self._sm2.verify(message, r.to_bytes(32, "big"), s.to_bytes(32, "big")))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SM2PublicKey) and (self.point, self.uid) == (other.point, other.uid)

    def __hash__(self) -> int:
        return hash(self.point)


class SM2PrivateKey:
    """An SM2 private key; signs with SM3 and the user id (default ``1234567812345678``)."""

    def __init__(self, d: int, uid: bytes = SM2_DEFAULT_ID):
        g = _need_gmalg()
        if not 0 < d < SM2_ORDER - 1:
            raise ValueError("SM2 private scalar out of range")
        self.d = d
        self.uid = uid
        raw = d.to_bytes(32, "big")
        self._sm2 = g.SM2(sk=raw, uid=uid)
        self._public = SM2PublicKey(g.SM2().generate_pk(raw), uid)

    @classmethod
    def generate(cls, uid: bytes = SM2_DEFAULT_ID) -> "SM2PrivateKey":
        import secrets

        return cls(1 + secrets.randbelow(SM2_ORDER - 2), uid)

    @classmethod
    def from_pkcs8(cls, der: bytes, uid: bytes = SM2_DEFAULT_ID) -> "SM2PrivateKey":
        """Reads the PKCS#8 form the node writes (``key.pem``): an RFC 5915 EC key on the SM2 curve."""
        tag, content, end = _der(der)
        if tag != 0x30 or end != len(der):
            raise ValueError("not a PKCS#8 private key")
        items = _der_children(content)
        if len(items) < 3 or items[0] != (0x02, b"\x00") or items[1][0] != 0x30 or items[2][0] != 0x04:
            raise ValueError("not a PKCS#8 private key")
        oids = [v for t, v in _der_children(items[1][1]) if t == 0x06]
        if oids != [_OID_EC_PUBLIC_KEY, _OID_SM2_CURVE]:
            raise ValueError("not an SM2 private key")
        tag, ec_key, end = _der(items[2][1])
        fields = _der_children(ec_key)
        if tag != 0x30 or len(fields) < 2 or fields[0] != (0x02, b"\x01") or fields[1][0] != 0x04:
            raise ValueError("bad SM2 private key")
        key = cls(int.from_bytes(fields[1][1], "big"), uid)
        for t, v in fields[2:]:
            if t == 0xA1:  # the stored public key must be the key's own
                _, bits, _ = _der(v)
                if bits[1:] != key.public_key().point:
                    raise ValueError("the SM2 key's stored public key does not match its scalar")
        return key

    def public_key(self) -> SM2PublicKey:
        return self._public

    def sign(self, message: bytes) -> bytes:
        """SM2-with-SM3 over ``message`` (fresh random k), DER ``SEQUENCE { r, s }``."""
        r, s = self._sm2.sign(message)
        return encode_dss_signature(int.from_bytes(r, "big"), int.from_bytes(s, "big"))


def load_private_key_pem(data: bytes) -> Any:
    """A PKCS#8 PEM private key of any suite (Ed25519, P-256 or SM2)."""
    try:
        return serialization.load_pem_private_key(data, password=None)
    except UnsupportedAlgorithm:
        text = data.decode("ascii")
        begin, end = "-----BEGIN PRIVATE KEY-----", "-----END PRIVATE KEY-----"
        if begin not in text or end not in text:
            raise
        b64 = text.split(begin, 1)[1].split(end, 1)[0]
        return SM2PrivateKey.from_pkcs8(base64.b64decode("".join(b64.split()), validate=True))


def _certificate_public_key(cert: x509.Certificate) -> Any:
    """A certificate's public key; SM2 keys (which ``cryptography`` cannot load) as :class:`SM2PublicKey`."""
    try:
        return cert.public_key()
    except UnsupportedAlgorithm:
        # TBSCertificate: [0] version, serial, signature, issuer, validity, subject, SPKI, ...
        _, tbs, _ = _der(cert.tbs_certificate_bytes)
        pos, index = 0, 0
        while pos < len(tbs):
            start = pos
            tag, _, pos = _der(tbs, pos)
            if tag == 0xA0:
                continue
            if index == 5:
                return SM2PublicKey.from_spki(tbs[start:pos])
            index += 1
        raise ValueError("certificate without a public key")


def suite_of_key(key: Any) -> str:
    """``"ed25519"``, ``"p256"`` or ``"sm2"`` for a private or public key object."""
    if isinstance(key, (SM2PrivateKey, SM2PublicKey)):
        return "sm2"
    if isinstance(key, (ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey)):
        return "ed25519"
    if isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)):
        if isinstance(key.curve, ec.SECP256R1):
            return "p256"
        raise ValueError(f"unsupported curve {key.curve.name}")
    raise ValueError(f"unsupported key type {type(key).__name__}")


def sign_bytes(key: Any, message: bytes) -> bytes:
    """Signs like the node expects: raw 64 bytes (Ed25519), DER ECDSA-SHA256 (P-256) or DER
    SM2-with-SM3 with the key's user id (SM2)."""
    suite = suite_of_key(key)
    if suite in ("ed25519", "sm2"):
        return key.sign(message)
    return key.sign(message, ec.ECDSA(hashes.SHA256()))


def verify_signature(public_key: Any, signature: bytes, message: bytes) -> bool:
    """True when ``signature`` is valid over ``message`` for ``public_key`` (any suite)."""
    try:
        if suite_of_key(public_key) == "sm2":
            return public_key.verify(signature, message)
        if suite_of_key(public_key) == "ed25519":
            if len(signature) != 64:
                return False
            public_key.verify(signature, message)
        else:
            public_key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
        return True
    except (InvalidSignature, ValueError):
        return False


def public_key_from_certificate(pem: str, suite: Optional[str] = None) -> Any:
    """The public key of a PEM certificate; checks it belongs to ``suite`` when given."""
    cert = x509.load_pem_x509_certificate(pem.encode("ascii"))
    key = _certificate_public_key(cert)
    if suite is not None and suite_of_key(key) != suite:
        raise ValueError(f"certificate key is not a {suite} key")
    return key


@dataclass(frozen=True)
class SignedTransaction:
    """Exact body bytes, the signature over them, and the signer's certificate (PEM); ``suite``
    decides the txid's hash (SM3 on ``sm2`` chains)."""

    body: bytes
    signature: bytes
    signer_pem: str
    suite: str = "ed25519"

    @property
    def txid(self) -> str:
        return txid_of(self.body, self.suite)

    def envelope(self) -> Dict[str, str]:
        """The JSON envelope of ``POST /v1/txs``."""
        return {
            "body": base64.b64encode(self.body).decode("ascii"),
            "signature": base64.b64encode(self.signature).decode("ascii"),
            "signer": self.signer_pem,
        }


class Identity:
    """A signing key with its X.509 certificate, as found in ``identities/<name>/``."""

    def __init__(self, private_key: Any, certificate_pem: str):
        self.private_key = private_key
        self.certificate_pem = certificate_pem
        self.certificate = x509.load_pem_x509_certificate(certificate_pem.encode("ascii"))
        self.suite = suite_of_key(private_key)
        if suite_of_key(_certificate_public_key(self.certificate)) != self.suite:
            raise ValueError("key and certificate are of different suites")

    @classmethod
    def load(cls, directory: str) -> "Identity":
        """Loads ``key.pem`` (PKCS#8) and ``cert.pem`` from ``directory``."""
        with open(os.path.join(directory, "key.pem"), "rb") as f:
            key = load_private_key_pem(f.read())
        with open(os.path.join(directory, "cert.pem"), "r", encoding="ascii") as f:
            cert = f.read()
        return cls(key, cert)

    def _subject(self, oid: x509.ObjectIdentifier) -> Optional[str]:
        attrs = self.certificate.subject.get_attributes_for_oid(oid)
        return str(attrs[0].value) if attrs else None

    @property
    def org(self) -> Optional[str]:
        return self._subject(x509.NameOID.ORGANIZATION_NAME)

    @property
    def role(self) -> Optional[str]:
        return self._subject(x509.NameOID.ORGANIZATIONAL_UNIT_NAME)

    @property
    def name(self) -> Optional[str]:
        return self._subject(x509.NameOID.COMMON_NAME)

    def sign(self, body: bytes) -> SignedTransaction:
        """Signs exact body bytes."""
        return SignedTransaction(
            body=body, signature=sign_bytes(self.private_key, body), signer_pem=self.certificate_pem, suite=self.suite
        )

    def transaction(self, chain: str, contract: str, method: str, args: Mapping[str, Any], **kw: Any) -> SignedTransaction:
        """Builds and signs a body for ``contract.method(args)``."""
        return self.sign(build_body(chain, contract, method, args, **kw))


def signed_request_headers(
    identity: Identity,
    method: str,
    target: str,
    chain_id: str,
    node_id: str,
    timestamp_ms: Optional[int] = None,
    nonce: Optional[str] = None,
) -> Dict[str, str]:
    """Headers of a signed API request (``docs/api-auth.md``): base64 certificate DER, unix ms, a
    fresh nonce, and a signature over ``"XIANGCHAIN-REQUEST-V2\\n" + chain + "\\n" + node + "\\n" +
    METHOD + "\\n" + target + "\\n" + timestamp + "\\n" + nonce``. ``target`` is the path with its
    query exactly as it will be sent; ``chain_id`` and ``node_id`` are the receiving node's
    (``chainId`` and ``nodeId`` of its ``/v1/status``): the request is good for that node only,
    and only once."""
    ts = str(int(time.time() * 1000) if timestamp_ms is None else timestamp_ms)
    nonce = nonce or uuid.uuid4().hex
    message = f"XIANGCHAIN-REQUEST-V2\n{chain_id}\n{node_id}\n{method.upper()}\n{target}\n{ts}\n{nonce}".encode("utf-8")
    der = identity.certificate.public_bytes(serialization.Encoding.DER)
    return {
        "X-XC-Certificate": base64.b64encode(der).decode("ascii"),
        "X-XC-Timestamp": ts,
        "X-XC-Nonce": nonce,
        "X-XC-Signature": base64.b64encode(sign_bytes(identity.private_key, message)).decode("ascii"),
    }


# --------------------------------------------------------------------------------------------
# RFC 6962 / RFC 9162 Merkle trees
# --------------------------------------------------------------------------------------------


def leaf_hash(data: bytes, suite: Optional[str] = None) -> bytes:
    """H(0x00 || data), H the chain hash of ``suite`` (SHA-256 unless ``sm2``)."""
    return chain_hash(suite, b"\x00", data)


def node_hash(left: bytes, right: bytes, suite: Optional[str] = None) -> bytes:
    """H(0x01 || left || right)."""
    return chain_hash(suite, b"\x01", left, right)


def _split(n: int) -> int:
    """Largest power of two strictly below n (n >= 2)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def merkle_root(leaf_hashes: Sequence[bytes], suite: Optional[str] = None) -> bytes:
    """The RFC 6962 tree head over already-hashed leaves; H("") when empty."""
    n = len(leaf_hashes)
    if n == 0:
        return chain_hash(suite, b"")
    if n == 1:
        return leaf_hashes[0]
    k = _split(n)
    return node_hash(merkle_root(leaf_hashes[:k], suite), merkle_root(leaf_hashes[k:], suite), suite)


def inclusion_path(index: int, leaf_hashes: Sequence[bytes], suite: Optional[str] = None) -> List[bytes]:
    """The audit path of leaf ``index``, leaf level first (RFC 9162 §2.1.3.1)."""
    n = len(leaf_hashes)
    if not 0 <= index < n:
        raise IndexError("leaf index outside the tree")
    if n == 1:
        return []
    k = _split(n)
    if index < k:
        return inclusion_path(index, leaf_hashes[:k], suite) + [merkle_root(leaf_hashes[k:], suite)]
    return inclusion_path(index - k, leaf_hashes[k:], suite) + [merkle_root(leaf_hashes[:k], suite)]


def verify_inclusion(
    leaf: bytes, index: int, tree_size: int, path: Sequence[bytes], root: bytes, suite: Optional[str] = None
) -> bool:
    """RFC 9162 §2.1.3.2: does ``path`` lead from leaf hash ``leaf`` at ``index`` to ``root``?"""
    if not 0 <= index < tree_size:
        return False
    fn, sn, r = index, tree_size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r, suite)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p, suite)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


# --------------------------------------------------------------------------------------------
# Block headers (binary layout of BlockHeader.encoded)
# --------------------------------------------------------------------------------------------


class _Reader:
    def __init__(self, data: bytes, max_field: int):
        self.data = data
        self.pos = 0
        self.max_field = max_field

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise ProofError(f"header ends early (need {n} bytes at offset {self.pos})")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def u16(self) -> int:
        return struct.unpack(">H", self.take(2))[0]

    def u32(self) -> int:
        return struct.unpack(">I", self.take(4))[0]

    def u64(self) -> int:
        return struct.unpack(">Q", self.take(8))[0]

    def i64(self) -> int:
        return struct.unpack(">q", self.take(8))[0]

    def hash(self) -> bytes:
        return self.take(32)

    def string(self) -> str:
        n = self.u32()
        if n > self.max_field:
            raise ProofError(f"string of {n} bytes exceeds the limit of {self.max_field}")
        try:
            return self.take(n).decode("utf-8", errors="strict")
        except UnicodeDecodeError as e:
            raise ProofError("string is not valid UTF-8") from e

    def finish(self) -> None:
        if self.pos != len(self.data):
            raise ProofError(f"{len(self.data) - self.pos} trailing bytes after the header")


def _lp(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


@dataclass(frozen=True)
class BlockHeader:
    """A decoded block header; ``hash`` is the block id."""

    version: int
    chain_id: str
    height: int
    parent_hash: bytes
    timestamp: int
    proposer: str
    tx_count: int
    tx_root: bytes
    exec_height: int
    result_root: bytes
    state_hash: bytes

    @classmethod
    def decode(cls, data: bytes) -> "BlockHeader":
        """Decodes the canonical bytes; refuses unknown versions and trailing bytes."""
        r = _Reader(data, HEADER_MAX_FIELD)
        version = r.u16()
        if version != 1:
            raise ProofError(f"unknown header version {version}")
        h = cls(
            version=version,
            chain_id=r.string(),
            height=r.u64(),
            parent_hash=r.hash(),
            timestamp=r.i64(),
            proposer=r.string(),
            tx_count=r.u32(),
            tx_root=r.hash(),
            exec_height=r.u64(),
            result_root=r.hash(),
            state_hash=r.hash(),
        )
        r.finish()
        return h

    def encode(self) -> bytes:
        """The canonical bytes (inverse of :meth:`decode`)."""
        return (
            struct.pack(">H", self.version)
            + _lp(self.chain_id.encode("utf-8"))
            + struct.pack(">Q", self.height)
            + self.parent_hash
            + struct.pack(">q", self.timestamp)
            + _lp(self.proposer.encode("utf-8"))
            + struct.pack(">I", self.tx_count)
            + self.tx_root
            + struct.pack(">Q", self.exec_height)
            + self.result_root
            + self.state_hash
        )

    @property
    def hash(self) -> bytes:
        """The block id on an Ed25519 or P-256 chain (SHA-256); see :meth:`hash_for`."""
        return sha256(self.encode())

    def hash_for(self, suite: Optional[str]) -> bytes:
        """The block id on a chain of ``suite`` (SM3 on ``sm2``)."""
        return chain_hash(suite, self.encode())

    @property
    def signing_message(self) -> bytes:
        """What each validator signs: the domain tag, then the 32 header-hash bytes."""
        return BLOCK_SIGNING_DOMAIN + self.hash

    def signing_message_for(self, suite: Optional[str]) -> bytes:
        return BLOCK_SIGNING_DOMAIN + self.hash_for(suite)

    def json_view(self) -> Dict[str, Any]:
        """The header as the API shows it in JSON."""
        return {
            "version": self.version,
            "chainId": self.chain_id,
            "height": self.height,
            "parentHash": self.parent_hash.hex(),
            "timestamp": self.timestamp,
            "proposer": self.proposer,
            "txCount": self.tx_count,
            "txRoot": self.tx_root.hex(),
            "execHeight": self.exec_height,
            "resultRoot": self.result_root.hex(),
            "stateHash": self.state_hash.hex(),
        }


# --------------------------------------------------------------------------------------------
# Genesis, execution commitments
# --------------------------------------------------------------------------------------------


def validator_keys(genesis: Mapping[str, Any]) -> Dict[str, Any]:
    """Each validator's public key (from its certificate in the genesis), by node id."""
    suite = genesis.get("suite")
    if suite not in SUITES:
        raise ValueError(f"unknown suite {suite!r}")
    keys: Dict[str, Any] = {}
    for v in genesis.get("validators", []):
        keys[str(v["nodeId"])] = public_key_from_certificate(v["certificate"], suite)
    return keys


def quorum(validator_count: int) -> int:
    """Signatures that finalise a block: 1 for one validator, else floor(2n/3) + 1."""
    return 1 if validator_count == 1 else (validator_count * 2) // 3 + 1


def genesis_hash(genesis_bytes: bytes, suite: Optional[str] = None) -> bytes:
    """H of the canonical JSON of the genesis document (whitespace and key order ignored)."""
    return chain_hash(suite, canonical_json(load_json_exact(genesis_bytes)))


def state_hash_genesis(genesis_digest: bytes, suite: Optional[str] = None) -> bytes:
    """The state hash of a fresh chain."""
    return chain_hash(suite, STATE_DOMAIN, genesis_digest)


def state_hash_next(
    previous: bytes, height: int, writes: Mapping[str, Optional[bytes]], suite: Optional[str] = None
) -> bytes:
    """Folds one block's net writes (key -> value, None = delete) into the previous state hash."""
    body = struct.pack(">I", len(writes))
    for key in sorted(writes, key=lambda k: k.encode("utf-8")):
        value = writes[key]
        body += _lp(key.encode("utf-8"))
        body += b"\x00" if value is None else b"\x01" + _lp(value)
    return chain_hash(suite, STATE_DOMAIN, previous, struct.pack(">Q", height), chain_hash(suite, body))


def result_leaf(
    txid: str, error: Optional[Mapping[str, str]], events: Sequence[Mapping[str, Any]], result: Any = None
) -> bytes:
    """The leaf data of one transaction result (``TransactionResult.encoded``).

    ``events`` are ``{"contract", "name", "data"}`` objects as ``GET /v1/txs/{txid}`` returns
    them, and ``result`` its ``result`` member (None when absent: a result value is never null);
    read that response with :func:`load_json_exact` so they re-serialise exactly.
    """
    out = bytes.fromhex(txid)
    out += b"\x01" if error else b"\x00"
    out += _lp((error["code"] if error else "").encode("utf-8"))
    out += _lp((error["message"] if error else "").encode("utf-8"))
    out += struct.pack(">I", len(events))
    for e in events:
        out += _lp(e["contract"].encode("utf-8")) + _lp(e["name"].encode("utf-8")) + _lp(canonical_json(e["data"]))
    if result is not None:
        out += b"\x01" + _lp(canonical_json(result))
    return out


# --------------------------------------------------------------------------------------------
# Proof verification
# --------------------------------------------------------------------------------------------


class ProofError(Exception):
    """A proof that does not verify, with the reason."""


@dataclass
class ProofReport:
    """What :func:`verify_proof` established."""

    txid: str
    height: int
    header: BlockHeader
    header_hash: str
    valid_signers: List[str] = field(default_factory=list)
    signatures_checked: bool = False
    epochs_followed: int = 0


def _hex32(value: Any, what: str) -> bytes:
    if not isinstance(value, str) or len(value) != 64:
        raise ProofError(f"{what} must be 64 lowercase hex characters")
    if value != value.lower():
        raise ProofError(f"{what} must be lowercase hex")
    try:
        return bytes.fromhex(value)
    except ValueError as e:
        raise ProofError(f"{what} is not hex") from e


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, JSONNumber)):
        raise ProofError(f"{what} must be an integer")
    try:
        return int(value)
    except ValueError as e:
        raise ProofError(f"{what} must be an integer") from e


def _b64(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise ProofError(f"{what} must be a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as e:
        raise ProofError(f"{what} is not valid base64") from e


EPOCH_DOMAIN = b"XIANGCHAIN-EPOCH-V1"


def _lp(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def epoch_signing_message(chain_id: str, change: Mapping[str, Any]) -> bytes:
    """The bytes the validator set before an epoch change signs (docs/proofs.md §4a)."""
    out = _lp(EPOCH_DOMAIN) + _lp(chain_id.encode("utf-8"))
    members = change.get("validators")
    if not isinstance(members, list):
        raise ProofError("epoch change without validators")
    out += struct.pack(">QQI", _int(change.get("epoch"), "epoch"), _int(change.get("firstHeight"), "firstHeight"), len(members))
    for m in members:
        if not isinstance(m, Mapping):
            raise ProofError("bad epoch validator")
        out += _lp(str(m.get("nodeId")).encode("utf-8")) + _lp(_b64(m.get("publicKey"), "publicKey"))
    return out


def public_key_from_raw(raw: bytes, suite: str) -> Any:
    """A validator key from its raw form: 32-byte Ed25519, or the 65-byte uncompressed P-256 or
    SM2 point."""
    if suite == "ed25519":
        return ed25519.Ed25519PublicKey.from_public_bytes(raw)
    if suite == "sm2":
        return SM2PublicKey(raw)
    return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)


def follow_epochs(
    epochs: Any, keys: Dict[str, Any], need: int, chain_id: str, suite: str, height: int
) -> Tuple[Dict[str, Any], int, int]:
    """Follows signed validator-set changes from the genesis set (docs/proofs.md §4a); returns
    the keys and quorum of the block's set and how many changes were followed."""
    if not isinstance(epochs, list) or len(epochs) > 1024:
        raise ProofError("bad epochs list")
    expected, last_first = 1, 0
    for change in epochs:
        if not isinstance(change, Mapping):
            raise ProofError("bad epoch change")
        epoch, first = _int(change.get("epoch"), "epoch"), _int(change.get("firstHeight"), "firstHeight")
        if epoch != expected or first <= last_first:
            raise ProofError("epoch changes must follow each other from epoch 1")
        if first > height:
            raise ProofError(f"epoch {epoch} starts after the block: it does not belong in this proof")
        message = epoch_signing_message(chain_id, change)
        signed = set()
        for s in change.get("signatures") or []:
            if not isinstance(s, Mapping):
                continue
            v = s.get("validator")
            if v not in keys or v in signed:
                continue
            try:
                sig = _b64(s.get("signature"), "signature")
            except ProofError:
                continue
            if verify_signature(keys[v], sig, message):
                signed.add(v)
        if len(signed) < need:
            raise ProofError(f"epoch {epoch} is signed by {len(signed)} validator(s) of the set before it; {need} needed")
        try:
            keys = {str(m["nodeId"]): public_key_from_raw(_b64(m.get("publicKey"), "publicKey"), suite) for m in change["validators"]}
        except (ValueError, KeyError, TypeError) as e:
            raise ProofError(f"epoch {epoch} lists a bad validator key: {e}") from None
        need = quorum(len(keys))
        expected, last_first = expected + 1, first
    return keys, need, expected - 1


def verify_proof(
    proof: Mapping[str, Any],
    genesis: Optional[Mapping[str, Any]] = None,
    body: Optional[bytes] = None,
    suite: Optional[str] = None,
) -> ProofReport:
    """Verifies a proof from ``GET /v1/txs/{txid}/proof``; raises :class:`ProofError`.

    The hash (SHA-256, or SM3 on ``sm2`` chains) comes from the genesis ``suite``, or from
    ``suite`` when no genesis is given, never from the proof; the proof's ``hashAlgorithm``, when
    present, must agree. Below, H is that hash.

    Steps: decode ``headerBytes``; recompute the header hash and the tx root check; follow the
    audit path (RFC 9162) from H(0x00 || txid bytes) to the header's tx root; with
    ``genesis``, require the header's chain id and a quorum of distinct validators whose
    signatures over ``"XIANGCHAIN-BLOCK-V1" || header hash`` verify with the keys in the genesis
    certificates. With ``body``, also require that the txid is H of those bytes.
    Every unauthenticated convenience field of the proof (header JSON, hashes, height) must agree
    with what the header bytes say.
    """
    if genesis is not None:
        if suite is not None and suite != genesis.get("suite"):
            raise ProofError(f"suite {suite!r} differs from the genesis suite {genesis.get('suite')!r}")
        suite = genesis.get("suite")
    suite = suite or "ed25519"
    if suite not in SUITES:
        raise ProofError(f"unknown suite {suite!r}")
    algorithm = "sm3" if suite == "sm2" else "sha256"
    if proof.get("hashAlgorithm") is not None and proof.get("hashAlgorithm") != algorithm:
        raise ProofError(f"the proof says hashAlgorithm {proof.get('hashAlgorithm')!r}; a {suite} chain uses {algorithm}")
    txid_hex = proof.get("txid")
    txid = _hex32(txid_hex, "txid")
    if body is not None and chain_hash(suite, body) != txid:
        raise ProofError(f"txid is not the {algorithm.upper()} of the given body")
    index = _int(proof.get("leafIndex"), "leafIndex")
    size = _int(proof.get("treeSize"), "treeSize")
    if index < 0 or size <= 0:
        raise ProofError("leafIndex/treeSize out of range")
    path_json = proof.get("auditPath")
    if not isinstance(path_json, list):
        raise ProofError("auditPath missing")
    path = [_hex32(p, "auditPath entry") for p in path_json]

    header_json = proof.get("header") if isinstance(proof.get("header"), Mapping) else {}
    raw = proof.get("headerBytes", header_json.get("headerBytes"))
    header = BlockHeader.decode(_b64(raw, "headerBytes"))
    header_hash = header.hash_for(suite).hex()

    for claimed in (proof.get("headerHash"), header_json.get("headerHash")):
        if claimed is not None and claimed != header_hash:
            raise ProofError("headerBytes do not hash to headerHash")
    if "headerBytes" in header_json and header_json["headerBytes"] != raw:
        raise ProofError("header.headerBytes differs from headerBytes")
    for k, v in header.json_view().items():
        if k not in header_json:
            continue
        shown = _int(header_json[k], f"header.{k}") if isinstance(v, int) else header_json[k]
        if shown != v:
            raise ProofError(f"header.{k} differs from the header bytes")
    if proof.get("txRoot") is not None and proof["txRoot"] != header.tx_root.hex():
        raise ProofError("txRoot differs from the header's")
    if proof.get("height") is not None and _int(proof["height"], "height") != header.height:
        raise ProofError("height differs from the header's")
    if size != header.tx_count:
        raise ProofError("treeSize differs from the header's txCount")
    if not verify_inclusion(leaf_hash(txid, suite), index, size, path, header.tx_root, suite):
        raise ProofError("audit path does not lead to the header's tx root")

    report = ProofReport(txid=txid_hex, height=header.height, header=header, header_hash=header_hash)
    if genesis is None:
        return report

    if header.chain_id != genesis.get("chainId"):
        raise ProofError(f"header is for chain {header.chain_id!r}, genesis is {genesis.get('chainId')!r}")
    keys = validator_keys(genesis)
    need = quorum(len(keys))
    keys, need, report.epochs_followed = follow_epochs(
        proof.get("epochs") or [], keys, need, str(genesis.get("chainId")), str(genesis.get("suite")), header.height
    )
    finality = proof.get("finality") if isinstance(proof.get("finality"), Mapping) else {}
    message = header.signing_message_for(suite)
    for s in finality.get("signatures") or []:
        if not isinstance(s, Mapping):
            continue
        v = s.get("validator")
        if v not in keys or v in report.valid_signers:
            continue
        try:
            sig = _b64(s.get("signature"), "signature")
        except ProofError:
            continue
        if verify_signature(keys[v], sig, message):
            report.valid_signers.append(v)
    report.signatures_checked = True
    if len(report.valid_signers) < need:
        raise ProofError(f"{len(report.valid_signers)} valid validator signature(s); {need} needed")
    return report


# --------------------------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------------------------


class APIError(Exception):
    """A non-2xx answer: HTTP status plus the node's ``{"error": {"code", "message"}}``."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(f"HTTP {status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class Client:
    """Calls a node's ``/v1`` API with urllib."""

    def __init__(self, base_url: str, timeout: float = 60.0):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def request(self, method: str, path: str, payload: Optional[bytes] = None, exact: bool = False) -> Tuple[int, Any]:
        """Sends a request; returns (status, parsed JSON) for 2xx, raises :class:`APIError` otherwise.

        With ``exact``, the answer is read by :func:`load_json_exact` (numbers kept as literals).
        """
        headers = {"Accept": "application/json"}
        if payload is not None:
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.base_url + path, data=payload, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                raw = resp.read()
                return resp.status, (load_json_exact(raw) if exact else json.loads(raw))
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                err = json.loads(raw)["error"]
                code, message = str(err["code"]), str(err["message"])
            except (ValueError, KeyError, TypeError):
                code, message = f"http_{e.code}", raw.decode("utf-8", "replace")
            raise APIError(e.code, code, message) from None

    def get(self, path: str) -> Any:
        return self.request("GET", path)[1]

    def get_exact(self, path: str) -> Any:
        """GET, keeping numbers as literal text (for recomputing canonical bytes)."""
        return self.request("GET", path, exact=True)[1]

    def status(self) -> Dict[str, Any]:
        return self.get("/v1/status")

    def genesis(self) -> Dict[str, Any]:
        return self.get("/v1/genesis")

    def submit(self, tx: SignedTransaction, wait: bool = True, timeout_ms: Optional[int] = None) -> Dict[str, Any]:
        """``POST /v1/txs`` (``?wait=commit`` when ``wait``). The result carries ``http_status``."""
        query: Dict[str, str] = {}
        if wait:
            query["wait"] = "commit"
            if timeout_ms is not None:
                query["timeout"] = str(timeout_ms)
        path = "/v1/txs" + ("?" + urllib.parse.urlencode(query) if query else "")
        status, answer = self.request("POST", path, json.dumps(tx.envelope()).encode("utf-8"))
        answer["http_status"] = status
        return answer

    def transaction(self, txid: str) -> Dict[str, Any]:
        return self.get(f"/v1/txs/{txid}")

    def proof(self, txid: str) -> Dict[str, Any]:
        return self.get(f"/v1/txs/{txid}/proof")

    def block(self, height: int) -> Dict[str, Any]:
        return self.get(f"/v1/blocks/{height}")

    def blocks(self, start: Optional[int] = None, limit: Optional[int] = None) -> Dict[str, Any]:
        query = {k: str(v) for k, v in (("from", start), ("limit", limit)) if v is not None}
        return self.get("/v1/blocks" + ("?" + urllib.parse.urlencode(query) if query else ""))

    def evidence(self, digest: str) -> Dict[str, Any]:
        return self.get(f"/v1/evidence/{digest}")


def _main(argv: Sequence[str]) -> int:
    """``python3 xiangchain_client.py verify PROOF.json GENESIS.json``: offline proof check."""
    if len(argv) != 3 or argv[0] != "verify":
        print("usage: xiangchain_client.py verify PROOF.json GENESIS.json")
        return 64
    with open(argv[1], "rb") as f:
        proof = json.loads(f.read())
    with open(argv[2], "rb") as f:
        genesis = json.loads(f.read())
    try:
        report = verify_proof(proof, genesis)
    except ProofError as e:
        print(f"INVALID: {e}")
        return 1
    following = f", following {report.epochs_followed} validator-set change(s)" if report.epochs_followed else ""
    print(f"OK: transaction {report.txid} is in block {report.height} ({report.header_hash}),"
          f" sealed by {', '.join(report.valid_signers)}{following}")
    return 0


if __name__ == "__main__":
    import sys

    raise SystemExit(_main(sys.argv[1:]))
