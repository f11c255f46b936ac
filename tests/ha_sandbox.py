"""Home Assistant test fixtures that point the integration at a live sandbox.

Loaded by tests/conftest.py. `ha_sandbox` starts the
demo sandbox in the test's event loop on a free loopback port, sets the
developer override so that the integration talks to it, and lets Tapkey's
sign-in page approve on its own. `tapkey_credentials` registers the
sandbox's demo OAuth client as application credentials. `sign_in_at_tapkey`
plays the person in the browser: it opens the authorize URL of an OAuth
flow step and follows Tapkey's redirect back to Home Assistant's callback.
`closed_port_url` is a loopback URL where nothing listens.
`sandbox_entry` builds a config entry as the config flow would have made it,
with a token issued by the sandbox.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
import functools
import socket
import time
from typing import Any, Final

from homeassistant.components.application_credentials import (
    DOMAIN as APPLICATION_CREDENTIALS_DOMAIN,
    ClientCredential,
    async_import_client_credential,
)
from homeassistant.config_entries import ConfigFlowResult
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from yarl import URL

from custom_components.spacebring_tapkey.api import (
    http as api_http,
    tapkey as tapkey_api,
)
from custom_components.spacebring_tapkey.const import (
    CONF_LOCATION_ID,
    CONF_LOCATION_NAME,
    CONF_OWNER_ID,
    CONF_OWNER_NAME,
    CONF_SPACEBRING_CLIENT_ID,
    CONF_SPACEBRING_CLIENT_SECRET,
    CONF_SPACEBRING_URL,
    CONF_TAPKEY_URL,
    DOMAIN,
    SANDBOX_URL_ENV,
)
from sandbox.clock import SandboxClock
from sandbox.const import (
    SPACEBRING_CLIENT_ID,
    SPACEBRING_CLIENT_SECRET,
    TAPKEY_CLIENT_ID,
    TAPKEY_CLIENT_SECRET,
)
from sandbox.server import RunningSandbox, run_sandbox
from sandbox.spacebring_demo import MAIN_LOCATION_TITLE, Scale
from sandbox.tapkey_generate import DEMO_OWNER_NAME
from sandbox.tapkey_oauth import ALL_SCOPES
from sandbox.world import generate_world

SANDBOX_SEED: Final = 7

type SignIn = Callable[[ConfigFlowResult], Awaitable[None]]
type EntryFactory = Callable[..., MockConfigEntry]


@pytest.fixture
async def ha_sandbox(
    monkeypatch: pytest.MonkeyPatch, socket_enabled: None
) -> AsyncIterator[RunningSandbox]:
    """The small demo sandbox, with the developer override pointing at it."""
    clock = SandboxClock()
    world = generate_world(
        seed=SANDBOX_SEED, scale=Scale.parse("small"), now=clock.now()
    )
    world.tapkey.auto_approve = True
    # Tapkey documents no rate limit and the sandbox enforces none; the
    # client's own pacing is tested in tests/api, here it would only add
    # seconds to every first sync.
    monkeypatch.setattr(tapkey_api, "DEFAULT_REQUESTS_PER_SECOND", 500.0)
    # The same attempts and order as in production, with short waits between.
    monkeypatch.setattr(
        api_http,
        "RetryPolicy",
        functools.partial(api_http.RetryPolicy, backoff_base=0.02, backoff_max=0.1),
    )
    async with run_sandbox(world, clock=clock, shutdown_timeout=0.1) as sandbox:
        monkeypatch.setenv(SANDBOX_URL_ENV, sandbox.base_url)
        yield sandbox


@pytest.fixture
def closed_port_url(socket_enabled: None) -> str:
    """A loopback URL where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
async def tapkey_credentials(hass: HomeAssistant) -> None:
    """The sandbox's demo Tapkey OAuth client as application credentials."""
    assert await async_setup_component(hass, APPLICATION_CREDENTIALS_DOMAIN, {})
    await async_import_client_credential(
        hass, DOMAIN, ClientCredential(TAPKEY_CLIENT_ID, TAPKEY_CLIENT_SECRET)
    )


@pytest.fixture
def sign_in_at_tapkey(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    current_request_with_host: None,
) -> SignIn:
    """Approve the sign-in of an external OAuth step and return to Home Assistant."""

    async def sign_in(result: ConfigFlowResult) -> None:
        session = async_get_clientsession(hass)
        async with session.get(result["url"], allow_redirects=False) as response:
            assert response.status == 302, await response.text()
            callback = URL(response.headers["Location"])
        assert callback.path == "/auth/external/callback"
        assert "code" in callback.query
        client = await hass_client_no_auth()
        response = await client.get(callback.path_qs)
        assert response.status == 200

    return sign_in


def sandbox_token(sandbox: RunningSandbox) -> dict[str, Any]:
    """A token as Home Assistant stores it, issued by the sandbox."""
    token = sandbox.world.tapkey.oauth.issue_tokens(
        TAPKEY_CLIENT_ID, ALL_SCOPES, now=sandbox.clock.now()
    )
    return token | {"expires_at": time.time() + token["expires_in"]}


def _location_id(sandbox: RunningSandbox, title: str = MAIN_LOCATION_TITLE) -> str:
    """The id of a Spacebring location of the sandbox world."""
    for location in sandbox.world.spacebring.locations.values():
        if location["title"] == title:
            return str(location["id"])
    raise KeyError(title)


@pytest.fixture
def sandbox_entry(hass: HomeAssistant, ha_sandbox: RunningSandbox) -> EntryFactory:
    """Make (and add) an entry for the main location and the demo locking system."""

    def make(
        *,
        owner_name: str = DEMO_OWNER_NAME,
        location_title: str = MAIN_LOCATION_TITLE,
        overrides: Mapping[str, Any] | None = None,
    ) -> MockConfigEntry:
        owner = ha_sandbox.world.tapkey.owner_named(owner_name)
        location = _location_id(ha_sandbox, location_title)
        entry = MockConfigEntry(
            domain=DOMAIN,
            title=f"{location_title} · {owner_name}",
            unique_id=location,
            data={
                "auth_implementation": DOMAIN,
                "token": sandbox_token(ha_sandbox),
                CONF_OWNER_ID: owner.id,
                CONF_OWNER_NAME: owner.name,
                CONF_SPACEBRING_CLIENT_ID: SPACEBRING_CLIENT_ID,
                CONF_SPACEBRING_CLIENT_SECRET: SPACEBRING_CLIENT_SECRET,
                CONF_LOCATION_ID: location,
                CONF_LOCATION_NAME: location_title,
                CONF_SPACEBRING_URL: ha_sandbox.base_url,
                CONF_TAPKEY_URL: ha_sandbox.base_url + "/api/v1",
                **(overrides or {}),
            },
        )
        entry.add_to_hass(hass)
        return entry

    return make
