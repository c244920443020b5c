"""state machines as triggers: accounts, buckets, access keys, invitations, orders,
subscriptions, quota requests

Why these objects exist: DOMAIN.md "States and the only moves allowed" and integrity rule 3.
An application bug or a hand-written UPDATE must not be able to move a row along a path the
contract does not allow, so the moves are checked by BEFORE triggers. Every refusal is an
error with SQLSTATE 23514 (check_violation) whose message starts with the rule's name
(``accounts_status_transition: ...``) and whose diagnostics carry that name as the
constraint name, plus table and column, so callers can map it to a message
(``exc.diag.constraint_name``).

Objects
- ``enforce_state_machine()``: one generic trigger function. Arguments: the column, the
  states a new row may start in (comma-separated), then the allowed moves ('from>to').
  Used twice per table: ``<table>_<column>_initial`` (BEFORE INSERT) and
  ``<table>_<column>_transition`` (BEFORE UPDATE, only when the column changes, thanks to
  the WHEN clause: unrelated updates pay nothing).
    * accounts.status: new = pending; pending>approved, approved>active, approved>suspended,
      active>suspended, suspended>active (nothing back to pending, no pending>active).
    * buckets.versioning: new = unversioned|enabled; unversioned>enabled,
      enabled>suspended, suspended>enabled (never unversioned again, as in S3).
    * access_keys.status: new = active; active<>inactive, active|inactive>revoked (final).
    * orders.status: new = pending; pending>paid, paid>fulfilled, pending>cancelled.
    * subscriptions.status: new = active; active>cancelled (final).
    * quota_requests.status: new = pending; pending>approved, pending>rejected (final).
      Rows must start in the initial state so that no path skips a move (an order inserted
      as 'paid' was never placed; a quota request inserted 'approved' was never reviewed
      and would not raise the quota).
- ``forbid_change()``: a generic BEFORE UPDATE trigger for columns that never change:
  access_keys.key_id (the public id, DOMAIN.md), invitations.account_id and .email (an
  invitation is for one person to one organization; the pending-invitation unique index
  would be meaningless otherwise).
- ``access_keys_revoked_final()``: a revoked key is dead: its secret cannot be rotated
  (rotation of a revoked key would silently bring a credential back).
- ``invitations_guard()``: accepted_at and revoked_at are set at most once and never
  cleared; an invitation that is revoked or expired (expires_at <= now()) cannot be
  accepted. A token therefore works once even if two requests race (the second UPDATE sees
  accepted_at set and fails). Once accepted or revoked, token_hash and expires_at never
  change either (while pending, a resend gives it a new token and expiry): a new
  token_hash or a later expiry on a settled invitation would make a spent link look
  live again.
- ``quota_requests_identity_immutable`` (forbid_change('account_id', 'resource')): a
  request is for one quota of one account; re-pointing a pending request before approving
  it would raise another account's (or another resource's) quota.
  ``quota_requests_decision_final`` (forbid_change('requested_value') once the status is
  no longer pending): an approved or rejected request keeps the value that was decided.
- ``subscriptions_activate_account()``: AFTER INSERT of an active subscription, an
  'approved' account becomes 'active' (DOMAIN.md: the first active subscription activates
  the account). It is an ordinary UPDATE of accounts, so it passes through the accounts
  trigger like any other move.
- ``quota_requests_apply_approval()``: AFTER UPDATE pending -> approved, the account's quota
  for that resource becomes GREATEST(current quota, requested_value), in the same
  transaction, whoever approves (admin page, CLI, SQL). Never lowers a quota.

Note for ORM code: rows changed by these AFTER triggers (the account of a new subscription
or of an approved quota request) are stale in the session until refreshed.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

FUNCTIONS = {
    "enforce_state_machine()": r"""
CREATE FUNCTION enforce_state_machine() RETURNS trigger LANGUAGE plpgsql AS $$
-- TG_ARGV[0]: the state column; TG_ARGV[1]: states a new row may start in, comma-separated;
-- TG_ARGV[2..]: the allowed moves, each 'from>to'.
DECLARE
    col       text := TG_ARGV[0];
    rule      text := TG_TABLE_NAME || '_' || TG_ARGV[0] || '_transition';
    new_state text := to_jsonb(NEW) ->> TG_ARGV[0];
    old_state text;
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF new_state IS NULL OR NOT new_state = ANY (string_to_array(TG_ARGV[1], ',')) THEN
            RAISE EXCEPTION '%: a new % row must start with % in (%), not %',
                rule, TG_TABLE_NAME, col, TG_ARGV[1], coalesce(new_state, 'NULL')
                USING ERRCODE = 'check_violation', CONSTRAINT = rule,
                      SCHEMA = TG_TABLE_SCHEMA, TABLE = TG_TABLE_NAME, COLUMN = col;
        END IF;
        RETURN NEW;
    END IF;
    old_state := to_jsonb(OLD) ->> col;
    IF new_state IS DISTINCT FROM old_state
       AND NOT (old_state || '>' || coalesce(new_state, 'NULL')) = ANY (TG_ARGV[2:]) THEN
        RAISE EXCEPTION '%: % % cannot move from % to %',
            rule, TG_TABLE_NAME, to_jsonb(OLD) ->> 'id', old_state, coalesce(new_state, 'NULL')
            USING ERRCODE = 'check_violation', CONSTRAINT = rule,
                  SCHEMA = TG_TABLE_SCHEMA, TABLE = TG_TABLE_NAME, COLUMN = col,
                  DETAIL = 'Allowed moves: ' || array_to_string(TG_ARGV[2:], ', ');
    END IF;
    RETURN NEW;
END
$$
""",
    "forbid_change()": r"""
CREATE FUNCTION forbid_change() RETURNS trigger LANGUAGE plpgsql AS $$
-- TG_ARGV: the columns that never change once the row exists.
DECLARE
    col text;
BEGIN
    FOREACH col IN ARRAY TG_ARGV LOOP
        IF (to_jsonb(NEW) -> col) IS DISTINCT FROM (to_jsonb(OLD) -> col) THEN
            RAISE EXCEPTION '%_%_immutable: %.% never changes (row %)',
                TG_TABLE_NAME, col, TG_TABLE_NAME, col, to_jsonb(OLD) ->> 'id'
                USING ERRCODE = 'check_violation',
                      CONSTRAINT = TG_TABLE_NAME || '_' || col || '_immutable',
                      SCHEMA = TG_TABLE_SCHEMA, TABLE = TG_TABLE_NAME, COLUMN = col;
        END IF;
    END LOOP;
    RETURN NEW;
END
$$
""",
    "access_keys_revoked_final()": r"""
CREATE FUNCTION access_keys_revoked_final() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.secret_ciphertext IS DISTINCT FROM OLD.secret_ciphertext THEN
        RAISE EXCEPTION 'access_keys_revoked_final: access key % is revoked; it cannot be rotated',
            OLD.key_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'access_keys_revoked_final',
                  TABLE = 'access_keys', COLUMN = 'secret_ciphertext';
    END IF;
    RETURN NEW;
END
$$
""",
    "invitations_guard()": r"""
CREATE FUNCTION invitations_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (OLD.accepted_at IS NOT NULL OR OLD.revoked_at IS NOT NULL)
       AND (NEW.token_hash IS DISTINCT FROM OLD.token_hash
            OR NEW.expires_at IS DISTINCT FROM OLD.expires_at) THEN
        RAISE EXCEPTION 'invitations_settled: invitation % was accepted or revoked; its token and expiry never change',
            OLD.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'invitations_settled',
                  TABLE = 'invitations';
    END IF;
    IF OLD.accepted_at IS NOT NULL AND NEW.accepted_at IS DISTINCT FROM OLD.accepted_at THEN
        RAISE EXCEPTION 'invitations_accepted_once: invitation % was accepted; accepted_at never changes',
            OLD.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'invitations_accepted_once',
                  TABLE = 'invitations', COLUMN = 'accepted_at';
    END IF;
    IF OLD.revoked_at IS NOT NULL AND NEW.revoked_at IS DISTINCT FROM OLD.revoked_at THEN
        RAISE EXCEPTION 'invitations_revoked_once: invitation % was revoked; revoked_at never changes',
            OLD.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'invitations_revoked_once',
                  TABLE = 'invitations', COLUMN = 'revoked_at';
    END IF;
    IF OLD.accepted_at IS NULL AND NEW.accepted_at IS NOT NULL THEN
        IF OLD.revoked_at IS NOT NULL THEN
            RAISE EXCEPTION 'invitations_accept_pending: invitation % was revoked and cannot be accepted',
                OLD.id
                USING ERRCODE = 'check_violation', CONSTRAINT = 'invitations_accept_pending',
                      TABLE = 'invitations', COLUMN = 'accepted_at';
        END IF;
        IF OLD.expires_at <= now() THEN
            RAISE EXCEPTION 'invitations_accept_pending: invitation % expired at % and cannot be accepted',
                OLD.id, OLD.expires_at
                USING ERRCODE = 'check_violation', CONSTRAINT = 'invitations_accept_pending',
                      TABLE = 'invitations', COLUMN = 'accepted_at';
        END IF;
    END IF;
    RETURN NEW;
END
$$
""",
    "subscriptions_activate_account()": r"""
CREATE FUNCTION subscriptions_activate_account() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- An approved account has never been active (nothing moves back to approved), so an
    -- active subscription arriving now is its first one.
    UPDATE accounts
       SET status = 'active', activated_at = coalesce(activated_at, now())
     WHERE id = NEW.account_id AND status = 'approved';
    RETURN NULL;
END
$$
""",
    "quota_requests_apply_approval()": r"""
CREATE FUNCTION quota_requests_apply_approval() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE accounts
       SET quota_buckets = CASE WHEN NEW.resource = 'buckets'
                                THEN greatest(quota_buckets, NEW.requested_value)
                                ELSE quota_buckets END,
           quota_storage_gb = CASE WHEN NEW.resource = 'storage_gb'
                                   THEN greatest(quota_storage_gb, NEW.requested_value)
                                   ELSE quota_storage_gb END,
           quota_access_keys = CASE WHEN NEW.resource = 'access_keys'
                                    THEN greatest(quota_access_keys, NEW.requested_value)
                                    ELSE quota_access_keys END
     WHERE id = NEW.account_id;
    RETURN NULL;
END
$$
""",
}

# (table, column, initial states, allowed moves)
STATE_MACHINES = [
    (
        "accounts",
        "status",
        "pending",
        [
            "pending>approved",
            "approved>active",
            "approved>suspended",
            "active>suspended",
            "suspended>active",
        ],
    ),
    (
        "buckets",
        "versioning",
        "unversioned,enabled",
        ["unversioned>enabled", "enabled>suspended", "suspended>enabled"],
    ),
    (
        "access_keys",
        "status",
        "active",
        ["active>inactive", "inactive>active", "active>revoked", "inactive>revoked"],
    ),
    ("orders", "status", "pending", ["pending>paid", "paid>fulfilled", "pending>cancelled"]),
    ("subscriptions", "status", "active", ["active>cancelled"]),
    ("quota_requests", "status", "pending", ["pending>approved", "pending>rejected"]),
]


def _args(*values: str) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


def create_state_machine(table, column, initial, moves):
    op.execute(
        f"CREATE TRIGGER {table}_{column}_initial BEFORE INSERT ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION enforce_state_machine({_args(column, initial)})"
    )
    op.execute(
        f"CREATE TRIGGER {table}_{column}_transition BEFORE UPDATE ON {table} FOR EACH ROW "
        f"WHEN (OLD.{column} IS DISTINCT FROM NEW.{column}) "
        f"EXECUTE FUNCTION enforce_state_machine({_args(column, initial, *moves)})"
    )


def drop_state_machine(table, column):
    op.execute(f"DROP TRIGGER {table}_{column}_transition ON {table}")
    op.execute(f"DROP TRIGGER {table}_{column}_initial ON {table}")


def upgrade():
    # CREATE TRIGGER locks the table: give up rather than queue behind a long transaction.
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("SET LOCAL statement_timeout = '1min'")
    for sql in FUNCTIONS.values():
        op.execute(sql)
    for machine in STATE_MACHINES:
        create_state_machine(*machine)

    op.execute(
        "CREATE TRIGGER access_keys_key_id_immutable BEFORE UPDATE ON access_keys "
        "FOR EACH ROW WHEN (OLD.key_id IS DISTINCT FROM NEW.key_id) "
        "EXECUTE FUNCTION forbid_change('key_id')"
    )
    op.execute(
        "CREATE TRIGGER access_keys_revoked_final BEFORE UPDATE ON access_keys "
        "FOR EACH ROW WHEN (OLD.status = 'revoked') EXECUTE FUNCTION access_keys_revoked_final()"
    )
    op.execute(
        "CREATE TRIGGER invitations_identity_immutable BEFORE UPDATE ON invitations "
        "FOR EACH ROW WHEN (OLD.account_id IS DISTINCT FROM NEW.account_id "
        "OR OLD.email IS DISTINCT FROM NEW.email) "
        "EXECUTE FUNCTION forbid_change('account_id', 'email')"
    )
    op.execute(
        "CREATE TRIGGER invitations_guard BEFORE UPDATE ON invitations "
        "FOR EACH ROW EXECUTE FUNCTION invitations_guard()"
    )
    op.execute(
        "CREATE TRIGGER subscriptions_activate_account AFTER INSERT ON subscriptions "
        "FOR EACH ROW WHEN (NEW.status = 'active') "
        "EXECUTE FUNCTION subscriptions_activate_account()"
    )
    op.execute(
        "CREATE TRIGGER quota_requests_apply_approval AFTER UPDATE ON quota_requests "
        "FOR EACH ROW WHEN (OLD.status = 'pending' AND NEW.status = 'approved') "
        "EXECUTE FUNCTION quota_requests_apply_approval()"
    )
    op.execute(
        "CREATE TRIGGER quota_requests_identity_immutable BEFORE UPDATE ON quota_requests "
        "FOR EACH ROW WHEN (OLD.account_id IS DISTINCT FROM NEW.account_id "
        "OR OLD.resource IS DISTINCT FROM NEW.resource) "
        "EXECUTE FUNCTION forbid_change('account_id', 'resource')"
    )
    op.execute(
        "CREATE TRIGGER quota_requests_decision_final BEFORE UPDATE ON quota_requests "
        "FOR EACH ROW WHEN (OLD.status <> 'pending' "
        "AND OLD.requested_value IS DISTINCT FROM NEW.requested_value) "
        "EXECUTE FUNCTION forbid_change('requested_value')"
    )


def downgrade():
    op.execute("DROP TRIGGER quota_requests_decision_final ON quota_requests")
    op.execute("DROP TRIGGER quota_requests_identity_immutable ON quota_requests")
    op.execute("DROP TRIGGER quota_requests_apply_approval ON quota_requests")
    op.execute("DROP TRIGGER subscriptions_activate_account ON subscriptions")
    op.execute("DROP TRIGGER invitations_guard ON invitations")
    op.execute("DROP TRIGGER invitations_identity_immutable ON invitations")
    op.execute("DROP TRIGGER access_keys_revoked_final ON access_keys")
    op.execute("DROP TRIGGER access_keys_key_id_immutable ON access_keys")
    for table, column, _initial, _moves in reversed(STATE_MACHINES):
        drop_state_machine(table, column)
    for signature in reversed(FUNCTIONS):
        op.execute(f"DROP FUNCTION {signature}")
