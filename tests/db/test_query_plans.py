"""The queries of the two pages that grow without limit read their index in order.

A dedicated database gets one user with 50,000 notifications (plus other people's) and one
organization with 40,000 audit rows (plus 100,000 of other organizations and platform events), then
VACUUM ANALYZE; another one gets 33,000 quota requests (the staff review queue and a
customer's history). The statements checked are the ones the services issue (compiled from the
same builders), EXPLAINed with their real parameters: no Sort node, no Seq Scan over the
big table, the expected index — whatever the page's depth. Plans are checked, not forced.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from portal.audit_log import services as audit_services
from portal.buckets import services as bucket_services
from portal.extensions import db
from portal.notifications import services as notification_services
from tests.bench import seed
from tests.conftest import make_test_app, upgrade

NOTIFICATIONS = 50_000
AUDIT_ROWS = 40_000
OTHER_ACCOUNTS = 4
OTHER_AUDIT_ROWS = 25_000  # per other account: the big account is a minority of the table
BUCKETS = 10_000  # one organization's buckets
OTHER_BUCKETS = 5_000  # per other organization


def _seed() -> dict:
    with db.engine.begin() as conn:
        me = seed.user(conn, "reader")
        seed.notifications(conn, me, NOTIFICATIONS, unread_every=4)
        for i in range(4):
            other = seed.user(conn, f"other{i}")
            seed.notifications(conn, other, 5_000)
        owner = seed.user(conn, "owner")
        account_id = seed.account(conn, owner, "Big Log Ltda")
        seed.audit_logs(conn, account_id, owner, AUDIT_ROWS)
        for i in range(OTHER_ACCOUNTS):
            other_owner = seed.user(conn, f"owner{i}")
            other_account = seed.account(conn, other_owner, f"Other {i} Ltda")
            seed.audit_logs(conn, other_account, other_owner, OTHER_AUDIT_ROWS)
        seed.audit_logs(conn, None, None, 10_000)
        storage = seed.account(conn, owner, "Big Storage Ltda")
        seed.activate(conn, storage)
        seed.buckets(conn, storage, BUCKETS)
        for i in range(OTHER_ACCOUNTS):
            other_storage = seed.account(conn, owner, f"Other Storage {i} Ltda")
            seed.activate(conn, other_storage)
            seed.buckets(conn, other_storage, OTHER_BUCKETS, prefix=f"o{i}-")
    seed.vacuum_analyze(db.engine, "notifications", "audit_logs", "users", "accounts", "buckets")
    return {
        "user_id": me,
        "account_id": account_id,
        "actor_id": owner,
        "storage_account_id": storage,
    }


@pytest.fixture(scope="module")
def plan_db(databases, smtp_server):
    controller, _ = smtp_server
    app = make_test_app(databases.create("plans"), controller.port)
    upgrade(app)
    with app.app_context():
        try:
            ids = _seed()
            yield app, ids
        finally:
            db.engine.dispose()


def explain(app, stmt) -> dict:
    """EXPLAIN (FORMAT JSON) of a SQLAlchemy statement with its bound parameters."""
    with app.app_context(), db.engine.connect() as conn:
        compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
        raw = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + compiled.string, compiled.params)
        document = raw.scalar_one()
    if isinstance(document, str):
        document = json.loads(document)
    return document[0]["Plan"]


def nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


def assert_reads_index(
    plan: dict, table: str, index: str | tuple[str, ...], index_only: bool = False
) -> None:
    indexes = (index,) if isinstance(index, str) else index
    all_nodes = list(nodes(plan))
    types = [n["Node Type"] for n in all_nodes]
    assert not [t for t in types if "Sort" in t], f"a sort in the plan: {types}"
    seq = [n for n in all_nodes if n["Node Type"] == "Seq Scan" and n["Relation Name"] == table]
    assert not seq, f"a Seq Scan over {table}: {json.dumps(plan, indent=1)}"
    wanted = {"Index Only Scan"} if index_only else {"Index Scan", "Index Only Scan"}
    scans = [n for n in all_nodes if n["Node Type"] in wanted and n.get("Index Name") in indexes]
    assert scans, f"{index} not read by {wanted}: {json.dumps(plan, indent=1)}"


def row_at(app, sql: str, **params):
    with app.app_context(), db.engine.connect() as conn:
        return conn.execute(text(sql), params).one()


# ---------------------------------------------------------------------- notifications ---
NOTIFICATION_INDEX = "ix_notifications_user_id_read_created_at_id"


@pytest.mark.parametrize("depth", ["first", "unread_middle", "read_middle"])
def test_notification_pages_read_the_index_without_sorting(plan_db, depth):
    app, ids = plan_db
    limit = notification_services.PAGE_SIZE + 1
    after = None
    if depth != "first":
        read = depth == "read_middle"
        row = row_at(
            app,
            "SELECT read, created_at, id FROM notifications WHERE user_id = :u AND read = :r "
            "ORDER BY created_at DESC, id DESC OFFSET 5000 LIMIT 1",
            u=ids["user_id"],
            r=read,
        )
        after = notification_services.ORDER.cursor_of(row)
    plan = explain(app, notification_services.page_statement(ids["user_id"], after, limit))
    assert_reads_index(plan, "notifications", NOTIFICATION_INDEX)


def test_unread_count_is_an_index_only_scan_of_the_partial_index(plan_db):
    app, ids = plan_db
    plan = explain(app, notification_services.unread_count_statement(ids["user_id"]))
    assert_reads_index(plan, "notifications", "ix_notifications_unread_user_id", index_only=True)


# ---------------------------------------------------------------------------- audit ---
ACCOUNT_INDEX = "ix_audit_logs_account_id_created_at_id"
ALL_INDEX = "ix_audit_logs_created_at_id"


def _audit_cursor(app, account_id, offset):
    where = "account_id = :a" if account_id is not None else "TRUE"
    row = row_at(
        app,
        f"SELECT created_at, id FROM audit_logs WHERE {where} "
        "ORDER BY created_at DESC, id DESC OFFSET :o LIMIT 1",
        a=account_id,
        o=offset,
    )
    return audit_services.ORDER.cursor_of(row)


ACTION_INDEX = "ix_audit_logs_account_id_action_created_at_id"
ACTOR_INDEX = "ix_audit_logs_account_id_actor_id_created_at_id"
ALL_ACTION_INDEX = "ix_audit_logs_action_created_at_id"
ALL_ACTOR_INDEX = "ix_audit_logs_actor_id_created_at_id"


@pytest.mark.parametrize("deep", [False, True], ids=["first_page", "keyset_page"])
@pytest.mark.parametrize(
    ("filters", "index"),
    [
        ({}, ACCOUNT_INDEX),
        ({"action": "member.role_changed"}, ACTION_INDEX),
        ({"action": "bucket.created", "since": True}, ACTION_INDEX),
        # An action this account never had: one empty range scan, not its whole history.
        # The action occurs nowhere, so (action, created_at, id) is an empty range scan as
        # well; PostgreSQL 15 picks it on some ANALYZE samples.
        ({"action": "never.happened"}, (ACTION_INDEX, ALL_ACTION_INDEX)),
        ({"actor": True}, ACTOR_INDEX),
    ],
    ids=["unfiltered", "action", "action_and_dates", "absent_action", "actor"],
)
def test_account_audit_pages_read_the_index_without_sorting(plan_db, deep, filters, index):
    app, ids = plan_db
    before = _audit_cursor(app, ids["account_id"], 20_000) if deep else None
    values = dict(filters)
    if values.pop("since", None):
        now = datetime.now(UTC)
        values.update(since=now - timedelta(days=7), until=now + timedelta(days=1))
    if values.pop("actor", None):
        values["actor_id"] = ids["actor_id"]
    stmt = audit_services.ORDER.statement(
        audit_services.entries_statement(ids["account_id"], audit_services.Filters(**values)),
        before,
        audit_services.PAGE_SIZE + 1,
    )
    assert_reads_index(explain(app, stmt), "audit_logs", index)


@pytest.mark.parametrize("deep", [False, True], ids=["first_page", "keyset_page"])
@pytest.mark.parametrize(
    ("filters", "index"),
    [
        ({}, ALL_INDEX),
        ({"action": "never.happened"}, ALL_ACTION_INDEX),
        ({"actor": True}, ALL_ACTOR_INDEX),
    ],
    ids=["unfiltered", "absent_action", "actor"],
)
def test_admin_audit_pages_read_the_index_without_sorting(plan_db, deep, filters, index):
    app, ids = plan_db
    before = _audit_cursor(app, None, 70_000) if deep else None
    values = dict(filters)
    if values.pop("actor", None):
        values["actor_id"] = ids["actor_id"]
    stmt = audit_services.ORDER.statement(
        audit_services.entries_statement(None, audit_services.Filters(**values)),
        before,
        audit_services.PAGE_SIZE + 1,
    )
    assert_reads_index(explain(app, stmt), "audit_logs", index)


# -------------------------------------------------------------------------- buckets ---
BUCKET_INDEX = "ix_buckets_account_id_name_c"


@pytest.mark.parametrize("deep", [False, True], ids=["first_page", "keyset_page"])
@pytest.mark.parametrize("q", [None, "b-05", "b-0999"], ids=["all", "prefix", "narrow_prefix"])
def test_bucket_pages_read_the_index_without_sorting(plan_db, deep, q):
    app, ids = plan_db
    account_id = ids["storage_account_id"]
    before = None
    if deep:
        where = "account_id = :a" + (" AND name LIKE :p" if q else "")
        row = row_at(
            app,
            f'SELECT name FROM buckets WHERE {where} ORDER BY name COLLATE "C" OFFSET 5 LIMIT 1'
            if q
            else 'SELECT name FROM buckets WHERE account_id = :a ORDER BY name COLLATE "C" '
            "OFFSET 5000 LIMIT 1",
            a=account_id,
            p=f"{q}%",
        )
        before = bucket_services.ORDER.cursor_of(row)
    stmt = bucket_services.ORDER.statement(
        bucket_services.list_statement(account_id, q), before, bucket_services.PAGE_SIZE + 1
    )
    assert_reads_index(explain(app, stmt), "buckets", BUCKET_INDEX)


def test_explain_sees_the_seeded_volume(plan_db):
    """The checks above are meaningful only on a big table: make sure it is."""
    app, ids = plan_db
    counts = row_at(
        app,
        "SELECT (SELECT count(*) FROM notifications WHERE user_id = :u) AS n, "
        "(SELECT count(*) FROM audit_logs WHERE account_id = :a) AS a, "
        "(SELECT count(*) FROM buckets WHERE account_id = :b) AS b",
        u=ids["user_id"],
        a=ids["account_id"],
        b=ids["storage_account_id"],
    )
    assert (counts.n, counts.a, counts.b) == (NOTIFICATIONS, AUDIT_ROWS, BUCKETS)


# ------------------------------------------------------------------- quota requests ---
# The staff review queue (pending oldest first, then decided most recently decided first:
# a Chain of two keysets, one statement) and a customer's history (newest first), on
# 24,000 requests of 1,000 organizations plus one organization with 9,000 of its own.
QUOTA_ACCOUNTS = 1_000
QUOTA_ROUNDS = 7  # decided requests per (account, resource)
BIG_HISTORY = 3_000  # rounds of three requests for the big organization
HISTORY_INDEX = "ix_quota_requests_account_id_created_at_id"
PENDING_INDEX = "ix_quota_requests_pending_created_at_id"
DECIDED_INDEX = "ix_quota_requests_decided_reviewed_at_id"
RESOURCES = "ARRAY['buckets', 'storage_gb', 'access_keys']"


def _seed_quota_requests() -> dict:
    from tests.factories.accounts import make_cnpj

    with db.engine.begin() as conn:
        owner = seed.user(conn, "quota-owner")
        conn.execute(
            text("INSERT INTO accounts (name, cnpj) VALUES (:name, :cnpj)"),
            [{"name": f"Cota {i} Ltda", "cnpj": make_cnpj(i)} for i in range(QUOTA_ACCOUNTS)],
        )
        conn.execute(
            text(
                "INSERT INTO account_members (account_id, user_id, role) "
                "SELECT id, :owner, 'owner' FROM accounts"
            ),
            {"owner": owner},
        )
        for r in range(QUOTA_ROUNDS + 1):
            conn.execute(
                text(
                    "INSERT INTO quota_requests (account_id, resource, current_value, "
                    "                            requested_value, reason, created_at) "
                    f"SELECT a.id, res, 10, 50, 'mais', now() - make_interval(days => {40 - r}) "
                    "       - a.id * interval '1 second' "
                    f"FROM accounts a CROSS JOIN unnest({RESOURCES}) AS res"
                )
            )
            if r < QUOTA_ROUNDS:  # the last round stays pending
                conn.execute(
                    text(
                        "UPDATE quota_requests SET "
                        "  status = CASE WHEN id % 2 = 0 THEN 'approved' ELSE 'rejected' END, "
                        "  granted_value = CASE WHEN id % 2 = 0 THEN 30 END, "
                        "  reviewed_at = created_at + (id % 97) * interval '1 minute' "
                        "WHERE status = 'pending'"
                    )
                )
        big = seed.account(conn, owner, "Historico Longo Ltda")
        conn.execute(
            text(
                "DO $$ BEGIN FOR i IN 1.." + str(BIG_HISTORY) + " LOOP "
                "INSERT INTO quota_requests (account_id, resource, current_value, "
                "                            requested_value, reason, created_at) "
                f"SELECT {big}, res, 10, 50, 'mais', now() - i * interval '1 minute' "
                f"FROM unnest({RESOURCES}) AS res; "
                "UPDATE quota_requests SET status = 'rejected', reviewed_at = created_at "
                f"WHERE account_id = {big} AND status = 'pending'; "
                "END LOOP; END $$"
            )
        )
    seed.vacuum_analyze(db.engine, "quota_requests", "accounts", "users", "buckets", "access_keys")
    return {"big": big}


@pytest.fixture(scope="module")
def quota_plan_db(databases, smtp_server):
    controller, _ = smtp_server
    app = make_test_app(databases.create("quotaplans"), controller.port)
    upgrade(app)
    with app.app_context():
        try:
            yield app, _seed_quota_requests()
        finally:
            db.engine.dispose()


def _history_cursor(app, account_id, offset):
    from portal.quotas import services as quota_services

    row = row_at(
        app,
        "SELECT created_at, id FROM quota_requests WHERE account_id = :a "
        "ORDER BY created_at DESC, id DESC OFFSET :o LIMIT 1",
        a=account_id,
        o=offset,
    )
    return quota_services.HISTORY.cursor_of(row)


@pytest.mark.parametrize("deep", [False, True], ids=["first_page", "keyset_page"])
def test_customer_quota_history_reads_its_index_without_sorting(quota_plan_db, deep):
    from portal.quotas import services as quota_services

    app, ids = quota_plan_db
    before = _history_cursor(app, ids["big"], 4_000) if deep else None
    stmt = quota_services.history_statement(
        ids["big"], before, quota_services.HISTORY_PAGE_SIZE + 1
    )
    assert_reads_index(explain(app, stmt), "quota_requests", HISTORY_INDEX)


def _queue_cursor(app, part: int, offset: int):
    from portal.pagination import ChainCursor
    from portal.quotas import review

    if part == 0:
        row = row_at(
            app,
            "SELECT created_at, id FROM quota_requests WHERE status = 'pending' "
            "ORDER BY created_at, id OFFSET :o LIMIT 1",
            o=offset,
        )
        return ChainCursor(0, review.PENDING_ORDER.cursor_of(row))
    row = row_at(
        app,
        "SELECT reviewed_at, id FROM quota_requests WHERE status <> 'pending' "
        "ORDER BY reviewed_at DESC, id DESC OFFSET :o LIMIT 1",
        o=offset,
    )
    return ChainCursor(1, review.DECIDED_ORDER.cursor_of(row))


@pytest.mark.parametrize(
    ("filters", "cursor", "indexes"),
    [
        ({}, None, (PENDING_INDEX, DECIDED_INDEX)),
        ({}, (0, 2_000), (PENDING_INDEX, DECIDED_INDEX)),
        ({}, (1, 15_000), (DECIDED_INDEX,)),
        ({"status": "pending"}, None, (PENDING_INDEX,)),
        ({"status": "pending", "resource": "storage_gb"}, (0, 1_000), (PENDING_INDEX,)),
        ({"status": "approved"}, (1, 10_000), (DECIDED_INDEX,)),
        ({"status": "rejected", "resource": "buckets"}, None, (DECIDED_INDEX,)),
        ({"resource": "access_keys"}, (1, 5_000), (DECIDED_INDEX,)),
    ],
    ids=[
        "first_page",
        "deep_in_pending",
        "deep_in_decided",
        "pending",
        "pending_resource_deep",
        "approved_deep",
        "rejected_resource",
        "resource_deep",
    ],
)
def test_the_review_queue_reads_its_indexes_without_sorting(
    quota_plan_db, filters, cursor, indexes
):
    from portal.quotas import review

    app, _ids = quota_plan_db
    before = _queue_cursor(app, *cursor) if cursor else None
    stmt = review.queue_statement(
        filters.get("status"), filters.get("resource"), before, review.PAGE_SIZE + 1
    )
    plan = explain(app, stmt)
    for index in indexes:
        assert_reads_index(plan, "quota_requests", index)


def test_the_quota_plans_see_the_seeded_volume(quota_plan_db):
    app, ids = quota_plan_db
    counts = row_at(
        app,
        "SELECT (SELECT count(*) FROM quota_requests) AS total, "
        "(SELECT count(*) FROM quota_requests WHERE status = 'pending') AS pending, "
        "(SELECT count(*) FROM quota_requests WHERE account_id = :a) AS big",
        a=ids["big"],
    )
    assert counts.total >= 30_000 and counts.pending >= QUOTA_ACCOUNTS * 3
    assert counts.big >= BIG_HISTORY * 3


# --------------------------------------------------------------------------- orders ---
# /admin/orders (the fulfilment queue: pending first, then paid, then the closed ones,
# newest first in each; filters by status and organization) and an organization's orders
# on its billing page. Seeded on a database of their own: 60,000 orders over 40
# organizations, one of which has 12,000; 2% pending, 2% paid, 5% cancelled, the rest
# fulfilled (as a live platform looks).
ORDERS = 60_000
BIG_ACCOUNT_ORDERS = 12_000
QUEUE_INDEX = "ix_orders_queue_created_at_id"
ACCOUNT_QUEUE_INDEX = "ix_orders_account_id_queue_created_at_id"


def _seed_orders() -> dict:
    from sqlalchemy import text as sql

    with db.engine.begin() as conn:
        buyer = seed.user(conn, "buyer")
        accounts = [seed.account(conn, buyer, f"Orders {i} Ltda") for i in range(40)]
        products = [
            conn.execute(
                sql(
                    "INSERT INTO products (sku, name, price_monthly) "
                    "VALUES (:sku, :name, 10.00) RETURNING id"
                ),
                {"sku": f"PLAN-PLAN-{i}", "name": f"Plano {i}"},
            ).scalar_one()
            for i in range(5)
        ]
        big = accounts[0]
        conn.execute(
            sql(
                "INSERT INTO orders (account_id, product_id, quantity, unit_price, total, "
                "                    placed_by_id, created_at) "
                "SELECT CASE WHEN g <= :big THEN CAST(:big_account AS bigint) "
                "            ELSE (CAST(:accounts AS bigint[]))[1 + g % 39 + 1] END, "
                "       (CAST(:products AS bigint[]))[1 + g % 5], 1, 10.00, 10.00, :buyer, "
                "       now() - g * interval '1 minute' "
                "FROM generate_series(1, :n) AS g"
            ),
            {
                "big": BIG_ACCOUNT_ORDERS,
                "big_account": big,
                "accounts": accounts,
                "products": products,
                "buyer": buyer,
                "n": ORDERS,
            },
        )
        # Through the state machine, step by step (no order is inserted in another state).
        conn.execute(
            sql(
                "UPDATE orders SET status = 'cancelled', cancelled_at = created_at "
                "WHERE id % 100 BETWEEN 4 AND 8"
            )
        )
        conn.execute(
            sql(
                "UPDATE orders SET status = 'paid', paid_at = created_at, "
                "payment_reference = 'PIX' WHERE id % 100 >= 2 AND status = 'pending'"
            )
        )
        conn.execute(
            sql(
                "UPDATE orders SET status = 'fulfilled', fulfilled_at = created_at "
                "WHERE id % 100 >= 9 AND status = 'paid'"
            )
        )
    seed.vacuum_analyze(db.engine, "orders", "accounts", "products", "users")
    return {"account_id": big}


@pytest.fixture(scope="module")
def orders_plan_db(databases, smtp_server):
    from portal.billing import orders as billing_orders

    controller, _ = smtp_server
    app = make_test_app(databases.create("order_plans"), controller.port)
    upgrade(app)
    with app.app_context():
        try:
            yield app, _seed_orders(), billing_orders
        finally:
            db.engine.dispose()


def _orders_cursor(app, billing_orders, where: str, offset: int, status=None, **params):
    row = row_at(
        app,
        "SELECT CASE WHEN status = 'pending' THEN 1 WHEN status = 'paid' THEN 2 ELSE 3 END "
        f"AS queue, created_at, id FROM orders WHERE {where} "
        "ORDER BY 1, created_at DESC, id DESC OFFSET :o LIMIT 1",
        o=offset,
        **params,
    )
    return billing_orders.keyset(status).cursor_of(row)


@pytest.mark.parametrize(
    ("depth", "status"),
    [
        ("first", None),
        ("in_pending", None),
        ("in_closed", None),
        ("first", "pending"),
        ("first", "paid"),
        ("first", "fulfilled"),
        ("first", "cancelled"),
        ("deep", "fulfilled"),
        ("deep", "cancelled"),
    ],
)
def test_the_fulfilment_queue_reads_its_index_without_sorting(orders_plan_db, depth, status):
    app, _ids, billing_orders = orders_plan_db
    before = None
    if depth == "in_pending":
        before = _orders_cursor(app, billing_orders, "TRUE", 500)
    elif depth == "in_closed":
        before = _orders_cursor(app, billing_orders, "TRUE", 30_000)
    elif depth == "deep":
        before = _orders_cursor(app, billing_orders, "status = :s", 1_000, status, s=status)
    stmt = billing_orders.keyset(status).statement(
        billing_orders.queue_statement(status=status), before, billing_orders.PAGE_SIZE + 1
    )
    assert_reads_index(explain(app, stmt), "orders", QUEUE_INDEX)


@pytest.mark.parametrize("depth", ["first", "deep"])
@pytest.mark.parametrize("status", [None, "pending", "fulfilled", "cancelled"])
def test_one_organizations_orders_read_their_index_without_sorting(orders_plan_db, depth, status):
    app, ids, billing_orders = orders_plan_db
    before = None
    if depth == "deep":
        where = "account_id = :a" + (" AND status = :s" if status else "")
        offset = 30 if status == "pending" else 2_000 if status is None else 200
        before = _orders_cursor(
            app, billing_orders, where, offset, status, a=ids["account_id"], s=status
        )
    stmt = billing_orders.keyset(status).statement(
        billing_orders.queue_statement(status=status, account_id=ids["account_id"]),
        before,
        billing_orders.ACCOUNT_PAGE_SIZE + 1,
    )
    assert_reads_index(explain(app, stmt), "orders", ACCOUNT_QUEUE_INDEX)


def test_counting_orders_waiting_for_payment_reads_the_queue_index(orders_plan_db):
    """The admin home's count: the range of one rank of the queue's index (a bitmap scan or
    an index scan, never the whole table)."""
    app, _ids, billing_orders = orders_plan_db
    plan = explain(app, billing_orders.pending_count_statement())
    all_nodes = list(nodes(plan))
    assert not [n for n in all_nodes if n["Node Type"] == "Seq Scan"], plan
    scans = {"Index Scan", "Index Only Scan", "Bitmap Index Scan"}
    assert [n for n in all_nodes if n["Node Type"] in scans and n["Index Name"] == QUEUE_INDEX]


def test_the_orders_volume_is_seeded(orders_plan_db):
    app, ids, _ = orders_plan_db
    counts = row_at(
        app,
        "SELECT count(*) AS n, count(*) FILTER (WHERE account_id = :a) AS big, "
        "count(*) FILTER (WHERE status = 'pending') AS pending FROM orders",
        a=ids["account_id"],
    )
    assert (counts.n, counts.big) == (ORDERS, BIG_ACCOUNT_ORDERS)
    assert 0 < counts.pending < ORDERS // 20


# ------------------------------------------------------------------------- invoices ---
# /admin/invoices (every organization's, newest number first; by period; by status), an
# organization's invoices on its billing page, and the admin home's count of open invoices
# past due (migration 0021's indexes).
INVOICES_PER_OTHER = 150
BIG_ACCOUNT_INVOICES = 300
INVOICE_ACCOUNTS = 200


def _seed_invoices() -> dict:
    from sqlalchemy import text as sql

    with db.engine.begin() as conn:
        owner = seed.user(conn, "invoiced")
        accounts = [
            seed.account(conn, owner, f"Invoices {i} Ltda") for i in range(INVOICE_ACCOUNTS)
        ]
        big = accounts[0]
        # One invoice per organization and month (the unique index), months going back.
        conn.execute(
            sql(
                "INSERT INTO invoices (account_id, period_start, period_end, total) "
                "SELECT a.id, (date '2026-11-01' - make_interval(months => m))::date, "
                "       (date '2026-12-01' - make_interval(months => m))::date, 89.90 "
                "FROM unnest(CAST(:accounts AS bigint[])) AS a(id) "
                "CROSS JOIN generate_series(0, :n - 1) AS m "
                "WHERE (a.id <> :big AND m < :other_n) OR (a.id = :big AND m < :big_n) "
                "ORDER BY m DESC, a.id"
            ),
            {
                "accounts": accounts[1:] + [big],
                "n": max(INVOICES_PER_OTHER, BIG_ACCOUNT_INVOICES),
                "other_n": INVOICES_PER_OTHER,
                "big": big,
                "big_n": BIG_ACCOUNT_INVOICES,
            },
        )
        # Most are issued, older ones paid, a few voided; the newest month stays draft.
        conn.execute(
            sql(
                "UPDATE invoices SET status = 'open', issued_at = period_end, "
                "due_at = period_end + 10 WHERE period_start < date '2026-11-01'"
            )
        )
        conn.execute(
            sql(
                "UPDATE invoices SET status = 'paid', paid_at = period_end + 5, "
                "payment_reference = 'E2E' || number WHERE status = 'open' "
                "AND period_start < date '2026-09-01' AND number % 50 <> 0"
            )
        )
        conn.execute(
            sql(
                "UPDATE invoices SET status = 'void', voided_at = period_end + 2, "
                "void_reason = 'Duplicada' WHERE status = 'open' AND number % 100 = 0"
            )
        )
    seed.vacuum_analyze(db.engine, "invoices", "accounts")
    return {"account_id": big}


@pytest.fixture(scope="module")
def invoices_plan_db(databases, smtp_server):
    from portal.billing import invoices as billing_invoices

    controller, _ = smtp_server
    app = make_test_app(databases.create("invoice_plans"), controller.port)
    upgrade(app)
    with app.app_context():
        try:
            yield app, _seed_invoices(), billing_invoices
        finally:
            db.engine.dispose()


def _invoice_cursor(app, billing_invoices, where: str, offset: int, **params):
    row = row_at(
        app,
        f"SELECT number FROM invoices WHERE {where} ORDER BY number DESC OFFSET :o LIMIT 1",
        o=offset,
        **params,
    )
    return billing_invoices.ORDER.cursor_of(row)


@pytest.mark.parametrize("depth", ["first", "deep"])
@pytest.mark.parametrize(
    ("filters", "where", "index"),
    [
        ({}, "TRUE", "uq_invoices_number"),
        (
            {"period": "2020-03"},
            "period_start = date '2020-03-01'",
            "ix_invoices_period_start_number",
        ),
        ({"status": "open"}, "status = 'open'", "ix_invoices_status_number"),
        # Most invoices are paid: reading the numbers backwards and skipping the others is
        # as good a plan as the status index.
        (
            {"status": "paid"},
            "status = 'paid'",
            ("ix_invoices_status_number", "uq_invoices_number"),
        ),
    ],
    ids=["all", "period", "open", "paid"],
)
def test_the_staff_invoice_list_reads_its_index_without_sorting(
    invoices_plan_db, depth, filters, where, index
):
    app, _ids, billing_invoices = invoices_plan_db
    before = _invoice_cursor(app, billing_invoices, where, 20) if depth == "deep" else None
    stmt = billing_invoices.rows_statement()
    if "period" in filters:
        stmt = stmt.where(
            billing_invoices.Invoice.period_start
            == billing_invoices.parse_period(filters["period"])
        )
    if "status" in filters:
        stmt = stmt.where(billing_invoices.Invoice.status == filters["status"])
    stmt = billing_invoices.ORDER.statement(stmt, before, billing_invoices.PAGE_SIZE + 1)
    plan = explain(app, stmt)
    if "period" in filters:
        # One month is one invoice per organization: a range of the period's index, which
        # the planner may sort (bounded by the number of organizations), never the table.
        all_nodes = list(nodes(plan))
        assert not [
            n
            for n in all_nodes
            if n["Node Type"] == "Seq Scan" and n["Relation Name"] == "invoices"
        ]
        assert [n for n in all_nodes if n.get("Index Name") == index], plan
        return
    assert_reads_index(plan, "invoices", index)


@pytest.mark.parametrize("depth", ["first", "deep"])
def test_an_organizations_invoices_read_their_index_without_sorting(invoices_plan_db, depth):
    app, ids, billing_invoices = invoices_plan_db
    before = None
    if depth == "deep":
        before = _invoice_cursor(
            app,
            billing_invoices,
            "account_id = :a AND status <> 'draft'",
            150,
            a=ids["account_id"],
        )
    stmt = billing_invoices.rows_statement().where(
        billing_invoices.Invoice.account_id == ids["account_id"],
        billing_invoices.Invoice.status.in_(billing_invoices.CUSTOMER_STATUSES),
    )
    stmt = billing_invoices.ORDER.statement(stmt, before, billing_invoices.ACCOUNT_PAGE_SIZE + 1)
    assert_reads_index(explain(app, stmt), "invoices", "ix_invoices_account_id_number")


def test_counting_open_invoices_past_due_reads_the_partial_index(invoices_plan_db):
    app, _ids, billing_invoices = invoices_plan_db
    with app.test_request_context():
        plan = explain(app, billing_invoices.past_due_count_statement())
    all_nodes = list(nodes(plan))
    assert not [n for n in all_nodes if n["Node Type"] == "Seq Scan"], plan
    scans = {"Index Scan", "Index Only Scan", "Bitmap Index Scan"}
    assert [
        n
        for n in all_nodes
        if n["Node Type"] in scans and n["Index Name"] == "ix_invoices_open_due_at"
    ], plan


def test_the_invoices_volume_is_seeded(invoices_plan_db):
    app, ids, _ = invoices_plan_db
    counts = row_at(
        app,
        "SELECT count(*) AS n, count(*) FILTER (WHERE account_id = :a) AS big, "
        "count(*) FILTER (WHERE status = 'open') AS open FROM invoices",
        a=ids["account_id"],
    )
    assert counts.n == (INVOICE_ACCOUNTS - 1) * INVOICES_PER_OTHER + BIG_ACCOUNT_INVOICES
    assert counts.big == BIG_ACCOUNT_INVOICES
    assert 0 < counts.open < counts.n // 5


# ============================================================ usage (issue 11, usage) ===
# One organization with 60,000 usage records over ~14 months (plus 200,000 of 20 other
# organizations), 3 buckets: the billing page's usage reads (months, days, buckets: one
# UNION ALL statement) read ranges of usage_daily_totals' primary key (months, days) and
# usage_daily's (buckets), never usage_records
# (usage daily, issue: reads cost the same whatever the number of records); the month's
# CSV export (it lists the events) reads a range of ix_usage_records_account_id_period_start,
# never the whole table.
USAGE_INDEX = "ix_usage_records_account_id_period_start"
DAILY_INDEX = "pk_usage_daily"
TOTALS_INDEX = "pk_usage_daily_totals"
USAGE_ROWS = 60_000
OTHER_USAGE_ROWS = 10_000  # per other organization
USAGE_NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


def _seed_usage() -> dict:
    from sqlalchemy import text as sql

    from portal.usage import services as usage_services

    insert = sql(
        "INSERT INTO usage_records (account_id, bucket_id, metric, quantity, period_start, "
        "                           period_end, source_event_id) "
        "SELECT :a, (CAST(:buckets AS bigint[]))[1 + g % 3], "
        "       (ARRAY['storage_gb_hours','egress_gb','requests_put','requests_get'])[1 + g % 4], "
        "       g % 1000, "
        "       CAST(:now AS timestamptz) - (g * CAST(:step AS interval)), "
        "       CAST(:now AS timestamptz) - (g * CAST(:step AS interval)) + interval '1 hour', "
        "       :prefix || g "
        "FROM generate_series(1, :n) AS g"
    )
    with db.engine.begin() as conn:
        owner = seed.user(conn, "usage-owner")
        big = seed.account(conn, owner, "Big Usage Ltda")
        seed.activate(conn, big)
        seed.buckets(conn, big, 3, prefix="u-")
        buckets = list(
            conn.execute(sql("SELECT id FROM buckets WHERE account_id = :a"), {"a": big}).scalars()
        )
        # 60,000 records over 420 days: one every ~10 minutes
        conn.execute(
            insert,
            {
                "a": big,
                "buckets": buckets,
                "now": USAGE_NOW,
                "step": "10 minutes",
                "prefix": "big-",
                "n": USAGE_ROWS,
            },
        )
        for i in range(20):
            other = seed.account(conn, owner, f"Other Usage {i} Ltda")
            conn.execute(
                insert,
                {
                    "a": other,
                    "buckets": [None],
                    "now": USAGE_NOW,
                    "step": "1 hour",
                    "prefix": f"o{i}-",
                    "n": OTHER_USAGE_ROWS,
                },
            )
        # usage_daily, as the importer keeps it
        for statement in usage_services.DAILY_FROM_RECORDS:
            conn.execute(sql(statement.format(where="")))
    seed.vacuum_analyze(
        db.engine, "usage_records", "usage_daily", "usage_daily_totals", "buckets", "accounts"
    )
    return {"account_id": big}


@pytest.fixture(scope="module")
def usage_plan_db(databases, smtp_server):
    from portal.usage import services as usage_services

    controller, _ = smtp_server
    app = make_test_app(databases.create("usage_plans"), controller.port)
    upgrade(app)
    with app.app_context():
        try:
            yield app, _seed_usage(), usage_services
        finally:
            db.engine.dispose()


def assert_ranges_of(plan: dict, table: str, index: str, *, ranges: int) -> None:
    """No Seq Scan over ``table``; ``index`` read (an index or bitmap index scan) once per
    part of the statement."""
    all_nodes = list(nodes(plan))
    seq = [n for n in all_nodes if n["Node Type"] == "Seq Scan" and n["Relation Name"] == table]
    assert not seq, f"a Seq Scan over {table}: {json.dumps(plan, indent=1)}"
    scans = {"Index Scan", "Index Only Scan", "Bitmap Index Scan"}
    used = [n for n in all_nodes if n["Node Type"] in scans and n.get("Index Name") == index]
    assert len(used) == ranges, json.dumps(plan, indent=1)


def assert_no_records_read(plan: dict) -> None:
    touched = [n for n in nodes(plan) if n.get("Relation Name") == "usage_records"]
    assert not touched, json.dumps(plan, indent=1)


@pytest.mark.parametrize("days", [30, 90])
def test_the_usage_section_reads_three_ranges_of_the_daily_sums(usage_plan_db, days):
    app, ids, usage = usage_plan_db
    plan = explain(app, usage.overview_statement(ids["account_id"], days, USAGE_NOW))
    assert_ranges_of(plan, "usage_daily_totals", TOTALS_INDEX, ranges=2)
    # the per-bucket breakdown: one range picks the largest buckets, one reads their figures
    assert_ranges_of(plan, "usage_daily", DAILY_INDEX, ranges=2)
    assert_no_records_read(plan)


@pytest.mark.parametrize("statement", ["days", "months", "buckets", "totals"])
def test_each_usage_read_is_one_range_of_the_daily_sums(usage_plan_db, statement):
    app, ids, usage = usage_plan_db
    a, month = ids["account_id"], usage.month_start(USAGE_NOW)
    stmt = {
        "months": lambda: usage._months_stmt(a, month),
        "buckets": lambda: usage._buckets_stmt(a, month),
        "days": lambda: usage._days_stmt(a, month, USAGE_NOW.date()),
        "totals": lambda: usage.totals_statement(
            a, usage._at(month), usage._at(usage.add_months(month, 1))
        ),
    }[statement]()
    plan = explain(app, stmt)
    if statement == "buckets":  # the largest buckets, then their figures
        assert_ranges_of(plan, "usage_daily", DAILY_INDEX, ranges=2)
    else:
        assert_ranges_of(plan, "usage_daily_totals", TOTALS_INDEX, ranges=1)
    assert_no_records_read(plan)


def test_invoicing_sums_one_month_of_daily_usage(usage_plan_db):
    """Issuing a month's invoices sums every organization's days of that month: a range of
    ix_usage_daily_totals_day, never the records."""
    from portal.billing import invoices

    app, _ids, usage = usage_plan_db
    month = usage.add_months(usage.month_start(USAGE_NOW), -1)
    stmt = invoices.period_totals_statement(usage._at(month), usage._at(usage.add_months(month, 1)))
    plan = explain(app, stmt)
    assert_ranges_of(plan, "usage_daily_totals", "ix_usage_daily_totals_day", ranges=1)
    assert_no_records_read(plan)


def test_the_daily_usage_sums_are_a_few_rows_per_day(usage_plan_db):
    """What the reads above cost: at most days × metrics × buckets rows for the big
    organization (here ~430 days × 4 × 3), whatever the number of its records; and exactly
    the records' sums."""
    app, ids, _ = usage_plan_db
    counts = row_at(
        app,
        "SELECT count(*) FILTER (WHERE account_id = :a) AS big, "
        "max(day) - min(day) + 1 AS days FROM usage_daily",
        a=ids["account_id"],
    )
    assert counts.big <= counts.days * 4 * 3 < USAGE_ROWS // 10
    differ = row_at(
        app,
        "SELECT count(*) AS n FROM ((SELECT account_id, (period_start AT TIME ZONE 'UTC')::date, "
        "metric, coalesce(bucket_id, 0), sum(quantity) FROM usage_records GROUP BY 1, 2, 3, 4) "
        "EXCEPT ALL (SELECT account_id, day, metric, bucket_key, quantity FROM usage_daily)) d",
    )
    assert differ.n == 0
    differ = row_at(
        app,
        "SELECT count(*) AS n FROM ((SELECT account_id, (period_start AT TIME ZONE 'UTC')::date, "
        "metric, sum(quantity) FROM usage_records GROUP BY 1, 2, 3) "
        "EXCEPT ALL (SELECT account_id, day, metric, quantity FROM usage_daily_totals)) d",
    )
    assert differ.n == 0


def test_the_month_export_reads_one_range_of_its_index(usage_plan_db):
    """The export reads one organization's month: one range of the index (the planner may
    read it in order or sort that month's rows; either way never the whole table)."""
    app, ids, usage = usage_plan_db
    month = usage.add_months(usage.month_start(USAGE_NOW), -2)
    plan = explain(app, usage.export_statement(ids["account_id"], month))
    assert_ranges_of(plan, "usage_records", USAGE_INDEX, ranges=1)


def test_the_usage_volume_is_seeded(usage_plan_db):
    app, ids, _ = usage_plan_db
    counts = row_at(
        app,
        "SELECT count(*) AS n, count(*) FILTER (WHERE account_id = :a) AS big FROM usage_records",
        a=ids["account_id"],
    )
    assert (counts.n, counts.big) == (USAGE_ROWS + 20 * OTHER_USAGE_ROWS, USAGE_ROWS)


# ====================================================================== access keys ===
# Issue 10: /accounts/<id>/keys, newest first, keyset on (created_at, id), by status.
KEYS = 20_000  # one organization's keys
OTHER_KEYS = 10_000  # per other organization
KEY_INDEX = "ix_access_keys_account_id_created_at_id"


def _seed_keys() -> dict:
    with db.engine.begin() as conn:
        owner = seed.user(conn, "key-owner")
        ids = []
        for i, count in enumerate([KEYS] + [OTHER_KEYS] * OTHER_ACCOUNTS):
            account_id = seed.account(conn, owner, f"Keys {i} Ltda")
            seed.activate(conn, account_id)
            conn.execute(
                text(
                    "INSERT INTO access_keys (account_id, key_id, name, secret_ciphertext, "
                    "                         created_at, expires_at) "
                    "SELECT :a, 'PC' || lpad((:a * 1000000 + g)::text, 18, '0'), 'k' || g, "
                    "       '\\x00'::bytea, now() - g * interval '1 minute', "
                    "       CASE WHEN g % 10 = 0 THEN now() - g * interval '1 minute' "
                    "            + interval '1 second' END "
                    "FROM generate_series(1, :n) g"
                ),
                {"a": account_id, "n": count},
            )
            conn.execute(
                text(
                    "UPDATE access_keys SET status = 'inactive' WHERE account_id = :a "
                    "AND substr(key_id, 3)::bigint % 4 IN (0, 1)"
                ),
                {"a": account_id},
            )
            conn.execute(
                text(
                    "UPDATE access_keys SET status = 'revoked', revoked_at = now() "
                    "WHERE account_id = :a AND substr(key_id, 3)::bigint % 4 = 0"
                ),
                {"a": account_id},
            )
            ids.append(account_id)
    seed.vacuum_analyze(db.engine, "access_keys", "accounts", "users")
    return {"account_id": ids[0]}


@pytest.fixture(scope="module")
def keys_plan_db(databases, smtp_server):
    controller, _ = smtp_server
    app = make_test_app(databases.create("key_plans"), controller.port)
    upgrade(app)
    with app.app_context():
        try:
            yield app, _seed_keys()
        finally:
            db.engine.dispose()


@pytest.mark.parametrize("deep", [False, True], ids=["first_page", "keyset_page"])
@pytest.mark.parametrize("status", ["", "active", "inactive", "expired", "revoked"])
def test_key_pages_read_the_index_without_sorting(keys_plan_db, deep, status):
    from portal.keys import services as key_services

    app, ids = keys_plan_db
    account_id = ids["account_id"]
    before = None
    if deep:
        row = row_at(
            app,
            "SELECT created_at, id FROM access_keys WHERE account_id = :a "
            "ORDER BY created_at DESC, id DESC OFFSET 10000 LIMIT 1",
            a=account_id,
        )
        before = key_services.ORDER.cursor_of(row)
    stmt = key_services.ORDER.statement(
        key_services.list_statement(account_id, status), before, key_services.PAGE_SIZE + 1
    )
    assert_reads_index(explain(app, stmt), "access_keys", KEY_INDEX)


def test_the_key_plans_see_the_seeded_volume(keys_plan_db):
    app, ids = keys_plan_db
    counts = row_at(
        app,
        "SELECT count(*) AS n, count(*) FILTER (WHERE account_id = :a) AS big FROM access_keys",
        a=ids["account_id"],
    )
    assert (counts.n, counts.big) == (KEYS + OTHER_KEYS * OTHER_ACCOUNTS, KEYS)


# ---------------------------------------------------------------------------------------
# Members (issue 14): the members page and the audit log's person suggestions walk one
# organization's memberships in the order of ix_account_members_account_id_created_at_id
# (oldest first), whatever the page's depth, with or without a search.
# ---------------------------------------------------------------------------------------
MEMBER_INDEX = "ix_account_members_account_id_created_at_id"
PEOPLE = 20_000
ORGS = 40  # of 300 members each: the big organization is a small part of the table
MEMBERS_PER_ORG = 300


def _seed_members() -> dict:
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO users (email, name, password_hash) "
                "SELECT 'person' || g || '@people.example', 'Person ' || g, 'x' "
                "FROM generate_series(1, :n) g"
            ),
            {"n": PEOPLE},
        )
        first = conn.execute(text("SELECT min(id) FROM users")).scalar_one()
        accounts = [seed.account(conn, first + i, f"Org {i} Ltda") for i in range(ORGS)]
        conn.execute(
            text(
                "INSERT INTO account_members (account_id, user_id, role, created_at) "
                "SELECT a.id, :first + ((a.id * 7919 + m) % :people), 'member', "
                "  timestamptz '2026-01-01' + m * interval '1 minute' "
                "FROM accounts a, generate_series(1, :per - 1) m "
                "ON CONFLICT DO NOTHING"
            ),
            {"first": first, "people": PEOPLE, "per": MEMBERS_PER_ORG},
        )
        account_id = accounts[0]
    seed.vacuum_analyze(db.engine, "users", "accounts", "account_members")
    return {"account_id": account_id}


@pytest.fixture(scope="module")
def members_plan_db(databases, smtp_server):
    controller, _ = smtp_server
    app = make_test_app(databases.create("member_plans"), controller.port)
    upgrade(app)
    with app.app_context():
        try:
            yield app, _seed_members()
        finally:
            db.engine.dispose()


def _member_cursor(app, account_id: int, offset: int):
    from portal.members import services as member_services
    from portal.pagination import Cursor

    row = row_at(
        app,
        "SELECT created_at, id FROM account_members WHERE account_id = :a "
        "ORDER BY created_at, id OFFSET :o LIMIT 1",
        a=account_id,
        o=offset,
    )
    return Cursor(tuple(row), member_services.ORDER.kinds)


@pytest.mark.parametrize("deep", [False, True], ids=["first_page", "keyset_page"])
@pytest.mark.parametrize("q", [None, "person 1", "@people"], ids=["all", "name", "email"])
def test_member_pages_read_the_index_without_sorting(members_plan_db, deep, q):
    from portal.members import services as member_services

    app, ids = members_plan_db
    cursor = _member_cursor(app, ids["account_id"], 200) if deep else None
    with app.app_context():
        stmt = member_services.ORDER.statement(
            member_services.list_statement(ids["account_id"], q), cursor, 51
        )
    plan = explain(app, stmt)
    assert_reads_index(plan, "account_members", MEMBER_INDEX)
    seq = [n for n in nodes(plan) if n["Node Type"] == "Seq Scan"]
    assert not seq, f"a Seq Scan: {json.dumps(plan, indent=1)}"


def test_person_suggestions_read_the_members_index(members_plan_db):
    from portal.audit_log import services as audit

    app, ids = members_plan_db
    with app.app_context():
        stmt = audit.people_statement(ids["account_id"], "person 12")
    plan = explain(app, stmt)
    assert_reads_index(plan, "account_members", MEMBER_INDEX)
    assert not [n for n in nodes(plan) if n["Node Type"] == "Seq Scan"]


def test_the_members_volume_is_seeded(members_plan_db):
    app, ids = members_plan_db
    row = row_at(
        app,
        "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM account_members), "
        "(SELECT count(*) FROM account_members WHERE account_id = :a)",
        a=ids["account_id"],
    )
    assert row[0] >= PEOPLE and row[1] > ORGS * MEMBERS_PER_ORG * 0.9 and row[2] > 250
