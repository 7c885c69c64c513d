"""A small HTTP server on loopback for the checker's tests: fixed answers per path, in a thread."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from aiohttp import web


@dataclass
class Answer:
    body: bytes = b""
    status: int = 200
    content_type: str = "text/html"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    hold: threading.Event | None = None  # answer only once it is set: a site that hangs until told


class WebServer:
    """Listens on each of `addresses` (loopback ones), all on one port."""

    def __init__(self, addresses: Sequence[str] = ("127.0.0.1",)) -> None:
        self.addresses = list(addresses)
        self.answers: dict[str, Answer] = {}
        self.hits: list[str] = []
        self.agents: list[str] = []
        self.reached: list[str] = []  # the local address each request came in on
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def url(self, path: str, host: str = "") -> str:
        return f"http://{host or self.addresses[0]}:{self.port}{path}"

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.hits.append(request.path_qs)
        self.agents.append(request.headers.get("User-Agent", ""))
        local = request.transport.get_extra_info("sockname") if request.transport else None
        self.reached.append(str(local[0]) if local else "")
        answer = self.answers.get(request.path)
        if answer is None:
            return web.Response(status=404, text="not found")
        if answer.delay:
            await asyncio.sleep(answer.delay)
        while answer.hold is not None and not answer.hold.is_set():
            await asyncio.sleep(0.02)
        return web.Response(
            body=answer.body, status=answer.status, content_type=answer.content_type, headers=answer.headers
        )

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_route("GET", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        for address in self.addresses:
            site = web.TCPSite(self._runner, address, self.port)
            await site.start()
            server = site._server
            assert server is not None and server.sockets
            self.port = server.sockets[0].getsockname()[1]

    def start(self) -> None:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


@contextmanager
def web_server(*addresses: str) -> Iterator[WebServer]:
    server = WebServer(addresses or ("127.0.0.1",))
    server.start()
    try:
        yield server
    finally:
        server.stop()
