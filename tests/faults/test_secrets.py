"""Secrets never show: not in logs (at DEBUG), reprs, exception text or CLI output."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from bybit_leverage import BatchJournal, BybitClient, BybitError
from bybit_leverage._aiohttp import AiohttpTransport
from bybit_leverage.cli import run_command
from bybit_leverage.simulator import BybitSimulator
from bybit_leverage.transport import HTTPRequest, HTTPResponse
from tests.faults.harness import symbols_for

pytestmark = [pytest.mark.looptime, pytest.mark.bybit_sim(symbols=200, seed=4)]
FAULTS = ["http_503", "reset_after_write", "truncated", "ret_10006", "http_403"]


class Recording(AiohttpTransport):
    """The real transport, keeping every signature it sent."""

    def __init__(self) -> None:
        super().__init__()
        self.signatures: list[str] = []

    async def send(self, request: HTTPRequest) -> HTTPResponse:
        sign = request.headers.get("X-BAPI-SIGN")
        if sign:
            self.signatures.append(sign)
        return await super().send(request)


def pem_lines(pem: bytes) -> list[str]:
    return [line for line in pem.decode().splitlines() if "-----" not in line]


async def test_no_secret_in_logs_reprs_errors_or_output(
    sim: BybitSimulator,
    rsa_pem: tuple[bytes, bytes],
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    private, public = rsa_pem
    rsa_account = sim.add_account(rsa_public_key=public)
    symbols = symbols_for(sim, 40)
    seen: list[str] = []
    wires: list[Recording] = []
    with caplog.at_level(logging.DEBUG):
        for key, secret in (
            ({"api_secret": sim.api_secret}, sim.api_secret),
            ({"private_key": private}, None),
        ):
            api_key = sim.api_key if secret else rsa_account.api_key
            wire = Recording()
            wires.append(wire)
            journal = BatchJournal(tmp_path / f"{api_key}.jsonl")
            async with BybitClient(
                api_key=api_key, base_url=sim.url, transport=wire, timeout=2.0, **key
            ) as client:
                seen.append(repr(client))
                await client.get_instruments()
                for fault in FAULTS:
                    for endpoint in ("set-leverage", "symbol-info", "account-info"):
                        sim.inject(endpoint, fault, times=2)
                report = await client.set_leverage_many(
                    dict.fromkeys(symbols, 6), journal=journal
                )
                seen += [report.to_json(), str(report), repr(report)]
                seen += [repr(r.error) + str(r.error) for r in report if r.error]
                try:
                    seen.append(repr(await client.get_account()))
                except BybitError as exc:  # the faults may have eaten its reads
                    seen.append(repr(exc) + str(exc))
            journal.close()
            seen.append(journal.path.read_text() if journal.path else "")
        monkeypatch.setenv("BYBIT_API_KEY", sim.api_key)
        monkeypatch.setenv("BYBIT_API_SECRET", sim.api_secret)
        sim.inject("set-leverage", "http_503", times=3)
        for argv in (["set", "--all", "4", "--yes", "--json"], ["plan", "--all", "3"]):
            await run_command([*argv, "--base-url", sim.url], stream=io.StringIO())
    out, err = capsys.readouterr()
    seen += [caplog.text, out, err]
    text = "\n".join(seen)
    assert "retrying" in caplog.text  # DEBUG logging was on, and faults retried
    assert sim.api_secret not in text
    for line in pem_lines(private):
        assert line not in text
    signatures = [s for wire in wires for s in wire.signatures]
    assert len(signatures) > 80
    assert not [s for s in signatures if s in text]
    loaded = serialization.load_pem_private_key(private, password=None)
    assert repr(loaded) not in text
