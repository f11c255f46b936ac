"""Async client of the Tapkey Management API.

No Home Assistant imports: the client asks an `AccessTokenProvider` for a
valid token before each call (an adapter over Home Assistant's OAuth2 session
in production, a fixed token in tests) and sends everything through the
shared `ApiTransport` (rate limit, 429 back-off, typed errors).

Retries. Reads, contact creation (a repeat answers 409, which is re-read)
and revocation (revoking twice changes nothing) are retried on 502/503/504,
timeouts and resets. Creating a grant is not idempotent: Tapkey would keep
both copies of a repeated PUT. So `async_create_grant` sends its PUT once
(only a 429, which Tapkey did not act on, is repeated). When the outcome is
unknown (timeout, reset, 5xx, unreadable answer) it reads the contact's
grants back and returns a grant exactly like the one requested if one is
there now; otherwise it raises the original error and the caller's next
sync, which re-reads Tapkey, decides again. The read-back cannot see a
write the server performs after it: such a grant appears in a later listing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
import logging
from typing import Any, Final, Protocol

import aiohttp
from yarl import URL

from .errors import (
    ApiConflictError,
    ApiConnectionError,
    ApiError,
    ApiInvalidResponseError,
    ApiServerError,
)
from .http import ApiTransport, RateLimiter, RetryPolicy
from .models import (
    Contact,
    FetchResult,
    Grant,
    GrantState,
    LockLogEntry,
    LockTarget,
    Owner,
    SkippedRecord,
    normalize_email,
)
from .tapkey_parse import (
    JsonObject,
    MalformedRecordError,
    parse_bound_lock,
    parse_contact,
    parse_grant,
    parse_list,
    parse_lock_group,
    parse_log_entry,
    parse_owner,
)

_LOGGER = logging.getLogger(__name__)

DEFAULT_BASE_URL: Final = "https://my.tapkey.com/api/v1"
# Tapkey documents no page size limit; 100 is what its samples use.
PAGE_SIZE: Final = 100
# Tapkey documents no rate limit either; stay polite.
DEFAULT_REQUESTS_PER_SECOND: Final = 10.0
TRIGGER_LOCK_FILTER: Final = "logType eq 'Command' and command eq 'TriggerLock'"

# Failures after which a grant may or may not exist on Tapkey's side.
_UNKNOWN_OUTCOME: Final = (ApiConnectionError, ApiServerError, ApiInvalidResponseError)


class AccessTokenProvider(Protocol):
    """Anything that can hand out a currently valid Tapkey access token."""

    async def async_get_access_token(self) -> str:
        """Return a valid access token (refreshing it if needed)."""


class _Identified(Protocol):
    @property
    def id(self) -> str: ...


def odata_literal(value: str | bool | datetime) -> str:
    """A value as an OData `$filter` literal."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return format_timestamp(value)
    return "'" + value.replace("'", "''") + "'"


def odata_equals(conditions: Mapping[str, str | bool | datetime]) -> str:
    """`$filter` text requiring each property to equal its value."""
    return " and ".join(
        f"{name} eq {odata_literal(value)}" for name, value in conditions.items()
    )


def format_timestamp(moment: datetime) -> str:
    """ISO-8601 UTC with a `Z`, the form Tapkey documents."""
    if moment.tzinfo is None:
        raise ValueError("Tapkey times must be timezone-aware")
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


class TapkeyClient:
    """Tapkey Management API calls, parsed into the records of `models.py`."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        token_provider: AccessTokenProvider,
        *,
        base_url: str = DEFAULT_BASE_URL,
        limiter: RateLimiter | None = None,
        policy: RetryPolicy | None = None,
        page_size: int = PAGE_SIZE,
    ) -> None:
        """Use `session` (Home Assistant's shared one) for every request."""
        self._tokens = token_provider
        self._base = URL(base_url.rstrip("/"))
        self._page_size = page_size
        self._transport = ApiTransport(
            session,
            service="Tapkey",
            limiter=limiter or RateLimiter(DEFAULT_REQUESTS_PER_SECOND),
            policy=policy,
        )

    @property
    def requests_sent(self) -> int:
        """HTTP requests sent so far, retries included."""
        return self._transport.requests_sent

    def _owner_url(self, owner_id: str, *parts: str) -> URL:
        url = self._base / "Owners" / owner_id
        for part in parts:
            url /= part
        return url

    async def _request(
        self,
        method: str,
        url: URL,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        idempotent: bool,
    ) -> Any:
        token = await self._tokens.async_get_access_token()
        return await self._transport.request(
            method,
            url,
            params=params,
            json_body=json_body,
            headers={"Authorization": f"Bearer {token}"},
            idempotent=idempotent,
        )

    async def _get_all[T: _Identified](
        self,
        url: URL,
        parse: Callable[[JsonObject], T],
        kind: str,
        params: Mapping[str, str] | None = None,
    ) -> FetchResult[T]:
        """Every page of a list: `$top`/`$skip` until a page comes back short."""
        records: dict[str, T] = {}
        skipped: list[SkippedRecord] = []
        offset = 0
        while True:
            page = await self._request(
                "GET",
                url,
                params={
                    **(params or {}),
                    "$top": str(self._page_size),
                    "$skip": str(offset),
                },
                idempotent=True,
            )
            parsed, bad = parse_list(page, parse, kind)
            fresh = [record for record in parsed if record.id not in records]
            if len(page) >= self._page_size and parsed and not fresh:
                raise ApiInvalidResponseError(
                    f"Tapkey repeated a page of {kind} records ($skip ignored?)"
                )
            # A record created between two pages shifts the next page by
            # one; keying by id keeps such a repeat from being counted twice.
            records.update((record.id, record) for record in fresh)
            skipped.extend(bad)
            if len(page) < self._page_size:
                return FetchResult(tuple(records.values()), tuple(skipped))
            offset += len(page)

    async def async_get_owners(self) -> FetchResult[Owner]:
        """The locking systems the token may manage."""
        return await self._get_all(self._base / "Owners", parse_owner, "tapkey_owner")

    async def async_get_bound_locks(self, owner_id: str) -> FetchResult[LockTarget]:
        """The locking system's locks, with their time-restriction support."""
        return await self._get_all(
            self._owner_url(owner_id, "BoundLocks"),
            parse_bound_lock,
            "tapkey_lock",
            {"expand": "supportedFeatures"},
        )

    async def async_get_lock_groups(self, owner_id: str) -> FetchResult[LockTarget]:
        """The locking system's lock groups."""
        return await self._get_all(
            self._owner_url(owner_id, "LockGroups"), parse_lock_group, "tapkey_group"
        )

    async def async_get_contacts(self, owner_id: str) -> FetchResult[Contact]:
        """Every contact of the locking system."""
        return await self._get_all(
            self._owner_url(owner_id, "Contacts"), parse_contact, "tapkey_contact"
        )

    async def async_find_contact(
        self, owner_id: str, identifier: str
    ) -> Contact | None:
        """The contact with this e-mail, compared trimmed and case-insensitively."""
        wanted = normalize_email(identifier)
        if wanted is None:
            raise ValueError("a Tapkey contact identifier is an e-mail address")
        contacts = await self.async_get_contacts(owner_id)
        return next(
            (c for c in contacts.items if normalize_email(c.identifier) == wanted),
            None,
        )

    async def async_create_contact(
        self, owner_id: str, identifier: str, *, title: str | None = None
    ) -> Contact:
        """Create the contact, or return the existing one if Tapkey has it (409).

        Raises ApiPlanLimitError (402) when the plan allows no more contacts.
        """
        body: dict[str, str] = {"ipId": "tapkey", "identifier": identifier.strip()}
        if title:
            body["title"] = title
        try:
            created = await self._request(
                "PUT",
                self._owner_url(owner_id, "Contacts"),
                json_body=body,
                idempotent=True,  # a repeat answers 409, handled below
            )
        except ApiConflictError:
            existing = await self.async_find_contact(owner_id, identifier)
            if existing is None:
                raise
            _LOGGER.debug("Tapkey contact %s already existed", existing.id)
            return existing
        return _parse_one(created, parse_contact, "contact")

    async def async_get_grants(
        self, owner_id: str, *, odata_filter: str | None = None
    ) -> FetchResult[Grant]:
        """Grants of the locking system (revoked ones too unless filtered)."""
        params = {"$filter": odata_filter} if odata_filter else None
        return await self._get_all(
            self._owner_url(owner_id, "Grants"), parse_grant, "tapkey_grant", params
        )

    async def async_create_grant(
        self,
        owner_id: str,
        *,
        contact_id: str,
        bound_lock_id: str,
        valid_from: datetime,
        valid_before: datetime | None,
        time_restriction_ical: str | None = None,
    ) -> Grant:
        """Grant a contact access to a lock or lock group from/before the times.

        Sends at most one PUT; see the module docstring for what happens when
        its outcome is unknown.
        """
        body: dict[str, str | None] = {
            "contactId": contact_id,
            "boundLockId": bound_lock_id,
            "validFrom": format_timestamp(valid_from),
            "validBefore": format_timestamp(valid_before) if valid_before else None,
        }
        if time_restriction_ical is not None:
            body["timeRestrictionIcal"] = time_restriction_ical
        try:
            created = await self._request(
                "PUT",
                self._owner_url(owner_id, "Grants"),
                json_body=body,
                idempotent=False,
            )
            return _parse_one(created, parse_grant, "grant")
        except _UNKNOWN_OUTCOME as err:
            wanted = Grant(
                id="",
                contact_id=contact_id,
                bound_lock_id=bound_lock_id,
                valid_from=valid_from,
                valid_before=valid_before,
                time_restriction_ical=time_restriction_ical,
            )
            if (found := await self._find_created_grant(owner_id, wanted)) is None:
                raise
            _LOGGER.debug("Tapkey grant %s was created despite: %s", found.id, err)
            return found

    async def _find_created_grant(self, owner_id: str, wanted: Grant) -> Grant | None:
        """The grant a PUT with an unknown outcome may have created."""
        try:
            grants = await self.async_get_grants(
                owner_id,
                odata_filter=odata_equals(
                    {
                        "contactId": wanted.contact_id,
                        "boundLockId": wanted.bound_lock_id,
                    }
                ),
            )
        except ApiError as err:
            _LOGGER.debug("Could not read Tapkey grants back: %s", err)
            return None
        matches = [
            grant
            for grant in grants.items
            if grant.state is GrantState.OK
            and grant.contact_id == wanted.contact_id
            and grant.bound_lock_id == wanted.bound_lock_id
            and grant.valid_from == wanted.valid_from
            and grant.valid_before == wanted.valid_before
            and grant.time_restriction_ical == wanted.time_restriction_ical
        ]
        return matches[-1] if matches else None

    async def async_revoke_grant(self, owner_id: str, grant_id: str) -> None:
        """Revoke a grant; Tapkey keeps it listed with state Revoked."""
        await self._request(
            "POST",
            self._owner_url(owner_id, "Grants", grant_id, "Revoke"),
            params={"dryRun": "false"},
            idempotent=True,  # revoking a revoked grant changes nothing
        )

    async def async_get_log_entries(
        self, owner_id: str, *, since: datetime | None = None
    ) -> FetchResult[LockLogEntry]:
        """Lock openings (TriggerLock commands), oldest first, optionally since."""
        odata_filter = TRIGGER_LOCK_FILTER
        if since is not None:
            odata_filter += f" and lockTimestamp ge {format_timestamp(since)}"
        return await self._get_all(
            self._owner_url(owner_id, "LogEntries"),
            parse_log_entry,
            "tapkey_log_entry",
            {"$filter": odata_filter, "$orderby": "lockTimestamp asc"},
        )


def _parse_one[T](payload: Any, parse: Callable[[JsonObject], T], kind: str) -> T:
    """A single record from a write's answer; unreadable means invalid response."""
    if not isinstance(payload, Mapping):
        raise ApiInvalidResponseError(f"Tapkey answered the {kind} call without one")
    try:
        return parse(payload)
    except MalformedRecordError as err:
        raise ApiInvalidResponseError(
            f"Tapkey sent an unreadable {kind}: {err}"
        ) from err
