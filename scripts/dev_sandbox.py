"""The demo sandbox for scripts/develop, with Tapkey sign-ins that outlive it.

`python -m scripts.dev_sandbox --port N --tokens FILE`

Serves the same demo world as `python -m sandbox --port N`: generated around
now on every start, with the same ids each time (the world is seeded), so an
entry Home Assistant made in an earlier session still finds its location and
locking system. A fresh world would not know that entry's Tapkey tokens,
though, and Home Assistant would ask for a new sign-in on every start. So the
tokens the sandbox has issued are kept in FILE (rewritten when they change
and on exit) and issued again on the next start.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from datetime import datetime
import json
from pathlib import Path
import signal
from typing import Any, Final

from sandbox.clock import SandboxClock
from sandbox.server import run_sandbox
from sandbox.spacebring_demo import Scale
from sandbox.tapkey_oauth import IssuedToken, OAuthRegistry
from sandbox.world import generate_world

DEMO_SEED: Final = 1  # the seed `python -m sandbox` uses by default
SAVE_INTERVAL: Final = 2.0  # seconds between checks for new or rotated tokens

type TokenTable = dict[str, IssuedToken]


def _token_tables(oauth: OAuthRegistry) -> dict[str, TokenTable]:
    return {
        "access_tokens": oauth.access_tokens,
        "refresh_tokens": oauth.refresh_tokens,
    }


def usable_tokens(oauth: OAuthRegistry, now: datetime) -> dict[str, Any]:
    """The tokens still usable at `now`, as JSON."""
    return {
        kind: {
            token: {
                "client_id": issued.client_id,
                "scopes": sorted(issued.scopes),
                "expires_at": issued.expires_at.isoformat(),
            }
            for token, issued in table.items()
            if issued.usable(now)
        }
        for kind, table in _token_tables(oauth).items()
    }


def restore_tokens(oauth: OAuthRegistry, saved: dict[str, Any]) -> None:
    """Issue the saved tokens again."""
    for kind, table in _token_tables(oauth).items():
        for token, issued in saved.get(kind, {}).items():
            table[token] = IssuedToken(
                client_id=issued["client_id"],
                scopes=frozenset(issued["scopes"]),
                expires_at=datetime.fromisoformat(issued["expires_at"]),
            )


async def _keep_tokens(
    oauth: OAuthRegistry, clock: SandboxClock, path: Path, stop: asyncio.Event
) -> None:
    """Rewrite `path` whenever the usable tokens change, until `stop`."""
    written: dict[str, Any] | None = None
    while True:
        tokens = usable_tokens(oauth, clock.now())
        if tokens != written:
            await asyncio.to_thread(path.write_text, json.dumps(tokens), "utf-8")
            written = tokens
        if stop.is_set():
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), SAVE_INTERVAL)


async def _serve(port: int, tokens_path: Path) -> None:
    clock = SandboxClock()
    world = generate_world(seed=DEMO_SEED, scale=Scale.parse("small"), now=clock.now())
    with contextlib.suppress(FileNotFoundError):  # the first start
        text = await asyncio.to_thread(tokens_path.read_text, "utf-8")
        restore_tokens(world.tapkey.oauth, json.loads(text))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with run_sandbox(world, clock=clock, port=port) as sandbox:
        print(f"Sandbox listening on {sandbox.base_url}", flush=True)
        print("\n".join(world.summary()), flush=True)
        await _keep_tokens(world.tapkey.oauth, clock, tokens_path, stop)


def main() -> None:
    """Serve until SIGINT or SIGTERM."""
    parser = argparse.ArgumentParser(prog="python -m scripts.dev_sandbox")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument(
        "--tokens", type=Path, required=True, help="file that keeps issued tokens"
    )
    args = parser.parse_args()
    asyncio.run(_serve(args.port, args.tokens))


if __name__ == "__main__":
    main()
