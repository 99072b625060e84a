"""``xiangchain-verify PROOF.json GENESIS.json``: the offline proof check as a command."""

from __future__ import annotations

import sys
from typing import Optional, Sequence

import xiangchain_client as _core


def verify_main(argv: Optional[Sequence[str]] = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    return _core._main(["verify", *args])


if __name__ == "__main__":
    raise SystemExit(verify_main())
