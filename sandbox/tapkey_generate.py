"""A deterministic demo Tapkey world: two locking systems of a coworking space.

"Demo Coworking" has the doors the Spacebring demo space books (front door,
meeting rooms, offices, parking gate, an equipment locker) and lock groups
over them. Some contacts and grants exist already, made by the operator by
hand: staff with permanent access, members who used Tapkey before (some with
e-mails in another letter case), an expired and a revoked grant. The
integration must never change those, and tests check that it does not.
"Demo Coworking Annex" is a second, small locking system to choose from.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
import random
from typing import Final
import uuid

from .tapkey_records import (
    TIME_RESTRICTION_NOT_SUPPORTED,
    BoundLock,
    Contact,
    Grant,
    LockGroup,
    LogEntry,
    OwnerAccount,
)

DEMO_OWNER_NAME: Final = "Demo Coworking"
ANNEX_OWNER_NAME: Final = "Demo Coworking Annex"
CLEANING_EMAIL: Final = "cleaning@demo-coworking.example"
FACILITY_EMAIL: Final = "facility@demo-coworking.example"
# Weekdays 06:00-08:00 UTC: when the cleaning crew may enter.
CLEANING_SCHEDULE: Final = "\r\n".join(
    (
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Demo Coworking//Front desk//EN",
        "BEGIN:VEVENT",
        "UID:cleaning-crew@demo-coworking.example",
        "DTSTART:20250106T060000Z",
        "DTEND:20250106T080000Z",
        "RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
        "END:VEVENT",
        "END:VCALENDAR",
    )
)
_MAX_NUMBERED_LOCKS: Final = 40


class _Ids:
    """Seeded ids, so one seed always yields the same world."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng

    def new(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def physical(self) -> str:
        return f"C1-{self._rng.getrandbits(32):08X}"


def _lock(ids: _Ids, title: str, description: str, *, relay: bool = False) -> BoundLock:
    if relay:  # a gate on a relay box: no weekly schedules on the lock
        return BoundLock(
            id=ids.new(),
            title=title,
            description=description,
            lock_type_id="tapkey.relay.gate",
            physical_lock_id=ids.physical(),
            time_restriction_support=TIME_RESTRICTION_NOT_SUPPORTED,
        )
    return BoundLock(
        id=ids.new(),
        title=title,
        description=description,
        physical_lock_id=ids.physical(),
    )


def _add_locks(owner: OwnerAccount, locks: Sequence[BoundLock]) -> None:
    for lock in locks:
        owner.locks[lock.id] = lock


def _add_group(
    owner: OwnerAccount, ids: _Ids, title: str, locks: Sequence[BoundLock]
) -> LockGroup:
    group = LockGroup(
        id=ids.new(), title=title, bound_lock_ids=[lock.id for lock in locks]
    )
    owner.lock_groups[group.id] = group
    return group


def _add_contact(
    owner: OwnerAccount, ids: _Ids, identifier: str, title: str
) -> Contact:
    contact = Contact(id=ids.new(), identifier=identifier, title=title)
    owner.contacts[contact.id] = contact
    return contact


def _add_grant(
    owner: OwnerAccount,
    ids: _Ids,
    contact: Contact,
    target_id: str,
    *,
    valid_from: datetime | None,
    valid_before: datetime | None,
    ical: str | None = None,
    state: str = "Ok",
) -> Grant:
    grant = Grant(
        id=ids.new(),
        contact_id=contact.id,
        bound_lock_id=target_id,
        valid_from=valid_from,
        valid_before=valid_before,
        time_restriction_ical=ical,
        state=state,
    )
    owner.grants[grant.id] = grant
    return grant


def _as_earlier_user(email: str, index: int) -> str:
    """How a member once typed their e-mail into Tapkey (case differs at times)."""
    if index % 2 == 0:
        return email
    local, _, domain = email.partition("@")
    return f"{local[:1].upper()}{local[1:]}@{domain.upper()}"


def _demo_owner(
    ids: _Ids,
    rng: random.Random,
    member_emails: Sequence[str],
    scale: int,
    today: datetime,
) -> OwnerAccount:
    owner = OwnerAccount(id=ids.new(), name=DEMO_OWNER_NAME)
    front = _lock(ids, "Front door", "Main entrance, ground floor")
    parking = _lock(ids, "Parking gate", "Underground car park", relay=True)
    locker = _lock(ids, "Equipment locker", "Projectors and cameras")
    rooms = [
        _lock(ids, f"Room {n}", f"Meeting room {n}")
        for n in range(1, min(2 + 2 * scale, _MAX_NUMBERED_LOCKS) + 1)
    ]
    offices = [
        _lock(ids, f"Office {n}", f"Private office {n}")
        for n in range(1, min(1 + 2 * scale, _MAX_NUMBERED_LOCKS) + 1)
    ]
    everything = [front, parking, locker, *rooms, *offices]
    _add_locks(owner, everything)
    all_doors = _add_group(owner, ids, "All doors", everything)
    _add_group(owner, ids, "Entrance", [front, parking])
    _add_group(owner, ids, "Meeting rooms", rooms)
    _add_group(owner, ids, "Offices", offices)

    cleaning = _add_contact(owner, ids, CLEANING_EMAIL, "Cleaning crew")
    facility = _add_contact(owner, ids, FACILITY_EMAIL, "Facility manager")
    _add_grant(
        owner,
        ids,
        cleaning,
        front.id,
        valid_from=today - timedelta(days=180),
        valid_before=None,
        ical=CLEANING_SCHEDULE,
    )
    _add_grant(
        owner,
        ids,
        facility,
        all_doors.id,
        valid_from=today - timedelta(days=365),
        valid_before=None,
    )

    # About a quarter of the members used Tapkey before the integration.
    earlier = sorted(rng.sample(range(len(member_emails)), len(member_emails) // 4))
    members = [
        _add_contact(owner, ids, _as_earlier_user(member_emails[i], n), "")
        for n, i in enumerate(earlier)
    ]
    if members:
        _add_grant(
            owner,
            ids,
            members[0],
            rooms[0].id,
            valid_from=today - timedelta(days=30),
            valid_before=today - timedelta(days=29),
        )
        _add_grant(
            owner,
            ids,
            members[0],
            offices[0].id,
            valid_from=today - timedelta(days=60),
            valid_before=today + timedelta(days=300),
            state="Revoked",
        )
    if len(members) > 1:
        _add_grant(
            owner,
            ids,
            members[1],
            offices[-1].id,
            valid_from=today - timedelta(days=7),
            valid_before=today + timedelta(days=60),
        )

    # The crew opened the front door on each of the last three mornings.
    for days_ago in (3, 2, 1):
        opened = today - timedelta(days=days_ago, hours=-6, minutes=-rng.randrange(60))
        owner.log_entries.append(
            LogEntry(
                id=ids.new(),
                entry_no=len(owner.log_entries) + 1,
                bound_lock_id=front.id,
                contact_id=cleaning.id,
                lock_timestamp=opened,
                received_at=opened + timedelta(seconds=rng.randrange(2, 30)),
            )
        )
    return owner


def _annex_owner(ids: _Ids) -> OwnerAccount:
    owner = OwnerAccount(id=ids.new(), name=ANNEX_OWNER_NAME)
    locks = [
        _lock(ids, "Front door", "Annex entrance"),
        _lock(ids, "Room A", "Annex meeting room A"),
        _lock(ids, "Room B", "Annex meeting room B"),
    ]
    _add_locks(owner, locks)
    _add_group(owner, ids, "Annex doors", locks)
    return owner


def generate_owners(
    rng: random.Random,
    *,
    member_emails: Sequence[str],
    scale: int,
    now: datetime,
) -> list[OwnerAccount]:
    """The demo locking systems; `scale` (>= 1) multiplies rooms and offices."""
    if scale < 1:
        raise ValueError("scale must be at least 1")
    ids = _Ids(rng)
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return [
        _demo_owner(ids, rng, member_emails, scale, today),
        _annex_owner(ids),
    ]
