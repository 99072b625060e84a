"""Operations tests against a real node process: ``GET /metrics`` read with Prometheus' own text
parser (``prometheus_client.parser``), JSON log lines and request ids.

Run from the repository root:  python3 -m pytest -q clients/python
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

import pytest

import xiangchain_client as xc
from local_ports import free_block, free_port

prometheus_parser = pytest.importorskip("prometheus_client.parser")

REPO = Path(__file__).resolve().parents[2]
XIANGCHAIN_BIN = Path(os.environ.get("XIANGCHAIN_BIN", str(REPO / ".build" / "debug" / "xiangchain")))
TOKEN = "metrics-" + uuid.uuid4().hex


class Node:
    """A validator started with ``--log-format json`` at debug level; its standard error is the log."""

    def __init__(self, root: Path, config: Dict[str, object]):
        subprocess.run([str(XIANGCHAIN_BIN), "init", "--dir", str(root)], check=True, capture_output=True)
        self.home = root / "nodes" / "0"
        self.port = free_port()
        path = self.home / "config.json"
        settings = json.loads(path.read_text())
        settings.update(config)
        path.write_text(json.dumps(settings))
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = root / "node.log"
        self.log = open(self.log_path, "wb")
        env = dict(os.environ, LOG_LEVEL="debug")
        args = ["node", "--home", str(self.home), "--api-port", str(self.port), "--log-format", "json"]
        self.proc = subprocess.Popen([str(XIANGCHAIN_BIN), *args], stdout=subprocess.DEVNULL, stderr=self.log, env=env)
        self.api = xc.Client(self.url, timeout=60)
        self.admin = xc.Identity.load(str(root / "identities" / "org0-admin"))
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"node exited with {self.proc.returncode}:\n{self.log_path.read_text()}")
            try:
                self.status = self.api.status()
                break
            except (urllib.error.URLError, ConnectionError, OSError):
                if time.monotonic() > deadline:
                    self.stop()
                    raise
                time.sleep(0.1)

    def http(self, path: str, headers: Optional[Dict[str, str]] = None) -> Tuple[int, Dict[str, str], bytes]:
        req = urllib.request.Request(self.url + path, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, dict(resp.headers.items()), resp.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers.items()), e.read()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)
        self.log.close()


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    if not XIANGCHAIN_BIN.is_file():
        pytest.skip(f"xiangchain binary not found at {XIANGCHAIN_BIN} (set XIANGCHAIN_BIN)")
    # Metrics for the token holder only (not even loopback), and a verify limit low enough to hit.
    n = Node(
        tmp_path_factory.mktemp("ops") / "chain",
        {"metricsAllowFrom": [], "metricsToken": TOKEN, "verifyPerMinutePerClient": 2},
    )
    try:
        yield n
    finally:
        n.stop()


def scrape(node: Node) -> Dict[Tuple[str, Tuple[Tuple[str, str], ...]], float]:
    """Every sample of ``GET /metrics`` by (name, sorted labels), parsed by prometheus_client."""
    status, headers, body = node.http("/metrics", {"Authorization": f"Bearer {TOKEN}"})
    assert status == 200, body
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
    samples = {}
    for family in prometheus_parser.text_string_to_metric_families(body.decode("utf-8")):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def value(samples: Dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def evidence(node: Node) -> xc.SignedTransaction:
    args = {"hash": hashlib.sha256(uuid.uuid4().bytes).hexdigest(), "kind": "doc", "meta": {"source": "metrics"}}
    return node.admin.transaction(node.status["chainId"], "evidence", "put", args)


def test_metrics_refused_without_the_token(node: Node) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Bearer {TOKEN}x"}, {"Authorization": TOKEN}):
        status, _, body = node.http("/metrics", headers)
        assert status == 403, body
        assert json.loads(body)["error"]["code"] == "forbidden"


def test_metrics_move_with_the_chain(node: Node) -> None:
    before = scrape(node)
    for name in (
        "xiangchain_height", "xiangchain_mempool_transactions", "xiangchain_mempool_capacity",
        "xiangchain_peers_connected", "xiangchain_validators",
    ):
        assert (name, ()) in before, name
    assert value(before, "xiangchain_mempool_capacity") == 10_000
    # The node certificate of a fresh chain runs for years.
    assert value(before, "xiangchain_certificate_expiry_days", certificate="node") > 300

    txs = [evidence(node) for _ in range(3)]
    for tx in txs:
        assert node.api.submit(tx)["status"] == "committed"
    with pytest.raises(xc.APIError) as refused:
        node.api.submit(txs[0])
    assert refused.value.code == "duplicate_tx"

    after = scrape(node)
    assert value(after, "xiangchain_height") >= value(before, "xiangchain_height") + 1
    assert value(after, "xiangchain_height") == node.api.status()["height"]
    assert value(after, "xiangchain_transactions_admitted_total") == value(before, "xiangchain_transactions_admitted_total") + 3
    assert value(after, "xiangchain_transactions_committed_total") >= value(before, "xiangchain_transactions_committed_total") + 3
    assert (
        value(after, "xiangchain_transactions_refused_total", code="duplicate_tx")
        == value(before, "xiangchain_transactions_refused_total", code="duplicate_tx") + 1
    )
    # Exported at 0 from the start (no refusal of that kind here).
    assert (("xiangchain_transactions_refused_total", (("code", "mempool_full"),))) in after
    assert value(after, "xiangchain_transactions_refused_total", code="mempool_full") == 0
    blocks = value(after, "xiangchain_blocks_committed_total") - value(before, "xiangchain_blocks_committed_total")
    assert blocks >= 1
    for histogram in ("xiangchain_block_commit_seconds", "xiangchain_sqlite_commit_seconds"):
        count = value(after, f"{histogram}_count") - value(before, f"{histogram}_count")
        assert count == blocks, histogram
        assert value(after, f"{histogram}_sum") > value(before, f"{histogram}_sum")
        assert value(after, f"{histogram}_bucket", le="+Inf") == value(after, f"{histogram}_count")
    # The submissions were counted by route class and status.
    assert (
        value(after, "xiangchain_http_requests_total", route="txs", status="200")
        >= value(before, "xiangchain_http_requests_total", route="txs", status="200") + 3
    )
    assert value(after, "xiangchain_http_requests_total", route="txs", status="409") >= 1
    assert value(after, "xiangchain_http_requests_total", route="metrics", status="200") >= 1


def test_rate_limit_refusals_are_counted_by_route_class(node: Node) -> None:
    before = scrape(node)
    statuses = [node.http("/v1/verify?code=" + uuid.uuid4().hex)[0] for _ in range(4)]
    assert 429 in statuses
    after = scrape(node)
    limited = statuses.count(429)
    assert value(after, "xiangchain_rate_limited_total", route="verify") == value(
        before, "xiangchain_rate_limited_total", route="verify"
    ) + limited
    assert value(after, "xiangchain_http_requests_total", route="verify", status="429") == value(
        before, "xiangchain_http_requests_total", route="verify", status="429"
    ) + limited


def test_hostile_paths_do_not_create_series(node: Node) -> None:
    before = scrape(node)
    for _ in range(5):
        node.http(f"/v1/{uuid.uuid4().hex}/x")
        node.http(f"/{uuid.uuid4().hex}")
    after = scrape(node)
    new = {k for k in after if k not in before and k[0] == "xiangchain_http_requests_total"}
    # At most the classes 'other' and 'console_files' with status 404 appear, however many paths.
    assert all(dict(k[1])["route"] in ("other", "console_files") for k in new), new
    assert len(new) <= 2


def log_lines(node: Node) -> List[Dict[str, object]]:
    lines = node.log_path.read_text("utf-8").splitlines()
    assert lines
    parsed = []
    for line in lines:
        entry = json.loads(line)  # every line is one JSON object
        assert isinstance(entry, dict)
        assert set(entry) >= {"time", "level", "logger", "message", "metadata"}, entry
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", entry["time"]), entry["time"]
        assert isinstance(entry["metadata"], dict)
        parsed.append(entry)
    return parsed


def wait_for_log(node: Node, request_id: str) -> List[Dict[str, object]]:
    deadline = time.monotonic() + 10
    while True:
        found = [e for e in log_lines(node) if e["metadata"].get("request_id") == request_id]  # type: ignore[union-attr]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def test_json_log_lines_and_request_ids(node: Node) -> None:
    entries = log_lines(node)
    assert any(e["level"] == "info" and e["logger"] == "xiangchain" for e in entries)

    # A sane incoming id is kept, returned and logged with the request.
    mine = "client-" + uuid.uuid4().hex
    status, headers, _ = node.http("/v1/status", {"X-Request-Id": mine})
    assert status == 200
    assert headers["X-Request-Id"] == mine
    logged = wait_for_log(node, mine)
    assert logged, f"no log line carries request id {mine}"
    assert logged[-1]["message"] == "request"
    assert logged[-1]["metadata"]["path"] == "/v1/status"  # type: ignore[index]
    assert logged[-1]["metadata"]["status"] == "200"  # type: ignore[index]

    # Without one, or with one that is not sane, the node makes its own.
    generated = []
    for incoming in (None, "x" * 129, "has space", "semi;colon", "ünicode".encode("utf-8").decode("latin-1")):
        headers_in = {} if incoming is None else {"X-Request-Id": incoming}
        status, headers, _ = node.http("/v1/blocks/999999", headers_in)
        assert status == 404
        rid = headers["X-Request-Id"]
        assert re.fullmatch(r"[0-9a-f]{32}", rid), rid
        generated.append(rid)
    assert len(set(generated)) == len(generated)
    # A client error is logged at info, with its id.
    logged = wait_for_log(node, generated[0])
    assert logged and logged[-1]["level"] == "info" and logged[-1]["metadata"]["status"] == "404"  # type: ignore[index]

    # Refused metrics requests carry ids too.
    status, headers, _ = node.http("/metrics", {"X-Request-Id": "m-1"})
    assert status == 403 and headers["X-Request-Id"] == "m-1"


def test_unknown_log_format_is_refused(tmp_path: Path) -> None:
    if not XIANGCHAIN_BIN.is_file():
        pytest.skip("no binary")
    root = tmp_path / "chain"
    subprocess.run([str(XIANGCHAIN_BIN), "init", "--dir", str(root)], check=True, capture_output=True)
    run = subprocess.run(
        [str(XIANGCHAIN_BIN), "node", "--home", str(root / "nodes" / "0"), "--log-format", "xml"],
        capture_output=True, timeout=60,
    )
    assert run.returncode != 0
    assert b"bad_config" in run.stderr or b"log format" in run.stderr


def test_an_observer_reports_its_sync_lag(tmp_path: Path) -> None:
    if not XIANGCHAIN_BIN.is_file():
        pytest.skip("no binary")
    root = tmp_path / "chain"
    # The validator's API P and p2p P+1000, and the observer's API P+100 (init: the first API + 100 + k).
    base = free_block(101)
    subprocess.run(
        [str(XIANGCHAIN_BIN), "init", "--dir", str(root), "--observers", "1", "--base-port", str(base)],
        check=True, capture_output=True,
    )
    procs = []
    logs = []
    try:
        for home in (root / "nodes" / "0", root / "observers" / "0"):
            log = open(tmp_path / f"{home.name}-{home.parent.name}.log", "wb")
            logs.append(log)
            procs.append(subprocess.Popen([str(XIANGCHAIN_BIN), "node", "--home", str(home)], stdout=log, stderr=log))
        validator = json.loads((root / "nodes" / "0" / "config.json").read_text())
        observer = json.loads((root / "observers" / "0" / "config.json").read_text())
        urls = [f"http://127.0.0.1:{c['apiPort']}" for c in (validator, observer)]
        admin = xc.Identity.load(str(root / "identities" / "org0-admin"))
        deadline = time.monotonic() + 60
        while True:
            try:
                statuses = [xc.Client(u).status() for u in urls]
                break
            except (urllib.error.URLError, ConnectionError, OSError):
                assert all(p.poll() is None for p in procs), "a node exited"
                assert time.monotonic() < deadline
                time.sleep(0.2)
        api = xc.Client(urls[0])
        for _ in range(3):
            args = {"hash": hashlib.sha256(uuid.uuid4().bytes).hexdigest(), "kind": "doc", "meta": {}}
            assert api.submit(admin.transaction(statuses[0]["chainId"], "evidence", "put", args))["status"] == "committed"
        height = api.status()["height"]

        def observer_metrics() -> Dict:
            # Loopback is allowed by default: no token.
            with urllib.request.urlopen(urls[1] + "/metrics", timeout=30) as resp:
                text = resp.read().decode()
            return {
                (s.name, tuple(sorted(s.labels.items()))): s.value
                for f in prometheus_parser.text_string_to_metric_families(text)
                for s in f.samples
            }

        deadline = time.monotonic() + 30
        while True:
            m = observer_metrics()
            if value(m, "xiangchain_height") >= height or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        assert value(m, "xiangchain_height") >= height
        assert value(m, "xiangchain_observer") == 1
        assert ("xiangchain_sync_lag_blocks", ()) in m and value(m, "xiangchain_sync_lag_blocks") == 0
        assert value(m, "xiangchain_sync_last_fetch_timestamp_seconds") > time.time() - 60
        assert value(m, "xiangchain_blocks_committed_total") >= height
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=15)
        for log in logs:
            log.close()


def test_bft_validators_report_round_and_peers_and_a_validator_down(tmp_path: Path) -> None:
    if not XIANGCHAIN_BIN.is_file():
        pytest.skip("no binary")
    root = tmp_path / "chain"
    base = free_block(4)
    subprocess.run(
        [str(XIANGCHAIN_BIN), "init", "--dir", str(root), "--orgs", "org0,org1,org2,org3", "--base-port", str(base)],
        check=True, capture_output=True,
    )
    procs: List[subprocess.Popen] = []
    logs = []
    urls = [f"http://127.0.0.1:{base + k}" for k in range(4)]

    def metrics(url: str) -> Dict:
        with urllib.request.urlopen(url + "/metrics", timeout=30) as resp:
            text = resp.read().decode()
        return {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for f in prometheus_parser.text_string_to_metric_families(text)
            for s in f.samples
        }

    def until(check, timeout: float = 60.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if check():
                    return True
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            time.sleep(0.3)
        return False

    try:
        for k in range(4):
            log = open(tmp_path / f"node{k}.log", "wb")
            logs.append(log)
            procs.append(
                subprocess.Popen([str(XIANGCHAIN_BIN), "node", "--home", str(root / "nodes" / str(k))], stdout=log, stderr=log)
            )
        # Every validator connected to the three others.
        assert until(lambda: all(value(metrics(u), "xiangchain_peers_connected") == 3 for u in urls)), "peers never all connected"
        admin = xc.Identity.load(str(root / "identities" / "org0-admin"))
        api = xc.Client(urls[0])
        chain = api.status()["chainId"]
        args = {"hash": hashlib.sha256(uuid.uuid4().bytes).hexdigest(), "kind": "doc", "meta": {}}
        assert api.submit(admin.transaction(chain, "evidence", "put", args))["status"] == "committed"
        m = metrics(urls[0])
        assert value(m, "xiangchain_validators") == 4 and value(m, "xiangchain_observer") == 0
        assert value(m, "xiangchain_consensus_round") >= 1, m
        assert value(m, "xiangchain_consensus_last_progress_timestamp_seconds") > time.time() - 120
        assert value(m, "xiangchain_consensus_stalled") == 0
        assert value(m, "xiangchain_height") >= 1
        # Validator 3 goes down: the others see two peers (the input of XiangChainValidatorUnreachable).
        procs[3].send_signal(signal.SIGTERM)
        procs[3].wait(timeout=30)
        assert until(lambda: all(value(metrics(u), "xiangchain_peers_connected") == 2 for u in urls[:3])), "the stop was not seen"
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=15)
        for log in logs:
            log.close()
