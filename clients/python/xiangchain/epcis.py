"""EPCIS 2.0 helpers: documents for capture (contract ``epcis``, method ``capture``,
``docs/epcis.md``) and query parameters of ``GET /v1/epcis/events``."""

from __future__ import annotations

import datetime
from typing import Any, Dict, List, Mapping, Optional, Sequence

CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"


def now() -> str:
    """The current time as EPCIS writes it (UTC, milliseconds, ``Z``)."""
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def object_event(
    epcs: Sequence[str],
    biz_step: Optional[str] = None,
    action: str = "OBSERVE",
    disposition: Optional[str] = None,
    read_point: Optional[str] = None,
    biz_location: Optional[str] = None,
    event_time: Optional[str] = None,
    time_zone: str = "+08:00",
    event_id: Optional[str] = None,
    **extra: Any,
) -> Dict[str, Any]:
    """An ``ObjectEvent`` over ``epcs`` (EPC URIs or GS1 Digital Link URIs). ``biz_step`` and
    ``disposition`` take CBV bare words (``shipping``) or full URIs; ``extra`` adds members as given
    (e.g. ``ilmd``, ``sensorElementList``, extension fields with their prefixes)."""
    event: Dict[str, Any] = {
        "type": "ObjectEvent",
        "eventTime": event_time or now(),
        "eventTimeZoneOffset": time_zone,
        "epcList": list(epcs),
        "action": action,
    }
    if event_id is not None:
        event["eventID"] = event_id
    if biz_step is not None:
        event["bizStep"] = biz_step
    if disposition is not None:
        event["disposition"] = disposition
    if read_point is not None:
        event["readPoint"] = {"id": read_point}
    if biz_location is not None:
        event["bizLocation"] = {"id": biz_location}
    event.update(extra)
    return event


def document(events: Sequence[Mapping[str, Any]], context: Optional[Sequence[Any]] = None) -> Dict[str, Any]:
    """An ``EPCISDocument`` holding ``events`` (at most 500 per document, about 100 KiB in all).
    ``context`` adds ``@context`` entries after the standard one (e.g. ``{"ex": "https://…"}``
    for extension fields)."""
    if not events:
        raise ValueError("an EPCIS document needs at least one event")
    if len(events) > 500:
        raise ValueError("at most 500 events per document")
    return {
        "@context": [CONTEXT, *(context or [])],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": now(),
        "epcisBody": {"eventList": [dict(e) for e in events]},
    }


def query_parameters(**params: Any) -> Dict[str, str]:
    """Query parameters of the EPCIS 2.0 REST binding (``EQ_bizStep``, ``MATCH_epc``,
    ``GE_eventTime``, ``perPage``, …): lists are joined with commas, the rest turned to text."""
    out: Dict[str, str] = {}
    for name, value in params.items():
        if value is None:
            continue
        out[name] = ",".join(str(v) for v in value) if isinstance(value, (list, tuple)) else str(value)
    return out


def events_of(query_document: Mapping[str, Any]) -> List[Dict[str, Any]]:
    """The events of an ``EPCISQueryDocument`` answer."""
    body = query_document.get("epcisBody", {})
    results = body.get("queryResults", {}).get("resultsBody", {})
    return list(results.get("eventList", []))
