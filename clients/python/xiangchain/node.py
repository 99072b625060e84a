"""``Node``: one node's API at a higher level than ``xiangchain_client.Client``."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from typing import Any, Dict, Iterator, Mapping, Optional, Tuple

import xiangchain_client as _core

from . import epcis as _epcis
from . import signing


class TransactionFailed(Exception):
    """A committed transaction whose execution failed; ``result`` is the node's answer."""

    def __init__(self, result: Mapping[str, Any]):
        err = result.get("error") or {}
        super().__init__(f"transaction {result.get('txid')} failed: {err.get('code')}: {err.get('message')}")
        self.result = dict(result)
        self.code = err.get("code")


class WaitTimeout(Exception):
    """The transaction was not committed within the wait."""


class Node:
    """A node's API: transactions built, signed and waited for; proofs checked against the
    genesis; signed requests; EPCIS capture and query. ``url`` is the API base
    (``http://127.0.0.1:8080``); HTTPS works as urllib's default context allows (pass ``context``
    for a private CA)."""

    def __init__(self, url: str, timeout: float = 60.0, context: Any = None, request_id_prefix: Optional[str] = None):
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.context = context
        self.request_id_prefix = request_id_prefix
        self.client = _core.Client(self.url, timeout=timeout)
        self._status: Optional[Dict[str, Any]] = None
        self.last_request_id: Optional[str] = None

    # -- plumbing ---------------------------------------------------------------------------

    def request(
        self,
        method: str,
        target: str,
        payload: Optional[Any] = None,
        headers: Optional[Mapping[str, str]] = None,
    ) -> Tuple[int, Dict[str, str], Any]:
        """Sends ``method target`` (path with query) with an optional JSON ``payload`` (an object,
        or bytes sent as they are); returns (status, headers, parsed JSON) for 2xx and raises
        :class:`xiangchain.APIError` otherwise. Each request carries an ``X-Request-Id`` (kept in
        ``last_request_id``), which the node returns and logs."""
        body = payload if isinstance(payload, (bytes, bytearray)) or payload is None else json.dumps(payload).encode()
        h = {"Accept": "application/json"}
        if body is not None:
            h["Content-Type"] = "application/json"
        if self.request_id_prefix is not None:
            h["X-Request-Id"] = f"{self.request_id_prefix}-{uuid.uuid4().hex[:16]}"
        h.update(headers or {})
        req = urllib.request.Request(self.url + target, data=body, method=method.upper(), headers=h)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout, context=self.context) as resp:
                raw = resp.read()
                self.last_request_id = resp.headers.get("X-Request-Id")
                return resp.status, dict(resp.headers.items()), (json.loads(raw) if raw else None)
        except urllib.error.HTTPError as e:
            raw = e.read()
            self.last_request_id = e.headers.get("X-Request-Id")
            try:
                err = json.loads(raw)["error"]
                code, message = str(err["code"]), str(err["message"])
            except (ValueError, KeyError, TypeError):
                code, message = f"http_{e.code}", raw.decode("utf-8", "replace")
            raise _core.APIError(e.code, code, message) from None

    def get(self, target: str) -> Any:
        return self.request("GET", target)[2]

    # -- chain --------------------------------------------------------------------------------

    def status(self, refresh: bool = True) -> Dict[str, Any]:
        """``GET /v1/status`` (kept for the chain and node ids of signed transactions and requests)."""
        if refresh or self._status is None:
            self._status = self.get("/v1/status")
        return self._status

    @property
    def chain_id(self) -> str:
        return str(self.status(refresh=False)["chainId"])

    @property
    def node_id(self) -> str:
        return str(self.status(refresh=False)["nodeId"])

    def genesis(self) -> Dict[str, Any]:
        return self.get("/v1/genesis")

    # -- transactions -------------------------------------------------------------------------

    def transaction(
        self, identity: _core.Identity, contract: str, method: str, args: Mapping[str, Any], **kw: Any
    ) -> _core.SignedTransaction:
        """A transaction of this node's chain, signed by ``identity`` (any registered suite)."""
        body = _core.build_body(self.chain_id, contract, method, args, **kw)
        return _core.SignedTransaction(
            body=body, signature=signing.sign(identity.private_key, body), signer_pem=identity.certificate_pem
        )

    def submit(self, tx: _core.SignedTransaction) -> Dict[str, Any]:
        """``POST /v1/txs`` without waiting: ``{"txid"}`` once admitted."""
        return self.request("POST", "/v1/txs", tx.envelope())[2]

    def wait(self, txid: str, timeout: float = 30.0, poll: float = 0.2) -> Dict[str, Any]:
        """Polls ``GET /v1/txs/{txid}`` until the transaction is committed (or failed);
        :class:`WaitTimeout` after ``timeout`` seconds. A transaction the node dropped because it
        waited past the timestamp tolerance raises :class:`xiangchain.APIError` at once (status
        410, code ``tx_expired``: sign it again with a new timestamp)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                answer = self.get(f"/v1/txs/{txid}")
                if answer.get("status") in ("committed", "failed"):
                    return answer
            except _core.APIError as e:
                if e.status != 404:
                    raise
            if time.monotonic() >= deadline:
                raise WaitTimeout(f"transaction {txid} not committed within {timeout} s")
            time.sleep(poll)

    def submit_and_wait(
        self,
        identity_or_tx: Any,
        contract: Optional[str] = None,
        method: Optional[str] = None,
        args: Optional[Mapping[str, Any]] = None,
        timeout: float = 30.0,
        check: bool = True,
        **kw: Any,
    ) -> Dict[str, Any]:
        """Submits a signed transaction (or builds one: ``identity, contract, method, args``) with
        ``wait=commit`` and returns ``{txid, status, height, index, error?}`` once committed; polls
        past the node's own wait. With ``check``, a failed execution raises :class:`TransactionFailed`."""
        if isinstance(identity_or_tx, _core.SignedTransaction):
            tx = identity_or_tx
        else:
            if contract is None or method is None:
                raise ValueError("give a signed transaction, or an identity with contract, method and args")
            tx = self.transaction(identity_or_tx, contract, method, args or {}, **kw)
        ms = max(1, int(timeout * 1000))
        status, _, answer = self.request("POST", f"/v1/txs?wait=commit&timeout={ms}", tx.envelope())
        if status == 202 or answer.get("status") == "pending":
            answer = self.wait(tx.txid, timeout=timeout)
        if check and answer.get("status") == "failed":
            raise TransactionFailed(answer)
        return answer

    def proof(self, txid: str) -> Dict[str, Any]:
        """``GET /v1/txs/{txid}/proof``."""
        return self.get(f"/v1/txs/{txid}/proof")

    def verified_proof(
        self, txid: str, genesis: Optional[Mapping[str, Any]] = None, body: Optional[bytes] = None
    ) -> _core.ProofReport:
        """The proof of ``txid`` checked offline (``xiangchain.verify_proof``): against ``genesis``
        when given (a copy you trust), else against the node's own ``GET /v1/genesis``."""
        return _core.verify_proof(self.proof(txid), genesis if genesis is not None else self.genesis(), body=body)

    # -- signed requests (docs/api-auth.md) --------------------------------------------------

    def signed(
        self, identity: _core.Identity, method: str, target: str, payload: Optional[Any] = None
    ) -> Tuple[int, Dict[str, str], Any]:
        """A request signed by ``identity`` for this node (the regulator's and association's
        routes); ``target`` is the path with its query exactly as sent."""
        headers = _core.signed_request_headers(identity, method, target, self.chain_id, self.node_id)
        return self.request(method, target, payload, headers)

    # -- EPCIS -------------------------------------------------------------------------------

    def epcis_capture(
        self, identity: _core.Identity, document_or_events: Any, timeout: float = 30.0, check: bool = True
    ) -> Dict[str, Any]:
        """Captures an EPCIS document (or a list of events, wrapped in one) through the ``epcis``
        contract and waits for the commit."""
        doc = (
            _epcis.document(document_or_events)
            if isinstance(document_or_events, (list, tuple))
            else dict(document_or_events)
        )
        return self.submit_and_wait(identity, "epcis", "capture", {"document": doc}, timeout=timeout, check=check)

    def epcis_query(self, **params: Any) -> Tuple[Dict[str, Any], Optional[str]]:
        """One page of ``GET /v1/epcis/events``: the ``EPCISQueryDocument`` and the next page's token."""
        query = urllib.parse.urlencode(_epcis.query_parameters(**params))
        _, headers, doc = self.request("GET", "/v1/epcis/events" + ("?" + query if query else ""))
        return doc, headers.get("GS1-Next-Page-Token")

    def epcis_events(self, **params: Any) -> Iterator[Dict[str, Any]]:
        """Every event matching ``params``, page after page."""
        token: Optional[str] = None
        while True:
            doc, token = self.epcis_query(**params, **({"nextPageToken": token} if token else {}))
            yield from _epcis.events_of(doc)
            if not token:
                return

    def evidence(self, digest: str) -> Dict[str, Any]:
        """``GET /v1/evidence/{hash}``."""
        return self.get(f"/v1/evidence/{digest}")


