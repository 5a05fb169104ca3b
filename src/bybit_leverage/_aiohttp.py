"""The default transport: HTTP over an aiohttp session, owned or borrowed.

This is the only module on the client side that imports aiohttp; its exceptions
are translated here into this package's transport errors and go no further.
"""

from __future__ import annotations

import aiohttp
from yarl import URL

from bybit_leverage.errors import ClientClosed, ConnectionFailed, RequestTimeout
from bybit_leverage.transport import HTTPRequest, HTTPResponse

__all__ = ["AiohttpTransport"]


class AiohttpTransport:
    """Send requests over an aiohttp session.

    The session is created inside the running loop on first use, never in
    ``__init__``; a session passed in is borrowed and never closed here.

    Args:
        session: A session to borrow, or ``None`` to own one.
    """

    def __init__(self, session: aiohttp.ClientSession | None = None) -> None:
        self._session = session
        self._owns_session = session is None
        self._closed = False
        self._timeouts: dict[float, aiohttp.ClientTimeout] = {}

    @property
    def session_open(self) -> bool:
        """Whether a session exists and is open (owned or borrowed)."""
        return self._session is not None and not self._session.closed

    def _open(self) -> aiohttp.ClientSession:
        if self._closed:
            raise ClientClosed()
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session

    async def send(self, request: HTTPRequest) -> HTTPResponse:
        """Send one request; a missing answer raises a transport error.

        Raises:
            ConnectionFailed: The connection failed, broke or was refused.
            RequestTimeout: No whole answer within ``request.timeout``.
            ClientClosed: After :meth:`aclose`.
        """
        session = self._open()
        timeout = self._timeouts.get(request.timeout)
        if timeout is None:  # one object per setting, not one per request
            timeout = self._timeouts[request.timeout] = aiohttp.ClientTimeout(
                total=request.timeout
            )
        try:
            async with session.request(
                request.method,
                URL(request.url, encoded=True),  # the signed bytes, not re-encoded
                data=request.body,
                headers=request.headers,
                timeout=timeout,
            ) as resp:
                body = await resp.read()
                return HTTPResponse(resp.status, body, resp.headers)
        except TimeoutError as exc:  # includes aiohttp.ServerTimeoutError
            raise RequestTimeout(
                request.path, f"no answer within {request.timeout}s"
            ) from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise ConnectionFailed(
                request.path, f"{type(exc).__name__}: {exc}"
            ) from exc

    async def aclose(self) -> None:
        """Close the owned session (once); a borrowed one is left open."""
        if self._closed:
            return
        self._closed = True
        if self._owns_session and self._session is not None:
            await self._session.close()
