"""Keyset pagination, once for every list.

A list is ordered by a :class:`Keyset` — columns with a direction, the last one unique (an
id) — and a page is "the first ``limit`` rows after the cursor", the cursor being the last
row's values of those columns. Never OFFSET: page 10,000 costs what page 1 costs, as long as
an index matches the order (``tests/db/test_query_plans.py`` checks each list's plan).

- columns that all run the same way compare as one row value,
  ``(created_at, id) < (:c, :i)``: one index range scan;
- a mixed order (notifications: ``read`` ascending, then newest first) is split into runs
  of one direction, and the page is the UNION ALL of one range scan per run ("the rest of
  this group", "the next groups"), each at most ``limit`` rows, sorted here. No page skips
  rows whatever its depth, and the database never sorts.

:class:`ListForm` is the base of every list's GET form (filters + the cursor field), and
``templates/_macros/lists.html`` draws the pager from :meth:`ListForm.links`.

A list whose parts have different orders (the quota review queue: pending oldest first, then
decided most recent first) is a :class:`Chain` of keysets: one statement per page too.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar
from urllib.parse import urlencode

from flask_babel import gettext
from flask_wtf import FlaskForm
from sqlalchemy import (
    Boolean,
    DateTime,
    Integer,
    Select,
    String,
    and_,
    inspect,
    literal,
    select,
    tuple_,
)
from sqlalchemy import union_all as sa_union_all
from sqlalchemy.orm import Mapper
from sqlalchemy.sql.elements import ColumnElement
from wtforms import HiddenField

from portal.errors import Invalid
from portal.extensions import db

T = TypeVar("T")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_ID = 2**63 - 1


# ----------------------------------------------------------------------------- keys ---
@dataclass(frozen=True)
class Key:
    """One column of a list's order. ``name`` is how a fetched row exposes its value
    (default: the column's key). ``last``: the key's last value in its direction, when it
    has one (a rank 1, 2, 3 ascending ends at 3): a page that starts there has nothing
    beyond it on this key, so no query is sent for "the next groups"."""

    column: ColumnElement
    desc: bool = True
    name: str | None = None
    last: Any = None

    @property
    def attr(self) -> str:
        return self.name or self.column.key

    @property
    def kind(self) -> str:
        sql_type = self.column.type
        if isinstance(sql_type, DateTime):
            return "ts"
        if isinstance(sql_type, Boolean):
            return "bool"
        if isinstance(sql_type, Integer):
            return "int"
        if isinstance(sql_type, String):
            return "str"
        raise TypeError(f"no cursor coding for {sql_type!r}")

    def order_by(self):
        return self.column.desc() if self.desc else self.column.asc()


def _encode(kind: str, value: Any) -> str:
    if kind == "ts":
        return str((value - _EPOCH) // timedelta(microseconds=1))
    if kind == "bool":
        return "1" if value else "0"
    if kind == "int":
        return str(int(value))
    return base64.urlsafe_b64encode(str(value).encode()).decode().rstrip("=") or "-"


def _decode(kind: str, part: str) -> Any:
    if kind == "ts":
        return _EPOCH + timedelta(microseconds=int(part))
    if kind == "bool":
        if part not in ("0", "1"):
            raise ValueError(part)
        return part == "1"
    if kind == "int":
        value = int(part)
        if not 0 < value <= MAX_ID:  # ids are bigints: beyond, psycopg cannot send it
            raise ValueError(part)
        return value
    if part == "-":
        return ""
    # validate: a character outside the URL-safe alphabet is an error, not skipped.
    padded = part + "=" * (-len(part) % 4)
    return base64.b64decode(padded, altchars=b"-_", validate=True).decode()


@dataclass(frozen=True)
class Cursor:
    """The position after the last row shown: its values of the keyset's columns."""

    values: tuple
    kinds: tuple[str, ...]

    def encode(self) -> str:
        return ".".join(_encode(k, v) for k, v in zip(self.kinds, self.values, strict=True))

    def __str__(self) -> str:
        return self.encode()


@dataclass
class Page(Generic[T]):
    rows: list[T]
    next_cursor: Cursor | None = None

    def __iter__(self):
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __bool__(self) -> bool:  # a page object is "there" even when it has no rows
        return True


class Keyset:
    """A list's order: ``Keyset(Key(AuditLog.created_at), Key(AuditLog.id))``."""

    def __init__(self, *keys: Key):
        if not keys:
            raise ValueError("a keyset needs at least one column")
        self.keys = keys
        self.kinds = tuple(k.kind for k in keys)

    # -- cursors
    def cursor_of(self, row) -> Cursor:
        return Cursor(tuple(getattr(row, k.attr) for k in self.keys), self.kinds)

    def decode(self, token: str, field: str = "before") -> Cursor:
        """Parse a cursor from a URL; anything malformed is Invalid (422) on ``field``."""
        try:
            parts = token.split(".")
            if len(parts) != len(self.keys):
                raise ValueError(token)
            values = tuple(_decode(k, p) for k, p in zip(self.kinds, parts, strict=True))
        except (ValueError, OverflowError, UnicodeDecodeError, TypeError) as exc:
            raise Invalid(gettext("This page link is not valid."), field=field) from exc
        return Cursor(values, self.kinds)

    # -- queries
    def order_by(self) -> list:
        return [k.order_by() for k in self.keys]

    def _runs(self) -> list[list[int]]:
        """Indexes of the keys, grouped into runs of one direction."""
        runs: list[list[int]] = []
        for i, key in enumerate(self.keys):
            if runs and self.keys[runs[-1][-1]].desc == key.desc:
                runs[-1].append(i)
            else:
                runs.append([i])
        return runs

    def _beyond(self, indexes: list[int], cursor: Cursor):
        """The rows strictly after the cursor on the columns ``indexes`` (one direction)."""
        cols = [self.keys[i].column for i in indexes]
        vals = [literal(cursor.values[i], type_=self.keys[i].column.type) for i in indexes]
        desc = self.keys[indexes[0]].desc
        if len(cols) == 1:
            return cols[0] < vals[0] if desc else cols[0] > vals[0]
        left, right = tuple_(*cols), tuple_(*vals)
        return left < right if desc else left > right

    def segments(self, stmt: Select, cursor: Cursor | None, limit: int) -> list[Select]:
        """The statement(s) whose union holds the page: one per run of the order."""
        ordered = stmt.order_by(*self.order_by()).limit(limit)
        if cursor is None:
            return [ordered]
        segments = []
        runs = self._runs()
        for r, run in enumerate(runs):
            if len(run) == 1 and r < len(runs) - 1:
                key = self.keys[run[0]]
                if key.last is not None and cursor.values[run[0]] == key.last:
                    continue  # nothing comes after the last value of this key
            equal = [
                self.keys[i].column == literal(cursor.values[i], type_=self.keys[i].column.type)
                for j in runs[:r]
                for i in j
            ]
            segments.append(ordered.where(and_(*equal, self._beyond(run, cursor))))
        return segments

    def sort(self, rows: list) -> list:
        """Rows of several segments in the list's order (a stable sort per column)."""
        for key in reversed(self.keys):
            rows.sort(key=lambda row, k=key: getattr(row, k.attr), reverse=key.desc)
        return rows

    def statement(self, stmt: Select, cursor: Cursor | None, limit: int):
        """The one statement that reads the page (EXPLAIN it to check the plan)."""
        segments = self.segments(stmt, cursor, limit)
        if len(segments) == 1:
            return segments[0]
        union = sa_union_all(*segments)
        entity = _entity(stmt)
        return select(entity).from_statement(union) if entity is not None else union

    def fetch(self, stmt: Select, cursor: Cursor | None, limit: int) -> list:
        statement = self.statement(stmt, cursor, limit)
        result = db.session.execute(statement)
        rows = list(result.scalars() if _entity(stmt) is not None else result)
        if cursor is not None and len(self._runs()) > 1:
            rows = self.sort(rows)[:limit]
        return rows

    def page(self, stmt: Select, cursor: Cursor | None, limit: int) -> Page:
        """At most ``limit`` rows after ``cursor`` and the cursor of the next page (None
        on the last one). One query (one statement, a UNION ALL for a mixed order)."""
        rows = self.fetch(stmt, cursor, limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        return Page(rows, self.cursor_of(rows[-1]) if more and rows else None)

    def iterate(self, stmt: Select, batch: int = 1000) -> Iterator:
        """Every row in order, fetched ``batch`` at a time (exports): memory stays flat
        however long the list is."""
        cursor = None
        while True:
            rows = self.fetch(stmt, cursor, batch)
            yield from rows
            if len(rows) < batch:
                return
            cursor = self.cursor_of(rows[-1])


def _entity(stmt: Select):
    """The mapped class when ``stmt`` selects one ORM entity (rows are objects)."""
    descriptions = stmt.column_descriptions
    if len(descriptions) == 1:
        expr = descriptions[0].get("expr")
        if isinstance(expr, type) and isinstance(inspect(expr, raiseerr=False), Mapper):
            return expr
    return None


# --------------------------------------------------------------------------- chains ---
CHAIN_PART = "chain_part"  # the column each part's rows carry: the index of their part


@dataclass(frozen=True)
class ChainCursor:
    """A position in a :class:`Chain`: which part, and the keyset cursor inside it."""

    part: int
    cursor: Cursor

    def encode(self) -> str:
        return f"{self.part}.{self.cursor.encode()}"

    def __str__(self) -> str:
        return self.encode()


class Chain:
    """A list made of keyset lists one after the other, each with its own order — the quota
    review queue is the pending requests, oldest first, then the decided ones, most recently
    decided first. No single index order can give that, but each part has its own index.

    ``page(statements, cursor, limit)`` takes one statement per part (column selects, not
    ORM entities: the parts are united; None for a part a filter leaves out) and reads the
    page in one statement: the UNION ALL
    of the cursor's part after the cursor and of every later part from its start, each at
    most ``limit`` rows (one index range scan each); the rows are then put in chain order
    here. A cursor is ``<part>.<keyset cursor>``; a page may end one part and begin the
    next. ListForm reads it like a Keyset (``keyset = chain``)."""

    def __init__(self, *parts: Keyset):
        if not parts:
            raise ValueError("a chain needs at least one part")
        self.parts = parts

    def decode(self, token: str, field: str = "before") -> ChainCursor:
        head, _, rest = token.partition(".")
        if not (head.isascii() and head.isdigit() and int(head) < len(self.parts)):
            raise Invalid(gettext("This page link is not valid."), field=field)
        return ChainCursor(int(head), self.parts[int(head)].decode(rest, field=field))

    def segments(
        self, statements: Sequence[Select], cursor: ChainCursor | None, limit: int
    ) -> list[Select]:
        if len(statements) != len(self.parts):
            raise ValueError("one statement per part of the chain")
        first = cursor.part if cursor is not None else 0
        segments = []
        for index in range(first, len(self.parts)):
            if statements[index] is None:
                continue
            after = cursor.cursor if cursor is not None and index == first else None
            stmt = statements[index].add_columns(literal(index).label(CHAIN_PART))
            segments += self.parts[index].segments(stmt, after, limit)
        return segments

    def statement(self, statements: Sequence[Select], cursor: ChainCursor | None, limit: int):
        """The one statement that reads the page (EXPLAIN it to check the plan)."""
        segments = self.segments(statements, cursor, limit)
        if not segments:  # every remaining part is filtered out: an empty page
            return select(literal(None)).where(literal(False))
        return segments[0] if len(segments) == 1 else sa_union_all(*segments)

    def page(self, statements: Sequence[Select], cursor: ChainCursor | None, limit: int) -> Page:
        """At most ``limit`` rows after ``cursor`` and the next page's cursor. One query."""
        if not self.segments(statements, cursor, limit + 1):
            return Page([], None)
        rows = list(db.session.execute(self.statement(statements, cursor, limit + 1)))
        ordered = []
        for index, keyset in enumerate(self.parts):
            ordered += keyset.sort([r for r in rows if getattr(r, CHAIN_PART) == index])
        more = len(ordered) > limit
        ordered = ordered[:limit]
        next_cursor = None
        if more and ordered:
            last = ordered[-1]
            part = getattr(last, CHAIN_PART)
            next_cursor = ChainCursor(part, self.parts[part].cursor_of(last))
        return Page(ordered, next_cursor)


# ---------------------------------------------------------------------------- forms ---
@dataclass
class Links:
    """What a list's pager and filter form need: the next page, the first page, and
    whether the view is filtered or paged (for "Clear filters" and the empty message)."""

    url: str
    next_url: str | None = None
    newest_url: str = ""
    filtered: bool = False
    paged: bool = False
    args: dict = field(default_factory=dict)

    def with_args(self, url: str) -> str:
        """``url`` with this view's filters (a CSV export of the same view)."""
        return f"{url}?{urlencode(self.args)}" if self.args else url


class ListForm(FlaskForm):
    """The GET form of a list: its filters (subclasses add fields) and the cursor field.

    Read from ``request.args`` (``ListForm(formdata=request.args)``), without CSRF (it only
    reads). ``keyset`` is the list's order, used to decode the cursor; a subclass whose URL
    calls the cursor something else declares ``before = HiddenField(name="after")``."""

    class Meta:
        csrf = False

    before = HiddenField()
    keyset: Keyset | None = None

    def cursor(self) -> Cursor | None:
        """The decoded cursor, or None on the first page; a malformed one puts its message
        on the field and raises Invalid."""
        token = (self.before.data or "").strip()
        if not token:
            return None
        try:
            return self.keyset.decode(token, field=self.before.name)
        except Invalid as exc:
            self.before.errors = [exc.message]
            raise

    def parse(self) -> tuple[bool, Cursor | None]:
        """Validate the filters and the cursor: (ok, cursor)."""
        ok = self.validate()
        try:
            cursor = self.cursor()
        except Invalid:
            return False, None
        return ok, cursor

    def query_args(self) -> dict:
        """The filters as query-string arguments (without the cursor), for links."""
        args = {}
        for f in self:
            if f is self.before:
                continue
            # A field that keeps what was typed (a date) gives it back as it was typed.
            value = f._value() if getattr(f, "keeps_raw", False) else f.data
            if isinstance(value, str):
                value = value.strip()
            if value not in (None, "", False):
                args[f.name] = value
        return args

    def links(self, url: str, page: Page | None) -> Links:
        args = self.query_args()
        next_url = None
        if page is not None and page.next_cursor is not None:
            next_url = f"{url}?" + urlencode({**args, self.before.name: page.next_cursor.encode()})
        return Links(
            url=url,
            next_url=next_url,
            newest_url=f"{url}?{urlencode(args)}" if args else url,
            filtered=bool(args),
            paged=bool((self.before.data or "").strip()),
            args=args,
        )
