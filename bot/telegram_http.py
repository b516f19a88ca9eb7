"""The Bot API's HTTP client: python-telegram-bot's request interface over aiohttp.

python-telegram-bot talks HTTP through a `BaseRequest`; its own is built on httpx, whose
pure-Python request path cost the relay more CPU than anything of the bot's own
(bench/README.md: a Bot API call 1.3–1.5 ms of CPU over httpx, 0.25–0.30 ms over aiohttp, which
parses HTTP in C and is a dependency already). python-telegram-bot's maintainers keep an
aiohttp request in ptbcontrib, which is not published on PyPI; this is the same idea, small
enough to own: python-telegram-bot still builds the request and turns every answer into its
errors (RetryAfter, Forbidden, BadRequest …); only the transport differs.

Time-outs keep their meaning: `read_timeout` is how long an answer may take once the request
is written (a send that times out may have been delivered: the dispatcher knows), the
connection pool and connecting have their own limits, and a ceiling on the whole call stands in
for the write time-out aiohttp does not have.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

FORM = "application/x-www-form-urlencoded"


def _chosen(value: Any, default: float | None) -> float | None:
    return default if isinstance(value, type(BaseRequest.DEFAULT_NONE)) else value


class AiohttpRequest(BaseRequest):
    """One aiohttp session with its own pool of `connection_pool_size` connections."""

    def __init__(self, connection_pool_size: int = 1, read_timeout: float | None = 5.0,
                 write_timeout: float | None = 5.0, connect_timeout: float | None = 5.0,
                 pool_timeout: float | None = 1.0, media_write_timeout: float | None = 20.0
                 ) -> None:
        self._pool_size = connection_pool_size
        self._read = read_timeout
        self._write = write_timeout
        self._connect = connect_timeout
        self._pool = pool_timeout
        self._media_write = media_write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            # No cookies: the Bot API sets none, and a jar is work on every answer.
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                cookie_jar=aiohttp.DummyCookieJar(), headers={"User-Agent": self.USER_AGENT})

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         read_timeout: Any = BaseRequest.DEFAULT_NONE,
                         write_timeout: Any = BaseRequest.DEFAULT_NONE,
                         connect_timeout: Any = BaseRequest.DEFAULT_NONE,
                         pool_timeout: Any = BaseRequest.DEFAULT_NONE) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.multipart_data if request_data else None
        fields = request_data.json_parameters if request_data else None
        data: Any = None
        if files:
            data = aiohttp.FormData(fields or {})
            for name, (filename, content, mimetype) in files.items():
                data.add_field(name, content, filename=filename, content_type=mimetype)
        elif fields:
            # Encoded here as aiohttp would (a form, UTF-8): given a dict, it first fails to
            # find a payload type for it, then builds a FormData and a multipart writer only
            # to encode it the same way, 1.6-1.8 % of the relay's CPU (bench/README.md).
            data = aiohttp.payload.BytesPayload(urlencode(fields, doseq=True).encode(),
                                                content_type=FORM)
        read = _chosen(read_timeout, self._read)
        write = _chosen(write_timeout, self._media_write if files else self._write)
        connect = _chosen(connect_timeout, self._connect)
        pool = _chosen(pool_timeout, self._pool)
        parts = (read, write, connect, pool)
        timeout = aiohttp.ClientTimeout(
            total=None if None in parts else sum(p for p in parts if p is not None),
            connect=None if pool is None or connect is None else pool + connect,
            sock_connect=connect, sock_read=read)
        try:
            async with self._session.request(method, url, data=data, timeout=timeout) as answer:
                return answer.status, await answer.read()
        except TimeoutError as error:  # aiohttp's time-outs are TimeoutErrors
            raise TimedOut from error
        except aiohttp.ClientError as error:
            # The class name only: an error's text may carry the URL, and the URL the token.
            raise NetworkError(f"aiohttp.{type(error).__name__}") from error

