"""The sandbox's Tapkey world: generation, the world file and Tapkey's rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import random

import pytest

from custom_components.spacebring_tapkey.const import DOMAIN
from sandbox.tapkey import TapkeyRequestError, TapkeyState
from sandbox.tapkey_generate import (
    ANNEX_OWNER_NAME,
    CLEANING_EMAIL,
    DEMO_OWNER_NAME,
    FACILITY_EMAIL,
)
from sandbox.tapkey_records import OwnerAccount

__all__ = ["DOMAIN"]

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
MEMBERS = [f"member{n:02d}@example.com" for n in range(40)]
ICAL = "\r\n".join(
    (
        "BEGIN:VCALENDAR",
        "BEGIN:VEVENT",
        "DTSTART:20250303T080000Z",
        "DTEND:20250303T180000Z",
        "RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
        "END:VEVENT",
        "END:VCALENDAR",
    )
)

TWO_EVENTS = ICAL.replace("END:VEVENT", "END:VEVENT\r\nBEGIN:VEVENT\r\nEND:VEVENT")


def _world(seed: int = 7, scale: int = 1) -> TapkeyState:
    return TapkeyState.generate(
        random.Random(seed), member_emails=MEMBERS, scale=scale, now=NOW
    )


def _demo(state: TapkeyState) -> OwnerAccount:
    return state.owner_named(DEMO_OWNER_NAME)


def _lock(owner: OwnerAccount, title: str) -> str:
    return next(lock.id for lock in owner.locks.values() if lock.title == title)


def _contact(state: TapkeyState, identifier: str) -> str:
    contact = state.find_contact(_demo(state), "tapkey", identifier)
    assert contact is not None
    return contact.id


# --- generation -----------------------------------------------------------------


def test_one_seed_always_makes_the_same_world() -> None:
    assert _world(seed=7).to_world() == _world(seed=7).to_world()
    assert _world(seed=7).to_world() != _world(seed=8).to_world()


def test_the_demo_space_has_the_doors_a_coworking_space_books() -> None:
    owner = _demo(_world())

    titles = [lock.title for lock in owner.locks.values()]
    assert titles[:3] == ["Front door", "Parking gate", "Equipment locker"]
    assert [t for t in titles if t.startswith("Room")] == [
        "Room 1",
        "Room 2",
        "Room 3",
        "Room 4",
    ]
    assert [t for t in titles if t.startswith("Office")] == [
        "Office 1",
        "Office 2",
        "Office 3",
    ]
    assert [g.title for g in owner.lock_groups.values()] == [
        "All doors",
        "Entrance",
        "Meeting rooms",
        "Offices",
    ]


def test_a_larger_scale_adds_rooms_and_offices() -> None:
    small, large = _demo(_world(scale=1)), _demo(_world(scale=4))

    assert len(large.locks) - len(small.locks) == 12


def test_scale_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="scale"):
        _world(scale=0)


def test_a_second_locking_system_exists_to_choose_from() -> None:
    annex = _world().owner_named(ANNEX_OWNER_NAME)

    assert [lock.title for lock in annex.locks.values()] == [
        "Front door",
        "Room A",
        "Room B",
    ]
    assert annex.grants == {}


def test_staff_have_permanent_grants_made_by_hand() -> None:
    state = _world()
    owner = _demo(state)
    cleaning = _contact(state, CLEANING_EMAIL)
    facility = _contact(state, FACILITY_EMAIL)

    [crew] = [g for g in owner.grants.values() if g.contact_id == cleaning]
    [manager] = [g for g in owner.grants.values() if g.contact_id == facility]

    assert crew.bound_lock_id == _lock(owner, "Front door")
    assert crew.valid_before is None
    assert crew.time_restriction_ical is not None
    assert "RRULE:FREQ=WEEKLY" in crew.time_restriction_ical
    assert owner.lock_groups[manager.bound_lock_id].title == "All doors"


def test_a_quarter_of_the_members_were_tapkey_contacts_before() -> None:
    owner = _demo(_world())

    recased = [c for c in owner.contacts.values() if c.identifier.endswith(".COM")]
    earlier = [
        c for c in owner.contacts.values() if c.identifier.lower().endswith(".com")
    ]
    assert len(earlier) == len(MEMBERS) // 4
    assert recased  # some typed their e-mail in another letter case
    assert {c.identifier.lower() for c in earlier} <= set(MEMBERS)


def test_hand_made_grants_include_expired_revoked_and_current_ones() -> None:
    owner = _demo(_world())

    states = [(g.state, g.valid_before) for g in owner.grants.values()]

    assert ("Revoked", NOW.replace(hour=0) + timedelta(days=300)) in states
    assert any(end is not None and end < NOW for _, end in states)
    assert any(state == "Ok" and end is not None and end > NOW for state, end in states)


def test_log_entries_show_the_crew_opening_the_front_door() -> None:
    state = _world()
    owner = _demo(state)

    assert [e.entry_no for e in owner.log_entries] == [1, 2, 3]
    assert {e.contact_id for e in owner.log_entries} == {
        _contact(state, CLEANING_EMAIL)
    }
    assert all(e.lock_timestamp < NOW for e in owner.log_entries)


# --- world file -------------------------------------------------------------------


def test_the_world_file_round_trips() -> None:
    state = _world()

    assert TapkeyState.from_world(state.to_world()).to_world() == state.to_world()


def test_the_world_file_uses_tapkeys_api_shapes() -> None:
    [owner, _] = _world().to_world()["owners"]

    assert owner["name"] == DEMO_OWNER_NAME
    assert owner["boundLocks"][0]["targetType"] == "Lock"
    assert owner["boundLocks"][0]["supportedFeatures"] == {
        "timeRestrictionIcalSupport": "Supported"
    }
    assert owner["lockGroups"][0]["targetType"] == "Group"
    grant = owner["grants"][0]
    assert grant["validFrom"].endswith("Z")
    assert grant["contact"]["identifier"] == CLEANING_EMAIL
    assert grant["boundLock"]["title"] == "Front door"


def test_a_hand_written_world_needs_only_the_essentials() -> None:
    state = TapkeyState.from_world(
        {
            "owners": [
                {
                    "id": "o-1",
                    "name": "Tiny Space",
                    "contactLimit": 1,
                    "boundLocks": [{"id": "l-1", "title": "Door"}],
                    "lockGroups": [
                        {"id": "g-1", "title": "Everything", "boundLockIds": ["l-1"]}
                    ],
                    "contacts": [{"id": "c-1", "email": "ana@example.com"}],
                    "grants": [
                        {
                            "id": "gr-1",
                            "contactId": "c-1",
                            "boundLockId": "g-1",
                            "validFrom": "2025-03-01T00:00:00+01:00",
                        }
                    ],
                    "logEntries": [
                        {
                            "id": "e-1",
                            "entryNo": 1,
                            "boundLockId": "l-1",
                            "lockTimestamp": "2025-03-01T06:00:00Z",
                        }
                    ],
                }
            ]
        }
    )

    owner = state.owner("o-1")
    assert owner.locks["l-1"].supports_time_restriction
    assert owner.contacts["c-1"].identifier == "ana@example.com"
    assert owner.grants["gr-1"].valid_from == datetime(2025, 2, 28, 23, 0, tzinfo=UTC)
    assert owner.log_entries[0].received_at == owner.log_entries[0].lock_timestamp
    with pytest.raises(TapkeyRequestError) as caught:
        state.create_contact("o-1", identifier="ben@example.com")
    assert caught.value.status == 402


def test_a_log_entry_without_lock_time_is_refused() -> None:
    with pytest.raises(ValueError, match="lockTimestamp"):
        OwnerAccount.from_world(
            {
                "id": "o",
                "name": "n",
                "logEntries": [
                    {"id": "e", "entryNo": 1, "boundLockId": "l", "lockTimestamp": None}
                ],
            }
        )


@pytest.mark.parametrize("value", [20250301, "2025-03-01T00:00:00"])
def test_world_times_must_be_strings_with_an_offset(value: object) -> None:
    with pytest.raises((TypeError, ValueError)):
        OwnerAccount.from_world(
            {
                "id": "o",
                "name": "n",
                "grants": [
                    {
                        "id": "g",
                        "contactId": "c",
                        "boundLockId": "l",
                        "validFrom": value,
                    }
                ],
            }
        )


# --- Tapkey's rules ---------------------------------------------------------------


def test_contact_identity_ignores_letter_case() -> None:
    state = _world()

    with pytest.raises(TapkeyRequestError) as caught:
        state.create_contact(_demo(state).id, identifier=CLEANING_EMAIL.upper())

    assert (caught.value.status, caught.value.error_code) == (409, "Duplicate")


@pytest.mark.parametrize(
    "identifier", ["not-an-email", "ana@localhost", "ana @example.com"]
)
def test_a_tapkey_contact_needs_an_email_identifier(identifier: str) -> None:
    state = _world()

    with pytest.raises(TapkeyRequestError) as caught:
        state.create_contact(_demo(state).id, identifier=identifier)

    assert caught.value.status == 400


def test_other_identity_providers_take_any_identifier() -> None:
    state = _world()

    contact = state.create_contact(
        _demo(state).id, identifier="employee-4711", ip_id="corporate"
    )

    assert contact.ip_id == "corporate"


def test_the_contact_limit_applies_to_one_or_every_locking_system() -> None:
    state = _world()
    annex = state.owner_named(ANNEX_OWNER_NAME)

    state.set_contact_limit(0, owner_id=annex.id)
    state.create_contact(_demo(state).id, identifier="ana@example.com")
    with pytest.raises(TapkeyRequestError):
        state.create_contact(annex.id, identifier="ana@example.com")
    state.set_contact_limit(None)
    state.create_contact(annex.id, identifier="ana@example.com")
    with pytest.raises(ValueError, match="negative"):
        state.set_contact_limit(-1)


def test_a_grant_for_a_new_identity_creates_the_contact() -> None:
    state = _world()
    owner = _demo(state)

    grant = state.create_grant(
        owner.id,
        contact_identity=("tapkey", "new@example.com"),
        bound_lock_id=_lock(owner, "Room 1"),
        valid_from=NOW,
        valid_before=NOW + timedelta(hours=2),
    )

    assert owner.contacts[grant.contact_id].identifier == "new@example.com"


def test_a_grant_for_a_known_identity_reuses_the_contact() -> None:
    state = _world()
    owner = _demo(state)

    grant = state.create_grant(
        owner.id,
        contact_identity=("tapkey", FACILITY_EMAIL.upper()),
        bound_lock_id=_lock(owner, "Room 1"),
        valid_from=NOW,
        valid_before=None,
    )

    assert grant.contact_id == _contact(state, FACILITY_EMAIL)


@pytest.mark.parametrize(
    ("changes", "status", "error_code"),
    [
        ({"bound_lock_id": "nowhere"}, 404, "NotFound"),
        ({"contact_id": "nobody"}, 404, "NotFound"),
        ({"contact_id": None}, 400, "BadRequest"),
        ({"valid_before": NOW}, 400, "InvalidTimeRange"),
        ({"time_restriction_ical": "RRULE:FREQ=DAILY"}, 400, "InvalidTimeRestriction"),
        ({"time_restriction_ical": TWO_EVENTS}, 400, "InvalidTimeRestriction"),
    ],
)
def test_invalid_grants_are_refused(
    changes: dict[str, object], status: int, error_code: str
) -> None:
    state = _world()
    owner = _demo(state)
    request: dict[str, object] = {
        "contact_id": _contact(state, CLEANING_EMAIL),
        "bound_lock_id": _lock(owner, "Room 1"),
        "valid_from": NOW,
        "valid_before": NOW + timedelta(hours=1),
        **changes,
    }

    with pytest.raises(TapkeyRequestError) as caught:
        state.create_grant(owner.id, **request)  # type: ignore[arg-type]

    assert (caught.value.status, caught.value.error_code) == (status, error_code)


def test_a_weekly_schedule_needs_a_lock_that_supports_it() -> None:
    state = _world()
    owner = _demo(state)
    cleaning = _contact(state, CLEANING_EMAIL)

    state.create_grant(
        owner.id,
        contact_id=cleaning,
        bound_lock_id=next(iter(owner.lock_groups)),
        valid_from=NOW,
        valid_before=None,
        time_restriction_ical=ICAL,
    )
    with pytest.raises(TapkeyRequestError) as caught:
        state.create_grant(
            owner.id,
            contact_id=cleaning,
            bound_lock_id=_lock(owner, "Parking gate"),
            valid_from=NOW,
            valid_before=None,
            time_restriction_ical=ICAL,
        )

    assert caught.value.error_code == "TimeRestrictionNotSupported"


def test_revoking_keeps_the_grant_and_a_dry_run_changes_nothing() -> None:
    state = _world()
    owner = _demo(state)
    grant_id = next(g.id for g in owner.grants.values() if g.state == "Ok")

    state.revoke_grant(owner.id, grant_id, dry_run=True)
    assert owner.grants[grant_id].state == "Ok"
    state.revoke_grant(owner.id, grant_id)
    state.revoke_grant(owner.id, grant_id)

    assert owner.grants[grant_id].state == "Revoked"
    assert owner.grants[grant_id].active is False


def test_revoking_a_contacts_grants_touches_only_that_contact() -> None:
    state = _world()
    owner = _demo(state)
    cleaning = _contact(state, CLEANING_EMAIL)
    others_before = {
        g.id: g.state for g in owner.grants.values() if g.contact_id != cleaning
    }

    revoked = state.revoke_contact_grants(owner.id, cleaning)

    assert [g.contact_id for g in revoked] == [cleaning]
    assert {
        g.id: g.state for g in owner.grants.values() if g.contact_id != cleaning
    } == others_before


def test_unknown_records_are_not_found() -> None:
    state = _world()
    owner = _demo(state)

    for attempt in (
        lambda: state.owner("nowhere"),
        lambda: state.revoke_grant(owner.id, "nothing"),
        lambda: state.revoke_contact_grants(owner.id, "nobody"),
    ):
        with pytest.raises(TapkeyRequestError) as caught:
            attempt()
        assert caught.value.status == 404
    with pytest.raises(KeyError):
        state.owner_named("Elsewhere")
