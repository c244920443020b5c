"""Buckets and access keys."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    LargeBinary,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import created_at, db, pk, updated_at


class Versioning(StrEnum):
    UNVERSIONED = "unversioned"
    ENABLED = "enabled"
    SUSPENDED = "suspended"


class KeyStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    REVOKED = "revoked"


class KeyPermission(StrEnum):
    READ_ONLY = "read-only"
    READ_WRITE = "read-write"


class KeyScope(StrEnum):
    ALL = "all"  # every bucket of the organization, present and future
    BUCKETS = "buckets"  # only the buckets in access_key_buckets (possibly none)


# S3 bucket naming: 3-63 characters of lower-case letters, digits, dots and hyphens,
# starting and ending with a letter or digit.
BUCKET_NAME_PATTERN = r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"


class Bucket(db.Model):
    __tablename__ = "buckets"
    __table_args__ = (
        UniqueConstraint("account_id", "name"),
        CheckConstraint(f"name ~ '{BUCKET_NAME_PATTERN}'", name="name_s3"),
        CheckConstraint(
            "versioning IN ('unversioned', 'enabled', 'suspended')", name="versioning_known"
        ),
        CheckConstraint("jsonb_typeof(lifecycle_rules) = 'array'", name="lifecycle_rules_array"),
        CheckConstraint("object_count >= 0 AND size_bytes >= 0", name="usage_not_negative"),
        # Migration 0009: S3 refuses IP-address-like names, '..' and more than 1000 rules.
        CheckConstraint(r"name !~ '^[0-9]{1,3}(\.[0-9]{1,3}){3}$'", name="name_not_ip_address"),
        CheckConstraint("position('..' in name) = 0", name="name_no_consecutive_dots"),
        CheckConstraint(
            "CASE WHEN jsonb_typeof(lifecycle_rules) = 'array' "
            "THEN jsonb_array_length(lifecycle_rules) <= 1000 END",
            name="lifecycle_rules_at_most_1000",
        ),
        Index("ix_buckets_account_id", "account_id"),
        # The target of access_key_buckets' composite foreign key (0019).
        UniqueConstraint("id", "account_id"),
        # The bucket list: an account's buckets by name in byte order (S3's), keyset-paged
        # and searched by name prefix as one index range (0016). The collation is given
        # through postgresql_ops, which SQLAlchemy renders after the column: PostgreSQL's
        # reflection does not report an index column's collation, so an expression
        # ``name COLLATE "C"`` would read as drift to `flask db check`.
        Index(
            "ix_buckets_account_id_name_c",
            "account_id",
            "name",
            postgresql_ops={"name": 'COLLATE "C"'},
        ),
    )

    id: Mapped[int] = pk()
    # Deleting an account removes its buckets (the storage backend empties them first).
    account_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
    )
    name: Mapped[str] = mapped_column(String(63), nullable=False)
    region: Mapped[str] = mapped_column(
        String(32), nullable=False, server_default="sa-east-sp1", default="sa-east-sp1"
    )
    versioning: Mapped[str] = mapped_column(
        String(16), nullable=False, server_default="unversioned", default="unversioned"
    )
    lifecycle_rules: Mapped[list] = mapped_column(
        JSONB, nullable=False, server_default=text("'[]'::jsonb"), default=list
    )
    object_count: Mapped[int] = mapped_column(
        BigInteger, nullable=False, server_default=text("0"), default=0
    )
    size_bytes: Mapped[int] = mapped_column(
        BigInteger, nullable=False, server_default=text("0"), default=0
    )
    # When the metering pipeline measured object_count and size_bytes (its bucket
    # snapshots); a snapshot older than this one is ignored (migration 0020).
    usage_measured_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()


class AccessKey(db.Model):
    __tablename__ = "access_keys"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'inactive', 'revoked')", name="status_known"),
        CheckConstraint("key_id ~ '^PC[A-Z0-9]{18}$'", name="key_id_shape"),
        CheckConstraint("length(btrim(name)) BETWEEN 1 AND 64", name="name_length"),
        CheckConstraint(
            "(status = 'revoked') = (revoked_at IS NOT NULL)", name="revoked_at_iff_revoked"
        ),
        CheckConstraint("permission IN ('read-only', 'read-write')", name="permission_known"),
        CheckConstraint("scope IN ('all', 'buckets')", name="scope_known"),
        CheckConstraint(
            "expires_at IS NULL OR (expires_at > created_at "
            "AND expires_at <= created_at + interval '1001 days')",
            name="expiry_within_1000_days",
        ),
        # The target of access_key_buckets' composite foreign key (0019).
        UniqueConstraint("id", "account_id"),
        # The keys page: newest first, keyset on (created_at, id) (0019).
        Index("ix_access_keys_account_id_created_at_id", "account_id", "created_at", "id"),
    )

    id: Mapped[int] = pk()
    # Deleting an account removes its keys (they can no longer authenticate anything).
    account_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
    )
    # Public identifier, like AWS's access key id: unique and never changes.
    key_id: Mapped[str] = mapped_column(String(20), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    # The secret, sealed with Fernet under a key derived from SECRET_KEY (portal/crypto.py);
    # never stored or logged in plain text.
    secret_ciphertext: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    status: Mapped[str] = mapped_column(
        String(16), nullable=False, server_default="active", default="active"
    )
    created_by_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    rotated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    permission: Mapped[str] = mapped_column(
        String(16), nullable=False, server_default="read-write", default="read-write"
    )
    scope: Mapped[str] = mapped_column(
        String(16), nullable=False, server_default="all", default="all"
    )


class AccessKeyBucket(db.Model):
    """A bucket a key scoped to buckets reaches. Deleting the bucket removes the row; a key
    whose last bucket is gone reaches no bucket (its scope stays 'buckets', 0019)."""

    __tablename__ = "access_key_buckets"
    __table_args__ = (
        ForeignKeyConstraint(
            ["access_key_id", "account_id"],
            ["access_keys.id", "access_keys.account_id"],
            ondelete="CASCADE",
        ),
        ForeignKeyConstraint(
            ["bucket_id", "account_id"], ["buckets.id", "buckets.account_id"], ondelete="CASCADE"
        ),
        Index("ix_access_key_buckets_bucket_id", "bucket_id"),
    )

    access_key_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    bucket_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    account_id: Mapped[int] = mapped_column(BigInteger, nullable=False)


class AccessKeyNotice(db.Model):
    """An expiry notice already sent for a key (``flask keys expiry-notices``: once each)."""

    __tablename__ = "access_key_notices"
    __table_args__ = (CheckConstraint("kind IN ('expiring', 'expired')", name="kind_known"),)

    access_key_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("access_keys.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    sent_at: Mapped[datetime] = created_at()
