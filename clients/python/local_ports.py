"""Free TCP ports on 127.0.0.1 for the local networks of tests and scripts: the rule of
Sources/Node/LocalPorts.swift, for Python.

A port that is free when it is chosen must still be free when the node binds it a moment later.
Ports inside the kernel's ephemeral range (``net.ipv4.ip_local_port_range``, 32768–60999 by
default) are not: every outgoing connection — nodes dialling one another while a network starts,
clients, other tests — takes one of them at random and holds it, and a node whose listening port
was taken that way exits at start (``bind_failed``). Binding port 0 returns exactly such a port. So
ports are drawn from below the ephemeral range (or above it, where it leaves no room below) and
checked free by binding them.

Not part of the SDK's package (pyproject lists its modules); the tests import it from this folder,
scripts with ``PYTHONPATH=clients/python``.
"""

from __future__ import annotations

import random
import re
import socket
from typing import Optional, Tuple

RANGE_FILE = "/proc/sys/net/ipv4/ip_local_port_range"
# Linux's default, used where the file cannot be read or says something else.
FALLBACK_RANGE = (32768, 60999)
# `init --base-port P` / `devnet --base-port P`: API ports P+k, p2p ports P+1000+k.
P2P_OFFSET = 1000


def parse_range(text: str) -> Optional[Tuple[int, int]]:
    """``"32768\\t60999\\n"`` → ``(32768, 60999)``; None for anything else (two decimal numbers,
    0 < low <= high <= 65535, separated by spaces, tabs or newlines)."""
    parts = [p for p in re.split(r"[ \t\n]", text) if p]
    if len(parts) != 2 or not all(re.fullmatch(r"[0-9]+", p) for p in parts):
        return None
    low, high = int(parts[0]), int(parts[1])
    if not (0 < low <= high <= 65535):
        return None
    return low, high


def ephemeral_range(path: str = RANGE_FILE) -> Tuple[int, int]:
    """The kernel's ephemeral port range (inclusive), or Linux's default where it cannot be read."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError):
        return FALLBACK_RANGE
    return parse_range(text) or FALLBACK_RANGE


def candidate_bases(count: int, ephemeral: Tuple[int, int]) -> Tuple[int, int]:
    """The bases (inclusive) whose block P..P+1000+count-1 lies outside ``ephemeral``: below it when
    at least 2,000 bases fit between port 10,000 and it, otherwise above it; if neither fits (a
    range set to span almost everything), anywhere from 10,000."""
    span = P2P_OFFSET + max(count, 1)  # the block covers base ... base + span - 1
    floor = 10000
    below_top = ephemeral[0] - span
    if below_top - floor >= 2000:
        return floor, below_top
    above_bottom = max(ephemeral[1] + 1, floor)
    above_top = 65535 - span + 1
    if above_top - above_bottom >= 2000:
        return above_bottom, above_top
    return floor, max(floor, above_top)


def is_free(port: int) -> bool:
    """Whether ``port`` can be bound on 127.0.0.1 now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def free_block(count: int, ephemeral: Optional[Tuple[int, int]] = None) -> int:
    """A base port P such that P..P+count-1 (API ports) and P+1000..P+1000+count-1 (p2p ports) are
    free now and outside the ephemeral range: the layout of ``init --base-port P``."""
    low, high = candidate_bases(count, ephemeral or ephemeral_range())
    for _ in range(200):
        base = random.randint(low, high)
        if all(is_free(base + k) and is_free(base + P2P_OFFSET + k) for k in range(count)):
            return base
    raise RuntimeError(f"no free block of {count} port(s) in {low}..{high}")


def free_port(ephemeral: Optional[Tuple[int, int]] = None) -> int:
    """One port, free now and outside the ephemeral range (drawn where free_block(1) draws, only
    the port itself checked)."""
    low, high = candidate_bases(1, ephemeral or ephemeral_range())
    for _ in range(200):
        port = random.randint(low, high)
        if is_free(port):
            return port
    raise RuntimeError(f"no free port in {low}..{high}")
