"""A planner cache kept across runs never changes a plan (hypothesis).

Each example runs a sync-like sequence of steps over one simulated Tapkey:
the world changes or not (windows added, dropped, moved; rarely other
groups), grants are lost in the portal now and then, the clock moves on by
small steps or straight to the next due instant, and a plan is carried out
or not (a failed sync). At every step the plan made with the cache the
previous steps warmed must equal the plan made without one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from hypothesis import given, settings, strategies as st

from custom_components.spacebring_tapkey.access.model import (
    AccessGroup,
    AccessReason,
    AccessWindow,
    PlanResult,
    SourceKind,
    TargetRef,
)
from custom_components.spacebring_tapkey.access.planner import PlannerCache, plan

from .records import utc
from .simulated_tapkey import SimulatedTapkey
from .test_planner_properties import (
    BASE,
    HORIZONS,
    STEP,
    access_groups,
    windows_for,
)

CACHE_SETTINGS = settings(max_examples=150, deadline=None, database=None)


@dataclass
class World:
    """What the rules would hand the planner at one step."""

    groups: tuple[AccessGroup, ...]
    windows: list[AccessWindow]


@st.composite
def changed(draw: st.DrawFn, world: World) -> World:
    """The world unchanged, or with one of the changes a sync sees."""
    windows = list(world.windows)
    match draw(st.sampled_from(("same", "same", "drop", "move", "add", "groups"))):
        case "same":
            return world
        case "drop" if windows:
            windows.pop(draw(st.integers(0, len(windows) - 1)))
        case "move" if windows:
            index = draw(st.integers(0, len(windows) - 1))
            window = windows[index]
            shift = STEP * draw(st.integers(-8, 8))
            if window.end is not None:
                end = max(window.end + shift, window.start + STEP)
                windows[index] = window._replace(end=end)
        case "groups":
            groups = draw(access_groups())
            return World(groups, draw(windows_for(groups)))
        case _:
            windows.extend(draw(windows_for(world.groups))[:2])
    return World(world.groups, windows)


def _plan(
    tapkey: SimulatedTapkey,
    world: World,
    now: datetime,
    horizon: timedelta,
    cache: PlannerCache | None,
) -> PlanResult:
    return plan(
        world.windows,
        world.groups,
        tapkey.ledger.values(),
        now=now,
        horizon=horizon,
        tapkey_grants=tapkey.grants.values(),
        contacts=tapkey.contacts,
        cache=cache,
    )


@given(data=st.data())
@CACHE_SETTINGS
def test_cached_plans_equal_uncached_plans_over_a_sequence_of_syncs(
    data: st.DataObject,
) -> None:
    """Whatever changes between runs, the cache never alters a plan."""
    horizon = data.draw(st.sampled_from(HORIZONS))
    groups = data.draw(access_groups())
    world = World(groups, data.draw(windows_for(groups)))
    now = BASE + STEP * data.draw(st.integers(0, 2000))
    tapkey = SimulatedTapkey()
    cache = PlannerCache()
    for _ in range(data.draw(st.integers(2, 8))):
        cached = _plan(tapkey, world, now, horizon, cache)
        uncached = _plan(tapkey, world, now, horizon, None)

        assert cached == uncached

        if data.draw(st.booleans()) or not uncached.actions:
            tapkey.apply(uncached, now)
        if tapkey.ledger and data.draw(st.integers(0, 5)) == 0:
            tapkey.revoke_in_portal(data.draw(st.sampled_from(sorted(tapkey.ledger))))
        world = data.draw(changed(world))
        due = uncached.next_replan_at
        if due is not None and data.draw(st.booleans()):
            now = max(now, due + STEP * data.draw(st.integers(-1, 1)))
        else:
            now += timedelta(minutes=data.draw(st.sampled_from((0, 1, 5, 60))))


def test_a_quiet_member_is_reused_until_its_grant_is_due_for_renewal() -> None:
    """An open-ended member holding its grant plans to nothing from the cache,
    and to the renewal once due, exactly as without the cache."""
    groups = data_groups()
    window = open_ended_window(groups[0])
    now = utc("2026-03-02T08:00")
    horizon = timedelta(days=2)
    tapkey = SimulatedTapkey()
    cache = PlannerCache()
    tapkey.apply(plan([window], groups, [], now=now, horizon=horizon, cache=cache), now)
    world = World(groups, [window])

    quiet = _plan(tapkey, world, now + timedelta(hours=1), horizon, cache)
    due = quiet.next_replan_at
    assert quiet.actions == ()
    assert due == utc("2026-03-03T08:00")
    renewal = _plan(tapkey, world, due, horizon, cache)
    assert renewal == _plan(tapkey, world, due, horizon, None)
    assert len(renewal.creates) == 1


def test_a_clock_that_went_back_plans_afresh() -> None:
    """A cache warmed at a later instant gives the uncached plan of an earlier one."""
    groups = data_groups()
    window = open_ended_window(groups[0])
    horizon = timedelta(days=2)
    late = utc("2026-03-05T08:00")
    tapkey = SimulatedTapkey()
    cache = PlannerCache()
    tapkey.apply(
        plan([window], groups, [], now=late, horizon=horizon, cache=cache), late
    )
    world = World(groups, [window])
    _plan(tapkey, world, late, horizon, cache)
    early = late - timedelta(days=3)

    assert _plan(tapkey, world, early, horizon, cache) == _plan(
        tapkey, world, early, horizon, None
    )


def data_groups() -> tuple[AccessGroup, ...]:
    """One group with one lock."""
    return (AccessGroup("group-0", "Front door", (TargetRef("lock-a"),)),)


def open_ended_window(group: AccessGroup) -> AccessWindow:
    """A subscription that started a while ago and has no end."""
    reason = AccessReason(SourceKind.SUBSCRIPTION, "sub-1", "Flex desk")
    return AccessWindow(
        "ann@example.org", group.id, utc("2026-03-01T00:00"), None, "Ann", (reason,)
    )
