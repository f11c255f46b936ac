"""The sandbox's Tapkey OAuth server and token controls over HTTP."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
import hashlib
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest

from custom_components.spacebring_tapkey.const import DOMAIN
from sandbox.clock import SandboxClock
from sandbox.const import TAPKEY_CLIENT_ID, TAPKEY_CLIENT_SECRET
from sandbox.server import RunningSandbox, run_sandbox
from sandbox.spacebring_demo import Scale
from sandbox.tapkey import TapkeyState
from sandbox.world import generate_world

__all__ = ["DOMAIN"]

REDIRECT_URI = "http://127.0.0.1:8123/auth/external/callback"
SCOPE = "read:owneraccounts read:core:entities read:grants write:grants offline_access"


@dataclass
class OAuth:
    """Raw HTTP access to a running sandbox's OAuth endpoints."""

    running: RunningSandbox
    session: aiohttp.ClientSession

    @property
    def state(self) -> TapkeyState:
        return self.running.world.tapkey

    def url(self, path: str) -> str:
        return self.running.base_url + path

    async def authorize(self, **overrides: str) -> aiohttp.ClientResponse:
        params = {
            "client_id": TAPKEY_CLIENT_ID,
            "redirect_uri": REDIRECT_URI,
            "response_type": "code",
            "scope": SCOPE,
            "state": "flow-42",
            **overrides,
        }
        async with self.session.get(
            self.url("/connect/authorize"), params=params, allow_redirects=False
        ) as response:
            await response.read()
            return response

    async def approve(self, decision: str = "approve", **overrides: str) -> str:
        """Submit the approve page; return the redirect's Location."""
        page = await self.authorize(**overrides)
        assert page.status == 200
        form = {
            "client_id": TAPKEY_CLIENT_ID,
            "redirect_uri": REDIRECT_URI,
            "response_type": "code",
            "scope": SCOPE,
            "state": "flow-42",
            "decision": decision,
            **overrides,
        }
        async with self.session.post(
            self.url("/connect/authorize"), data=form, allow_redirects=False
        ) as response:
            assert response.status == 302
            return response.headers["Location"]

    async def code(self, **overrides: str) -> str:
        location = await self.approve(**overrides)
        return parse_qs(urlsplit(location).query)["code"][0]

    async def token(
        self, form: dict[str, str], *, basic: bool = False
    ) -> tuple[int, dict[str, Any]]:
        auth = None
        if basic:
            auth = aiohttp.BasicAuth(TAPKEY_CLIENT_ID, TAPKEY_CLIENT_SECRET)
        else:
            form = {
                "client_id": TAPKEY_CLIENT_ID,
                "client_secret": TAPKEY_CLIENT_SECRET,
                **form,
            }
        async with self.session.post(
            self.url("/connect/token"), data=form, auth=auth
        ) as response:
            assert response.headers["Cache-Control"] == "no-store"
            return response.status, await response.json()

    async def exchange(self, code: str, **extra: str) -> tuple[int, dict[str, Any]]:
        return await self.token(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT_URI,
                **extra,
            }
        )

    async def refresh(self, refresh_token: str) -> tuple[int, dict[str, Any]]:
        return await self.token(
            {"grant_type": "refresh_token", "refresh_token": refresh_token}
        )

    async def owners_status(self, access_token: str) -> int:
        async with self.session.get(
            self.url("/api/v1/Owners"),
            headers={"Authorization": f"Bearer {access_token}"},
        ) as response:
            return response.status

    async def control(self, method: str, path: str, body: Any = None) -> Any:
        async with self.session.request(
            method, self.url(f"/_sandbox/tapkey{path}"), json=body
        ) as response:
            if response.status != 200:
                return response.status
            return await response.json()


@pytest.fixture
async def oauth(socket_enabled: None) -> AsyncIterator[OAuth]:
    """The small demo sandbox on 127.0.0.1 with its clock standing still."""
    clock = SandboxClock()
    clock.freeze()
    world = generate_world(seed=5, scale=Scale.parse("small"), now=clock.now())
    async with (
        run_sandbox(world, clock=clock, shutdown_timeout=0.1) as running,
        aiohttp.ClientSession() as session,
    ):
        yield OAuth(running, session)


# --- authorize ----------------------------------------------------------------


async def test_the_authorize_page_asks_a_person_to_approve(oauth: OAuth) -> None:
    async with oauth.session.get(
        oauth.url("/connect/authorize"),
        params={
            "client_id": TAPKEY_CLIENT_ID,
            "redirect_uri": REDIRECT_URI,
            "response_type": "code",
            "scope": SCOPE,
            "state": '"><script>',
        },
    ) as response:
        page = await response.text()

    assert response.status == 200
    assert response.content_type == "text/html"
    assert "Approve" in page
    assert "Deny" in page
    assert "<li>write:grants</li>" in page
    assert "<script>" not in page


async def test_approving_redirects_back_with_a_code_and_the_state(
    oauth: OAuth,
) -> None:
    location = await oauth.approve()

    redirect = urlsplit(location)
    query = parse_qs(redirect.query)
    assert f"{redirect.scheme}://{redirect.netloc}{redirect.path}" == REDIRECT_URI
    assert query["state"] == ["flow-42"]
    assert len(query["code"][0]) > 20


async def test_denying_redirects_back_with_access_denied(oauth: OAuth) -> None:
    location = await oauth.approve(decision="deny")

    assert parse_qs(urlsplit(location).query) == {
        "error": ["access_denied"],
        "state": ["flow-42"],
    }


async def test_auto_approve_skips_the_page(oauth: OAuth) -> None:
    oauth.state.auto_approve = True

    response = await oauth.authorize()

    assert response.status == 302
    assert "code" in parse_qs(urlsplit(response.headers["Location"]).query)


@pytest.mark.parametrize(
    "override",
    [
        {"client_id": "someone-else"},
        {"redirect_uri": "https://attacker.example/steal"},
    ],
)
async def test_an_untrusted_client_or_redirect_is_told_on_the_page(
    oauth: OAuth, override: dict[str, str]
) -> None:
    oauth.state.auto_approve = True

    response = await oauth.authorize(**override)

    assert response.status == 400
    assert "Location" not in response.headers


@pytest.mark.parametrize(
    ("override", "error"),
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"scope": "read:grants launch:rockets"}, "invalid_scope"),
        (
            {"code_challenge": "abc", "code_challenge_method": "S512"},
            "invalid_request",
        ),
    ],
)
async def test_a_bad_request_from_a_trusted_client_goes_back_as_an_error(
    oauth: OAuth, override: dict[str, str], error: str
) -> None:
    oauth.state.auto_approve = True

    response = await oauth.authorize(**override)

    assert response.status == 302
    assert parse_qs(urlsplit(response.headers["Location"]).query)["error"] == [error]


async def test_the_my_home_assistant_redirect_is_accepted(oauth: OAuth) -> None:
    oauth.state.auto_approve = True

    response = await oauth.authorize(
        redirect_uri="https://my.home-assistant.io/redirect/oauth"
    )

    assert response.status == 302


# --- token --------------------------------------------------------------------


async def test_a_code_buys_tokens_that_open_the_api(oauth: OAuth) -> None:
    status, tokens = await oauth.exchange(await oauth.code())

    assert status == 200
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 3600
    assert set(tokens["scope"].split()) == set(SCOPE.split())
    assert tokens["refresh_token"]
    assert await oauth.owners_status(tokens["access_token"]) == 200


async def test_the_client_may_authenticate_with_basic_auth(oauth: OAuth) -> None:
    code = await oauth.code()

    status, tokens = await oauth.token(
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
        },
        basic=True,
    )

    assert status == 200
    assert tokens["access_token"]


async def test_without_offline_access_there_is_no_refresh_token(oauth: OAuth) -> None:
    code = await oauth.code(scope="read:owneraccounts")

    _, tokens = await oauth.exchange(code)

    assert "refresh_token" not in tokens


async def test_a_code_works_once(oauth: OAuth) -> None:
    code = await oauth.code()

    first, _ = await oauth.exchange(code)
    second, error = await oauth.exchange(code)

    assert (first, second) == (200, 400)
    assert error["error"] == "invalid_grant"


async def test_a_code_expires_by_the_sandbox_clock(oauth: OAuth) -> None:
    code = await oauth.code()
    oauth.running.clock.advance(timedelta(minutes=5))

    status, error = await oauth.exchange(code)

    assert (status, error["error"]) == (400, "invalid_grant")


async def test_a_code_needs_the_same_redirect_uri(oauth: OAuth) -> None:
    code = await oauth.code()

    status, error = await oauth.token(
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": "http://127.0.0.1:9999/auth/external/callback",
        }
    )

    assert (status, error["error"]) == (400, "invalid_grant")


async def test_pkce_needs_the_matching_verifier(oauth: OAuth) -> None:
    verifier = "a-verifier-of-enough-length-for-pkce-0123456789"
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        .rstrip(b"=")
        .decode()
    )
    pkce = {"code_challenge": challenge, "code_challenge_method": "S256"}

    wrong, _ = await oauth.exchange(await oauth.code(**pkce), code_verifier="nope")
    missing, _ = await oauth.exchange(await oauth.code(**pkce))
    right, _ = await oauth.exchange(await oauth.code(**pkce), code_verifier=verifier)

    assert (wrong, missing, right) == (400, 400, 200)


async def test_plain_pkce_compares_the_verifier_itself(oauth: OAuth) -> None:
    code = await oauth.code(code_challenge="plain-verifier")

    status, _ = await oauth.exchange(code, code_verifier="plain-verifier")

    assert status == 200


async def test_an_expired_access_token_is_refused_and_refresh_rotates(
    oauth: OAuth,
) -> None:
    _, first = await oauth.exchange(await oauth.code())
    oauth.running.clock.advance(timedelta(seconds=first["expires_in"]))

    expired = await oauth.owners_status(first["access_token"])
    status, second = await oauth.refresh(first["refresh_token"])
    reused, error = await oauth.refresh(first["refresh_token"])

    assert expired == 401
    assert status == 200
    assert second["refresh_token"] != first["refresh_token"]
    assert await oauth.owners_status(second["access_token"]) == 200
    assert (reused, error["error"]) == (400, "invalid_grant")


async def test_a_refresh_token_expires_too(oauth: OAuth) -> None:
    _, tokens = await oauth.exchange(await oauth.code())
    oauth.running.clock.advance(oauth.state.oauth.refresh_token_lifetime)

    status, error = await oauth.refresh(tokens["refresh_token"])

    assert (status, error["error"]) == (400, "invalid_grant")


@pytest.mark.parametrize(
    "credentials",
    [
        {"client_id": TAPKEY_CLIENT_ID, "client_secret": "wrong"},
        {"client_id": "someone-else", "client_secret": TAPKEY_CLIENT_SECRET},
    ],
)
async def test_wrong_client_credentials_are_invalid_client(
    oauth: OAuth, credentials: dict[str, str]
) -> None:
    async with oauth.session.post(
        oauth.url("/connect/token"),
        data={"grant_type": "refresh_token", "refresh_token": "x", **credentials},
    ) as response:
        body = await response.json()

    assert (response.status, body["error"]) == (401, "invalid_client")
    assert response.headers["WWW-Authenticate"].startswith("Basic")


async def test_garbled_basic_credentials_are_invalid_client(oauth: OAuth) -> None:
    async with oauth.session.post(
        oauth.url("/connect/token"),
        data={"grant_type": "refresh_token", "refresh_token": "x"},
        headers={"Authorization": "Basic !!!"},
    ) as response:
        body = await response.json()

    assert (response.status, body["error"]) == (401, "invalid_client")


async def test_an_unknown_grant_type_is_refused(oauth: OAuth) -> None:
    status, error = await oauth.token({"grant_type": "password"})

    assert (status, error["error"]) == (400, "unsupported_grant_type")


# --- controls -----------------------------------------------------------------


async def test_a_token_can_be_had_without_a_browser(oauth: OAuth) -> None:
    tokens = await oauth.control("POST", "/tokens", {"scope": "read:owneraccounts"})
    refused = await oauth.control("POST", "/tokens", {"scope": "launch:rockets"})

    assert await oauth.owners_status(tokens["access_token"]) == 200
    assert refused == 400


async def test_expiring_tokens_forces_a_refresh(oauth: OAuth) -> None:
    tokens = await oauth.control("POST", "/tokens")

    expired = await oauth.control("POST", "/tokens/expire")
    status, renewed = await oauth.refresh(tokens["refresh_token"])

    assert expired == {"expired": 1}
    assert await oauth.owners_status(tokens["access_token"]) == 401
    assert status == 200
    assert await oauth.owners_status(renewed["access_token"]) == 200


async def test_revoking_tokens_forces_a_new_login(oauth: OAuth) -> None:
    tokens = await oauth.control("POST", "/tokens")

    revoked = await oauth.control("POST", "/tokens/revoke")
    status, error = await oauth.refresh(tokens["refresh_token"])

    assert revoked == {"revoked": 2}
    assert await oauth.owners_status(tokens["access_token"]) == 401
    assert (status, error["error"]) == (400, "invalid_grant")


async def test_the_contact_limit_can_be_set_and_lifted(oauth: OAuth) -> None:
    owner_id = next(iter(oauth.state.owners))

    limited = await oauth.control(
        "PUT", "/contact-limit", {"limit": 3, "ownerId": owner_id}
    )
    assert oauth.state.owners[owner_id].contact_limit == 3
    lifted = await oauth.control("PUT", "/contact-limit", {"limit": None})

    assert limited == {"limit": 3, "ownerId": owner_id}
    assert lifted == {"limit": None, "ownerId": None}
    assert {owner.contact_limit for owner in oauth.state.owners.values()} == {None}


@pytest.mark.parametrize(
    "body", [{"limit": -1}, {"limit": "ten"}, {"limit": 1, "ownerId": "nowhere"}]
)
async def test_a_bad_contact_limit_is_refused(oauth: OAuth, body: Any) -> None:
    assert await oauth.control("PUT", "/contact-limit", body) == 400


async def test_auto_approve_can_be_switched(oauth: OAuth) -> None:
    assert await oauth.control("PUT", "/auto-approve", {"enabled": True}) == {
        "enabled": True
    }
    assert oauth.state.auto_approve is True
    assert await oauth.control("PUT", "/auto-approve", {"enabled": "yes"}) == 400


async def test_control_bodies_must_be_json_objects(oauth: OAuth) -> None:
    async with oauth.session.put(
        oauth.url("/_sandbox/tapkey/auto-approve"), data="on"
    ) as not_json:
        pass

    assert not_json.status == 400
    assert await oauth.control("PUT", "/auto-approve", [True]) == 400
