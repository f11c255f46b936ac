"""A loopback HTTP server that answers each request with the next scripted step.

For the cases a faithful sandbox never produces: a body without the expected
envelope, a token of the wrong type, a status the service does not use.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
import socket
import struct

from aiohttp import web

type Step = Callable[[web.Request], Awaitable[web.StreamResponse]]


def reply(
    status: int = 200,
    body: object = None,
    *,
    headers: dict[str, str] | None = None,
    raw: bytes | None = None,
) -> Step:
    """A step answering with JSON `body` (or `raw` bytes)."""

    async def step(_request: web.Request) -> web.StreamResponse:
        if raw is not None:
            return web.Response(
                status=status,
                body=raw,
                headers=headers,
                content_type="application/json",
            )
        if body is None:
            return web.Response(status=status, headers=headers)
        return web.json_response(body, status=status, headers=headers)

    return step


def hang(seconds: float) -> Step:
    """A step answering only after `seconds` (longer than the client waits)."""

    async def step(_request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(seconds)
        return web.json_response({"late": True})

    return step


async def reset(request: web.Request) -> web.StreamResponse:
    """A step that resets the TCP connection instead of answering."""
    transport = request.transport
    assert transport is not None
    transport.get_extra_info("socket").setsockopt(
        socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
    )
    transport.abort()
    return web.Response()


@dataclass
class ScriptedServer:
    """Answers request n with step n; remembers what it was asked."""

    url: str
    steps: list[Step] = field(default_factory=list)
    seen: list[tuple[str, str]] = field(default_factory=list)

    def script(self, *steps: Step) -> None:
        self.steps.extend(steps)


@asynccontextmanager
async def run_scripted_server() -> AsyncIterator[ScriptedServer]:
    """Serve a script on a free loopback port until the block ends."""
    scripted = ScriptedServer(url="")

    async def handle(request: web.Request) -> web.StreamResponse:
        scripted.seen.append((request.method, request.path_qs))
        return await scripted.steps.pop(0)(request)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app, shutdown_timeout=0.1, handler_cancellation=True)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        scripted.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
        yield scripted
    finally:
        await runner.cleanup()
