"""The sync engine: plan with the access engine, then carry the plan out.

A sync runs after every Spacebring update, at the instant the planner asks
for, after a failure (with backoff) and on demand. It is serialised per entry:
a request that arrives while a sync runs schedules one more run afterwards.
Each action is isolated, so one member's failure never blocks another's; the
ledger is saved after every batch and revocations are written down as pending
before they are sent, so a restart picks them up first.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.event import (
    async_call_later,
    async_track_point_in_utc_time,
)
from homeassistant.util import dt as dt_util

from .access.model import (
    AccessGroup,
    AdHocGrant,
    CreateGrant,
    DesiredAccess,
    EnsureContact,
    LedgerEntry,
    PlanResult,
    RevokeGrant,
    RevokeReason,
    RuleSettings,
)
from .access.planner import PlannerCache, plan
from .access.rules import desired_access
from .api.errors import (
    ApiAuthError,
    ApiConflictError,
    ApiConnectionError,
    ApiError,
    ApiForbiddenError,
    ApiInvalidResponseError,
    ApiNotFoundError,
    ApiPlanLimitError,
    ApiRateLimitedError,
    ApiServerError,
)
from .api.models import Contact, Grant, SpacebringSnapshot
from .api.tapkey import TapkeyClient
from .const import DOMAIN, LOGGER
from .ledger import ALL_GROUPS, LedgerStore, is_blocked

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry

MAX_CONCURRENT_ACTIONS = 4
RETRY_BASE = timedelta(seconds=30)
RETRY_MAX = timedelta(minutes=30)
RECENT_FAILURES = 25


def signal_access_event(entry_id: str) -> str:
    """Dispatcher signal carrying `AccessEvent`s of one entry."""
    return f"{DOMAIN}_{entry_id}_access_event"


def signal_sync_finished(entry_id: str) -> str:
    """Dispatcher signal sent after every sync of one entry."""
    return f"{DOMAIN}_{entry_id}_sync_finished"


class TapkeyWriter(Protocol):
    """The Tapkey calls the engine makes (the Tapkey client provides them)."""

    async def ensure_contact(self, identifier: str, title: str) -> Contact:
        """Return the contact for an e-mail, creating it when missing."""

    async def create_grant(self, action: CreateGrant, contact_id: str) -> Grant:
        """Create the grant an action describes."""

    async def revoke_grant(self, grant_id: str) -> None:
        """Revoke a grant."""


class TapkeyClientWriter:
    """`TapkeyWriter` on the Tapkey client, for one locking system."""

    def __init__(self, client: TapkeyClient, owner_id: str) -> None:
        """Bind the client to the entry's locking system."""
        self._client = client
        self._owner_id = owner_id

    async def ensure_contact(self, identifier: str, title: str) -> Contact:
        """Create the contact; Tapkey's 409 for an existing one is re-read."""
        return await self._client.async_create_contact(
            self._owner_id, identifier, title=title or None
        )

    async def create_grant(self, action: CreateGrant, contact_id: str) -> Grant:
        """Create the grant an action describes."""
        return await self._client.async_create_grant(
            self._owner_id,
            contact_id=contact_id,
            bound_lock_id=action.target.id,
            valid_from=action.valid_from,
            valid_before=action.valid_before,
            time_restriction_ical=action.ical,
        )

    async def revoke_grant(self, grant_id: str) -> None:
        """Revoke a grant."""
        await self._client.async_revoke_grant(self._owner_id, grant_id)


class AccessEventType(StrEnum):
    """What happened to a member's access."""

    GRANTED = "granted"
    REVOKED = "revoked"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class AccessEvent:
    """One change (or failed change) of a member's access in Tapkey."""

    type: AccessEventType
    email: str
    person: str
    group_ids: tuple[str, ...]
    target_id: str | None
    valid_from: datetime | None
    valid_before: datetime | None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class SyncFailure:
    """A failed action, kept for diagnostics and the failed-changes sensor."""

    at: datetime
    action: str
    group_ids: tuple[str, ...]
    target_id: str | None
    error: str
    message: str


@dataclass
class SyncStatus:
    """What the entities show about the sync."""

    last_attempt: datetime | None = None
    last_success: datetime | None = None
    pending: int = 0
    failed: int = 0
    plan_limit_reached: bool = False
    desired: DesiredAccess | None = None
    planned: PlanResult | None = None
    next_run: datetime | None = None
    recent_failures: deque[SyncFailure] = field(
        default_factory=lambda: deque(maxlen=RECENT_FAILURES)
    )


@dataclass(frozen=True, slots=True)
class SyncInputs:
    """What the engine reads at the start of each sync."""

    snapshot: SpacebringSnapshot | None
    grants: Sequence[Grant] | None
    groups: Sequence[AccessGroup]
    settings: RuleSettings
    horizon: timedelta
    dry_run: bool


class SyncEngine:
    """Plans and executes Tapkey changes for one config entry."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        *,
        store: LedgerStore,
        writer: TapkeyWriter,
        read_inputs: Callable[[], SyncInputs],
        refresh_tapkey: Callable[[], Awaitable[None]],
    ) -> None:
        """Wire the engine; nothing runs until `async_start`."""
        self._hass = hass
        self._entry = entry
        self._store = store
        self._writer = writer
        self._read_inputs = read_inputs
        self._refresh_tapkey = refresh_tapkey
        self._lock = asyncio.Lock()
        self._rerun = False
        self._failures_in_a_row = 0
        self._cancel_timer: CALLBACK_TYPE | None = None
        self._cancel_retry: CALLBACK_TYPE | None = None
        self._stopped = False
        # Members with nothing to do are not planned again until their inputs
        # change or their next instant comes; syncs never overlap (the lock).
        self._planner_cache = PlannerCache()
        self.status = SyncStatus()

    @property
    def ledger_store(self) -> LedgerStore:
        """The entry's ledger."""
        return self._store

    async def async_start(self) -> None:
        """Load the ledger and finish revocations a previous run left pending."""
        await self._store.async_load()
        pending = self._store.ledger.pending_entries()
        if pending:
            LOGGER.debug("Resuming %d pending revocations", len(pending))
            await self._execute_revokes(
                [
                    RevokeGrant(entry=entry, reason=RevokeReason.NOT_DESIRED)
                    for entry in pending
                ]
            )
            await self._store.async_save()

    @callback
    def async_stop(self) -> None:
        """Cancel timers; a running sync finishes its current actions."""
        self._stopped = True
        for cancel in (self._cancel_timer, self._cancel_retry):
            if cancel is not None:
                cancel()
        self._cancel_timer = self._cancel_retry = None

    @callback
    def async_request_sync(self) -> None:
        """Run a sync soon, in the background (coalesced with a running one)."""
        if self._stopped:
            return
        if self._lock.locked():
            self._rerun = True
            return
        self._entry.async_create_background_task(
            self._hass, self.async_sync(), f"{DOMAIN} sync {self._entry.entry_id}"
        )

    async def async_sync(self) -> PlanResult | None:
        """Plan and execute once (and again if asked meanwhile)."""
        result: PlanResult | None = None
        async with self._lock:
            while True:
                self._rerun = False
                result = await self._sync_once()
                if not self._rerun or self._stopped:
                    break
        async_dispatcher_send(self._hass, signal_sync_finished(self._entry.entry_id))
        return result

    async def async_add_adhoc(self, grant: AdHocGrant) -> None:
        """Keep an ad-hoc grant in the ledger and sync it."""
        self._store.ledger.adhoc[grant.id] = grant
        await self._store.async_save()

    async def async_remove_adhoc(self, grant_ids: Sequence[str]) -> None:
        """Drop ad-hoc grants from the ledger."""
        for grant_id in grant_ids:
            self._store.ledger.adhoc.pop(grant_id, None)
        await self._store.async_save()

    async def async_revoke_all(self) -> int:
        """Revoke every grant this entry created; return how many failed.

        The caller switches the entry to dry-run first, so that no later sync
        grants the access again (the clean disconnect).
        """
        async with self._lock:
            ledger = self._store.ledger
            now = dt_util.utcnow()
            revokes: list[RevokeGrant] = []
            for entry in list(ledger.grants.values()):
                if entry.valid_before <= now:
                    ledger.drop(entry.grant_id)  # ended on its own
                    continue
                ledger.pending_revocations.add(entry.grant_id)
                revokes.append(
                    RevokeGrant(entry=entry, reason=RevokeReason.NOT_DESIRED)
                )
            await self._store.async_save()
            failed = await self._execute_revokes(revokes)
            await self._store.async_save()
            self.status.failed = failed
        if revokes:
            await self._refresh_tapkey()
        async_dispatcher_send(self._hass, signal_sync_finished(self._entry.entry_id))
        return failed

    async def async_block(self, email: str, group_id: str | None) -> None:
        """Stop granting a member one access group (None: every group).

        Ad-hoc grants of the member for those groups are dropped too; the
        next sync revokes what this integration granted them.
        """
        ledger = self._store.ledger
        ledger.blocked.setdefault(email, set()).add(group_id or ALL_GROUPS)
        for grant in list(ledger.adhoc.values()):
            if grant.email == email and (
                group_id is None or grant.group_id == group_id
            ):
                del ledger.adhoc[grant.id]
        await self._store.async_save()

    async def async_unblock(self, email: str, group_id: str) -> None:
        """Lift a block so the member can get this access group again."""
        ledger = self._store.ledger
        groups = ledger.blocked.get(email)
        if groups is None:
            return
        groups.discard(group_id)
        groups.discard(ALL_GROUPS)
        if not groups:
            del ledger.blocked[email]
        await self._store.async_save()

    async def _sync_once(self) -> PlanResult | None:
        now = dt_util.utcnow()
        self.status.last_attempt = now
        inputs = self._read_inputs()
        snapshot = inputs.snapshot
        if snapshot is None or inputs.grants is None:
            # Without both sides the plan would be wrong; wait for the data.
            return None
        ledger = self._store.ledger
        self._drop_expired_adhoc(now)
        adhoc = tuple(ledger.adhoc.values())
        ledger_entries = tuple(ledger.grants.values())
        contacts = dict(ledger.contacts)
        blocked = {email: frozenset(groups) for email, groups in ledger.blocked.items()}

        def compute() -> tuple[DesiredAccess, PlanResult]:
            desired = desired_access(
                snapshot, inputs.groups, inputs.settings, adhoc, now=now
            )
            if blocked:
                desired = replace(
                    desired,
                    windows=tuple(
                        window
                        for window in desired.windows
                        if not is_blocked(blocked, window.email, window.group_id)
                    ),
                )
            result = plan(
                desired.windows,
                inputs.groups,
                ledger_entries,
                now=now,
                horizon=inputs.horizon,
                tapkey_grants=inputs.grants,
                contacts=contacts,
                cache=self._planner_cache,
            )
            return desired, result

        # A large site takes most of a second to plan (and may load time zone
        # files): keep it off the event loop. The inputs are immutable.
        desired, result = await self._hass.async_add_executor_job(compute)
        self.status.desired = desired
        self.status.planned = result
        if inputs.dry_run:
            self.status.pending = len(result.actions)
            self.status.failed = 0
            self.status.last_success = now
            self._schedule_next(result.next_replan_at)
            return result

        failures = await self._execute(result)
        self.status.pending = failures
        self.status.failed = failures
        if result.actions:
            await self._refresh_tapkey()
        if failures:
            self._schedule_retry()
        else:
            self._failures_in_a_row = 0
            self.status.last_success = now
            self.status.plan_limit_reached = False
        self._schedule_next(result.next_replan_at)
        return result

    def _drop_expired_adhoc(self, now: datetime) -> None:
        ledger = self._store.ledger
        for grant_id in [g.id for g in ledger.adhoc.values() if g.end <= now]:
            del ledger.adhoc[grant_id]

    async def _execute(self, result: PlanResult) -> int:
        """Carry out a plan; return how many actions failed."""
        ledger = self._store.ledger
        for entry in result.forget:
            ledger.drop(entry.grant_id)
        failed = await self._execute_contacts(result.contacts)
        ledger_contacts = self._store.ledger.contacts
        # A grant needs its contact: when creating the contact failed, that
        # failure was reported once and the member's grants wait for a retry.
        ready = [
            create
            for create in result.creates
            if create.contact_id or create.email in ledger_contacts
        ]
        failed += len(result.creates) - len(ready)
        failed += await self._execute_creates(ready)
        await self._store.async_save()
        if result.revokes:
            for revoke in result.revokes:
                ledger.pending_revocations.add(revoke.entry.grant_id)
            await self._store.async_save()
            failed += await self._execute_revokes(result.revokes)
        await self._store.async_save()
        return failed

    async def _execute_contacts(self, contacts: Sequence[EnsureContact]) -> int:
        async def ensure(action: EnsureContact) -> None:
            contact = await self._writer.ensure_contact(action.email, action.person)
            self._store.ledger.contacts[action.email] = contact.id

        return await self._run_isolated(
            contacts,
            ensure,
            lambda action, err: self._failed(
                "ensure_contact",
                AccessEvent(
                    type=AccessEventType.FAILED,
                    email=action.email,
                    person=action.person,
                    group_ids=(),
                    target_id=None,
                    valid_from=None,
                    valid_before=None,
                ),
                err,
            ),
        )

    async def _execute_creates(self, creates: Sequence[CreateGrant]) -> int:
        ledger = self._store.ledger

        async def create(action: CreateGrant) -> None:
            contact_id = action.contact_id or ledger.contacts[action.email]
            try:
                grant = await self._writer.create_grant(action, contact_id)
            except ApiNotFoundError:
                # The contact may have been deleted in Tapkey: forget it so
                # the next plan looks it up (or creates it) again.
                ledger.contacts.pop(action.email, None)
                raise
            ledger.add(
                action.to_ledger_entry(
                    grant_id=grant.id,
                    contact_id=contact_id,
                    created_at=dt_util.utcnow(),
                )
            )
            self._emit(_create_event(action, AccessEventType.GRANTED))

        return await self._run_isolated(
            creates,
            create,
            lambda action, err: self._failed(
                "create_grant", _create_event(action, AccessEventType.FAILED), err
            ),
        )

    async def _execute_revokes(self, revokes: Sequence[RevokeGrant]) -> int:
        ledger = self._store.ledger

        async def revoke(action: RevokeGrant) -> None:
            entry = action.entry
            try:
                await self._writer.revoke_grant(entry.grant_id)
            except ApiNotFoundError:
                LOGGER.debug("Grant %s is already gone from Tapkey", entry.grant_id)
            ledger.drop(entry.grant_id)
            self._emit(_revoke_event(entry, AccessEventType.REVOKED))

        return await self._run_isolated(
            revokes,
            revoke,
            lambda action, err: self._failed(
                "revoke_grant", _revoke_event(action.entry, AccessEventType.FAILED), err
            ),
        )

    async def _run_isolated[A](
        self,
        actions: Sequence[A],
        run: Callable[[A], Awaitable[None]],
        on_error: Callable[[A, ApiError], None],
    ) -> int:
        """Run actions with bounded concurrency; one failure never stops others."""
        if not actions:
            return 0
        semaphore = asyncio.Semaphore(MAX_CONCURRENT_ACTIONS)
        failed = 0

        async def guarded(action: A) -> None:
            nonlocal failed
            async with semaphore:
                try:
                    await run(action)
                except ApiError as err:
                    failed += 1
                    on_error(action, err)

        await asyncio.gather(*(guarded(action) for action in actions))
        return failed

    def _failed(self, action: str, event: AccessEvent, err: ApiError) -> None:
        code = _error_code(err)
        LOGGER.debug("%s for %s failed: %s", action, event.person, err)
        if isinstance(err, ApiPlanLimitError):
            self.status.plan_limit_reached = True
        if isinstance(err, ApiAuthError):
            self._entry.async_start_reauth(self._hass)
        self.status.recent_failures.append(
            SyncFailure(
                at=dt_util.utcnow(),
                action=action,
                group_ids=event.group_ids,
                target_id=event.target_id,
                error=code,
                message=str(err),
            )
        )
        self._emit(replace(event, error=code))

    def _emit(self, event: AccessEvent) -> None:
        async_dispatcher_send(
            self._hass, signal_access_event(self._entry.entry_id), event
        )

    def _schedule_next(self, when: datetime | None) -> None:
        if self._cancel_timer is not None:
            self._cancel_timer()
            self._cancel_timer = None
        self.status.next_run = when
        if when is None or self._stopped:
            return
        self._cancel_timer = async_track_point_in_utc_time(
            self._hass, self._on_timer, when
        )

    def _schedule_retry(self) -> None:
        self._failures_in_a_row += 1
        delay = min(
            RETRY_BASE * 2 ** (self._failures_in_a_row - 1), RETRY_MAX
        ).total_seconds()
        if self._cancel_retry is not None:
            self._cancel_retry()
        if self._stopped:
            return
        self._cancel_retry = async_call_later(self._hass, delay, self._on_retry)

    @callback
    def _on_timer(self, _now: datetime) -> None:
        self._cancel_timer = None
        self.async_request_sync()

    @callback
    def _on_retry(self, _now: datetime) -> None:
        self._cancel_retry = None
        self.async_request_sync()


_ERROR_CODES: dict[type[ApiError], str] = {
    ApiAuthError: "auth",
    ApiPlanLimitError: "plan_limit",
    ApiForbiddenError: "forbidden",
    ApiNotFoundError: "not_found",
    ApiConflictError: "conflict",
    ApiRateLimitedError: "rate_limited",
    ApiServerError: "server_error",
    ApiConnectionError: "connection",
    ApiInvalidResponseError: "invalid_response",
}


def _error_code(err: ApiError) -> str:
    """A stable code for an API failure (translated in the UI)."""
    for error_type, code in _ERROR_CODES.items():
        if isinstance(err, error_type):
            return code
    return "request"


def _create_event(action: CreateGrant, event_type: AccessEventType) -> AccessEvent:
    return AccessEvent(
        type=event_type,
        email=action.email,
        person=action.person,
        group_ids=action.group_ids,
        target_id=action.target.id,
        valid_from=action.valid_from,
        valid_before=action.valid_before,
    )


def _revoke_event(entry: LedgerEntry, event_type: AccessEventType) -> AccessEvent:
    return AccessEvent(
        type=event_type,
        email=entry.email,
        person=entry.person,
        group_ids=entry.group_ids,
        target_id=entry.target_id,
        valid_from=entry.valid_from,
        valid_before=entry.valid_before,
    )
