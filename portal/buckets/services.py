"""Buckets: the list, the name check, creation, one bucket's page, versioning, deletion.

The rules (DOMAIN.md): owners, admins and members create, change and delete buckets;
everyone in the organization sees them. Buckets are created only while the organization is
``active`` and within its bucket quota; a suspended organization is read-only. Names follow
S3's naming rules and are unique within the organization. Versioning moves as
``portal.states.VERSIONING`` says (never back to unversioned). A bucket is deleted only when
it is empty.

Every change locks the account row first (``require(..., lock=True)``), then the bucket:
two people creating the same name, or the last bucket the quota allows, run one after the
other and the second one is told why it failed. The database checks names, versioning
moves and "active only" again (migrations 0002, 0004, 0009, 0012).

Rows carry what the viewer may do (``may_write``) so templates never restate a rule.
No request, flash, current_user or commit here: the caller owns the transaction."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext, ngettext, pgettext
from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError

from portal import clock, events, links, states
from portal.audit import Action
from portal.buckets import endpoints
from portal.errors import Invalid, NotFound
from portal.events import MANAGERS, Target
from portal.extensions import db
from portal.i18n import translated_once
from portal.models import Account, AccountMember, AccountStatus, Bucket, User, Versioning
from portal.pagination import Cursor, Key, Keyset, Page
from portal.permissions import Permission, can, require, require_platform_admin
from portal.quotas import usage as quota_usage
from portal.quotas.usage import Usage

PAGE_SIZE = 50
NAME_MIN, NAME_MAX = 3, 63
NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789.-")
# Names S3 reserves (its bucket naming rules): refused here too, so a bucket can move to or
# from S3 under the same name.
RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
_IP_SHAPE = re.compile(r"^[0-9]{1,3}(\.[0-9]{1,3}){3}$")

# By name, in byte order (S3's), whatever the database's collation: one range scan of
# ix_buckets_account_id_name_c per page (0016). Names are unique within an account.
ORDER = Keyset(Key(Bucket.name.collate("C"), desc=False, name="name"))


def _versioning_labels() -> dict[str, str]:
    # A context of its own: "Suspended" of versioning is not the organization's (the
    # genders differ in Portuguese), nor "Enabled" a rule's.
    return {
        Versioning.UNVERSIONED: pgettext("versioning", "Unversioned"),
        Versioning.ENABLED: pgettext("versioning", "Enabled"),
        Versioning.SUSPENDED: pgettext("versioning", "Suspended"),
    }


# The lifecycle rule offered on creation (R2 applies it to every bucket by default).
ABORT_UPLOADS_RULE = {
    "id": "abort-incomplete-multipart-uploads",
    "status": "Enabled",
    "filter": {"prefix": ""},
    "abort_incomplete_multipart_upload": {"days_after_initiation": 7},
}


@events.target_of.register
def _(bucket: Bucket) -> Target:
    """A bucket in the audit log: its id, labelled with its name (kept once it is gone)."""
    return Target("bucket", bucket.id, bucket.name)


def versioning_label(state: str) -> str:
    return translated_once("bucket_versioning", _versioning_labels).get(state, state)


def detail_path(account_id: int, name: str) -> str:
    return links.path("buckets.detail", account_id=account_id, name=name)


def list_path(account_id: int) -> str:
    return links.path("buckets.index", account_id=account_id)


# ----------------------------------------------------------------------- writability ---
def read_only_reason(account: Account) -> str | None:
    """Why nothing can be changed in ``account``'s buckets, or None when it is active."""
    if account.status == AccountStatus.SUSPENDED:
        if account.suspension_reason:
            return gettext(
                "This organization is suspended and its buckets are read-only until it is "
                "restored. Reason: %(reason)s",
                reason=account.suspension_reason,
            )
        return gettext(
            "This organization is suspended and its buckets are read-only until it is restored."
        )
    if account.status != AccountStatus.ACTIVE:
        return gettext(
            "Buckets can be created once the organization is active: it becomes active with "
            "its first subscription."
        )
    return None


def check_writable(account: Account, field: str | None = None) -> None:
    reason = read_only_reason(account)
    if reason:
        raise Invalid(reason, field=field)


# ---------------------------------------------------------------------------- names ---
def name_problems(name: str) -> list[str]:
    """Every S3 naming rule ``name`` breaks, one sentence each (empty when it is valid)."""
    if not name:
        return [gettext("Enter a name for the bucket.")]
    problems = []
    if not NAME_MIN <= len(name) <= NAME_MAX:
        problems.append(
            gettext(
                "Use %(min)s to %(max)s characters (this name has %(count)s).",
                min=NAME_MIN,
                max=NAME_MAX,
                count=len(name),
            )
        )
    if any(c.isupper() for c in name):
        problems.append(gettext("Use lower-case letters only."))
    others = []
    for c in name:
        if c not in NAME_CHARS and not c.isupper() and c not in others:
            others.append(c)
    if others:
        shown = ", ".join(gettext("space") if c == " " else f"“{c}”" for c in others[:10])
        problems.append(
            gettext(
                "Only letters, digits, dots (.) and hyphens (-) are allowed; remove %(chars)s.",
                chars=shown,
            )
        )
    if name[0] in ".-":
        problems.append(gettext("Start with a letter or a digit."))
    if name[-1] in ".-":
        problems.append(gettext("End with a letter or a digit."))
    if ".." in name:
        problems.append(gettext("Two dots in a row are not allowed."))
    if _IP_SHAPE.match(name):
        problems.append(gettext("A name cannot look like an IP address (such as 192.168.5.4)."))
    for prefix in RESERVED_PREFIXES:
        if name.startswith(prefix):
            problems.append(gettext("Names starting with %(prefix)s are reserved.", prefix=prefix))
    for suffix in RESERVED_SUFFIXES:
        if name.endswith(suffix):
            problems.append(gettext("Names ending with %(suffix)s are reserved.", suffix=suffix))
    return problems


class InvalidName(Invalid):
    """A name that breaks S3's naming rules: ``problems`` lists each broken rule."""

    def __init__(self, problems: list[str]):
        super().__init__(" ".join(problems), field="name")
        self.problems = problems


def name_taken_message() -> str:
    return gettext("This name is already used by a bucket of this organization.")


def _taken(account_id: int, name: str) -> bool:
    return bool(
        db.session.scalar(
            select(exists().where(Bucket.account_id == account_id, Bucket.name == name))
        )
    )


@dataclass(frozen=True)
class NameCheck:
    name: str
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def check_name(user: User, account_id: int, name: str | None) -> NameCheck:
    """The live check of the create form: every rule the name breaks, or that it is already
    used in the organization. Two queries; reads only."""
    account, _membership = require(user, account_id, Permission.BUCKETS_WRITE)
    name = (name or "").strip()
    problems = name_problems(name)
    if not problems and _taken(account.id, name):
        problems = [name_taken_message()]
    return NameCheck(name, problems)


# ----------------------------------------------------------------------------- list ---
@dataclass(frozen=True)
class BucketRow:
    """One bucket of the list."""

    id: int
    name: str
    region: str
    versioning: str
    rule_count: int
    object_count: int
    size_bytes: int
    created_at: datetime

    @property
    def versioning_label(self) -> str:
        return versioning_label(self.versioning)

    @property
    def region_name(self) -> str:
        return endpoints.region_name(self.region)


@dataclass
class BucketsPage:
    account: Account
    membership: AccountMember
    usage: Usage
    page: Page[BucketRow] | None
    regions: list[tuple[str, str]] = field(default_factory=list)

    @property
    def may_write(self) -> bool:
        return can(self.membership, Permission.BUCKETS_WRITE)

    @property
    def read_only_reason(self) -> str | None:
        return read_only_reason(self.account)

    @property
    def at_quota(self) -> bool:
        return self.usage.buckets.at_limit

    @property
    def may_create(self) -> bool:
        return self.may_write and self.read_only_reason is None and not self.at_quota

    @property
    def rows(self) -> list[BucketRow]:
        return self.page.rows if self.page is not None else []


def _rows_statement(account_id: int):
    return select(
        Bucket.id,
        Bucket.name,
        Bucket.region,
        Bucket.versioning,
        func.jsonb_array_length(Bucket.lifecycle_rules).label("rule_count"),
        Bucket.object_count,
        Bucket.size_bytes,
        Bucket.created_at,
    ).where(Bucket.account_id == account_id)


def _next_prefix(prefix: str) -> str:
    """The smallest string above every string starting with ``prefix`` (byte order)."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def list_statement(account_id: int, q: str | None = None):
    """The list's query, without its order (``ORDER`` pages it): ``q`` is a name prefix,
    searched as a range of the index (``name >= q AND name < next(q)``)."""
    stmt = _rows_statement(account_id)
    q = normalize_search(q)
    if q:
        key = ORDER.keys[0].column
        stmt = stmt.where(key >= q, key < _next_prefix(q))
    return stmt


def normalize_search(q: str | None) -> str:
    return (q or "").strip().lower()


def search_problem(q: str | None) -> str | None:
    """Why ``q`` can match no bucket name (a message for the search field), or None."""
    q = normalize_search(q)
    if len(q) > NAME_MAX:
        return gettext("A bucket name has at most %(max)s characters.", max=NAME_MAX)
    if any(c not in NAME_CHARS for c in q):
        return gettext("Bucket names only hold letters, digits, dots and hyphens.")
    return None


def list_buckets(
    user: User,
    account_id: int,
    *,
    q: str | None = None,
    before: Cursor | None = None,
    limit: int = PAGE_SIZE,
    rows: bool = True,
) -> BucketsPage:
    """The buckets page: the account, the quota meters and a page of buckets by name.
    Three queries whatever the number of buckets (access, usage, the page); ``rows=False``
    (a refused search) skips the page."""
    account, membership = require(user, account_id, Permission.ACCOUNT_READ)
    usage = quota_usage.usage(account)
    page = None
    if rows:
        if search_problem(q):
            raise Invalid(search_problem(q), field="q")
        page = ORDER.page(list_statement(account.id, q), before, limit)
        page.rows = [BucketRow(*r) for r in page.rows]
    return BucketsPage(account, membership, usage, page, endpoints.regions())


# --------------------------------------------------------------------------- create ---
def _constraint(exc: IntegrityError) -> str | None:
    return getattr(getattr(exc.orig, "diag", None), "constraint_name", None)


def create_bucket(
    actor: User,
    account_id: int,
    name: str | None,
    *,
    region: str | None = None,
    versioning: str = Versioning.UNVERSIONED.value,
    abort_uploads: bool = False,
    ip: str | None = None,
) -> Bucket:
    """A new bucket named ``name`` in ``region`` (default: the first configured region),
    unversioned or with versioning enabled, optionally with the "abort incomplete multipart
    uploads after 7 days" rule."""
    account, _membership = require(actor, account_id, Permission.BUCKETS_WRITE, lock=True)
    check_writable(account)
    usage = quota_usage.usage(account)
    if usage.buckets.at_limit:
        raise Invalid(quota_message(usage))
    name = (name or "").strip()
    problems = name_problems(name)
    if problems:
        raise InvalidName(problems)
    if _taken(account.id, name):
        raise Invalid(name_taken_message(), field="name")
    codes = endpoints.region_codes()
    region = region or codes[0]
    if region not in codes:
        raise Invalid(gettext("Choose one of the regions in the list."), field="region")
    if versioning not in states.VERSIONING.initial:
        raise Invalid(gettext("Choose whether versioning starts enabled."), field="versioning")
    rules = [dict(ABORT_UPLOADS_RULE)] if abort_uploads else []
    bucket = Bucket(
        account_id=account.id,
        name=name,
        region=region,
        versioning=versioning,
        lifecycle_rules=rules,
        created_by_id=actor.id,
    )
    if clock.traveling():  # the demo seed creates buckets in the past
        bucket.created_at = clock.now()
    try:
        # A savepoint: should the same name arrive from another transaction despite the
        # account lock (a hand-written insert), the caller's transaction stays usable.
        with db.session.begin_nested():
            db.session.add(bucket)
            db.session.flush()
    except IntegrityError as exc:
        if _constraint(exc) == "uq_buckets_account_id_name":
            raise Invalid(name_taken_message(), field="name") from None
        raise
    events.emit(
        actor,
        Action.BUCKET_CREATED,
        bucket,
        account=account,
        ip=ip,
        details={
            "name": name,
            "region": region,
            "versioning": versioning,
            "lifecycle_rules": len(rules),
        },
    )
    db.session.flush()
    return bucket


def quota_message(usage: Usage) -> str:
    return ngettext(
        "This organization has reached its quota of %(num)d bucket.",
        "This organization has reached its quota of %(num)d buckets.",
        usage.buckets.quota,
    )


# ------------------------------------------------------------------------ one bucket ---
@dataclass
class BucketPage:
    """One bucket as ``membership`` sees it."""

    account: Account
    membership: AccountMember
    bucket: Bucket
    creator_name: str | None

    @property
    def may_write(self) -> bool:
        """May the viewer change this bucket now (role and organization status)?"""
        return can(self.membership, Permission.BUCKETS_WRITE) and self.read_only_reason is None

    @property
    def role_may_write(self) -> bool:
        return can(self.membership, Permission.BUCKETS_WRITE)

    @property
    def read_only_reason(self) -> str | None:
        return read_only_reason(self.account)

    @property
    def endpoint(self) -> endpoints.Endpoint:
        return endpoints.endpoint(self.bucket.name, self.bucket.region)

    @property
    def region_name(self) -> str:
        return endpoints.region_name(self.bucket.region)

    @property
    def versioning_label(self) -> str:
        return versioning_label(self.bucket.versioning)

    @property
    def versioning_actions(self) -> list[str]:
        """The versioning moves offered now ("enable", "suspend")."""
        if not self.may_write:
            return []
        return states.VERSIONING.actions_from(self.bucket.versioning)

    @property
    def is_empty(self) -> bool:
        return self.bucket.object_count == 0

    @property
    def rule_count(self) -> int:
        return len(self.bucket.lifecycle_rules or [])

    @property
    def export_filename(self) -> str:
        return f"{self.bucket.name}-lifecycle.json"


def _load(account: Account, name: str, lock: bool = False) -> tuple[Bucket, str | None]:
    stmt = (
        select(Bucket, User.name)
        .outerjoin(User, User.id == Bucket.created_by_id)
        .where(Bucket.account_id == account.id, Bucket.name == name)
        .execution_options(populate_existing=True)
    )
    if lock:
        stmt = stmt.with_for_update(of=Bucket)
    row = db.session.execute(stmt).first()
    if row is None:
        raise NotFound()
    return row[0], row[1]


def open_bucket(
    user: User, account_id: int, name: str, permission: Permission = Permission.ACCOUNT_READ
) -> BucketPage:
    """One bucket of the account, for its page: two queries (access; the bucket with its
    creator). Another organization's bucket, or none, is NotFound."""
    account, membership = require(user, account_id, permission)
    bucket, creator = _load(account, name)
    return BucketPage(account, membership, bucket, creator)


def lock_bucket(user: User, account_id: int, name: str) -> BucketPage:
    """The bucket locked for a change (the account row first, then the bucket: one lock
    order everywhere), after the write permission and the organization's status."""
    account, membership = require(user, account_id, Permission.BUCKETS_WRITE, lock=True)
    bucket, creator = _load(account, name, lock=True)
    check_writable(account)
    return BucketPage(account, membership, bucket, creator)


# ----------------------------------------------------------------------- versioning ---
def change_versioning(
    actor: User, account_id: int, name: str, action: str, *, ip: str | None = None
) -> BucketPage:
    """Enable or suspend versioning (``action`` of ``portal.states.VERSIONING``). Owners and
    admins are notified."""
    view = lock_bucket(actor, account_id, name)
    bucket = view.bucket
    if action not in states.VERSIONING.moves:
        raise Invalid(gettext("Choose to enable or to suspend versioning."), field="action")
    if not states.VERSIONING.allows(action, bucket.versioning):
        if action == "enable":
            message = gettext("Versioning is already enabled on this bucket.")
        elif bucket.versioning == Versioning.SUSPENDED:
            message = gettext("Versioning is already suspended on this bucket.")
        else:
            message = gettext("Versioning can be suspended only once it has been enabled.")
        raise Invalid(message, field="action")
    old = bucket.versioning
    new = states.VERSIONING.target(action)
    bucket.versioning = new
    events.emit(
        actor,
        Action.BUCKET_VERSIONING_CHANGED,
        bucket,
        account=view.account,
        ip=ip,
        details={"from": old, "to": new},
        notify=MANAGERS,
        kind=f"bucket.versioning_{new}",
        link=detail_path(view.account.id, bucket.name),
        params={"actor_name": actor.name, "bucket": bucket.name},
    )
    db.session.flush()
    return view


# --------------------------------------------------------------------------- delete ---
def delete_bucket(
    actor: User, account_id: int, name: str, confirm_name: str | None, *, ip: str | None = None
) -> BucketPage:
    """Delete an empty bucket, once its name has been typed to confirm. A bucket that still
    holds objects is refused (S3's BucketNotEmpty): nothing is half-deleted. Owners and
    admins are notified."""
    view = lock_bucket(actor, account_id, name)
    bucket = view.bucket
    if bucket.object_count > 0:
        raise Invalid(
            ngettext(
                "This bucket still holds %(num)d object. Empty it first: a bucket is deleted "
                "only when it is empty.",
                "This bucket still holds %(num)d objects. Empty it first: a bucket is deleted "
                "only when it is empty.",
                bucket.object_count,
            ),
            field="confirm_name",
        )
    if (confirm_name or "").strip() != bucket.name:
        raise Invalid(
            gettext("Type the bucket's name, %(name)s, to confirm.", name=bucket.name),
            field="confirm_name",
        )
    events.emit(
        actor,
        Action.BUCKET_DELETED,
        bucket,
        account=view.account,
        ip=ip,
        details={
            "name": bucket.name,
            "region": bucket.region,
            "versioning": bucket.versioning,
            "lifecycle_rules": len(bucket.lifecycle_rules or []),
        },
        notify=MANAGERS,
        link=list_path(view.account.id),
        params={"actor_name": actor.name, "bucket": bucket.name},
    )
    db.session.delete(bucket)
    db.session.flush()
    return view


__all__ = [
    "ABORT_UPLOADS_RULE",
    "ORDER",
    "BucketPage",
    "BucketRow",
    "BucketsPage",
    "InvalidName",
    "NameCheck",
    "change_versioning",
    "check_name",
    "create_bucket",
    "delete_bucket",
    "list_buckets",
    "lock_bucket",
    "name_problems",
    "open_bucket",
]


# ----------------------------------------------------------------- the staff's view ---
ADMIN_SECTION_BUCKETS = 20


@dataclass
class AdminBuckets:
    """The buckets section of /admin/accounts/<id>: the meters and the first buckets by
    name (read-only: staff never act on a customer's buckets)."""

    usage: Usage
    rows: list[BucketRow]

    @property
    def more(self) -> int:
        """Buckets beyond those listed."""
        return max(self.usage.buckets.used - len(self.rows), 0)


def admin_section(actor: User, account: Account) -> AdminBuckets:
    """Staff's view of an organization's buckets: usage against its quotas and the first
    :data:`ADMIN_SECTION_BUCKETS` buckets by name. Two queries, whatever the number of
    buckets."""
    require_platform_admin(actor)
    rows = ORDER.fetch(list_statement(account.id), None, ADMIN_SECTION_BUCKETS)
    return AdminBuckets(quota_usage.usage(account), [BucketRow(*r) for r in rows])
