from __future__ import annotations

from decimal import Context, Decimal, localcontext
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bybit_leverage import (
    InvalidLeverage,
    LeverageFilter,
    SnapChange,
    SnapPolicy,
    format_leverage,
    snap,
    snap_leverage,
    to_leverage,
)
from bybit_leverage.leverage import MAX_DIGITS, describe_value, snap_decimal
from bybit_leverage.models import plain_decimal

D = Decimal
BTC = LeverageFilter(D("1"), D("100"), D("0.01"))
CAP_12_5 = LeverageFilter(D("1"), D("12.50"), D("0.01"))
COARSE = LeverageFilter(D("1"), D("50"), D("0.1"))
HALF = LeverageFilter(D("0.5"), D("5"), D("0.5"))


@pytest.mark.parametrize(
    ("value", "rule", "expected", "change"),
    [
        ("12.345", BTC, "12.34", SnapChange.ROUNDED),
        ("12.34", BTC, "12.34", SnapChange.NONE),
        (10, BTC, "10", SnapChange.NONE),
        ("150", BTC, "100", SnapChange.LOWERED_TO_MAX),
        ("0.5", BTC, "1", SnapChange.RAISED_TO_MIN),
        ("12.555", CAP_12_5, "12.5", SnapChange.LOWERED_TO_MAX),
        ("12.5", CAP_12_5, "12.5", SnapChange.NONE),
        ("7.77", COARSE, "7.7", SnapChange.ROUNDED),
        ("1.9", HALF, "1.5", SnapChange.ROUNDED),
        (12.3, BTC, "12.3", SnapChange.NONE),  # a float goes through its shortest repr
    ],
)
def test_down_policy_clamps_then_rounds_down_onto_the_grid(
    value: str | int | float, rule: LeverageFilter, expected: str, change: SnapChange
) -> None:
    result = snap(value, rule)
    assert result.value == D(expected)
    assert result.change is change
    assert result.adjusted is (change is not SnapChange.NONE)
    assert result.requested == to_leverage(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("7.74", "7.7"), ("7.75", "7.7"), ("7.76", "7.8"), ("60", "50"), ("0.2", "1")],
)
def test_nearest_policy_rounds_ties_down(value: str, expected: str) -> None:
    assert snap_leverage(value, COARSE, SnapPolicy.NEAREST) == D(expected)


def test_nearest_never_rounds_past_an_off_grid_maximum() -> None:
    rule = LeverageFilter(D("1"), D("2.1"), D("0.3"))  # grid 1, 1.3, 1.6, 1.9
    assert snap_leverage("2.1", rule, SnapPolicy.NEAREST) == D("1.9")
    assert snap_leverage("2.05", rule, SnapPolicy.DOWN) == D("1.9")


@pytest.mark.parametrize(
    ("value", "reason"),
    [("100.01", "out of range"), ("12.345", "not on the step grid")],
)
def test_strict_policy_refuses_with_symbol_and_range(value: str, reason: str) -> None:
    with pytest.raises(InvalidLeverage) as info:
        snap(value, BTC, SnapPolicy.STRICT, symbol="BTCUSDT")
    message = str(info.value)
    assert "BTCUSDT" in message
    assert reason in message
    assert "[1, 100] in steps of 0.01" in message
    assert info.value.allowed == BTC


def test_strict_policy_accepts_exact_values() -> None:
    assert snap("12.34", BTC, SnapPolicy.STRICT).change is SnapChange.NONE


@pytest.mark.parametrize(
    "value",
    [
        True,
        False,
        "abc",
        "",
        "10x",
        "NaN",
        "inf",
        "-Infinity",
        0,
        "0",
        -5,
        "-1.5",
        float("nan"),
        float("inf"),
        None,
        [10],
    ],
)
def test_bad_values_are_refused_naming_value_and_range(value: object) -> None:
    with pytest.raises(InvalidLeverage) as info:
        snap(value, BTC, symbol="ETHUSDT")  # type: ignore[arg-type]
    assert isinstance(info.value, ValueError)
    assert repr(value) in str(info.value)
    assert "ETHUSDT" in str(info.value)
    assert "[1, 100]" in str(info.value)


def test_results_are_written_plainly() -> None:
    # Grid arithmetic must not leak Decimal('1E+2') or trailing zeros into results.
    assert str(snap_leverage("1000", BTC)) == "100"
    assert str(snap_leverage("12.50", CAP_12_5)) == "12.5"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("100.00", "100"),
        ("1E+2", "100"),
        ("12.50", "12.5"),
        ("0.5", "0.5"),
        ("10", "10"),
        ("0.010", "0.01"),
        ("25.00", "25"),
    ],
)
def test_format_leverage_has_no_exponent_or_trailing_zeros(
    value: str, text: str
) -> None:
    assert format_leverage(D(value)) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        # 31 digits: normalize() rounded them to the context's 28 (12.35).
        ("12.34999999999999999999999999999", "12.34999999999999999999999999999"),
        ("99.999999999999999999999999999999", "99.999999999999999999999999999999"),
        # Past the context's exponent limit: normalize() raised decimal.Overflow.
        ("1E+999999999999999999", "1E+999999999999999999"),
        ("1.50E-999999999999999999", "1.5E-999999999999999999"),
        ("-12.50", "-12.5"),
        ("0E+5", "0"),
        ("1E+1000", "1" + "0" * 1000),  # a thousand zeros are still spelled out
        ("1E+1001", "1E+1001"),
        ("1E-1001", "0." + "0" * 1000 + "1"),
        ("1E-1002", "1E-1002"),
        # Not numbers, but a report must render whatever it holds.
        ("NaN", "NaN"),
        ("sNaN", "sNaN"),  # normalize() raised InvalidOperation
        ("-Infinity", "-Infinity"),
    ],
)
def test_format_leverage_is_exact_and_never_raises(value: str, text: str) -> None:
    assert format_leverage(D(value)) == text


@pytest.mark.parametrize(
    ("value", "plain"),
    [
        ("12.34999999999999999999999999999", "12.34999999999999999999999999999"),
        ("1E+2", "100"),
        ("12.500", "12.5"),
        ("1.0E+999999999999999999", "1E+999999999999999999"),
        ("0.000", "0"),
        ("-Infinity", "-Infinity"),
        ("sNaN", "sNaN"),
    ],
)
def test_plain_decimal_is_exact_and_never_raises(value: str, plain: str) -> None:
    result = plain_decimal(D(value))
    assert result.as_tuple() == D(plain).as_tuple()


def test_formatting_ignores_the_decimal_context() -> None:
    tight = Context(prec=3, Emax=5, Emin=-5)
    with localcontext(tight):
        assert format_leverage(D("12.3456")) == "12.3456"
        assert format_leverage(D("1E+10")) == "10000000000"
        assert plain_decimal(D("12.34560")) == D("12.3456")
        assert str(plain_decimal(D("1E+10"))) == "10000000000"


def test_equal_values_share_one_form_and_zeros_keep_their_sign() -> None:
    # Both functions remember results by value; -0 equals 0 but is written apart.
    for first, second in (("12.50", "12.5"), ("1E+2", "100.0")):
        assert plain_decimal(D(first)).as_tuple() == plain_decimal(D(second)).as_tuple()
        assert format_leverage(D(first)) == format_leverage(D(second))
    assert (format_leverage(D("0")), format_leverage(D("-0"))) == ("0", "-0")
    assert plain_decimal(D("0.0")).as_tuple() == D("0").as_tuple()
    assert plain_decimal(D("-0.0")).as_tuple() == D("-0").as_tuple()


long_decimals = st.builds(
    lambda sign, digits, exponent: Decimal((sign, tuple(digits), exponent)),
    st.integers(0, 1),
    st.lists(st.integers(0, 9), min_size=1, max_size=80),
    st.integers(-1200, 1200),
)


@given(long_decimals)
def test_format_leverage_round_trips_exactly(value: Decimal) -> None:
    text = format_leverage(value)
    assert D(text) == value
    assert plain_decimal(value) == value
    if -1000 <= value.adjusted() <= 1000 and value:
        assert "E" not in text
        assert text == text.rstrip("0") or "." not in text
    assert len(text) <= 80 + 1000 + 8


@pytest.mark.parametrize(
    ("value", "policy", "expected"),
    [
        # Past the context's 28 digits the quotient used to round up onto the
        # next grid point: more leverage than asked, which DOWN never gives.
        ("12.34999999999999999999999999999", SnapPolicy.DOWN, "12.34"),
        ("99.999999999999999999999999999999", SnapPolicy.DOWN, "99.99"),
        ("1.009999999999999999999999999999999", SnapPolicy.DOWN, "1"),
        # A hair above the midpoint is above it; it used to round as a tie.
        ("12.345000000000000000000000000001", SnapPolicy.NEAREST, "12.35"),
        ("12.344999999999999999999999999999", SnapPolicy.NEAREST, "12.34"),
        ("10.000000000000000000000000000000", SnapPolicy.STRICT, "10"),
    ],
)
def test_snapping_is_exact_past_the_context_precision(
    value: str, policy: SnapPolicy, expected: str
) -> None:
    assert snap_leverage(value, BTC, policy) == D(expected)


def test_strict_refuses_a_value_a_hair_off_the_grid() -> None:
    with pytest.raises(InvalidLeverage, match="not on the step grid"):
        snap_leverage("10.000000000000000000000000000001", BTC, SnapPolicy.STRICT)


def test_snapping_ignores_the_decimal_context() -> None:
    with localcontext(Context(prec=4)):
        assert snap_leverage("12.345", BTC) == D("12.34")
        assert snap_leverage("12.346", BTC, SnapPolicy.NEAREST) == D("12.35")
        assert snap_leverage("99.99", BTC, SnapPolicy.STRICT) == D("99.99")
        with pytest.raises(InvalidLeverage, match="not on the step grid"):
            snap_leverage("99.991", BTC, SnapPolicy.STRICT)


# -- what is read as a leverage ----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (" 10 ", "10"),
        ("\t12.5\r\n", "12.5"),
        ("+3", "3"),
        ("5.", "5"),
        (".5", "0.5"),
        ("1e2", "100"),
        ("1E+2", "100"),
        ("0010.2500", "10.25"),
        ("25e-1", "2.5"),
        ("1e9", "1000000000"),  # a number: snapping lowers it to the max
        ("1" + "0" * 5000 + "e-5000", "1"),  # trailing zeros are not significant
        ("0." + "0" * 99 + "1", "1e-100"),
        ("9" * 100, "9" * 100),
        ("1e100", "1e100"),
    ],
)
def test_ascii_decimal_text_is_read_exactly_and_plainly(
    text: str, expected: str
) -> None:
    value = to_leverage(text)
    assert value == D(expected)
    assert value.as_tuple() == plain_decimal(D(expected)).as_tuple()


@pytest.mark.parametrize(
    "text",
    [
        "\u0661\u0660",  # Arabic-Indic 10: Decimal() reads it as 10
        "\uff11\uff10",  # fullwidth 10
        "\U0001d7cf\U0001d7ce",  # mathematical bold 10
        "1_0",  # Decimal() allows underscores between digits
        "NaN",
        "nan",
        "sNaN",
        "Infinity",
        "-inf",
        "\u00a010",  # a no-break space is not ASCII whitespace
        "10\u2003",
        "1 0",
        "1e",
        ".",
        "1..0",
        "1.2.3",
        "0x10",
        "1,5",
        "\u00bd",
        "--1",
        "1e1.5",
        "\x00",
    ],
)
def test_other_text_is_not_a_number(text: str) -> None:
    with pytest.raises(InvalidLeverage, match="not a number"):
        to_leverage(text)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("1" * 101, "more than 100 significant digits"),
        ("1." + "1" * 100, "more than 100 significant digits"),
        (D("1." + "2" * 100), "more than 100 significant digits"),
        ("1e101", "too large"),
        ("0.1e102", "too large"),
        (10**101, "too large"),
        (10**5000, "too large"),
        (1e300, "too large"),
        (D("1E+999999999999999999"), "too large"),
        ("1e" + "9" * 30, "too large"),  # never read as an int
        ("1e-101", "too small"),
        ("1e-" + "9" * 5000, "too small"),
        (5e-324, "too small"),
        (D("1E-999999999999999999"), "too small"),
        (-(10**5000), "must be positive"),
        ("-0", "must be positive"),
        ("0e" + "9" * 30, "must be positive"),
        (D("-1E+999999999999999999"), "must be positive"),
        (D("sNaN"), "must be finite"),
        (D("-Infinity"), "must be finite"),
    ],
    ids=describe_value,  # pytest's own ids would str() a 5000-digit int and fail
)
def test_values_outside_the_bounds_are_refused(value: object, reason: str) -> None:
    with pytest.raises(InvalidLeverage, match=reason) as info:
        to_leverage(value)  # type: ignore[arg-type]
    assert len(str(info.value)) < 160


def test_a_refused_value_is_shown_cut_short() -> None:
    with pytest.raises(InvalidLeverage) as info:
        to_leverage("9" * 100_000 + "x", symbol="BTCUSDT")
    assert str(info.value) == (
        f"BTCUSDT: leverage '{'9' * 40}'… refused: "
        "not a number (ASCII digits, one point at most, an optional exponent)"
    )
    with pytest.raises(InvalidLeverage) as info:
        to_leverage(-(10**5000))
    assert info.value.value == "<int of 16610 bits>"


class Unprintable:
    def __repr__(self) -> str:
        raise RuntimeError("no")


def refuse_length(self: object) -> int:
    raise RuntimeError("no")


# reprlib picks its method by the type's name, and calls len() on a "list".
SneakyList = type("list", (list,), {"__len__": refuse_length})


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("12.5", "'12.5'"),
        ("x" * 41, repr("x" * 40) + "…"),
        (10, "10"),
        (-(10**5000), "<int of 16610 bits>"),
        (D("1.50"), "Decimal('1.50')"),
        (D("1E+999999999999999999"), "Decimal('1E+999999999999999999')"),
        (D("1" * 1000), "<Decimal of 1000 digits>"),
        (12.3, "12.3"),
        (None, "None"),
        (True, "True"),
        ([10], "[10]"),
        ([10**5000], "[<int of 16610 bits>]"),
        (SneakyList(), "<list object>"),
    ],
    ids=describe_value,
)
def test_describe_value_is_bounded_and_never_raises(value: object, shown: str) -> None:
    assert describe_value(value) == shown


def test_describe_value_survives_a_failing_repr() -> None:
    assert describe_value(Unprintable()).startswith("<Unprintable instance at 0x")


def test_snap_decimal_refuses_what_to_leverage_would() -> None:
    long = D("5." + "0" * 200 + "1")  # was snapped to 5 digit by digit
    with pytest.raises(InvalidLeverage, match="more than 100 significant digits"):
        snap_decimal(long, BTC)
    with pytest.raises(InvalidLeverage, match="must be positive"):
        snap_decimal(D(0), BTC, symbol="BTCUSDT")


@pytest.mark.parametrize(
    "rule",
    [
        LeverageFilter(D("1"), D("100"), D("0.0" + "1" * 150)),
        LeverageFilter(D("1E-150"), D("100"), D("0.01")),
        LeverageFilter(D("1"), D("1E+150"), D("0.01")),
    ],
)
def test_a_filter_outside_the_bounds_is_refused(rule: LeverageFilter) -> None:
    # Exact grid arithmetic on a filter like these could run without end.
    with pytest.raises(InvalidLeverage, match="outside what this package handles"):
        snap("10", rule, symbol="BTCUSDT")


# -- properties -------------------------------------------------------------------

steps = st.sampled_from([D("0.01"), D("0.1"), D("0.5"), D("1"), D("0.25")])


@st.composite
def rules(draw: st.DrawFn) -> LeverageFilter:
    step = draw(steps)
    low = draw(st.sampled_from([D("1"), D("0.5"), D("2"), D("0.1")]))
    count = draw(st.integers(min_value=0, max_value=20_000))
    return LeverageFilter(low, low + count * step, step)


requests = st.decimals(
    min_value=D("0.001"), max_value=D("500"), places=4, allow_nan=False
).filter(lambda d: d > 0)
policies = st.sampled_from([SnapPolicy.DOWN, SnapPolicy.NEAREST])


def on_grid(value: Decimal, rule: LeverageFilter) -> bool:
    # Fractions: Decimal's % would round long values in the 28-digit context.
    steps = (Fraction(value) - Fraction(rule.min_leverage)) / Fraction(
        rule.leverage_step
    )
    return steps.denominator == 1


@given(rules(), requests, policies)
def test_snapped_value_is_on_the_grid_and_in_range(
    rule: LeverageFilter, value: Decimal, policy: SnapPolicy
) -> None:
    result = snap_leverage(value, rule, policy)
    assert rule.min_leverage <= result <= rule.max_leverage
    assert on_grid(result, rule)


@given(rules(), requests)
def test_down_never_exceeds_the_clamped_request(
    rule: LeverageFilter, value: Decimal
) -> None:
    clamped = min(max(value, rule.min_leverage), rule.max_leverage)
    assert snap_leverage(value, rule) <= clamped


@given(rules(), requests, policies)
def test_snapping_is_idempotent(
    rule: LeverageFilter, value: Decimal, policy: SnapPolicy
) -> None:
    once = snap_leverage(value, rule, policy)
    again = snap(once, rule, policy)
    assert again.value == once
    assert not again.adjusted


@given(rules(), requests)
def test_strict_accepts_exactly_the_grid_points(
    rule: LeverageFilter, value: Decimal
) -> None:
    valid = rule.min_leverage <= value <= rule.max_leverage and on_grid(value, rule)
    try:
        result = snap_leverage(value, rule, SnapPolicy.STRICT)
    except InvalidLeverage:
        assert not valid
    else:
        assert valid
        assert result == value


@given(rules(), st.integers(min_value=0, max_value=20_000))
def test_strict_accepts_every_grid_point(rule: LeverageFilter, k: int) -> None:
    point = rule.min_leverage + k * rule.leverage_step
    if point <= rule.max_leverage:
        assert snap_leverage(point, rule, SnapPolicy.STRICT) == point


# -- long inputs: up to 60 significant digits, exact oracle -----------------------


@st.composite
def off_grid_rules(draw: st.DrawFn) -> LeverageFilter:
    """A filter whose maximum may sit between two grid points (caps like 12.5)."""
    rule = draw(rules())
    extra = draw(st.sampled_from([D(0), D("0.3"), D("0.5"), D("0.99")]))
    top = rule.max_leverage + extra * rule.leverage_step
    return LeverageFilter(rule.min_leverage, top, rule.leverage_step)


def long_number(digits: int, leading: int) -> Decimal:
    return Decimal((0, tuple(map(int, str(digits))), leading - len(str(digits)) + 1))


# Any number from 1e-5 to 1e4 written with up to 60 significant digits.
long_values = st.builds(
    long_number, st.integers(1, 10**60 - 1), st.integers(min_value=-5, max_value=3)
)


@st.composite
def near_grid(draw: st.DrawFn, rule: LeverageFilter) -> Decimal:
    """A grid point or a midpoint between two, or a hair (to 1e-58) either side."""
    k = draw(st.integers(0, 20_000))
    exact = Context(prec=200)
    half = draw(st.sampled_from([D(0), D("0.5")]))
    point = exact.fma(k + half, rule.leverage_step, rule.min_leverage)
    # Hairs about the default context's 28 digits are the ones that used to vanish.
    places = draw(st.integers(1, 58) | st.integers(26, 34))
    hair = Decimal((0, (1,), -places))
    offset = draw(st.sampled_from([0, 1, -1]))
    value = exact.fma(Decimal(offset), hair, point)
    return value if value > 0 else point


@st.composite
def rule_and_long_value(draw: st.DrawFn) -> tuple[LeverageFilter, Decimal]:
    rule = draw(off_grid_rules())
    value = draw(st.one_of(long_values, near_grid(rule)))
    return rule, value


def clamp(value: Decimal, rule: LeverageFilter) -> Fraction:
    return Fraction(min(max(value, rule.min_leverage), rule.max_leverage))


@given(rule_and_long_value(), policies)
def test_long_values_snap_onto_the_grid_and_into_range(
    case: tuple[LeverageFilter, Decimal], policy: SnapPolicy
) -> None:
    rule, value = case
    result = snap_leverage(value, rule, policy)
    assert rule.min_leverage <= result <= rule.max_leverage
    assert on_grid(result, rule)
    below = clamp(value, rule) - Fraction(result)  # how far the result is below
    step = Fraction(rule.leverage_step)
    top = result + rule.leverage_step > rule.max_leverage  # no grid point above
    if policy is SnapPolicy.DOWN:  # the highest grid point not above the request
        assert 0 <= below < step
    else:  # the closest grid point, ties down
        assert -step / 2 < below <= step / 2 or (top and below > 0)


@given(rule_and_long_value())
def test_down_never_exceeds_a_long_clamped_request(
    case: tuple[LeverageFilter, Decimal],
) -> None:
    rule, value = case
    assert Fraction(snap_leverage(value, rule)) <= clamp(value, rule)


@given(rule_and_long_value())
def test_strict_accepts_exactly_the_grid_points_among_long_values(
    case: tuple[LeverageFilter, Decimal],
) -> None:
    rule, value = case
    valid = rule.min_leverage <= value <= rule.max_leverage and on_grid(value, rule)
    try:
        result = snap_leverage(value, rule, SnapPolicy.STRICT)
    except InvalidLeverage:
        assert not valid
    else:
        assert valid
        assert result == value


# -- any text, any number: a bounded Decimal or InvalidLeverage -------------------

ascii_decimals = st.from_regex(
    r"\A[ \t]?[+-]?([0-9]{0,70}\.?[0-9]{1,70}|[0-9]{1,70}\.)([eE][+-]?[0-9]{1,4})?\Z"
)


def read(value: object) -> Decimal | InvalidLeverage:
    try:
        return to_leverage(value)  # type: ignore[arg-type]
    except InvalidLeverage as exc:
        return exc


def check_bounded(value: Decimal) -> None:
    assert value > 0
    assert D("1e-100") <= value < D("1e101")
    assert len(value.as_tuple().digits) <= MAX_DIGITS + 101
    assert len(format_leverage(value)) <= 203
    assert value.as_tuple() == plain_decimal(value).as_tuple()


@given(st.one_of(st.text(), ascii_decimals, st.text(alphabet="0123456789.eE+-_ ")))
def test_any_text_is_a_bounded_exact_decimal_or_refused(text: str) -> None:
    value = read(text)
    if isinstance(value, InvalidLeverage):
        assert len(str(value)) < 600  # 40 characters, each at most 10 once escaped
        return
    assert value == D(text.strip())  # exact: Decimal() reads text without rounding
    check_bounded(value)


@given(
    st.one_of(
        st.integers(),
        st.integers(min_value=10**90, max_value=10**110),
        st.floats(),
        st.decimals(),
        long_decimals,
    )
)
def test_any_number_is_a_bounded_exact_decimal_or_refused(
    number: int | float | Decimal,
) -> None:
    value = read(number)
    if isinstance(value, InvalidLeverage):
        assert len(str(value)) < 600
        return
    exact = D(repr(number)) if isinstance(number, float) else D(number)
    assert value == exact
    check_bounded(value)
