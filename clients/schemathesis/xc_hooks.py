"""Schemathesis checks of XiangChain's own rules (loaded by scripts/api-fuzz through
SCHEMATHESIS_HOOKS): every refusal has the documented error shape, with a code of the
catalogue (docs/errors.md) and the status of that code's kind; 503 and 429 carry Retry-After."""

import json
import pathlib
import re

import schemathesis

ROOT = pathlib.Path(__file__).resolve().parents[2]
# `| `code` | status | meaning |` rows of the catalogue.
CODES = {
    m.group(1): int(m.group(2))
    for m in re.finditer(r"^\| `([a-z0-9_]+)` \| (\d{3}) \|", (ROOT / "docs" / "errors.md").read_text(), re.M)
}


def _header(response, name):
    value = response.headers.get(name) or response.headers.get(name.lower())
    if isinstance(value, list):
        return value[0] if value else None
    return value


@schemathesis.check
def documented_error_shape(ctx, response, case):
    """A 4xx/5xx answer is {"error": {"code", "message"}} with a catalogued code and its status."""
    status = response.status_code
    if status < 400:
        return None
    content_type = _header(response, "content-type") or ""
    # The GS1 EPCIS routes answer RFC 7807 problems (application/problem+json) that carry the
    # same `error` object; every other route answers application/json.
    path = getattr(getattr(case, "operation", None), "path", "") or ""
    allowed = ("application/json", "application/problem+json") if path.startswith("/v1/epcis") else ("application/json",)
    assert content_type.startswith(allowed), f"{status} answered with content type {content_type!r}"
    try:
        body = json.loads(response.content)
    except ValueError as e:
        raise AssertionError(f"{status} answered with a body that is not JSON: {e}") from None
    # Other members may accompany it (`retryAfter`); clients ignore members they do not know.
    assert isinstance(body, dict) and "error" in body, f"{status} body is not {{\"error\": …}}: {body!r:.200}"
    error = body["error"]
    assert isinstance(error, dict), f"error is not an object: {error!r:.200}"
    code, message = error.get("code"), error.get("message")
    assert isinstance(code, str) and re.fullmatch(r"[a-z0-9_]+", code), f"error code {code!r} is not snake_case"
    assert isinstance(message, str) and message, f"error message {message!r} is empty or not a string"
    if code in CODES:
        assert CODES[code] == status, f"code {code} answered with {status}, documented as {CODES[code]}"
    else:
        # Codes outside the catalogue only come from contracts (kind `rejected`).
        assert status == 422, f"code {code} is not in docs/errors.md (answered with {status})"
    if status in (429, 503):
        assert _header(response, "retry-after"), f"{status} ({code}) without Retry-After"
    return None
