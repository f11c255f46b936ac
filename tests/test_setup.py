"""Setting up an entry against the sandbox: tokens, failures, first sync."""

from __future__ import annotations

from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.core import HomeAssistant
import pytest

from custom_components.spacebring_tapkey.const import DOMAIN
from sandbox.faults import FaultKind
from sandbox.server import RunningSandbox
from sandbox.tapkey_generate import CLEANING_EMAIL, DEMO_OWNER_NAME

from .ha_sandbox import EntryFactory
from .sync_support import (
    add_front_door_group,
    expire_access_token,
    managed_grants,
    set_up_entry,
    tapkey_grants,
)


async def test_entry_loads_and_first_sync_grants_access(
    hass: HomeAssistant,
    ha_sandbox: RunningSandbox,
    tapkey_credentials: None,
    sandbox_entry: EntryFactory,
) -> None:
    """Setup reads both services and the first sync creates grants in Tapkey."""
    entry = sandbox_entry()
    add_front_door_group(hass, entry, ha_sandbox)

    assert await set_up_entry(hass, entry)

    assert entry.state is ConfigEntryState.LOADED
    data = entry.runtime_data
    assert data.spacebring.data.location.title == entry.data["location_name"]
    assert data.tapkey.data.owner_available
    created = managed_grants(ha_sandbox, entry)
    assert created
    assert all(grant.state == "Ok" for grant in created)
    ledger = data.sync.ledger_store.ledger
    assert {grant.id for grant in created} == set(ledger.grants)


async def test_grants_made_by_others_are_untouched(
    hass: HomeAssistant,
    ha_sandbox: RunningSandbox,
    tapkey_credentials: None,
    sandbox_entry: EntryFactory,
) -> None:
    """The cleaning crew's hand-made grant survives setup and sync unchanged."""
    owner = ha_sandbox.world.tapkey.owner_named(DEMO_OWNER_NAME)
    before = {
        grant.id: (grant.state, grant.valid_before)
        for grant in tapkey_grants(ha_sandbox)
    }
    entry = sandbox_entry()
    add_front_door_group(hass, entry, ha_sandbox)

    assert await set_up_entry(hass, entry)
    await entry.runtime_data.sync.async_sync()

    after = {grant.id: grant for grant in tapkey_grants(ha_sandbox)}
    for grant_id, (state, valid_before) in before.items():
        assert after[grant_id].state == state
        assert after[grant_id].valid_before == valid_before
    cleaning = ha_sandbox.world.tapkey.find_contact(owner, "tapkey", CLEANING_EMAIL)
    assert cleaning is not None
    assert any(g.contact_id == cleaning.id for g in after.values())


async def test_expired_token_is_refreshed(
    hass: HomeAssistant,
    ha_sandbox: RunningSandbox,
    tapkey_credentials: None,
    sandbox_entry: EntryFactory,
) -> None:
    """An expired access token is refreshed with the refresh token and stored."""
    entry = sandbox_entry()
    old_token = dict(entry.data["token"])
    expire_access_token(hass, entry)

    assert await set_up_entry(hass, entry)

    assert entry.state is ConfigEntryState.LOADED
    assert entry.data["token"]["access_token"] != old_token["access_token"]
    assert entry.data["token"]["refresh_token"] != old_token["refresh_token"]


async def test_rejected_refresh_starts_reauth(
    hass: HomeAssistant,
    ha_sandbox: RunningSandbox,
    tapkey_credentials: None,
    sandbox_entry: EntryFactory,
) -> None:
    """A refresh token Tapkey no longer accepts leads to a reauth flow."""
    entry = sandbox_entry()
    expire_access_token(hass, entry)
    ha_sandbox.world.tapkey.oauth.revoke_all()

    assert not await set_up_entry(hass, entry)

    assert entry.state is ConfigEntryState.SETUP_ERROR
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]


async def test_rejected_spacebring_credentials_start_reauth(
    hass: HomeAssistant,
    ha_sandbox: RunningSandbox,
    tapkey_credentials: None,
    sandbox_entry: EntryFactory,
) -> None:
    """Spacebring answering 401 to the stored credentials leads to reauth."""
    entry = sandbox_entry(overrides={"spacebring_client_secret": "rotated"})

    assert not await set_up_entry(hass, entry)

    assert entry.state is ConfigEntryState.SETUP_ERROR
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]


@pytest.mark.parametrize(
    ("route", "kind"),
    [
        ("/api/v1/Owners", FaultKind.SERVER_ERROR),
        ("/locations/v1*", FaultKind.SERVER_ERROR),
        ("/connect/token", FaultKind.SERVER_ERROR),
    ],
)
async def test_service_failure_retries_setup_later(
    hass: HomeAssistant,
    ha_sandbox: RunningSandbox,
    tapkey_credentials: None,
    sandbox_entry: EntryFactory,
    route: str,
    kind: FaultKind,
) -> None:
    """A 500 from Tapkey, Spacebring or the token endpoint means retry later."""
    entry = sandbox_entry()
    expire_access_token(hass, entry)
    ha_sandbox.faults.fail_randomly(1.0, (kind,), route=route)

    assert not await set_up_entry(hass, entry)

    assert entry.state is ConfigEntryState.SETUP_RETRY


async def test_unreachable_services_retry_setup_later(
    hass: HomeAssistant,
    ha_sandbox: RunningSandbox,
    tapkey_credentials: None,
    sandbox_entry: EntryFactory,
    closed_port_url: str,
) -> None:
    """Nothing listening where Tapkey should be means retry later."""
    entry = sandbox_entry(overrides={"tapkey_url": closed_port_url + "/api/v1"})

    assert not await set_up_entry(hass, entry)

    assert entry.state is ConfigEntryState.SETUP_RETRY


async def test_unload_stops_the_sync(
    hass: HomeAssistant,
    ha_sandbox: RunningSandbox,
    tapkey_credentials: None,
    sandbox_entry: EntryFactory,
) -> None:
    """Unloading cancels the sync timers and leaves granted access in place."""
    entry = sandbox_entry()
    add_front_door_group(hass, entry, ha_sandbox)
    assert await set_up_entry(hass, entry)
    granted = {grant.id for grant in managed_grants(ha_sandbox, entry)}

    assert await hass.config_entries.async_unload(entry.entry_id)

    assert entry.state is ConfigEntryState.NOT_LOADED
    still_ok = {grant.id for grant in tapkey_grants(ha_sandbox) if grant.state == "Ok"}
    assert granted <= still_ok
