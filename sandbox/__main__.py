"""`python -m sandbox --port N [--host H] [--scale S] [--seed S] [--world FILE]`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from pathlib import Path
import sys

from .clock import SandboxClock
from .const import (
    SPACEBRING_CLIENT_ID,
    SPACEBRING_CLIENT_SECRET,
    TAPKEY_CLIENT_ID,
    TAPKEY_CLIENT_SECRET,
)
from .server import run_sandbox
from .spacebring_demo import Scale
from .world import World, generate_world, load_world


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox",
        description="Local Spacebring and Tapkey APIs (and Tapkey OAuth) on one port.",
    )
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--scale",
        type=Scale.parse,
        default=Scale.parse("small"),
        help="small, large or a number of bookings (default: small)",
    )
    parser.add_argument("--seed", type=int, default=1, help="world seed (default: 1)")
    parser.add_argument(
        "--world", type=Path, help="load this world file instead of generating one"
    )
    return parser


def _banner(base_url: str, world: World) -> str:
    return "\n".join(
        [
            f"Sandbox listening on {base_url}",
            f"  Spacebring API:  {base_url}/  (HTTP Basic)",
            f"    client id:     {SPACEBRING_CLIENT_ID}",
            f"    client secret: {SPACEBRING_CLIENT_SECRET}",
            f"  Tapkey API:      {base_url}/api/v1/",
            f"  Tapkey OAuth:    {base_url}/connect/authorize and /connect/token",
            f"    client id:     {TAPKEY_CLIENT_ID}",
            f"    client secret: {TAPKEY_CLIENT_SECRET}",
            f"  Controls:        {base_url}/_sandbox/(world|clock|faults|traffic)",
            *world.summary(),
        ]
    )


async def _serve(args: argparse.Namespace) -> None:
    clock = SandboxClock()
    world = (
        load_world(args.world)
        if args.world
        else generate_world(seed=args.seed, scale=args.scale, now=clock.now())
    )
    async with run_sandbox(
        world, clock=clock, host=args.host, port=args.port
    ) as sandbox:
        print(_banner(sandbox.base_url, world), flush=True)
        await asyncio.Event().wait()


def main() -> None:
    """Run until interrupted."""
    args = _parser().parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))
    sys.exit(0)


if __name__ == "__main__":
    main()
