"""The sync keeps Tapkey equal to what Spacebring says, over simulated days.

Each step changes the sandbox's Spacebring world (through its public API
where Spacebring has one, else as an operator would in Spacebring's admin),
lets the integration poll and sync, and then checks the access oracle: at
every instant that matters, the members who can open each lock according to
the sandbox's Tapkey grants are exactly those the rules want.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.spacebring_tapkey.access.model import PlanResult
from custom_components.spacebring_tapkey.api.spacebring import NewSubscriptionItem
from sandbox.faults import FaultKind
from sandbox.server import RunningSandbox
from sandbox.spacebring_records import iso, membership as membership_record

from .ha_sandbox import EntryFactory
from .sync_support import (
    add_front_door_group,
    add_meeting_rooms_group,
    demo_owner,
    desired_openers,
    granted_openers,
    tapkey_grants,
)

VIENNA = ZoneInfo("Europe/Vienna")
HORIZON = timedelta(days=14)
ROOMS = "Meeting rooms"
# Monday 2 March 2026, 08:00 in Vienna.
START = "2026-03-02T07:00:00+00:00"


def vienna(day: int, hour: int, minute: int = 0) -> datetime:
    """A wall-clock time in March 2026 in Vienna."""
    return datetime(2026, 3, day, hour, minute, tzinfo=VIENNA)


class Scenario:
    """An entry synced against the sandbox, with the world's handles."""

    def __init__(
        self, hass: HomeAssistant, sandbox: RunningSandbox, entry: MockConfigEntry
    ) -> None:
        """Remember the parts; grants that exist now were made by others."""
        self.hass = hass
        self.sandbox = sandbox
        self.entry = entry
        self.others = {grant.id for grant in tapkey_grants(sandbox)}
        self.others_before = {
            grant.id: (grant.state, grant.valid_from, grant.valid_before)
            for grant in tapkey_grants(sandbox)
        }

    @property
    def state(self) -> Any:
        """The sandbox's Spacebring state."""
        return self.sandbox.world.spacebring

    async def sync(self) -> PlanResult | None:
        """Poll Spacebring and sync, as the coordinator's listener does."""
        data = self.entry.runtime_data
        await data.spacebring.async_refresh()
        await self.hass.async_block_till_done(wait_background_tasks=True)
        result = await data.sync.async_sync()
        await self.hass.async_block_till_done(wait_background_tasks=True)
        return result

    def assert_exact_access(self) -> None:
        """Granted access equals desired access at every instant that matters."""
        now = self.sandbox.clock.now()
        for instant in self.instants(now, now + HORIZON / 2):
            granted = granted_openers(self.sandbox, instant, ignore=self.others)
            desired = desired_openers(self.entry, self.sandbox, instant)
            assert granted == desired, f"at {instant.isoformat()}"
        self.assert_others_untouched()

    def assert_others_untouched(self) -> None:
        """Grants made by people or other applications never change."""
        grants = {grant.id: grant for grant in tapkey_grants(self.sandbox)}
        for grant_id, before in self.others_before.items():
            grant = grants[grant_id]
            assert (grant.state, grant.valid_from, grant.valid_before) == before

    def instants(self, start: datetime, end: datetime) -> Iterator[datetime]:
        """Now, every window boundary (and a second either side), every hour."""
        desired = self.entry.runtime_data.sync.status.desired
        assert desired is not None
        marks = {start}
        for window in desired.windows:
            for edge in (window.start, window.end):
                if edge is not None:
                    marks.update(edge + timedelta(seconds=s) for s in (-1, 0, 1))
        hour = start
        while hour < end:
            marks.add(hour)
            hour += timedelta(hours=1)
        yield from sorted(mark for mark in marks if start <= mark < end)

    def member(self, index: int = 0, *, company: bool = False) -> dict[str, Any]:
        """An approved member with an e-mail, with or without a company."""
        members = [
            m
            for m in self.state.memberships.values()
            if m.get("status") == "approved"
            and not m.get("deleteDate")
            and (m.get("user") or {}).get("email")
            and bool(m.get("companyRef")) == company
        ]
        return sorted(members, key=lambda m: m["id"])[index]

    def member_without_access(self) -> dict[str, Any]:
        """A member without company who has no access window at all."""
        desired = self.entry.runtime_data.sync.status.desired
        assert desired is not None
        with_access = {window.email for window in desired.windows}
        return next(
            m
            for m in sorted(self.state.memberships.values(), key=lambda m: m["id"])
            if m.get("status") == "approved"
            and not m.get("deleteDate")
            and not m.get("companyRef")
            and (email := (m.get("user") or {}).get("email"))
            and email.strip().lower() not in with_access
        )

    def resource(self, kind: str) -> dict[str, Any]:
        """A resource of the entry's location by type."""
        location = self.entry.data["location_id"]
        return next(
            r
            for r in sorted(self.state.resources.values(), key=lambda r: r["title"])
            if r["type"] == kind and r["locationRef"] == location
        )

    def openers_of(
        self, email: str, instant: datetime, *, lock_group: str | None = None
    ) -> set[str]:
        """The locks (of a lock group, if named) a member can open at an instant."""
        owner = demo_owner(self.sandbox)
        within = None
        if lock_group is not None:
            within = next(
                set(g.bound_lock_ids)
                for g in owner.lock_groups.values()
                if g.title == lock_group
            )
        return {
            lock
            for who, lock in granted_openers(self.sandbox, instant, ignore=self.others)
            if who == email.lower() and (within is None or lock in within)
        }


@pytest.fixture
async def scenario(
    freezer: FrozenDateTimeFactory,
    hass: HomeAssistant,
    ha_sandbox: RunningSandbox,
    tapkey_credentials: None,
    sandbox_entry: EntryFactory,
) -> Scenario:
    """An entry with a front-door group and a meeting-room group, set up."""
    entry = sandbox_entry()
    add_front_door_group(hass, entry, ha_sandbox)
    add_meeting_rooms_group(hass, entry, ha_sandbox, ["room", "meetingRoom"])
    scenario = Scenario(hass, ha_sandbox, entry)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    return scenario


@pytest.mark.freeze_time(START, tick=True)
async def test_two_days_of_changes_keep_access_exact(
    scenario: Scenario, freezer: FrozenDateTimeFactory
) -> None:
    """Bookings and subscriptions change over two days; access follows exactly."""
    scenario.assert_exact_access()
    client = scenario.entry.runtime_data.spacebring.client
    member = scenario.member(0)
    email = member["user"]["email"]
    room = scenario.resource("meetingRoom")

    # A booking today 12:00-16:00 gives access 11:30-16:30.
    booking = await client.async_create_booking(
        room["id"], vienna(2, 12), vienna(2, 16), membership_id=member["id"]
    )
    await scenario.sync()
    scenario.assert_exact_access()
    assert scenario.openers_of(email, vienna(2, 11, 30), lock_group=ROOMS)
    assert not scenario.openers_of(email, vienna(2, 16, 30), lock_group=ROOMS)

    # Shortened to 12:00-13:00: the longer grant is revoked and replaced.
    scenario.state.update_booking(
        booking.id, scenario.sandbox.clock.now(), end=vienna(2, 13)
    )
    await scenario.sync()
    scenario.assert_exact_access()
    assert not scenario.openers_of(email, vienna(2, 14), lock_group=ROOMS)

    # Extended to 12:00-18:00.
    scenario.state.update_booking(
        booking.id, scenario.sandbox.clock.now(), end=vienna(2, 18)
    )
    await scenario.sync()
    scenario.assert_exact_access()
    assert scenario.openers_of(email, vienna(2, 18, 29), lock_group=ROOMS)

    # An invitee is added to the booking.
    guest = scenario.member(1)
    scenario.state.bookings[booking.id]["attendees"].append(
        {"membershipRef": guest["id"], "user": guest["user"]}
    )
    await scenario.sync()
    scenario.assert_exact_access()
    assert scenario.openers_of(guest["user"]["email"], vienna(2, 12), lock_group=ROOMS)

    # Cancelled: nobody keeps the booking's access.
    await client.async_cancel_booking(booking.id)
    await scenario.sync()
    scenario.assert_exact_access()

    # A subscription starting tomorrow gives access from 00:00 local.
    subscriber = scenario.member(2)
    plan = next(
        p
        for p in sorted(scenario.state.plans.values(), key=lambda p: p["title"])
        if (p.get("access") or {}).get("tapkeyGroupRef")
    )
    subscription = await client.async_create_subscription(
        vienna(3, 0),
        [NewSubscriptionItem(plan_id=plan["id"])],
        membership_id=subscriber["id"],
    )
    await scenario.sync()
    scenario.assert_exact_access()
    subscriber_email = subscriber["user"]["email"]
    assert not scenario.openers_of(subscriber_email, vienna(2, 23, 59))
    assert scenario.openers_of(subscriber_email, vienna(3, 0))

    # The next day: time passes, the subscription has started.
    freezer.move_to(vienna(3, 10))
    await scenario.sync()
    scenario.assert_exact_access()
    assert scenario.openers_of(subscriber_email, vienna(3, 10, 1))

    # Cancelled the same day: access ends now.
    await client.async_cancel_subscription(subscription.id)
    await scenario.sync()
    scenario.assert_exact_access()
    assert not scenario.openers_of(subscriber_email, vienna(3, 10, 5))


@pytest.mark.freeze_time(START, tick=True)
async def test_company_members_added_and_removed(scenario: Scenario) -> None:
    """A company subscription follows the company's member list."""
    state = scenario.state
    now = scenario.sandbox.clock.now()
    company_member = scenario.member(0, company=True)
    company_id = company_member["companyRef"]
    newcomer = scenario.member_without_access()
    email = newcomer["user"]["email"]
    client = scenario.entry.runtime_data.spacebring.client
    plan = next(
        p
        for p in sorted(state.plans.values(), key=lambda p: p["title"])
        if (p.get("access") or {}).get("tapkeyGroupRef")
    )
    await client.async_create_subscription(
        vienna(2, 0), [NewSubscriptionItem(plan_id=plan["id"])], company_id=company_id
    )
    await scenario.sync()
    scenario.assert_exact_access()
    assert not scenario.openers_of(email, now + timedelta(minutes=5))

    joined = membership_record(
        {
            "id": state.new_id(),
            "locationRef": scenario.entry.data["location_id"],
            "user": newcomer["user"],
            "companyRef": company_id,
            "status": "approved",
            "createDate": iso(now),
        }
    )
    state.memberships[joined["id"]] = joined
    await scenario.sync()
    scenario.assert_exact_access()
    assert scenario.openers_of(email, now + timedelta(minutes=5))

    joined["deleteDate"] = iso(scenario.sandbox.clock.now())
    await scenario.sync()
    scenario.assert_exact_access()
    assert not scenario.openers_of(email, now + timedelta(minutes=5))


@pytest.mark.freeze_time(START, tick=True)
async def test_reload_mid_way_loses_nothing(
    scenario: Scenario, freezer: FrozenDateTimeFactory
) -> None:
    """Unloading and reloading keeps the ledger: no duplicate, no lost grant."""
    hass = scenario.hass
    entry = scenario.entry
    client = entry.runtime_data.spacebring.client
    member = scenario.member(0)
    room = scenario.resource("meetingRoom")
    booking = await client.async_create_booking(
        room["id"], vienna(2, 14), vienna(2, 15), membership_id=member["id"]
    )
    await scenario.sync()
    ledger_before = set(entry.runtime_data.sync.ledger_store.ledger.grants)
    grants_before = len(tapkey_grants(scenario.sandbox))

    assert await hass.config_entries.async_unload(entry.entry_id)
    await client.async_cancel_booking(booking.id)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)

    assert entry.state is ConfigEntryState.LOADED
    await scenario.sync()
    scenario.assert_exact_access()
    ledger = entry.runtime_data.sync.ledger_store.ledger
    # The cancelled booking's grants were revoked after the reload.
    revoked = ledger_before - set(ledger.grants)
    assert revoked
    assert all(
        grant.state == "Revoked"
        for grant in tapkey_grants(scenario.sandbox)
        if grant.id in revoked
    )
    assert len(tapkey_grants(scenario.sandbox)) == grants_before


@pytest.mark.freeze_time(START, tick=True)
async def test_converges_under_injected_faults(scenario: Scenario) -> None:
    """With 20% of requests failing, retries converge and no revocation is lost."""
    client = scenario.entry.runtime_data.spacebring.client
    member = scenario.member(0)
    room = scenario.resource("meetingRoom")
    booking = await client.async_create_booking(
        room["id"], vienna(2, 12), vienna(2, 16), membership_id=member["id"]
    )
    await scenario.sync()
    scenario.assert_exact_access()

    scenario.sandbox.faults.fail_randomly(
        0.2,
        (
            FaultKind.SERVER_ERROR,
            FaultKind.UNAVAILABLE,
            FaultKind.BAD_GATEWAY,
            FaultKind.RATE_LIMITED,
            FaultKind.CONNECTION_RESET,
            FaultKind.MALFORMED_JSON,
        ),
    )
    # Revocations that fail outright (500 is not retried by the client).
    scenario.sandbox.faults.fail_next(
        FaultKind.SERVER_ERROR, route="/api/v1/Owners/*/Grants/*/Revoke", count=3
    )
    scenario.state.cancel_booking(booking.id, scenario.sandbox.clock.now())
    other = scenario.member(4)
    scenario.state.create_booking(
        {
            "resourceRef": room["id"],
            "startDate": iso(vienna(2, 17)),
            "endDate": iso(vienna(2, 18)),
            "membershipRefOwner": other["id"],
        },
        scenario.sandbox.clock.now(),
    )
    data = scenario.entry.runtime_data
    converged = False
    for _ in range(40):
        result = await scenario.sync()
        if result is not None and not result.actions and data.sync.status.failed == 0:
            converged = True
            break
        if not data.tapkey.last_update_success:
            await data.tapkey.async_refresh()
    assert converged
    assert sum(scenario.sandbox.faults.injected.values()) > 0

    scenario.sandbox.faults.clear()
    scenario.assert_exact_access()
    assert not data.sync.ledger_store.ledger.pending_revocations
