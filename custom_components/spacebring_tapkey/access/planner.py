"""Desired access + ledger + Tapkey state to the fewest Tapkey changes.

Grants are planned per lane: one member, one Tapkey target, one weekly
restriction (or none). A lane's desired access is the union of the member's
windows in every access group that has the target with that restriction, so
a lock shared by several groups gets one grant per stretch of access, not one
per group.

Rules (DESIGN §3):

- A managed grant is kept while its remaining validity lies inside one
  stretch of desired access; it is revoked only when it would give access
  outside (cancelled, shortened, ended, group or schedule changed).
- Desired access not covered by kept grants gets new grants. No grant is
  made longer than the horizon from now; the uncovered rest is granted when
  less than half the horizon of coverage is left, so a grant is ready at
  least half a horizon before it takes effect.
- Grants missing or revoked in Tapkey are forgotten and, if still desired,
  made again. Grants not in the ledger are never named in any action.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from ..api.models import Grant, GrantState
from .ical import weekly_schedule_ical
from .model import (
    AccessGroup,
    AccessReason,
    AccessWindow,
    CreateGrant,
    CreateReason,
    EnsureContact,
    LedgerEntry,
    PlanResult,
    RevokeGrant,
    RevokeReason,
    TargetRef,
    WeeklySchedule,
)

type _LaneKey = tuple[str, str, str | None]
"""(e-mail, target id, restriction iCalendar or None)."""


def plan(
    desired: Iterable[AccessWindow],
    groups: Iterable[AccessGroup],
    ledger: Iterable[LedgerEntry],
    *,
    now: datetime,
    horizon: timedelta,
    tapkey_grants: Iterable[Grant] | None = None,
    contacts: Mapping[str, str] | None = None,
) -> PlanResult:
    """Plan the Tapkey changes that make granted access equal desired access.

    `desired` are the rules' windows; windows of groups not in `groups` are
    ignored. `ledger` holds the grants this integration created.
    `tapkey_grants` are the grants Tapkey reports now (any owner; only ledger
    grants are looked at); pass None to trust the ledger without reading
    Tapkey. `contacts` maps known e-mails to Tapkey contact ids (the ledger
    adds those it knows); e-mails with no known contact get an
    `EnsureContact`. `horizon` caps every new grant's validity (rolling).
    """
    if horizon <= timedelta(minutes=1):
        msg = f"horizon must be longer than a minute: {horizon}"
        raise ValueError(msg)
    planner = _Planner(groups, now, horizon, contacts)
    planner.load_ledger(ledger, tapkey_grants)
    planner.load_desired(desired)
    return planner.run()


class _Planner:
    """State of one planning run."""

    def __init__(
        self,
        groups: Iterable[AccessGroup],
        now: datetime,
        horizon: timedelta,
        contacts: Mapping[str, str] | None,
    ) -> None:
        self.now = now
        self.half = horizon / 2
        # Whole seconds keep grant ends tidy in Tapkey's UI.
        self.cap = (now + horizon).replace(microsecond=0)
        self.due_before = now + self.half
        self.next_due: datetime | None = None
        self.contacts: dict[str, str] = dict(contacts or {})
        self.targets: dict[str, TargetRef] = {}
        self.group_lanes: dict[str, tuple[tuple[str, ...], str | None]] = {}
        icals: dict[WeeklySchedule, str] = {}
        for group in groups:
            ical = None
            if group.schedule is not None:
                ical = icals.get(group.schedule)
                if ical is None:
                    ical = icals[group.schedule] = weekly_schedule_ical(group.schedule)
            for target in group.targets:
                self.targets.setdefault(target.id, target)
            self.group_lanes[group.id] = (
                tuple(target.id for target in group.targets),
                ical,
            )
        self.held: dict[_LaneKey, list[LedgerEntry]] = {}
        self.missing: dict[_LaneKey, list[LedgerEntry]] = {}
        self.forget: list[LedgerEntry] = []
        self.lanes: dict[_LaneKey, list[AccessWindow]] = {}
        self.creates: list[CreateGrant] = []
        self.revokes: list[RevokeGrant] = []
        self.cutoff = self.cap

    def _due_at(self, instant: datetime) -> None:
        """Note that new actions become due at `instant`."""
        if self.next_due is None or instant < self.next_due:
            self.next_due = instant

    def load_ledger(
        self, ledger: Iterable[LedgerEntry], tapkey_grants: Iterable[Grant] | None
    ) -> None:
        """Sort ledger entries into held, missing and expired ones."""
        live: set[str] | None = None
        if tapkey_grants is not None:
            live = {
                grant.id
                for grant in tapkey_grants
                if grant.active and grant.state is GrantState.OK
            }
        now = self.now
        cutoff = self.cap
        for entry in ledger:
            self.contacts.setdefault(entry.email, entry.contact_id)
            if entry.valid_before <= now:
                self.forget.append(entry)
                continue
            key = (entry.email, entry.target_id, entry.ical)
            if live is not None and entry.grant_id not in live:
                self.forget.append(entry)
                self.missing.setdefault(key, []).append(entry)
                continue
            self.held.setdefault(key, []).append(entry)
            cutoff = max(cutoff, entry.valid_before)
        # Windows starting at or after the cutoff neither touch a held grant
        # nor need a grant before the horizon: only their due time matters.
        self.cutoff = cutoff

    def load_desired(self, desired: Iterable[AccessWindow]) -> None:
        """Spread each window over the lanes of its group's targets."""
        now = self.now
        cutoff = self.cutoff
        half = self.half
        group_lanes = self.group_lanes
        lanes = self.lanes
        for window in desired:
            end = window.end
            if end is not None and (end <= now or end <= window.start):
                continue
            found = group_lanes.get(window.group_id)
            if found is None or not found[0]:
                continue
            if window.start >= cutoff:
                self._due_at(window.start - half)
                continue
            target_ids, ical = found
            email = window.email
            for target_id in target_ids:
                key = (email, target_id, ical)
                lane = lanes.get(key)
                if lane is None:
                    lanes[key] = [window]
                else:
                    lane.append(window)

    def run(self) -> PlanResult:
        """Plan every lane, then the held grants nothing desires any more."""
        held = self.held
        for key, windows in self.lanes.items():
            self._plan_lane(key, windows, held.pop(key, None))
        for entries in held.values():
            for entry in entries:
                self.revokes.append(RevokeGrant(entry, RevokeReason.NOT_DESIRED))
        creates = sorted(self.creates, key=_valid_from)
        ensure: dict[str, EnsureContact] = {}
        for create in creates:
            if create.contact_id is None and create.email not in ensure:
                ensure[create.email] = EnsureContact(create.email, create.person)
        return PlanResult(
            contacts=tuple(ensure.values()),
            creates=tuple(creates),
            revokes=tuple(self.revokes),
            forget=tuple(self.forget),
            next_replan_at=self.next_due,
        )

    def _plan_lane(
        self,
        key: _LaneKey,
        windows: list[AccessWindow],
        entries: list[LedgerEntry] | None,
    ) -> None:
        """Keep, revoke and create grants so the lane matches its windows."""
        now = self.now
        if len(windows) > 1:
            windows.sort(key=_window_start)
        stretches = _stretches(windows)
        kept: list[LedgerEntry] = []
        dropped: list[LedgerEntry] = []
        if entries:
            for entry in entries:
                outcome = _fit(entry, stretches, now)
                if outcome is None:
                    kept.append(entry)
                else:
                    dropped.append(entry)
                    self.revokes.append(RevokeGrant(entry, outcome))
            if len(kept) > 1:
                kept.sort(key=_entry_valid_from)
        for stretch_start, stretch_end, first, last in stretches:
            if stretch_end is not None and stretch_end <= now:
                continue
            gaps = _gaps(max(stretch_start, now), stretch_end, kept)
            if not self._fill(key, windows[first : last + 1], gaps, dropped):
                return

    def _fill(
        self,
        key: _LaneKey,
        windows: list[AccessWindow],
        gaps: list[tuple[datetime, datetime | None, bool]],
        dropped: list[LedgerEntry],
    ) -> bool:
        """Grant the gaps that are due; False once the rest of the lane is not."""
        for gap_start, gap_end, after_kept in gaps:
            if gap_start >= self.due_before:
                self._due_at(gap_start - self.half)
                return False
            valid_before = self.cap
            if gap_end is not None and gap_end <= valid_before:
                valid_before = gap_end
            else:
                self._due_at(valid_before - self.half)
            if any(
                _overlaps(entry, gap_start, valid_before)
                for entry in self.missing.get(key, ())
            ):
                reason = CreateReason.RESTORE
            elif any(_overlaps(entry, gap_start, valid_before) for entry in dropped):
                reason = CreateReason.REPLACEMENT
            else:
                reason = CreateReason.EXTENSION if after_kept else CreateReason.NEW
            self._create(key, windows, gap_start, valid_before, reason)
            if valid_before == self.cap:
                return False
        return True

    def _create(
        self,
        key: _LaneKey,
        windows: list[AccessWindow],
        valid_from: datetime,
        valid_before: datetime,
        reason: CreateReason,
    ) -> None:
        email, target_id, ical = key
        group_ids: dict[str, None] = {}
        reasons: dict[AccessReason, None] = {}
        for window in windows:
            if window.start < valid_before and (
                window.end is None or window.end > valid_from
            ):
                group_ids[window.group_id] = None
                reasons.update(dict.fromkeys(window.reasons))
        self.creates.append(
            CreateGrant(
                email=email,
                person=windows[0].person,
                contact_id=self.contacts.get(email),
                target=self.targets[target_id],
                valid_from=valid_from,
                valid_before=valid_before,
                ical=ical,
                group_ids=tuple(group_ids),
                reasons=tuple(reasons),
                reason=reason,
            )
        )


type _Stretch = tuple[datetime, datetime | None, int, int]
"""Merged desired access: start, end (None = open), first and last window."""


def _stretches(windows: list[AccessWindow]) -> list[_Stretch]:
    """Merge a lane's windows (sorted by start) into disjoint stretches."""
    first = windows[0]
    if len(windows) == 1:
        return [(first.start, first.end, 0, 0)]
    stretches: list[_Stretch] = []
    start, end, begin = first.start, first.end, 0
    for index in range(1, len(windows)):
        window = windows[index]
        if end is None or window.start <= end:
            if end is not None and (window.end is None or window.end > end):
                end = window.end
            continue
        stretches.append((start, end, begin, index - 1))
        start, end, begin = window.start, window.end, index
    stretches.append((start, end, begin, len(windows) - 1))
    return stretches


def _fit(
    entry: LedgerEntry, stretches: list[_Stretch], now: datetime
) -> RevokeReason | None:
    """None if the grant's remaining validity lies in one stretch, else why not."""
    remaining_from = max(entry.valid_from, now)
    until = entry.valid_before
    overlapping = False
    for start, end, _first, _last in stretches:
        if start <= remaining_from and (end is None or until <= end):
            return None
        if start < until and (end is None or end > remaining_from):
            overlapping = True
    return RevokeReason.SHORTENED if overlapping else RevokeReason.NOT_DESIRED


def _gaps(
    start: datetime, end: datetime | None, kept: list[LedgerEntry]
) -> list[tuple[datetime, datetime | None, bool]]:
    """Parts of [start, end) no kept grant covers, in order.

    Each gap says whether it begins where a kept grant ends.
    """
    gaps: list[tuple[datetime, datetime | None, bool]] = []
    cursor = start
    after_kept = False
    for entry in kept:
        if end is not None and entry.valid_from >= end:
            break
        if entry.valid_before <= cursor:
            continue
        if entry.valid_from > cursor:
            gaps.append((cursor, entry.valid_from, after_kept))
        cursor = entry.valid_before
        after_kept = True
        if end is not None and cursor >= end:
            return gaps
    gaps.append((cursor, end, after_kept))
    return gaps


def _overlaps(entry: LedgerEntry, start: datetime, end: datetime) -> bool:
    return entry.valid_from < end and entry.valid_before > start


def _window_start(window: AccessWindow) -> datetime:
    return window.start


def _entry_valid_from(entry: LedgerEntry) -> datetime:
    return entry.valid_from


def _valid_from(create: CreateGrant) -> datetime:
    return create.valid_from
