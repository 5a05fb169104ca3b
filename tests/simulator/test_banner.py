from __future__ import annotations

import pytest

from bybit_leverage.simulator import Banner, read_banner


def test_read_banner_stops_at_the_last_line_and_refuses_a_short_one() -> None:
    lines = iter(
        [
            "Bybit simulator serving on http://127.0.0.1:9\n",
            "BYBIT_API_KEY=K\n",
            "BYBIT_API_SECRET=S\n",
            "Ctrl-C to stop.\n",
            "later output\n",
        ]
    )
    assert read_banner(lines) == Banner("http://127.0.0.1:9", "K", "S")
    assert next(lines) == "later output\n"
    with pytest.raises(ValueError, match="BYBIT_API_SECRET"):
        read_banner(["Bybit simulator serving on http://x\n", "BYBIT_API_KEY=K\n"])
