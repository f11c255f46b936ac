"""Onboard a fresh Home Assistant and register the sandbox's Tapkey OAuth client.

Both go through Home Assistant's HTTP and websocket APIs, the way its
frontend does, and both skip what is already done: against an instance set
up earlier they only log in and check.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
import itertools
from typing import Any, Final

import aiohttp
from homeassistant.const import EVENT_HOMEASSISTANT_STARTED
from homeassistant.core import CoreState

from custom_components.spacebring_tapkey.const import DOMAIN
from sandbox.const import TAPKEY_CLIENT_ID, TAPKEY_CLIENT_SECRET

DEV_NAME: Final = "Developer"
DEV_USERNAME: Final = "dev"
DEV_PASSWORD: Final = "dev-password"  # noqa: S105 - the documented dev login
CREDENTIALS_NAME: Final = "Tapkey sandbox"
STEP_USER: Final = "user"
STEP_CORE_CONFIG: Final = "core_config"
# The source of the entries onboarding suggests for a new home.
SOURCE_ONBOARDING: Final = "onboarding"


class HomeAssistantApiError(Exception):
    """Home Assistant answered a set-up request with an error."""


class UnknownCommandError(HomeAssistantApiError):
    """This Home Assistant release has no such websocket command."""


@dataclass(frozen=True, slots=True)
class Tokens:
    """An access token and the refresh token it belongs to."""

    access: str
    refresh: str


class Websocket:
    """Commands and event subscriptions over an authenticated connection."""

    def __init__(self, connection: aiohttp.ClientWebSocketResponse) -> None:
        """Use an authenticated connection."""
        self._connection = connection
        self._ids = itertools.count(1)
        self._events: list[dict[str, Any]] = []

    async def _receive(self, message_id: int, kind: str) -> dict[str, Any]:
        """The next message of `kind` for `message_id`; events wait their turn."""
        for message in self._events:
            if message["id"] == message_id and kind == "event":
                self._events.remove(message)
                return message
        while True:
            message = await self._connection.receive_json()
            if message.get("id") == message_id and message.get("type") == kind:
                return message
            if message.get("type") == "event":
                self._events.append(message)

    async def send(self, command: str, **fields: Any) -> int:
        """Send a command; returns its message id."""
        message_id = next(self._ids)
        await self._connection.send_json({"id": message_id, "type": command, **fields})
        return message_id

    async def result(self, message_id: int) -> Any:
        """The result of the command sent as `message_id`."""
        reply = await self._receive(message_id, "result")
        if not reply["success"]:
            error = reply["error"]
            if error["code"] == "unknown_command":
                raise UnknownCommandError(error["message"])
            raise HomeAssistantApiError(error["message"])
        return reply["result"]

    async def call(self, command: str, **fields: Any) -> Any:
        """Send a command and return its result."""
        return await self.result(await self.send(command, **fields))

    async def next_event(self, subscription: int) -> dict[str, Any]:
        """The next event of a subscription."""
        return (await self._receive(subscription, "event"))["event"]


class HomeAssistantApi:
    """The parts of Home Assistant's API that set up a dev instance."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str) -> None:
        """Talk to the instance at `base_url`."""
        self._session = session
        self._base_url = base_url
        # The frontend's client id: Home Assistant's own URL.
        self._client_id = f"{base_url}/"

    async def _post(
        self, path: str, *, json: Any = None, data: Any = None, token: str = ""
    ) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with self._session.post(
            self._base_url + path, json=json, data=data, headers=headers
        ) as response:
            if response.status >= 400:
                text = await response.text()
                raise HomeAssistantApiError(f"POST {path}: {response.status} {text}")
            return await response.json(content_type=None)

    async def onboarding_steps(self) -> dict[str, bool]:
        """Each onboarding step and whether it is done; none once onboarded."""
        async with self._session.get(self._base_url + "/api/onboarding") as response:
            if response.status == 404:  # onboarded: the onboarding views are gone
                return {}
            response.raise_for_status()
            return {item["step"]: item["done"] for item in await response.json()}

    async def create_owner(self) -> str:
        """Onboarding's first step: the owner; returns an authorization code."""
        result = await self._post(
            "/api/onboarding/users",
            json={
                "client_id": self._client_id,
                "name": DEV_NAME,
                "username": DEV_USERNAME,
                "password": DEV_PASSWORD,
                "language": "en",
            },
        )
        return str(result["auth_code"])

    async def finish_onboarding_step(self, step: str, tokens: Tokens) -> None:
        """Finish a later onboarding step with the answers the frontend gives."""
        body: dict[str, str] = {}
        if step == "integration":
            body = {"client_id": self._client_id, "redirect_uri": self._client_id}
        await self._post(f"/api/onboarding/{step}", json=body, token=tokens.access)

    async def log_in(self) -> str:
        """Log in with the dev login; returns an authorization code."""
        flow = await self._post(
            "/auth/login_flow",
            json={
                "client_id": self._client_id,
                "handler": ["homeassistant", None],
                "redirect_uri": self._client_id,
            },
        )
        result = await self._post(
            f"/auth/login_flow/{flow['flow_id']}",
            json={
                "client_id": self._client_id,
                "username": DEV_USERNAME,
                "password": DEV_PASSWORD,
            },
        )
        if result.get("type") != "create_entry":
            raise HomeAssistantApiError(
                f"logging in as {DEV_USERNAME} failed: {result.get('errors')}"
            )
        return str(result["result"])

    async def tokens(self, auth_code: str) -> Tokens:
        """Trade an authorization code for tokens."""
        result = await self._post(
            "/auth/token",
            data={
                "grant_type": "authorization_code",
                "code": auth_code,
                "client_id": self._client_id,
            },
        )
        return Tokens(result["access_token"], result["refresh_token"])

    async def delete_entry(self, entry_id: str, tokens: Tokens) -> None:
        """Delete a config entry."""
        async with self._session.delete(
            f"{self._base_url}/api/config/config_entries/entry/{entry_id}",
            headers={"Authorization": f"Bearer {tokens.access}"},
        ) as response:
            response.raise_for_status()

    async def revoke(self, tokens: Tokens) -> None:
        """End the session these tokens belong to."""
        await self._post("/auth/revoke", data={"token": tokens.refresh})

    @asynccontextmanager
    async def websocket(self, tokens: Tokens) -> AsyncIterator[Websocket]:
        """An authenticated websocket connection."""
        async with self._session.ws_connect(
            self._base_url + "/api/websocket"
        ) as connection:
            await connection.receive_json()  # auth_required
            await connection.send_json({"type": "auth", "access_token": tokens.access})
            reply = await connection.receive_json()
            if reply["type"] != "auth_ok":
                raise HomeAssistantApiError(f"websocket: {reply}")
            yield Websocket(connection)


async def onboard(api: HomeAssistantApi) -> tuple[Tokens, list[str]]:
    """Finish onboarding as the dev user (or log in); the steps it finished."""
    steps = await api.onboarding_steps()
    if steps.get(STEP_USER, True):
        tokens = await api.tokens(await api.log_in())
    else:
        tokens = await api.tokens(await api.create_owner())
    finished = [step for step, done in steps.items() if not done]
    for step in finished:
        if step != STEP_USER:
            await api.finish_onboarding_step(step, tokens)
    return tokens, finished


async def remove_onboarding_suggestions(
    api: HomeAssistantApi, websocket: Websocket, tokens: Tokens
) -> list[str]:
    """Delete the entries onboarding adds for a new home; their titles.

    Finishing the core configuration step adds weather, text-to-speech and
    a shopping list for a new home. The dev instance has no use for them,
    and their packages are not installed, so they would only fail to load.
    """
    entries = await websocket.call("config_entries/get")
    suggested = [entry for entry in entries if entry["source"] == SOURCE_ONBOARDING]
    for entry in suggested:
        await api.delete_entry(entry["entry_id"], tokens)
    return [entry["title"] for entry in suggested]


async def register_tapkey_credentials(websocket: Websocket) -> bool:
    """Add the sandbox's OAuth client unless it is there; whether it was added."""
    existing = await websocket.call("application_credentials/list")
    if any(
        item["domain"] == DOMAIN and item["client_id"] == TAPKEY_CLIENT_ID
        for item in existing
    ):
        return False
    await websocket.call(
        "application_credentials/create",
        domain=DOMAIN,
        client_id=TAPKEY_CLIENT_ID,
        client_secret=TAPKEY_CLIENT_SECRET,
        name=CREDENTIALS_NAME,
    )
    return True


async def confirm_http_settings(websocket: Websocket) -> bool:
    """Confirm the `http:` settings of configuration.yaml; whether there were new ones.

    Newer releases keep new HTTP settings pending until someone confirms
    them, and return to the previous ones (port 8123 on every interface)
    after a few minutes; older releases just use them.
    """
    try:
        settings = await websocket.call("http/config")
    except UnknownCommandError:
        return False
    pending = settings["pending"]
    if pending is None or pending.get("error"):
        return False
    await websocket.call("http/config/promote")
    return True


async def wait_until_running(websocket: Websocket) -> None:
    """Wait until Home Assistant has started every integration."""
    subscription = await websocket.send(
        "subscribe_events", event_type=EVENT_HOMEASSISTANT_STARTED
    )
    await websocket.result(subscription)
    if (await websocket.call("get_config"))["state"] != CoreState.running.value:
        await websocket.next_event(subscription)


async def prepare(session: aiohttp.ClientSession, base_url: str) -> list[str]:
    """Onboard, register the credentials and wait for the start; what was done."""
    api = HomeAssistantApi(session, base_url)
    tokens, finished = await onboard(api)
    done = [f"onboarding step {step!r}" for step in finished]
    try:
        async with api.websocket(tokens) as websocket:
            # Set-up tasks (onboarding's suggestions, application_credentials/*)
            # are over once Home Assistant runs.
            await wait_until_running(websocket)
            if STEP_CORE_CONFIG in finished:
                removed = await remove_onboarding_suggestions(api, websocket, tokens)
                done += [
                    f"removed onboarding's suggestion {title!r}" for title in removed
                ]
            if await confirm_http_settings(websocket):
                done.append("confirmed the http: settings of configuration.yaml")
            if await register_tapkey_credentials(websocket):
                done.append("registered the sandbox's Tapkey OAuth client")
    finally:
        await api.revoke(tokens)
    return done
