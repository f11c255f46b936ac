"""Diagnostics: a useful picture of an entry that leaks no secret and no e-mail."""

from __future__ import annotations

from datetime import timedelta
import json

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion
from syrupy.filters import props

from custom_components.spacebring_tapkey.const import DOMAIN
from custom_components.spacebring_tapkey.diagnostics import (
    async_get_config_entry_diagnostics,
    scrub_emails,
)
from custom_components.spacebring_tapkey.sync import SyncFailure
from sandbox.const import SPACEBRING_CLIENT_ID, SPACEBRING_CLIENT_SECRET
from sandbox.server import RunningSandbox

from .ha_sandbox import EntryFactory
from .sync_support import add_front_door_group

# Monday 2 March 2026, 08:00 in Vienna: the demo world is built around now.
START = "2026-03-02T07:00:00+00:00"

GUEST = "night.guard@security.example"


async def synced_entry(
    hass: HomeAssistant, sandbox: RunningSandbox, sandbox_entry: EntryFactory
) -> MockConfigEntry:
    """A synced entry with a front-door group, an ad-hoc guest and a failure."""
    entry = sandbox_entry()
    add_front_door_group(hass, entry, sandbox)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    front_door = next(iter(entry.subentries))
    await hass.services.async_call(
        DOMAIN,
        "grant_access",
        {
            "config_entry_id": entry.entry_id,
            "email": GUEST,
            "access_group": front_door,
            "end": dt_util.utcnow() + timedelta(hours=8),
            "note": "Night shift",
        },
        blocking=True,
    )
    # Tapkey's error messages may quote an e-mail; the failure keeps it.
    entry.runtime_data.sync.status.recent_failures.append(
        SyncFailure(
            at=dt_util.utcnow(),
            action="ensure_contact",
            group_ids=(front_door,),
            target_id=None,
            error="conflict",
            message=f"HTTP 409: contact {GUEST} exists with another identity",
        )
    )
    return entry


async def test_diagnostics_leak_no_secret_and_no_email(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    ha_sandbox: RunningSandbox,
    tapkey_credentials: None,
    sandbox_entry: EntryFactory,
) -> None:
    """Tokens, credentials and every e-mail are gone from the whole document."""
    entry = await synced_entry(hass, ha_sandbox, sandbox_entry)

    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)

    text = json.dumps(diagnostics)
    token = entry.data["token"]
    for secret in (
        token["access_token"],
        token["refresh_token"],
        SPACEBRING_CLIENT_ID,
        SPACEBRING_CLIENT_SECRET,
    ):
        assert secret not in text
    assert "@" not in text
    assert diagnostics["sync"]["recent_failures"][-1]["message"] == (
        "HTTP 409: contact **REDACTED** exists with another identity"
    )


@pytest.mark.freeze_time(START, tick=True)
async def test_diagnostics_summarise_the_entry(
    freezer: FrozenDateTimeFactory,
    hass: HomeAssistant,
    ha_sandbox: RunningSandbox,
    tapkey_credentials: None,
    sandbox_entry: EntryFactory,
    snapshot: SnapshotAssertion,
) -> None:
    """Counts of what each side holds, the sync's state and the ledger."""
    entry = await synced_entry(hass, ha_sandbox, sandbox_entry)

    # Called directly: the diagnostics download view cannot load under a
    # frozen clock, and a fixed day keeps the demo world's counts fixed.
    diagnostics = json.loads(
        json.dumps(await async_get_config_entry_diagnostics(hass, entry))
    )

    assert diagnostics == snapshot.use_extension(HomeAssistantSnapshotExtension)(
        exclude=props(
            # Instants of the run, random ids and the sandbox's free port.
            "at",
            "last_attempt",
            "last_success",
            "next_run",
            "next_replan_at",
            "subentry_id",
            "group_ids",
            "spacebring_url",
            "tapkey_url",
        )
    )


def test_scrub_replaces_emails_in_keys_and_nested_values() -> None:
    """Anything shaped like an e-mail goes, wherever it is; the rest stays."""
    scrubbed = scrub_emails(
        {
            "Ada.Lovelace@Example.org": 1,
            "messages": ("mailto:<grace@navy.example>", "no address here"),
            "count": 3,
        }
    )

    assert scrubbed == {
        "**REDACTED**": 1,
        "messages": ["mailto:<**REDACTED**>", "no address here"],
        "count": 3,
    }
