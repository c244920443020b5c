"""Metered usage in: the files of the metering pipeline (``flask usage import FILE|-``).

A file is JSON Lines or CSV (by its extension, else by its first character: ``{`` is JSON
Lines). Each line is one of:

- a usage event: ``event_id``, ``organization`` (the id, or the CNPJ with or without
  punctuation, numeric or alphanumeric), ``bucket`` (optional), ``metric``
  (``storage_gb_hours``, ``egress_gb``, ``requests_put``, ``requests_get``), ``quantity``,
  ``period_start``, ``period_end`` (ISO 8601 with an offset), ``access_key`` (optional:
  the public id of the key that made the requests, ``PC`` and 18 capitals or digits);
- a bucket snapshot (it has ``measured_at``): ``organization``, ``bucket``, ``objects``,
  ``bytes``, ``measured_at``. It sets the bucket's object count and size only when it is
  newer than the measurement stored.

How (streaming, never the whole file in memory): each line is validated in Python (its
line number and the reason when it is refused); valid lines are COPYed, a batch at a time,
into a TEMP staging table; one SQL statement per batch then resolves organizations and
buckets with joins (an unknown one rejects the line, and its line number comes back),
inserts the events with ``ON CONFLICT (source_event_id) DO NOTHING`` (a duplicate is
counted, not an error), adds the events actually inserted to their day's row of
``usage_daily`` and ``usage_daily_totals`` (INSERT ... ON CONFLICT DO UPDATE: what the
billing page and invoices read)
and applies the newest snapshot per bucket with one UPDATE ... FROM.
An event's ``access_key`` must be a key of its organization (else the line is rejected, and
its event not inserted); each key's ``last_used_at`` moves forward to the latest
``period_end`` of its events (never back), with one more UPDATE ... FROM.

Each batch is one transaction (``commit`` after it): a failure midway leaves whole batches
applied and never half of one, the database never holds one transaction over a million
rows, and running the file again is safe (events are unique by id, snapshots apply only
when newer). A refused line never stops the others.
"""

from __future__ import annotations

import codecs
import csv
import functools
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

from portal import cnpj
from portal.extensions import db
from portal.models import BUCKET_NAME_PATTERN
from portal.usage.pricing import METRICS

BATCH_SIZE = 20_000
MAX_LINE = 16 * 1024  # characters: a usage line is ~250
KEPT_REJECTIONS = 1000  # reasons kept in the result (all are reported as they are found)
EVENT_ID = re.compile(r"^[\x21-\x7e]{1,128}$")  # printable ASCII, no spaces
BUCKET_NAME = re.compile(BUCKET_NAME_PATTERN)
MAX_QUANTITY = Decimal(10) ** 14  # usage_records.quantity is numeric(20,6)
BIGINT = 2**63 - 1
ACCESS_KEY_ID = re.compile(r"^PC[A-Z0-9]{18}$")  # access_keys.key_id (key_id_shape)

EVENT_FIELDS = (
    "event_id",
    "organization",
    "bucket",
    "metric",
    "quantity",
    "period_start",
    "period_end",
    "access_key",
)
SNAPSHOT_FIELDS = ("organization", "bucket", "objects", "bytes", "measured_at")
KNOWN_FIELDS = {"type", *EVENT_FIELDS, *SNAPSHOT_FIELDS}
TYPES = {"usage": False, "bucket_snapshot": True}
# The command speaks English (operators' logs), so the CNPJ's reasons are said here.
CNPJ_PROBLEMS = {
    "required": "empty",
    "format": "only digits and letters, with or without . / - punctuation",
    "length": "a CNPJ has 14 characters",
    "checksum": "its check digits do not match",
}

STAGING_COLUMNS = (
    "line",
    "snapshot",
    "event_id",
    "org_id",
    "org_cnpj",
    "bucket",
    "metric",
    "quantity",
    "period_start",
    "period_end",
    "objects",
    "bytes",
    "measured_at",
    "access_key",
)

STAGING = """
CREATE TEMP TABLE IF NOT EXISTS usage_staging (
    line bigint NOT NULL,
    snapshot boolean NOT NULL,
    event_id text,
    org_id bigint,
    org_cnpj text,
    bucket text,
    metric text,
    quantity numeric(20, 6),
    period_start timestamptz,
    period_end timestamptz,
    objects bigint,
    bytes bigint,
    measured_at timestamptz,
    access_key text
)
"""

# One statement per batch: resolve, insert, apply, and report back. ``ok``: an event whose
# organization, bucket (if named) and access key (if named) are all known.
APPLY = """
WITH r AS MATERIALIZED (
    SELECT s.*, coalesce(ai.id, ac.id) AS account_id, b.id AS bucket_id, k.id AS key_pk,
           (coalesce(ai.id, ac.id) IS NOT NULL AND (s.bucket IS NULL OR b.id IS NOT NULL)
            AND (s.access_key IS NULL OR k.id IS NOT NULL)) AS ok
      FROM usage_staging s
      LEFT JOIN accounts ai ON ai.id = s.org_id
      LEFT JOIN accounts ac ON ac.cnpj = s.org_cnpj
      LEFT JOIN buckets b ON b.account_id = coalesce(ai.id, ac.id) AND b.name = s.bucket
      LEFT JOIN access_keys k
             ON k.account_id = coalesce(ai.id, ac.id) AND k.key_id = s.access_key
),
ins AS (
    INSERT INTO usage_records
           (account_id, bucket_id, metric, quantity, period_start, period_end, source_event_id)
    SELECT account_id, bucket_id, metric, quantity, period_start, period_end, event_id
      FROM r
     WHERE NOT snapshot AND ok
     ORDER BY line
        ON CONFLICT (source_event_id) DO NOTHING
    RETURNING account_id, bucket_id, metric, quantity, period_start
),
-- The rows actually inserted (never a duplicate) added to their day's total; grouped, so
-- no key twice in one INSERT, and in key order, so two imports lock rows in one order.
daily AS (
    INSERT INTO usage_daily AS d (account_id, day, metric, bucket_key, quantity)
    SELECT account_id, (period_start AT TIME ZONE 'UTC')::date, metric,
           coalesce(bucket_id, 0), sum(quantity)
      FROM ins
     GROUP BY 1, 2, 3, 4
     ORDER BY 1, 2, 3, 4
        ON CONFLICT (account_id, day, metric, bucket_key)
        DO UPDATE SET quantity = d.quantity + EXCLUDED.quantity
),
daily_totals AS (
    INSERT INTO usage_daily_totals AS t (account_id, day, metric, quantity)
    SELECT account_id, (period_start AT TIME ZONE 'UTC')::date, metric, sum(quantity)
      FROM ins
     GROUP BY 1, 2, 3
     ORDER BY 1, 2, 3
        ON CONFLICT (account_id, day, metric)
        DO UPDATE SET quantity = t.quantity + EXCLUDED.quantity
),
newest AS (
    SELECT DISTINCT ON (bucket_id) bucket_id, objects, bytes, measured_at
      FROM r
     WHERE snapshot AND bucket_id IS NOT NULL
     ORDER BY bucket_id, measured_at DESC, line DESC
),
snap AS (
    UPDATE buckets b
       SET object_count = n.objects, size_bytes = n.bytes, usage_measured_at = n.measured_at,
           updated_at = now()
      FROM newest n
     WHERE b.id = n.bucket_id
       AND (b.usage_measured_at IS NULL OR n.measured_at > b.usage_measured_at)
    RETURNING b.account_id
),
used AS (
    SELECT key_pk, account_id, least(max(period_end), now()) AS used_at
      FROM r
     WHERE NOT snapshot AND ok AND key_pk IS NOT NULL
     GROUP BY key_pk, account_id
),
-- A suspended organization's keys are left alone: its keys cannot be used anyway, and
-- 0012's trigger refuses any change to them but switching one off. FOR SHARE (status
-- re-checked on the newest row): a suspension cannot slip in before the UPDATE below.
writable AS (
    SELECT a.id
      FROM accounts a
     WHERE a.id IN (SELECT account_id FROM used) AND a.status <> 'suspended'
       FOR SHARE
),
keys AS (
    UPDATE access_keys k
       SET last_used_at = u.used_at
      FROM used u
     WHERE k.id = u.key_pk
       AND u.account_id IN (SELECT id FROM writable)
       AND (k.last_used_at IS NULL OR u.used_at > k.last_used_at)
    RETURNING k.account_id
)
SELECT 'unknown_organization' AS kind, line AS n, org_id, coalesce(org_cnpj, '') AS detail
  FROM r WHERE account_id IS NULL
UNION ALL
SELECT 'unknown_bucket', line, account_id, bucket
  FROM r WHERE account_id IS NOT NULL AND bucket IS NOT NULL AND bucket_id IS NULL
UNION ALL
SELECT 'unknown_access_key', line, account_id, access_key
  FROM r
 WHERE account_id IS NOT NULL AND (bucket IS NULL OR bucket_id IS NOT NULL)
   AND access_key IS NOT NULL AND key_pk IS NULL
UNION ALL
SELECT 'inserted', count(*), account_id, '' FROM ins GROUP BY account_id
UNION ALL
SELECT 'snapshot', count(*), account_id, '' FROM snap GROUP BY account_id
UNION ALL
SELECT 'keys', count(*), NULL, '' FROM keys
UNION ALL
SELECT 'resolved',
       count(*) FILTER (WHERE NOT snapshot AND ok),
       count(*) FILTER (WHERE snapshot AND bucket_id IS NOT NULL),
       ''
  FROM r
"""


class LineError(ValueError):
    """Why a line is refused (a sentence for the operator, in English like the CLI)."""


@dataclass(frozen=True)
class Rejected:
    line: int
    reason: str


@dataclass
class Result:
    inserted: int = 0  # events added
    duplicate: int = 0  # events whose id was already imported (or repeated in the file)
    rejected: int = 0  # lines refused (the reasons: ``rejections``, the first 1000)
    applied: int = 0  # bucket snapshots that updated a bucket
    stale: int = 0  # bucket snapshots not newer than the stored one or a later line's
    keys_seen: int = 0  # access keys whose last_used_at moved forward
    lines: int = 0
    rejections: list[Rejected] = field(default_factory=list)
    accounts: set[int] = field(default_factory=set)  # organizations touched

    def reject(self, line: int, reason: str) -> Rejected:
        self.rejected += 1
        item = Rejected(line, reason)
        if len(self.rejections) < KEPT_REJECTIONS:
            self.rejections.append(item)
        return item


# ------------------------------------------------------------------------ parsing ---
def detect_format(name: str, first: str) -> str:
    """``"jsonl"`` or ``"csv"``: by the file's extension, else by its first character."""
    lowered = name.lower()
    if lowered.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    if lowered.endswith(".csv"):
        return "csv"
    return "jsonl" if first.lstrip("\ufeff \t\r\n").startswith("{") else "csv"


def _text(value, name: str) -> str:
    if value is None or value == "":
        raise LineError(f"{name} is missing")
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise LineError(f"{name} must be text")
    return str(value).strip()


def organization(value) -> tuple[int | None, str | None]:
    """(id, None) or (None, normalized CNPJ): an id is a number (or digits, not 14 of
    them); a CNPJ is 14 characters with or without ``. / -``, numeric or alphanumeric."""
    if isinstance(value, int) and not isinstance(value, bool):
        if 0 < value <= BIGINT:
            return value, None
        raise LineError("organization: an id is a positive number")
    raw = _text(value, "organization")
    if raw.isascii() and raw.isdigit() and len(raw) != cnpj.LENGTH:
        if len(raw) > 18 or int(raw) == 0:
            raise LineError("organization: an id is a positive number")
        return int(raw), None
    number, problem = _cnpj(raw)
    if problem:
        raise LineError(f"organization: neither an id nor a valid CNPJ ({problem})")
    return None, number


@functools.lru_cache(maxsize=65536)
def _cnpj(raw: str) -> tuple[str | None, str | None]:
    """(normalized CNPJ, None) or (None, why not): a file names the same organizations
    over and over, so each distinct spelling is checked once."""
    try:
        return cnpj.validate(raw), None
    except cnpj.InvalidCNPJ as exc:
        return None, CNPJ_PROBLEMS[exc.reason]


def timestamp(value, name: str) -> datetime:
    raw = _text(value, name)
    try:
        when = datetime.fromisoformat(raw)
    except ValueError:
        raise LineError(f"{name}: not an ISO 8601 date and time ({raw[:40]!r})") from None
    if when.tzinfo is None or when.utcoffset() is None:
        raise LineError(f"{name}: needs a UTC offset (for example 2026-11-01T00:00:00-03:00)")
    return when


def quantity(value) -> Decimal:
    if isinstance(value, bool) or value is None or value == "":
        raise LineError("quantity is missing" if value in (None, "") else "quantity: a number")
    try:
        number = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        raise LineError(f"quantity: not a number ({str(value)[:40]!r})") from None
    if not number.is_finite():
        raise LineError("quantity: not a finite number")
    if number < 0:
        raise LineError("quantity: must not be negative")
    if number >= MAX_QUANTITY:
        raise LineError("quantity: too large (at most 14 digits before the decimal point)")
    if number.as_tuple().exponent < -6 and number != number.quantize(Decimal("0.000001")):
        raise LineError("quantity: at most 6 decimal places")
    return number


def count(value, name: str) -> int:
    if isinstance(value, bool):
        raise LineError(f"{name}: a whole number")
    raw = value if isinstance(value, int) else _text(value, name)
    if isinstance(raw, str) and not (raw.isascii() and raw.isdigit()):
        raise LineError(f"{name}: a whole number")
    try:
        number = int(raw)
    except ValueError:
        raise LineError(f"{name}: a whole number") from None
    if not 0 <= number <= BIGINT:
        raise LineError(f"{name}: must be between 0 and {BIGINT}")
    return number


def bucket_name(value, *, required: bool) -> str | None:
    if value is None or value == "":
        if required:
            raise LineError("bucket is missing")
        return None
    name = _text(value, "bucket")
    if not _bucket_name_ok(name):
        raise LineError(f"bucket: {name[:70]!r} is not a bucket name")
    return name


@functools.lru_cache(maxsize=65536)
def _bucket_name_ok(name: str) -> bool:
    return BUCKET_NAME.match(name) is not None


def access_key(value) -> str | None:
    """The public id of an access key (optional), or LineError."""
    if value is None or value == "":
        return None
    key_id = _text(value, "access_key")
    if not ACCESS_KEY_ID.fullmatch(key_id):
        raise LineError(
            f"access_key: {key_id[:40]!r} is not an access key id (PC and 18 capitals or digits)"
        )
    return key_id


def staged_row(line: int, record: dict) -> tuple:
    """The staging row of one record (a dict of the line's fields), or LineError."""
    unknown = record.keys() - KNOWN_FIELDS
    if unknown:
        raise LineError(f"unknown field {sorted(unknown)[0][:40]!r}")
    kind = record.get("type")
    if kind not in (None, "", *TYPES):
        raise LineError("type: usage or bucket_snapshot")
    snapshot = TYPES[kind] if kind else record.get("measured_at") not in (None, "")
    org_id, org_cnpj = organization(record.get("organization"))
    if snapshot:
        if record.get("access_key") not in (None, ""):
            raise LineError("access_key: only on usage events, not on bucket snapshots")
        return (
            line,
            True,
            None,
            org_id,
            org_cnpj,
            bucket_name(record.get("bucket"), required=True),
            None,
            None,
            None,
            None,
            count(record.get("objects"), "objects"),
            count(record.get("bytes"), "bytes"),
            timestamp(record.get("measured_at"), "measured_at"),
            None,
        )
    event_id = _text(record.get("event_id"), "event_id")
    if not EVENT_ID.match(event_id):
        raise LineError("event_id: 1 to 128 printable ASCII characters, no spaces")
    metric = _text(record.get("metric"), "metric")
    if metric not in METRICS:
        raise LineError(f"metric: {metric[:40]!r} is not one of {', '.join(METRICS)}")
    start = timestamp(record.get("period_start"), "period_start")
    end = timestamp(record.get("period_end"), "period_end")
    if end <= start:
        raise LineError("period_end must be after period_start")
    return (
        line,
        False,
        event_id,
        org_id,
        org_cnpj,
        bucket_name(record.get("bucket"), required=False),
        metric,
        quantity(record.get("quantity")),
        start,
        end,
        None,
        None,
        None,
        access_key(record.get("access_key")),
    )


def _no_constant(name):
    raise ValueError(name)


DECODER = json.JSONDecoder(parse_float=Decimal, parse_constant=_no_constant)


def _json_record(text: str) -> dict:
    try:
        record = DECODER.decode(text)
    except (ValueError, RecursionError):
        raise LineError("not valid JSON") from None
    if not isinstance(record, dict):
        raise LineError("not a JSON object")
    return record


def _decoded(raw_lines: Iterable[bytes], bad: dict[int, str]) -> Iterator[str]:
    """Lines as text; a line that is not UTF-8 (or holds a NUL, which PostgreSQL text
    cannot) becomes empty and its reason goes into ``bad``."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    for number, raw in enumerate(raw_lines, start=1):
        try:
            text = decoder.decode(raw)
        except UnicodeDecodeError:
            decoder.reset()
            bad[number] = "not UTF-8 text"
            yield "\n"
            continue
        if "\x00" in text:
            bad[number] = "holds a NUL character"
            yield "\n"
            continue
        if len(text) > MAX_LINE:
            bad[number] = f"longer than {MAX_LINE} characters"
            yield "\n"
            continue
        yield text


def records(
    raw_lines: Iterable[bytes], fmt: str, result: Result
) -> Iterator[tuple[int, tuple | Rejected]]:
    """(line number, staging row or Rejected) for each non-empty line."""
    bad: dict[int, str] = {}
    lines = _decoded(raw_lines, bad)
    if fmt == "jsonl":
        for number, text in enumerate(lines, start=1):
            if number in bad:
                yield number, result.reject(number, bad.pop(number))
                continue
            if not text.strip():
                continue
            try:
                yield number, staged_row(number, _json_record(text))
            except LineError as exc:
                yield number, result.reject(number, str(exc))
        return
    reader = csv.reader(lines, strict=True)
    header: list[str] | None = None
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            number = reader.line_num
            yield number, result.reject(number, f"not valid CSV ({exc})")
            continue
        number = reader.line_num
        if number in bad:
            yield number, result.reject(number, bad.pop(number))
            continue
        if not row or not any(cell.strip() for cell in row):
            continue
        if header is None:
            header = [cell.strip().lower() for cell in row]
            unknown = [h for h in header if h not in KNOWN_FIELDS]
            if unknown or len(set(header)) != len(header):
                yield number, result.reject(number, "header: unknown or repeated column names")
                header = None
            continue
        if len(row) != len(header):
            yield number, result.reject(number, f"{len(row)} columns, the header has {len(header)}")
            continue
        record = {k: v.strip() for k, v in zip(header, row, strict=True) if v.strip() != ""}
        try:
            yield number, staged_row(number, record)
        except LineError as exc:
            yield number, result.reject(number, str(exc))


# ------------------------------------------------------------------------- import ---
def _apply_batch(rows: list[tuple], result: Result, report: Callable[[Rejected], None]) -> None:
    connection = db.session.connection()
    connection.exec_driver_sql(STAGING)
    connection.exec_driver_sql("TRUNCATE usage_staging")
    raw = connection.connection.driver_connection
    copy_sql = f"COPY usage_staging ({', '.join(STAGING_COLUMNS)}) FROM STDIN"
    with raw.cursor() as cursor, cursor.copy(copy_sql) as copy:
        for row in rows:
            copy.write_row(row)
    found = connection.exec_driver_sql(APPLY).all()
    events = snapshots = inserted = applied = 0
    refused = []
    for kind, n, account_id, detail in found:
        if kind == "unknown_organization":
            refused.append((n, f"unknown organization {account_id or detail}"))
        elif kind == "unknown_bucket":
            refused.append((n, f"unknown bucket {detail!r} in organization {account_id}"))
        elif kind == "unknown_access_key":
            refused.append((n, f"unknown access key {detail!r} in organization {account_id}"))
        elif kind == "keys":
            result.keys_seen += n
        elif kind == "inserted":
            inserted += n
            result.accounts.add(account_id)
        elif kind == "snapshot":
            applied += n
            result.accounts.add(account_id)
        else:
            events, snapshots = n, account_id
    for line, reason in sorted(refused):
        report(result.reject(line, reason))
    result.inserted += inserted
    result.duplicate += events - inserted
    result.applied += applied
    result.stale += snapshots - applied


def import_lines(
    raw_lines: Iterable[bytes],
    fmt: str,
    *,
    commit: Callable[[], None] = lambda: None,
    report: Callable[[Rejected], None] = lambda r: None,
    progress: Callable[[int], None] = lambda n: None,
    batch_size: int = BATCH_SIZE,
) -> Result:
    """Import the lines (bytes, as read from the file) of a usage file in format ``fmt``.

    ``commit`` runs after each batch (the CLI commits; the seed and the tests leave the
    transaction to their caller); ``report`` gets each refused line as it is found (in
    line order within a batch); ``progress`` the number of lines read since the last call.
    Threshold notices are the caller's next step (:func:`portal.usage.thresholds.check`
    with ``result.accounts``)."""
    result = Result()
    batch: list[tuple] = []
    shown = 0  # the lines the progress has been told about
    for number, item in records(raw_lines, fmt, result):
        result.lines = number
        if isinstance(item, Rejected):
            report(item)
        else:
            batch.append(item)
        if len(batch) >= batch_size:
            _apply_batch(batch, result, report)
            commit()
            batch = []
            progress(number - shown)
            shown = number
    if batch:
        _apply_batch(batch, result, report)
        commit()
    progress(result.lines - shown)
    return result


def import_file(path: str, stream=None, **kwargs) -> Result:
    """Import the file at ``path`` (or the binary ``stream``, e.g. standard input, when
    ``path`` is ``-``), detecting its format."""
    if stream is None:
        with open(path, "rb") as handle:
            return _import_stream(path, handle, **kwargs)
    return _import_stream(path, stream, **kwargs)


def _import_stream(name: str, stream, **kwargs) -> Result:
    first = stream.readline()
    fmt = detect_format(name if name != "-" else "", first.decode("utf-8", "replace"))

    def lines():
        if first:
            yield first
        yield from stream

    return import_lines(lines(), fmt, **kwargs)
