"""The ledger: what this integration created in Tapkey, persisted per entry.

Only grants in the ledger are ever revoked, so losing an entry would leave a
grant behind (bounded by the horizon), and losing a pending revocation would
leave access that must end. Every change is therefore saved at once, and a
revocation is written down as pending before it is sent.
"""

from __future__ import annotations

from collections.abc import Mapping, Set as AbstractSet
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypedDict

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .access.model import AdHocGrant, LedgerEntry
from .const import DOMAIN

STORAGE_VERSION = 1
ALL_GROUPS = "*"


class LedgerEntryData(TypedDict):
    """A ledger entry as stored."""

    grant_id: str
    email: str
    contact_id: str
    target_id: str
    valid_from: str
    valid_before: str
    ical: str | None
    created_at: str
    group_ids: list[str]
    person: str


class AdHocGrantData(TypedDict):
    """An ad-hoc grant as stored."""

    id: str
    email: str
    group_id: str
    start: str
    end: str
    note: str


class LedgerData(TypedDict):
    """The stored document."""

    grants: list[LedgerEntryData]
    pending_revocations: list[str]
    adhoc: list[AdHocGrantData]
    contacts: dict[str, str]
    blocked: dict[str, list[str]]


@dataclass
class Ledger:
    """In-memory ledger; `LedgerStore` persists it."""

    grants: dict[str, LedgerEntry] = field(default_factory=dict)
    pending_revocations: set[str] = field(default_factory=set)
    adhoc: dict[str, AdHocGrant] = field(default_factory=dict)
    contacts: dict[str, str] = field(default_factory=dict)
    # Members whose access the operator revoked by hand: e-mail -> access
    # group ids (ALL_GROUPS for every group). Spacebring no longer grants
    # them those groups until the operator grants access again.
    blocked: dict[str, set[str]] = field(default_factory=dict)

    def add(self, entry: LedgerEntry) -> None:
        """Record a grant Tapkey confirmed."""
        self.grants[entry.grant_id] = entry

    def drop(self, grant_id: str) -> None:
        """Forget a grant (revoked, expired or gone) and its pending revocation."""
        self.grants.pop(grant_id, None)
        self.pending_revocations.discard(grant_id)

    def pending_entries(self) -> list[LedgerEntry]:
        """Ledger entries whose revocation was decided but not confirmed."""
        return [
            self.grants[grant_id]
            for grant_id in sorted(self.pending_revocations)
            if grant_id in self.grants
        ]


def is_blocked(
    blocked: Mapping[str, AbstractSet[str]], email: str, group_id: str
) -> bool:
    """Whether the operator revoked this member's access to this group."""
    groups = blocked.get(email)
    return groups is not None and (ALL_GROUPS in groups or group_id in groups)


class LedgerStore:
    """Loads and saves one entry's ledger in Home Assistant's storage."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Bind to the entry's storage file."""
        self._store: Store[LedgerData] = Store(
            hass, STORAGE_VERSION, f"{DOMAIN}.{entry_id}.ledger", atomic_writes=True
        )
        self.ledger = Ledger()

    async def async_load(self) -> Ledger:
        """Read the ledger from disk (an empty one on first start)."""
        data = await self._store.async_load()
        if data is not None:
            self.ledger = ledger_from_data(data)
        return self.ledger

    async def async_save(self) -> None:
        """Write the ledger now."""
        await self._store.async_save(ledger_to_data(self.ledger))

    async def async_remove(self) -> None:
        """Delete the storage file (the entry is being removed)."""
        await self._store.async_remove()


def ledger_to_data(ledger: Ledger) -> LedgerData:
    """Serialise a ledger."""
    return {
        "grants": [_entry_to_data(entry) for entry in ledger.grants.values()],
        "pending_revocations": sorted(ledger.pending_revocations),
        "adhoc": [_adhoc_to_data(grant) for grant in ledger.adhoc.values()],
        "contacts": dict(sorted(ledger.contacts.items())),
        "blocked": {
            email: sorted(groups) for email, groups in sorted(ledger.blocked.items())
        },
    }


def ledger_from_data(data: LedgerData) -> Ledger:
    """Deserialise a ledger."""
    grants = {raw["grant_id"]: _entry_from_data(raw) for raw in data.get("grants", [])}
    return Ledger(
        grants=grants,
        pending_revocations=set(data.get("pending_revocations", [])),
        adhoc={raw["id"]: _adhoc_from_data(raw) for raw in data.get("adhoc", [])},
        contacts=dict(data.get("contacts", {})),
        blocked={
            email: set(groups) for email, groups in data.get("blocked", {}).items()
        },
    )


def _entry_to_data(entry: LedgerEntry) -> LedgerEntryData:
    return {
        "grant_id": entry.grant_id,
        "email": entry.email,
        "contact_id": entry.contact_id,
        "target_id": entry.target_id,
        "valid_from": entry.valid_from.isoformat(),
        "valid_before": entry.valid_before.isoformat(),
        "ical": entry.ical,
        "created_at": entry.created_at.isoformat(),
        "group_ids": list(entry.group_ids),
        "person": entry.person,
    }


def _entry_from_data(raw: LedgerEntryData) -> LedgerEntry:
    return LedgerEntry(
        grant_id=raw["grant_id"],
        email=raw["email"],
        contact_id=raw["contact_id"],
        target_id=raw["target_id"],
        valid_from=_parse(raw["valid_from"]),
        valid_before=_parse(raw["valid_before"]),
        ical=raw.get("ical"),
        created_at=_parse(raw["created_at"]),
        group_ids=tuple(raw.get("group_ids", ())),
        person=raw.get("person", ""),
    )


def _adhoc_to_data(grant: AdHocGrant) -> AdHocGrantData:
    return {
        "id": grant.id,
        "email": grant.email,
        "group_id": grant.group_id,
        "start": grant.start.isoformat(),
        "end": grant.end.isoformat(),
        "note": grant.note,
    }


def _adhoc_from_data(raw: AdHocGrantData) -> AdHocGrant:
    return AdHocGrant(
        id=raw["id"],
        email=raw["email"],
        group_id=raw["group_id"],
        start=_parse(raw["start"]),
        end=_parse(raw["end"]),
        note=raw.get("note", ""),
    )


def _parse(value: Any) -> datetime:
    parsed = dt_util.parse_datetime(str(value))
    if parsed is None:
        msg = f"not a datetime: {value!r}"
        raise ValueError(msg)
    return dt_util.as_utc(parsed)
