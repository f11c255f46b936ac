"""Fixtures that run the full sandbox on a free loopback port.

`sandbox` is a small demo world (seed 7) with a fast-failing fault injector:
an injected timeout answers after `SANDBOX_TIMEOUT_SECONDS`, so a client
under test needs a shorter request timeout. `sandbox_factory` starts
further sandboxes with another seed or scale; `sandbox_session` is an
aiohttp session closed after the test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Final

import aiohttp
import pytest

from custom_components.spacebring_tapkey.const import DOMAIN
from sandbox.clock import SandboxClock
from sandbox.faults import FaultInjector
from sandbox.server import RunningSandbox, run_sandbox
from sandbox.spacebring_demo import Scale
from sandbox.world import generate_world

__all__ = ["DOMAIN"]

SANDBOX_SEED: Final = 7
# An injected timeout holds the response this long; clients in tests use less.
SANDBOX_TIMEOUT_SECONDS: Final = 1.0


@dataclass
class RecordingSleep:
    """A client's sleep that records retry delays instead of waiting them out."""

    delays: list[float] = field(default_factory=list)

    async def __call__(self, delay: float) -> None:
        """Remember the delay; return at once."""
        self.delays.append(delay)


type SandboxFactory = Callable[..., Awaitable[RunningSandbox]]


@pytest.fixture
async def sandbox_factory(socket_enabled: None) -> AsyncIterator[SandboxFactory]:
    """Start sandboxes: `await sandbox_factory(seed=..., scale="small"|"large"|"N")`.

    Home Assistant's test plugin blocks sockets; a sandbox needs a listening
    one (clients still connect to 127.0.0.1 only).
    """
    async with AsyncExitStack() as stack:

        async def start(
            *, seed: int = SANDBOX_SEED, scale: str = "small"
        ) -> RunningSandbox:
            clock = SandboxClock()
            world = generate_world(seed=seed, scale=Scale.parse(scale), now=clock.now())
            faults = FaultInjector(seed=seed, timeout_seconds=SANDBOX_TIMEOUT_SECONDS)
            return await stack.enter_async_context(
                run_sandbox(world, clock=clock, faults=faults, shutdown_timeout=0.1)
            )

        yield start


@pytest.fixture
async def sandbox(sandbox_factory: SandboxFactory) -> RunningSandbox:
    """The small demo sandbox (base_url, world, clock, faults, traffic)."""
    return await sandbox_factory()


@pytest.fixture
async def sandbox_session() -> AsyncIterator[aiohttp.ClientSession]:
    """A client session for talking to the sandbox."""
    async with aiohttp.ClientSession() as session:
        yield session
