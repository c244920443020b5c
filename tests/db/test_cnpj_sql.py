"""The SQL function cnpj_is_valid() agrees with python-stdnum on thousands of values.

The database stores the normalized form only (14 characters, no punctuation, upper case),
so the function answers "valid and normalized": for a value x it must equal
``stdnum.br.cnpj.is_valid(x) and stdnum.br.cnpj.compact(x) == x``. Values are checked in
batches, one query per batch (``unnest`` of an array), to keep this fast.
"""

from __future__ import annotations

import random
import string

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stdnum.br import cnpj as stdnum_cnpj

ALNUM = string.digits + string.ascii_uppercase


def expected(value: str) -> bool:
    return stdnum_cnpj.is_valid(value) and stdnum_cnpj.compact(value) == value


@pytest.fixture(scope="module")
def sql_conn(rules_db_url):
    with psycopg.connect(rules_db_url, autocommit=True) as connection:
        yield connection


def sql_verdicts(connection, values: list[str]) -> dict[str, bool]:
    rows = connection.execute(
        "SELECT v, cnpj_is_valid(v) FROM unnest(%s::text[]) AS v", (values,)
    ).fetchall()
    return dict(rows)


def assert_agree(connection, values: list[str]) -> None:
    verdicts = sql_verdicts(connection, values)
    disagreements = {v: verdicts[v] for v in values if verdicts[v] != expected(v)}
    assert disagreements == {}


# ------------------------------------------------------------------------ strategies ---
numeric_base = st.text(alphabet=string.digits, min_size=12, max_size=12)
alnum_base = st.text(alphabet=ALNUM, min_size=12, max_size=12)
valid = st.one_of(numeric_base, alnum_base).map(
    lambda base: base + stdnum_cnpj.calc_check_digits(base)
)


@st.composite
def mutated(draw):
    """A valid CNPJ with one character replaced, or two adjacent ones swapped."""
    value = list(draw(valid))
    position = draw(st.integers(0, 13))
    if draw(st.booleans()):
        alphabet = string.digits if position >= 12 else ALNUM
        value[position] = draw(st.sampled_from(alphabet))
    else:
        position = min(position, 12)
        value[position], value[position + 1] = value[position + 1], value[position]
    return "".join(value)


random_14 = st.text(alphabet=ALNUM, min_size=14, max_size=14)
odd_shapes = st.one_of(
    st.text(alphabet=ALNUM, min_size=0, max_size=20),  # any length
    valid.map(str.lower),  # lower case
    valid.map(stdnum_cnpj.format),  # punctuated
    valid.map(lambda v: v[:12] + "A" + v[13]),  # letter as check digit
    st.text(alphabet=string.digits, min_size=2, max_size=2).map(lambda d: "0" * 12 + d),
    st.text(
        alphabet=st.characters(codec="utf-8", exclude_characters="\x00"),
        min_size=14,
        max_size=14,
    ),
)
any_value = st.one_of(valid, mutated(), random_14, odd_shapes)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(values=st.lists(any_value, min_size=50, max_size=100))
def test_sql_agrees_with_stdnum_on_generated_values(sql_conn, values):
    assert_agree(sql_conn, values)


def test_sql_agrees_with_stdnum_on_a_large_fixed_sample(sql_conn):
    """A seeded sweep that always contains thousands of valid numbers of both formats."""
    rng = random.Random(2026)
    values = []
    for _ in range(1500):
        for alphabet in (string.digits, ALNUM):
            base = "".join(rng.choice(alphabet) for _ in range(12))
            good = base + stdnum_cnpj.calc_check_digits(base)
            bad_digit = good[:13] + str((int(good[13]) + rng.randint(1, 9)) % 10)
            values += [good, bad_digit]
    verdicts = sql_verdicts(sql_conn, values)
    assert sum(verdicts.values()) >= 3000  # the valid half really is valid
    assert_agree(sql_conn, values)


@pytest.mark.parametrize(
    ("value", "valid_"),
    [
        ("16727230000197", True),
        ("12ABC34501DE35", True),
        ("00000000000000", False),  # stdnum refuses twelve zeros before the check digits
        ("00000000000191", True),  # Banco do Brasil: leading zeros are fine
        ("16727230000198", False),
        ("16.727.230/0001-97", False),  # valid for stdnum, but not the stored form
    ],
)
def test_known_values(sql_conn, value, valid_):
    assert sql_verdicts(sql_conn, [value])[value] is valid_


def test_null_is_unknown_not_false(sql_conn):
    assert sql_conn.execute("SELECT cnpj_is_valid(NULL)").fetchone() == (None,)


def test_the_function_is_immutable(sql_conn):
    volatility = sql_conn.execute(
        "SELECT provolatile, proisstrict, proparallel FROM pg_proc WHERE proname = 'cnpj_is_valid'"
    ).fetchone()
    assert volatility == ("i", True, "s")
