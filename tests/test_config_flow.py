"""The config flow against the sandbox: sign-in, choices, reauth, reconfigure.

Every service call goes over HTTP to the sandbox (Tapkey's OAuth token
endpoint included); only setting up the created entry is patched out.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING
from unittest.mock import AsyncMock, patch

from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.aiohttp_client import async_get_clientsession
import pytest
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
import voluptuous as vol
from yarl import URL

from custom_components.spacebring_tapkey.api.spacebring import SpacebringClient
from custom_components.spacebring_tapkey.const import (
    CONF_DRY_RUN,
    CONF_GRACE_AFTER,
    CONF_GRACE_BEFORE,
    CONF_HORIZON_DAYS,
    CONF_INCLUDE_TENTATIVE,
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
    TAPKEY_SCOPES,
)
from sandbox.const import SPACEBRING_CLIENT_ID, SPACEBRING_CLIENT_SECRET
from sandbox.faults import FaultKind, FaultRule
from sandbox.server import RunningSandbox
from sandbox.spacebring_demo import ANNEX_LOCATION_TITLE, MAIN_LOCATION_TITLE
from sandbox.tapkey_generate import ANNEX_OWNER_NAME, DEMO_OWNER_NAME

if TYPE_CHECKING:
    from .ha_sandbox import EntryFactory, SignIn


pytestmark = pytest.mark.usefixtures("tapkey_credentials")

SPACEBRING_CREDENTIALS = {
    CONF_SPACEBRING_CLIENT_ID: SPACEBRING_CLIENT_ID,
    CONF_SPACEBRING_CLIENT_SECRET: SPACEBRING_CLIENT_SECRET,
}


@pytest.fixture
def setup_entry() -> Iterator[AsyncMock]:
    """Keep created or reloaded entries from starting the integration."""
    with patch(
        "custom_components.spacebring_tapkey.async_setup_entry", return_value=True
    ) as mock:
        yield mock


def location_id(sandbox: RunningSandbox, title: str = MAIN_LOCATION_TITLE) -> str:
    """The id of a Spacebring location of the sandbox world."""
    return next(
        str(location["id"])
        for location in sandbox.world.spacebring.locations.values()
        if location["title"] == title
    )


async def start_and_sign_in(hass: HomeAssistant, sign_in: SignIn) -> dict:
    """Start the flow, sign in at Tapkey, and return the first form after it."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.EXTERNAL_STEP
    await sign_in(result)
    return await hass.config_entries.flow.async_configure(result["flow_id"])


async def reach_spacebring_form(hass: HomeAssistant, sign_in: SignIn) -> dict:
    """Sign in and choose the demo locking system."""
    result = await start_and_sign_in(hass, sign_in)
    assert result["step_id"] == "locking_system"
    return await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_OWNER_ID: result["data_schema"]({})[CONF_OWNER_ID]}
    )


def suggested_values(result: dict) -> dict[str, object]:
    """The values a form suggests, by field."""
    return {
        str(key): key.description["suggested_value"]
        for key in result["data_schema"].schema
        if key.description and "suggested_value" in key.description
    }


def select_options(result: dict, key: str) -> dict[str, str]:
    """value → label of a select field of a form."""
    for field, validator in result["data_schema"].schema.items():
        if field == key:
            return {
                option["value"]: option["label"]
                for option in validator.config["options"]
            }
    raise KeyError(key)


# --- adding an entry -------------------------------------------------------------


@pytest.mark.usefixtures("setup_entry")
async def test_full_flow_creates_the_entry(
    hass: HomeAssistant, ha_sandbox: RunningSandbox, sign_in_at_tapkey: SignIn
) -> None:
    """Sign-in → locking system → Spacebring credentials → location → entry."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    authorize = URL(result["url"])
    assert str(authorize.with_query(None)) == f"{ha_sandbox.base_url}/connect/authorize"
    assert authorize.query["scope"].split() == list(TAPKEY_SCOPES)
    await sign_in_at_tapkey(result)
    result = await hass.config_entries.flow.async_configure(result["flow_id"])

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "locking_system"
    owner = ha_sandbox.world.tapkey.owner_named(DEMO_OWNER_NAME)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_OWNER_ID: owner.id}
    )
    assert result["step_id"] == "spacebring"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], SPACEBRING_CREDENTIALS
    )
    assert result["step_id"] == "location"
    assert result["description_placeholders"] == {"owner_name": DEMO_OWNER_NAME}
    main_location = location_id(ha_sandbox)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_LOCATION_ID: main_location}
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == f"{MAIN_LOCATION_TITLE} · {DEMO_OWNER_NAME}"
    entry = result["result"]
    assert entry.unique_id == main_location
    token = entry.data["token"]
    assert ha_sandbox.world.tapkey.oauth.access_token(
        token["access_token"], ha_sandbox.clock.now()
    )
    assert token["refresh_token"]
    assert {key: value for key, value in entry.data.items() if key != "token"} == {
        "auth_implementation": DOMAIN,
        CONF_OWNER_ID: owner.id,
        CONF_OWNER_NAME: DEMO_OWNER_NAME,
        **SPACEBRING_CREDENTIALS,
        CONF_LOCATION_ID: main_location,
        CONF_LOCATION_NAME: MAIN_LOCATION_TITLE,
        CONF_SPACEBRING_URL: ha_sandbox.base_url,
        CONF_TAPKEY_URL: f"{ha_sandbox.base_url}/api/v1",
    }


async def test_locking_system_form_lists_the_accounts_systems(
    hass: HomeAssistant, ha_sandbox: RunningSandbox, sign_in_at_tapkey: SignIn
) -> None:
    """Both demo locking systems are offered by name; one is preselected."""
    result = await start_and_sign_in(hass, sign_in_at_tapkey)

    owners = ha_sandbox.world.tapkey.owners
    assert select_options(result, CONF_OWNER_ID) == {
        owner.id: owner.name for owner in owners.values()
    }
    assert result["data_schema"]({})[CONF_OWNER_ID] in owners


async def test_account_without_locking_systems_aborts(
    hass: HomeAssistant, ha_sandbox: RunningSandbox, sign_in_at_tapkey: SignIn
) -> None:
    """A Tapkey account that manages no locking system cannot be used."""
    ha_sandbox.world.tapkey.owners.clear()

    result = await start_and_sign_in(hass, sign_in_at_tapkey)

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "no_locking_systems"


async def test_denied_sign_in_aborts(
    hass: HomeAssistant,
    ha_sandbox: RunningSandbox,
    hass_client_no_auth: ClientSessionGenerator,
    current_request_with_host: None,
) -> None:
    """The person presses Deny on Tapkey's page: user_rejected_authorize."""
    ha_sandbox.world.tapkey.auto_approve = False
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    authorize = URL(result["url"])
    session = async_get_clientsession(hass)
    async with session.post(
        authorize.with_query(None),
        data={**authorize.query, "decision": "deny"},
        allow_redirects=False,
    ) as response:
        callback = URL(response.headers["Location"])
    client = await hass_client_no_auth()
    await client.get(callback.path_qs)

    result = await hass.config_entries.flow.async_configure(result["flow_id"])

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "user_rejected_authorize"
    assert result["description_placeholders"] == {"error": "access_denied"}


async def test_tapkey_failing_after_sign_in_aborts_with_cannot_connect(
    hass: HomeAssistant, ha_sandbox: RunningSandbox, sign_in_at_tapkey: SignIn
) -> None:
    """The locking systems cannot be listed: nothing to choose from."""
    ha_sandbox.faults.add(
        FaultRule(kinds=(FaultKind.SERVER_ERROR,), route="/api/v1/Owners")
    )

    result = await start_and_sign_in(hass, sign_in_at_tapkey)

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "cannot_connect"


async def test_rejected_spacebring_credentials_show_invalid_auth(
    hass: HomeAssistant, ha_sandbox: RunningSandbox, sign_in_at_tapkey: SignIn
) -> None:
    """A wrong secret keeps the form open with an error; the right one proceeds."""
    result = await reach_spacebring_form(hass, sign_in_at_tapkey)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {**SPACEBRING_CREDENTIALS, CONF_SPACEBRING_CLIENT_SECRET: "not-the-secret"},
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "invalid_auth"}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], SPACEBRING_CREDENTIALS
    )
    assert result["step_id"] == "location"


async def test_unreachable_spacebring_shows_cannot_connect(
    hass: HomeAssistant,
    ha_sandbox: RunningSandbox,
    sign_in_at_tapkey: SignIn,
    monkeypatch: pytest.MonkeyPatch,
    closed_port_url: str,
) -> None:
    """Nothing listening where Spacebring should be: cannot_connect."""
    result = await reach_spacebring_form(hass, sign_in_at_tapkey)
    monkeypatch.setenv(SANDBOX_URL_ENV, closed_port_url)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], SPACEBRING_CREDENTIALS
    )

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "cannot_connect"}


async def test_unexpected_failure_shows_unknown(
    hass: HomeAssistant, ha_sandbox: RunningSandbox, sign_in_at_tapkey: SignIn
) -> None:
    """A bug while checking the credentials is reported as unknown, not raised."""
    result = await reach_spacebring_form(hass, sign_in_at_tapkey)

    with patch.object(
        SpacebringClient, "async_get_locations", side_effect=RuntimeError("boom")
    ):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], SPACEBRING_CREDENTIALS
        )

    assert result["errors"] == {"base": "unknown"}


async def test_network_without_locations_shows_no_locations(
    hass: HomeAssistant, ha_sandbox: RunningSandbox, sign_in_at_tapkey: SignIn
) -> None:
    """Valid credentials of a network without locations cannot be used."""
    result = await reach_spacebring_form(hass, sign_in_at_tapkey)
    ha_sandbox.world.spacebring.locations.clear()

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], SPACEBRING_CREDENTIALS
    )

    assert result["errors"] == {"base": "no_locations"}


async def test_configured_locations_are_not_offered(
    hass: HomeAssistant,
    ha_sandbox: RunningSandbox,
    sign_in_at_tapkey: SignIn,
    sandbox_entry: EntryFactory,
) -> None:
    """The location form leaves out locations that already have an entry."""
    sandbox_entry(location_title=MAIN_LOCATION_TITLE)
    result = await reach_spacebring_form(hass, sign_in_at_tapkey)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], SPACEBRING_CREDENTIALS
    )

    assert select_options(result, CONF_LOCATION_ID) == {
        location_id(ha_sandbox, ANNEX_LOCATION_TITLE): ANNEX_LOCATION_TITLE
    }


async def test_every_location_configured_aborts(
    hass: HomeAssistant,
    ha_sandbox: RunningSandbox,
    sign_in_at_tapkey: SignIn,
    sandbox_entry: EntryFactory,
) -> None:
    """The same location cannot be added twice."""
    sandbox_entry(location_title=MAIN_LOCATION_TITLE)
    sandbox_entry(location_title=ANNEX_LOCATION_TITLE)
    result = await reach_spacebring_form(hass, sign_in_at_tapkey)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], SPACEBRING_CREDENTIALS
    )

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_location_configured_meanwhile_aborts(
    hass: HomeAssistant,
    ha_sandbox: RunningSandbox,
    sign_in_at_tapkey: SignIn,
    sandbox_entry: EntryFactory,
) -> None:
    """A location added by another flow while this one waited is refused."""
    result = await reach_spacebring_form(hass, sign_in_at_tapkey)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], SPACEBRING_CREDENTIALS
    )
    sandbox_entry(location_title=MAIN_LOCATION_TITLE)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_LOCATION_ID: location_id(ha_sandbox)}
    )

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


# --- reauth ----------------------------------------------------------------------


async def test_tapkey_reauth_with_the_same_account_updates_the_token(
    hass: HomeAssistant,
    ha_sandbox: RunningSandbox,
    sign_in_at_tapkey: SignIn,
    sandbox_entry: EntryFactory,
    setup_entry: AsyncMock,
) -> None:
    """Spacebring still accepts its credentials, so Tapkey is signed in again."""
    entry = sandbox_entry()
    old_token = entry.data["token"]
    ha_sandbox.world.tapkey.oauth.revoke_all()

    result = await entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_confirm"
    assert result["description_placeholders"]["owner_name"] == DEMO_OWNER_NAME
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    await sign_in_at_tapkey(result)
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    new_token = entry.data["token"]
    assert new_token["access_token"] != old_token["access_token"]
    assert ha_sandbox.world.tapkey.oauth.access_token(
        new_token["access_token"], ha_sandbox.clock.now()
    )
    assert (
        entry.data[CONF_OWNER_ID]
        == ha_sandbox.world.tapkey.owner_named(DEMO_OWNER_NAME).id
    )
    assert setup_entry.await_count == 1  # reloaded


async def test_tapkey_reauth_with_another_account_aborts(
    hass: HomeAssistant,
    ha_sandbox: RunningSandbox,
    sign_in_at_tapkey: SignIn,
    sandbox_entry: EntryFactory,
) -> None:
    """A token that cannot reach the entry's locking system is not kept."""
    entry = sandbox_entry(owner_name=ANNEX_OWNER_NAME)
    old_token = entry.data["token"]
    annex = ha_sandbox.world.tapkey.owner_named(ANNEX_OWNER_NAME)
    del ha_sandbox.world.tapkey.owners[annex.id]  # not managed by the new account

    result = await entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    await sign_in_at_tapkey(result)
    result = await hass.config_entries.flow.async_configure(result["flow_id"])

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_account"
    assert result["description_placeholders"] == {"owner_name": ANNEX_OWNER_NAME}
    assert entry.data["token"] == old_token


async def test_reauth_offers_tapkey_sign_in_while_spacebring_is_unreachable(
    hass: HomeAssistant,
    ha_sandbox: RunningSandbox,
    sandbox_entry: EntryFactory,
    closed_port_url: str,
) -> None:
    """Spacebring cannot tell whether it rejects the entry; Tapkey is renewed."""
    entry = sandbox_entry(overrides={CONF_SPACEBRING_URL: closed_port_url})

    result = await entry.start_reauth_flow(hass)

    assert result["step_id"] == "reauth_confirm"


async def test_spacebring_reauth_asks_for_new_credentials(
    hass: HomeAssistant,
    ha_sandbox: RunningSandbox,
    sandbox_entry: EntryFactory,
    setup_entry: AsyncMock,
) -> None:
    """Spacebring rejects the stored secret: ask for Spacebring credentials."""
    entry = sandbox_entry(overrides={CONF_SPACEBRING_CLIENT_SECRET: "rotated"})

    result = await entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_spacebring"
    assert suggested_values(result) == {CONF_SPACEBRING_CLIENT_ID: SPACEBRING_CLIENT_ID}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {**SPACEBRING_CREDENTIALS, CONF_SPACEBRING_CLIENT_SECRET: "still-wrong"},
    )
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], SPACEBRING_CREDENTIALS
    )
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert entry.data[CONF_SPACEBRING_CLIENT_SECRET] == SPACEBRING_CLIENT_SECRET
    assert setup_entry.await_count == 1


# --- reconfigure -----------------------------------------------------------------


async def test_reconfigure_replaces_the_spacebring_credentials(
    hass: HomeAssistant,
    ha_sandbox: RunningSandbox,
    sandbox_entry: EntryFactory,
    setup_entry: AsyncMock,
) -> None:
    """New credentials that still see the location are stored; entry reloads.

    The client id is pasted with stray spaces, as happens; they are dropped.
    """
    entry = sandbox_entry(overrides={CONF_SPACEBRING_CLIENT_SECRET: "old-secret"})

    result = await entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure"
    assert result["description_placeholders"] == {"location_name": MAIN_LOCATION_TITLE}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            **SPACEBRING_CREDENTIALS,
            CONF_SPACEBRING_CLIENT_ID: f" {SPACEBRING_CLIENT_ID} ",
        },
    )
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_SPACEBRING_CLIENT_ID] == SPACEBRING_CLIENT_ID
    assert entry.data[CONF_SPACEBRING_CLIENT_SECRET] == SPACEBRING_CLIENT_SECRET
    assert entry.data[CONF_LOCATION_ID] == location_id(ha_sandbox)
    assert setup_entry.await_count == 1


async def test_reconfigure_with_rejected_credentials_shows_invalid_auth(
    hass: HomeAssistant, ha_sandbox: RunningSandbox, sandbox_entry: EntryFactory
) -> None:
    """Rejected credentials are not stored."""
    entry = sandbox_entry()

    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {**SPACEBRING_CREDENTIALS, CONF_SPACEBRING_CLIENT_SECRET: "wrong"},
    )

    assert result["errors"] == {"base": "invalid_auth"}
    assert entry.data[CONF_SPACEBRING_CLIENT_SECRET] == SPACEBRING_CLIENT_SECRET


async def test_reconfigure_needs_the_configured_location(
    hass: HomeAssistant, ha_sandbox: RunningSandbox, sandbox_entry: EntryFactory
) -> None:
    """Credentials of a network without the entry's location are refused."""
    entry = sandbox_entry()
    del ha_sandbox.world.spacebring.locations[entry.data[CONF_LOCATION_ID]]

    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], SPACEBRING_CREDENTIALS
    )

    assert result["errors"] == {"base": "location_not_found"}


# --- options ---------------------------------------------------------------------


async def test_options_start_from_the_defaults_and_are_stored(
    hass: HomeAssistant, ha_sandbox: RunningSandbox, sandbox_entry: EntryFactory
) -> None:
    """The form suggests the defaults; the answer becomes the entry's options."""
    entry = sandbox_entry()

    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert suggested_values(result) == {
        CONF_GRACE_BEFORE: 30,
        CONF_GRACE_AFTER: 30,
        CONF_INCLUDE_TENTATIVE: False,
        CONF_HORIZON_DAYS: 14,
        CONF_DRY_RUN: False,
    }
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            CONF_GRACE_BEFORE: 15.0,
            CONF_GRACE_AFTER: 45,
            CONF_INCLUDE_TENTATIVE: True,
            CONF_HORIZON_DAYS: 7,
            CONF_DRY_RUN: True,
        },
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == {
        CONF_GRACE_BEFORE: 15,
        CONF_GRACE_AFTER: 45,
        CONF_INCLUDE_TENTATIVE: True,
        CONF_HORIZON_DAYS: 7,
        CONF_DRY_RUN: True,
    }


async def test_options_reject_values_out_of_range(
    hass: HomeAssistant, ha_sandbox: RunningSandbox, sandbox_entry: EntryFactory
) -> None:
    """Grace is 0-240 minutes and the horizon 1-60 days."""
    entry = sandbox_entry()
    result = await hass.config_entries.options.async_init(entry.entry_id)
    valid = {
        CONF_GRACE_BEFORE: 30,
        CONF_GRACE_AFTER: 30,
        CONF_INCLUDE_TENTATIVE: False,
        CONF_HORIZON_DAYS: 14,
        CONF_DRY_RUN: False,
    }

    for key, value in (
        (CONF_GRACE_BEFORE, 241),
        (CONF_GRACE_AFTER, -1),
        (CONF_HORIZON_DAYS, 0),
        (CONF_HORIZON_DAYS, 61),
    ):
        with pytest.raises(vol.Invalid):
            await hass.config_entries.options.async_configure(
                result["flow_id"], valid | {key: value}
            )
