"""CSV export of a (filtered) audit log, streamed.

Rows come from :func:`services.iter_entries` in keyset batches and leave as soon as they
are written, so a log of millions of rows never sits in memory. Cells that a spreadsheet
would read as a formula are neutralized (CSV injection).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from datetime import UTC

from portal.audit_log.services import Entry

COLUMNS = (
    "created_at",
    "account_id",
    "actor_email",
    "action",
    "sentence",
    "target_type",
    "target_id",
    "target_label",
    "ip",
    "details",
)
# A spreadsheet evaluates a cell starting with one of these as a formula.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
FLUSH_EVERY = 200  # rows per chunk sent to the client


def neutralize(value: object) -> object:
    """Prefix a single quote to text a spreadsheet would take for a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def row(entry: Entry) -> list[object]:
    cells = [
        entry.created_at.astimezone(UTC).isoformat(),
        entry.account_id if entry.account_id is not None else "",
        entry.actor_email or "",
        entry.action,
        entry.sentence,
        entry.target_type or "",
        entry.target_id or "",
        entry.target_label or "",
        entry.ip or "",
        json.dumps(entry.details, ensure_ascii=False, sort_keys=True),
    ]
    return [neutralize(c) for c in cells]


def generate(entries: Iterable[Entry]) -> Iterator[str]:
    """The CSV text in chunks: a byte-order mark (so spreadsheets read UTF-8 accents), the
    header, then rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(COLUMNS)
    for count, entry in enumerate(entries, 1):
        writer.writerow(row(entry))
        if count % FLUSH_EVERY == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
