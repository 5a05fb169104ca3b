"""The seam under the request core: one HTTP exchange in, one answer out.

The request core (pacing, signing, retries, error mapping) talks to a
:class:`Transport`, never to aiohttp. The default transport sends over an aiohttp
session; :class:`MockTransport` answers from a function instead, so pacing,
signing, retries and error mapping can be tested without a socket (the model is
httpx's ``MockTransport``)::

    def handler(request: HTTPRequest) -> HTTPResponse:
        return HTTPResponse.envelope({"list": []})

    client = BybitClient(transport=MockTransport(handler))

A transport raises :class:`~bybit_leverage.errors.ConnectionFailed` or
:class:`~bybit_leverage.errors.RequestTimeout` when no answer came; every answer
that came, whatever its status, is returned.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable, Mapping
from types import MappingProxyType
from typing import Any, Protocol

from attrs import field, frozen

__all__ = ["HTTPRequest", "HTTPResponse", "MockTransport", "Transport"]


def _lower_keys(headers: Mapping[str, str]) -> Mapping[str, str]:
    if isinstance(headers, dict | MappingProxyType):  # plain: make lookups lower-case
        return MappingProxyType(
            {name.lower(): value for name, value in headers.items()}
        )
    return headers  # e.g. aiohttp's headers: already case-insensitive


@frozen
class HTTPRequest:
    """One request exactly as it goes on the wire.

    Attributes:
        method: ``"GET"`` or ``"POST"``.
        url: The whole URL, query included, already encoded: these bytes were signed.
        path: The endpoint path (``/v5/position/set-leverage``), for errors and logs.
        headers: Headers to send (the ``X-BAPI-*`` ones for a private endpoint).
        body: The raw JSON body of a POST (signed as is), else ``None``.
        timeout: Seconds the whole exchange may take.
    """

    method: str
    url: str
    path: str
    headers: Mapping[str, str] = field(repr=False)
    body: str | None = None
    timeout: float = 10.0


@frozen
class HTTPResponse:
    """One answer as it came back; header names are lower-cased.

    Attributes:
        status: The HTTP status.
        body: The raw body.
        headers: Response headers, looked up by lower-case name (a plain dict is
            lower-cased; a case-insensitive mapping is kept as it is).
    """

    status: int
    body: bytes = field(repr=False)
    headers: Mapping[str, str] = field(factory=dict, converter=_lower_keys)

    @classmethod
    def envelope(
        cls,
        result: Mapping[str, Any] | None = None,
        *,
        ret_code: int = 0,
        ret_msg: str = "OK",
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        time_ms: int | None = None,
    ) -> HTTPResponse:
        """A Bybit JSON envelope answer, for mock handlers."""
        body: dict[str, Any] = {
            "retCode": ret_code,
            "retMsg": ret_msg,
            "result": {} if result is None else dict(result),
            "retExtInfo": {},
        }
        if time_ms is not None:
            body["time"] = time_ms
        return cls(status, json.dumps(body).encode(), headers or {})


class Transport(Protocol):
    """Sends one :class:`HTTPRequest` and returns its :class:`HTTPResponse`."""

    async def send(self, request: HTTPRequest) -> HTTPResponse:
        """Send ``request``; raise a ``TransportError`` when no answer came."""
        ...

    async def aclose(self) -> None:
        """Release what the transport owns (a borrowed session stays open)."""
        ...


Handler = Callable[[HTTPRequest], HTTPResponse | Awaitable[HTTPResponse]]


class MockTransport:
    """A transport that answers every request with ``handler(request)``.

    The handler may be a plain or an async function, and may raise
    ``ConnectionFailed`` or ``RequestTimeout`` to stand for a broken exchange.
    Every request is kept in :attr:`requests`, in order.

    Args:
        handler: Builds the answer to one request.
    """

    def __init__(self, handler: Handler) -> None:
        self._handler = handler
        self.requests: list[HTTPRequest] = []
        self.closed = False

    async def send(self, request: HTTPRequest) -> HTTPResponse:
        """Record ``request`` and answer it with the handler."""
        self.requests.append(request)
        answer = self._handler(request)
        if inspect.isawaitable(answer):
            return await answer
        return answer

    async def aclose(self) -> None:
        """Mark the transport closed (it owns nothing)."""
        self.closed = True
