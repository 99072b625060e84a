"""Capture an EPCIS 2.0 shipping event for a crab crate and query it back.

    python3 epcis_capture.py http://127.0.0.1:8080 CHAIN_DIR/identities/org0-admin
"""

import sys
import uuid

from xiangchain import Identity, Node, epcis


def main(url: str, identity_dir: str) -> None:
    me = Identity.load(identity_dir)
    node = Node(url)
    epc = f"urn:epc:id:sgtin:0614141.107346.{uuid.uuid4().int % 10**9}"
    event = epcis.object_event([epc], biz_step="shipping", disposition="in_transit", read_point="urn:epc:id:sgln:0614141.00777.0")
    result = node.epcis_capture(me, [event])
    found = list(node.epcis_events(MATCH_epc=[epc]))
    print(f"captured in block {result['height']}; the query finds {len(found)} event(s) for {epc}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
