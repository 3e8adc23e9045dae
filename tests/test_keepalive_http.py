"""The small HTTP/1.1 client behind the frequent Bot API requests, against servers that
answer in each way HTTP allows (and some it does not), written byte by byte here."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Self

import pytest

from bot.telegram.keepalive_http import ConnectionFailed, HttpProtocolError, KeepAliveClient

#: Writes the answer (or what passes for one) to a request just read, head and body.
Behaviour = Callable[[bytes, asyncio.StreamWriter], Awaitable[None]]
#: Given the request's body, returns the raw bytes to answer with (None: close silently).
Answerer = Callable[[bytes], bytes | None]


class ScriptedServer:
    """Reads one request at a time per connection (head and `Content-Length` body) and lets
    `behaviour` answer it; the connection stays open until the client or `behaviour`
    closes it."""

    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self.connections = 0
        self.requests: list[bytes] = []
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> Self:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()
        for handler in self._handlers:
            handler.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)

    @property
    def origin(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        handler = asyncio.current_task()
        assert handler is not None
        self._handlers.add(handler)
        try:
            while not writer.is_closing():
                request = await read_request(reader)
                self.requests.append(request)
                await self.behaviour(request, writer)
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass  # the client is gone, or the test is over (see __aexit__)
        finally:
            writer.close()


async def read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    lengths = [
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    ]
    return head + await reader.readexactly(lengths[0] if lengths else 0)


class RawServer(ScriptedServer):
    """Answers each POST with `answerer`'s bytes."""

    def __init__(
        self, answerer: Answerer, close_after: bool = False, dribble: bool = False
    ) -> None:
        super().__init__(self._answer)
        self.answerer = answerer
        self.close_after = close_after  # frame each answer by closing the connection
        self.dribble = dribble  # write each answer a byte at a time, each read on its own
        self.delay = 0.0

    async def _answer(self, request: bytes, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(self.delay)
        answer = self.answerer(request.partition(b"\r\n\r\n")[2])
        if answer is None:
            writer.close()
            return
        for piece in [answer[n : n + 1] for n in range(len(answer))] if self.dribble else [answer]:
            writer.write(piece)
            await writer.drain()
            await asyncio.sleep(0)
        if self.close_after:
            writer.close()


def framed(body: bytes, *headers: str, status: str = "200 OK") -> bytes:
    lines = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@pytest.fixture
async def client() -> AsyncIterator[Callable[[str], KeepAliveClient]]:
    made: list[KeepAliveClient] = []

    def make(origin: str) -> KeepAliveClient:
        made.append(KeepAliveClient(origin))
        return made[-1]

    yield make
    for each in made:
        await each.close()


async def test_requests_share_one_kept_alive_connection(
    client: Callable[..., KeepAliveClient],
) -> None:
    async with RawServer(lambda body: framed(b'{"echo":' + body + b"}")) as server:
        host = server.origin.removeprefix("http://")
        http = client(server.origin)
        for n in range(3):
            status, body = await http.post_json("/bot1:x/getMe", b"%d" % n, timeout=5)
            assert (status, body) == (200, b'{"echo":%d}' % n)
    assert server.connections == 1
    first = server.requests[0]
    assert first.startswith(b"POST /bot1:x/getMe HTTP/1.1\r\n")
    assert b"\r\nContent-Type: application/json\r\n" in first
    assert f"\r\nHost: {host}\r\n".encode() in first


async def test_a_chunked_answer_is_put_together(client: Callable[..., KeepAliveClient]) -> None:
    chunked = (
        b"HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n"
        b'5;ext=1\r\n{"ok"\r\n'
        b'B\r\n:false, "x"\r\n'
        b"3\r\n:1}\r\n"
        b"0\r\nTrailer: yes\r\n\r\n"
    )
    async with RawServer(lambda _body: chunked) as server:
        http = client(server.origin)
        for _ in range(2):
            assert await http.post_json("/m", b"{}", timeout=5) == (400, b'{"ok":false, "x":1}')
    assert server.connections == 1


async def test_an_answer_arriving_a_byte_at_a_time_is_put_together(
    client: Callable[..., KeepAliveClient],
) -> None:
    chunked = (
        b"HTTP/1.1 100 Continue\r\n\r\n"  # an interim answer: the real one follows
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b'6\r\n{"ok":\r\n5\r\ntrue}\r\n0\r\n\r\n'
    )
    async with RawServer(lambda _body: chunked, dribble=True) as server:
        http = client(server.origin)
        for _ in range(2):
            assert await http.post_json("/m", b"{}", timeout=5) == (200, b'{"ok":true}')
    assert server.connections == 1


@pytest.mark.parametrize(
    ("answer", "close_after"),
    [
        (framed(b"body", "Connection: close"), False),  # the server says so
        (b"HTTP/1.0 200 OK\r\n\r\nbody", True),  # no length: the close ends the answer
        (framed(b"body") + framed(b"more"), False),  # a second answer: the framing is lost
    ],
)
async def test_a_connection_the_answer_ends_is_not_reused(
    client: Callable[..., KeepAliveClient], answer: bytes, close_after: bool
) -> None:
    async with RawServer(lambda _body: answer, close_after=close_after) as server:
        http = client(server.origin)
        for _ in range(2):
            assert await http.post_json("/m", b"{}", timeout=5) == (200, b"body")
    assert server.connections == 2


@pytest.mark.parametrize(
    ("answer", "close_after"),
    [
        (None, False),  # nothing at all
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nbody", True),  # a shorter body
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nbody\r\n", True),
    ],
)
async def test_a_connection_closed_before_the_answer_is_an_error(
    client: Callable[..., KeepAliveClient], answer: bytes | None, close_after: bool
) -> None:
    async with RawServer(lambda _body: answer, close_after=close_after) as server:
        with pytest.raises(HttpProtocolError, match="closed before the answer"):
            await client(server.origin).post_json("/m", b"{}", timeout=5)


@pytest.mark.parametrize(
    "garbage",
    [
        b"SSH-2.0-OpenSSH\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: ten\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n",
    ],
)
async def test_an_answer_that_is_not_http_is_an_error(
    client: Callable[..., KeepAliveClient], garbage: bytes
) -> None:
    async with RawServer(lambda _body: garbage) as server:
        with pytest.raises(HttpProtocolError):
            await client(server.origin).post_json("/m", b"{}", timeout=5)


async def test_no_server_means_the_request_never_left(
    client: Callable[..., KeepAliveClient],
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        origin = f"http://127.0.0.1:{probe.getsockname()[1]}"
    with pytest.raises(ConnectionFailed, match="cannot connect"):
        await client(origin).post_json("/m", b"{}", timeout=5)


async def test_a_slow_answer_times_out_and_its_connection_is_dropped(
    client: Callable[..., KeepAliveClient],
) -> None:
    async with RawServer(lambda body: framed(body)) as server:
        http = client(server.origin)
        server.delay = 0.5
        with pytest.raises(TimeoutError):
            await http.post_json("/m", b"slow", timeout=0.2)
        server.delay = 0.0
        assert await http.post_json("/m", b"fast", timeout=5) == (200, b"fast")
    assert server.connections == 2, "the timed-out connection is not reused"


def test_only_http_origins_are_accepted() -> None:
    with pytest.raises(ValueError, match="not an http"):
        KeepAliveClient("ftp://example.org")
