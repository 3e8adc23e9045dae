"""A small HTTP/1.1 client for the Bot API requests made thousands of times a second.

Every citizen's answer needs two requests (the edited question and the button answer),
and every poll one more. aiohttp's client spends about 270 µs of CPU on such a JSON POST
even against a local server: request and response objects, header multidicts, timers,
cookie and tracing hooks. This client spends about 70 µs, because it does only what those
requests need: POST a JSON body to one origin over kept-alive connections (TLS for https)
and read the answer. Anything else — file uploads, the rarer methods — stays on aiohttp
(`bot.telegram.json_session`).

The answer is read by aiohttp's own response parser (llhttp, Node.js's parser, in C), fed
as the bytes arrive: whatever an endpoint sends, each byte is looked at once, sizes and
digits are checked as HTTP allows them (a chunk size is hex digits whose value fits in 64
bits, a status three ASCII digits, a `Content-Length` ASCII digits), and an answer is capped
(`MAX_HEAD_BYTES`, `MAX_ANSWER_BYTES`); the caller's deadline covers all of it. It costs
about 5 µs per answer. h11, the pure-Python alternative, costs about 55 µs per request:
with two requests behind each citizen's answer, a quarter more of the bot's CPU. The
hand-written parser it replaces could be frozen by one hostile answer: a negative chunk size
sent it round in circles on the event loop, an endless body was kept whole, and an answer in
many small pieces was parsed again from its start at each read.

Like aiohttp, it never sends a request twice: a request whose connection fails is an
error for the caller to handle, since a Bot API call such as `sendMessage` is not
idempotent. Idle connections older than `IDLE_SECONDS` are dropped before the server's
own keep-alive limit can close them under a request.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from urllib.parse import urlsplit

from aiohttp import StreamReader
from aiohttp.base_protocol import BaseProtocol
from aiohttp.http import HttpProcessingError, HttpResponseParser

#: Requests in flight at once; more wait for a connection (aiohttp's default limit).
CONNECTION_LIMIT = 100
#: An idle connection is not reused after this long (servers close them after 60 s or so).
IDLE_SECONDS = 15.0
#: The most an answer may send before its header block is complete.
MAX_HEAD_BYTES = 64 * 1024
#: The most an answer may send in all, framing included; the largest Bot API answer, a
#: full `getUpdates`, is a few hundred KiB.
MAX_ANSWER_BYTES = 16 * 1024 * 1024


class HttpProtocolError(Exception):
    """The connection broke or the server answered with something that is not HTTP/1.x."""


class ConnectionFailed(OSError):
    """No connection could be made, so the request never left: sending it again is safe."""


class _Connection(asyncio.Protocol):
    """One TCP (or TLS) connection; one request at a time, its answer parsed as it arrives."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.idle_since = time.monotonic()
        self.reusable = True
        self._closed = False
        # The parser's body buffer reports to this for flow control, which is never needed:
        # the body is taken out at every read, and the caps are below the buffer's limits.
        self._flow = BaseProtocol(asyncio.get_running_loop())
        self._answer: asyncio.Future[tuple[int, bytes]] | None = None
        self._parser: HttpResponseParser | None = None
        self._received = 0  # bytes of this answer so far
        self._status = 0
        self._payload: StreamReader | None = None  # the answer's body, once its head is read
        self._body = bytearray()

    @property
    def closed(self) -> bool:
        return self._closed or self.transport is None or self.transport.is_closing()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        if self._answer is None or self._answer.done():
            return
        if self._parser is not None and self._payload is not None:
            with contextlib.suppress(HttpProcessingError):  # too short for its framing
                self._parser.feed_eof()  # an answer framed by the close ends here
            if self._payload.is_eof():
                self._finish()
                return
        reason = f": {exc}" if exc else ""
        self._answer.set_exception(
            HttpProtocolError(f"connection closed before the answer was complete{reason}")
        )

    def request(self, head: bytes, body: bytes) -> asyncio.Future[tuple[int, bytes]]:
        assert self.transport is not None
        loop = asyncio.get_running_loop()
        self._answer = loop.create_future()
        # A fresh parser for each answer: nothing a previous answer left half-read carries over.
        self._parser = HttpResponseParser(
            self._flow, loop, MAX_ANSWER_BYTES, read_until_eof=True, auto_decompress=False
        )
        self._received, self._payload, self._body = 0, None, bytearray()
        self.transport.write(head + body)
        return self._answer

    def close(self) -> None:
        self._closed = True
        if self.transport is not None:
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        if self._answer is None or self._answer.done():
            self.reusable = False  # bytes nobody asked for: the framing is lost
            self.close()
            return
        self._received += len(data)
        try:
            if self._received > MAX_ANSWER_BYTES:
                raise HttpProtocolError(f"answer over {MAX_ANSWER_BYTES >> 20} MiB")
            self._read(data)
        except HttpProcessingError as error:
            # The parser's own text spans lines, with a caret under the byte it stopped at,
            # and quotes the line it stopped in, however long.
            words = " ".join(word for word in error.message.split() if word != "^")
            self._fail(HttpProtocolError(f"not an HTTP answer: {words[:200]}"))
        except HttpProtocolError as error:
            self._fail(error)

    def _read(self, data: bytes) -> None:
        assert self._parser is not None
        messages, upgraded, _ = self._parser.feed_data(data)
        if upgraded:
            raise HttpProtocolError("the server switched protocols")
        for message, payload in messages:
            if message.code < 200:
                continue  # an interim answer (100 Continue): the real one follows
            if self._payload is not None:
                self.reusable = False  # a second answer to one request: the framing is lost
                break
            length = message.headers.get("Content-Length")  # ASCII digits, the parser checked
            if length is not None and int(length) > MAX_ANSWER_BYTES:
                raise HttpProtocolError(f"answer over {MAX_ANSWER_BYTES >> 20} MiB")
            self._status, self._payload = message.code, payload
            if message.should_close:
                self.reusable = False
        if self._payload is None:
            if self._received > MAX_HEAD_BYTES:
                raise HttpProtocolError("answer header too long")
            return
        # Taken out at every read, so the parser's buffer never holds more than one read.
        self._body += self._payload.read_nowait()
        if self._payload.is_eof():
            self._finish()

    def _finish(self) -> None:
        assert self._answer is not None
        self.idle_since = time.monotonic()
        self._answer.set_result((self._status, bytes(self._body)))

    def _fail(self, error: HttpProtocolError) -> None:
        assert self._answer is not None
        self.reusable = False
        self._answer.set_exception(error)
        self.close()


class KeepAliveClient:
    """JSON POSTs to one origin (`http(s)://host[:port]`) over a pool of connections."""

    def __init__(self, origin: str, limit: int = CONNECTION_LIMIT) -> None:
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) origin: {origin!r}")
        self._host = parts.hostname
        self._tls = ssl.create_default_context() if parts.scheme == "https" else None
        self._port = parts.port or (443 if self._tls else 80)
        default_port = self._port == (443 if self._tls else 80)
        host_header = self._host if default_port else f"{self._host}:{self._port}"
        self._headers = (
            f"Host: {host_header}\r\nUser-Agent: civicpulse\r\n"
            "Content-Type: application/json\r\nContent-Length: "
        )
        self._idle: list[_Connection] = []
        self._slots = asyncio.Semaphore(limit)

    async def post_json(self, path: str, body: bytes, timeout: float) -> tuple[int, bytes]:
        """(status, body) of the answer to a POST of a JSON `body` to `path`.

        Raises `TimeoutError` after `timeout` seconds, `ConnectionFailed` if the server
        cannot be reached, `HttpProtocolError` (or another `OSError`) if the connection
        breaks or the answer is not HTTP.
        """
        head = f"POST {path} HTTP/1.1\r\n{self._headers}{len(body)}\r\n\r\n".encode("latin-1")
        async with self._slots, asyncio.timeout(timeout):
            connection = await self._connection()
            try:
                answer = await connection.request(head, body)
            except BaseException:
                connection.close()  # an answer may still arrive: the framing is lost
                raise
            if connection.reusable and not connection.closed:
                self._idle.append(connection)
            else:
                connection.close()
            return answer

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()

    async def _connection(self) -> _Connection:
        stale_before = time.monotonic() - IDLE_SECONDS
        while self._idle:
            connection = self._idle.pop()
            if not connection.closed and connection.idle_since >= stale_before:
                return connection
            connection.close()
        try:
            _, connection = await asyncio.get_running_loop().create_connection(
                _Connection,
                self._host,
                self._port,
                ssl=self._tls,
                server_hostname=self._host if self._tls else None,
            )
        except OSError as error:
            where = f"{self._host}:{self._port}"
            raise ConnectionFailed(f"cannot connect to {where}: {error}") from error
        return connection
