"""The pure parts of scripts/develop's tooling (the browser test runs the rest).

Tapkey tokens survive a sandbox restart; the packages Home Assistant needs
beyond .venv are worked out from the integrations it will set up.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
import sys

from custom_components.spacebring_tapkey.const import DOMAIN
from sandbox.const import TAPKEY_CLIENT_ID
from sandbox.tapkey_oauth import ALL_SCOPES, OAuthRegistry
from scripts.dev_requirements import (
    configured_domains,
    integrations_to_set_up,
    manifest,
    missing_requirements,
)
from scripts.dev_sandbox import restore_tokens, usable_tokens

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_a_restarted_sandbox_accepts_the_tokens_it_issued_before() -> None:
    """Access and refresh token of a sign-in work again after the restart."""
    before = OAuthRegistry.with_demo_client()
    issued = before.issue_tokens(TAPKEY_CLIENT_ID, ALL_SCOPES, now=NOW)

    after = OAuthRegistry.with_demo_client()
    restore_tokens(after, usable_tokens(before, NOW))

    later = NOW + timedelta(minutes=5)
    assert after.access_token(issued["access_token"], later) is not None
    client = after.clients[TAPKEY_CLIENT_ID]
    refreshed = after.refresh(client, refresh_token=issued["refresh_token"], now=later)
    assert after.access_token(refreshed["access_token"], later) is not None


def test_expired_and_revoked_tokens_are_not_kept() -> None:
    """A rotated refresh token and an expired access token stay dead."""
    oauth = OAuthRegistry.with_demo_client()
    first = oauth.issue_tokens(TAPKEY_CLIENT_ID, ALL_SCOPES, now=NOW)
    client = oauth.clients[TAPKEY_CLIENT_ID]
    rotated = oauth.refresh(client, refresh_token=first["refresh_token"], now=NOW)

    kept = usable_tokens(oauth, NOW + oauth.access_token_lifetime)

    assert set(kept["refresh_tokens"]) == {rotated["refresh_token"]}
    assert kept["access_tokens"] == {}


def test_the_dev_configuration_sets_up_the_ui_without_default_config() -> None:
    """configuration.yaml lists what the UI needs, and not `my`."""
    configured = configured_domains(REPO / "config" / "configuration.yaml")

    assert {"frontend", "config", "calendar", "history", "logbook"} <= configured
    assert "default_config" not in configured
    assert "my" not in integrations_to_set_up(configured)


def test_an_integration_brings_its_dependencies() -> None:
    """History needs the recorder, which Home Assistant does not set up alone."""
    assert "recorder" not in integrations_to_set_up(set())
    assert "recorder" in integrations_to_set_up({"history"})


def test_the_custom_integration_is_found_among_custom_components() -> None:
    """Its manifest, not a built-in one, describes the integration."""
    assert manifest(DOMAIN)["name"] == "Spacebring Tapkey Access"
    assert set(manifest(DOMAIN)["dependencies"]) <= integrations_to_set_up({DOMAIN})


def test_a_requirement_is_missing_until_a_distribution_on_the_path_meets_it() -> None:
    """The recorder's packages are in .venv, and nowhere else."""
    requirements = sorted(manifest("recorder")["requirements"])

    assert missing_requirements(["recorder"], sys.path) == []
    assert missing_requirements(["recorder"], []) == requirements
