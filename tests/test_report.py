from __future__ import annotations

import json
from decimal import Decimal

import pytest

from bybit_leverage import (
    BatchFailed,
    BatchPlan,
    BatchReport,
    BybitClient,
    Category,
    LeverageResult,
    Outcome,
    PlannedChange,
    RiskLimitExceeded,
    UnknownSymbol,
)
from bybit_leverage.transport import HTTPRequest, HTTPResponse, MockTransport

D = Decimal


def result(symbol: str, outcome: Outcome, **kw: object) -> LeverageResult:
    return LeverageResult(
        symbol,
        Category.LINEAR,
        outcome,
        D("10"),
        D("10"),
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture
def report() -> BatchReport:
    return BatchReport(
        (
            result(
                "BTCUSDT",
                Outcome.SET,
                applied_buy=D("12.34"),
                applied_sell=D("12.34"),
                adjusted=True,
                attempts=1,
            ),
            result(
                "ETHUSDT", Outcome.UNCHANGED, applied_buy=D("10"), applied_sell=D("10")
            ),
            result(
                "XYZUSDT",
                Outcome.REJECTED,
                error=UnknownSymbol("XYZUSDT", "linear", ("XYZ1USDT",)),
            ),
            result(
                "PEPEUSDT",
                Outcome.FAILED,
                attempts=1,
                error=RiskLimitExceeded(
                    110013, "m [2000]", "/v5/position/set-leverage", D("20")
                ),
            ),
        ),
        requests_sent=3,
        elapsed=1.5,
    )


def test_counts_and_lookup(report: BatchReport) -> None:
    assert report.counts == {
        Outcome.SET: 1,
        Outcome.UNCHANGED: 1,
        Outcome.REJECTED: 1,
        Outcome.FAILED: 1,
    }
    assert len(report) == 4
    assert [r.symbol for r in report] == ["BTCUSDT", "ETHUSDT", "XYZUSDT", "PEPEUSDT"]
    assert report["ethusdt"].outcome is Outcome.UNCHANGED
    with pytest.raises(KeyError):
        report["SOLUSDT"]
    assert not report.ok


def test_raise_for_failures_lists_each_failed_symbol(report: BatchReport) -> None:
    with pytest.raises(BatchFailed) as info:
        report.raise_for_failures()
    assert [symbol for symbol, _ in info.value.failures] == ["XYZUSDT", "PEPEUSDT"]
    assert str(info.value).startswith("2 of 4 symbols failed: XYZUSDT: unknown linear")
    ok = BatchReport(report.results[:2])
    ok.raise_for_failures()  # nothing to raise
    assert ok.ok


def test_json_is_one_document_with_strings_for_decimals(report: BatchReport) -> None:
    doc = json.loads(report.to_json())
    assert doc["counts"] == {"set": 1, "unchanged": 1, "rejected": 1, "failed": 1}
    assert doc["requests_sent"] == 3
    btc, _, xyz, pepe = doc["results"]
    assert btc["applied_buy"] == "12.34"
    assert btc["adjusted"] is True
    assert xyz["error"] == {
        "type": "UnknownSymbol",
        "message": "unknown linear symbol 'XYZUSDT'; did you mean XYZ1USDT?",
    }
    assert pepe["error"]["ret_code"] == 110013


def test_table_has_a_row_per_symbol_and_a_summary(report: BatchReport) -> None:
    lines = str(report).splitlines()
    assert lines[0].split() == [
        "symbol",
        "outcome",
        "requested",
        "applied",
        "adjusted",
        "tries",
        "note",
    ]
    assert lines[1].split()[:6] == ["BTCUSDT", "set", "10", "12.34", "yes", "1"]
    assert "did you mean XYZ1USDT?" in lines[3]
    assert lines[-1] == (
        "4 symbols: 1 set, 1 unchanged, 1 rejected, 1 failed; 3 requests in 1.50s"
    )
    assert BatchReport(()).table().endswith("0 symbols: empty; 0 requests in 0.00s")


def test_a_result_reads_well_as_text(report: BatchReport) -> None:
    assert str(report["BTCUSDT"]) == "BTCUSDT: set 12.34 (asked 10)"
    assert str(report["ETHUSDT"]) == "ETHUSDT: unchanged 10"
    assert str(report["XYZUSDT"]).startswith(
        "XYZUSDT: rejected (asked 10): unknown linear symbol 'XYZUSDT'"
    )


def test_a_plan_is_a_sequence_with_lookup_and_json() -> None:
    changes = (
        PlannedChange("BTCUSDT", Category.LINEAR, Outcome.SET, D(5), D(5), D(5), D(5)),
        PlannedChange(
            "ETHUSDT",
            Category.LINEAR,
            Outcome.REJECTED,
            error=UnknownSymbol("ETHUSDT", "linear"),
        ),
    )
    plan = BatchPlan(changes, requests_sent=1)
    assert len(plan) == 2
    assert plan[0] is changes[0]
    assert plan["ethusdt"] is changes[1]
    with pytest.raises(KeyError):
        plan["SOLUSDT"]
    assert plan.to_send == (changes[0],)
    doc = json.loads(plan.to_json())
    assert doc["counts"] == {"set": 1, "rejected": 1}
    assert doc["plan"][0]["target_buy"] == "5"
    assert "instrument" not in doc["plan"][0]  # never rendered
    assert doc["plan"][1]["error"]["type"] == "UnknownSymbol"
    assert str(plan).splitlines()[-1] == "2 symbols: 1 to set, 1 rejected, 0 adjusted"


async def test_a_mock_transport_takes_async_handlers_and_records_requests() -> None:
    async def handler(request: HTTPRequest) -> HTTPResponse:
        return HTTPResponse.envelope({"list": [], "nextPageCursor": ""})

    wire = MockTransport(handler)
    async with BybitClient(transport=wire) as client:
        assert await client.fetch_instruments() == []
    assert [r.method for r in wire.requests] == ["GET", "GET"]
    assert wire.closed
