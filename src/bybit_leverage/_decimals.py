"""Reading a caller's leverage: exact ASCII decimals within bounds, shown short.

Pure, and independent of the decimal context: numbers are read from their text
or their digit tuple, never through arithmetic that could round. What is
refused comes back as a reason (a string), for ``to_leverage`` to raise with;
:func:`describe_value` shows any value in a few dozen characters.
"""

from __future__ import annotations

import functools
import math
import re
import reprlib
from decimal import Decimal
from typing import Final

from bybit_leverage.models import plain_decimal

__all__ = ["MAX_DIGITS", "MAX_EXPONENT", "describe_value", "read_leverage", "refusal"]

#: At most this many significant digits (first to last non-zero digit).
MAX_DIGITS: Final = 100
#: The leading digit's place (the adjusted exponent) lies within ``±MAX_EXPONENT``:
#: an accepted leverage is at least ``1e-100`` and below ``1e101``.
MAX_EXPONENT: Final = 100

# What is accepted as text, once ASCII whitespace around it is stripped: a sign,
# digits with at most one point (a digit on at least one side), an exponent.
# [0-9] rather than \d: \d would match Arabic-Indic and fullwidth digits too.
_DECIMAL_TEXT: Final = re.compile(
    r"(?P<sign>[+-]?)(?=\.?[0-9])(?P<whole>[0-9]*)(?:\.(?P<part>[0-9]*))?"
    r"(?:[eE](?P<exp>[+-]?[0-9]+))?"
)
_ASCII_SPACE: Final = " \t\n\r\f\v"
# A written exponent this long (10^20 or more) cannot be brought back within
# bounds by any string that fits in memory: refused without reading it as an int.
_MAX_EXPONENT_CHARS: Final = 20
_TOO_LARGE: Final = f"too large (the limit is below 1e{MAX_EXPONENT + 1})"
_TOO_SMALL: Final = f"too small (the limit is 1e-{MAX_EXPONENT})"
#: How much of a refused value an error shows.
_SHOWN_CHARS: Final = 40


class _Shown(reprlib.Repr):
    """``reprlib`` with ints that never hit Python's int-to-str digit limit."""

    def repr_int(self, x: int, level: int) -> str:
        return _shown_int(x)


_SHOWN: Final = _Shown()
_SHOWN.maxstring = _SHOWN.maxother = _SHOWN_CHARS


def _shown_int(value: int) -> str:
    bits = int.bit_length(value)
    if bits > 128:  # about 39 digits: more would not be read anyway
        return f"<int of {bits} bits>"
    return int.__repr__(value)


def _shown_decimal(value: Decimal) -> str:
    digits = len(Decimal.as_tuple(value).digits)
    if digits > _SHOWN_CHARS:
        return f"<Decimal of {digits} digits>"
    return f"Decimal({str(value)!r})"


def describe_value(value: object) -> str:
    """A caller's leverage value as errors show it: its ``repr``, kept short.

    Text is cut after 40 characters, marked by a ``…`` after the quote; a huge
    int is shown by its size (``<int of 16610 bits>``), a long Decimal by its
    digit count, and an object whose ``repr`` fails by its type. Never raises,
    and never builds an unbounded string.
    """
    if isinstance(value, bool):
        return repr(value)
    if isinstance(value, str):
        cut = str.__getitem__(value, slice(_SHOWN_CHARS))
        return repr(cut) + ("…" if len(value) > _SHOWN_CHARS else "")
    if isinstance(value, int):
        return _shown_int(value)
    if isinstance(value, Decimal):
        return _shown_decimal(value)
    try:
        return _SHOWN.repr(value)
    except Exception:  # a repr that fails must not hide the refusal
        return f"<{type(value).__name__} object>"


def _bounds(significant: int, leading: int) -> str | None:
    """Why a number is out of bounds, or ``None``.

    ``significant`` counts its digits from the first to the last non-zero one;
    its leading digit stands in the place ``10**leading``.
    """
    if significant > MAX_DIGITS:
        return f"more than {MAX_DIGITS} significant digits"
    if leading > MAX_EXPONENT:
        return _TOO_LARGE
    if leading < -MAX_EXPONENT:
        return _TOO_SMALL
    return None


def refusal(value: Decimal) -> str | None:
    """Why :func:`to_leverage` refuses this Decimal, or ``None``.

    Read from ``as_tuple()``: no arithmetic, so no context is involved.
    """
    sign, digits, exponent = Decimal.as_tuple(value)
    if not isinstance(exponent, int):
        return "must be finite"
    significant = len(bytes(digits).strip(b"\0"))  # digits are 0-9: one byte each
    if sign or not significant:
        return "must be positive"
    return _bounds(significant, exponent + len(digits) - 1)


def _from_parts(negative: bool, digits: str, exponent: int) -> Decimal | str:
    """The plain Decimal ``digits * 10**exponent``, or why it is refused.

    Works on the digit string, never on a Decimal: no context can round it.
    """
    text = digits.lstrip("0")
    kept = text.rstrip("0")
    if negative or not kept:
        return "must be positive"
    exponent += len(text) - len(kept)
    reason = _bounds(len(kept), exponent + len(kept) - 1)
    if reason is not None:
        return reason
    return plain_decimal(Decimal((0, tuple(map(int, kept)), exponent)))


def _read_text(text: str) -> Decimal | str:
    if len(text) > 64:  # only short texts are worth remembering
        return _parse_text(text)
    return _parse_text_cached(text)


def _parse_text(text: str) -> Decimal | str:
    match = _DECIMAL_TEXT.fullmatch(str.strip(text, _ASCII_SPACE))
    if match is None:
        return "not a number (ASCII digits, one point at most, an optional exponent)"
    digits = match["whole"] + (match["part"] or "")
    exp = match["exp"] or "0"
    if match["sign"] == "-" or not digits.strip("0"):
        return "must be positive"
    if len(exp.lstrip("+-").lstrip("0")) > _MAX_EXPONENT_CHARS:
        return _TOO_SMALL if exp.startswith("-") else _TOO_LARGE
    return _from_parts(False, digits, int(exp) - len(match["part"] or ""))


#: A batch, or a CSV of targets, repeats a few texts ("10", "12.5") many times.
_parse_text_cached: Final = functools.lru_cache(maxsize=4096)(_parse_text)


def read_leverage(value: object) -> Decimal | str:
    """The leverage ``value`` stands for, or why it is refused."""
    if isinstance(value, bool):  # bool is an int; True is never meant as 1x
        return "a bool is not a leverage"
    if isinstance(value, int):
        if int.bit_length(value) > 4 * MAX_EXPONENT:  # surely above 1e101
            return "must be positive" if value < 0 else _TOO_LARGE
        return _from_parts(value < 0, int.__repr__(abs(value)), 0)
    if isinstance(value, float):
        if not math.isfinite(value):
            return "must be finite"
        value = float.__repr__(value)  # the shortest repr: 12.3, not 12.29999...
    elif isinstance(value, Decimal):
        return refusal(value) or plain_decimal(value)
    if isinstance(value, str):
        return _read_text(value)
    return f"expected a number, got {type(value).__name__}"
