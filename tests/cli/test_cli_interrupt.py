"""Ctrl-C during ``set`` (a real SIGINT to a real process): what it prints is true."""

from __future__ import annotations

import asyncio
import os
import pty
import re
import signal
import sys
import time
from decimal import Decimal

from bybit_leverage import BybitClient, Category
from bybit_leverage.simulator import Banner, spawn

TARGET = Decimal(5)


def listed(text: str, label: str) -> set[str]:
    match = re.search(rf"^{re.escape(label)} \(\d+\): (.*)$", text, re.MULTILINE)
    return set(match.group(1).split(", ")) if match else set()


async def held(banner: Banner) -> dict[str, Decimal | None]:
    async with BybitClient(
        api_key=banner.api_key, api_secret=banner.api_secret, base_url=banner.url
    ) as client:
        found = await client.fetch_position_leverage(Category.LINEAR)
    return {symbol: position.buy for symbol, position in found.items()}


def environment(banner: Banner) -> dict[str, str]:
    return {
        **os.environ,
        "BYBIT_API_KEY": banner.api_key,
        "BYBIT_API_SECRET": banner.api_secret,
        "BYBIT_BASE_URL": banner.url,
    }


SET_ALL = [sys.executable, "-m", "bybit_leverage", "set", "--all", "5"]


async def run_cli(banner: Banner, *cuts: float) -> tuple[int | None, str, str]:
    """Run ``set --all 5 --yes``; once writes are answered, Ctrl-C after each delay.

    The first progress line on stderr says the first writes were answered; the
    next ones are then on the wire (answers take the simulator's latency).
    """
    process = await asyncio.create_subprocess_exec(
        *SET_ALL,
        "--yes",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=environment(banner),
    )
    assert process.stderr is not None
    head = await asyncio.wait_for(process.stderr.readline(), 60)
    assert b"setting leverage:" in head, head
    for cut in cuts:
        await asyncio.sleep(cut)
        process.send_signal(signal.SIGINT)
    out, err = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode, out.decode(), head.decode() + err.decode()


async def test_ctrl_c_names_every_change_and_exits_130() -> None:
    with spawn(symbols=120, latency_ms=500) as banner:
        before = await held(banner)
        code, out, err = await run_cli(banner, 0.5)
        after_state = await held(banner)
    assert code == 130, err
    assert "interrupted: nothing more is sent" in err
    assert "Traceback" not in err
    changed = listed(out, "changed")
    unknown = listed(out, "unknown (sent, not read back: check them)")
    never = listed(out, "never sent")
    not_changed = listed(out, "not changed")
    moved = {s for s, value in after_state.items() if value != before.get(s)}
    assert moved, "the cut came after some writes"
    assert moved == changed  # every change named, and nothing else
    assert not unknown  # all read back
    assert all(after_state[s] == TARGET for s in changed)
    assert all(after_state[s] != TARGET for s in never | not_changed)
    assert never, "the cut came before the end"


async def test_a_second_ctrl_c_skips_the_read_back_and_names_the_unknown() -> None:
    with spawn(symbols=120, latency_ms=800) as banner:
        before = await held(banner)
        # The second Ctrl-C comes while the read-back is under way.
        code, out, err = await run_cli(banner, 0.6, 0.3)
        await asyncio.sleep(2)  # requests the server took meanwhile land
        after_state = await held(banner)
    assert code == 130, err
    assert "read-back skipped (Ctrl-C)" in err
    changed = listed(out, "changed")
    unknown = listed(out, "unknown (sent, not read back: check them)")
    moved = {s for s, value in after_state.items() if value != before.get(s)}
    assert changed <= moved  # what is claimed changed, did
    assert moved <= changed | unknown  # and nothing changed unnamed
    assert unknown, "requests were in flight at the cut"


async def test_ctrl_c_at_the_prompt_sends_nothing() -> None:
    with spawn(symbols=40) as banner:
        before = await held(banner)
        main, terminal = pty.openpty()
        process = await asyncio.create_subprocess_exec(
            *SET_ALL,
            stdin=terminal,
            stdout=terminal,
            stderr=asyncio.subprocess.PIPE,
            env=environment(banner),
        )
        os.close(terminal)
        seen = b""
        deadline = time.monotonic() + 30
        while b"[y/N]" not in seen and time.monotonic() < deadline:
            seen += await asyncio.to_thread(os.read, main, 4096)
        process.send_signal(signal.SIGINT)
        _, raw_err = await asyncio.wait_for(process.communicate(), 30)
        err = raw_err.decode()
        os.close(main)
        after_state = await held(banner)
    assert b"Set leverage on" in seen
    assert process.returncode == 130
    assert "interrupted at the prompt: nothing was sent" in err
    assert after_state == before
