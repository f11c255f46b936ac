"""Records of the sandbox's Tapkey world and their JSON in Tapkey's API shapes.

`to_json` gives what the Management API returns for an item; `from_json`
reads the same shape back (embedded copies such as a grant's `contact` are
derived, so they are ignored on input). The world file is made of these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .tapkey_odata import parse_datetime

type Json = dict[str, Any]

TIME_RESTRICTION_SUPPORTED = "Supported"
TIME_RESTRICTION_NOT_SUPPORTED = "NotSupported"
CYLINDER_LOCK_TYPE = "tapkey.smartlock.cylinder"


def format_datetime(moment: datetime | None) -> str | None:
    """ISO-8601 in UTC with a `Z`, as Tapkey writes it."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def read_datetime(value: Any) -> datetime | None:
    """Read an optional ISO-8601 date-time with an offset."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"date-time must be a string, got {value!r}")
    return parse_datetime(value)


@dataclass(slots=True)
class BoundLock:
    """A lock bound to a locking system."""

    id: str
    title: str
    description: str = ""
    active: bool = True
    lock_type_id: str = CYLINDER_LOCK_TYPE
    physical_lock_id: str = ""
    time_restriction_support: str = TIME_RESTRICTION_SUPPORTED

    @property
    def supports_time_restriction(self) -> bool:
        """Whether the lock can enforce a grant's weekly schedule."""
        return self.time_restriction_support == TIME_RESTRICTION_SUPPORTED

    def to_json(self, *, expand_features: bool = True) -> Json:
        """The BoundLocks item (`supportedFeatures` only when expanded)."""
        item: Json = {
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "active": self.active,
            "lockTypeId": self.lock_type_id,
            "physicalLockId": self.physical_lock_id,
            "targetType": "Lock",
        }
        if expand_features:
            item["supportedFeatures"] = {
                "timeRestrictionIcalSupport": self.time_restriction_support
            }
        return item

    @classmethod
    def from_json(cls, item: Json) -> BoundLock:
        """Read a BoundLocks item."""
        features = item.get("supportedFeatures") or {}
        return cls(
            id=str(item["id"]),
            title=str(item["title"]),
            description=str(item.get("description") or ""),
            active=bool(item.get("active", True)),
            lock_type_id=str(item.get("lockTypeId") or CYLINDER_LOCK_TYPE),
            physical_lock_id=str(item.get("physicalLockId") or ""),
            time_restriction_support=str(
                features.get("timeRestrictionIcalSupport") or TIME_RESTRICTION_SUPPORTED
            ),
        )


@dataclass(slots=True)
class LockGroup:
    """A named set of locks that one grant can cover."""

    id: str
    title: str
    bound_lock_ids: list[str]
    description: str = ""
    active: bool = True

    def to_json(self) -> Json:
        """The LockGroups item; `boundLockIds` is the sandbox's [inferred] form."""
        return {
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "active": self.active,
            "targetType": "Group",
            "boundLockIds": list(self.bound_lock_ids),
        }

    @classmethod
    def from_json(cls, item: Json) -> LockGroup:
        """Read a LockGroups item."""
        return cls(
            id=str(item["id"]),
            title=str(item["title"]),
            bound_lock_ids=[str(lock) for lock in item.get("boundLockIds", [])],
            description=str(item.get("description") or ""),
            active=bool(item.get("active", True)),
        )


@dataclass(slots=True)
class Contact:
    """A person a locking system can grant access to."""

    id: str
    identifier: str
    title: str = ""
    ip_id: str = "tapkey"

    def to_json(self) -> Json:
        """The Contacts item; `email` is Tapkey's deprecated alias of identifier."""
        return {
            "id": self.id,
            "ipId": self.ip_id,
            "identifier": self.identifier,
            "email": self.identifier,
            "title": self.title,
        }

    @classmethod
    def from_json(cls, item: Json) -> Contact:
        """Read a Contacts item."""
        return cls(
            id=str(item["id"]),
            identifier=str(item.get("identifier") or item["email"]),
            title=str(item.get("title") or ""),
            ip_id=str(item.get("ipId") or "tapkey"),
        )


@dataclass(slots=True)
class Grant:
    """Access of one contact to one lock or lock group."""

    id: str
    contact_id: str
    bound_lock_id: str
    valid_from: datetime | None
    valid_before: datetime | None
    time_restriction_ical: str | None = None
    state: str = "Ok"

    @property
    def active(self) -> bool:
        """Tapkey reports revoked grants as inactive."""
        return self.state == "Ok"

    def to_json(
        self, *, owner_id: str, contact: Contact | None, target: Json | None
    ) -> Json:
        """The Grants item with its embedded contact and bound lock."""
        return {
            "id": self.id,
            "ownerAccountId": owner_id,
            "contactId": self.contact_id,
            "boundLockId": self.bound_lock_id,
            "validFrom": format_datetime(self.valid_from),
            "validBefore": format_datetime(self.valid_before),
            "timeRestrictionIcal": self.time_restriction_ical,
            "state": self.state,
            "active": self.active,
            "contact": contact.to_json() if contact else None,
            "boundLock": target,
        }

    @classmethod
    def from_json(cls, item: Json) -> Grant:
        """Read a Grants item."""
        return cls(
            id=str(item["id"]),
            contact_id=str(item["contactId"]),
            bound_lock_id=str(item["boundLockId"]),
            valid_from=read_datetime(item.get("validFrom")),
            valid_before=read_datetime(item.get("validBefore")),
            time_restriction_ical=item.get("timeRestrictionIcal"),
            state=str(item.get("state") or "Ok"),
        )


@dataclass(slots=True)
class LogEntry:
    """A lock event: here, a contact opening a lock."""

    id: str
    entry_no: int
    bound_lock_id: str
    contact_id: str | None
    lock_timestamp: datetime
    received_at: datetime
    log_type: str = "Command"
    command: str = "TriggerLock"

    def to_json(self) -> Json:
        """The LogEntries item."""
        return {
            "id": self.id,
            "entryNo": self.entry_no,
            "logType": self.log_type,
            "command": self.command,
            "boundLockId": self.bound_lock_id,
            "contactId": self.contact_id,
            "lockTimestamp": format_datetime(self.lock_timestamp),
            "receivedAt": format_datetime(self.received_at),
        }

    @classmethod
    def from_json(cls, item: Json) -> LogEntry:
        """Read a LogEntries item."""
        lock_timestamp = read_datetime(item["lockTimestamp"])
        if lock_timestamp is None:
            raise ValueError("log entry without lockTimestamp")
        return cls(
            id=str(item["id"]),
            entry_no=int(item["entryNo"]),
            bound_lock_id=str(item["boundLockId"]),
            contact_id=item.get("contactId"),
            lock_timestamp=lock_timestamp,
            received_at=read_datetime(item.get("receivedAt")) or lock_timestamp,
            log_type=str(item.get("logType") or "Command"),
            command=str(item.get("command") or "TriggerLock"),
        )


@dataclass(slots=True)
class OwnerAccount:
    """A locking system and everything in it (dicts keep insertion order)."""

    id: str
    name: str
    active: bool = True
    contact_limit: int | None = None
    locks: dict[str, BoundLock] = field(default_factory=dict)
    lock_groups: dict[str, LockGroup] = field(default_factory=dict)
    contacts: dict[str, Contact] = field(default_factory=dict)
    grants: dict[str, Grant] = field(default_factory=dict)
    log_entries: list[LogEntry] = field(default_factory=list)

    def to_json(self) -> Json:
        """The Owners item."""
        return {"id": self.id, "name": self.name, "active": self.active}

    def target_json(self, target_id: str) -> Json | None:
        """A grant target (lock or lock group) as embedded in a grant."""
        if (lock := self.locks.get(target_id)) is not None:
            return lock.to_json(expand_features=False)
        if (group := self.lock_groups.get(target_id)) is not None:
            return group.to_json()
        return None

    def grant_json(self, grant: Grant) -> Json:
        """A Grants item of this owner."""
        return grant.to_json(
            owner_id=self.id,
            contact=self.contacts.get(grant.contact_id),
            target=self.target_json(grant.bound_lock_id),
        )

    def to_world(self) -> Json:
        """The owner with all its lists, as the world file holds it."""
        return {
            **self.to_json(),
            "contactLimit": self.contact_limit,
            "boundLocks": [lock.to_json() for lock in self.locks.values()],
            "lockGroups": [group.to_json() for group in self.lock_groups.values()],
            "contacts": [contact.to_json() for contact in self.contacts.values()],
            "grants": [self.grant_json(grant) for grant in self.grants.values()],
            "logEntries": [entry.to_json() for entry in self.log_entries],
        }

    @classmethod
    def from_world(cls, item: Json) -> OwnerAccount:
        """Read an owner written by `to_world` (or by hand in the same shape)."""
        owner = cls(
            id=str(item["id"]),
            name=str(item["name"]),
            active=bool(item.get("active", True)),
            contact_limit=item.get("contactLimit"),
        )
        for lock_item in item.get("boundLocks", []):
            lock = BoundLock.from_json(lock_item)
            owner.locks[lock.id] = lock
        for group_item in item.get("lockGroups", []):
            group = LockGroup.from_json(group_item)
            owner.lock_groups[group.id] = group
        for contact_item in item.get("contacts", []):
            contact = Contact.from_json(contact_item)
            owner.contacts[contact.id] = contact
        for grant_item in item.get("grants", []):
            grant = Grant.from_json(grant_item)
            owner.grants[grant.id] = grant
        owner.log_entries = [
            LogEntry.from_json(entry) for entry in item.get("logEntries", [])
        ]
        return owner
