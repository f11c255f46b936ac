"""Cursor paging as Spacebring does it: `limit` and an opaque `nextPageToken`.

Tokens are keyset cursors (the sort key of the last record served) bound to
the filters of the first page, so inserting or cancelling records between
pages neither repeats nor skips the records that stay, and a token replayed
with other filters is rejected like the real service does.
"""

from __future__ import annotations

import base64
import binascii
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Mapping, Sequence
import hashlib
import json
from typing import Any, Final

DEFAULT_LIMIT: Final = 25
MAX_LIMIT: Final = 100
_NOT_FILTERS: Final = frozenset({"limit", "nextPageToken"})

type SortKey = tuple[str, ...]


class PageTokenError(ValueError):
    """The nextPageToken is unreadable or belongs to other filters."""


def parse_limit(raw: str | None) -> int:
    """Page size: 25 when omitted or invalid, capped at 100."""
    try:
        limit = int(raw) if raw is not None else DEFAULT_LIMIT
    except ValueError:
        return DEFAULT_LIMIT
    if limit < 1:
        return DEFAULT_LIMIT
    return min(limit, MAX_LIMIT)


def filter_fingerprint(query: Mapping[str, str]) -> str:
    """A short digest of the filters of a list request."""
    filters = sorted((k, v) for k, v in query.items() if k not in _NOT_FILTERS)
    digest = hashlib.sha256(json.dumps(filters).encode()).hexdigest()
    return digest[:16]


def encode_token(key: SortKey, fingerprint: str) -> str:
    """The opaque token that continues after `key`."""
    raw = json.dumps({"after": list(key), "filters": fingerprint}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str, fingerprint: str) -> SortKey:
    """The sort key a token continues after; checks the filters match."""
    try:
        padded = token + "=" * (-len(token) % 4)
        payload: Any = json.loads(base64.urlsafe_b64decode(padded))
        key = tuple(str(part) for part in payload["after"])
        filters = payload["filters"]
    except (binascii.Error, ValueError, KeyError, TypeError) as err:
        raise PageTokenError("nextPageToken is not valid") from err
    if filters != fingerprint:
        raise PageTokenError("nextPageToken was issued for other filters")
    return key


def paginate[T](
    items: Sequence[T],
    key: Callable[[T], SortKey],
    *,
    query: Mapping[str, str],
    descending: bool = False,
) -> tuple[list[T], str | None]:
    """One page of `items` (any order) and the token of the next, if any."""
    limit = parse_limit(query.get("limit"))
    fingerprint = filter_fingerprint(query)
    ordered = sorted(items, key=key)
    keys = [key(item) for item in ordered]
    token = query.get("nextPageToken")
    if descending:
        end = (
            bisect_left(keys, decode_token(token, fingerprint)) if token else len(keys)
        )
        start = max(0, end - limit)
        page = ordered[start:end][::-1]
        more = start > 0
    else:
        start = bisect_right(keys, decode_token(token, fingerprint)) if token else 0
        page = ordered[start : start + limit]
        more = start + limit < len(ordered)
    next_token = encode_token(key(page[-1]), fingerprint) if more and page else None
    return page, next_token
