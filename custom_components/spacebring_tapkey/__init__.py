"""Spacebring bookings and subscriptions to Tapkey door access."""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryNotReady
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.config_entry_oauth2_flow import (
    OAuth2Session,
    async_get_config_entry_implementation,
)
from homeassistant.helpers.typing import ConfigType
from homeassistant.util.hass_dict import HassKey

from .access.model import AccessGroup
from .access_groups import access_group_from_subentry
from .api.http import RateLimiter
from .api.spacebring import DEFAULT_REQUESTS_PER_SECOND, SpacebringClient
from .api.tapkey import TapkeyClient
from .auth import TapkeyOAuthTokenProvider
from .connection import spacebring_url, tapkey_url
from .const import (
    CONF_LOCATION_ID,
    CONF_OWNER_ID,
    CONF_SPACEBRING_CLIENT_ID,
    CONF_SPACEBRING_CLIENT_SECRET,
    DOMAIN,
    LOGGER,
    SUBENTRY_ACCESS_GROUP,
)
from .coordinator import SpacebringCoordinator, TapkeyCoordinator
from .entity import async_prepare_entities
from .ledger import LedgerStore
from .options import entry_options
from .repairs import async_track_issues
from .services import async_setup_services
from .sync import SyncEngine, SyncInputs, TapkeyClientWriter

PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.CALENDAR,
    Platform.EVENT,
    Platform.SENSOR,
]

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)

# Spacebring's rate limit belongs to the network's credentials, so entries
# for several locations of one network share one limiter.
SPACEBRING_LIMITERS: HassKey[dict[str, RateLimiter]] = HassKey(
    f"{DOMAIN}_spacebring_limiters"
)


@dataclass
class SpacebringTapkeyData:
    """What a loaded entry holds."""

    spacebring: SpacebringCoordinator
    tapkey: TapkeyCoordinator
    sync: SyncEngine


type SpacebringTapkeyConfigEntry = ConfigEntry[SpacebringTapkeyData]


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the actions once; each call names the entry it acts on."""
    async_setup_services(hass)
    return True


async def async_setup_entry(
    hass: HomeAssistant, entry: SpacebringTapkeyConfigEntry
) -> bool:
    """Set up a Spacebring location with a Tapkey locking system."""
    try:
        implementation = await async_get_config_entry_implementation(hass, entry)
    except (ConfigEntryNotReady, ConfigEntryAuthFailed):
        # Home Assistant 2025.12+ already says whether to retry or reauth.
        raise
    except ValueError as err:
        # Older releases raise ValueError while application credentials are
        # not (yet) available; they may come back, so retry.
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="oauth_implementation_unavailable",
        ) from err

    http = async_get_clientsession(hass)
    oauth_session = OAuth2Session(hass, entry, implementation)
    tapkey_client = TapkeyClient(
        http,
        TapkeyOAuthTokenProvider(oauth_session),
        base_url=tapkey_url(entry.data),
    )
    client_id: str = entry.data[CONF_SPACEBRING_CLIENT_ID]
    limiters = hass.data.setdefault(SPACEBRING_LIMITERS, {})
    limiter = limiters.setdefault(client_id, RateLimiter(DEFAULT_REQUESTS_PER_SECOND))
    spacebring_client = SpacebringClient(
        http,
        client_id,
        entry.data[CONF_SPACEBRING_CLIENT_SECRET],
        base_url=spacebring_url(entry.data),
        limiter=limiter,
    )
    owner_id: str = entry.data[CONF_OWNER_ID]
    spacebring = SpacebringCoordinator(
        hass, entry, spacebring_client, entry.data[CONF_LOCATION_ID]
    )
    tapkey = TapkeyCoordinator(hass, entry, tapkey_client, owner_id)
    await tapkey.async_config_entry_first_refresh()
    await spacebring.async_config_entry_first_refresh()

    @callback
    def read_inputs() -> SyncInputs:
        options = entry_options(entry)
        snapshot = spacebring.data if spacebring.last_update_success else None
        tapkey_data = tapkey.data if tapkey.last_update_success else None
        timezone = (
            snapshot.location.timezone if snapshot and snapshot.location else None
        ) or hass.config.time_zone
        return SyncInputs(
            snapshot=snapshot,
            grants=(
                tapkey_data.grants
                if tapkey_data and tapkey_data.owner_available
                else None
            ),
            groups=access_groups(entry, timezone),
            settings=options.rule_settings(hass.config.time_zone),
            horizon=options.horizon,
            dry_run=options.dry_run,
        )

    sync = SyncEngine(
        hass,
        entry,
        store=LedgerStore(hass, entry.entry_id),
        writer=TapkeyClientWriter(tapkey_client, owner_id),
        read_inputs=read_inputs,
        refresh_tapkey=tapkey.async_refresh,
    )
    entry.runtime_data = SpacebringTapkeyData(
        spacebring=spacebring, tapkey=tapkey, sync=sync
    )
    await sync.async_start()
    entry.async_on_unload(sync.async_stop)
    entry.async_on_unload(async_track_issues(hass, entry))
    entry.async_on_unload(spacebring.async_add_listener(sync.async_request_sync))
    # Options and access groups are read at every sync: a change needs no reload.
    entry.async_on_unload(entry.add_update_listener(_async_entry_updated))
    sync.async_request_sync()

    async_prepare_entities(hass, entry)
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def async_unload_entry(
    hass: HomeAssistant, entry: SpacebringTapkeyConfigEntry
) -> bool:
    """Unload a config entry."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(
    hass: HomeAssistant, entry: SpacebringTapkeyConfigEntry
) -> None:
    """Delete the ledger; access already granted stays until it ends."""
    await LedgerStore(hass, entry.entry_id).async_remove()


def access_groups(entry: ConfigEntry, timezone: str) -> list[AccessGroup]:
    """The entry's access groups (one per subentry); unusable ones are skipped."""
    groups: list[AccessGroup] = []
    for subentry in entry.subentries.values():
        if subentry.subentry_type != SUBENTRY_ACCESS_GROUP:
            continue
        try:
            groups.append(
                access_group_from_subentry(
                    subentry.subentry_id, subentry.data, timezone
                )
            )
        except ValueError as err:
            LOGGER.warning("Access group %s is skipped: %s", subentry.title, err)
    return groups


async def _async_entry_updated(
    hass: HomeAssistant, entry: SpacebringTapkeyConfigEntry
) -> None:
    entry.runtime_data.sync.async_request_sync()
