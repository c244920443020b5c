"""user_sessions: server-side, revocable sessions

One row per signed-in browser. The browser holds a random session id (in the signed session
cookie, and in the remember-me cookie when the person asked to be kept logged in); the row
holds only its SHA-256 (token_hash, unique: each request finds its session with one probe
of that index, joined to its user). Logging out, "log out" on /sessions and a password
reset delete rows, so a copied cookie stops working.

ON DELETE: user_sessions.user_id CASCADE — a session is nothing without its person, and
nothing else refers to a session (the audit trail names the person, not the session).

A new, empty table: the statements scan nothing; lock_timeout bounds the wait for the
lock on users that the foreign key takes.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET lock_timeout = '5s'")
    op.execute("SET statement_timeout = '30s'")
    op.create_table(
        "user_sessions",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("session_version", sa.BigInteger(), nullable=False),
        sa.Column("remember", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "last_seen_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ip", postgresql.INET(), nullable=True),
        sa.Column("user_agent", sa.String(length=512), nullable=True),
        sa.CheckConstraint(
            "expires_at > created_at", name=op.f("ck_user_sessions_expires_after_creation")
        ),
        sa.CheckConstraint(
            "length(token_hash) = 64", name=op.f("ck_user_sessions_token_hash_sha256")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_user_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_user_sessions_token_hash")),
    )
    op.create_index(
        "ix_user_sessions_user_id_last_seen_at",
        "user_sessions",
        ["user_id", sa.text("last_seen_at DESC")],
        unique=False,
    )
    op.execute("RESET statement_timeout")
    op.execute("RESET lock_timeout")


def downgrade():
    op.execute("SET lock_timeout = '5s'")
    op.drop_index("ix_user_sessions_user_id_last_seen_at", table_name="user_sessions")
    op.drop_table("user_sessions")
    op.execute("RESET lock_timeout")
