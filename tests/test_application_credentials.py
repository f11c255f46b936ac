"""Tapkey's OAuth endpoints, and the sandbox's under the developer override."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
import pytest

from custom_components.spacebring_tapkey.application_credentials import (
    async_get_authorization_server,
    async_get_description_placeholders,
)
from custom_components.spacebring_tapkey.const import SANDBOX_URL_ENV


async def test_operators_sign_in_at_tapkey(
    hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the override, the real Tapkey login endpoints are used."""
    monkeypatch.delenv(SANDBOX_URL_ENV, raising=False)

    server = await async_get_authorization_server(hass)

    assert server.authorize_url == "https://login.tapkey.com/connect/authorize"
    assert server.token_url == "https://login.tapkey.com/connect/token"


async def test_developer_override_signs_in_at_the_sandbox(
    hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The override points both endpoints at the sandbox (trailing / ignored)."""
    monkeypatch.setenv(SANDBOX_URL_ENV, "http://127.0.0.1:8900/")

    server = await async_get_authorization_server(hass)

    assert server.authorize_url == "http://127.0.0.1:8900/connect/authorize"
    assert server.token_url == "http://127.0.0.1:8900/connect/token"


async def test_empty_override_is_ignored(
    hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An override set to nothing (an unset shell variable) means Tapkey."""
    monkeypatch.setenv(SANDBOX_URL_ENV, " ")

    server = await async_get_authorization_server(hass)

    assert server.token_url == "https://login.tapkey.com/connect/token"


async def test_credentials_dialog_names_the_redirect_uri(hass: HomeAssistant) -> None:
    """The operator learns which redirect URI to register with Tapkey."""
    placeholders = await async_get_description_placeholders(hass)

    assert placeholders["redirect_url"] == "https://my.home-assistant.io/redirect/oauth"
    assert placeholders["developer_docs_url"].startswith("https://")
