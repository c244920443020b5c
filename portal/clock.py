"""The portal's notion of "now": one function every service asks, so the demo seed (and a
test) can run the same services at another moment with :func:`travel`.

Only code that writes times calls it; the database's own ``now()`` defaults still apply to
rows written without an explicit time."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta

_offset: ContextVar[timedelta] = ContextVar("portal_clock_offset", default=timedelta(0))


def now() -> datetime:
    """The current time, aware (UTC), shifted while :func:`travel` is active."""
    return datetime.now(UTC) + _offset.get()


@contextmanager
def travel(to: datetime) -> Iterator[None]:
    """Run the block as if it were ``to`` (aware); time keeps flowing from there."""
    token = _offset.set(to - datetime.now(UTC))
    try:
        yield
    finally:
        _offset.reset(token)


def traveling() -> bool:
    """True inside :func:`travel` (rows then get explicit times instead of the database's)."""
    return _offset.get() != timedelta(0)
