"""Benchmark of the access engine on a large coworking site.

Run from the repository root: `python -m benchmarks.bench_access`. Prints one
JSON line: seconds for a full plan from an empty ledger, a re-plan with
nothing changed and a re-plan after 1% of the bookings changed (each the
rules plus the planner, best of five), the peak memory the full plan
allocates (tracemalloc, MB; the whole process's peak RSS, Home Assistant's
imports included, is given beside it), the rules' share, and action counts.

The re-plans run as the sync engine does: with the `PlannerCache` that the
previous sync (one minute after the full plan was carried out) left behind;
`*_uncached_s` are the same re-plans without a cache.

The site: 5,000 members, 300 companies, 3,000 subscriptions, 20,000 bookings
over the next 30 days, 40 access groups of 5 locks each (one front door
shared by all), a quarter of the groups restricted to office hours.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
import gc
import json
import random
import resource
import time as wall
import tracemalloc

from custom_components.spacebring_tapkey.access.model import (
    AccessGroup,
    LedgerEntry,
    PlanResult,
    RuleSettings,
    TargetRef,
    WeeklySchedule,
)
from custom_components.spacebring_tapkey.access.planner import PlannerCache, plan
from custom_components.spacebring_tapkey.access.rules import desired_access
from custom_components.spacebring_tapkey.api.models import (
    Booking,
    BookingStatus,
    Company,
    CustomerType,
    Grant,
    Location,
    Membership,
    Person,
    Plan,
    Resource,
    SpacebringSnapshot,
    Subscription,
    SubscriptionItem,
    SubscriptionStatus,
)

MEMBERS = 5_000
COMPANIES = 300
SUBSCRIPTIONS = 3_000
BOOKINGS = 20_000
BOOKING_DAYS = 30
GROUPS = 40
LOCKS_PER_GROUP = 5
PLANS = 20
RESOURCES = 300
HORIZON = timedelta(days=14)
NOW = datetime(2026, 3, 2, 7, 13, 21, tzinfo=UTC)
ZONE = "Europe/Vienna"


def build_site(rng: random.Random) -> tuple[SpacebringSnapshot, list[AccessGroup]]:
    """A deterministic large site and its access groups."""
    office_hours = WeeklySchedule(frozenset(range(5)), time(8), time(19), ZONE)
    groups = [
        AccessGroup(
            id=f"group-{g}",
            name=f"Group {g}",
            targets=(
                TargetRef("lock-front"),
                *(TargetRef(f"lock-{g}-{k}") for k in range(1, LOCKS_PER_GROUP)),
            ),
            tapkey_group_refs=frozenset({f"ref-{g}"}),
            schedule=office_hours if g % 4 == 3 else None,
        )
        for g in range(GROUPS)
    ]
    plans = tuple(Plan(f"plan-{p}", f"Plan {p}", f"ref-{p % 10}") for p in range(PLANS))
    kinds = ("room", "desk", "office", "parking", "equipment")
    resources = tuple(
        Resource(
            f"res-{r}",
            f"Resource {r}",
            kinds[r % len(kinds)],
            f"ref-{10 + r % (GROUPS - 10)}" if r % 7 else None,
        )
        for r in range(RESOURCES)
    )
    people = [
        Person(
            f"user-{m}",
            f"Member.{m}@Example.org" if m % 50 else f" member.{m}@example.org ",
            f"Name{m}",
            f"Surname{m}",
        )
        for m in range(MEMBERS)
    ]
    companies = tuple(Company(f"company-{c}", f"Company {c}") for c in range(COMPANIES))
    memberships = tuple(
        Membership(
            f"membership-{m}",
            person,
            f"company-{m % COMPANIES}" if m % 5 < 2 else None,
            approved=m % 97 != 0,
        )
        for m, person in enumerate(people)
    )
    subscriptions = tuple(
        _subscription(rng, s, people, plans) for s in range(SUBSCRIPTIONS)
    )
    bookings = tuple(_booking(rng, b, people) for b in range(BOOKINGS))
    snapshot = SpacebringSnapshot(
        location=Location("location-1", "Coworking", ZONE),
        plans=plans,
        resources=resources,
        subscriptions=subscriptions,
        companies=companies,
        memberships=memberships,
        bookings=bookings,
    )
    return snapshot, groups


def _subscription(
    rng: random.Random, index: int, people: list[Person], plans: tuple[Plan, ...]
) -> Subscription:
    is_company = index % 10 == 0
    start = NOW - timedelta(days=rng.randint(-20, 400))
    end = None if rng.random() < 0.6 else start + timedelta(days=rng.randint(30, 500))
    plan_ = plans[rng.randrange(len(plans))]
    return Subscription(
        id=f"sub-{index}",
        status=SubscriptionStatus.SCHEDULED
        if start > NOW
        else SubscriptionStatus.ACTIVE,
        customer_type=CustomerType.COMPANY if is_company else CustomerType.USER,
        start=start,
        end=end,
        timezone=None,
        user=None if is_company else people[rng.randrange(len(people))],
        company_id=f"company-{index // 10 % COMPANIES}" if is_company else None,
        items=(
            SubscriptionItem(f"item-{index}", None, plan_.id, None, None, None, None),
        ),
    )


def _booking(rng: random.Random, index: int, people: list[Person]) -> Booking:
    start = (
        NOW + timedelta(minutes=rng.randrange(BOOKING_DAYS * 24 * 4) * 15)
    ).replace(second=0)
    owner = people[rng.randrange(len(people))]
    attendees = tuple(
        people[rng.randrange(len(people))] for _ in range(rng.choice((0, 0, 1, 2)))
    )
    return Booking(
        id=f"booking-{index}",
        resource_id=f"res-{rng.randrange(RESOURCES)}",
        title=None,
        start=start,
        end=start + timedelta(minutes=30 * rng.randint(1, 8)),
        owner=owner,
        attendees=attendees,
        status=BookingStatus.TENTATIVE if index % 40 == 0 else BookingStatus.CONFIRMED,
    )


def apply_plan(
    result: PlanResult, ledger: dict[str, LedgerEntry], grants: dict[str, Grant]
) -> None:
    """Carry a plan out against an in-memory Tapkey, as the sync would."""
    for entry in result.forget:
        ledger.pop(entry.grant_id, None)
    for create in result.creates:
        grant_id = f"grant-{len(grants)}"
        contact_id = create.contact_id or f"contact-{create.email}"
        ledger[grant_id] = create.to_ledger_entry(
            grant_id=grant_id, contact_id=contact_id, created_at=NOW
        )
        grants[grant_id] = Grant(
            grant_id,
            contact_id,
            create.target.id,
            create.valid_from,
            create.valid_before,
            create.ical,
        )
    for revoke in result.revokes:
        ledger.pop(revoke.entry.grant_id, None)
        grants.pop(revoke.entry.grant_id, None)


def change_bookings(
    rng: random.Random, snapshot: SpacebringSnapshot
) -> SpacebringSnapshot:
    """Cancel, move or extend 1% of the bookings."""
    bookings = list(snapshot.bookings)
    for index in rng.sample(range(len(bookings)), len(bookings) // 100):
        booking = bookings[index]
        match index % 3:
            case 0:
                bookings[index] = replace(booking, deleted=NOW)
            case 1:
                shift = timedelta(hours=1)
                bookings[index] = replace(
                    booking, start=booking.start + shift, end=booking.end + shift
                )
            case _:
                bookings[index] = replace(booking, end=booking.end + timedelta(hours=2))
    return replace(snapshot, bookings=tuple(bookings))


def run_engine(
    snapshot: SpacebringSnapshot,
    groups: list[AccessGroup],
    ledger: dict[str, LedgerEntry],
    grants: dict[str, Grant],
    now: datetime,
    *,
    cache: PlannerCache | None = None,
) -> PlanResult:
    """The rules and the planner, as one sync runs them."""
    desired = desired_access(snapshot, groups, RuleSettings(), now=now)
    return plan(
        desired.windows,
        groups,
        ledger.values(),
        now=now,
        horizon=HORIZON,
        tapkey_grants=grants.values(),
        cache=cache,
    )


def best_of(runs: int, work: Callable[[], PlanResult]) -> tuple[float, PlanResult]:
    """Fastest wall time of `runs` calls, and the result."""
    return _best_seconds(runs, work), work()


def main() -> None:
    """Measure and print one JSON line."""
    rng = random.Random(20260302)
    snapshot, groups = build_site(rng)
    changed_snapshot = change_bookings(rng, snapshot)
    # Long-lived objects (the site, the ledger, imported modules) are moved
    # out of the collector's view, as in a long-running Home Assistant whose
    # large heap makes full collections rare; the engine's own allocations
    # are still collected during the runs.
    _freeze_long_lived()

    full_s, full = best_of(5, lambda: run_engine(snapshot, groups, {}, {}, NOW))
    tracemalloc.start()
    run_engine(snapshot, groups, {}, {}, NOW)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    ledger: dict[str, LedgerEntry] = {}
    grants: dict[str, Grant] = {}
    apply_plan(full, ledger, grants)
    _freeze_long_lived()
    previous = NOW + timedelta(minutes=1)
    later = NOW + timedelta(minutes=5)

    def warmed() -> PlannerCache:
        """The cache as the previous sync left it."""
        cache = PlannerCache()
        run_engine(snapshot, groups, ledger, grants, previous, cache=cache)
        return cache

    unchanged_s, unchanged = _best_with_cache(
        5,
        warmed,
        lambda c: run_engine(snapshot, groups, ledger, grants, later, cache=c),
    )
    changed_s, changed = _best_with_cache(
        5,
        warmed,
        lambda c: run_engine(changed_snapshot, groups, ledger, grants, later, cache=c),
    )
    unchanged_uncached_s, unchanged_uncached = best_of(
        5, lambda: run_engine(snapshot, groups, ledger, grants, later)
    )
    changed_uncached_s, changed_uncached = best_of(
        5, lambda: run_engine(changed_snapshot, groups, ledger, grants, later)
    )
    if (unchanged, changed) != (unchanged_uncached, changed_uncached):
        msg = "cached and uncached plans differ"
        raise AssertionError(msg)
    rules_s = _best_seconds(
        5, lambda: desired_access(snapshot, groups, RuleSettings(), now=later)
    )
    desired = desired_access(snapshot, groups, RuleSettings(), now=later)
    planner_s = _best_seconds(
        5,
        lambda: plan(
            desired.windows,
            groups,
            ledger.values(),
            now=later,
            horizon=HORIZON,
            tapkey_grants=grants.values(),
        ),
    )
    print(
        json.dumps(
            {
                "benchmark": "access",
                "full_plan_s": round(full_s, 4),
                "replan_unchanged_s": round(unchanged_s, 4),
                "replan_1pct_changed_s": round(changed_s, 4),
                "replan_unchanged_uncached_s": round(unchanged_uncached_s, 4),
                "replan_1pct_changed_uncached_s": round(changed_uncached_s, 4),
                "peak_memory_mb": round(peak / 2**20, 1),
                "process_max_rss_mb": round(
                    resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                ),
                "actions": len(full.actions),
                "rules_only_s": round(rules_s, 4),
                "planner_only_unchanged_s": round(planner_s, 4),
                "creates": len(full.creates),
                "contacts": len(full.contacts),
                "unchanged_actions": len(unchanged.actions),
                "changed_actions": len(changed.actions),
                "windows": len(desired.windows),
                "ledger_entries": len(ledger),
            }
        )
    )


def _best_with_cache(
    runs: int,
    warm: Callable[[], PlannerCache],
    work: Callable[[PlannerCache], PlanResult],
) -> tuple[float, PlanResult]:
    """Fastest wall time of `runs` calls, each with a freshly warmed cache."""
    best = float("inf")
    result: PlanResult | None = None
    for _ in range(runs):
        cache = warm()
        gc.collect()  # the warm-up's garbage is not the measured run's
        started = wall.perf_counter()
        result = work(cache)
        best = min(best, wall.perf_counter() - started)
    assert result is not None
    return best, result


def _freeze_long_lived() -> None:
    gc.collect()
    gc.freeze()


def _best_seconds(runs: int, work: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(runs):
        started = wall.perf_counter()
        work()
        best = min(best, wall.perf_counter() - started)
    return best


if __name__ == "__main__":
    main()
