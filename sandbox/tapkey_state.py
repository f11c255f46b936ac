"""The sandbox's Tapkey world and the rules Tapkey enforces on changes to it.

Routes stay thin: they parse requests and call these methods, which raise
`TapkeyRequestError` with the status and ErrorCode Tapkey would answer. Tests
use the same methods to arrange scenarios (a contact limit, a grant made by
hand) without going through HTTP.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
import random
from typing import Any
import uuid

from .tapkey_generate import generate_owners
from .tapkey_oauth import OAuthRegistry
from .tapkey_records import Contact, Grant, OwnerAccount


class TapkeyRequestError(Exception):
    """A request Tapkey refuses: HTTP status, ErrorCode and message."""

    def __init__(self, status: int, error_code: str, message: str) -> None:
        """Keep what the error body will say."""
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.message = message


def _valid_identifier(ip_id: str, identifier: str) -> bool:
    if ip_id != "tapkey":
        return bool(identifier.strip())
    local, at, domain = identifier.partition("@")
    return bool(local and at and "." in domain) and not any(
        char.isspace() for char in identifier
    )


def _check_time_restriction(ical: str) -> None:
    if (
        not ical.startswith("BEGIN:VCALENDAR")
        or not ical.rstrip().endswith("END:VCALENDAR")
        or ical.count("BEGIN:VEVENT") != 1
    ):
        raise TapkeyRequestError(
            400,
            "InvalidTimeRestriction",
            "timeRestrictionIcal must be a VCALENDAR with exactly one VEVENT",
        )


@dataclass(slots=True)
class TapkeyState:
    """Locking systems with their locks, contacts and grants, plus OAuth."""

    owners: dict[str, OwnerAccount] = field(default_factory=dict)
    oauth: OAuthRegistry = field(default_factory=OAuthRegistry.with_demo_client)
    auto_approve: bool = False
    # Tapkey's page size limit is not documented; lists never return more.
    max_page_size: int = 100
    id_rng: random.Random = field(default_factory=lambda: random.Random(0))

    @classmethod
    def generate(
        cls,
        rng: random.Random,
        *,
        member_emails: Sequence[str],
        scale: int = 1,
        now: datetime | None = None,
    ) -> TapkeyState:
        """The demo world; hand-made grants are placed relative to `now`."""
        owners = generate_owners(
            rng,
            member_emails=member_emails,
            scale=scale,
            now=now or datetime.now(UTC),
        )
        return cls(
            owners={owner.id: owner for owner in owners},
            id_rng=random.Random(rng.getrandbits(64)),
        )

    @classmethod
    def from_world(cls, world: Mapping[str, Any]) -> TapkeyState:
        """Load a world written by `to_world` (or by hand in the same shapes)."""
        owners = [OwnerAccount.from_world(item) for item in world.get("owners", [])]
        return cls(owners={owner.id: owner for owner in owners})

    def to_world(self) -> dict[str, Any]:
        """The world in Tapkey's API shapes, one entry per locking system."""
        return {"owners": [owner.to_world() for owner in self.owners.values()]}

    def new_id(self) -> str:
        """A fresh id for a created record (seeded, so runs replay)."""
        return str(uuid.UUID(int=self.id_rng.getrandbits(128), version=4))

    def owner(self, owner_id: str) -> OwnerAccount:
        """The locking system, or a 404 rejection."""
        owner = self.owners.get(owner_id)
        if owner is None:
            raise TapkeyRequestError(404, "NotFound", "owner account not found")
        return owner

    def owner_named(self, name: str) -> OwnerAccount:
        """The locking system with this name (for tests and control routes)."""
        for owner in self.owners.values():
            if owner.name == name:
                return owner
        raise KeyError(name)

    def set_contact_limit(
        self, limit: int | None, *, owner_id: str | None = None
    ) -> None:
        """Cap the contacts of one locking system (or all): more gives HTTP 402."""
        if limit is not None and limit < 0:
            raise ValueError("the contact limit cannot be negative")
        targets = [self.owner(owner_id)] if owner_id else self.owners.values()
        for owner in targets:
            owner.contact_limit = limit

    @staticmethod
    def find_contact(
        owner: OwnerAccount, ip_id: str, identifier: str
    ) -> Contact | None:
        """The contact with this identity; identifiers ignore letter case."""
        wanted = identifier.casefold()
        for contact in owner.contacts.values():
            if contact.ip_id == ip_id and contact.identifier.casefold() == wanted:
                return contact
        return None

    def create_contact(
        self, owner_id: str, *, identifier: str, ip_id: str = "tapkey", title: str = ""
    ) -> Contact:
        """Add a contact: 409 if it exists, 402 beyond the plan's limit."""
        owner = self.owner(owner_id)
        if not _valid_identifier(ip_id, identifier):
            raise TapkeyRequestError(
                400, "InvalidIdentifier", "identifier is not valid"
            )
        if self.find_contact(owner, ip_id, identifier) is not None:
            raise TapkeyRequestError(409, "Duplicate", "the contact already exists")
        if (
            owner.contact_limit is not None
            and len(owner.contacts) >= owner.contact_limit
        ):
            raise TapkeyRequestError(
                402,
                "LimitExceeded",
                f"the plan allows at most {owner.contact_limit} contacts",
            )
        contact = Contact(
            id=self.new_id(), identifier=identifier, title=title, ip_id=ip_id
        )
        owner.contacts[contact.id] = contact
        return contact

    def create_grant(
        self,
        owner_id: str,
        *,
        bound_lock_id: str,
        valid_from: datetime | None,
        valid_before: datetime | None,
        contact_id: str | None = None,
        contact_identity: tuple[str, str] | None = None,
        time_restriction_ical: str | None = None,
    ) -> Grant:
        """Add a grant; a contact given by (ipId, identifier) is created if new."""
        owner = self.owner(owner_id)
        if owner.target_json(bound_lock_id) is None:
            raise TapkeyRequestError(404, "NotFound", "bound lock not found")
        if valid_from and valid_before and valid_before <= valid_from:
            raise TapkeyRequestError(
                400, "InvalidTimeRange", "validBefore must be after validFrom"
            )
        if time_restriction_ical is not None:
            _check_time_restriction(time_restriction_ical)
            lock = owner.locks.get(bound_lock_id)
            if lock is not None and not lock.supports_time_restriction:
                raise TapkeyRequestError(
                    400,
                    "TimeRestrictionNotSupported",
                    "the lock does not support time restrictions",
                )
        contact = self._grant_contact(owner, contact_id, contact_identity)
        grant = Grant(
            id=self.new_id(),
            contact_id=contact.id,
            bound_lock_id=bound_lock_id,
            valid_from=valid_from,
            valid_before=valid_before,
            time_restriction_ical=time_restriction_ical,
        )
        owner.grants[grant.id] = grant
        return grant

    def _grant_contact(
        self,
        owner: OwnerAccount,
        contact_id: str | None,
        contact_identity: tuple[str, str] | None,
    ) -> Contact:
        if contact_id is not None:
            contact = owner.contacts.get(contact_id)
            if contact is None:
                raise TapkeyRequestError(404, "NotFound", "contact not found")
            return contact
        if contact_identity is None:
            raise TapkeyRequestError(
                400, "BadRequest", "contactId or contact is required"
            )
        ip_id, identifier = contact_identity
        existing = self.find_contact(owner, ip_id, identifier)
        if existing is not None:
            return existing
        return self.create_contact(owner.id, identifier=identifier, ip_id=ip_id)

    def revoke_grant(
        self, owner_id: str, grant_id: str, *, dry_run: bool = False
    ) -> Grant:
        """Revoke a grant; it stays listed with state Revoked. Repeats are no-ops."""
        grant = self.owner(owner_id).grants.get(grant_id)
        if grant is None:
            raise TapkeyRequestError(404, "NotFound", "grant not found")
        if not dry_run:
            grant.state = "Revoked"
        return grant

    def revoke_contact_grants(self, owner_id: str, contact_id: str) -> list[Grant]:
        """Revoke every grant of one contact."""
        owner = self.owner(owner_id)
        if contact_id not in owner.contacts:
            raise TapkeyRequestError(404, "NotFound", "contact not found")
        revoked = [
            grant
            for grant in owner.grants.values()
            if grant.contact_id == contact_id and grant.state == "Ok"
        ]
        for grant in revoked:
            grant.state = "Revoked"
        return revoked
