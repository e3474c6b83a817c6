"""Dynamic SQL: a statement whose shape varies is composed with `psycopg.sql`, from fixed fragments only.

Most statements are string constants with bound parameters. When a statement's shape depends on the
request (which optional filters apply, where a page starts, which columns an update sets, a table
named in code), it is built here: its fragments are fixed strings written in the repositories, names
are quoted by psycopg, and every value stays a bound parameter, never text in the statement.

    rows = await tx.fetch_all(
        *Select(MEMBER_SELECT)
        .where("m.community_id = %(community_id)s", community_id=community_id)
        .filter("m.role = %(role)s", role=role)  # left out when role is None
        .page(NEWEST_FIRST, after=position, limit=limit)
    )

psycopg is imported when a statement is composed, never when a module is imported (cold start).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from typing import TYPE_CHECKING, Any, LiteralString, NamedTuple

if TYPE_CHECKING:
    from psycopg.sql import Composable, Composed

Params = dict[str, Any]
_POSITION = "page_after_{}"
_LIMIT = "page_limit"


class Order(NamedTuple):
    """The order of a list: SQL expressions, the last one unique, all ascending or all descending."""

    keys: tuple[LiteralString, ...]
    descending: bool = False


class Select:
    """A select whose conditions depend on the request, with keyset pagination."""

    def __init__(self, base: LiteralString) -> None:
        self._base = base
        self._conditions: list[LiteralString] = []
        self.params: Params = {}

    def where(self, condition: LiteralString, **values: Any) -> Select:
        """Add a condition that always applies; its values (for its `%(name)s`) may not be None."""
        if any(value is None for value in values.values()):
            raise ValueError(f"a required condition lacks its value: {condition}")
        return self._add(condition, values)

    def filter(self, condition: LiteralString, **values: Any) -> Select:
        """Add an optional narrowing: left out when any of its values is None."""
        if any(value is None for value in values.values()):
            return self
        return self._add(condition, values)

    def statement(self, *, suffix: LiteralString = "") -> tuple[Composed, Params]:
        """The select with its conditions (and a fixed suffix such as `for update`), and its parameters."""
        from psycopg import sql

        return self._compose([sql.SQL(c) for c in self._conditions], suffix), dict(self.params)

    def page(self, order: Order, after: Sequence[Any] | None, limit: int) -> tuple[Composed, Params]:
        """At most `limit` rows in `order`, after the keyset position `after` (a sort key) when given."""
        from psycopg import sql

        conditions: list[Composable] = [sql.SQL(c) for c in self._conditions]
        params = {**self.params, _LIMIT: limit}
        keys = [sql.SQL(key) for key in order.keys]
        if after is not None:
            if len(after) != len(keys):
                raise ValueError("a keyset position has one value per key of the order")
            names = [_POSITION.format(i) for i in range(len(keys))]
            conditions.append(
                sql.SQL("({}) {} ({})").format(
                    sql.SQL(", ").join(keys),
                    sql.SQL("<" if order.descending else ">"),
                    sql.SQL(", ").join(sql.Placeholder(name) for name in names),
                )
            )
            params.update(zip(names, after, strict=True))
        direction = sql.SQL(" desc" if order.descending else "")
        ordering = sql.SQL(", ").join(sql.Composed([key, direction]) for key in keys)
        tail = sql.SQL("order by {} limit {}").format(ordering, sql.Placeholder(_LIMIT))
        return self._compose(conditions, tail), params

    def _compose(self, conditions: list[Composable], tail: Composable | LiteralString) -> Composed:
        from psycopg import sql

        parts: list[Composable] = [sql.SQL(self._base)]
        if conditions:
            parts.append(sql.SQL("where {}").format(sql.SQL(" and ").join(conditions)))
        if tail:
            parts.append(sql.SQL(tail) if isinstance(tail, str) else tail)
        return sql.SQL("\n").join(parts)

    def _add(self, condition: LiteralString, values: Mapping[str, Any]) -> Select:
        clash = set(values) & {*self.params, _LIMIT}
        if clash or any(name.startswith("page_") for name in values):
            raise ValueError(f"parameter names taken: {sorted(values)}")
        self._conditions.append(condition)
        self.params.update(values)
        return self


def assignments(changes: Mapping[str, Any], allowed: Set[str]) -> Composed:
    """`column = %(column)s, …` for each changed column, every one of them in `allowed`."""
    from psycopg import sql

    unknown = set(changes) - set(allowed)
    if unknown or not changes:
        raise ValueError(f"not updatable: {sorted(unknown)}" if unknown else "nothing to update")
    return sql.SQL(", ").join(
        sql.SQL("{} = {}").format(sql.Identifier(name), sql.Placeholder(name)) for name in sorted(changes)
    )


def identifier(qualified: str) -> Composable:
    """A table or column name from code (`schema.table`), quoted by psycopg."""
    from psycopg import sql

    return sql.Identifier(*qualified.split("."))


def compose(template: LiteralString, **parts: Composable | LiteralString) -> Composed:
    """`template` with its `{name}` slots filled: composed parts as they are, fixed fragments as SQL."""
    from psycopg import sql

    return sql.SQL(template).format(
        **{name: sql.SQL(part) if isinstance(part, str) else part for name, part in parts.items()}
    )
