"""Tapkey OAuth routes (`/connect/authorize`, `/connect/token`), as on
login.tapkey.com.

The authorize page asks a person to approve the application, or approves on
its own when the state says `auto_approve` (tests, unattended demos). Errors
before the redirect URI is trusted are shown on the page; later ones go back
to the application as `error=` parameters, as RFC 6749 §4.1.2.1 requires.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
import html
from typing import Any, Final, NoReturn

from aiohttp import BasicAuth, web
from yarl import URL

from .tapkey_oauth import OAuthClient, OAuthError
from .tapkey_state import TapkeyState

AUTHORIZE_PATH: Final = "/connect/authorize"
TOKEN_PATH: Final = "/connect/token"
_FORWARDED_FIELDS: Final = (
    "client_id",
    "redirect_uri",
    "response_type",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
)

type Clock = Callable[[], datetime]

_PAGE: Final = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tapkey sandbox sign-in</title>
<style>body{{font-family:sans-serif;max-width:32em;margin:4em auto}}
button{{font-size:1.1em;margin-right:1em}}</style></head>
<body><h1>Tapkey sandbox</h1>{content}</body></html>
"""


def _page(content: str, *, status: int = 200) -> web.Response:
    return web.Response(
        text=_PAGE.format(content=content), content_type="text/html", status=status
    )


def _approve_form(client: OAuthClient, params: Mapping[str, str]) -> web.Response:
    hidden = "".join(
        f'<input type="hidden" name="{name}" value="{html.escape(params[name])}">'
        for name in _FORWARDED_FIELDS
        if name in params
    )
    scopes = "".join(
        f"<li>{html.escape(scope)}</li>" for scope in params.get("scope", "").split()
    )
    return _page(
        f"<p><strong>{html.escape(client.name)}</strong> asks to manage your "
        f"locking systems:</p><ul>{scopes}</ul>"
        f'<form method="post" action="{AUTHORIZE_PATH}">{hidden}'
        '<button type="submit" name="decision" value="approve">Approve</button>'
        '<button type="submit" name="decision" value="deny">Deny</button>'
        "</form>"
    )


def _redirect(redirect_uri: str, params: Mapping[str, str], **query: str) -> NoReturn:
    if "state" in params:
        query["state"] = params["state"]
    raise web.HTTPFound(URL(redirect_uri).update_query(query))


class _OAuthRoutes:
    def __init__(self, state: TapkeyState, clock: Clock) -> None:
        self._state = state
        self._clock = clock

    async def authorize_page(self, request: web.Request) -> web.Response:
        return self._authorize(request.query, decision=None)

    async def authorize_decision(self, request: web.Request) -> web.Response:
        form = await request.post()
        params = {name: str(value) for name, value in form.items()}
        return self._authorize(params, decision=params.get("decision"))

    def _authorize(
        self, params: Mapping[str, str], *, decision: str | None
    ) -> web.Response:
        redirect_uri = params.get("redirect_uri", "")
        try:
            client = self._state.oauth.client_for_redirect(
                params.get("client_id", ""), redirect_uri
            )
        except OAuthError as err:
            # The redirect URI is not trusted: tell the person, not the app.
            return _page(f"<p>{html.escape(err.description)}</p>", status=400)
        if params.get("response_type") != "code":
            _redirect(redirect_uri, params, error="unsupported_response_type")
        if decision is None and not self._state.auto_approve:
            return _approve_form(client, params)
        if decision not in (None, "approve"):
            _redirect(redirect_uri, params, error="access_denied")
        try:
            code = self._state.oauth.issue_code(
                client,
                redirect_uri=redirect_uri,
                scope=params.get("scope", ""),
                now=self._clock(),
                code_challenge=params.get("code_challenge"),
                code_challenge_method=params.get("code_challenge_method"),
            )
        except OAuthError as err:
            _redirect(redirect_uri, params, error=err.error)
        _redirect(redirect_uri, params, code=code)

    async def token(self, request: web.Request) -> web.Response:
        form = await request.post()
        fields = {name: str(value) for name, value in form.items()}
        try:
            body = self._issue(self._client(request, fields), fields)
        except OAuthError as err:
            response = web.json_response(
                {"error": err.error, "error_description": err.description},
                status=err.status,
            )
            if err.status == 401:
                response.headers["WWW-Authenticate"] = 'Basic realm="tapkey"'
        else:
            response = web.json_response(body)
        response.headers["Cache-Control"] = "no-store"
        return response

    def _issue(self, client: OAuthClient, fields: Mapping[str, str]) -> dict[str, Any]:
        now = self._clock()
        match fields.get("grant_type"):
            case "authorization_code":
                return self._state.oauth.exchange_code(
                    client,
                    code=fields.get("code", ""),
                    redirect_uri=fields.get("redirect_uri"),
                    code_verifier=fields.get("code_verifier"),
                    now=now,
                )
            case "refresh_token":
                return self._state.oauth.refresh(
                    client, refresh_token=fields.get("refresh_token", ""), now=now
                )
        raise OAuthError("unsupported_grant_type", "grant_type is not supported")

    def _client(self, request: web.Request, fields: Mapping[str, str]) -> OAuthClient:
        header = request.headers.get("Authorization")
        if header:
            try:
                basic = BasicAuth.decode(header)
            except ValueError as err:
                raise OAuthError(
                    "invalid_client", "malformed Basic credentials", status=401
                ) from err
            return self._state.oauth.authenticate_client(basic.login, basic.password)
        return self._state.oauth.authenticate_client(
            fields.get("client_id", ""), fields.get("client_secret", "")
        )


def register_oauth_routes(
    app: web.Application, state: TapkeyState, clock: Clock
) -> None:
    """Add Tapkey's authorize and token endpoints to `app`."""
    routes = _OAuthRoutes(state, clock)
    app.router.add_get(AUTHORIZE_PATH, routes.authorize_page)
    app.router.add_post(AUTHORIZE_PATH, routes.authorize_decision)
    app.router.add_post(TOKEN_PATH, routes.token)
