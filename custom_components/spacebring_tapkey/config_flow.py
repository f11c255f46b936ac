"""Config flow: Tapkey OAuth2, then the locking system and Spacebring location.

Adding an entry: Tapkey sign-in (OAuth2 with a refresh token) → choose the
locking system → Spacebring API credentials, checked against the API →
choose the location. Reauth asks for whichever side was rejected: new
Spacebring credentials, or a new Tapkey sign-in that must reach the same
locking system. Reconfigure replaces the Spacebring credentials.
"""

from __future__ import annotations

from collections.abc import Mapping
import logging
from typing import Any

from homeassistant.config_entries import (
    SOURCE_REAUTH,
    ConfigEntry,
    ConfigFlowResult,
    ConfigSubentryFlow,
    OptionsFlow,
)
from homeassistant.const import UnitOfTime
from homeassistant.core import callback
from homeassistant.helpers import config_entry_oauth2_flow
from homeassistant.helpers.selector import (
    BooleanSelector,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
import voluptuous as vol

from .access_group_flow import AccessGroupSubentryFlowHandler
from .api.errors import ApiAuthError, ApiError, ApiForbiddenError
from .api.models import Location, Owner
from .connection import (
    credentials_error,
    flow_spacebring_client,
    flow_tapkey_client,
    service_url_data,
)
from .const import (
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
    DEFAULT_DRY_RUN,
    DEFAULT_GRACE_MINUTES,
    DEFAULT_HORIZON_DAYS,
    DEFAULT_INCLUDE_TENTATIVE,
    DOMAIN,
    SUBENTRY_ACCESS_GROUP,
    TAPKEY_SCOPES,
)

_LOGGER = logging.getLogger(__name__)

CREDENTIALS_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_SPACEBRING_CLIENT_ID): TextSelector(),
        vol.Required(CONF_SPACEBRING_CLIENT_SECRET): TextSelector(
            TextSelectorConfig(type=TextSelectorType.PASSWORD)
        ),
    }
)


def _grace_selector() -> vol.All:
    return vol.All(
        NumberSelector(
            NumberSelectorConfig(
                min=0,
                max=240,
                step=1,
                mode=NumberSelectorMode.BOX,
                unit_of_measurement=UnitOfTime.MINUTES,
            )
        ),
        vol.Coerce(int),
    )


OPTIONS_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_GRACE_BEFORE): _grace_selector(),
        vol.Required(CONF_GRACE_AFTER): _grace_selector(),
        vol.Required(CONF_INCLUDE_TENTATIVE): BooleanSelector(),
        vol.Required(CONF_HORIZON_DAYS): vol.All(
            NumberSelector(
                NumberSelectorConfig(
                    min=1,
                    max=60,
                    step=1,
                    mode=NumberSelectorMode.BOX,
                    unit_of_measurement=UnitOfTime.DAYS,
                )
            ),
            vol.Coerce(int),
        ),
        vol.Required(CONF_DRY_RUN): BooleanSelector(),
    }
)
OPTION_DEFAULTS: dict[str, Any] = {
    CONF_GRACE_BEFORE: DEFAULT_GRACE_MINUTES,
    CONF_GRACE_AFTER: DEFAULT_GRACE_MINUTES,
    CONF_INCLUDE_TENTATIVE: DEFAULT_INCLUDE_TENTATIVE,
    CONF_HORIZON_DAYS: DEFAULT_HORIZON_DAYS,
    CONF_DRY_RUN: DEFAULT_DRY_RUN,
}


def _credentials(user_input: Mapping[str, Any]) -> dict[str, str]:
    """The submitted Spacebring credentials; a pasted id loses stray spaces."""
    return {
        CONF_SPACEBRING_CLIENT_ID: str(user_input[CONF_SPACEBRING_CLIENT_ID]).strip(),
        CONF_SPACEBRING_CLIENT_SECRET: str(user_input[CONF_SPACEBRING_CLIENT_SECRET]),
    }


def _choice_schema(key: str, choices: Mapping[str, str]) -> vol.Schema:
    """A list of radio buttons, sorted by label, the first one preselected."""
    options = [
        SelectOptionDict(value=value, label=label)
        for value, label in sorted(choices.items(), key=lambda item: item[1].lower())
    ]
    return vol.Schema(
        {
            vol.Required(key, default=options[0]["value"]): SelectSelector(
                SelectSelectorConfig(options=options, mode=SelectSelectorMode.LIST)
            )
        }
    )


class OAuth2FlowHandler(
    config_entry_oauth2_flow.AbstractOAuth2FlowHandler, domain=DOMAIN
):
    """Add a Spacebring location with a Tapkey locking system."""

    DOMAIN = DOMAIN
    VERSION = 1

    def __init__(self) -> None:
        """Start with nothing chosen."""
        super().__init__()
        self._oauth_data: dict[str, Any] = {}
        self._owners: dict[str, Owner] = {}
        self._owner: Owner | None = None
        self._credentials: dict[str, str] = {}
        self._locations: dict[str, Location] = {}

    @property
    def logger(self) -> logging.Logger:
        """Return the logger of this flow."""
        return _LOGGER

    @property
    def extra_authorize_data(self) -> dict[str, Any]:
        """Ask Tapkey for the scopes the sync needs, with a refresh token."""
        return {"scope": " ".join(TAPKEY_SCOPES)}

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> OptionsFlow:
        """Options of an entry."""
        return SpacebringTapkeyOptionsFlow()

    @classmethod
    @callback
    def async_get_supported_subentry_types(
        cls, config_entry: ConfigEntry
    ) -> dict[str, type[ConfigSubentryFlow]]:
        """Access groups are subentries."""
        return {SUBENTRY_ACCESS_GROUP: AccessGroupSubentryFlowHandler}

    # --- Tapkey ---------------------------------------------------------------

    async def async_oauth_create_entry(self, data: dict[str, Any]) -> ConfigFlowResult:
        """Continue after Tapkey sign-in: read the account's locking systems."""
        urls = (
            self._get_reauth_entry().data
            if self.source == SOURCE_REAUTH
            else service_url_data()
        )
        client = flow_tapkey_client(self.hass, data["token"]["access_token"], urls)
        try:
            owners = (await client.async_get_owners()).items
        except ApiError as err:
            _LOGGER.warning("Could not list the Tapkey locking systems: %s", err)
            return self.async_abort(reason="cannot_connect")
        except Exception:
            _LOGGER.exception("Unexpected error listing the Tapkey locking systems")
            return self.async_abort(reason="unknown")

        if self.source == SOURCE_REAUTH:
            return self._async_finish_tapkey_reauth(data, owners)

        self._owners = {owner.id: owner for owner in owners if owner.active}
        if not self._owners:
            return self.async_abort(reason="no_locking_systems")
        self._oauth_data = data
        return await self.async_step_locking_system()

    async def async_step_locking_system(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Choose the locking system (shown even for one: say which it is)."""
        if user_input is not None:
            self._owner = self._owners[user_input[CONF_OWNER_ID]]
            return await self.async_step_spacebring()
        return self.async_show_form(
            step_id="locking_system",
            data_schema=_choice_schema(
                CONF_OWNER_ID, {key: owner.name for key, owner in self._owners.items()}
            ),
        )

    # --- Spacebring -----------------------------------------------------------

    async def _async_read_locations(
        self, credentials: Mapping[str, Any], urls: Mapping[str, Any]
    ) -> tuple[dict[str, str], tuple[Location, ...]]:
        """Check Spacebring credentials by listing the network's locations."""
        client = flow_spacebring_client(
            self.hass,
            credentials[CONF_SPACEBRING_CLIENT_ID],
            credentials[CONF_SPACEBRING_CLIENT_SECRET],
            urls,
        )
        try:
            return {}, await client.async_get_locations()
        except ApiError as err:
            _LOGGER.debug("Spacebring credentials check failed: %s", err)
            return {"base": credentials_error(err)}, ()
        except Exception:
            _LOGGER.exception("Unexpected error checking the Spacebring credentials")
            return {"base": "unknown"}, ()

    async def async_step_spacebring(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Spacebring API credentials, checked by listing the locations."""
        errors: dict[str, str] = {}
        if user_input is not None:
            credentials = _credentials(user_input)
            errors, locations = await self._async_read_locations(
                credentials, service_url_data()
            )
            if not errors and not locations:
                errors["base"] = "no_locations"
            if not errors:
                configured = self._async_current_ids(include_ignore=False)
                self._locations = {
                    location.id: location
                    for location in locations
                    if location.id not in configured
                }
                if not self._locations:
                    return self.async_abort(reason="already_configured")
                self._credentials = credentials
                return await self.async_step_location()
        return self.async_show_form(
            step_id="spacebring",
            data_schema=self.add_suggested_values_to_schema(
                CREDENTIALS_SCHEMA, user_input
            ),
            errors=errors,
        )

    async def async_step_location(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Choose the location; the entry is named after it and the lock system."""
        assert self._owner is not None  # chosen in the previous step
        if user_input is not None:
            location = self._locations[user_input[CONF_LOCATION_ID]]
            await self.async_set_unique_id(location.id)
            self._abort_if_unique_id_configured()
            return self.async_create_entry(
                title=f"{location.title} · {self._owner.name}",
                data={
                    **self._oauth_data,
                    CONF_OWNER_ID: self._owner.id,
                    CONF_OWNER_NAME: self._owner.name,
                    **self._credentials,
                    CONF_LOCATION_ID: location.id,
                    CONF_LOCATION_NAME: location.title,
                    **service_url_data(),
                },
            )
        return self.async_show_form(
            step_id="location",
            data_schema=_choice_schema(
                CONF_LOCATION_ID,
                {key: location.title for key, location in self._locations.items()},
            ),
            description_placeholders={"owner_name": self._owner.name},
        )

    # --- reauth and reconfigure -----------------------------------------------

    async def async_step_reauth(
        self, entry_data: Mapping[str, Any]
    ) -> ConfigFlowResult:
        """Ask again for whichever side rejected the entry's authorisation."""
        client = flow_spacebring_client(
            self.hass,
            entry_data[CONF_SPACEBRING_CLIENT_ID],
            entry_data[CONF_SPACEBRING_CLIENT_SECRET],
            entry_data,
        )
        try:
            await client.async_get_locations()
        except (ApiAuthError, ApiForbiddenError):
            return await self.async_step_reauth_spacebring()
        except ApiError as err:
            # Spacebring cannot say now; Tapkey is the one left to renew.
            _LOGGER.debug("Spacebring unreachable during reauth: %s", err)
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Explain the new Tapkey sign-in, then start it."""
        if user_input is None:
            return self.async_show_form(
                step_id="reauth_confirm",
                description_placeholders={
                    "owner_name": self._get_reauth_entry().data[CONF_OWNER_NAME]
                },
            )
        return await self.async_step_user()

    @callback
    def _async_finish_tapkey_reauth(
        self, data: dict[str, Any], owners: tuple[Owner, ...]
    ) -> ConfigFlowResult:
        """Keep the new token only if it reaches the entry's locking system."""
        entry = self._get_reauth_entry()
        if entry.data[CONF_OWNER_ID] not in {owner.id for owner in owners}:
            return self.async_abort(
                reason="wrong_account",
                description_placeholders={"owner_name": entry.data[CONF_OWNER_NAME]},
            )
        return self.async_update_reload_and_abort(entry, data_updates=data)

    async def async_step_reauth_spacebring(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """New Spacebring credentials after Spacebring rejected the old ones."""
        return await self._async_step_credentials(
            "reauth_spacebring", self._get_reauth_entry(), user_input
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Replace the Spacebring credentials (not the location)."""
        return await self._async_step_credentials(
            "reconfigure", self._get_reconfigure_entry(), user_input
        )

    async def _async_step_credentials(
        self, step_id: str, entry: ConfigEntry, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        """Credentials form whose answer must still see the entry's location."""
        errors: dict[str, str] = {}
        if user_input is not None:
            credentials = _credentials(user_input)
            errors, locations = await self._async_read_locations(
                credentials, entry.data
            )
            if not errors and entry.data[CONF_LOCATION_ID] not in {
                location.id for location in locations
            }:
                errors["base"] = "location_not_found"
            if not errors:
                return self.async_update_reload_and_abort(
                    entry, data_updates=credentials
                )
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(
                CREDENTIALS_SCHEMA,
                user_input
                or {CONF_SPACEBRING_CLIENT_ID: entry.data[CONF_SPACEBRING_CLIENT_ID]},
            ),
            errors=errors,
            description_placeholders={"location_name": entry.data[CONF_LOCATION_NAME]},
        )


class SpacebringTapkeyOptionsFlow(OptionsFlow):
    """How bookings and subscriptions become grants."""

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """One form with every option."""
        if user_input is not None:
            return self.async_create_entry(data=user_input)
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(
                OPTIONS_SCHEMA, OPTION_DEFAULTS | dict(self.config_entry.options)
            ),
        )
