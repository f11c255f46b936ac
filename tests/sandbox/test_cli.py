"""`python -m sandbox`: options, banner, and a real start on a free port."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
import json
from pathlib import Path
import socket
import sys

import aiohttp
import pytest

from custom_components.spacebring_tapkey.api.http import basic_auth_header
from custom_components.spacebring_tapkey.const import DOMAIN
from sandbox.__main__ import _banner, _parser
from sandbox.const import (
    SPACEBRING_CLIENT_ID,
    SPACEBRING_CLIENT_SECRET,
    TAPKEY_CLIENT_ID,
    TAPKEY_CLIENT_SECRET,
)
from sandbox.spacebring_demo import Scale
from sandbox.world import generate_world

__all__ = ["DOMAIN"]

REPO = Path(__file__).resolve().parents[2]


def test_options_and_their_defaults() -> None:
    """Port is required; host loopback, scale small, seed 1 by default."""
    args = _parser().parse_args(["--port", "8900"])
    assert (args.port, args.host, args.scale.label, args.seed, args.world) == (
        8900,
        "127.0.0.1",
        "small",
        1,
        None,
    )
    args = _parser().parse_args(
        ["--port", "1", "--scale", "750", "--seed", "3", "--world", "w.json"]
    )
    assert (args.scale.bookings, args.seed, args.world) == (750, 3, Path("w.json"))


def test_unknown_scale_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """argparse exits with status 2 and says why."""
    with pytest.raises(SystemExit) as caught:
        _parser().parse_args(["--port", "1", "--scale", "galactic"])
    assert caught.value.code == 2
    assert "--scale" in capsys.readouterr().err


def test_banner_prints_the_demo_credentials_and_the_world() -> None:
    """Everything a person needs to connect, and what world was made."""
    world = generate_world(
        seed=1, scale=Scale.parse("small"), now=datetime(2026, 5, 11, tzinfo=UTC)
    )
    banner = _banner("http://127.0.0.1:8900", world)
    for secret in (
        SPACEBRING_CLIENT_ID,
        SPACEBRING_CLIENT_SECRET,
        TAPKEY_CLIENT_ID,
        TAPKEY_CLIENT_SECRET,
    ):
        assert secret in banner
    assert "http://127.0.0.1:8900/api/v1/" in banner
    assert "World: demo coworking space, seed 1, scale small" in banner


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _start(*args: str) -> tuple[asyncio.subprocess.Process, list[str]]:
    """Start the sandbox; return it and its banner once it listens."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "sandbox",
        *args,
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert process.stdout is not None
    lines: list[str] = []
    async with asyncio.timeout(30):
        while not any(line.startswith("  Tapkey locking system") for line in lines):
            line = (await process.stdout.readline()).decode()
            assert line, f"sandbox exited early: {lines}"
            lines.append(line.rstrip("\n"))
    return process, lines


async def _stop(process: asyncio.subprocess.Process) -> None:
    process.terminate()
    await process.wait()


async def test_command_serves_the_demo_world(
    socket_enabled: None, sandbox_session: aiohttp.ClientSession
) -> None:
    """Start, read a location with the printed credentials, stop."""
    port = _free_port()
    process, banner = await _start("--port", str(port), "--seed", "5")
    try:
        assert banner[0] == f"Sandbox listening on http://127.0.0.1:{port}"
        async with sandbox_session.get(
            f"http://127.0.0.1:{port}/locations/v1",
            headers={
                "Authorization": basic_auth_header(
                    SPACEBRING_CLIENT_ID, SPACEBRING_CLIENT_SECRET
                )
            },
        ) as response:
            assert response.status == 200
            assert len((await response.json())["locations"]) == 2
    finally:
        await _stop(process)


async def test_command_replays_a_world_file(
    socket_enabled: None, sandbox_session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    """--world FILE serves that world; /_sandbox/world gives it back."""
    world = generate_world(
        seed=2, scale=Scale.parse("30"), now=datetime(2026, 5, 11, tzinfo=UTC)
    ).to_world()
    path = tmp_path / "world.json"
    path.write_text(json.dumps(world), encoding="utf-8")
    port = _free_port()
    process, banner = await _start("--port", str(port), "--world", str(path))
    try:
        assert f"World: loaded from {path}" in banner
        async with sandbox_session.get(
            f"http://127.0.0.1:{port}/_sandbox/world"
        ) as response:
            assert await response.json() == world
    finally:
        await _stop(process)
