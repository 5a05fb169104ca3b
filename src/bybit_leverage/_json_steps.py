"""Decoding a long JSON answer a slice at a time, so that an event loop stays free.

``json.loads`` decodes a body in one call: a whole category's symbol-info (some
thousands of rows) held an engine's loop 4-5 ms. :func:`decode_json_in_steps`
is a generator that walks objects key by key and arrays item by item (each item
decoded whole by the C decoder) and yields after every :data:`STEP_CHARS` or so;
it takes and refuses exactly what ``json.loads`` does. Pure: the request core
drives it, with the loop's turns between the steps.
"""

from __future__ import annotations

import json
import re
from collections.abc import Generator
from typing import Any, Final

from bybit_leverage.errors import ResponseDecodeError

__all__ = ["STEP_CHARS", "decode_json_in_steps"]

_SPACE: Final = re.compile(r"[ \t\n\r]*")
_DECODER: Final = json.JSONDecoder()
#: About this many characters are decoded between two yields of
#: :func:`decode_json_in_steps` (some tenths of a millisecond of the loop).
STEP_CHARS: Final = 16 * 1024


def decode_json_in_steps(body: bytes | str, path: str) -> Generator[None, None, Any]:
    """Parse a body as JSON, as ``_wire.decode_json`` does, yielding as it goes.

    Objects are walked key by key and arrays item by item (each item decoded by
    the C decoder whole); the generator yields after every
    :data:`STEP_CHARS` or so of an array, so that a caller on an event loop can
    let others run between the steps. The value is the generator's return value.

    Raises:
        ResponseDecodeError: When the body is not JSON (naming ``path``).
    """
    try:
        text = (
            body.decode(json.detect_encoding(body), "surrogatepass")
            if isinstance(body, bytes)
            else body
        )
        value, end = yield from _value_in_steps(text, 0)
        end = _skip(text, end)
        if end != len(text):
            raise json.JSONDecodeError("Extra data", text, end)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ResponseDecodeError(path, f"not JSON ({exc})") from None
    except RecursionError:
        raise ResponseDecodeError(path, "not JSON (nested too deeply)") from None
    return value


def _skip(text: str, at: int) -> int:
    """The first index from ``at`` on that is not JSON whitespace."""
    match = _SPACE.match(text, at)
    return at if match is None else match.end()


def _value_in_steps(text: str, at: int) -> Generator[None, None, tuple[Any, int]]:
    at = _skip(text, at)
    opener = text[at : at + 1]
    if opener == "{":
        return (yield from _object_in_steps(text, at + 1))
    if opener == "[":
        return (yield from _array_in_steps(text, at + 1))
    return _DECODER.raw_decode(text, at)


def _after(text: str, at: int, closer: str) -> tuple[bool, int]:
    """Past a ``,`` (False) or the closing ``closer`` (True), and the space after."""
    at = _skip(text, at)
    found = text[at : at + 1]
    if found == closer:
        return True, at + 1
    if found != ",":
        raise json.JSONDecodeError(f"Expecting ',' delimiter or {closer!r}", text, at)
    return False, _skip(text, at + 1)


def _object_in_steps(text: str, at: int) -> Generator[None, None, tuple[Any, int]]:
    found: dict[str, Any] = {}
    at = _skip(text, at)
    if text[at : at + 1] == "}":
        return found, at + 1
    while True:
        if text[at : at + 1] != '"':
            raise json.JSONDecodeError("Expecting property name", text, at)
        key, at = _DECODER.raw_decode(text, at)
        at = _skip(text, at)
        if text[at : at + 1] != ":":
            raise json.JSONDecodeError("Expecting ':' delimiter", text, at)
        found[key], at = yield from _value_in_steps(text, at + 1)
        closed, at = _after(text, at, "}")
        if closed:
            return found, at


def _array_in_steps(text: str, at: int) -> Generator[None, None, tuple[Any, int]]:
    items: list[Any] = []
    at = _skip(text, at)
    if text[at : at + 1] == "]":
        return items, at + 1
    mark = at
    while True:
        item, at = _DECODER.raw_decode(text, at)
        items.append(item)
        closed, at = _after(text, at, "]")
        if closed:
            return items, at
        if at - mark >= STEP_CHARS:
            mark = at
            yield
