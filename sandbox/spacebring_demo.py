"""A deterministic demo coworking space in Spacebring, placed around "now".

"Demo Coworking Vienna" (Europe/Vienna) has plans with and without a Tapkey
group, rooms, desks, offices, parking and equipment, companies with members,
user and company subscriptions in every status, and bookings from a week ago
to three weeks ahead (with invitees, cancelled and tentative ones). A small
"Demo Coworking Annex" in the same network makes location filters matter.
The same seed, scale and clock give the same world.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
import random
from typing import Final
import uuid
from zoneinfo import ZoneInfo

from . import spacebring_records as records
from .spacebring_records import Record, iso
from .spacebring_state import SUBSCRIPTION_STATUSES, SpacebringState

TIMEZONE: Final = "Europe/Vienna"
MAIN_LOCATION_TITLE: Final = "Demo Coworking Vienna"
ANNEX_LOCATION_TITLE: Final = "Demo Coworking Annex"
_FIRST_NAMES: Final = (
    "Anna", "Lukas", "Sophie", "David", "Lena", "Felix", "Marie", "Jonas",
    "Laura", "Elias", "Hannah", "Paul", "Emma", "Tobias", "Julia", "Maximilian",
    "Clara", "Simon", "Nora", "Jakob", "Mia", "Leon", "Eva", "Niklas",
)  # fmt: skip
_SURNAMES: Final = (
    "Gruber", "Huber", "Wagner", "Bauer", "Pichler", "Steiner", "Moser", "Mayer",
    "Hofer", "Leitner", "Berger", "Fuchs", "Eder", "Fischer", "Schmid", "Winkler",
)  # fmt: skip
_COMPANIES: Final = (
    "Bluefin Studio", "Kahlenberg Analytics", "Donaukanal Design", "Semmering Labs",
    "Naschmarkt Media", "Augarten Legal", "Praterstern Robotics", "Alser Audio",
)  # fmt: skip
_DEMO_BOOKINGS: Final = 4  # the fixed showcase bookings of `_demo_bookings`
# Booking status mix of a busy space: mostly confirmed, some pending approval.
_STATUS_WEIGHTS: Final = (("confirmed", 80), ("tentative", 10), ("canceled", 10))


@dataclass(frozen=True, slots=True)
class Scale:
    """How big the demo world is."""

    label: str
    bookings: int  # at the main location
    members: int
    multiplier: int  # more rooms, offices, locks

    @classmethod
    def parse(cls, text: str) -> Scale:
        """`small`, `large` or a number of bookings."""
        if text == "small":
            return cls("small", bookings=60, members=24, multiplier=1)
        if text == "large":
            return cls("large", bookings=10_000, members=600, multiplier=4)
        try:
            bookings = int(text)
        except ValueError:
            raise ValueError(
                f"scale must be small, large or a number: {text}"
            ) from None
        if bookings < 0:
            raise ValueError("scale must not be negative")
        return cls(
            str(bookings),
            bookings=bookings,
            members=min(2000, max(12, bookings // 15)),
            multiplier=min(8, bookings // 2500 + 1),
        )


class _Builder:
    """Creates the records of one world; all randomness from one seeded rng."""

    def __init__(self, rng: random.Random, scale: Scale, now: datetime) -> None:
        self.rng = rng
        self.scale = scale
        self.now = now.astimezone(UTC)
        self.tz = ZoneInfo(TIMEZONE)
        self.today = self.now.astimezone(self.tz).date()
        self.network_id = self.uid()
        self.state = SpacebringState(
            network_id=self.network_id, id_source=random.Random(rng.getrandbits(64))
        )
        self.groups = {
            name: self.uid()
            for name in (
                "members 24/7",
                "business hours",
                "meeting rooms",
                "offices",
                "parking",
                "annex",
            )
        }

    def uid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def local(self, day: date, hour: int, minute: int = 0) -> datetime:
        """A wall-clock time in Vienna, as UTC."""
        return datetime.combine(day, time(hour, minute), self.tz).astimezone(UTC)

    def created(self, before: datetime, max_days: int = 30) -> str:
        """A creation date before `before` and never in the future."""
        moment = min(before, self.now) - timedelta(
            minutes=self.rng.randint(60, max_days * 24 * 60)
        )
        return iso(moment)

    # --- catalogue ------------------------------------------------------------

    def location(self, title: str) -> str:
        location_id = self.uid()
        self.state.locations[location_id] = records.location(
            {
                "id": location_id,
                "title": title,
                "networkRef": self.network_id,
                "timezoneId": TIMEZONE,
                "address": "Mariahilfer Strasse 1, 1060 Wien",
                "email": "hello@demo-coworking.example",
                "createDate": iso(self.now - timedelta(days=900)),
            }
        )
        return location_id

    def plan(
        self, location_id: str, title: str, group: str | None, price: int
    ) -> Record:
        plan: Record = {
            "id": self.uid(),
            "title": title,
            "locationRef": location_id,
            "createDate": iso(self.now - timedelta(days=400)),
            "price": price,
        }
        if group is not None:
            plan["access"] = {"tapkeyGroupRef": self.groups[group]}
        built = records.plan(plan)
        self.state.plans[built["id"]] = built
        return built

    def resource(
        self,
        location_id: str,
        title: str,
        kind: str,
        group: str | None,
        capacity: int = 1,
    ) -> Record:
        built = records.resource(
            {
                "id": self.uid(),
                "title": title,
                "type": kind,
                "locationRef": location_id,
                "networkRef": self.network_id,
                "createDate": iso(self.now - timedelta(days=380)),
                "capacity": capacity,
                "tapkeyGroupRef": self.groups[group] if group else None,
            }
        )
        self.state.resources[built["id"]] = built
        return built

    # --- community --------------------------------------------------------------

    def users(self, count: int) -> list[Record]:
        users = []
        for n in range(count):
            first = _FIRST_NAMES[n % len(_FIRST_NAMES)]
            last = _SURNAMES[(n // len(_FIRST_NAMES) + n) % len(_SURNAMES)]
            suffix = "" if n < len(_FIRST_NAMES) else str(n // len(_FIRST_NAMES))
            email = f"{first}.{last}{suffix}@members.example".lower()
            if n % 7 == 3:  # members type their address as they like
                email = f"{first}.{last}{suffix}@Members.example"
            user: Record = {"id": self.uid(), "name": first, "surname": last}
            if n != 5:  # one member never gave an e-mail address
                user["email"] = email
            users.append(user)
        return users

    def company(self, location_id: str, title: str) -> Record:
        built = records.company(
            {
                "id": self.uid(),
                "title": title,
                "legalName": f"{title} GmbH",
                "locationRef": location_id,
                "createDate": iso(self.now - timedelta(days=self.rng.randint(60, 700))),
            }
        )
        self.state.companies[built["id"]] = built
        return built

    def membership(
        self,
        location_id: str,
        user: Record,
        company: Record | None = None,
        status: str = "approved",
    ) -> Record:
        given: Record = {
            "id": self.uid(),
            "locationRef": location_id,
            "user": records.person(user),
            "status": status,
            "createDate": iso(self.now - timedelta(days=self.rng.randint(10, 700))),
        }
        if company is not None:
            given["companyRef"] = company["id"]
        built = records.membership(given)
        self.state.memberships[built["id"]] = built
        return built

    # --- subscriptions ----------------------------------------------------------

    def subscription(
        self,
        status: str,
        location_id: str,
        plan: Record,
        *,
        customer: Record,
        office: Record | None = None,
        group_override: str | None = None,
    ) -> Record:
        start_day, end_day, deleted = self._period(status)
        start = self.local(start_day, 0)
        plan_group = plan.get("access", {}).get("tapkeyGroupRef")
        items: list[Record] = [
            {
                "id": self.uid(),
                "title": plan["title"],
                "planRef": plan["id"],
                "plan": {"id": plan["id"], "title": plan["title"]},
                "price": plan["price"],
                # Spacebring copies the plan's group into the item; an operator
                # may then change it on the item alone.
                "tapkeyGroupRef": self.groups[group_override]
                if group_override
                else plan_group,
            }
        ]
        if office is not None:
            items.append(
                {
                    "id": self.uid(),
                    "title": office["title"],
                    "resourceRef": office["id"],
                    "resource": {
                        "id": office["id"],
                        "title": office["title"],
                        "type": office["type"],
                    },
                    "entire": True,
                    "price": 900,
                    "tapkeyGroupRef": office.get("tapkeyGroupRef"),
                }
            )
        given: Record = {
            "id": self.uid(),
            "status": status,
            "locationRef": location_id,
            "networkRef": self.network_id,
            "timezoneId": TIMEZONE,
            "startDate": iso(start),
            "createDate": self.created(start, max_days=20),
            "price": sum(item["price"] for item in items),
            "items": items,
            **customer,
        }
        if end_day is not None:
            given["endDate"] = iso(self.local(end_day, 0))
        if deleted is not None:
            given["deleteDate"] = iso(deleted)
        built = records.subscription(given)
        self.state.subscriptions[built["id"]] = built
        return built

    def _period(self, status: str) -> tuple[date, date | None, datetime | None]:
        """Start day, end day (exclusive) and cancellation time for a status."""
        rng, today = self.rng, self.today
        match status:
            case "scheduled":
                start = today + timedelta(days=rng.randint(2, 20))
                return start, start + timedelta(days=rng.choice((30, 90, 365))), None
            case "canceled":
                start = today - timedelta(days=rng.randint(40, 200))
                end = today - timedelta(days=rng.randint(1, 30))
                return start, end, self.local(end, 9)
            case "incomplete" | "incompleteExpired":
                return today + timedelta(days=rng.randint(-3, 3)), None, None
            case _:
                start = today - timedelta(days=rng.randint(0, 300))
                until = (
                    today + timedelta(days=rng.randint(5, 60))
                    if rng.random() < 0.3
                    else None
                )
                return start, until, None

    # --- bookings -----------------------------------------------------------------

    def booking(
        self,
        resource: Record,
        owner: Record,
        start: datetime,
        end: datetime,
        *,
        status: str,
        attendees: Sequence[Record] = (),
        title: str | None = None,
    ) -> Record:
        created = self.created(start, max_days=14)
        given: Record = {
            "id": self.uid(),
            "resourceRef": resource["id"],
            "startDate": iso(start),
            "endDate": iso(end),
            "createDate": created,
            "updateDate": created,
            "membershipRefOwner": owner["id"],
            "userOwner": records.person(owner["user"]),
            "attendees": [
                {"membershipRef": guest["id"], "user": records.person(guest["user"])}
                for guest in attendees
            ],
            "entire": resource["type"]
            in {"room", "meetingRoom", "conferenceRoom", "office"},
            "seats": 1,
        }
        if title:
            given["title"] = title
        if status == "canceled":
            given["deleteDate"] = iso(min(start, self.now) - timedelta(hours=2))
        built = records.booking(given)
        self.state.add_booking(built, status)
        return built

    def random_booking(self, resources: list[Record], members: list[Record]) -> Record:
        rng = self.rng
        resource = rng.choice(resources)
        kind = resource["type"]
        day = self.today + timedelta(days=rng.randint(-7, 21))
        if kind in {"hotDesk", "dedicatedDesk", "parkingLot", "office"}:
            start = self.local(day, rng.choice((8, 9)))
            end = self.local(day, rng.choice((17, 18)))
        else:
            start_minutes = rng.randrange(8 * 60, 18 * 60, 30)
            start = self.local(day, start_minutes // 60, start_minutes % 60)
            end = start + timedelta(minutes=rng.choice((30, 60, 90, 120, 180, 240)))
        owner = rng.choice(members)
        guests: list[Record] = []
        if kind in {"room", "meetingRoom", "conferenceRoom"} and rng.random() < 0.6:
            others = [
                m for m in rng.sample(members, min(4, len(members))) if m is not owner
            ]
            guests = others[: rng.randint(1, 3)]
        status = rng.choices(
            [name for name, _ in _STATUS_WEIGHTS],
            [weight for _, weight in _STATUS_WEIGHTS],
        )[0]
        return self.booking(
            resource, owner, start, end, status=status, attendees=guests
        )


def generate_spacebring(
    rng: random.Random, scale: Scale, now: datetime
) -> tuple[SpacebringState, list[str]]:
    """The demo Spacebring network and the members' e-mails (for Tapkey)."""
    build = _Builder(rng, scale, now)
    main = build.location(MAIN_LOCATION_TITLE)
    annex = build.location(ANNEX_LOCATION_TITLE)
    m = scale.multiplier

    plans = {
        "hot desk": build.plan(
            main, "Hot Desk (business hours)", "business hours", 190
        ),
        "flex 24/7": build.plan(main, "Flex Desk 24/7", "members 24/7", 260),
        "dedicated": build.plan(main, "Dedicated Desk", "members 24/7", 340),
        "office": build.plan(main, "Private Office", "offices", 900),
        "community": build.plan(main, "Community Membership", None, 49),
        "parking": build.plan(main, "Parking Monthly", "parking", 120),
        "annex": build.plan(annex, "Annex Flex", "annex", 150),
    }
    build.plan(annex, "Annex Community", None, 29)

    rooms = [
        build.resource(main, "Meeting Room Danube", "room", "meeting rooms", 8),
        build.resource(main, "Meeting Room Prater", "meetingRoom", "meeting rooms", 6),
        build.resource(
            main, "Conference Hall Belvedere", "conferenceRoom", "meeting rooms", 30
        ),
        build.resource(main, "Phone Booth", "phoneBooth", None),
    ] + [
        build.resource(main, f"Meeting Room {n}", "room", "meeting rooms", 4)
        for n in range(1, m)
    ]
    desks = [build.resource(main, "Hot Desk Area", "hotDesk", "business hours", 24)] + [
        build.resource(main, f"Dedicated Desk D{n}", "dedicatedDesk", "members 24/7")
        for n in range(1, 2 + 2 * m)
    ]
    offices = [
        build.resource(main, f"Office 1.{n:02d}", "office", "offices", 4)
        for n in range(1, 2 + 2 * m)
    ]
    parking = [
        build.resource(main, f"Parking Space P{n}", "parkingLot", "parking")
        for n in range(1, 2 + m)
    ]
    equipment = [
        build.resource(main, "Projector", "equipment", None),
        build.resource(main, "Camera Kit", "equipment", None),
    ]
    annex_resources = [
        build.resource(annex, "Annex Meeting Room", "room", "annex", 6),
        build.resource(annex, "Annex Hot Desks", "hotDesk", "annex", 10),
    ]

    users = build.users(scale.members)
    company_count = max(len(SUBSCRIPTION_STATUSES), scale.members // 6)
    companies = [
        build.company(
            main, _COMPANIES[n % len(_COMPANIES)] + ("" if n < 8 else f" {n // 8}")
        )
        for n in range(company_count)
    ]
    members: list[Record] = []
    company_members: dict[str, list[Record]] = {c["id"]: [] for c in companies}
    for n, user in enumerate(users):
        company = companies[n % company_count] if n % 3 == 0 else None
        member = build.membership(main, user, company)
        members.append(member)
        if company is not None:
            company_members[company["id"]].append(member)
    # Someone asked to join and is not approved yet.
    build.membership(
        main,
        {
            "id": build.uid(),
            "name": "Pending",
            "surname": "Applicant",
            "email": "pending.applicant@members.example",
        },
        status="requested",
    )
    annex_members = [
        build.membership(annex, user) for user in users[: max(4, len(users) // 8)]
    ]

    statuses = list(SUBSCRIPTION_STATUSES)
    user_plans = [
        plans["hot desk"],
        plans["flex 24/7"],
        plans["dedicated"],
        plans["community"],
    ]
    independent = [member for member in members if "companyRef" not in member]
    for n, member in enumerate(independent):
        if n >= len(statuses) and n % 5 == 4:
            continue  # pays per booking, no subscription
        status = statuses[n] if n < len(statuses) else "active"
        build.subscription(
            status,
            main,
            user_plans[n % len(user_plans)],
            customer=records.member_customer(member),
            group_override="members 24/7" if n % 11 == 6 else None,
        )
    parked = independent[1 : 1 + max(1, len(independent) // 10)]
    for member in parked:
        build.subscription(
            "active", main, plans["parking"], customer=records.member_customer(member)
        )
    for n, company in enumerate(companies):
        status = statuses[n] if n < len(statuses) else "active"
        build.subscription(
            status,
            main,
            plans["office"],
            customer=records.company_customer(company),
            office=offices[n % len(offices)],
        )
    for member in annex_members[:2]:
        build.subscription(
            "active", annex, plans["annex"], customer=records.member_customer(member)
        )

    bookable = rooms + desks + offices + parking + equipment
    if scale.bookings >= _DEMO_BOOKINGS:
        _demo_bookings(build, rooms, desks, members)
    for _ in range(scale.bookings - len(build.state.bookings)):
        build.random_booking(bookable, members)
    for _ in range(max(3, scale.bookings // 20)):
        build.random_booking(annex_resources, annex_members)
    emails = [user["email"] for user in users if "email" in user]
    return build.state, emails


def _demo_bookings(
    build: _Builder, rooms: list[Record], desks: list[Record], members: list[Record]
) -> None:
    """A few bookings every demo shows: now, soon, cancelled, no e-mail."""
    now = build.now.replace(minute=0, second=0, microsecond=0)
    hour = timedelta(hours=1)
    host, guest_a, guest_b = members[0], members[1], members[2]
    no_email = next(m for m in members if "email" not in m["user"])
    build.booking(
        rooms[0],
        host,
        now - hour,
        now + 2 * hour,
        status="confirmed",
        attendees=[guest_a, guest_b],
        title="Team stand-up and planning",
    )
    build.booking(
        rooms[1],
        guest_a,
        now + 2 * hour,
        now + 3 * hour,
        status="tentative",
        attendees=[host],
        title="Client call (awaiting approval)",
    )
    build.booking(
        rooms[0],
        guest_b,
        now + 4 * hour,
        now + 5 * hour,
        status="canceled",
        title="Cancelled workshop",
    )
    build.booking(desks[0], no_email, now - hour, now + 6 * hour, status="confirmed")
