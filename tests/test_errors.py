from __future__ import annotations

import pickle
from decimal import Decimal
from pathlib import Path

import pytest

import bybit_leverage as bl
from bybit_leverage import errors
from bybit_leverage._retry import should_retry
from bybit_leverage.errors import Retry


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        (10000, bl.ExchangeServerError),
        (10001, bl.ParameterError),
        (10002, bl.TimestampError),
        (10003, bl.InvalidApiKey),
        (10004, bl.InvalidSignature),
        (10005, bl.PermissionDenied),
        (10006, bl.RateLimitError),
        (10010, bl.IPNotAllowed),
        (10016, bl.ExchangeServerError),
        (110013, bl.RiskLimitExceeded),
        (110038, bl.PortfolioMarginUnsupported),
        (110074, bl.ContractNotLive),
        (110077, bl.PortfolioMarginUnsupported),
        (10029, bl.APIError),
        (99999, bl.APIError),
    ],
)
def test_ret_codes_map_to_specific_classes(code: int, cls: type[bl.APIError]) -> None:
    exc = errors.error_for_ret_code(code, "some message", "/v5/position/set-leverage")
    assert type(exc) is cls
    assert (exc.ret_code, exc.ret_msg, exc.path) == (
        code,
        "some message",
        "/v5/position/set-leverage",
    )
    assert str(exc) == f"/v5/position/set-leverage: retCode={code} 'some message'"


# The catalogue, row by row: retCode -> class and retry class. Codes and meanings
# from https://bybit-exchange.github.io/docs/v5/error and the endpoint pages.
CATALOGUE = [
    (10000, bl.ExchangeServerError, Retry.BACKOFF),
    (10001, bl.ParameterError, Retry.NEVER),
    (10002, bl.TimestampError, Retry.RESYNC),
    (10003, bl.InvalidApiKey, Retry.NEVER),
    (10004, bl.InvalidSignature, Retry.NEVER),
    (10005, bl.PermissionDenied, Retry.NEVER),
    (10006, bl.RateLimitError, Retry.WAIT),
    (10010, bl.IPNotAllowed, Retry.NEVER),
    (10016, bl.ExchangeServerError, Retry.BACKOFF),
    (10028, bl.UnifiedAccountRequired, Retry.NEVER),
    (33004, bl.ApiKeyExpired, Retry.NEVER),
    (100028, bl.UnifiedAccountForbidden, Retry.NEVER),
    (110013, bl.RiskLimitExceeded, Retry.NEVER),
    (110024, bl.PositionExists, Retry.NEVER),
    (110025, bl.PositionModeNotModified, Retry.NEVER),
    (110026, bl.MarginModeNotModified, Retry.NEVER),
    (110028, bl.OpenOrdersExist, Retry.NEVER),
    (110029, bl.HedgeModeUnavailable, Retry.NEVER),
    (110036, bl.CrossMarginForbidsLeverage, Retry.NEVER),
    (110038, bl.PortfolioMarginUnsupported, Retry.NEVER),
    (110043, None, Retry.NEVER),
    (110044, bl.MarginCheckFailed, Retry.NEVER),
    (110045, bl.MarginCheckFailed, Retry.NEVER),
    (110046, bl.MarginCheckFailed, Retry.NEVER),
    (110073, bl.MarginModeFailed, Retry.NEVER),
    (110074, bl.ContractNotLive, Retry.NEVER),
    (110077, bl.PortfolioMarginUnsupported, Retry.NEVER),
    (3400045, bl.MarginModeFailed, Retry.NEVER),
]


@pytest.mark.parametrize(("code", "cls", "retry"), CATALOGUE)
def test_the_catalogue(code: int, cls: type[bl.APIError] | None, retry: Retry) -> None:
    info = errors.RET_CODES[code]
    assert (info.error, info.retry) == (cls, retry)
    exc = errors.error_for_ret_code(code, "m", "/p")
    if cls is None:  # a success: never raised by the client, generic if built
        assert type(exc) is bl.APIError
        assert not should_retry(exc)
        return
    assert type(exc) is cls
    assert exc.retry is retry
    assert should_retry(exc) is (retry is not Retry.NEVER)
    assert isinstance(exc, bl.RequestFailed)


def test_every_catalogued_code_is_in_the_table() -> None:
    assert sorted(errors.RET_CODES) == [code for code, _, _ in CATALOGUE]


def test_3400045_carries_its_reasons() -> None:
    result = {
        "reasons": [
            {"reasonCode": "3400046", "reasonMsg": "open orders"},
            {"reasonCode": "3400047", "reasonMsg": "position exists"},
        ]
    }
    exc = errors.error_for_ret_code(
        3400045, "Set margin mode failed", "/p", result=result
    )
    assert isinstance(exc, bl.MarginModeFailed)
    assert exc.reasons == (("3400046", "open orders"), ("3400047", "position exists"))
    assert str(exc).endswith("3400046 open orders; 3400047 position exists")
    odd = errors.error_for_ret_code(3400045, "m", "/p", result={"reasons": 3})
    assert isinstance(odd, bl.MarginModeFailed)
    assert odd.reasons == ()


def test_an_unknown_key_names_the_host() -> None:
    exc = bl.InvalidApiKey(10003, "API key is invalid.", "/v5/account/info", "testnet")
    assert "testnet does not know this API key" in str(exc)


def test_risk_limit_carries_the_allowed_maximum() -> None:
    exc = errors.error_for_ret_code(
        110013, "cannot set leverage [5000] gt maxLeverage [2000] by risk limit", "/p"
    )
    assert isinstance(exc, bl.RiskLimitExceeded)
    assert exc.allowed_max == Decimal("20")
    assert "allowed maximum 20" in str(exc)
    odd = errors.error_for_ret_code(110013, "risk limit", "/p")
    assert isinstance(odd, bl.RiskLimitExceeded)
    assert odd.allowed_max is None


def test_rate_limit_carries_the_reset_time() -> None:
    exc = errors.error_for_ret_code(10006, "Too many visits!", "/p", reset_at_ms=123)
    assert isinstance(exc, bl.RateLimitError)
    assert exc.reset_at_ms == 123


def test_http_status_and_ret_code_are_separate_branches() -> None:
    http = bl.IPRateLimited(403, "/p", "<html>forbidden</html>")
    assert isinstance(http, bl.HTTPStatusError)
    assert not isinstance(http, bl.APIError)
    assert str(http) == "/p: HTTP 403"
    assert "html" not in repr(http)  # the body is kept for diagnosis, not shown


def test_builtins_are_mixed_in_where_the_meaning_matches() -> None:
    assert isinstance(bl.RequestTimeout("/p", "slow"), TimeoutError)
    assert isinstance(bl.ConnectionFailed("/p", "reset"), ConnectionError)
    assert isinstance(bl.InvalidLeverage("'x'", "not a number"), ValueError)
    assert isinstance(bl.UnknownSymbol("BTCUSD", "linear"), LookupError)
    assert isinstance(bl.ClientClosed(), RuntimeError)
    assert isinstance(bl.MissingCredentials("no keys"), bl.ConfigurationError)


def test_messages_carry_the_data_a_user_needs() -> None:
    assert str(bl.UnknownSymbol("BTCUSD", "linear", ("BTCUSDT",))) == (
        "unknown linear symbol 'BTCUSD'; did you mean BTCUSDT?"
    )
    assert str(bl.UnknownSymbol("ZZZ", "inverse")) == "unknown inverse symbol 'ZZZ'"
    mismatch = bl.PositionModeMismatch(
        "ETHUSDT", Decimal("10"), Decimal("5"), "the symbol is in one-way mode"
    )
    assert str(mismatch) == (
        "ETHUSDT: buy leverage 10 != sell leverage 5, but the symbol is in one-way mode"
    )
    assert str(bl.SymbolNotTradable("XYZUSDT", "PreLaunch")) == (
        "XYZUSDT is not tradable (status PreLaunch)"
    )
    assert str(bl.ResponseDecodeError("/p", "not JSON")) == (
        "/p: cannot decode response: not JSON"
    )
    assert str(bl.ClientClosed()).startswith("this BybitClient is closed")


def _translate() -> None:
    try:
        raise OSError("connection reset")
    except OSError as exc:
        error = bl.ConnectionFailed("/p", "reset")
        error.add_note("while setting BTCUSDT")
        raise error from exc


def test_errors_chain_note_and_pickle() -> None:
    with pytest.raises(bl.ConnectionFailed) as info:
        _translate()
    assert isinstance(info.value.__cause__, OSError)
    assert info.value.__notes__ == ["while setting BTCUSDT"]
    restored = pickle.loads(  # noqa: S301 - our own bytes
        pickle.dumps(bl.RiskLimitExceeded(110013, "m", "/p", None))
    )
    assert restored.ret_code == 110013


def test_the_docstring_draws_every_public_error() -> None:
    doc = errors.__doc__ or ""
    names = [
        name
        for name in errors.__all__
        if isinstance(cls := getattr(errors, name), type)
        and issubclass(cls, BaseException)
    ]
    assert names
    for name in names:
        assert name in doc, f"{name} is missing from the tree in errors.py"


def test_the_documented_tree_matches_the_code() -> None:
    doc = (Path(__file__).parents[1] / "docs" / "errors.md").read_text()
    tree = [
        line.strip() for line in (errors.__doc__ or "").splitlines() if "──" in line
    ]
    assert tree
    for line in tree:
        assert line in doc
