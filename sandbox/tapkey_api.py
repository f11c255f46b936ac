"""Tapkey Management API routes (`/api/v1/Owners/...`), as on my.tapkey.com.

Every call needs a Bearer access token of the sandbox's OAuth server that is
still valid by the sandbox clock (401 otherwise) and carries the scope Tapkey
documents for the call (403 otherwise). Lists are plain JSON arrays paged
with OData `$top`/`$skip` and narrowed with `$filter`; errors are
`{"ErrorCode", "Message"}` bodies.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Final

from aiohttp import web

from .tapkey_odata import ODataError, parse_datetime, query_items
from .tapkey_records import Contact, Json, LockGroup, LogEntry, OwnerAccount
from .tapkey_state import TapkeyRequestError, TapkeyState

API_PREFIX: Final = "/api/v1"
_OWNER: Final = API_PREFIX + "/Owners/{owner_id}"

type Clock = Callable[[], datetime]
type Handler = Callable[[web.Request], Awaitable[web.Response]]


def error_response(status: int, error_code: str, message: str) -> web.Response:
    """A Tapkey error body."""
    response = web.json_response(
        {"ErrorCode": error_code, "Message": message}, status=status
    )
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    return response


def _optional_datetime(body: Mapping[str, Any], name: str) -> datetime | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return parse_datetime(value)
        except ValueError:
            pass
    raise TapkeyRequestError(
        400, "BadRequest", f"{name} must be an ISO-8601 date-time with offset"
    )


def _optional_text(body: Mapping[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None or isinstance(value, str):
        return value
    raise TapkeyRequestError(400, "BadRequest", f"{name} must be a string")


async def _json_object(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError as err:
        raise TapkeyRequestError(400, "BadRequest", "body is not JSON") from err
    if not isinstance(body, dict):
        raise TapkeyRequestError(400, "BadRequest", "body must be a JSON object")
    return body


class _ManagementApi:
    """Handlers bound to one state and clock."""

    def __init__(self, state: TapkeyState, clock: Clock) -> None:
        self._state = state
        self._clock = clock

    def route(self, scope: str, handler: Handler) -> Handler:
        """Wrap a handler with token and scope checks and error mapping."""

        async def guarded(request: web.Request) -> web.Response:
            header = request.headers.get("Authorization", "")
            scheme, _, token = header.partition(" ")
            issued = (
                self._state.oauth.access_token(token.strip(), self._clock())
                if scheme.lower() == "bearer"
                else None
            )
            if issued is None:
                return error_response(
                    401, "Unauthorized", "access token missing, invalid or expired"
                )
            if scope not in issued.scopes:
                return error_response(403, "Forbidden", f"the token lacks {scope}")
            try:
                return await handler(request)
            except TapkeyRequestError as err:
                return error_response(err.status, err.error_code, err.message)

        return guarded

    def _owner(self, request: web.Request) -> OwnerAccount:
        return self._state.owner(request.match_info["owner_id"])

    def _page[R](
        self,
        request: web.Request,
        records: Sequence[R],
        view: Callable[[R], Json],
        render: Callable[[R], Json] | None = None,
    ) -> web.Response:
        """One page of `records` as JSON; `render` defaults to `view`."""
        try:
            page = query_items(
                records,
                request.query,
                max_page_size=self._state.max_page_size,
                view=view,
            )
        except ODataError as err:
            raise TapkeyRequestError(400, "InvalidQuery", str(err)) from err
        return web.json_response([(render or view)(record) for record in page])

    async def owners(self, request: web.Request) -> web.Response:
        owners = list(self._state.owners.values())
        return self._page(request, owners, OwnerAccount.to_json)

    async def bound_locks(self, request: web.Request) -> web.Response:
        expand = request.query.get("$expand") or request.query.get("expand") or ""
        with_features = "supportedFeatures" in expand.split(",")
        return self._page(
            request,
            list(self._owner(request).locks.values()),
            lambda lock: lock.to_json(expand_features=with_features),
        )

    async def lock_groups(self, request: web.Request) -> web.Response:
        owner = self._owner(request)
        return self._page(request, list(owner.lock_groups.values()), LockGroup.to_json)

    async def contacts(self, request: web.Request) -> web.Response:
        owner = self._owner(request)
        return self._page(request, list(owner.contacts.values()), Contact.to_json)

    async def create_contact(self, request: web.Request) -> web.Response:
        owner_id = request.match_info["owner_id"]
        body = await _json_object(request)
        identifier = _optional_text(body, "identifier") or _optional_text(body, "email")
        if not identifier:
            raise TapkeyRequestError(400, "BadRequest", "identifier is required")
        contact = self._state.create_contact(
            owner_id,
            identifier=identifier,
            ip_id=_optional_text(body, "ipId") or "tapkey",
            title=_optional_text(body, "title") or "",
        )
        return web.json_response(contact.to_json())

    async def revoke_contact_grants(self, request: web.Request) -> web.Response:
        owner = self._owner(request)
        revoked = self._state.revoke_contact_grants(
            owner.id, request.match_info["contact_id"]
        )
        return web.json_response([owner.grant_json(grant) for grant in revoked])

    async def grants(self, request: web.Request) -> web.Response:
        owner = self._owner(request)
        return self._page(
            request,
            list(owner.grants.values()),
            # Filters and sorting need no embedded copies: build those only
            # for the page that is sent.
            lambda grant: grant.to_json(owner_id=owner.id, contact=None, target=None),
            owner.grant_json,
        )

    async def create_grant(self, request: web.Request) -> web.Response:
        owner = self._owner(request)
        body = await _json_object(request)
        bound_lock_id = _optional_text(body, "boundLockId")
        if not bound_lock_id:
            raise TapkeyRequestError(400, "BadRequest", "boundLockId is required")
        identity: tuple[str, str] | None = None
        if isinstance(contact := body.get("contact"), dict):
            identifier = _optional_text(contact, "identifier") or _optional_text(
                contact, "email"
            )
            if identifier:
                identity = (_optional_text(contact, "ipId") or "tapkey", identifier)
        grant = self._state.create_grant(
            owner.id,
            bound_lock_id=bound_lock_id,
            valid_from=_optional_datetime(body, "validFrom"),
            valid_before=_optional_datetime(body, "validBefore"),
            contact_id=_optional_text(body, "contactId"),
            contact_identity=identity,
            time_restriction_ical=_optional_text(body, "timeRestrictionIcal"),
        )
        return web.json_response(owner.grant_json(grant))

    async def revoke_grant(self, request: web.Request) -> web.Response:
        owner = self._owner(request)
        dry_run = request.query.get("dryRun", "false").lower()
        if dry_run not in ("true", "false"):
            raise TapkeyRequestError(400, "BadRequest", "dryRun must be true or false")
        grant = self._state.revoke_grant(
            owner.id, request.match_info["grant_id"], dry_run=dry_run == "true"
        )
        return web.json_response(owner.grant_json(grant))

    async def log_entries(self, request: web.Request) -> web.Response:
        owner = self._owner(request)
        return self._page(request, owner.log_entries, LogEntry.to_json)


def register_management_routes(
    app: web.Application, state: TapkeyState, clock: Clock
) -> None:
    """Add the Management API routes to `app`."""
    api = _ManagementApi(state, clock)
    routes = (
        ("GET", API_PREFIX + "/Owners", "read:owneraccounts", api.owners),
        ("GET", _OWNER + "/BoundLocks", "read:core:entities", api.bound_locks),
        ("GET", _OWNER + "/LockGroups", "read:core:entities", api.lock_groups),
        ("GET", _OWNER + "/Contacts", "read:core:entities", api.contacts),
        ("PUT", _OWNER + "/Contacts", "write:core:entities", api.create_contact),
        (
            "POST",
            _OWNER + "/Contacts/{contact_id}/RevokeGrants",
            "write:grants",
            api.revoke_contact_grants,
        ),
        ("GET", _OWNER + "/Grants", "read:grants", api.grants),
        ("PUT", _OWNER + "/Grants", "write:grants", api.create_grant),
        (
            "POST",
            _OWNER + "/Grants/{grant_id}/Revoke",
            "write:grants",
            api.revoke_grant,
        ),
        ("GET", _OWNER + "/LogEntries", "read:logs", api.log_entries),
    )
    for method, path, scope, handler in routes:
        app.router.add_route(method, path, api.route(scope, handler))
