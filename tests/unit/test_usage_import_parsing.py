"""The usage import's line parsing and validation (no database): formats, organizations
by id or CNPJ (formatted, bare, alphanumeric), each field's reason when it is refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from portal.usage import importer
from portal.usage.importer import LineError, Result

EVENT = {
    "event_id": "evt-1",
    "organization": "42",
    "metric": "egress_gb",
    "quantity": "1.5",
    "period_start": "2026-11-01T00:00:00-03:00",
    "period_end": "2026-11-01T01:00:00-03:00",
}
SNAPSHOT = {
    "organization": 42,
    "bucket": "fotos",
    "objects": 10,
    "bytes": "2048",
    "measured_at": "2026-11-02T00:00:00Z",
}


@pytest.mark.parametrize(
    ("name", "first", "fmt"),
    [
        ("usage.jsonl", "event_id,x", "jsonl"),
        ("usage.ndjson", "", "jsonl"),
        ("usage.CSV", "{", "csv"),
        ("-", '{"event_id": 1}', "jsonl"),
        ("-", "\ufeff{", "jsonl"),
        ("-", "event_id,organization", "csv"),
        ("dump.txt", "  {", "jsonl"),
    ],
)
def test_the_format_by_extension_then_first_character(name, first, fmt):
    assert importer.detect_format(name, first) == fmt


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (42, (42, None)),
        ("42", (42, None)),
        ("123456789012345678", (123456789012345678, None)),
        ("11.222.333/0001-81", (None, "11222333000181")),
        ("11222333000181", (None, "11222333000181")),
        ("12.abc.345/01de-35", (None, "12ABC34501DE35")),
        (" 12ABC34501DE35 ", (None, "12ABC34501DE35")),
    ],
)
def test_an_organization_is_an_id_or_a_cnpj(value, expected):
    assert importer.organization(value) == expected


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (None, "organization is missing"),
        ("", "organization is missing"),
        (0, "an id is a positive number"),
        (-5, "an id is a positive number"),
        ("0", "an id is a positive number"),
        ("1234567890123456789", "an id is a positive number"),
        ("11.222.333/0001-00", "neither an id nor a valid CNPJ"),
        ("11222333000100", "neither an id nor a valid CNPJ"),
        ("Acme", "neither an id nor a valid CNPJ"),
        ("４２", "neither an id nor a valid CNPJ"),
        (True, "organization must be text"),
        (1.5, "organization must be text"),
    ],
)
def test_an_organization_that_is_neither_is_refused(value, reason):
    with pytest.raises(LineError, match=reason):
        importer.organization(value)


def test_an_event_line_becomes_a_staging_row():
    row = importer.staged_row(7, dict(EVENT, bucket="fotos"))
    assert row[:8] == (7, False, "evt-1", 42, None, "fotos", "egress_gb", Decimal("1.5"))
    assert row[8] == datetime(2026, 11, 1, 3, tzinfo=UTC)
    assert row[9] - row[8] == timedelta(hours=1)
    assert row[10:] == (None, None, None, None)  # no access key named


def test_a_snapshot_line_is_known_by_its_measured_at():
    row = importer.staged_row(3, SNAPSHOT)
    assert row[:3] == (3, True, None)
    assert row[5] == "fotos" and row[10:12] == (10, 2048)
    assert row[12] == datetime(2026, 11, 2, tzinfo=UTC)
    assert row[13] is None
    typed = importer.staged_row(3, dict(SNAPSHOT, type="bucket_snapshot"))
    assert typed == row


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"event_id": None}, "event_id is missing"),
        ({"event_id": "has space"}, "event_id: 1 to 128 printable ASCII"),
        ({"event_id": "x" * 129}, "event_id: 1 to 128"),
        ({"event_id": "évt"}, "event_id: 1 to 128 printable ASCII"),
        ({"metric": "cpu"}, "metric: 'cpu' is not one of"),
        ({"metric": None}, "metric is missing"),
        ({"quantity": None}, "quantity is missing"),
        ({"quantity": "abc"}, "quantity: not a number"),
        ({"quantity": "NaN"}, "quantity: not a finite number"),
        ({"quantity": "Infinity"}, "quantity: not a finite number"),
        ({"quantity": "-0.5"}, "must not be negative"),
        ({"quantity": "1e20"}, "too large"),
        ({"quantity": "0.0000001"}, "at most 6 decimal places"),
        ({"quantity": True}, "quantity: a number"),
        ({"period_start": "yesterday"}, "period_start: not an ISO 8601"),
        ({"period_start": "2026-11-01T00:00:00"}, "period_start: needs a UTC offset"),
        ({"period_end": "2026-11-01T00:00:00-03:00"}, "period_end must be after period_start"),
        ({"period_end": None}, "period_end is missing"),
        ({"bucket": "Not_A_Bucket"}, "is not a bucket name"),
        ({"extra": 1}, "unknown field 'extra'"),
        ({"type": "other"}, "type: usage or bucket_snapshot"),
        ({"access_key": "pc1234567890ABCDEFGH"}, "access_key: 'pc1234567890ABCDEFGH' is not"),
        ({"access_key": "PC1234567890ABCDEFG"}, "is not an access key id"),
        ({"access_key": "PC1234567890ABCDEFGHI"}, "is not an access key id"),
        ({"access_key": "PC1234567890ABCDEF-H"}, "is not an access key id"),
        ({"access_key": "PC1234567890ABCDEFG\n"}, "is not an access key id"),
        ({"access_key": 12}, "is not an access key id"),
        ({"access_key": ["PC1234567890ABCDEFGH"]}, "access_key must be text"),
    ],
)
def test_each_invalid_event_field_has_its_reason(change, reason):
    with pytest.raises(LineError, match=reason):
        importer.staged_row(1, {**EVENT, **change})


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"bucket": None}, "bucket is missing"),
        ({"objects": -1}, "objects: must be between 0"),
        ({"objects": "1.5"}, "objects: a whole number"),
        ({"objects": "１２"}, "objects: a whole number"),
        ({"objects": "-3"}, "objects: a whole number"),
        ({"bytes": 2**63}, "bytes: must be between 0"),
        ({"bytes": False}, "bytes: a whole number"),
        ({"measured_at": "2026-11-02"}, "measured_at: needs a UTC offset"),
        ({"access_key": "PC1234567890ABCDEFGH"}, "access_key: only on usage events"),
    ],
)
def test_each_invalid_snapshot_field_has_its_reason(change, reason):
    with pytest.raises(LineError, match=reason):
        importer.staged_row(1, {**SNAPSHOT, **change})


def test_an_event_may_name_its_access_key():
    key = "PC1234567890ABCDEFGH"
    assert importer.staged_row(1, dict(EVENT, access_key=key))[13] == key
    assert importer.staged_row(1, dict(EVENT, access_key=f" {key} "))[13] == key
    assert importer.staged_row(1, dict(EVENT, access_key=""))[13] is None
    assert importer.staged_row(1, dict(EVENT, access_key=None))[13] is None
    assert len(importer.staged_row(1, dict(EVENT, access_key=key))) == len(importer.STAGING_COLUMNS)


def test_a_csv_may_have_an_access_key_column():
    result = Result()
    found = list(
        importer.records(
            lines(
                "event_id,organization,metric,quantity,period_start,period_end,access_key",
                "e1,42,egress_gb,1,2026-11-01T00:00:00Z,2026-11-01T01:00:00Z,PC1234567890ABCDEFGH",
                "e2,42,egress_gb,1,2026-11-01T00:00:00Z,2026-11-01T01:00:00Z,",
                "e3,42,egress_gb,1,2026-11-01T00:00:00Z,2026-11-01T01:00:00Z,AKIA0000",
            ),
            "csv",
            result,
        )
    )
    assert found[0][1][13] == "PC1234567890ABCDEFGH"
    assert found[1][1][13] is None
    assert [(r.line, r.reason[:31]) for r in result.rejections] == [
        (4, "access_key: 'AKIA0000' is not a")
    ]


def test_quantities_keep_their_exact_decimal():
    assert importer.quantity("0.000001") == Decimal("0.000001")
    assert importer.quantity(12) == Decimal(12)
    assert importer.quantity("99999999999999.999999") == Decimal("99999999999999.999999")
    assert importer.quantity("1.500000000") == Decimal("1.5")  # trailing zeros are fine


def test_offsets_are_kept_as_instants():
    when = importer.timestamp("2026-11-01T00:00:00+05:30", "t")
    assert when.utcoffset() == timedelta(hours=5, minutes=30)
    assert when == datetime(2026, 10, 31, 18, 30, tzinfo=UTC)


def lines(*texts: str) -> list[bytes]:
    return [t.encode() + b"\n" if isinstance(t, str) else t for t in texts]


def test_jsonl_records_with_their_line_numbers_and_reasons():
    result = Result()
    found = list(
        importer.records(
            lines(
                json.dumps(EVENT),
                "",
                "[1, 2]",
                '{"quantity": NaN}',
                "[" * 5000 + "]" * 5000,
                json.dumps({**EVENT, "metric": "x"}),
            )
            + [b"\xff\xfe not utf-8\n", b'{"event_id": "a\x00b"}\n', b"x" * 20000 + b"\n"],
            "jsonl",
            result,
        )
    )
    assert [n for n, _ in found] == [1, 3, 4, 5, 6, 7, 8, 9]
    assert isinstance(found[0][1], tuple)
    reasons = [(r.line, r.reason) for r in result.rejections]
    assert reasons == [
        (3, "not a JSON object"),
        (4, "not valid JSON"),
        (5, "not valid JSON"),  # nested too deep
        (6, reasons[3][1]),
        (7, "not UTF-8 text"),
        (8, "holds a NUL character"),
        (9, f"longer than {importer.MAX_LINE} characters"),
    ]
    assert reasons[3][1].startswith("metric:")
    assert result.rejected == 7


def test_csv_needs_a_header_and_counts_physical_lines():
    result = Result()
    found = list(
        importer.records(
            lines(
                "event_id,organization,metric,quantity,period_start,period_end",
                'e1,42,egress_gb,"1.5",2026-11-01T00:00:00Z,2026-11-01T01:00:00Z',
                "",
                "e2,42,egress_gb,2",
                "e3,42,egress_gb,2,2026-11-01T00:00:00Z,2026-11-01T00:00:00Z",
            ),
            "csv",
            result,
        )
    )
    assert [n for n, _ in found] == [2, 4, 5]
    assert [(r.line, r.reason) for r in result.rejections] == [
        (4, "4 columns, the header has 6"),
        (5, "period_end must be after period_start"),
    ]


def test_a_csv_header_with_unknown_columns_is_refused():
    result = Result()
    list(importer.records(lines("event_id,colour", "e1,blue"), "csv", result))
    assert result.rejections[0].line == 1
    assert "header" in result.rejections[0].reason
