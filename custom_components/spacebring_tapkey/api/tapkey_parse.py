"""Tapkey JSON → typed records.

Tapkey adds properties without notice, so anything not read here is ignored.
A record missing what the integration needs (an id, a contact, a target) or
holding an unreadable date is reported as a `SkippedRecord` and left out;
the rest of the list is still delivered. Reasons never quote e-mails.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from .errors import ApiInvalidResponseError
from .models import (
    Contact,
    Grant,
    GrantState,
    LockLogEntry,
    LockTarget,
    Owner,
    SkippedRecord,
    TargetKind,
)

type JsonObject = Mapping[str, Any]

_SUPPORTED = "Supported"


class MalformedRecordError(ValueError):
    """A record lacks something the integration needs; `reason` says what."""


def _text(item: JsonObject, key: str) -> str | None:
    value = item.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    raise MalformedRecordError(f"{key} is not a string")


def _required_text(item: JsonObject, key: str) -> str:
    if (value := _text(item, key)) is None:
        raise MalformedRecordError(f"{key} is missing")
    return value


def _bool(item: JsonObject, key: str, default: bool) -> bool:
    value = item.get(key)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    raise MalformedRecordError(f"{key} is not a boolean")


def _object(item: JsonObject, key: str) -> JsonObject:
    value = item.get(key)
    return value if isinstance(value, Mapping) else {}


def _datetime(item: JsonObject, key: str) -> datetime | None:
    """An aware UTC datetime; Tapkey omits the offset at times, meaning UTC."""
    if (raw := _text(item, key)) is None:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError as err:
        raise MalformedRecordError(f"{key} is not an ISO-8601 date-time") from err
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def parse_owner(item: JsonObject) -> Owner:
    """An Owners item (a locking system)."""
    owner_id = _required_text(item, "id")
    return Owner(
        id=owner_id,
        name=_text(item, "name") or owner_id,
        active=_bool(item, "active", True),
    )


def _time_restriction_support(item: JsonObject) -> bool | None:
    support = _object(item, "supportedFeatures").get("timeRestrictionIcalSupport")
    if not isinstance(support, str):
        return None
    return support == _SUPPORTED


def _target(item: JsonObject, kind: TargetKind) -> LockTarget:
    target_id = _required_text(item, "id")
    return LockTarget(
        id=target_id,
        title=_text(item, "title") or _text(item, "description") or target_id,
        kind=kind,
        active=_bool(item, "active", True),
        supports_time_restriction=_time_restriction_support(item),
    )


def parse_bound_lock(item: JsonObject) -> LockTarget:
    """A BoundLocks item; feature support is None unless it was expanded."""
    return _target(item, TargetKind.LOCK)


def parse_lock_group(item: JsonObject) -> LockTarget:
    """A LockGroups item."""
    return _target(item, TargetKind.LOCK_GROUP)


def _identifier(item: JsonObject) -> str | None:
    # `email` is the deprecated alias Tapkey still sends beside `identifier`.
    return _text(item, "identifier") or _text(item, "email")


def parse_contact(item: JsonObject) -> Contact:
    """A Contacts item."""
    contact_id = _required_text(item, "id")
    identifier = _identifier(item)
    if identifier is None:
        raise MalformedRecordError("identifier is missing")
    return Contact(
        id=contact_id, identifier=identifier, ip_id=_text(item, "ipId") or "tapkey"
    )


def _grant_state(item: JsonObject) -> GrantState:
    raw = _text(item, "state")
    if raw is None:
        return GrantState.OK
    try:
        return GrantState(raw)
    except ValueError:
        return GrantState.OTHER


def parse_grant(item: JsonObject) -> Grant:
    """A Grants item; ids may come from the embedded contact and bound lock."""
    grant_id = _required_text(item, "id")
    contact = _object(item, "contact")
    bound_lock = _object(item, "boundLock")
    contact_id = _text(item, "contactId") or _text(contact, "id")
    if contact_id is None:
        raise MalformedRecordError("contactId is missing")
    bound_lock_id = _text(item, "boundLockId") or _text(bound_lock, "id")
    if bound_lock_id is None:
        raise MalformedRecordError("boundLockId is missing")
    state = _grant_state(item)
    return Grant(
        id=grant_id,
        contact_id=contact_id,
        bound_lock_id=bound_lock_id,
        valid_from=_datetime(item, "validFrom"),
        valid_before=_datetime(item, "validBefore"),
        time_restriction_ical=_text(item, "timeRestrictionIcal"),
        state=state,
        active=_bool(item, "active", state is GrantState.OK),
        contact_identifier=_identifier(contact),
    )


def parse_log_entry(item: JsonObject) -> LockLogEntry:
    """A LogEntries item."""
    entry_id = _required_text(item, "id")
    lock_timestamp = _datetime(item, "lockTimestamp")
    if lock_timestamp is None:
        raise MalformedRecordError("lockTimestamp is missing")
    entry_no = item.get("entryNo")
    return LockLogEntry(
        id=entry_id,
        bound_lock_id=_required_text(item, "boundLockId"),
        lock_timestamp=lock_timestamp,
        contact_id=_text(item, "contactId"),
        received_at=_datetime(item, "receivedAt"),
        entry_no=entry_no if isinstance(entry_no, int) else None,
        log_type=_text(item, "logType"),
        command=_text(item, "command"),
    )


def parse_list[T](
    payload: Any, parse: Callable[[JsonObject], T], kind: str
) -> tuple[list[T], list[SkippedRecord]]:
    """Parse a JSON array, keeping readable records and reporting the others."""
    if not isinstance(payload, list):
        raise ApiInvalidResponseError(f"Tapkey sent no list of {kind} records")
    records: list[T] = []
    skipped: list[SkippedRecord] = []
    for item in payload:
        if not isinstance(item, Mapping):
            skipped.append(SkippedRecord(kind, None, "not a JSON object"))
            continue
        try:
            records.append(parse(item))
        except MalformedRecordError as err:
            record_id = item.get("id")
            skipped.append(
                SkippedRecord(
                    kind, record_id if isinstance(record_id, str) else None, str(err)
                )
            )
    return records, skipped
