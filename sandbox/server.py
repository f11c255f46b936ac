"""Run the sandbox on a loopback port, for the CLI, tests and benchmarks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiohttp import web

from .app import create_app
from .clock import SandboxClock
from .faults import FaultInjector
from .traffic import TrafficLog
from .world import World


@dataclass(frozen=True, slots=True)
class RunningSandbox:
    """A started sandbox: where it listens and the parts a test can drive."""

    base_url: str
    world: World
    clock: SandboxClock
    faults: FaultInjector
    traffic: TrafficLog


@asynccontextmanager
async def run_sandbox(
    world: World,
    *,
    clock: SandboxClock | None = None,
    faults: FaultInjector | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    shutdown_timeout: float = 1.0,
) -> AsyncIterator[RunningSandbox]:
    """Serve `world` on `host:port` (0 = a free port) until the block ends.

    `shutdown_timeout` bounds how long the exit waits for requests still in
    flight (an injected timeout sleeps far longer than any test).
    """
    clock = clock or SandboxClock()
    faults = faults or FaultInjector()
    traffic = TrafficLog()
    runner = web.AppRunner(
        create_app(world, clock, faults, traffic),
        shutdown_timeout=shutdown_timeout,
        access_log=None,
        # A client that gave up (an injected timeout) ends its handler too.
        handler_cancellation=True,
    )
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound_port = int(runner.addresses[0][1])
        yield RunningSandbox(
            f"http://{host}:{bound_port}", world, clock, faults, traffic
        )
    finally:
        await runner.cleanup()
