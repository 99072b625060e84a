#!/usr/bin/env python3
"""A switch of TAP devices whose links delay, jitter and drop frames, as tc netem would.

Used by the multi-host test (Tests/ProcessTests/MultiHostTests.swift) on kernels built without
netem (CONFIG_NET_SCH_NETEM): each host's network namespace gets one TAP device of this switch as
its only interface, so every frame between hosts crosses two emulated links (the sender's and the
receiver's), each with its own delay, jitter and loss. Ports named with --clean (the test's own
port in the root namespace) are not impaired.

    linkemu.py --delay-ms 20 --jitter-ms 5 --loss 0.01 --clean xcmhtc xcmht0 xcmht1 ...

Creates the TAP devices, prints "ready" and forwards until SIGTERM or stdin closes. Moving a
device into a namespace (ip link set NAME netns NS) keeps it attached to this switch.
"""

import argparse
import fcntl
import heapq
import os
import random
import select
import signal
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000


def open_tap(name):
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TAP | IFF_NO_PI))
    return fd


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--delay-ms", type=float, default=20.0, help="one-way delay of each host's link")
    p.add_argument("--jitter-ms", type=float, default=5.0, help="uniform jitter added to each delay (±)")
    p.add_argument("--loss", type=float, default=0.01, help="probability a link drops a frame")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--clean", action="append", default=[], help="a port without impairment")
    p.add_argument("ports", nargs="+")
    a = p.parse_args()
    rng = random.Random(a.seed)
    fds = {name: open_tap(name) for name in a.ports}
    names = {fd: name for name, fd in fds.items()}
    clean = {fds[n] for n in a.clean if n in fds}
    macs = {}  # source MAC -> fd (a learning switch; unknown and broadcast destinations flood)
    queue = []  # (due, seq, fd, frame)
    seq = 0
    stats = {"forwarded": 0, "dropped": 0}
    stop = False

    def on_term(*_):
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    print("ready", flush=True)

    def link_delay(fd):
        if fd in clean:
            return 0.0
        return max(0.0, a.delay_ms + rng.uniform(-a.jitter_ms, a.jitter_ms)) / 1000.0

    def link_drops(fd):
        return fd not in clean and rng.random() < a.loss

    watch = list(fds.values()) + [sys.stdin.fileno()]
    while not stop:
        now = time.monotonic()
        while queue and queue[0][0] <= now:
            _, _, fd, frame = heapq.heappop(queue)
            try:
                os.write(fd, frame)
                stats["forwarded"] += 1
            except OSError:
                stats["dropped"] += 1  # the host's interface is down: its cable is out
        timeout = max(0.0, queue[0][0] - time.monotonic()) if queue else 0.5
        try:
            ready, _, _ = select.select(watch, [], [], timeout)
        except InterruptedError:
            continue
        for fd in ready:
            if fd == sys.stdin.fileno():
                if not os.read(fd, 4096):
                    stop = True
                continue
            while True:
                try:
                    frame = os.read(fd, 65536)
                except (BlockingIOError, OSError):
                    break
                if len(frame) < 14:
                    break
                dst, src = frame[0:6], frame[6:12]
                macs[src] = fd
                if link_drops(fd):  # lost on the sender's link
                    stats["dropped"] += 1
                    continue
                ingress = link_delay(fd)
                out = [macs[dst]] if dst in macs and not (dst[0] & 1) else [o for o in fds.values() if o != fd]
                for o in out:
                    if o == fd:
                        continue
                    if link_drops(o):  # lost on the receiver's link
                        stats["dropped"] += 1
                        continue
                    seq += 1
                    heapq.heappush(queue, (time.monotonic() + ingress + link_delay(o), seq, o, frame))
    print(f"linkemu: forwarded {stats['forwarded']} frames, dropped {stats['dropped']}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
