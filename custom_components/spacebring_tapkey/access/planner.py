"""Desired access + ledger + Tapkey state to the fewest Tapkey changes.

Grants are planned per lane: one member, one Tapkey target, one weekly
restriction (or none). A lane's desired access is the union of the member's
windows in every access group that has the target with that restriction, so
a lock shared by several groups gets one grant per stretch of access, not one
per group, and a cancelled booking inside a subscription revokes nothing.

Rules (DESIGN §3):

- A managed grant is kept while its remaining validity lies inside one
  stretch of desired access; it is revoked only when it would give access
  outside it (cancelled, shortened, ended, group or schedule changed).
- Desired access that kept grants do not cover gets new grants. No grant
  reaches further than the horizon from now; the rest is granted once less
  than half a horizon of coverage is left, so every grant exists at least
  half a horizon before it takes effect.
- Grants missing or revoked in Tapkey are forgotten and, if still desired,
  made again. Grants not in the ledger are never named in any action.

Work is shared where lanes are alike: a member's windows are grouped once
per restriction, and targets with the same contributing groups share one
merged view of the windows. Across runs, a `PlannerCache` the caller keeps
remembers the members whose plan was to do nothing (see there).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import NamedTuple

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

MIN_HORIZON = timedelta(hours=1)

type _Stretch = tuple[datetime, datetime | None, int, int]
"""Merged desired access: start, end (None = open), first and last window."""

type _Gap = tuple[datetime, datetime | None, bool]
"""Uncovered access: start, end (None = open), whether it follows a kept grant."""

type _HeldByTarget = dict[str, list[LedgerEntry]]


def plan(
    desired: Iterable[AccessWindow],
    groups: Iterable[AccessGroup],
    ledger: Iterable[LedgerEntry],
    *,
    now: datetime,
    horizon: timedelta,
    tapkey_grants: Iterable[Grant] | None = None,
    contacts: Mapping[str, str] | None = None,
    cache: PlannerCache | None = None,
) -> PlanResult:
    """Plan the Tapkey changes that make granted access equal desired access.

    `desired` are the rules' windows (in any order; overlapping windows
    merge); windows of groups not in `groups` are ignored. `ledger`
    holds the grants this integration created. `tapkey_grants` are the
    grants Tapkey reports now (only ledger grants are looked at); None trusts
    the ledger without reading Tapkey. `contacts` maps e-mails to known Tapkey
    contact ids (the ledger adds those it knows); an e-mail without one gets
    an `EnsureContact`. `horizon` (at least an hour) caps new grants.

    `cache` (kept by the caller from one run to the next) lets members whose
    inputs did not change skip planning; the result is the same as without.
    """
    if horizon < MIN_HORIZON:
        msg = f"horizon must be at least {MIN_HORIZON}: {horizon}"
        raise ValueError(msg)
    groups = tuple(groups)
    quiet: dict[str, _Quiet] | None = None
    if cache is not None:
        quiet = cache.take(groups, horizon, now)
    planner = _Planner(groups, now, horizon, contacts, quiet)
    planner.load_ledger(ledger, tapkey_grants)
    planner.load_desired(desired)
    result = planner.run()
    if cache is not None:
        cache.keep(groups, horizon, now, planner.quiet_now)
    return result


class _Quiet(NamedTuple):
    """A member planned to nothing: its inputs then and when it is due."""

    windows: list[AccessWindow]
    held: list[LedgerEntry] | None
    due: datetime | None


class PlannerCache:
    """Members whose plan was to do nothing, for the caller's next run.

    A member's plan depends on its windows (as `plan` keeps them), its
    managed grants, the access groups, the horizon and `now`. When it holds
    no action, it stays empty for identical inputs at any later `now` before
    the member's own next due instant: remaining grant validity only
    shrinks, so kept grants keep fitting and gaps only get shorter, and an
    expired window or grant, or one missing in Tapkey, changes the inputs
    (grants missing in Tapkey only shape the reason of a create). Other
    groups or another horizon, or a clock that went back, start afresh.
    """

    __slots__ = ("_context", "_members")

    def __init__(self) -> None:
        """Start empty."""
        self._context: tuple[tuple[AccessGroup, ...], timedelta, datetime] | None = None
        self._members: dict[str, _Quiet] = {}

    def take(
        self, groups: tuple[AccessGroup, ...], horizon: timedelta, now: datetime
    ) -> dict[str, _Quiet]:
        """The members remembered for this run (empty if the context changed)."""
        context = self._context
        if (
            context is None
            or now < context[2]
            or context[1] != horizon
            or context[0] != groups
        ):
            return {}
        return self._members

    def keep(
        self,
        groups: tuple[AccessGroup, ...],
        horizon: timedelta,
        now: datetime,
        members: dict[str, _Quiet],
    ) -> None:
        """Remember this run's quiet members."""
        self._context = (groups, horizon, now)
        self._members = members


class _Lanes:
    """One member's merged windows, shared by lanes of one restriction."""

    __slots__ = ("email", "fresh", "ical", "stretches", "windows")

    def __init__(
        self, email: str, ical: str | None, windows: list[AccessWindow]
    ) -> None:
        self.email = email
        self.ical = ical
        if len(windows) > 1:
            windows.sort(key=_window_start)
        self.windows = windows
        self.stretches = _stretches(windows)
        # Grants for a lane without managed grants; computed on first use.
        self.fresh: list[tuple[datetime, datetime, _Grounds]] | None = None


type _Grounds = tuple[str, tuple[str, ...], tuple[AccessReason, ...]]
"""Person, group ids and reasons behind a grant."""


class _Planner:
    """State of one planning run."""

    def __init__(
        self,
        groups: Iterable[AccessGroup],
        now: datetime,
        horizon: timedelta,
        contacts: Mapping[str, str] | None,
        quiet: dict[str, _Quiet] | None,
    ) -> None:
        self.now = now
        # Quiet members of the previous run (None: no cache) and of this one.
        self.quiet_before = quiet
        self.quiet_now: dict[str, _Quiet] = {}
        self.half = horizon / 2
        # Whole seconds keep grant ends tidy in Tapkey's UI.
        self.cap = (now + horizon).replace(microsecond=0)
        # Access starting by this instant is granted now; later access is
        # due half a horizon before it starts (exactly at `next_due`).
        self.due_until = now + self.half
        self.next_due: datetime | None = None
        self.contacts: dict[str, str] = dict(contacts or {})
        self.targets: dict[str, TargetRef] = {}
        self.group_targets: dict[str, tuple[str, ...]] = {}
        self.group_ical: dict[str, str | None] = {}
        icals: dict[WeeklySchedule, str] = {}
        for group in groups:
            if not group.targets:
                continue
            ical = None
            if group.schedule is not None:
                ical = icals.get(group.schedule)
                if ical is None:
                    ical = icals[group.schedule] = weekly_schedule_ical(group.schedule)
            for target in group.targets:
                self.targets.setdefault(target.id, target)
            self.group_targets[group.id] = tuple(
                dict.fromkeys(target.id for target in group.targets)
            )
            self.group_ical[group.id] = ical
        # Per group: targets no other group with its restriction has, and
        # the rest, whose lanes may merge windows of several groups.
        sharing: dict[tuple[str, str | None], int] = {}
        for group_id, target_ids in self.group_targets.items():
            for target_id in target_ids:
                key = (target_id, self.group_ical[group_id])
                sharing[key] = sharing.get(key, 0) + 1
        self.group_own_targets: dict[str, tuple[str, ...]] = {}
        self.group_common_targets: dict[str, tuple[str, ...]] = {}
        for group_id, target_ids in self.group_targets.items():
            ical = self.group_ical[group_id]
            self.group_own_targets[group_id] = tuple(
                t for t in target_ids if sharing[t, ical] == 1
            )
            self.group_common_targets[group_id] = tuple(
                t for t in target_ids if sharing[t, ical] > 1
            )
        # Each member's live managed grants, in ledger order.
        self.held: dict[str, list[LedgerEntry]] = {}
        self.missing: dict[tuple[str, str, str | None], list[LedgerEntry]] = {}
        self.forget: list[LedgerEntry] = []
        self.members: dict[str, list[AccessWindow]] = {}
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
        cutoff = self.cutoff
        held = self.held
        contacts = self.contacts
        for entry in ledger:
            email = entry.email
            if email not in contacts:
                contacts[email] = entry.contact_id
            valid_before = entry.valid_before
            if valid_before <= now:
                self.forget.append(entry)
                continue
            if live is not None and entry.grant_id not in live:
                self.forget.append(entry)
                key = (email, entry.target_id, entry.ical)
                self.missing.setdefault(key, []).append(entry)
                continue
            entries = held.get(email)
            if entries is None:
                held[email] = [entry]
            else:
                entries.append(entry)
            if valid_before > cutoff:  # noqa: PLR1730 - max() costs a call per grant
                cutoff = valid_before
        # A window starting at or after the cutoff neither touches a held
        # grant nor shapes a grant made now: only its due time matters.
        self.cutoff = cutoff

    def load_desired(self, desired: Iterable[AccessWindow]) -> None:
        """Collect each member's windows that matter now."""
        now = self.now
        cutoff = self.cutoff
        group_targets = self.group_targets
        members = self.members
        for window in desired:
            end = window.end
            if (
                end is not None and (end <= now or end <= window.start)
            ) or window.group_id not in group_targets:
                continue
            if window.start >= cutoff:
                self._due_at(window.start - self.half)
                continue
            windows = members.get(window.email)
            if windows is None:
                members[window.email] = [window]
            else:
                windows.append(window)

    def run(self) -> PlanResult:
        """Plan every member, then the held grants nothing desires any more."""
        held = self.held
        if self.quiet_before is None:
            for email, windows in self.members.items():
                entries = held.pop(email, None)
                self._plan_member(
                    email, windows, _by_ical(entries) if entries else None
                )
        else:
            for email, windows in self.members.items():
                self._plan_member_cached(email, windows, held.pop(email, None))
        for entries in held.values():
            self._revoke_all(_by_ical(entries))
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

    def _revoke_all(self, by_ical: dict[str | None, _HeldByTarget]) -> None:
        for by_target in by_ical.values():
            for entries in by_target.values():
                for entry in entries:
                    self.revokes.append(RevokeGrant(entry, RevokeReason.NOT_DESIRED))

    def _plan_member_cached(
        self,
        email: str,
        windows: list[AccessWindow],
        held: list[LedgerEntry] | None,
    ) -> None:
        """Plan one member, or reuse its quiet plan of a previous run."""
        now = self.now
        quiet_now = self.quiet_now
        assert self.quiet_before is not None  # only called with a cache
        before = self.quiet_before.get(email)
        if (
            before is not None
            and (before.due is None or now < before.due)
            and before.windows == windows
            and before.held == held
        ):
            quiet_now[email] = before
            if before.due is not None:
                self._due_at(before.due)
            return
        actions = len(self.creates) + len(self.revokes)
        # The member's own due instant: planned from none, then merged.
        due_so_far = self._swap_due(None)
        self._plan_member(email, windows, _by_ical(held) if held else None)
        member_due = self._swap_due(due_so_far)
        if member_due is not None:
            self._due_at(member_due)
        if len(self.creates) + len(self.revokes) == actions:
            quiet_now[email] = _Quiet(windows, held, member_due)

    def _swap_due(self, due: datetime | None) -> datetime | None:
        """Set the next due instant; return the one it replaces."""
        replaced, self.next_due = self.next_due, due
        return replaced

    def _plan_member(
        self,
        email: str,
        windows: list[AccessWindow],
        held: dict[str | None, _HeldByTarget] | None,
    ) -> None:
        """Plan every lane of one member."""
        group_ical = self.group_ical
        families: dict[str | None, dict[str, list[AccessWindow]]] = {}
        for window in windows:
            ical = group_ical[window.group_id]
            family = families.get(ical)
            if family is None:
                families[ical] = {window.group_id: [window]}
            elif window.group_id in family:
                family[window.group_id].append(window)
            else:
                family[window.group_id] = [window]
        for ical, family in families.items():
            by_target = held.pop(ical, None) if held else None
            self._plan_family(email, ical, family, by_target)
            if by_target:
                self._revoke_all({ical: by_target})
        if held:
            self._revoke_all(held)

    def _plan_family(
        self,
        email: str,
        ical: str | None,
        family: dict[str, list[AccessWindow]],
        held: _HeldByTarget | None,
    ) -> None:
        """Plan the lanes of one member and restriction; pops planned targets."""
        if not held:
            # Nothing to keep or revoke: only access that is due matters.
            start = min(
                window.start for windows in family.values() for window in windows
            )
            if start > self.due_until:
                self._due_at(start - self.half)
                return
        if len(family) == 1:
            [(group_id, windows)] = family.items()
            lanes = _Lanes(email, ical, windows)
            self._plan_lanes(lanes, self.group_targets[group_id], held)
            return
        # Targets of one group only share its windows; targets several of
        # the member's groups have (a common front door) merge theirs.
        contributors: dict[str, list[str]] = {}
        for group_id, windows in family.items():
            own = self.group_own_targets[group_id]
            if own:
                self._plan_lanes(_Lanes(email, ical, windows), own, held)
            for target_id in self.group_common_targets[group_id]:
                contributors.setdefault(target_id, []).append(group_id)
        targets_by_groups: dict[tuple[str, ...], list[str]] = {}
        for target_id, sharing in contributors.items():
            targets_by_groups.setdefault(tuple(sharing), []).append(target_id)
        for group_ids, target_ids in targets_by_groups.items():
            merged = [window for group_id in group_ids for window in family[group_id]]
            self._plan_lanes(_Lanes(email, ical, merged), target_ids, held)

    def _plan_lanes(
        self, lanes: _Lanes, target_ids: Iterable[str], held: _HeldByTarget | None
    ) -> None:
        """Plan the lanes of `target_ids`, which share `lanes`' windows.

        Decides the common steady state (one stretch realised by one kept
        grant) inline; everything else goes through `_plan_lane`.
        """
        missing = self.missing
        start, end, _first, _last = lanes.stretches[0]
        if start > self.due_until and (not held or held.keys().isdisjoint(target_ids)):
            # Nothing due and nothing held on these targets: only note when.
            self._due_at(start - self.half)
            return
        single = len(lanes.stretches) == 1
        # A kept grant alone realises the stretch when it covers it from now
        # (or from its start) and ends inside it.
        covered_from = max(start, self.now)
        started = self.now >= start
        for target_id in target_ids:
            entries = held.pop(target_id, None) if held else None
            lost = (
                missing.get((lanes.email, target_id, lanes.ical)) if missing else None
            )
            if entries is None and lost is None:
                self._plan_fresh_lane(lanes, target_id)
                continue
            if single and lost is None and entries is not None and len(entries) == 1:
                valid_from = entries[0].valid_from
                valid_before = entries[0].valid_before
                if (
                    valid_from <= covered_from
                    and (started or valid_from >= start)
                    and (end is None or valid_before <= end)
                ):
                    if end is not None and valid_before == end:
                        continue
                    if valid_before > self.due_until:
                        self._due_at(valid_before - self.half)
                        continue
            self._plan_lane(lanes, target_id, entries or [], lost or [])

    def _plan_fresh_lane(self, lanes: _Lanes, target_id: str) -> None:
        """Grant a lane that holds no managed grant."""
        fresh = lanes.fresh
        if fresh is None:
            fresh = lanes.fresh = self._fresh(lanes)
        for valid_from, valid_before, grounds in fresh:
            self._create(
                lanes,
                target_id,
                valid_from,
                valid_before,
                grounds=grounds,
                reason=CreateReason.NEW,
            )

    def _plan_lane(
        self,
        lanes: _Lanes,
        target_id: str,
        entries: list[LedgerEntry],
        lost: list[LedgerEntry],
    ) -> None:
        """Keep, revoke and create grants so one lane matches its windows."""
        now = self.now
        stretches = lanes.stretches
        kept: list[LedgerEntry] = []
        dropped: list[LedgerEntry] = []
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
            due, finished = self._due_gaps(gaps)
            for gap_start, valid_before, after_kept in due:
                reason = CreateReason.EXTENSION if after_kept else CreateReason.NEW
                if any(_overlaps(e, gap_start, valid_before) for e in dropped):
                    reason = CreateReason.REPLACEMENT
                elif any(_overlaps(e, gap_start, valid_before) for e in lost):
                    reason = CreateReason.RESTORE
                grounds = _grounds(lanes.windows, first, last, gap_start, valid_before)
                self._create(
                    lanes,
                    target_id,
                    gap_start,
                    valid_before,
                    grounds=grounds,
                    reason=reason,
                )
            if finished:
                return

    def _fresh(self, lanes: _Lanes) -> list[tuple[datetime, datetime, _Grounds]]:
        """The grants a lane of `lanes` needs when it holds none."""
        now = self.now
        fresh: list[tuple[datetime, datetime, _Grounds]] = []
        for stretch_start, stretch_end, first, last in lanes.stretches:
            if stretch_end is not None and stretch_end <= now:
                continue
            gap = (max(stretch_start, now), stretch_end, False)
            due, finished = self._due_gaps([gap])
            for valid_from, valid_before, _after_kept in due:
                grounds = _grounds(lanes.windows, first, last, valid_from, valid_before)
                fresh.append((valid_from, valid_before, grounds))
            if finished:
                break
        return fresh

    def _due_gaps(
        self, gaps: list[_Gap]
    ) -> tuple[list[tuple[datetime, datetime, bool]], bool]:
        """The gaps to grant now, cut to the horizon; notes when the rest is due.

        The flag says that the lane's later access is not due yet either.
        """
        due: list[tuple[datetime, datetime, bool]] = []
        for gap_start, gap_end, after_kept in gaps:
            if gap_start > self.due_until:
                self._due_at(gap_start - self.half)
                return due, True
            valid_before = self.cap
            if gap_end is not None and gap_end <= valid_before:
                valid_before = gap_end
            else:
                self._due_at(valid_before - self.half)
            due.append((gap_start, valid_before, after_kept))
            if valid_before == self.cap:
                return due, True
        return due, False

    def _create(
        self,
        lanes: _Lanes,
        target_id: str,
        valid_from: datetime,
        valid_before: datetime,
        *,
        grounds: _Grounds,
        reason: CreateReason,
    ) -> None:
        person, group_ids, reasons = grounds
        email = lanes.email
        self.creates.append(
            CreateGrant(
                email=email,
                person=person,
                contact_id=self.contacts.get(email),
                target=self.targets[target_id],
                valid_from=valid_from,
                valid_before=valid_before,
                ical=lanes.ical,
                group_ids=group_ids,
                reasons=reasons,
                reason=reason,
            )
        )


def _by_ical(entries: list[LedgerEntry]) -> dict[str | None, _HeldByTarget]:
    """A member's grants by restriction and target (planning pops from it)."""
    by_ical: dict[str | None, _HeldByTarget] = {}
    for entry in entries:
        by_target = by_ical.get(entry.ical)
        if by_target is None:
            by_target = by_ical[entry.ical] = {}
        listed = by_target.get(entry.target_id)
        if listed is None:
            by_target[entry.target_id] = [entry]
        else:
            listed.append(entry)
    return by_ical


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


def _grounds(
    windows: list[AccessWindow],
    first: int,
    last: int,
    valid_from: datetime,
    valid_before: datetime,
) -> _Grounds:
    """Who a grant is for and which groups and records it serves."""
    if first == last:
        window = windows[first]
        return window.person, (window.group_id,), window.reasons
    group_ids: dict[str, None] = {}
    reasons: dict[AccessReason, None] = {}
    for window in windows[first : last + 1]:
        if window.start < valid_before and (
            window.end is None or window.end > valid_from
        ):
            group_ids[window.group_id] = None
            reasons.update(dict.fromkeys(window.reasons))
    return windows[first].person, tuple(group_ids), tuple(reasons)


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


def _gaps(start: datetime, end: datetime | None, kept: list[LedgerEntry]) -> list[_Gap]:
    """Parts of [start, end) that no kept grant (sorted by start) covers."""
    gaps: list[_Gap] = []
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
