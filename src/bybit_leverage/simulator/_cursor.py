"""Opaque Instruments Info cursors, sent already URL-encoded as Bybit sends them.

A cursor is base64 of the next offset and a fingerprint of the query's filters,
padded so it always ends in ``==`` and is percent-encoded (``%3D%3D``), as
https://bybit-exchange.github.io/docs/v5/market/instrument sends
``nextPageCursor``. A client that sends it back verbatim pages on; so does one
that percent-encodes it once more (npm ``bybit-api`` sends ``%253D``),
and one that decodes it before sending (the server then sees ``==`` as sent).
"""

from __future__ import annotations

import base64
import binascii
from typing import Final
from urllib.parse import quote, unquote

__all__ = ["decode_cursor", "encode_cursor"]

_FILL: Final = "~"


def encode_cursor(offset: int, fingerprint: str) -> str:
    """Return the URL-encoded cursor for ``offset`` under these filters."""
    text = f"{offset}|{fingerprint}"
    text += _FILL * ((1 - len(text.encode())) % 3)  # length 1 mod 3: two "="
    return quote(base64.b64encode(text.encode()).decode(), safe="")


def decode_cursor(value: str, fingerprint: str) -> int | None:
    """Return the offset in a cursor (as the server sees it: URL-decoded once).

    ``None`` when the cursor is not one of ours or was made for other filters.
    A cursor still percent-encoded (it was encoded twice) is decoded once more:
    ``%`` never occurs in base64.
    """
    if "%" in value:
        value = unquote(value)
    try:
        text = base64.b64decode(value, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    offset, _, rest = text.rstrip(_FILL).partition("|")
    if rest != fingerprint or not offset.isdigit():
        return None
    return int(offset)
