"""Reading Tapkey JSON into records: tolerant of extras, strict about essentials."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from custom_components.spacebring_tapkey.api.errors import ApiInvalidResponseError
from custom_components.spacebring_tapkey.api.models import (
    GrantState,
    SkippedRecord,
    TargetKind,
)
from custom_components.spacebring_tapkey.api.tapkey_parse import (
    parse_bound_lock,
    parse_contact,
    parse_grant,
    parse_list,
    parse_lock_group,
    parse_log_entry,
    parse_owner,
)

GRANT: dict[str, Any] = {
    "id": "g-1",
    "ownerAccountId": "o-1",
    "contactId": "c-1",
    "boundLockId": "l-1",
    "validFrom": "2025-03-01T09:30:00Z",
    "validBefore": "2025-03-01T12:30:00Z",
    "timeRestrictionIcal": None,
    "state": "Ok",
    "active": True,
    "contact": {"id": "c-1", "ipId": "tapkey", "identifier": "ana@example.com"},
    "boundLock": {"id": "l-1", "title": "Room 1"},
    "someFutureProperty": {"nested": [1, 2, 3]},
}


def test_grant_reads_times_as_aware_utc_and_ignores_unknown_properties() -> None:
    grant = parse_grant(GRANT)

    assert grant.valid_from == datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
    assert grant.valid_before == datetime(2025, 3, 1, 12, 30, tzinfo=UTC)
    assert grant.state is GrantState.OK
    assert grant.active is True
    assert grant.contact_identifier == "ana@example.com"


def test_grant_times_with_offsets_dotnet_fractions_or_no_offset_become_utc() -> None:
    grant = parse_grant(
        {
            **GRANT,
            "validFrom": "2025-03-01T10:30:00.1234567+01:00",
            "validBefore": "2025-03-01T12:30:00",
        }
    )

    assert grant.valid_from == datetime(2025, 3, 1, 9, 30, 0, 123456, tzinfo=UTC)
    assert grant.valid_before == datetime(2025, 3, 1, 12, 30, tzinfo=UTC)


def test_grant_without_end_is_unlimited() -> None:
    grant = parse_grant({**GRANT, "validBefore": None})

    assert grant.valid_before is None


def test_grant_ids_fall_back_to_the_embedded_contact_and_lock() -> None:
    grant = parse_grant({**GRANT, "contactId": None, "boundLockId": None})

    assert (grant.contact_id, grant.bound_lock_id) == ("c-1", "l-1")


def test_revoked_grant_is_inactive_even_without_an_active_flag() -> None:
    item = {key: value for key, value in GRANT.items() if key != "active"}

    grant = parse_grant({**item, "state": "Revoked"})

    assert grant.state is GrantState.REVOKED
    assert grant.active is False


def test_unknown_grant_state_is_kept_as_other() -> None:
    assert parse_grant({**GRANT, "state": "RevocationPending"}).state is (
        GrantState.OTHER
    )


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"id": None}, "id is missing"),
        ({"contactId": None, "contact": None}, "contactId is missing"),
        ({"boundLockId": None, "boundLock": "l-1"}, "boundLockId is missing"),
        ({"validFrom": "next Tuesday"}, "validFrom is not an ISO-8601 date-time"),
        ({"validBefore": 1740822600}, "validBefore is not a string"),
        ({"active": "yes"}, "active is not a boolean"),
    ],
)
def test_grant_missing_essentials_is_skipped_with_the_reason(
    change: dict[str, Any], reason: str
) -> None:
    records, skipped = parse_list(
        [GRANT, {**GRANT, "id": "g-2", **change}], parse_grant, "tapkey_grant"
    )

    assert [grant.id for grant in records] == ["g-1"]
    expected_id = "g-2" if change.get("id", "g-2") else None
    assert skipped == [SkippedRecord("tapkey_grant", expected_id, reason)]


def test_list_entries_that_are_not_objects_are_skipped() -> None:
    records, skipped = parse_list([GRANT, "g-2"], parse_grant, "tapkey_grant")

    assert len(records) == 1
    assert skipped == [SkippedRecord("tapkey_grant", None, "not a JSON object")]


def test_a_list_answer_that_is_no_list_is_an_invalid_response() -> None:
    with pytest.raises(ApiInvalidResponseError):
        parse_list({"value": [GRANT]}, parse_grant, "tapkey_grant")


def test_bound_lock_reports_time_restriction_support_only_when_expanded() -> None:
    item = {"id": "l-1", "title": "Front door", "targetType": "Lock"}

    plain = parse_bound_lock(item)
    supported = parse_bound_lock(
        {**item, "supportedFeatures": {"timeRestrictionIcalSupport": "Supported"}}
    )
    unsupported = parse_bound_lock(
        {**item, "supportedFeatures": {"timeRestrictionIcalSupport": "NotSupported"}}
    )

    assert plain.kind is TargetKind.LOCK
    assert plain.supports_time_restriction is None
    assert supported.supports_time_restriction is True
    assert unsupported.supports_time_restriction is False


def test_lock_title_falls_back_to_description_then_id() -> None:
    described = parse_bound_lock({"id": "l-1", "description": "Back door"})
    bare = parse_bound_lock({"id": "l-2", "active": False})

    assert described.title == "Back door"
    assert (bare.title, bare.active) == ("l-2", False)


def test_lock_group_is_a_group_target() -> None:
    group = parse_lock_group({"id": "g-1", "title": "All doors", "targetType": "Group"})

    assert group.kind is TargetKind.LOCK_GROUP
    assert group.title == "All doors"


def test_contact_identifier_falls_back_to_the_deprecated_email() -> None:
    contact = parse_contact({"id": "c-1", "email": "Ana@Example.com"})

    assert contact.identifier == "Ana@Example.com"
    assert contact.ip_id == "tapkey"


def test_contact_without_identifier_is_skipped() -> None:
    records, skipped = parse_list([{"id": "c-1"}], parse_contact, "tapkey_contact")

    assert records == []
    assert skipped == [SkippedRecord("tapkey_contact", "c-1", "identifier is missing")]


def test_owner_name_falls_back_to_id() -> None:
    owner = parse_owner({"id": "o-1"})

    assert (owner.name, owner.active) == ("o-1", True)


def test_log_entry_reads_lock_and_receive_times() -> None:
    entry = parse_log_entry(
        {
            "id": "e-1",
            "entryNo": 7,
            "logType": "Command",
            "command": "TriggerLock",
            "boundLockId": "l-1",
            "contactId": "c-1",
            "lockTimestamp": "2025-03-01T06:15:00Z",
            "receivedAt": "2025-03-01T06:15:09Z",
        }
    )

    assert entry.lock_timestamp == datetime(2025, 3, 1, 6, 15, tzinfo=UTC)
    assert entry.received_at == datetime(2025, 3, 1, 6, 15, 9, tzinfo=UTC)
    assert (entry.entry_no, entry.command) == (7, "TriggerLock")


def test_log_entry_without_lock_time_is_skipped() -> None:
    records, skipped = parse_list(
        [{"id": "e-1", "boundLockId": "l-1", "entryNo": "seven"}],
        parse_log_entry,
        "tapkey_log_entry",
    )

    assert records == []
    assert skipped[0].reason == "lockTimestamp is missing"


def test_grant_without_a_state_counts_as_ok() -> None:
    item = {key: value for key, value in GRANT.items() if key != "state"}

    assert parse_grant(item).state is GrantState.OK
