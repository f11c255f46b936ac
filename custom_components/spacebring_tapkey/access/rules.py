"""Spacebring records to desired access windows (DESIGN §2).

`desired_access` is the only entry point. It reads one location's snapshot,
the operator's access groups, the entry's rule settings and the ad-hoc
grants, and returns one merged window per member, group and stretch of
access, plus every record that grants nothing because something is wrong
with it (each with a `SkipReason`). Records that grant nothing by design
(cancelled, ended, tentative when not enabled, a resource without access)
are not reported.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter

from ..api.models import (
    Booking,
    BookingStatus,
    CustomerType,
    Membership,
    Person,
    SkippedRecord,
    SpacebringSnapshot,
    Subscription,
    SubscriptionItem,
    SubscriptionStatus,
    normalize_email,
)
from .model import (
    AccessGroup,
    AccessReason,
    AccessWindow,
    AdHocGrant,
    DesiredAccess,
    RuleSettings,
    SkipReason,
    SourceKind,
)
from .zones import get_zone, start_of_local_day

GRANTING_SUBSCRIPTION_STATUSES = frozenset(
    {SubscriptionStatus.ACTIVE, SubscriptionStatus.SCHEDULED}
)

type _Piece = tuple[datetime, datetime | None, AccessReason]

# Named tuples made without their Python-level `__new__` (tens of thousands
# per run); the fields are passed as one tuple in declaration order.
_new_tuple = tuple.__new__
_piece_start = itemgetter(0)


def desired_access(
    snapshot: SpacebringSnapshot,
    groups: Iterable[AccessGroup],
    settings: RuleSettings,
    adhoc: Iterable[AdHocGrant] = (),
    *,
    now: datetime,
) -> DesiredAccess:
    """Compute who should have access to which access group, and when.

    Windows that end at or before `now` are left out. The result's windows
    are grouped by member and access group, each group of windows sorted by
    start; `skipped` starts with the snapshot's own skipped records.
    """
    collector = _Collector(snapshot, tuple(groups), now)
    for subscription in snapshot.subscriptions:
        collector.add_subscription(subscription, settings)
    collector.add_bookings(snapshot.bookings, settings)
    for grant in adhoc:
        collector.add_adhoc(grant)
    return collector.result()


@dataclass(frozen=True, slots=True)
class _Resolution:
    """The access groups a record maps to, or why it maps to none."""

    group_ids: tuple[str, ...]
    label: str
    problem: SkipReason | None = None
    detail: str = ""


class _GroupIndex:
    """Access groups looked up by every key that can map a record to them."""

    def __init__(self, groups: tuple[AccessGroup, ...]) -> None:
        self.ids = frozenset(group.id for group in groups)
        self.by_ref: dict[str, list[str]] = defaultdict(list)
        self.by_plan: dict[str, list[str]] = defaultdict(list)
        self.by_resource: dict[str, list[str]] = defaultdict(list)
        self.by_type: dict[str, list[str]] = defaultdict(list)
        for group in groups:
            for keys, index in (
                (group.tapkey_group_refs, self.by_ref),
                (group.plan_ids, self.by_plan),
                (group.resource_ids, self.by_resource),
                (group.resource_types, self.by_type),
            ):
                for key in keys:
                    index[key].append(group.id)

    def mapped(
        self,
        *,
        ref: str | None,
        plan_id: str | None = None,
        resource_id: str | None = None,
        resource_type: str | None = None,
    ) -> tuple[str, ...]:
        """Groups claiming the Spacebring ref plus those the operator mapped."""
        found: dict[str, None] = {}
        for key, index in (
            (ref, self.by_ref),
            (plan_id, self.by_plan),
            (resource_id, self.by_resource),
            (resource_type, self.by_type),
        ):
            if key is not None and key in index:
                found.update(dict.fromkeys(index[key]))
        return tuple(found)


class _Collector:
    """Accumulates access pieces and skipped records for one rules run."""

    def __init__(
        self,
        snapshot: SpacebringSnapshot,
        groups: tuple[AccessGroup, ...],
        now: datetime,
    ) -> None:
        self._snapshot = snapshot
        self._now = now
        self._index = _GroupIndex(groups)
        self._plans = {plan.id: plan for plan in snapshot.plans}
        self._resources = {resource.id: resource for resource in snapshot.resources}
        self._companies = {
            company.id: company
            for company in snapshot.companies
            if company.deleted is None
        }
        self._members: dict[str, list[Membership]] = defaultdict(list)
        for membership in snapshot.memberships:
            if (
                membership.company_id is not None
                and membership.approved
                and membership.deleted is None
            ):
                self._members[membership.company_id].append(membership)
        self._pieces: dict[tuple[str, str], list[_Piece]] = {}
        self._skipped: dict[SkippedRecord, None] = dict.fromkeys(snapshot.skipped)
        self._unmapped: set[str] = set()
        self._booking_resolutions: dict[str, _Resolution] = {}
        self._item_resolutions: dict[
            tuple[str | None, str | None, str | None], _Resolution
        ] = {}
        self._emails: dict[str, str | None] = {}
        self._names: dict[str, str] = {}

    # --- shared helpers

    def _skip(
        self, kind: SourceKind, record_id: str, reason: SkipReason, detail: str = ""
    ) -> None:
        self._skipped[SkippedRecord(kind, record_id, reason, detail)] = None

    def _add(
        self,
        email: str,
        group_ids: tuple[str, ...],
        start: datetime,
        end: datetime | None,
        reason: AccessReason,
    ) -> None:
        pieces = self._pieces
        piece = (start, end, reason)
        for group_id in group_ids:
            key = (email, group_id)
            bucket = pieces.get(key)
            if bucket is None:
                pieces[key] = [piece]
            else:
                bucket.append(piece)

    def _is_unmapped(self, ref: str) -> bool:
        """Whether no access group claims Spacebring group `ref` (noted if so)."""
        if ref in self._index.by_ref:
            return False
        self._unmapped.add(ref)
        return True

    # --- subscriptions

    def add_subscription(
        self, subscription: Subscription, settings: RuleSettings
    ) -> None:
        """Add access for every member a granting subscription covers."""
        if (
            subscription.deleted is not None
            or subscription.status not in GRANTING_SUBSCRIPTION_STATUSES
        ):
            return
        kind = SourceKind.SUBSCRIPTION
        sub_id = subscription.id
        end = subscription.end
        if end is not None and end < subscription.start:
            self._skip(kind, sub_id, SkipReason.END_BEFORE_START)
            return
        if end is not None and end <= self._now:
            return
        zone_name = (
            subscription.timezone
            or self._snapshot.location.timezone
            or settings.default_timezone
        )
        zone = get_zone(zone_name)
        if zone is None:
            self._skip(kind, sub_id, SkipReason.UNKNOWN_TIME_ZONE, zone_name)
            return
        members = self._subscribers(subscription)
        if not members:
            return
        start = start_of_local_day(subscription.start, zone)
        for item in subscription.items:
            if (
                item.start is not None
                and item.end is not None
                and item.end < item.start
            ):
                self._skip(kind, sub_id, SkipReason.END_BEFORE_START, item.id)
                continue
            resolution = self._resolve_item(item)
            if not resolution.group_ids:
                if resolution.problem is not None:
                    self._skip(kind, sub_id, resolution.problem, resolution.detail)
                continue
            item_start = start
            if item.start is not None:
                item_start = max(start, start_of_local_day(item.start, zone))
            item_end = end
            if item.end is not None and (item_end is None or item.end < item_end):
                item_end = item.end
            if item_end is not None and (
                item_end <= item_start or item_end <= self._now
            ):
                continue
            reason = AccessReason(kind, sub_id, item.title or resolution.label)
            for email in members:
                self._add(email, resolution.group_ids, item_start, item_end, reason)

    def _subscribers(self, subscription: Subscription) -> list[str]:
        """E-mails of everyone the subscription covers."""
        kind = SourceKind.SUBSCRIPTION
        if subscription.customer_type is CustomerType.USER:
            if subscription.user is None:
                self._skip(kind, subscription.id, SkipReason.NO_PERSON)
                return []
            people: Iterable[Person] = (subscription.user,)
        else:
            company_id = subscription.company_id
            if company_id is None:
                self._skip(kind, subscription.id, SkipReason.NO_PERSON)
                return []
            if company_id not in self._companies:
                self._skip(
                    kind, subscription.id, SkipReason.UNKNOWN_COMPANY, company_id
                )
                return []
            people = (membership.user for membership in self._members[company_id])
        return self._identities(kind, subscription.id, people)

    def _identities(
        self, kind: SourceKind, record_id: str, people: Iterable[Person]
    ) -> list[str]:
        """Distinct e-mails of `people`; reports those without one."""
        found: list[str] = []
        for person in people:
            email = self._identify(person)
            if email is None:
                self._skip(kind, record_id, SkipReason.NO_EMAIL, person.user_id)
            elif email not in found:
                found.append(email)
        return found

    def _identify(self, person: Person) -> str | None:
        """The person's identity e-mail; remembers their display name."""
        raw = person.email
        if raw is None:
            return None
        try:
            email = self._emails[raw]
        except KeyError:
            email = self._emails[raw] = normalize_email(raw)
        if email is not None and email not in self._names:
            self._names[email] = person.display_name
        return email

    def _resolve_item(self, item: SubscriptionItem) -> _Resolution:
        key = (item.tapkey_group_ref, item.plan_id, item.resource_id)
        resolution = self._item_resolutions.get(key)
        if resolution is None:
            resolution = self._item_resolutions[key] = self._map_item(item)
        return resolution

    def _map_item(self, item: SubscriptionItem) -> _Resolution:
        """Item group, else the plan's, else the rented resource's; plus mappings."""
        plan = self._plans.get(item.plan_id) if item.plan_id is not None else None
        resource = (
            self._resources.get(item.resource_id)
            if item.resource_id is not None
            else None
        )
        ref = item.tapkey_group_ref
        if ref is None and plan is not None:
            ref = plan.tapkey_group_ref
        if ref is None and resource is not None:
            ref = resource.tapkey_group_ref
        group_ids = self._index.mapped(
            ref=ref,
            plan_id=item.plan_id,
            resource_id=item.resource_id,
            resource_type=resource.type if resource is not None else None,
        )
        label = (plan.title if plan is not None else None) or (
            resource.title if resource is not None else ""
        )
        problem: SkipReason | None = None
        detail = ""
        if ref is not None and self._is_unmapped(ref):
            problem, detail = SkipReason.UNMAPPED_GROUP, ref
        elif (
            item.tapkey_group_ref is None and item.plan_id is not None and plan is None
        ):
            problem, detail = SkipReason.UNKNOWN_PLAN, item.plan_id
        elif (
            item.tapkey_group_ref is None
            and item.resource_id is not None
            and resource is None
        ):
            problem, detail = SkipReason.UNKNOWN_RESOURCE, item.resource_id
        return _Resolution(group_ids, label, problem, detail)

    # --- bookings

    def add_bookings(self, bookings: Iterable[Booking], settings: RuleSettings) -> None:
        """Add access for the booker and every invitee of each booking, with grace.

        The site's largest loop (tens of thousands of bookings): settings
        and lookups are bound once and the per-person work is inline.
        """
        kind = SourceKind.BOOKING
        canceled = BookingStatus.CANCELED
        tentative = None if settings.include_tentative else BookingStatus.TENTATIVE
        grace_before = settings.grace_before
        grace_after = settings.grace_after
        now = self._now
        resolutions = self._booking_resolutions
        pieces = self._pieces
        emails = self._emails
        names = self._names
        new_tuple = _new_tuple
        for booking in bookings:
            status = booking.status
            if booking.deleted is not None or status is canceled or status is tentative:
                continue
            booking_start = booking.start
            booking_end = booking.end
            if booking_end < booking_start:
                self._skip(kind, booking.id, SkipReason.END_BEFORE_START)
                continue
            end = booking_end + grace_after
            if end <= now:
                continue
            start = booking_start - grace_before
            if end <= start:
                continue
            resource_id = booking.resource_id
            resolution = resolutions.get(resource_id)
            if resolution is None:
                resolution = resolutions[resource_id] = self._map_resource(resource_id)
            group_ids = resolution.group_ids
            if not group_ids:
                if resolution.problem is not None:
                    self._skip(kind, booking.id, resolution.problem, resolution.detail)
                continue
            reason = new_tuple(
                AccessReason,
                (kind, booking.id, resolution.label or booking.title or ""),
            )
            owner = booking.owner
            attendees = booking.attendees
            if attendees:
                people = attendees if owner is None else (owner, *attendees)
            elif owner is not None:
                people = (owner,)
            else:
                self._skip(kind, booking.id, SkipReason.NO_PERSON)
                continue
            piece = (start, end, reason)
            found: list[str] = []
            for person in people:
                raw = person.email
                if raw is not None and raw in emails:
                    email = emails[raw]
                    if email is not None and email not in names:
                        names[email] = person.display_name
                else:
                    email = self._identify(person)
                if email is None:
                    self._skip(kind, booking.id, SkipReason.NO_EMAIL, person.user_id)
                    continue
                if email in found:
                    continue
                found.append(email)
                for group_id in group_ids:
                    key = (email, group_id)
                    bucket = pieces.get(key)
                    if bucket is None:
                        pieces[key] = [piece]
                    else:
                        bucket.append(piece)

    def _map_resource(self, resource_id: str) -> _Resolution:
        """The resource's Spacebring group plus the operator's mappings."""
        resource = self._resources.get(resource_id)
        if resource is None:
            group_ids = self._index.mapped(ref=None, resource_id=resource_id)
            return _Resolution(group_ids, "", SkipReason.UNKNOWN_RESOURCE, resource_id)
        ref = resource.tapkey_group_ref
        group_ids = self._index.mapped(
            ref=ref, resource_id=resource.id, resource_type=resource.type
        )
        if ref is not None and self._is_unmapped(ref):
            return _Resolution(
                group_ids, resource.title, SkipReason.UNMAPPED_GROUP, ref
            )
        return _Resolution(group_ids, resource.title)

    # --- ad-hoc grants

    def add_adhoc(self, grant: AdHocGrant) -> None:
        """Add access granted by hand."""
        kind = SourceKind.ADHOC
        email = normalize_email(grant.email)
        if email is None:
            self._skip(kind, grant.id, SkipReason.NO_EMAIL)
            return
        if grant.group_id not in self._index.ids:
            self._skip(kind, grant.id, SkipReason.UNKNOWN_GROUP, grant.group_id)
            return
        if grant.end <= grant.start:
            self._skip(kind, grant.id, SkipReason.END_BEFORE_START)
            return
        if grant.end <= self._now:
            return
        if email not in self._names:
            self._name_from_memberships(email)
        reason = AccessReason(kind, grant.id, grant.note)
        self._add(email, (grant.group_id,), grant.start, grant.end, reason)

    def _name_from_memberships(self, email: str) -> None:
        """Learn the display name of a member no record named."""
        for membership in self._snapshot.memberships:
            if self._identify(membership.user) == email:
                return

    # --- result

    def result(self) -> DesiredAccess:
        """Merge the pieces of each member and group into windows."""
        windows: list[AccessWindow] = []
        append = windows.append
        names = self._names
        new_tuple = _new_tuple
        for (email, group_id), pieces in self._pieces.items():
            person = names.get(email, "")
            if len(pieces) == 1:
                start, end, reason = pieces[0]
                append(
                    new_tuple(
                        AccessWindow, (email, group_id, start, end, person, (reason,))
                    )
                )
                continue
            pieces.sort(key=_piece_start)
            start, end, reason = pieces[0]
            reasons = {reason: None}
            for piece_start, piece_end, piece_reason in pieces[1:]:
                if end is None or piece_start <= end:
                    # Overlapping or touching: one window, every reason kept.
                    if end is not None and (piece_end is None or piece_end > end):
                        end = piece_end
                    reasons[piece_reason] = None
                    continue
                append(
                    new_tuple(
                        AccessWindow,
                        (email, group_id, start, end, person, tuple(reasons)),
                    )
                )
                start, end, reasons = piece_start, piece_end, {piece_reason: None}
            append(
                new_tuple(
                    AccessWindow, (email, group_id, start, end, person, tuple(reasons))
                )
            )
        return DesiredAccess(
            windows=tuple(windows),
            skipped=tuple(self._skipped),
            unmapped_group_refs=frozenset(self._unmapped),
        )
