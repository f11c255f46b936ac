"""Spacebring records in the API's own shape, with every required field.

The demo generator, a hand-written `--world` file and the POST endpoints all
go through these builders: the caller gives the fields that matter (ids,
titles, dates, access groups) and the builder fills the fields Spacebring
always sends with neutral values, so every served record validates against
the published OpenAPI document.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final

type Record = dict[str, Any]

_ZERO_DISCOUNTS: Final = {
    "creditPackages": 0,
    "desks": 0,
    "equipment": 0,
    "events": 0,
    "rooms": 0,
    "shop": 0,
}
_NO_TAX: Final = {"enabled": False, "rate": 0}
_PERSON_FIELDS: Final = ("id", "email", "name", "surname")


def iso(moment: datetime) -> str:
    """Spacebring's timestamp form: UTC with milliseconds and a Z."""
    return (
        moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


def parse_iso(value: str) -> datetime:
    """An aware UTC datetime from an ISO 8601 string (naive means UTC)."""
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _merged(defaults: Record, given: Record) -> Record:
    return {**defaults, **given}


def person(user: Record) -> Record:
    """A user as embedded in bookings, subscriptions and customers.

    Only the fields every embedding accepts, without nulls an embedding may
    forbid: a user with no e-mail simply has no `email` key.
    """
    return {key: user[key] for key in _PERSON_FIELDS if user.get(key) is not None}


def location(given: Record) -> Record:
    """A location; needs `id`, `title`, `networkRef`."""
    return _merged(
        {
            "address": "",
            "currencyCode": "EUR",
            "description": "",
            "locale": "en",
            "timezoneId": "Europe/Vienna",
        },
        given,
    )


def plan(given: Record) -> Record:
    """A plan; needs `id`, `title`, `locationRef`, `createDate`.

    The Tapkey group, when there is one, lives in `access.tapkeyGroupRef`.
    """
    return _merged(
        {
            "addons": [],
            "commitmentCycles": 0,
            "credits": 0,
            "customTax": dict(_NO_TAX),
            "dayPasses": 0,
            "description": "",
            "discounts": dict(_ZERO_DISCOUNTS),
            "exclusiveAccess": {"benefitRefs": [], "resourceRefs": []},
            "grantedDiscounts": [],
            "locale": "en",
            "period": "month",
            "price": 0,
            "selfSignup": {"enabled": False, "type": "immediate"},
            "setupFee": 0,
        },
        given,
    )


def resource(given: Record) -> Record:
    """A resource; needs `id`, `title`, `type`, `locationRef`, `networkRef`,
    `createDate` (and `tapkeyGroupRef` when access is attached)."""
    return _merged(
        {
            "assignments": [],
            "bookingPermission": "members",
            "bufferTime": "zeroMinutes",
            "children": [],
            "confirmationEmail": {
                "bookingCreatedByAdmin": False,
                "bookingCreatedByMember": True,
                "bookingCreatedByNetworkMember": True,
                "bookingCreatedByPublic": True,
                "template": "",
            },
            "credits": {"enabled": False, "tiers": []},
            "description": "",
            "duration": {
                "max": 1440,
                "min": 30,
                "public": {"enabled": False, "max": 1440, "min": 30},
            },
            "dynamicPricing": {"deltaAbove": 0, "deltaBelow": 0, "enabled": False},
            "locale": "en",
            "media": [],
            "money": {"enabled": False, "tiers": []},
            "preparationMinutes": "zeroMinutes",
            "refundThreshold": "noRefund",
            "visibility": "members",
        },
        given,
    )


def company(given: Record) -> Record:
    """A company; needs `id`, `title`, `locationRef`, `createDate`."""
    return _merged({"notes": ""}, given)


def membership(given: Record) -> Record:
    """A membership; needs `id`, `locationRef`, `user`, `createDate`.

    `userRef` follows `user.id`; a company member carries `companyRef`.
    """
    defaults: Record = {
        "role": "member",
        "status": "approved",
        "type": "member",
    }
    if isinstance(user := given.get("user"), dict) and "id" in user:
        defaults["userRef"] = user["id"]
    if given.get("companyRef"):
        defaults["companyRole"] = "member"
    return _merged(defaults, given)


def company_customer(company: Record) -> Record:
    """The fields that make a subscription a company's."""
    return {
        "subscriptionType": "company",
        "companyRef": company["id"],
        "customerRef": company["id"],
        "customer": {"id": company["id"], "type": "company", "title": company["title"]},
        "company": {
            key: company[key] for key in ("id", "title", "locationRef", "createDate")
        },
    }


def member_customer(member: Record) -> Record:
    """The fields that make a subscription a member's (customer = membership)."""
    user = person(member["user"])
    return {
        "subscriptionType": "user",
        "membershipRef": member["id"],
        "userRef": user["id"],
        "user": user,
        "customerRef": member["id"],
        "customer": {"id": member["id"], "type": "user", "user": user},
    }


def subscription_item(given: Record, *, created: str) -> Record:
    """One subscription item; needs `id` (plus `planRef`/`resourceRef`)."""
    return _merged(
        {
            "autoUpdateFromProduct": True,
            "createDate": created,
            "credits": 0,
            "customEnd": False,
            "customStart": False,
            "customTax": dict(_NO_TAX),
            "dayPasses": 0,
            "endFixed": False,
            "grantedDiscounts": [],
            "price": 0,
            "quantity": 1,
            "setupFee": 0,
            "startFixed": False,
            "type": "recurring",
        },
        given,
    )


def subscription(given: Record) -> Record:
    """A subscription; needs `id`, `status`, `subscriptionType`, `customer`,
    `customerRef`, `locationRef`, `networkRef`, `startDate`, `createDate`,
    `timezoneId` and its `items` (completed here)."""
    created = str(given.get("createDate") or given.get("startDate") or "")
    items = [
        subscription_item(item, created=created) for item in given.get("items", [])
    ]
    return _merged(
        {
            "addPendingItemsToInvoice": False,
            "advanceInvoicing": {"days": 0, "type": "default"},
            "assignments": [],
            "billingCycleAnchor": "any",
            "credits": 0,
            "dayPasses": 0,
            "payWithInvoice": {
                "creditPackages": False,
                "desks": False,
                "events": False,
                "rooms": False,
                "shop": False,
            },
            "period": "month",
            "price": 0,
            "startFixed": True,
        },
        given,
    ) | {"items": items}


def booking(given: Record) -> Record:
    """A booking; needs `id`, `resourceRef`, `startDate`, `endDate`,
    `createDate`; attendees default to none."""
    return _merged({"attendees": [], "entire": False, "seats": 1}, given)
