"""Properties of planning over random worlds and clocks (hypothesis).

Each example builds a world (access groups over a few shared locks, some
with weekly schedules; members with windows), plans it at one instant into
a simulated Tapkey that also holds portal grants, possibly loses a managed
grant, then plans a changed or unchanged world at a later instant. The
properties are checked on that second plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
import itertools

from hypothesis import given, settings, strategies as st

from custom_components.spacebring_tapkey.access.ical import weekly_schedule_ical
from custom_components.spacebring_tapkey.access.model import (
    AccessGroup,
    AccessReason,
    AccessWindow,
    PlanResult,
    SourceKind,
    TargetRef,
    WeeklySchedule,
)
from custom_components.spacebring_tapkey.api.models import Grant

from .records import OFFICE_HOURS, VIENNA, utc
from .simulated_tapkey import SimulatedTapkey, desired_openers, schedules_of

BASE = utc("2026-03-02T00:00")
STEP = timedelta(minutes=15)
LOCKS = ("lock-a", "lock-b", "lock-c", "lockgroup-d")
EMAILS = ("ann@example.org", "ben@example.org", "cleo@example.org")
NIGHTS = WeeklySchedule(frozenset({4, 5}), time(20), time(2), VIENNA)
HORIZONS = (timedelta(hours=6), timedelta(days=1), timedelta(days=14))
PROPERTY_SETTINGS = settings(max_examples=120, deadline=None, database=None)


@st.composite
def access_groups(draw: st.DrawFn) -> tuple[AccessGroup, ...]:
    """One to three groups over a small pool of (often shared) locks."""
    count = draw(st.integers(1, 3))
    return tuple(
        AccessGroup(
            id=f"group-{index}",
            name=f"Group {index}",
            targets=tuple(
                TargetRef(lock)
                for lock in draw(
                    st.lists(
                        st.sampled_from(LOCKS), min_size=1, max_size=3, unique=True
                    )
                )
            ),
            schedule=draw(st.sampled_from((None, None, OFFICE_HOURS, NIGHTS))),
        )
        for index in range(count)
    )


@st.composite
def windows_for(draw: st.DrawFn, groups: tuple[AccessGroup, ...]) -> list[AccessWindow]:
    """Disjoint, non-touching windows per member and group, some open-ended."""
    windows: list[AccessWindow] = []
    for email in EMAILS:
        for group in groups:
            cursor = BASE + STEP * draw(st.integers(-200, 2000))
            for index in range(draw(st.integers(0, 3))):
                start = cursor + STEP * draw(st.integers(1, 400))
                open_ended = draw(st.booleans()) and draw(st.booleans())
                end = None if open_ended else start + STEP * draw(st.integers(1, 1500))
                reason = AccessReason(SourceKind.BOOKING, f"{email}-{index}", "Room")
                windows.append(
                    AccessWindow(email, group.id, start, end, email[:3], (reason,))
                )
                if end is None:
                    break
                cursor = end
    return windows


@dataclass
class Scenario:
    """A world planned twice, and the simulated Tapkey after the second plan."""

    tapkey: SimulatedTapkey
    portal: list[Grant]
    groups: tuple[AccessGroup, ...]
    windows: list[AccessWindow]
    before: dict[str, tuple[str, datetime, datetime, str]]
    now: datetime
    horizon: timedelta
    result: PlanResult


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    """Plan world A at t0, lose a grant maybe, plan world B at t1 >= t0."""
    horizon = draw(st.sampled_from(HORIZONS))
    groups_a = draw(access_groups())
    groups_b = groups_a if draw(st.booleans()) else draw(access_groups())
    windows_a = draw(windows_for(groups_a))
    windows_b = windows_a if draw(st.booleans()) else draw(windows_for(groups_b))
    if groups_b is not groups_a and windows_b is windows_a:
        windows_b = draw(windows_for(groups_b))
    t0 = BASE + STEP * draw(st.integers(0, 2000))
    t1 = t0 + STEP * draw(st.integers(0, 1500))

    tapkey = SimulatedTapkey()
    portal = [
        tapkey.add_unmanaged(
            draw(st.sampled_from(EMAILS)),
            draw(st.sampled_from(LOCKS)),
            t0 - timedelta(days=1),
            draw(st.sampled_from((None, t0 + timedelta(days=3)))),
        )
        for _ in range(draw(st.integers(0, 2)))
    ]
    tapkey.apply(tapkey.plan(windows_a, groups_a, now=t0, horizon=horizon), t0)
    managed = sorted(tapkey.ledger)
    lose_one = draw(st.booleans())
    if managed and lose_one:
        lost = draw(st.sampled_from(managed))
        if draw(st.booleans()):
            tapkey.revoke_in_portal(lost)
        else:
            tapkey.delete_in_portal(lost)
    before = {
        entry.grant_id: (
            entry.email,
            entry.valid_from,
            entry.valid_before,
            entry.target_id,
        )
        for entry in tapkey.ledger.values()
    }
    result = tapkey.plan(windows_b, groups_b, now=t1, horizon=horizon)
    tapkey.apply(result, t1)
    return Scenario(tapkey, portal, groups_b, windows_b, before, t1, horizon, result)


def _instants(scenario: Scenario, until: datetime) -> list[datetime]:
    """Every boundary in [now, until) and a point inside each piece between them."""
    points = {scenario.now}
    for window in scenario.windows:
        points.update(p for p in (window.start, window.end) if p is not None)
    for grant in scenario.tapkey.grants.values():
        points.update(
            p for p in (grant.valid_from, grant.valid_before) if p is not None
        )
    inside = sorted(p for p in points if scenario.now <= p < until)
    middles = [a + (b - a) / 2 for a, b in itertools.pairwise(inside)]
    return sorted({*inside, *middles, *(p + STEP / 3 for p in inside)})


@given(scenarios())
@PROPERTY_SETTINGS
def test_convergence_replanning_after_applying_changes_nothing(
    scenario: Scenario,
) -> None:
    """Apply a plan, plan again at the same instant: nothing left to do."""
    again = scenario.tapkey.plan(
        scenario.windows, scenario.groups, now=scenario.now, horizon=scenario.horizon
    )

    assert again.actions == ()
    assert again.forget == ()


@given(scenarios())
@PROPERTY_SETTINGS
def test_safety_no_action_names_a_grant_outside_the_ledger(scenario: Scenario) -> None:
    """Portal grants are never revoked, and still exist unchanged."""
    portal_ids = {grant.id for grant in scenario.portal}

    assert portal_ids.isdisjoint(scenario.tapkey.named)
    assert portal_ids.isdisjoint(entry.grant_id for entry in scenario.result.forget)
    for grant in scenario.portal:
        assert scenario.tapkey.grants[grant.id] == grant


@given(scenarios())
@PROPERTY_SETTINGS
def test_exactness_locks_open_for_exactly_the_desired_members(
    scenario: Scenario,
) -> None:
    """Until the next re-plan is due, managed access equals desired access.

    After that instant (if the plan is not refreshed) managed access can
    only fall short of desired access, never exceed it.
    """
    schedules = schedules_of(scenario.groups)
    schedules.update({weekly_schedule_ical(s): s for s in (OFFICE_HOURS, NIGHTS)})
    due = scenario.result.next_replan_at
    far = scenario.now + 4 * scenario.horizon
    for instant in _instants(scenario, far):
        for lock in LOCKS:
            granted = scenario.tapkey.who_can_open(lock, instant, schedules)
            desired = desired_openers(scenario.windows, scenario.groups, lock, instant)
            if due is None or instant < due:
                assert granted == desired, (lock, instant)
            else:
                assert granted <= desired, (lock, instant)


@given(scenarios())
@PROPERTY_SETTINGS
def test_horizon_no_new_grant_reaches_past_now_plus_horizon(scenario: Scenario) -> None:
    """Every grant made by this plan ends within the horizon."""
    for create in scenario.result.creates:
        assert create.valid_before <= scenario.now + scenario.horizon
    assert (
        scenario.result.next_replan_at is None
        or scenario.result.next_replan_at > scenario.now
    )


@given(scenarios(), st.floats(0, 1))
@PROPERTY_SETTINGS
def test_economy_no_action_before_the_next_replan_is_due(
    scenario: Scenario, fraction: float
) -> None:
    """Nothing changed and the due instant not reached: Tapkey is left alone."""
    due = scenario.result.next_replan_at or scenario.now + 3 * scenario.horizon
    later = scenario.now + (due - scenario.now) * fraction
    if later >= due:
        later = scenario.now

    quiet = scenario.tapkey.plan(
        scenario.windows, scenario.groups, now=later, horizon=scenario.horizon
    )

    assert quiet.creates == ()
    assert quiet.revokes == ()


@given(scenarios())
@PROPERTY_SETTINGS
def test_economy_revokes_only_grants_that_reach_outside_desired_access(
    scenario: Scenario,
) -> None:
    """A revoked grant would have opened its lock at some undesired instant."""
    schedules = schedules_of(scenario.groups)
    for revoke in scenario.result.revokes:
        entry = revoke.entry
        lane = _lane(scenario, entry.email, entry.target_id, entry.ical)
        remaining = (max(entry.valid_from, scenario.now), entry.valid_before)
        assert not any(_within(remaining, stretch) for stretch in lane), entry
    assert schedules is not None


@given(scenarios())
@PROPERTY_SETTINGS
def test_economy_creates_at_most_one_grant_per_uncovered_stretch_part(
    scenario: Scenario,
) -> None:
    """Creates never exceed the parts of desired access no kept grant covers."""
    revoked = {revoke.entry.grant_id for revoke in scenario.result.revokes}
    lanes: dict[tuple[str, str, str | None], int] = {}
    for create in scenario.result.creates:
        key = (create.email, create.target.id, create.ical)
        lanes[key] = lanes.get(key, 0) + 1
    for (email, target_id, ical), creates in lanes.items():
        kept = sorted(
            (valid_from, valid_before)
            for grant_id, (
                owner,
                valid_from,
                valid_before,
                target,
            ) in scenario.before.items()
            if owner == email
            and target == target_id
            and grant_id not in revoked
            and grant_id in scenario.tapkey.ledger
            and scenario.tapkey.ledger[grant_id].ical == ical
        )
        uncovered = sum(
            len(_uncovered(stretch, kept, scenario.now))
            for stretch in _lane(scenario, email, target_id, ical)
        )
        assert creates <= uncovered


type _Span = tuple[datetime, datetime | None]


def _lane(
    scenario: Scenario, email: str, target_id: str, ical: str | None
) -> list[_Span]:
    """The member's merged desired access on one target with one restriction."""
    spans = sorted(
        (window.start, window.end)
        for window in scenario.windows
        for group in scenario.groups
        if window.email == email
        and window.group_id == group.id
        and any(target.id == target_id for target in group.targets)
        and (weekly_schedule_ical(group.schedule) if group.schedule else None) == ical
    )
    merged: list[_Span] = []
    for start, end in spans:
        if merged and (merged[-1][1] is None or start <= merged[-1][1]):
            last_start, last_end = merged[-1]
            if last_end is not None and (end is None or end > last_end):
                merged[-1] = (last_start, end)
            continue
        merged.append((start, end))
    return merged


def _within(part: tuple[datetime, datetime], stretch: _Span) -> bool:
    start, end = stretch
    return start <= part[0] and (end is None or part[1] <= end)


def _uncovered(
    stretch: _Span, kept: list[tuple[datetime, datetime]], now: datetime
) -> list[_Span]:
    """Parts of the stretch's future that no kept grant covers."""
    start, end = stretch
    cursor = max(start, now)
    parts: list[_Span] = []
    for valid_from, valid_before in kept:
        if end is not None and valid_from >= end:
            break
        if valid_before <= cursor:
            continue
        if valid_from > cursor:
            parts.append((cursor, valid_from))
        cursor = max(cursor, valid_before)
    if end is None or cursor < end:
        parts.append((cursor, end))
    return parts
