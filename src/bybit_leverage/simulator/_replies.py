"""What a handler reads and what it answers: ``Call``, ``Reply`` and Bybit's envelope.

Every JSON answer is Bybit's V5 envelope
(https://bybit-exchange.github.io/docs/v5/intro): ``retCode``, ``retMsg``,
``result``, ``retExtInfo`` and ``time`` (ms). A reply's ``time`` is stamped when
it is written, not when the handler ran, as on Bybit. HTTP-level refusals
(a 403 IP ban, a 5xx) come as HTML pages, the way Bybit's CDN sends them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from attrs import define, field, frozen

from bybit_leverage import _constants as c
from bybit_leverage.simulator._faults import Fault

if TYPE_CHECKING:
    from bybit_leverage.simulator._market import Universe
    from bybit_leverage.simulator._state import SimAccount, SimKey

__all__ = ["Call", "Refused", "Reply", "fault_reply", "param_error", "refuse"]

FORBIDDEN_HTML: Final = (
    "<html><head><title>403 Forbidden</title></head><body>"
    "<center><h1>403 Forbidden</h1></center><p>access too frequent</p>"
    "</body></html>"
)
_ERROR_HTML: Final = "<html><body><h1>{status} {reason}</h1></body></html>"
_REASONS: Final = {
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}
#: The body of a ``malformed_json`` fault: an envelope cut off inside its list.
BROKEN_JSON: Final = '{"retCode":0,"retMsg":"OK","result":{"list":['


@frozen
class Call:
    """One request as an endpoint handler sees it, after authentication.

    Attributes:
        method: HTTP method.
        query: Query parameters, decoded once (the first value of each name).
        body: The raw request body.
        now_ms: The server's wall time (ms) when the request was handled.
        universe: Every listed instrument.
        account: The authenticated account (private endpoints only).
        key: The API key that signed the request (private endpoints only).
    """

    method: str
    query: Mapping[str, str]
    body: bytes
    now_ms: int
    universe: Universe
    account: SimAccount | None = None
    key: SimKey | None = None

    def private(self) -> tuple[SimAccount, SimKey]:
        """Return the caller's account and key (private routes always have both).

        Raises:
            RuntimeError: On a public route, where nobody is authenticated.
        """
        if self.account is None or self.key is None:
            raise RuntimeError("a private handler was routed as public")
        return self.account, self.key


@define
class Reply:
    """What to answer; turned into a web response (or an abort) in one place.

    A reply with ``text`` is sent as that body; otherwise it is an envelope of
    ``ret_code``, ``ret_msg`` and ``result``. ``status`` ``None`` aborts the
    connection without an answer.
    """

    status: int | None
    ret_code: int | None = None
    ret_msg: str = ""
    result: Mapping[str, Any] | None = None
    text: str | None = None
    content_type: str = "application/json"
    headers: dict[str, str] = field(factory=dict)
    uid: int | None = None

    @classmethod
    def envelope(
        cls,
        ret_code: int,
        ret_msg: str,
        result: Mapping[str, Any] | None = None,
        *,
        status: int = 200,
    ) -> Reply:
        """A JSON envelope (HTTP 200 unless ``status`` says otherwise)."""
        return cls(status, ret_code, ret_msg, result)

    @classmethod
    def ok(cls, result: Mapping[str, Any] | None = None) -> Reply:
        """A success envelope (retCode 0, ``OK``)."""
        return cls(200, c.OK, "OK", result)

    @classmethod
    def page(cls, status: int, text: str, content_type: str = "text/html") -> Reply:
        """A raw body, such as an HTML error page or a broken JSON document."""
        return cls(status, None, text=text, content_type=content_type)

    def render(self, now_ms: int) -> str:
        """Return the body to send, stamping an envelope with ``now_ms``."""
        if self.text is not None:
            return self.text
        return json.dumps(
            {
                "retCode": self.ret_code,
                "retMsg": self.ret_msg,
                "result": {} if self.result is None else self.result,
                "retExtInfo": {},
                "time": now_ms,
            },
            separators=(",", ":"),
        )


class Refused(Exception):
    """A rule refused the request with this reply."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.ret_code)
        self.reply = reply


def refuse(ret_code: int, ret_msg: str, *, status: int = 200) -> Refused:
    """Return (for ``raise``) a refusal with an envelope."""
    return Refused(Reply.envelope(ret_code, ret_msg, status=status))


def param_error(message: str) -> Refused:
    """Return (for ``raise``) a retCode 10001 refusal."""
    return refuse(c.PARAM_ERROR, message)


def fault_reply(fault: Fault) -> Reply:
    """The answer a fault gives in place of the handler's.

    Raises:
        ValueError: For faults that do not replace the answer (reset, hang,
            truncated, reset_after_write).
    """
    if fault is Fault.RET_10016:
        return Reply.envelope(c.SERVER_ERROR, "Internal System Error.")
    if fault is Fault.RET_10002:
        return Reply.envelope(
            c.TIMESTAMP_ERROR,
            "invalid request, please check your server timestamp or recv_window param",
        )
    if fault in (Fault.RET_10006, Fault.RET_10006_NO_RESET, Fault.RET_10006_FAR_RESET):
        return Reply.envelope(c.TOO_MANY_VISITS, "Too many visits!")
    if fault is Fault.MALFORMED_JSON:
        return Reply.page(200, BROKEN_JSON, "application/json")
    if fault is Fault.HTTP_403:
        return Reply.page(403, FORBIDDEN_HTML)
    if fault.value.startswith("http_"):
        status = int(fault.value.removeprefix("http_"))
        return Reply.page(
            status, _ERROR_HTML.format(status=status, reason=_REASONS[status])
        )
    raise ValueError(f"fault {fault.value!r} does not replace the answer")
