"""The sandbox application: Spacebring at the root, Tapkey under /api and
/connect, controls under /_sandbox, all on one port."""

from __future__ import annotations

from typing import Final

from aiohttp import web

from .clock import SandboxClock
from .control import ControlApi
from .faults import FaultInjector, fault_middleware
from .spacebring import SpacebringApi
from .tapkey import register_tapkey_routes
from .traffic import TrafficLog, traffic_middleware
from .world import World

WORLD_KEY: Final = web.AppKey("world", World)
CLOCK_KEY: Final = web.AppKey("clock", SandboxClock)
FAULTS_KEY: Final = web.AppKey("faults", FaultInjector)
TRAFFIC_KEY: Final = web.AppKey("traffic", TrafficLog)


def create_app(
    world: World,
    clock: SandboxClock,
    faults: FaultInjector,
    traffic: TrafficLog | None = None,
) -> web.Application:
    """Serve `world` with time from `clock` and failures from `faults`."""
    traffic = traffic or TrafficLog()
    # The traffic log sits outside the faults so it sees injected failures too.
    app = web.Application(
        middlewares=[traffic_middleware(traffic), fault_middleware(faults)]
    )
    app[WORLD_KEY] = world
    app[CLOCK_KEY] = clock
    app[FAULTS_KEY] = faults
    app[TRAFFIC_KEY] = traffic
    SpacebringApi(world.spacebring, clock).register(app)
    register_tapkey_routes(app, world.tapkey, clock.now)
    ControlApi(world, clock, faults, traffic).register(app)
    return app
