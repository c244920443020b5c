"""accounts.cnpj: the database verifies the check digits (numeric and 2026 alphanumeric)

Why these objects exist
- ``cnpj_is_valid(text)``: DOMAIN.md integrity rule 1 says a CNPJ is unique *and valid*;
  uniqueness was already a constraint (0002), validity was only checked by the app. The
  function is the check-digit algorithm of python-stdnum's ``stdnum.br.cnpj`` (the one the
  app uses), in SQL, so a hand-written INSERT cannot store a CNPJ the app would refuse:
    * 12 characters 0-9/A-Z, then 2 numeric check digits (the alphanumeric CNPJ issued
      from July 2026 is the same algorithm: a character's value is its ASCII code - 48);
    * weights 5,4,3,2,9,8,7,6,5,4,3,2 (first digit) and 6,5,4,3,2,9,8,7,6,5,4,3,2
      (second); digit = 0 when sum mod 11 < 2, else 11 - (sum mod 11);
    * like stdnum, a number whose first 12 characters are all zero is refused
      (00000000000000 has "valid" check digits but is no company). No other
      all-same-digit number has valid check digits, so nothing else needs a special case.
  It only accepts the stored (normalized) form: 14 characters, no punctuation, upper case.
  It is IMMUTABLE, STRICT and PARALLEL SAFE (pure function of its argument), which a CHECK
  constraint requires in spirit and which lets the planner fold it.
- ``ck_accounts_cnpj_valid``: the CHECK that uses it, with the shape regex spelled out as
  well so the constraint reads on its own in ``\\d accounts``.

Locking: the CHECK is added NOT VALID (an instant catalog change; new and updated rows are
checked from then on) and validated in its own transaction (autocommit block), which takes
only a SHARE UPDATE EXCLUSIVE lock, so reads and writes continue while old rows are
scanned. If an old row is invalid the validation fails loudly: a wrong check digit cannot
be repaired automatically, a person must correct that organization's CNPJ.

squawk: ``prefer-robust-stmts`` is ignored on the ADD CONSTRAINT ... NOT VALID and the
VALIDATE statements (``-- squawk-ignore`` in the SQL). Squawk flags them only because this
revision runs two transactions; each statement runs inside a transaction, so a failure rolls
it back and the revision can simply be run again (and VALIDATE is idempotent).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# A comment that travels with the statement into the offline SQL (see the docstring).
SQUAWK_IGNORE = "-- squawk-ignore prefer-robust-stmts\n"

CNPJ_IS_VALID = r"""
CREATE FUNCTION cnpj_is_valid(cnpj text) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT cnpj ~ '^[0-9A-Z]{12}[0-9]{2}$'
       AND left(cnpj, 12) <> '000000000000'
       AND (
           SELECT (CASE WHEN s1 % 11 < 2 THEN 0 ELSE 11 - s1 % 11 END)
                      = ascii(substr(cnpj, 13, 1)) - 48
              AND (CASE WHEN s2 % 11 < 2 THEN 0 ELSE 11 - s2 % 11 END)
                      = ascii(substr(cnpj, 14, 1)) - 48
             FROM (
                 SELECT sum((ascii(substr(cnpj, i, 1)) - 48)
                            * (ARRAY[5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2])[i])
                            FILTER (WHERE i <= 12) AS s1,
                        sum((ascii(substr(cnpj, i, 1)) - 48)
                            * (ARRAY[6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2])[i]) AS s2
                   FROM generate_series(1, 13) AS i
             ) AS sums
       )
$$
"""


def upgrade():
    # Never queue behind a long transaction while holding up every other query on accounts.
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("SET LOCAL statement_timeout = '1min'")
    op.execute(CNPJ_IS_VALID)
    op.execute(
        "COMMENT ON FUNCTION cnpj_is_valid(text) IS "
        "'Check digits of a normalized CNPJ (numeric or 2026 alphanumeric), as stdnum.br.cnpj'"
    )
    op.execute(
        f"{SQUAWK_IGNORE}ALTER TABLE accounts ADD CONSTRAINT ck_accounts_cnpj_valid "
        "CHECK (cnpj ~ '^[0-9A-Z]{12}[0-9]{2}$' AND cnpj_is_valid(cnpj)) NOT VALID"
    )
    # Validation in a transaction of its own, after the one that added the constraint.
    with op.get_context().autocommit_block():
        op.execute("BEGIN")
        op.execute("SET LOCAL lock_timeout = '5s'")
        op.execute("SET LOCAL statement_timeout = '30min'")
        op.execute(
            f"{SQUAWK_IGNORE}ALTER TABLE accounts VALIDATE CONSTRAINT ck_accounts_cnpj_valid"
        )
        op.execute("COMMIT")


def downgrade():
    op.execute("ALTER TABLE accounts DROP CONSTRAINT ck_accounts_cnpj_valid")
    op.execute("DROP FUNCTION cnpj_is_valid(text)")
