"""The ``xiangchain`` package: installed with pip into a fresh virtual environment and imported
there, its examples run against a real node; the SDK's calls end to end; the suite hook.

Run from the repository root:  python3 -m pytest -q clients/python
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import time
import urllib.error
import uuid
from pathlib import Path
from typing import Iterator

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

import xiangchain
import xiangchain_client as xc
from local_ports import free_block
from test_ops import XIANGCHAIN_BIN, Node as NodeProcess
from xiangchain import epcis, signing

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeProcess]:
    if not XIANGCHAIN_BIN.is_file():
        pytest.skip(f"xiangchain binary not found at {XIANGCHAIN_BIN} (set XIANGCHAIN_BIN)")
    n = NodeProcess(tmp_path_factory.mktemp("sdk") / "chain", {})
    try:
        yield n
    finally:
        n.stop()


def issue(chain: NodeProcess, role: str, name: str) -> xiangchain.Identity:
    root = chain.home.parent.parent
    subprocess.run(
        [str(XIANGCHAIN_BIN), "identity", "issue", "--dir", str(root), "--org", "org0", "--role", role, "--name", name],
        check=True, capture_output=True,
    )
    return xiangchain.Identity.load(str(root / "identities" / name))


def test_pip_installs_the_package_into_a_fresh_venv(tmp_path: Path, chain: NodeProcess) -> None:
    # A copy of the sources, so that the build leaves nothing in the repository.
    source = tmp_path / "src"
    shutil.copytree(HERE, source, ignore=shutil.ignore_patterns("test_*.py", "__pycache__", "build", "*.egg-info", ".pytest_cache"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    python = venv / "bin" / "python"
    # No index: the build and the dependency (cryptography) come from this machine.
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-build-isolation", "--no-index", str(source)],
        capture_output=True, text=True,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    probe = subprocess.run(
        [str(python), "-c", "import json, xiangchain, xiangchain_client; print(json.dumps([xiangchain.__file__, "
         "xiangchain_client.__file__, xiangchain.__version__, xiangchain.suites()]))"],
        capture_output=True, text=True, cwd=tmp_path, check=True,
    )
    package, core, version, suites = json.loads(probe.stdout)
    assert package.startswith(str(venv)) and core.startswith(str(venv))
    assert version == xiangchain.__version__
    assert suites == ["ed25519", "p256"]
    assert (venv / "bin" / "xiangchain-verify").is_file()

    # The examples, run by the installed package against the node.
    identity = str(chain.home.parent.parent / "identities" / "org0-admin")
    sample = tmp_path / "contract.pdf"
    sample.write_bytes(uuid.uuid4().bytes * 100)
    run = subprocess.run(
        [str(python), str(source / "examples" / "submit_evidence.py"), chain.url, identity, str(sample)],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert hashlib.sha256(sample.read_bytes()).hexdigest() in run.stdout and "notarised in block" in run.stdout
    txid = run.stdout.strip().rsplit("(tx ", 1)[1].rstrip(")")
    run = subprocess.run(
        [str(python), str(source / "examples" / "verify_proof.py"), chain.url, txid, str(chain.home / "genesis.json")],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )
    assert run.returncode == 0 and run.stdout.startswith("OK: "), run.stdout + run.stderr
    proof = tmp_path / "proof.json"
    proof.write_text(json.dumps(chain.api.proof(txid)))
    run = subprocess.run(
        [str(venv / "bin" / "xiangchain-verify"), str(proof), str(chain.home / "genesis.json")],
        capture_output=True, text=True, timeout=60,
    )
    assert run.returncode == 0 and run.stdout.startswith("OK: "), run.stdout + run.stderr
    run = subprocess.run(
        [str(python), str(source / "examples" / "epcis_capture.py"), chain.url, identity],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "the query finds 1 event(s)" in run.stdout


def test_submit_and_wait_proofs_and_failures(chain: NodeProcess) -> None:
    node = xiangchain.Node(chain.url, request_id_prefix="sdk")
    args = {"hash": hashlib.sha256(uuid.uuid4().bytes).hexdigest(), "kind": "doc", "meta": {"by": "sdk"}}
    result = node.submit_and_wait(chain.admin, "evidence", "put", args)
    assert result["status"] == "committed" and result["height"] >= 1
    assert node.last_request_id and node.last_request_id.startswith("sdk-")
    report = node.verified_proof(result["txid"], genesis=json.loads((chain.home / "genesis.json").read_text()))
    assert report.txid == result["txid"] and report.signatures_checked and report.valid_signers == ["node0"]
    assert node.evidence(args["hash"])["kind"] == "doc"
    # The same evidence again is a new transaction whose execution fails: TransactionFailed with the code.
    with pytest.raises(xiangchain.TransactionFailed) as failed:
        node.submit_and_wait(chain.admin, "evidence", "put", args)
    assert failed.value.code and failed.value.result["status"] == "failed"
    # Resubmitting the very same signed transaction is refused at admission.
    tx = node.transaction(chain.admin, "evidence", "put", {**args, "hash": hashlib.sha256(b"x" + uuid.uuid4().bytes).hexdigest()})
    assert node.submit(tx)["txid"] == tx.txid
    assert node.wait(tx.txid)["status"] == "committed"
    with pytest.raises(xiangchain.APIError) as dup:
        node.submit(tx)
    assert dup.value.code == "duplicate_tx"
    with pytest.raises(xiangchain.WaitTimeout):
        node.wait("00" * 32, timeout=0.3, poll=0.1)


def test_a_transaction_no_block_takes_raises_tx_expired(tmp_path: Path) -> None:
    """One validator of four started alone: no block can take anything. A transaction admitted five
    seconds before its timestamp leaves the tolerance stays pending while the node is cut off (it
    cannot tell whether a block it never saw holds it). Once the other three are up and the chain
    commits past the deadline, the node drops it and the clients raise ``APIError`` with code
    ``tx_expired`` (HTTP 410) at once instead of waiting out their timeout (before: 404 until the
    timeout)."""
    if not XIANGCHAIN_BIN.is_file():
        pytest.skip(f"xiangchain binary not found at {XIANGCHAIN_BIN} (set XIANGCHAIN_BIN)")
    root = tmp_path / "net"
    base = free_block(4)
    subprocess.run(
        [str(XIANGCHAIN_BIN), "init", "--dir", str(root), "--orgs", "org0,org1,org2,org3", "--chain-id", "expiry-py",
         "--base-port", str(base)],
        check=True, capture_output=True,
    )
    for k in range(4):
        path = root / "nodes" / str(k) / "config.json"
        config = json.loads(path.read_text())
        config.update({"consensusTimeoutMs": 1000, "emptyBlockDelayMs": 200})
        path.write_text(json.dumps(config))
    home = root / "nodes" / "0"
    tolerance = int(json.loads((home / "config.json").read_text()).get("timestampToleranceMs", 600_000))
    procs = []
    logs = []

    def start(k: int) -> None:
        log = open(tmp_path / f"node{k}.log", "wb")
        logs.append(log)
        procs.append(subprocess.Popen([str(XIANGCHAIN_BIN), "node", "--home", str(root / "nodes" / str(k))],
                                      stdout=log, stderr=subprocess.STDOUT))

    try:
        start(0)
        url = f"http://127.0.0.1:{base}"
        node = xiangchain.Node(url)
        deadline = time.monotonic() + 60
        while True:
            assert procs[0].poll() is None, (tmp_path / "node0.log").read_text()
            try:
                node.status()
                break
            except (urllib.error.URLError, ConnectionError, OSError):
                assert time.monotonic() < deadline, (tmp_path / "node0.log").read_text()
                time.sleep(0.1)
        signer = xiangchain.Identity.load(str(root / "identities" / "org1-admin"))
        args = {"hash": hashlib.sha256(uuid.uuid4().bytes).hexdigest(), "kind": "doc", "meta": {}}
        tx = node.transaction(signer, "evidence", "put", args, timestamp=int(time.time() * 1000) - tolerance + 5_000)
        assert node.submit(tx)["txid"] == tx.txid
        assert node.get(f"/v1/txs/{tx.txid}")["status"] == "pending"
        # Cut off, past the deadline, the report's margin and a sweep or two: still pending.
        time.sleep(10)
        assert node.get(f"/v1/txs/{tx.txid}")["status"] == "pending"
        for k in range(1, 4):
            start(k)
        started = time.monotonic()
        with pytest.raises(xiangchain.APIError) as polled:
            node.wait(tx.txid, timeout=120)
        assert (polled.value.status, polled.value.code) == (410, "tx_expired"), polled.value
        assert time.monotonic() - started < 120
        with pytest.raises(xc.APIError) as looked:
            xc.Client(url).transaction(tx.txid)
        assert (looked.value.status, looked.value.code) == (410, "tx_expired")
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=15)
        for log in logs:
            log.close()


def test_signed_requests(chain: NodeProcess) -> None:
    node = xiangchain.Node(chain.url)
    regulator = issue(chain, "regulator", "sdk-regulator")
    farm = issue(chain, "farm", "sdk-farm")
    status, _, alerts = node.signed(regulator, "GET", "/v1/crab/alerts")
    assert status == 200 and isinstance(alerts, dict)
    with pytest.raises(xiangchain.APIError) as refused:
        node.signed(farm, "GET", "/v1/crab/alerts")
    assert refused.value.code == "forbidden"
    with pytest.raises(xiangchain.APIError) as unsigned:
        node.get("/v1/crab/alerts")
    assert unsigned.value.status == 401


def test_epcis_capture_and_query(chain: NodeProcess) -> None:
    node = xiangchain.Node(chain.url)
    epcs = [f"urn:epc:id:sgtin:0614141.107346.{uuid.uuid4().int % 10**9}" for _ in range(3)]
    events = [epcis.object_event([e], biz_step="receiving", disposition="in_progress") for e in epcs]
    result = node.epcis_capture(chain.admin, epcis.document(events))
    assert result["status"] == "committed"
    found = list(node.epcis_events(MATCH_epc=epcs, perPage=2))  # two pages
    assert sorted(e["epcList"][0] for e in found) == sorted(epcs)
    doc, token = node.epcis_query(MATCH_epc=epcs[0])
    assert token is None and [e["epcList"] for e in epcis.events_of(doc)] == [[epcs[0]]]
    # Capturing the same events again fails as duplicates.
    with pytest.raises(xiangchain.TransactionFailed) as dup:
        node.epcis_capture(chain.admin, events)
    assert dup.value.code == "epcis_duplicate"
    with pytest.raises(xiangchain.APIError) as bad:
        node.epcis_query(perPage=0)
    assert bad.value.status == 400


def test_suites_sign_and_verify_and_the_hook_for_more() -> None:
    message = b"body bytes"
    for key in (ed25519.Ed25519PrivateKey.generate(), ec.generate_private_key(ec.SECP256R1())):
        suite = signing.suite_of(key)
        signature = signing.sign(key, message)
        assert signing.verify(key.public_key(), signature, message)
        assert not signing.verify(key.public_key(), signature, message + b"!")
        assert suite in ("ed25519", "p256")

    class ToyKey:
        secret = b"k"

    calls = []

    def toy_sign(key: ToyKey, msg: bytes) -> bytes:
        calls.append(msg)
        return hashlib.sha256(key.secret + msg).digest()

    signing.register_suite(
        "toy", lambda k: isinstance(k, ToyKey), toy_sign, lambda k, s, m: s == hashlib.sha256(k.secret + m).digest()
    )
    try:
        assert signing.suite_of(ToyKey()) == "toy"
        assert signing.verify(ToyKey(), signing.sign(ToyKey(), message), message)
        assert calls == [message]
        with pytest.raises(ValueError):
            signing.register_suite("not a name", lambda k: False, toy_sign, lambda k, s, m: False)
    finally:
        signing._SUITES.pop("toy")
    with pytest.raises(ValueError):
        signing.suite_of(object())
