"""The part of OData that Tapkey's list endpoints accept: $filter, $orderby,
$top and $skip over JSON items.

$filter supports comparisons (`eq ne gt ge lt le`) of a property with a
literal, combined with `and`, `or`, `not` and parentheses. Literals: quoted
strings ('' escapes a quote), true/false/null, integers, and date-times either
bare (OData v4, `2025-01-01T00:00:00Z`) or wrapped (v3, `datetime'...'`).
Ids may be quoted or bare GUIDs. Anything else is rejected, so a client that
relies on more than this finds out here rather than in production.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
import re
from typing import Any, Final

type Item = Mapping[str, Any]
type Predicate = Callable[[Item], bool]
type Literal = str | bool | int | datetime | None

_TOKEN: Final = re.compile(
    r"""\s*(?:
        (?P<string>'(?:[^']|'')*')
      | (?P<datetime>datetime'[^']*'|\d{4}-\d{2}-\d{2}T[0-9:.]+(?:Z|[+-]\d{2}:\d{2})?)
      | (?P<guid>guid'[^']*'|[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12})
      | (?P<number>-?\d+)
      | (?P<paren>[()])
      | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
    )""",
    re.VERBOSE,
)
_COMPARISONS: Final[dict[str, Callable[[Any, Any], bool]]] = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
}


class ODataError(ValueError):
    """A query option this sandbox (and so the client contract) does not accept."""


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str
    text: str


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.lastgroup is None:
            raise ODataError(f"cannot read $filter at {text[position:]!r}")
        tokens.append(_Token(match.lastgroup, match.group(match.lastgroup)))
        position = match.end()
    return tokens


def parse_datetime(text: str) -> datetime:
    """Read an ISO-8601 date-time with an offset; naive ones are refused."""
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        raise ValueError(f"date-time without offset: {text}")
    return parsed.astimezone(UTC)


def _literal(token: _Token) -> Literal:
    match token.kind:
        case "string":
            return token.text[1:-1].replace("''", "'")
        case "datetime":
            raw = token.text.removeprefix("datetime'").removesuffix("'")
            try:
                # v3 literals carry no offset and mean UTC.
                moment = datetime.fromisoformat(raw)
            except ValueError as err:
                raise ODataError(f"bad date-time literal {token.text!r}") from err
            return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(
                UTC
            )
        case "guid":
            return token.text.removeprefix("guid'").removesuffix("'")
        case "number":
            return int(token.text)
        case "word" if token.text in ("true", "false"):
            return token.text == "true"
        case "word" if token.text == "null":
            return None
    raise ODataError(f"expected a literal, got {token.text!r}")


def _item_value(item: Item, name: str, literal: Literal) -> Any:
    value = item.get(name)
    if isinstance(literal, datetime) and isinstance(value, str):
        try:
            return parse_datetime(value)
        except ValueError:
            return None
    return value


def _comparison(name: str, operator: str, literal: Literal) -> Predicate:
    compare = _COMPARISONS[operator]

    def predicate(item: Item) -> bool:
        value = _item_value(item, name, literal)
        if operator in ("eq", "ne"):
            return compare(value, literal)
        if value is None or literal is None or type(value) is not type(literal):
            return False
        return compare(value, literal)

    return predicate


class _Parser:
    """Recursive descent over the token list (precedence: not > and > or)."""

    def __init__(self, tokens: Sequence[_Token]) -> None:
        self._tokens = tokens
        self._index = 0

    def parse(self) -> Predicate:
        predicate = self._or()
        if self._index != len(self._tokens):
            raise ODataError(f"unexpected {self._tokens[self._index].text!r}")
        return predicate

    def _peek_word(self, word: str) -> bool:
        if self._index < len(self._tokens):
            token = self._tokens[self._index]
            return token.kind == "word" and token.text == word
        return False

    def _next(self) -> _Token:
        if self._index >= len(self._tokens):
            raise ODataError("$filter ends too early")
        token = self._tokens[self._index]
        self._index += 1
        return token

    def _or(self) -> Predicate:
        terms = [self._and()]
        while self._peek_word("or"):
            self._index += 1
            terms.append(self._and())
        if len(terms) == 1:
            return terms[0]
        return lambda item: any(term(item) for term in terms)

    def _and(self) -> Predicate:
        terms = [self._unary()]
        while self._peek_word("and"):
            self._index += 1
            terms.append(self._unary())
        if len(terms) == 1:
            return terms[0]
        return lambda item: all(term(item) for term in terms)

    def _unary(self) -> Predicate:
        if self._peek_word("not"):
            self._index += 1
            inner = self._unary()
            return lambda item: not inner(item)
        token = self._next()
        if token.kind == "paren" and token.text == "(":
            inner = self._or()
            closing = self._next()
            if closing.text != ")":
                raise ODataError("missing ')' in $filter")
            return inner
        if token.kind != "word":
            raise ODataError(f"expected a property name, got {token.text!r}")
        operator = self._next()
        if operator.kind != "word" or operator.text not in _COMPARISONS:
            raise ODataError(f"unsupported operator {operator.text!r}")
        return _comparison(token.text, operator.text, _literal(self._next()))


def compile_filter(text: str) -> Predicate:
    """Turn a $filter expression into a predicate over JSON items."""
    return _Parser(_tokenize(text)).parse()


def _sort_key(value: Any) -> tuple[int, Any]:
    # None sorts first, as OData's null does; mixed types fall back to text.
    if value is None:
        return (0, "")
    if isinstance(value, bool | int):
        return (1, int(value))
    return (2, str(value))


def apply_orderby[T](
    items: Sequence[T], text: str, *, view: Callable[[T], Item]
) -> list[T]:
    """Sort by `prop [asc|desc], ...` (stable, so ties keep insertion order)."""
    viewed = [(view(item), item) for item in items]
    clauses = [part.split() for part in text.split(",")]
    for clause in reversed(clauses):
        if not 1 <= len(clause) <= 2 or (
            len(clause) == 2 and clause[1] not in ("asc", "desc")
        ):
            raise ODataError(f"unsupported $orderby clause {' '.join(clause)!r}")
        name = clause[0]
        viewed.sort(
            key=lambda pair: _sort_key(pair[0].get(name)),
            reverse=len(clause) == 2 and clause[1] == "desc",
        )
    return [item for _, item in viewed]


def _non_negative(query: Mapping[str, str], name: str) -> int | None:
    raw = query.get(name)
    if raw is None:
        return None
    if not raw.isdigit():
        raise ODataError(f"{name} must be a non-negative integer")
    return int(raw)


def query_items[T](
    items: Sequence[T],
    query: Mapping[str, str],
    *,
    max_page_size: int,
    view: Callable[[T], Item],
) -> list[T]:
    """Apply $filter, $orderby, $skip and $top (capped at `max_page_size`).

    `view` gives the JSON properties a record is filtered and sorted by; it is
    called only when the query filters or sorts, so plain paging stays cheap.
    """
    selected = list(items)
    if (text := query.get("$filter")) is not None:
        predicate = compile_filter(text)
        selected = [item for item in selected if predicate(view(item))]
    if (order := query.get("$orderby")) is not None:
        selected = apply_orderby(selected, order, view=view)
    skip = _non_negative(query, "$skip") or 0
    top = _non_negative(query, "$top")
    page_size = max_page_size if top is None else min(top, max_page_size)
    return selected[skip : skip + page_size]
