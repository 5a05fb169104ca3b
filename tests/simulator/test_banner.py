from __future__ import annotations

import pytest

from bybit_leverage.simulator import Banner, read_banner
from bybit_leverage.simulator._process import banner_lines


def test_the_banner_round_trips() -> None:
    lines = banner_lines("http://127.0.0.1:9", "KEY", "SECRET")
    assert lines[-1] == "# Ctrl-C to stop."
    # Pasted into a shell or saved as a key file: comments and exports only.
    assert all(line.startswith(("# ", "export BYBIT_")) for line in lines)
    assert "export BYBIT_BASE_URL=http://127.0.0.1:9" in lines
    assert read_banner(line + "\n" for line in lines) == Banner(
        "http://127.0.0.1:9", "KEY", "SECRET"
    )
    assert "SECRET" not in repr(read_banner(lines))


def test_read_banner_reads_the_old_banner_and_stops_at_its_end() -> None:
    lines = iter(
        [
            "Bybit simulator serving on http://127.0.0.1:9\n",
            "BYBIT_API_KEY=K\n",
            "BYBIT_API_SECRET='S'\n",
            "OTHER=ignored\n",
            "Ctrl-C to stop.\n",
            "later output\n",
        ]
    )
    assert read_banner(lines) == Banner("http://127.0.0.1:9", "K", "S")
    assert next(lines) == "later output\n"


def test_read_banner_refuses_a_short_one() -> None:
    with pytest.raises(ValueError, match="BYBIT_API_SECRET"):
        read_banner(["Bybit simulator serving on http://x\n", "BYBIT_API_KEY=K\n"])
    with pytest.raises(ValueError, match="BYBIT_BASE_URL"):
        read_banner(["export BYBIT_API_KEY=K\n", "export BYBIT_API_SECRET=S\n"])
