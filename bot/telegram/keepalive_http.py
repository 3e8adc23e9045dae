"""A small HTTP/1.1 client for the Bot API requests made thousands of times a second.

Every citizen's answer needs two requests (the edited question and the button answer),
and every poll one more. aiohttp's client spends about 270 µs of CPU on such a JSON POST
even against a local server: request and response objects, header multidicts, timers,
cookie and tracing hooks. This client spends about 70 µs, because it does only what those
requests need: POST a JSON body to one origin over kept-alive connections (TLS for https)
and read an answer framed by `Content-Length` or chunked. Anything else — file uploads,
the rarer methods — stays on aiohttp (`bot.telegram.json_session`).

Like aiohttp, it never sends a request twice: a request whose connection fails is an
error for the caller to handle, since a Bot API call such as `sendMessage` is not
idempotent. Idle connections older than `IDLE_SECONDS` are dropped before the server's
own keep-alive limit can close them under a request.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from urllib.parse import urlsplit

#: Requests in flight at once; more wait for a connection (aiohttp's default limit).
CONNECTION_LIMIT = 100
#: An idle connection is not reused after this long (servers close them after 60 s or so).
IDLE_SECONDS = 15.0
#: The longest header block accepted in an answer.
MAX_HEAD_BYTES = 64 * 1024


class HttpProtocolError(Exception):
    """The connection broke or the server answered with something that is not HTTP/1.x."""


class ConnectionFailed(OSError):
    """No connection could be made, so the request never left: sending it again is safe."""


class _Connection(asyncio.Protocol):
    """One TCP (or TLS) connection; one request at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.idle_since = time.monotonic()
        self.reusable = True
        self._buffer = bytearray()
        self._answer: asyncio.Future[tuple[int, bytes]] | None = None
        self._status = 0
        self._length: int | None = None  # None: chunked, or read until the connection closes
        self._chunked = False
        self._body_at = -1  # where the body starts in the buffer; -1 until the head is read
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed or self.transport is None or self.transport.is_closing()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        if self._answer is not None and not self._answer.done():
            if self._body_at >= 0 and self._length is None and not self._chunked:
                self._finish(bytes(self._buffer[self._body_at :]))  # framed by the close
            else:
                reason = f": {exc}" if exc else ""
                self._answer.set_exception(
                    HttpProtocolError(f"connection closed before the answer was complete{reason}")
                )

    def request(self, head: bytes, body: bytes) -> asyncio.Future[tuple[int, bytes]]:
        assert self.transport is not None
        self._answer = asyncio.get_running_loop().create_future()
        self._buffer.clear()
        self._body_at, self._length, self._chunked = -1, None, False
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
        self._buffer += data
        try:
            if self._body_at < 0 and not self._read_head():
                return
            self._read_body()
        except HttpProtocolError as error:
            self.reusable = False
            self._answer.set_exception(error)
            self.close()

    def _read_head(self) -> bool:
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self._buffer) > MAX_HEAD_BYTES:
                raise HttpProtocolError("answer header too long")
            return False
        lines = bytes(self._buffer[:end]).decode("latin-1").split("\r\n")
        version, _, rest = lines[0].partition(" ")
        if not version.startswith("HTTP/1.") or not rest[:3].isdigit():
            raise HttpProtocolError(f"not an HTTP answer: {lines[0][:100]!r}")
        self._status = int(rest[:3])
        keep_alive = version == "HTTP/1.1"
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name, value = name.strip().lower(), value.strip().lower()
            if name == "content-length":
                if not value.isdigit():
                    raise HttpProtocolError(f"bad Content-Length: {value!r}")
                self._length = int(value)
            elif name == "transfer-encoding":
                self._chunked = value.endswith("chunked")
            elif name == "connection":
                keep_alive = value == "keep-alive" or (keep_alive and value != "close")
        if self._chunked:
            self._length = None
        self.reusable = keep_alive and (self._chunked or self._length is not None)
        self._body_at = end + 4
        return True

    def _read_body(self) -> None:
        if self._chunked:
            body = self._dechunk()
            if body is not None:
                self._finish(body)
        elif self._length is not None and len(self._buffer) - self._body_at >= self._length:
            self._finish(bytes(self._buffer[self._body_at : self._body_at + self._length]))

    def _dechunk(self) -> bytes | None:
        """The whole body once its last chunk has arrived, else None."""
        parts, at, buffer = [], self._body_at, self._buffer
        while True:
            line_end = buffer.find(b"\r\n", at)
            if line_end < 0:
                return None
            size_text = bytes(buffer[at:line_end]).split(b";")[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise HttpProtocolError(f"bad chunk size: {size_text[:20]!r}") from None
            at = line_end + 2
            if size == 0:
                # The last chunk; an empty line (after any trailers) ends the answer.
                if buffer.startswith(b"\r\n", at):
                    return b"".join(parts)
                return b"".join(parts) if buffer.find(b"\r\n\r\n", at) >= 0 else None
            if len(buffer) < at + size + 2:
                return None
            if buffer[at + size : at + size + 2] != b"\r\n":
                raise HttpProtocolError("a chunk is longer than its size says")
            parts.append(bytes(buffer[at : at + size]))
            at += size + 2

    def _finish(self, body: bytes) -> None:
        assert self._answer is not None
        self.idle_since = time.monotonic()
        self._answer.set_result((self._status, body))


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
