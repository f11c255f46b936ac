"""Value objects of the access engine.

Three families live here:

- configuration the Home Assistant layer hands in: `AccessGroup` (one per
  access-group subentry), `TargetRef`, `WeeklySchedule`, `RuleSettings`,
  `AdHocGrant`;
- what the rules decide: `AccessWindow` with its `AccessReason`s, collected in
  `DesiredAccess` together with the records that were skipped and why;
- what the planner works with and returns: `LedgerEntry` (a grant this
  integration created), the actions `EnsureContact`, `CreateGrant`,
  `RevokeGrant`, and `PlanResult`.

Every datetime is timezone-aware UTC. E-mails are in the identity form of
`normalize_email`. No Home Assistant or aiohttp imports: the engine is pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from typing import NamedTuple

from ..api.models import SkippedRecord, TargetKind
from .zones import get_zone

# --- configuration ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TargetRef:
    """A Tapkey bound lock or lock group that grants are made for."""

    id: str
    kind: TargetKind = TargetKind.LOCK


@dataclass(frozen=True, slots=True)
class WeeklySchedule:
    """A weekly time restriction in local time, e.g. Mon-Fri 09:00-18:00.

    `weekdays` uses `datetime.weekday()` numbers (0 = Monday ... 6 = Sunday)
    and names the days the daily span starts on. `end` is exclusive; an `end`
    at or before `start` runs past midnight into the next day (22:00-06:00),
    so `start == end` is a full 24 hours.
    """

    weekdays: frozenset[int]
    start: time
    end: time
    timezone: str

    def __post_init__(self) -> None:
        """Reject schedules no lock could enforce."""
        if not self.weekdays or not self.weekdays <= frozenset(range(7)):
            msg = f"weekdays must be a non-empty subset of 0..6: {self.weekdays}"
            raise ValueError(msg)
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            msg = "schedule times are local wall-clock times without tzinfo"
            raise ValueError(msg)
        if get_zone(self.timezone) is None:
            msg = f"unknown time zone: {self.timezone}"
            raise ValueError(msg)

    @property
    def crosses_midnight(self) -> bool:
        """Whether each daily span ends on the following day."""
        return self.end <= self.start

    def allows(self, instant: datetime) -> bool:
        """Whether the schedule lets a grant open its lock at `instant`."""
        zone = get_zone(self.timezone)
        assert zone is not None  # checked in __post_init__
        local = instant.astimezone(zone)
        wall = local.time()
        weekday = local.weekday()
        if not self.crosses_midnight:
            return weekday in self.weekdays and self.start <= wall < self.end
        if weekday in self.weekdays and wall >= self.start:
            return True
        return (weekday - 1) % 7 in self.weekdays and wall < self.end

    def next_change(self, after: datetime) -> datetime:
        """The first instant after `after` at which a daily span opens or closes.

        For timers of entities whose state follows the schedule.
        """
        zone = get_zone(self.timezone)
        assert zone is not None  # checked in __post_init__
        today = after.astimezone(zone).date()
        boundaries: list[datetime] = []
        for offset in range(-1, 8):
            day = today + timedelta(days=offset)
            if day.weekday() not in self.weekdays:
                continue
            end_day = day + timedelta(days=1) if self.crosses_midnight else day
            boundaries.extend(
                datetime.combine(on, wall, zone).astimezone(UTC)
                for on, wall in ((day, self.start), (end_day, self.end))
            )
        return min(boundary for boundary in boundaries if boundary > after)


@dataclass(frozen=True, slots=True)
class AccessGroup:
    """An access group: which Spacebring records lead to which Tapkey targets.

    `id` is the Home Assistant subentry id. A record maps to the group when
    its Spacebring `tapkeyGroupRef` is one of `tapkey_group_refs`, or when
    the operator mapped its plan, resource or resource type here; both ways
    add up. `schedule` restricts every grant of the group to weekly hours.
    """

    id: str
    name: str
    targets: tuple[TargetRef, ...]
    tapkey_group_refs: frozenset[str] = frozenset()
    plan_ids: frozenset[str] = frozenset()
    resource_ids: frozenset[str] = frozenset()
    resource_types: frozenset[str] = frozenset()
    schedule: WeeklySchedule | None = None

    def allows(self, instant: datetime) -> bool:
        """Whether the group's schedule (if any) lets its grants open at `instant`."""
        return self.schedule is None or self.schedule.allows(instant)


DEFAULT_GRACE = timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class RuleSettings:
    """Per-entry options of the rules.

    `default_timezone` is used for subscriptions when neither the
    subscription nor the location names a time zone.
    """

    grace_before: timedelta = DEFAULT_GRACE
    grace_after: timedelta = DEFAULT_GRACE
    include_tentative: bool = False
    default_timezone: str = "UTC"


@dataclass(frozen=True, slots=True)
class AdHocGrant:
    """Access granted by hand through the grant action; `end` is exclusive."""

    id: str
    email: str
    group_id: str
    start: datetime
    end: datetime
    note: str = ""


# --- desired access -------------------------------------------------------------


class SourceKind(StrEnum):
    """Where access (or a skipped record) comes from."""

    SUBSCRIPTION = "subscription"
    BOOKING = "booking"
    ADHOC = "adhoc"


class SkipReason(StrEnum):
    """Why a record grants nothing; stable codes the UI translates."""

    NO_EMAIL = "no_email"
    NO_PERSON = "no_person"
    END_BEFORE_START = "end_before_start"
    UNKNOWN_TIME_ZONE = "unknown_time_zone"
    UNMAPPED_GROUP = "unmapped_group"
    UNKNOWN_RESOURCE = "unknown_resource"
    UNKNOWN_PLAN = "unknown_plan"
    UNKNOWN_COMPANY = "unknown_company"
    UNKNOWN_GROUP = "unknown_group"


class AccessReason(NamedTuple):
    """One record behind an access window.

    A named tuple, like `AccessWindow`: the rules make tens of thousands of
    them on a large site, and tuples are the cheapest immutable records.
    `label` names the thing: the resource title of a booking, the item or
    plan title of a subscription, the note of an ad-hoc grant.
    """

    kind: SourceKind
    source_id: str
    label: str


class AccessWindow(NamedTuple):
    """A member's access to an access group from `start` until `end`.

    `end` is exclusive; None means open-ended (a subscription without end).
    `person` is the member's display name, never the e-mail. Windows of one
    member and group never overlap or touch: the rules merge them and keep
    every reason.
    """

    email: str
    group_id: str
    start: datetime
    end: datetime | None
    person: str
    reasons: tuple[AccessReason, ...]

    def contains(self, instant: datetime) -> bool:
        """Whether `instant` lies in the window (ignoring weekly schedules)."""
        return self.start <= instant and (self.end is None or instant < self.end)


@dataclass(frozen=True, slots=True)
class DesiredAccess:
    """Result of the rules.

    `unmapped_group_refs` are Spacebring `tapkeyGroupRef`s that no access
    group claims (the operator should map them).
    """

    windows: tuple[AccessWindow, ...]
    skipped: tuple[SkippedRecord, ...] = ()
    unmapped_group_refs: frozenset[str] = frozenset()


# --- ledger and plan -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """A Tapkey grant this integration created (only these are ever revoked).

    `valid_before` is exclusive. `group_ids` and `person` are informational:
    which access groups the grant served when it was made, and for whom.
    """

    grant_id: str
    email: str
    contact_id: str
    target_id: str
    valid_from: datetime
    valid_before: datetime
    ical: str | None
    created_at: datetime
    group_ids: tuple[str, ...] = ()
    person: str = ""


class CreateReason(StrEnum):
    """Why the planner creates a grant."""

    NEW = "new"
    """No managed grant gave this access before."""
    EXTENSION = "extension"
    """Continues a kept grant: the window grew or the horizon moved on."""
    REPLACEMENT = "replacement"
    """Replaces a grant that is revoked because it reaches outside the window."""
    RESTORE = "restore"
    """A managed grant is missing or was revoked in Tapkey but still desired."""


class RevokeReason(StrEnum):
    """Why the planner revokes a managed grant."""

    NOT_DESIRED = "not_desired"
    """Nothing desired is left in the grant's remaining validity."""
    SHORTENED = "shortened"
    """Part of the grant is still desired; a replacement covers that part."""


@dataclass(frozen=True, slots=True)
class EnsureContact:
    """Make sure a Tapkey contact exists for `email` (creating is idempotent)."""

    email: str
    person: str


@dataclass(frozen=True, slots=True)
class CreateGrant:
    """Create one grant for `email` on `target` from `valid_from` to `valid_before`.

    `contact_id` is None when the contact is created by an `EnsureContact`
    of the same plan. `group_ids` and `reasons` say which access groups and
    records the grant serves, for events and logs.
    """

    email: str
    person: str
    contact_id: str | None
    target: TargetRef
    valid_from: datetime
    valid_before: datetime
    ical: str | None
    group_ids: tuple[str, ...]
    reasons: tuple[AccessReason, ...]
    reason: CreateReason

    def to_ledger_entry(
        self, *, grant_id: str, contact_id: str, created_at: datetime
    ) -> LedgerEntry:
        """The ledger entry to store once Tapkey confirmed the grant."""
        return LedgerEntry(
            grant_id=grant_id,
            email=self.email,
            contact_id=contact_id,
            target_id=self.target.id,
            valid_from=self.valid_from,
            valid_before=self.valid_before,
            ical=self.ical,
            created_at=created_at,
            group_ids=self.group_ids,
            person=self.person,
        )


@dataclass(frozen=True, slots=True)
class RevokeGrant:
    """Revoke the managed grant of `entry`; drop the entry once Tapkey confirmed."""

    entry: LedgerEntry
    reason: RevokeReason


type PlanAction = EnsureContact | CreateGrant | RevokeGrant


@dataclass(frozen=True, slots=True)
class PlanResult:
    """What to do now, in which order, and when to plan again.

    Execute `actions`: contacts first (grants need them), then creates, then
    revokes, so that a grant being replaced never leaves a gap in access.
    Revokes do not depend on creates: run them even when a create failed.
    `forget` lists ledger entries to drop without any Tapkey call (expired,
    or gone from Tapkey). `next_replan_at` is when new actions become due if
    nothing else changes (None: never).
    """

    contacts: tuple[EnsureContact, ...] = ()
    creates: tuple[CreateGrant, ...] = ()
    revokes: tuple[RevokeGrant, ...] = ()
    forget: tuple[LedgerEntry, ...] = ()
    next_replan_at: datetime | None = None

    @property
    def actions(self) -> tuple[PlanAction, ...]:
        """Every action in execution order."""
        return (*self.contacts, *self.creates, *self.revokes)
