"""``python -m bybit_leverage.simulator``: serve a loopback Bybit until Ctrl-C."""

from __future__ import annotations

from bybit_leverage.simulator._command import main

if (
    __name__ == "__main__"
):  # pragma: no cover - run as a program, tested in a subprocess
    raise SystemExit(main())
