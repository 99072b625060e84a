"""local_ports: the ports of local networks stay outside the kernel's ephemeral range (the rule of
LocalPorts.swift), where no outgoing connection can take one between the choice and the bind."""

from __future__ import annotations

from pathlib import Path

import pytest

import local_ports


def _outside(port: int, ephemeral: tuple) -> bool:
    return not (ephemeral[0] <= port <= ephemeral[1])


def test_blocks_and_ports_never_fall_in_the_ephemeral_range() -> None:
    ephemeral = local_ports.ephemeral_range()
    for count in (1, 4):
        for _ in range(150):
            base = local_ports.free_block(count)
            block = [base + k for k in range(count)] + [base + 1000 + k for k in range(count)]
            assert all(_outside(p, ephemeral) and 10000 <= p <= 65535 for p in block), (base, ephemeral)
    for _ in range(300):
        port = local_ports.free_port()
        assert _outside(port, ephemeral) and 10000 <= port <= 65535, (port, ephemeral)


def test_a_block_is_free_when_returned() -> None:
    base = local_ports.free_block(4)
    assert all(local_ports.is_free(base + k) and local_ports.is_free(base + 1000 + k) for k in range(4))


def test_a_taken_port_is_not_free() -> None:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", local_ports.free_port()))
        s.listen(1)
        assert not local_ports.is_free(s.getsockname()[1])


def test_the_range_file_is_parsed_strictly() -> None:
    assert local_ports.parse_range("32768\t60999\n") == (32768, 60999)
    assert local_ports.parse_range("1024 65535") == (1024, 65535)
    assert local_ports.parse_range("40000 40000\n") == (40000, 40000)
    for bad in ("", "\n", "32768", "32768 60999 1", "60999 32768", "0 60999", "32768 65536", "-1 60999",
                "32768 6x999", "3_2768 60999", "32768.0 60999", "0x8000 60999", "३२७६८ 60999"):
        assert local_ports.parse_range(bad) is None, bad


def test_a_missing_or_unreadable_file_falls_back_to_linux_default(tmp_path: Path) -> None:
    assert local_ports.ephemeral_range(str(tmp_path / "absent")) == (32768, 60999)
    garbage = tmp_path / "garbage"
    garbage.write_text("not a range\n")
    assert local_ports.ephemeral_range(str(garbage)) == (32768, 60999)
    undecodable = tmp_path / "undecodable"
    undecodable.write_bytes(b"\xff\xfe 60999\n")
    assert local_ports.ephemeral_range(str(undecodable)) == (32768, 60999)
    good = tmp_path / "range"
    good.write_text("20000\t30000\n")
    assert local_ports.ephemeral_range(str(good)) == (20000, 30000)


@pytest.mark.parametrize(
    "ephemeral, count, expected",
    [
        ((32768, 60999), 4, (10000, 31764)),  # below: the block ends at 32767
        ((32768, 60999), 1, (10000, 31767)),
        ((12000, 30000), 4, (30001, 64532)),  # no room below: above, the block ends at 65535
        ((1024, 65000), 4, (10000, 64532)),  # no room on either side: anywhere from 10,000
    ],
)
def test_candidate_bases_mirror_local_ports_swift(ephemeral: tuple, count: int, expected: tuple) -> None:
    low, high = local_ports.candidate_bases(count, ephemeral)
    assert (low, high) == expected
    if ephemeral[0] > 13000:
        assert high + 1000 + count - 1 == ephemeral[0] - 1


def test_a_range_leaving_room_only_above_gives_ports_above_it() -> None:
    for _ in range(100):
        base = local_ports.free_block(4, ephemeral=(12000, 30000))
        assert base > 30000 and base + 1003 <= 65535
