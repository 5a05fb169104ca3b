"""The one rendering of plans and results: plain dicts, table rows, plain tables.

One cattrs converter unstructures any attrs value of the package: decimals become
leverage strings (``"12.5"``), errors become ``{type, message, ret_code}``,
enums their values, seconds are rounded to microseconds, and fields marked
``metadata={"render": False}`` are left out. Table rows are read from those
dicts, so every view of a plan or a result (table, JSON, ``str()``) agrees.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

import attrs
import cattrs
from cattrs.gen import make_dict_unstructure_fn, override

from bybit_leverage.errors import BybitError
from bybit_leverage.models import Outcome, format_leverage

__all__ = [
    "PLAN_COLUMNS",
    "RESULT_COLUMNS",
    "plan_row",
    "render",
    "render_table",
    "result_row",
]

#: Columns of a plan's table.
PLAN_COLUMNS: Final = (
    "symbol",
    "action",
    "requested",
    "target",
    "current",
    "adjusted",
    "position",
    "note",
)
#: Columns of a report's table.
RESULT_COLUMNS: Final = (
    "symbol",
    "outcome",
    "requested",
    "applied",
    "adjusted",
    "tries",
    "note",
)


def _error_to_dict(error: BybitError) -> dict[str, Any]:
    described: dict[str, Any] = {"type": type(error).__name__, "message": str(error)}
    code = getattr(error, "ret_code", None)
    if code is not None:
        described["ret_code"] = code
    return described


def _make_converter() -> cattrs.Converter:
    conv = cattrs.Converter()
    conv.register_unstructure_hook(Decimal, format_leverage)
    conv.register_unstructure_hook(float, lambda seconds: round(seconds, 6))
    conv.register_unstructure_hook(datetime, lambda moment: moment.isoformat())
    conv.register_unstructure_hook_func(
        lambda cls: isinstance(cls, type) and issubclass(cls, BybitError),
        _error_to_dict,
    )

    def attrs_fn(cls: type[Any]) -> Callable[[Any], dict[str, Any]]:
        hidden: dict[str, Any] = {
            a.name: override(omit=True)
            for a in attrs.fields(cls)
            if a.metadata.get("render") is False
        }
        return make_dict_unstructure_fn(cls, conv, **hidden)

    conv.register_unstructure_hook_factory(attrs.has, attrs_fn)
    return conv


_CONVERTER: Final = _make_converter()


def render(item: Any) -> dict[str, Any]:
    """A plan or a result (any attrs value) as a JSON-ready dict."""
    rendered: dict[str, Any] = _CONVERTER.unstructure(item, type(item))
    return rendered


def _sides(buy: str | None, sell: str | None) -> str:
    if buy is None and sell is None:
        return "-"
    if buy == sell or sell is None:
        return buy or "-"
    return f"{buy or '-'}/{sell}"


def _note(row: Mapping[str, Any]) -> str:
    error = row.get("error")
    return "" if error is None else str(error["message"])


def plan_row(row: Mapping[str, Any]) -> tuple[str, ...]:
    """A rendered plan as cells under :data:`PLAN_COLUMNS`."""
    return (
        row["symbol"],
        "set" if row["action"] == Outcome.SET.value else row["action"],
        _sides(row["requested_buy"], row["requested_sell"]),
        _sides(row["target_buy"], row["target_sell"]),
        _sides(row["current_buy"], row["current_sell"]),
        "yes" if row["adjusted"] else "",
        _position(row.get("position")),
        "; ".join(filter(None, (_note(row), *row.get("notes", ())))),
    )


def _position(position: Mapping[str, Any] | None) -> str:
    if position is None:
        return ""
    return f"open {position['size']} {position['side']}".rstrip()


def result_row(row: Mapping[str, Any]) -> tuple[str, ...]:
    """A rendered result as cells under :data:`RESULT_COLUMNS`."""
    return (
        row["symbol"],
        row["outcome"],
        _sides(row["requested_buy"], row["requested_sell"]),
        _sides(row["applied_buy"], row["applied_sell"]),
        "yes" if row["adjusted"] else "",
        str(row["attempts"]),
        _note(row),
    )


def render_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Lay out rows under a header in plain-text columns."""
    every = [tuple(header), *map(tuple, rows)]
    widths = [max(len(row[i]) for row in every) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in every
    )
