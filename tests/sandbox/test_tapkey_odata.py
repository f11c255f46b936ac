"""The OData subset the sandbox's Tapkey lists accept."""

from __future__ import annotations

from typing import Any

import pytest

from custom_components.spacebring_tapkey.const import DOMAIN
from sandbox.tapkey_odata import ODataError, apply_orderby, compile_filter, query_items

__all__ = ["DOMAIN"]

GRANTS: list[dict[str, Any]] = [
    {
        "id": "g1",
        "contactId": "3f2b8c1e-0000-4000-8000-000000000001",
        "boundLockId": "front",
        "state": "Ok",
        "active": True,
        "validFrom": "2025-03-01T08:00:00Z",
        "validBefore": None,
        "entryNo": 3,
    },
    {
        "id": "g2",
        "contactId": "3f2b8c1e-0000-4000-8000-000000000002",
        "boundLockId": "room-1",
        "state": "Revoked",
        "active": False,
        "validFrom": "2025-03-02T08:00:00Z",
        "validBefore": "2025-03-02T10:00:00Z",
        "entryNo": 1,
    },
    {
        "id": "g3",
        "contactId": "3f2b8c1e-0000-4000-8000-000000000001",
        "boundLockId": "room-1",
        "state": "Ok",
        "active": True,
        "validFrom": "2025-03-03T08:00:00Z",
        "validBefore": "2025-03-03T10:00:00Z",
        "entryNo": 2,
    },
]


def _same(item: dict[str, Any]) -> dict[str, Any]:
    return item


def _ids(text: str) -> list[str]:
    predicate = compile_filter(text)
    return [grant["id"] for grant in GRANTS if predicate(grant)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("active eq true", ["g1", "g3"]),
        ("state ne 'Ok'", ["g2"]),
        ("boundLockId eq 'room-1' and active eq true", ["g3"]),
        ("boundLockId eq 'front' or state eq 'Revoked'", ["g1", "g2"]),
        ("not (boundLockId eq 'front')", ["g2", "g3"]),
        ("contactId eq 3f2b8c1e-0000-4000-8000-000000000002", ["g2"]),
        ("contactId eq guid'3f2b8c1e-0000-4000-8000-000000000001'", ["g1", "g3"]),
        ("validBefore eq null", ["g1"]),
        ("validFrom ge 2025-03-02T08:00:00Z", ["g2", "g3"]),
        ("validFrom lt 2025-03-02T09:00:00+01:00", ["g1"]),
        ("validFrom gt datetime'2025-03-02T08:00:00'", ["g3"]),
        ("validBefore le 2025-03-02T10:00:00Z", ["g2"]),
        ("entryNo gt 1 and entryNo le 2", ["g3"]),
        ("validBefore gt null", []),
    ],
)
def test_filter_selects_matching_items(text: str, expected: list[str]) -> None:
    assert _ids(text) == expected


def test_a_quote_inside_a_string_is_doubled() -> None:
    predicate = compile_filter("identifier eq 'o''brien@example.com'")

    assert predicate({"identifier": "o'brien@example.com"})


def test_a_property_holding_no_date_never_matches_a_date_comparison() -> None:
    predicate = compile_filter("lockTimestamp ge 2025-03-01T00:00:00Z")

    assert not predicate({"lockTimestamp": "yesterday"})


@pytest.mark.parametrize(
    "text",
    [
        "tolower(identifier) eq 'a@example.com'",
        "active has true",
        "active eq",
        "(active eq true",
        "(active eq true state eq 'Ok'",
        "active eq true)",
        "active eq true and",
        "active eq $",
        "validFrom gt datetime'soon'",
        "'a' eq active",
        "active eq active",
    ],
)
def test_unsupported_filters_are_rejected(text: str) -> None:
    with pytest.raises(ODataError):
        compile_filter(text)


def test_orderby_sorts_by_several_keys_and_directions() -> None:
    ordered = apply_orderby(GRANTS, "boundLockId asc, entryNo desc", view=_same)

    assert [grant["id"] for grant in ordered] == ["g1", "g3", "g2"]


def test_orderby_puts_missing_values_first() -> None:
    ordered = apply_orderby(GRANTS, "validBefore", view=_same)

    assert [grant["id"] for grant in ordered] == ["g1", "g2", "g3"]


def test_orderby_rejects_an_unknown_direction() -> None:
    with pytest.raises(ODataError):
        apply_orderby(GRANTS, "entryNo sideways", view=_same)


def test_top_and_skip_page_through_the_filtered_items() -> None:
    query = {"$filter": "active eq true", "$orderby": "entryNo", "$skip": "1"}

    page = query_items(GRANTS, {**query, "$top": "5"}, max_page_size=100, view=_same)

    assert [grant["id"] for grant in page] == ["g1"]


def test_pages_never_exceed_the_maximum_size() -> None:
    assert len(query_items(GRANTS, {}, max_page_size=2, view=_same)) == 2
    assert len(query_items(GRANTS, {"$top": "50"}, max_page_size=2, view=_same)) == 2


@pytest.mark.parametrize("option", ["$top", "$skip"])
def test_top_and_skip_must_be_non_negative_integers(option: str) -> None:
    with pytest.raises(ODataError):
        query_items(GRANTS, {option: "-1"}, max_page_size=100, view=_same)
