"""Run the sandbox and a Home Assistant dev instance that talks to it.

`python -m scripts.dev_instance [--config DIR] [--port N] [--sandbox-port N]
[--ready-file FILE]` (scripts/develop runs it after scripts/setup; the
browser test runs it on free ports in a temporary directory).

It links the integration into DIR/custom_components, starts the demo sandbox
and Home Assistant with the developer override pointing at the sandbox,
onboards Home Assistant and registers the sandbox's Tapkey OAuth client (both
only when not done yet), prints what to do, and stops both processes on
Ctrl-C or SIGTERM. If either process ends on its own, the other is stopped too.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager, suppress
from dataclasses import dataclass
import json
import os
from pathlib import Path
import shutil
import signal
import socket
import subprocess
import sys
import time
from typing import TYPE_CHECKING, Final

import aiohttp

from custom_components.spacebring_tapkey.const import DOMAIN, SANDBOX_URL_ENV
from sandbox.const import SPACEBRING_CLIENT_ID, SPACEBRING_CLIENT_SECRET
from sandbox.spacebring_demo import MAIN_LOCATION_TITLE
from sandbox.tapkey_generate import DEMO_OWNER_NAME

from .dev_onboard import DEV_PASSWORD, DEV_USERNAME, HomeAssistantApiError, prepare
from .dev_requirements import ensure_requirements

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

REPO: Final = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG: Final = REPO / "config"
# configuration.yaml reads the port and URL from these (default 8123).
PORT_ENV: Final = "SPACEBRING_TAPKEY_DEV_PORT"
URL_ENV: Final = "SPACEBRING_TAPKEY_DEV_URL"
# Set by scripts/develop to its start time, so "ready" counts the set-up too.
STARTED_ENV: Final = "SPACEBRING_TAPKEY_DEVELOP_STARTED"
START_TIMEOUT: Final = 240.0
STOP_TIMEOUT: Final = 30.0


@dataclass(frozen=True, slots=True)
class Layout:
    """Where the instance keeps its files, and its ports."""

    config: Path
    port: int
    sandbox_port: int
    # Packages Home Assistant needs beyond .venv (see dev_requirements).
    deps: Path

    @property
    def url(self) -> str:
        """Home Assistant's URL."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def sandbox_url(self) -> str:
        """The sandbox's URL."""
        return f"http://127.0.0.1:{self.sandbox_port}"

    @property
    def log(self) -> Path:
        """Home Assistant's log file (it writes it itself)."""
        return self.config / "home-assistant.log"

    @property
    def console_log(self) -> Path:
        """Home Assistant's console output (its log, plus early crashes)."""
        return self.config / "home-assistant.console.log"

    @property
    def sandbox_log(self) -> Path:
        """The sandbox's output."""
        return self.config / "sandbox.log"


def link_integration(config: Path) -> None:
    """Make the repository's integration a custom integration of `config`."""
    target = REPO / "custom_components" / DOMAIN
    link = config / "custom_components" / DOMAIN
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.is_symlink() and link.resolve() == target:
        return
    if link.is_symlink():
        link.unlink()
    link.symlink_to(os.path.relpath(target, link.parent), target_is_directory=True)


def prepare_config(config: Path) -> None:
    """A config directory with the dev configuration and the integration."""
    config.mkdir(parents=True, exist_ok=True)
    if not (config / "configuration.yaml").exists():
        shutil.copy(DEFAULT_CONFIG / "configuration.yaml", config)
    link_integration(config)


def check_port_free(port: int) -> None:
    """Fail early, and clearly, when a port is taken."""
    with socket.socket() as probe:
        # As servers do, so a port a stopped server left in TIME_WAIT is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            sys.exit(
                f"Port {port} is in use (another scripts/develop?). "
                "Stop it, or choose other ports with --port / --sandbox-port."
            )


@asynccontextmanager
async def running(
    command: Sequence[str], log: Path, env: Mapping[str, str]
) -> AsyncIterator[asyncio.subprocess.Process]:
    """A child process in its own process group, stopped (group and all) at exit.

    Its own group keeps a terminal's Ctrl-C away from it: this supervisor
    stops the children in order instead.
    """
    with log.open("ab") as output:
        process = await asyncio.create_subprocess_exec(
            *command,
            cwd=REPO,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        await stop_process(process)


async def stop_process(process: asyncio.subprocess.Process) -> None:
    """SIGTERM to the process group; SIGKILL if it is still there later."""
    if process.returncode is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), STOP_TIMEOUT)
    except TimeoutError:
        os.killpg(process.pid, signal.SIGKILL)
        await process.wait()


async def wait_for_http(
    session: aiohttp.ClientSession,
    url: str,
    process: asyncio.subprocess.Process,
    name: str,
) -> None:
    """Wait until `url` answers at all; fail if the process ends first."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.returncode is not None:
            raise ChildExitedError(name, process.returncode)
        try:
            async with session.get(url):
                return
        except aiohttp.ClientConnectionError:
            await asyncio.sleep(0.2)
    raise TimeoutError(f"{name} did not answer at {url} in {START_TIMEOUT:.0f} s")


class ChildExitedError(Exception):
    """A child process ended while it was needed."""

    def __init__(self, name: str, returncode: int) -> None:
        """Say which one, and how."""
        super().__init__(f"{name} exited with status {returncode}")


def shown(path: Path) -> str:
    """A path as the person at the terminal (in the repository) types it."""
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)


def instructions(layout: Layout, elapsed: float, done: Sequence[str]) -> str:
    """What was set up, and what the person at the terminal does next."""
    lines = [
        *(["Set up this time:"] if done else []),
        *(f"  - {item}" for item in done),
        "",
        f"Home Assistant is ready at {layout.url} (set-up took {elapsed:.1f} s).",
        "",
        f"  Log in as {DEV_USERNAME} / {DEV_PASSWORD}, then:",
        "  Settings > Devices & services > Add integration > search 'Spacebring'",
        "    Tapkey sign-in: a sandbox page opens in a new tab; click Approve",
        f"    Locking system: {DEMO_OWNER_NAME}",
        f"    Spacebring:     client ID {SPACEBRING_CLIENT_ID}",
        f"                    client secret {SPACEBRING_CLIENT_SECRET}",
        f"    Location:       {MAIN_LOCATION_TITLE}",
        "  On the integration's page, the entry's menu > Add access group, e.g.",
        "    resource types Room, Meeting room, Conference room;",
        "    lock groups Meeting rooms. Its access windows show in Calendar.",
        "",
        f"  Sandbox: {layout.sandbox_url} (controls under /_sandbox/...)",
        f"  Logs:    {shown(layout.log)} (the integration at debug level)",
        f"           {shown(layout.sandbox_log)}",
        "",
        "Ctrl-C stops Home Assistant and the sandbox.",
    ]
    return "\n".join(lines)


def elapsed_since_start(started: float) -> float:
    """Seconds since scripts/develop started (or since this process did)."""
    try:
        return time.time() - float(os.environ[STARTED_ENV])
    except (KeyError, ValueError):
        return time.time() - started


async def wait_for_exit(
    stop: asyncio.Event, children: Mapping[str, asyncio.subprocess.Process]
) -> None:
    """Until `stop` is set, or a child ends (an error)."""
    waiters = {
        asyncio.create_task(process.wait()): name for name, process in children.items()
    }
    stopped = asyncio.create_task(stop.wait())
    finished, pending = await asyncio.wait(
        [stopped, *waiters], return_when=asyncio.FIRST_COMPLETED
    )
    for task in pending:
        task.cancel()
    if stopped not in finished:
        task = finished.pop()
        raise ChildExitedError(waiters[task], task.result())


def home_assistant_env(layout: Layout) -> dict[str, str]:
    """Home Assistant's environment: the sandbox override, port, packages."""
    return os.environ | {
        SANDBOX_URL_ENV: layout.sandbox_url,
        PORT_ENV: str(layout.port),
        URL_ENV: layout.url,
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(layout.deps), os.environ.get("PYTHONPATH")])
        ),
    }


async def start(
    stack: AsyncExitStack, session: aiohttp.ClientSession, layout: Layout
) -> tuple[dict[str, asyncio.subprocess.Process], list[str]]:
    """Start the sandbox, then Home Assistant, and set it up; what was done.

    The processes are stopped when `stack` closes: Home Assistant first, as
    it talks to the sandbox.
    """
    sandbox = await stack.enter_async_context(
        running(
            [
                sys.executable,
                "-m",
                "scripts.dev_sandbox",
                "--port",
                str(layout.sandbox_port),
                "--tokens",
                str(layout.config / "sandbox-tokens.json"),
            ],
            layout.sandbox_log,
            os.environ,
        )
    )
    # Up before Home Assistant, so that an entry made earlier loads at once.
    await wait_for_http(
        session, layout.sandbox_url + "/_sandbox/clock", sandbox, "the sandbox"
    )
    hass = await stack.enter_async_context(
        running(
            [
                sys.executable,
                "-m",
                "homeassistant",
                "--config",
                str(layout.config),
                # The venv is uv's; see dev_requirements.
                "--skip-pip",
                "--log-no-color",
            ],
            layout.console_log,
            home_assistant_env(layout),
        )
    )
    print(f"Starting Home Assistant ({shown(layout.config)}) ...", flush=True)
    await wait_for_http(session, layout.url + "/api/onboarding", hass, "Home Assistant")
    done = await prepare(session, layout.url)
    return {"the sandbox": sandbox, "Home Assistant": hass}, done


async def run(layout: Layout, ready_file: Path | None, started: float) -> None:
    """Start both, set up Home Assistant, and wait for Ctrl-C."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with AsyncExitStack() as stack:
        session = await stack.enter_async_context(aiohttp.ClientSession())
        starting = asyncio.create_task(start(stack, session, layout))
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait([starting, stopping], return_when=asyncio.FIRST_COMPLETED)
        if not starting.done():  # Ctrl-C during the start
            starting.cancel()
            with suppress(asyncio.CancelledError):
                await starting
            return
        stopping.cancel()
        children, done = starting.result()
        print(instructions(layout, elapsed_since_start(started), done), flush=True)
        if ready_file is not None:
            urls = {"url": layout.url, "sandbox_url": layout.sandbox_url}
            await asyncio.to_thread(ready_file.write_text, json.dumps(urls), "utf-8")
        await wait_for_exit(stop, children)
        print("Stopping Home Assistant and the sandbox ...", flush=True)


def main() -> None:
    """Parse the options, prepare the files, run."""
    started = time.time()
    parser = argparse.ArgumentParser(
        prog="scripts/develop",
        description="Run the sandbox and a Home Assistant dev instance using it.",
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=DEFAULT_CONFIG,
        help="Home Assistant's config directory (default: config/)",
    )
    parser.add_argument(
        "--port", type=int, default=8123, help="Home Assistant's port (8123)"
    )
    parser.add_argument(
        "--sandbox-port", type=int, default=8900, help="the sandbox's port (8900)"
    )
    parser.add_argument(
        "--ready-file", type=Path, help="write the URLs here (JSON) once ready"
    )
    args = parser.parse_args()
    check_port_free(args.port)
    check_port_free(args.sandbox_port)
    config = args.config.resolve()
    prepare_config(config)
    deps = ensure_requirements(config / "configuration.yaml")
    layout = Layout(config, args.port, args.sandbox_port, deps)
    try:
        asyncio.run(run(layout, args.ready_file, started))
    except (
        ChildExitedError,
        TimeoutError,
        HomeAssistantApiError,
        aiohttp.ClientError,
    ) as err:
        sys.exit(f"{err}; see {layout.console_log} and {layout.sandbox_log}")
    print("Stopped.")


if __name__ == "__main__":
    main()
