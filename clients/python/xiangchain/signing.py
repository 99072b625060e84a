"""Signature suites: which suite a key belongs to, signing and verifying as the node expects.

Built in (from ``xiangchain_client``): ``ed25519`` (raw 64-byte signatures) and ``p256``
(DER ECDSA-SHA256). Further suites plug in with :func:`register_suite`; the one planned is
``sm2`` (SM2 with SM3 and the default user id, ``docs/crypto.md``):

    from xiangchain import signing
    signing.register_suite("sm2", matches=is_sm2_key, sign=sm2_sign, verify=sm2_verify)

After that :func:`sign`, :func:`verify` and :func:`suite_of` (and so ``xiangchain.Node``) handle
SM2 keys. A suite that ``xiangchain_client.sign_bytes`` learns itself is used as a fall-back
without registering.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Dict, List

import xiangchain_client as _core


@dataclass(frozen=True)
class Suite:
    """One signature suite: ``matches(key)`` for its private and public key objects,
    ``sign(private_key, message) -> signature``, ``verify(public_key, signature, message) -> bool``."""

    name: str
    matches: Callable[[Any], bool]
    sign: Callable[[Any, bytes], bytes]
    verify: Callable[[Any, bytes, bytes], bool]


_SUITES: Dict[str, Suite] = {}


def register_suite(
    name: str,
    matches: Callable[[Any], bool],
    sign: Callable[[Any, bytes], bytes],
    verify: Callable[[Any, bytes, bytes], bool],
) -> None:
    """Adds (or replaces) the suite ``name``; later registrations are consulted first."""
    if not name or not name.isidentifier():
        raise ValueError(f"bad suite name {name!r}")
    _SUITES.pop(name, None)
    _SUITES[name] = Suite(name, matches, sign, verify)


def suites() -> List[str]:
    """The registered suite names."""
    return list(_SUITES)


def _core_matches(suite: str) -> Callable[[Any], bool]:
    def matches(key: Any) -> bool:
        try:
            return _core.suite_of_key(key) == suite
        except ValueError:
            return False

    return matches


register_suite("ed25519", _core_matches("ed25519"), _core.sign_bytes, _core.verify_signature)
register_suite("p256", _core_matches("p256"), _core.sign_bytes, _core.verify_signature)


def _find(key: Any) -> Suite | None:
    for suite in reversed(list(_SUITES.values())):
        if suite.matches(key):
            return suite
    return None


def suite_of(key: Any) -> str:
    """The suite name of a private or public key; ``ValueError`` when no suite knows it."""
    found = _find(key)
    return found.name if found else _core.suite_of_key(key)


def sign(private_key: Any, message: bytes) -> bytes:
    """Signs ``message`` as the node expects for the key's suite."""
    found = _find(private_key)
    return found.sign(private_key, message) if found else _core.sign_bytes(private_key, message)


def verify(public_key: Any, signature: bytes, message: bytes) -> bool:
    """True when ``signature`` over ``message`` verifies with ``public_key``."""
    found = _find(public_key)
    return found.verify(public_key, signature, message) if found else _core.verify_signature(public_key, signature, message)
