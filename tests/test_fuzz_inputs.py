"""Hostile leverage values: typed outcomes only, and every outcome renders."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from bybit_leverage import (
    BatchPlan,
    BybitClient,
    BybitError,
    Category,
    ConfigurationError,
    ContractType,
    DuplicateSymbol,
    Instrument,
    InstrumentStatus,
    InvalidLeverage,
    LeverageFilter,
    LeverageRequest,
    LeverageResult,
    Limits,
    Outcome,
    PlannedChange,
    SnapPolicy,
    TargetError,
    format_leverage,
)
from bybit_leverage import _constants as c
from bybit_leverage._plan import Facts, plan_symbol
from bybit_leverage.transport import HTTPRequest, HTTPResponse, MockTransport
from tests.fakebybit import instrument_item

D = Decimal
ETH = Instrument(
    "ETHUSDT",
    Category.LINEAR,
    InstrumentStatus.TRADING,
    ContractType.LINEAR_PERPETUAL,
    "ETH",
    "USDT",
    "USDT",
    datetime(2020, 1, 1, tzinfo=UTC),
    LeverageFilter(D(1), D(25), D("0.01")),
)


def plan(request: LeverageRequest, policy: SnapPolicy) -> PlannedChange:
    return plan_symbol(
        request,
        Facts(ETH),
        category=Category.LINEAR,
        policy=policy,
        skip_at_target=False,
    )


def rendered(change: PlannedChange) -> str:
    batch = BatchPlan((change,))
    return batch.to_json() + batch.table() + str(change.error)


@pytest.mark.parametrize(
    ("request_", "policy", "shown", "reason"),
    [
        # repr() of this int raised ValueError (Python's int-to-str digit
        # limit), so the whole batch raised instead of rejecting one symbol.
        (
            LeverageRequest("ETHUSDT", -(10**5000)),
            SnapPolicy.DOWN,
            "<int of 16610 bits>",
            "must be positive",
        ),
        # Accepted (trailing zeros), then off the grid: the STRICT error showed
        # all 5,000 characters.
        (
            LeverageRequest("ETHUSDT", "10.001" + "0" * 5000),
            SnapPolicy.STRICT,
            f"'10.001{'0' * 34}'…",
            "not on the step grid",
        ),
        (
            LeverageRequest("ETHUSDT", "1" * 5000, buy=1, sell=1),
            SnapPolicy.DOWN,
            f"'{'1' * 40}'…",
            "give either leverage or buy/sell",
        ),
        (
            LeverageRequest("ETHUSDT", buy=10**5000),
            SnapPolicy.DOWN,
            "<int of 16610 bits>",
            "give leverage, or both buy and sell",
        ),
    ],
)
def test_a_hostile_value_rejects_its_symbol_and_is_shown_cut_short(
    request_: LeverageRequest, policy: SnapPolicy, shown: str, reason: str
) -> None:
    change = plan(request_, policy)
    assert change.action is Outcome.REJECTED
    assert isinstance(change.error, InvalidLeverage)
    assert change.error.value == shown
    assert reason in change.error.reason
    assert len(rendered(change)) < 1000


# -- the client's public methods, fed anything ------------------------------------

NOW = 1_700_000_000_000


def answer(request: HTTPRequest) -> HTTPResponse:
    """A Bybit with two USDT perpetuals, an isolated-margin account, hedge mode."""
    path = request.path
    if path == c.PATH_SERVER_TIME:
        return HTTPResponse.envelope(time_ms=NOW)
    if path == c.PATH_INSTRUMENTS:
        listed = [
            instrument_item("BTCUSDT"),
            instrument_item("PEPEUSDT", max_leverage="12.50"),
        ]
        shown = [] if "PreLaunch" in request.url else listed
        return HTTPResponse.envelope({"list": shown, "nextPageCursor": ""})
    if path == c.PATH_ACCOUNT_INFO:
        return HTTPResponse.envelope(
            {"marginMode": "ISOLATED_MARGIN", "unifiedMarginStatus": 5}
        )
    if path == c.PATH_KEY_INFO:
        return HTTPResponse.envelope(
            {"userID": 1, "readOnly": 0, "permissions": {"ContractTrade": ["Position"]}}
        )
    if path == c.PATH_SYMBOL_INFO:
        rows = [
            {"symbol": symbol, "leverage": "10", "side": "", "positionIdx": idx}
            for symbol in ("BTCUSDT", "PEPEUSDT")
            for idx in (1, 2)
        ]
        return HTTPResponse.envelope({"list": rows})
    if path == c.PATH_POSITION_LIST:
        return HTTPResponse.envelope({"list": [], "nextPageCursor": ""})
    if path == c.PATH_SET_LEVERAGE:
        return HTTPResponse.envelope()
    return HTTPResponse(404, b"not found")


def fuzz_client() -> tuple[BybitClient, MockTransport]:
    wire = MockTransport(answer)
    client = BybitClient(
        api_key="k",
        api_secret="s",
        now_ms=lambda: NOW,
        transport=wire,
        limits=Limits.OFF,  # nothing to pace: the mock answers at once
    )
    return client, wire


def huge_decimal(sign: int, digits: list[int], exponent: int) -> Decimal:
    return Decimal((sign, tuple(digits), exponent))


#: Anything a caller without a type checker could pass as a leverage.
anything = st.one_of(
    st.sampled_from(["10", 10, 12.5, D("25"), "1e9", "0.5", " 7.77 ", "12.345"]),
    st.text(max_size=12),
    st.from_regex(r"\A[+-]?[0-9]{0,70}\.?[0-9]{1,70}([eE][+-]?[0-9]{1,5})?\Z"),
    st.integers(),
    # Built when drawn: hypothesis itself cannot repr() a 5,000-digit constant.
    st.sampled_from([-1, 1]).map(lambda sign: sign * 10**5000),
    st.floats(),
    st.decimals(),  # NaN, sNaN and the infinities included
    st.builds(
        huge_decimal,
        st.integers(0, 1),
        st.lists(st.integers(0, 9), min_size=1, max_size=150),
        st.integers(-(10**17), 10**17),  # inside what Decimal can hold
    ),
    st.booleans(),
    st.none(),
    st.builds(object),
    st.lists(st.integers(), max_size=2),
)
# Valid values half the time, so that requests are sent too.
values = st.one_of(
    st.sampled_from(["10", 10, 12.5, D("25"), "1e9", "0.5", " 7.77 ", "12.345"]),
    anything,
)
# A signaling NaN on both sides of a hedge request trips _planner (see below).
quiet = values.filter(lambda v: not (isinstance(v, Decimal) and v.is_snan()))
listed = st.sampled_from(["BTCUSDT", "PEPEUSDT", "NOPEUSDT"])
odd = st.sampled_from(["btcusdt", " ", ""]) | st.integers()
# Mostly names (one unknown); one in ten a duplicate, a blank or not a string.
symbols = st.integers(0, 9).flatmap(lambda roll: odd if roll == 0 else listed)
requests = st.one_of(
    st.builds(LeverageRequest, symbols, values),
    st.builds(LeverageRequest, symbols, buy=quiet, sell=quiet),
    st.builds(
        LeverageRequest,
        symbols,
        st.none() | quiet,
        st.none() | quiet,
        st.none() | quiet,
    ),
)
targets = st.one_of(
    st.dictionaries(symbols, values, max_size=3),
    st.lists(requests, max_size=3),
)
#: What a batch may raise instead of returning one result per symbol.
DOCUMENTED = (TargetError, DuplicateSymbol, ConfigurationError)


def check_change(item: PlannedChange | LeverageResult) -> None:
    """A typed error where it went wrong, and a short rendering."""
    outcome = item.outcome if isinstance(item, LeverageResult) else item.action
    assert outcome in set(Outcome)
    event(f"{type(item).__name__}: {outcome.value}")  # --hypothesis-show-statistics
    if outcome in (Outcome.REJECTED, Outcome.FAILED):
        assert isinstance(item.error, BybitError)
    else:
        assert item.error is None or isinstance(item.error, BybitError)
    assert len(str(item)) < 1000


def check_sent(wire: MockTransport) -> None:
    """Every set-leverage body holds plain decimals on the grid, in range."""
    for request in wire.requests:
        if request.path != c.PATH_SET_LEVERAGE:
            continue
        body = json.loads(request.body or "")
        top = D("12.5") if body["symbol"] == "PEPEUSDT" else D(100)
        for side in ("buyLeverage", "sellLeverage"):
            value = D(body[side])
            assert format_leverage(value) == body[side]
            assert 1 <= value <= top
            assert value * 100 == int(value * 100)


@settings(max_examples=60, deadline=None)
@given(targets, st.sampled_from(list(SnapPolicy)))
async def test_batches_of_anything_end_in_typed_outcomes(
    batch: Any, policy: SnapPolicy
) -> None:
    client, wire = fuzz_client()
    async with client:
        try:
            plan = await client.plan_leverage_many(batch, policy=policy)
        except DOCUMENTED as exc:
            event(f"raised {type(exc).__name__}")
            return
        event(f"{len(plan)} symbols")
        for change in plan:
            check_change(change)
        assert len(plan.to_json() + plan.table()) < 4000
        report = await client.set_leverage_many(batch, policy=policy)
    assert len(report) == len(plan)
    for result in report:
        check_change(result)
    assert len(report.to_json() + report.table()) < 4000
    check_sent(wire)


@settings(max_examples=60, deadline=None)
@given(requests, st.sampled_from(list(SnapPolicy)))
async def test_set_leverage_of_anything_ends_in_a_typed_outcome(
    request: LeverageRequest, policy: SnapPolicy
) -> None:
    client, wire = fuzz_client()
    leverage, buy, sell = request.leverage, request.buy, request.sell
    async with client:
        result = await client.set_leverage(
            "PEPEUSDT", leverage, buy=buy, sell=sell, policy=policy
        )
        with pytest.raises(TargetError):
            await client.set_leverage(None, leverage)  # type: ignore[arg-type]
    check_change(result)
    check_sent(wire)


async def test_a_signaling_nan_on_both_sides_is_rejected() -> None:
    client, _ = fuzz_client()
    async with client:
        result = await client.set_leverage("BTCUSDT", buy=D("sNaN"), sell=D("sNaN"))
    assert result.outcome is Outcome.REJECTED
