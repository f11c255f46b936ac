"""Fixtures of the browser test: a dev instance on free ports, a browser page.

`dev_instance` runs scripts/develop's supervisor (`python -m
scripts.dev_instance`) in a temporary config directory: the demo sandbox and
a Home Assistant onboarded with the dev login, its Tapkey application
credentials registered. `page` is a page of Debian's chromium, driven by
Playwright, in the demo space's time zone. Screenshots, Home Assistant's log
and the sandbox's log end up in artifacts/e2e/ (a failed test adds a
screenshot of the moment it failed).

The browser test runs only when SPACEBRING_TAPKEY_E2E is set (scripts/e2e
sets it), as it needs chromium and the `e2e` dependency group.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from dataclasses import dataclass
import json
from pathlib import Path
import shutil
import signal
import socket
import subprocess
import sys
import time
from typing import TYPE_CHECKING, Final

import pytest

from custom_components.spacebring_tapkey.const import DOMAIN
from sandbox.spacebring_demo import TIMEZONE

if TYPE_CHECKING:
    from playwright.sync_api import Page, Route

E2E_ENV: Final = "SPACEBRING_TAPKEY_E2E"
REPO: Final = Path(__file__).resolve().parents[2]
ARTIFACTS: Final = REPO / "artifacts" / "e2e"
BRAND: Final = REPO / "custom_components" / DOMAIN / "brand"
CHROMIUM: Final = "/usr/bin/chromium"
# Playwright's own browser download is not used; Debian's chromium runs
# headless without a sandbox (CI containers) and stays off the network.
CHROMIUM_ARGS: Final = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT: Final = {"width": 1280, "height": 800}
# A cold start installs Home Assistant's frontend first.
READY_TIMEOUT: Final = 300.0
STOP_TIMEOUT: Final = 60.0
ACTION_TIMEOUT_MS: Final = 30_000
CALL_FAILED: Final = pytest.StashKey[bool]()


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker of browser tests."""
    config.addinivalue_line(
        "markers", f"e2e: browser end-to-end test; runs with {E2E_ENV}=1 (scripts/e2e)"
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Let fixtures see whether the test itself failed."""
    report = yield
    if report.when == "call":
        item.stash[CALL_FAILED] = report.failed
    return report


@dataclass(frozen=True, slots=True)
class DevInstance:
    """A running sandbox and Home Assistant."""

    url: str
    sandbox_url: str


def free_ports(count: int) -> list[int]:
    """Loopback ports nothing listens on (all held at once, so distinct)."""
    probes = [socket.socket() for _ in range(count)]
    try:
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in probes]
    finally:
        for probe in probes:
            probe.close()


@pytest.fixture
def artifacts() -> Path:
    """artifacts/e2e/, emptied: this run's screenshots and logs."""
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    return ARTIFACTS


def _wait_until_ready(process: subprocess.Popen[bytes], ready_file: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while not ready_file.exists():
        if process.poll() is not None:
            pytest.fail(f"the dev instance exited with status {process.returncode}")
        if time.monotonic() > deadline:
            pytest.fail(f"the dev instance was not ready in {READY_TIMEOUT:.0f} s")
        time.sleep(0.2)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM: the supervisor stops Home Assistant and the sandbox itself."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def dev_instance(
    tmp_path: Path, artifacts: Path, socket_enabled: None
) -> Iterator[DevInstance]:
    """The sandbox and an onboarded Home Assistant in a temporary directory."""
    config = tmp_path / "config"
    ready_file = tmp_path / "ready.json"
    port, sandbox_port = free_ports(2)
    with (artifacts / "dev_instance.log").open("wb") as output:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "scripts.dev_instance",
                "--config",
                str(config),
                "--port",
                str(port),
                "--sandbox-port",
                str(sandbox_port),
                "--ready-file",
                str(ready_file),
            ],
            cwd=REPO,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_ready(process, ready_file)
        urls = json.loads(ready_file.read_text(encoding="utf-8"))
        yield DevInstance(url=urls["url"], sandbox_url=urls["sandbox_url"])
    finally:
        _stop(process)
        for log in ("home-assistant.log", "sandbox.log"):
            if (config / log).exists():
                shutil.copy(config / log, artifacts / log)


def serve_brand_image(route: Route) -> None:
    """The integration's icons, which the frontend asks brands.home-assistant.io for.

    That site is out of reach here; this shows the integration's own images
    (a dark-theme variant as the light one) instead of a broken image.
    """
    name = route.request.url.rsplit("/", 1)[-1].removeprefix("dark_")
    image = BRAND / name
    if image.is_file():
        route.fulfill(path=image)
    else:
        route.fulfill(status=404)


@pytest.fixture
def page(
    request: pytest.FixtureRequest, artifacts: Path, dev_instance: DevInstance
) -> Iterator[Page]:
    """A chromium page in the demo space's time zone; its console is kept.

    It closes before `dev_instance` stops, so a failure's screenshot shows
    Home Assistant still running.
    """
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=ACTION_TIMEOUT_MS)

    console: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        try:
            context = browser.new_context(
                viewport=VIEWPORT, timezone_id=TIMEZONE, locale="en-US"
            )
            context.set_default_timeout(ACTION_TIMEOUT_MS)
            context.route(
                f"https://brands.home-assistant.io/**/{DOMAIN}/*", serve_brand_image
            )
            page = context.new_page()
            page.on("console", lambda line: console.append(f"{line.type}: {line.text}"))
            yield page
            if request.node.stash.get(CALL_FAILED, False):
                page.screenshot(path=artifacts / "failed.png", animations="disabled")
        finally:
            browser.close()
            (artifacts / "browser-console.log").write_text("\n".join(console), "utf-8")
