"""Access keys: the list, creation with a scope, rotation, deactivation, reactivation,
revocation, name and scope edits, and the expiry notices.

The rules (DOMAIN.md, issue 10): owners, admins and members manage keys; everyone in the
organization sees the list (never a secret). A key is created, rotated or reactivated only
while the organization is active (``accounts.services.read_only_reason`` says why not when
it is suspended; the database's trigger of 0012 refuses it too); a suspended organization
may still deactivate and revoke a key, to stop a leak. Active keys that have not expired
count against ``accounts.quota_access_keys`` (``portal.quotas.usage``, the one count).
Expired is derived, never stored: ``expires_at <= now``; an expired key cannot be
reactivated or rotated (create a new one).

The secret: 40 characters from :mod:`secrets`, sealed with :mod:`portal.crypto` before it
reaches the database. :func:`create_key` and :func:`rotate_key` return it once, in a
:class:`Secret` the route renders into that one response; nothing else ever reads it back
(nothing in the portal decrypts a stored secret), and it is never in an audit row, a
notification, an email or a log line.

Every change locks the account row first (``require(..., lock=True)``), then the key: two
creations at the ceiling run one after the other and the second is refused.
No request, flash, current_user or commit here: the caller owns the transaction."""

from __future__ import annotations

import csv
import io
import re
import secrets
import string
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from flask import current_app
from flask_babel import format_date, format_decimal, gettext, ngettext, pgettext
from sqlalchemy import and_, case, func, insert, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from portal import clock, events, links, states
from portal.accounts.services import read_only_reason as suspended_reason
from portal.audit import Action
from portal.buckets import endpoints
from portal.errors import Invalid, NotFound
from portal.events import MANAGERS, Target
from portal.extensions import db
from portal.i18n import translated_once
from portal.models import (
    AccessKey,
    AccessKeyBucket,
    AccessKeyNotice,
    Account,
    AccountMember,
    AccountStatus,
    Bucket,
    KeyPermission,
    KeyScope,
    KeyStatus,
    User,
)
from portal.pagination import Cursor, Key, Keyset, Page
from portal.permissions import Permission, can, require, require_object
from portal.quotas import usage as quota_usage
from portal.quotas.usage import Usage
from portal.text import fit as text_fit
from portal.text import name_like

PAGE_SIZE = 50
REVOKED_SHOWN = 20  # the collapsed "revoked keys" section shows the newest ones
NAME_MAX = 64
EXPIRY_MAX_DAYS = 1000
WARN_DAYS = 7  # "in N days" turns amber, and the expiry notice goes out
SECRET_LENGTH = 40
KEY_ID_ALPHABET = string.ascii_uppercase + string.digits
PROFILE = "primecloud"
CSV_USER = "primecloud"

# Newest first; one range scan of ix_access_keys_account_id_created_at_id (0019).
ORDER = Keyset(Key(AccessKey.created_at), Key(AccessKey.id))

# The list's status filter: "" (every live key), the stored states, and "expired".
FILTERS = ("", "active", "inactive", "expired", "revoked")


@events.target_of.register
def _(key: AccessKey) -> Target:
    """A key in the audit log: its public id, labelled with its name."""
    return Target("access_key", key.key_id, key.name)


def list_path(account_id: int) -> str:
    return links.path("keys.index", account_id=account_id)


# ----------------------------------------------------------------------- generation ---
def new_key_id() -> str:
    """A public key id: "PC" and 18 upper-case letters or digits (the CHECK's shape)."""
    return "PC" + "".join(secrets.choice(KEY_ID_ALPHABET) for _ in range(18))


def new_secret() -> str:
    """40 URL-safe characters (240 random bits) from :mod:`secrets`."""
    return secrets.token_urlsafe(30)[:SECRET_LENGTH]


# ------------------------------------------------------------------------ labels ---
def status_labels() -> dict[str, str]:
    # A context of its own: "chave" is feminine in Portuguese (an invitation's "Expired"
    # is not).
    return {
        "active": pgettext("access key", "Active"),
        "inactive": pgettext("access key", "Inactive"),
        "revoked": pgettext("access key", "Revoked"),
        "expired": pgettext("access key", "Expired"),
    }


def permission_labels() -> dict[str, str]:
    return {
        KeyPermission.READ_ONLY: gettext("Read-only"),
        KeyPermission.READ_WRITE: gettext("Read and write"),
    }


def shown_status(status: str, expires_at: datetime | None, now: datetime) -> str:
    """What a person is told: the stored status, or "expired" once the expiry has passed
    (a revoked key stays revoked)."""
    if status != KeyStatus.REVOKED and expires_at is not None and expires_at <= now:
        return "expired"
    return status


# --------------------------------------------------------------------- writability ---
def create_blocked_reason(account: Account) -> str | None:
    """Why keys cannot be created, rotated or reactivated in ``account`` now (its
    suspension, shared with every page; or that it is not active yet), or None."""
    reason = suspended_reason(account)
    if reason:
        return reason
    if account.status != AccountStatus.ACTIVE:
        return gettext(
            "Access keys can be created once the organization is active: it becomes active "
            "with its first subscription."
        )
    return None


def check_writable(account: Account, field: str | None = None) -> None:
    reason = create_blocked_reason(account)
    if reason:
        raise Invalid(reason, field=field)


def quota_message(usage: Usage) -> str:
    return ngettext(
        "This organization has reached its limit of %(num)d active access key.",
        "This organization has reached its limit of %(num)d active access keys.",
        usage.access_keys.quota,
    )


def _check_ceiling(account: Account, field: str | None = None) -> None:
    usage = quota_usage.usage(account)
    if usage.access_keys.at_limit:
        raise Invalid(quota_message(usage), field=field)


# ------------------------------------------------------------------------ rows ---
@dataclass
class KeyRow:
    """One key of the list (never its secret), with what the viewer may do to it."""

    id: int
    account_id: int
    key_id: str
    name: str
    status: str
    permission: str
    scope: str
    created_at: datetime
    created_by: str | None
    rotated_at: datetime | None
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None
    now: datetime
    buckets: list[str] = field(default_factory=list)
    may_write: bool = False  # the viewer's role may manage keys
    blocked: str | None = None  # why create/rotate/reactivate are refused now

    @property
    def dom_id(self) -> str:
        return f"key-{self.id}"

    @property
    def shown_status(self) -> str:
        return shown_status(self.status, self.expires_at, self.now)

    @property
    def status_label(self) -> str:
        return translated_once("key_status", status_labels)[self.shown_status]

    @property
    def permission_label(self) -> str:
        return translated_once("key_permission", permission_labels).get(
            self.permission, self.permission
        )

    @property
    def expired(self) -> bool:
        return self.shown_status == "expired"

    @property
    def days_left(self) -> int | None:
        """Whole days until the expiry (0 on its last day), None without one."""
        if self.expires_at is None or self.expired:
            return None
        return (self.expires_at - self.now) // timedelta(days=1)

    @property
    def expiry_tone(self) -> str | None:
        """ "expired" (red), "soon" (amber, under 7 days) or None."""
        if self.expires_at is None or self.status == KeyStatus.REVOKED:
            return None
        if self.expired:
            return "expired"
        return "soon" if self.days_left is not None and self.days_left < WARN_DAYS else None

    @property
    def all_buckets(self) -> bool:
        return self.scope == KeyScope.ALL

    @property
    def may_deactivate(self) -> bool:
        return self.may_write and states.ACCESS_KEY.allows("deactivate", self.status)

    @property
    def may_reactivate(self) -> bool:
        return (
            self.may_write
            and self.blocked is None
            and not self.expired
            and states.ACCESS_KEY.allows("reactivate", self.status)
        )

    @property
    def may_rotate(self) -> bool:
        return (
            self.may_write
            and self.blocked is None
            and not self.expired
            and self.status != KeyStatus.REVOKED
        )

    @property
    def may_revoke(self) -> bool:
        return self.may_write and states.ACCESS_KEY.allows("revoke", self.status)

    @property
    def may_edit(self) -> bool:
        return self.may_write and self.blocked is None and self.status != KeyStatus.REVOKED


def _rows_statement():
    return (
        select(
            AccessKey.id,
            AccessKey.account_id,
            AccessKey.key_id,
            AccessKey.name,
            AccessKey.status,
            AccessKey.permission,
            AccessKey.scope,
            AccessKey.created_at,
            User.name.label("created_by"),
            AccessKey.rotated_at,
            AccessKey.last_used_at,
            AccessKey.expires_at,
            AccessKey.revoked_at,
        )
        .select_from(AccessKey)
        .outerjoin(User, User.id == AccessKey.created_by_id)
    )


def list_statement(account_id: int, status: str = ""):
    """The list's query for ``status`` (a :data:`FILTERS` value), without its order."""
    stmt = _rows_statement().where(AccessKey.account_id == account_id)
    now = func.now()
    not_expired = or_(AccessKey.expires_at.is_(None), AccessKey.expires_at > now)
    if status == "revoked":
        return stmt.where(AccessKey.status == KeyStatus.REVOKED.value)
    stmt = stmt.where(AccessKey.status != KeyStatus.REVOKED.value)
    if status in ("active", "inactive"):
        stmt = stmt.where(AccessKey.status == status, not_expired)
    elif status == "expired":
        stmt = stmt.where(AccessKey.expires_at <= now)
    return stmt


def _scopes(key_ids: list[int]) -> dict[int, list[str]]:
    """The bucket names of each key (one query for a page of keys)."""
    if not key_ids:
        return {}
    rows = db.session.execute(
        select(AccessKeyBucket.access_key_id, Bucket.name)
        .join(Bucket, Bucket.id == AccessKeyBucket.bucket_id)
        .where(AccessKeyBucket.access_key_id.in_(key_ids))
        .order_by(AccessKeyBucket.access_key_id, Bucket.name.collate("C"))
    )
    names: dict[int, list[str]] = {}
    for key_id, name in rows:
        names.setdefault(key_id, []).append(name)
    return names


def _make_rows(raw, now, may_write: bool, blocked: str | None) -> list[KeyRow]:
    rows = [KeyRow(*r, now=now, may_write=may_write, blocked=blocked) for r in raw]
    scopes = _scopes([r.id for r in rows if r.scope == KeyScope.BUCKETS])
    for row in rows:
        row.buckets = scopes.get(row.id, [])
    return rows


@dataclass
class KeysPage:
    account: Account
    membership: AccountMember
    usage: Usage
    status: str
    page: Page[KeyRow] | None
    revoked: list[KeyRow] = field(default_factory=list)
    revoked_more: bool = False
    buckets: list[tuple[int, str]] = field(default_factory=list)

    @property
    def typed(self) -> int:
        """When the create form asks for bucket names (too many buckets to tick): how many
        buckets it would have ticked at most (0 otherwise)."""
        return CHOICES_SHOWN if typed_scope(self.buckets) else 0

    @property
    def may_write(self) -> bool:
        return can(self.membership, Permission.KEYS_WRITE)

    @property
    def blocked_reason(self) -> str | None:
        return create_blocked_reason(self.account)

    @property
    def at_quota(self) -> bool:
        return self.usage.access_keys.at_limit

    @property
    def may_create(self) -> bool:
        return self.may_write and self.blocked_reason is None and not self.at_quota

    @property
    def rows(self) -> list[KeyRow]:
        return self.page.rows if self.page is not None else []


# Up to this many buckets the scope is a list of checkboxes; an organization with more
# types the bucket names instead (ten thousand checkboxes help nobody, and every bucket
# stays reachable: a list cut at some length would hide the rest).
CHOICES_SHOWN = 50
NAMES_MAX = 1000  # bucket names typed in one scope
_NAME_SEPARATORS = re.compile(r"[\s,;]+")


def _bucket_choices(account_id: int) -> list[tuple[int, str]]:
    """The organization's buckets by name, at most ``CHOICES_SHOWN + 1`` (one more than
    shown tells the page to ask for names: :func:`typed_scope`)."""
    return [
        (i, n)
        for i, n in db.session.execute(
            select(Bucket.id, Bucket.name)
            .where(Bucket.account_id == account_id)
            .order_by(Bucket.name.collate("C"))
            .limit(CHOICES_SHOWN + 1)
        )
    ]


def typed_scope(choices: list[tuple[int, str]]) -> bool:
    """Whether the scope's buckets are typed by name (too many to tick)."""
    return len(choices) > CHOICES_SHOWN


def _named_buckets(account_id: int, text: str | None) -> list[Bucket]:
    """The buckets named in ``text`` (one per line, or separated by spaces, commas or
    semicolons); every name must be one of the organization's buckets."""
    names = list(dict.fromkeys(n for n in _NAME_SEPARATORS.split(text or "") if n))
    if len(names) > NAMES_MAX:
        raise Invalid(
            gettext("Name at most %(max)s buckets.", max=format_decimal(NAMES_MAX)),
            field="bucket_names",
        )
    if not names:
        return []
    found = list(
        db.session.scalars(
            select(Bucket).where(Bucket.account_id == account_id, Bucket.name.in_(names))
        )
    )
    missing = [n for n in names if n not in {b.name for b in found}]
    if missing:
        shown = ", ".join(text_fit(n, 63) for n in missing[:5])
        raise Invalid(
            ngettext(
                "This organization has no bucket named %(names)s.",
                "This organization has no buckets named %(names)s.",
                len(missing),
                names=shown + ("…" if len(missing) > 5 else ""),
            ),
            field="bucket_names",
        )
    return found


def list_keys(
    user: User,
    account_id: int,
    *,
    status: str = "",
    before: Cursor | None = None,
    limit: int = PAGE_SIZE,
    rows: bool = True,
) -> KeysPage:
    """The keys page: the account, the ceiling, a page of keys (newest first) with their
    scopes, and — on the unfiltered first view — the most recently revoked keys, apart.
    A fixed number of queries whatever the number of keys."""
    account, membership = require(user, account_id, Permission.ACCOUNT_READ)
    usage = quota_usage.usage(account)
    now = clock.now()
    may_write = can(membership, Permission.KEYS_WRITE)
    blocked = create_blocked_reason(account)
    view = KeysPage(account, membership, usage, status, None)
    if not rows:
        return view
    if status not in FILTERS:
        raise Invalid(gettext("Choose one of the options in the list."), field="status")
    page = ORDER.page(list_statement(account.id, status), before, limit)
    revoked_raw = []
    if status == "":
        # Newest first too: the same index range, no sort.
        revoked_raw = ORDER.fetch(list_statement(account.id, "revoked"), None, REVOKED_SHOWN + 1)
    made = _make_rows([*page.rows, *revoked_raw[:REVOKED_SHOWN]], now, may_write, blocked)
    page.rows = made[: len(page.rows)]
    view.page = page
    view.revoked = made[len(page.rows) :]
    view.revoked_more = len(revoked_raw) > REVOKED_SHOWN
    if may_write and blocked is None:
        view.buckets = _bucket_choices(account.id)
    return view


def key_row(user: User, account_id: int, key_id: str) -> KeyRow | None:
    """One key's row as it is now (None when the viewer's account has no such key)."""
    account, membership = require(user, account_id, Permission.ACCOUNT_READ)
    raw = db.session.execute(
        _rows_statement().where(AccessKey.account_id == account.id, AccessKey.key_id == key_id)
    ).first()
    if raw is None:
        return None
    return _make_rows(
        [raw],
        clock.now(),
        can(membership, Permission.KEYS_WRITE),
        create_blocked_reason(account),
    )[0]


def _row_of(key: AccessKey, account: Account, membership: AccountMember) -> KeyRow:
    db.session.flush()
    row = key_row_from_model(key, can(membership, Permission.KEYS_WRITE))
    row.blocked = create_blocked_reason(account)
    return row


def key_row_from_model(key: AccessKey, may_write: bool) -> KeyRow:
    creator = db.session.get(User, key.created_by_id) if key.created_by_id else None
    row = KeyRow(
        key.id,
        key.account_id,
        key.key_id,
        key.name,
        key.status,
        key.permission,
        key.scope,
        key.created_at,
        creator.name if creator else None,
        key.rotated_at,
        key.last_used_at,
        key.expires_at,
        key.revoked_at,
        now=clock.now(),
        may_write=may_write,
    )
    if key.scope == KeyScope.BUCKETS:
        row.buckets = _scopes([key.id]).get(key.id, [])
    return row


# ------------------------------------------------------------------------ input ---
def clean_name(name: str | None) -> str:
    name = name_like(name, field="name")
    if not name:
        raise Invalid(gettext("Enter a name for the key."), field="name")
    if len(name) > NAME_MAX:
        raise Invalid(
            gettext(
                "Use at most %(max)s characters (this name has %(count)s).",
                max=NAME_MAX,
                count=len(name),
            ),
            field="name",
        )
    return name


def clean_permission(permission: str | None) -> str:
    if permission not in (KeyPermission.READ_ONLY.value, KeyPermission.READ_WRITE.value):
        raise Invalid(gettext("Choose read-only or read and write."), field="permission")
    return permission


def clean_scope(
    account_id: int, scope: str | None, bucket_ids, bucket_names: str | None = None
) -> tuple[str, list[Bucket]]:
    """The scope and, for 'buckets', the chosen buckets of this organization — ticked
    (``bucket_ids``) or typed by name (``bucket_names``); at least one; a bucket of another
    organization, or one deleted meanwhile, is refused."""
    if scope == KeyScope.ALL:
        return KeyScope.ALL.value, []
    if scope != KeyScope.BUCKETS:
        raise Invalid(gettext("Choose all buckets or some buckets."), field="scope")
    if bucket_names and bucket_names.strip():
        named = _named_buckets(account_id, bucket_names)
        ticked = _ticked_buckets(account_id, bucket_ids) if bucket_ids else []
        chosen = {b.id: b for b in [*named, *ticked]}
        return KeyScope.BUCKETS.value, sorted(chosen.values(), key=lambda b: b.name.encode())
    return KeyScope.BUCKETS.value, _ticked_buckets(account_id, bucket_ids)


def _ticked_buckets(account_id: int, bucket_ids) -> list[Bucket]:
    ids = set()
    for value in bucket_ids or ():
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise Invalid(
                gettext("Choose buckets of this organization from the list."), field="buckets"
            ) from None
        if not 0 < number < 2**63:
            raise Invalid(
                gettext("Choose buckets of this organization from the list."), field="buckets"
            )
        ids.add(number)
    if not ids:
        raise Invalid(gettext("Choose at least one bucket."), field="buckets")
    chosen = list(
        db.session.scalars(
            select(Bucket)
            .where(Bucket.account_id == account_id, Bucket.id.in_(ids))
            .order_by(Bucket.name.collate("C"))
        )
    )
    if len(chosen) != len(ids):
        raise Invalid(
            gettext("Choose buckets of this organization from the list (one no longer exists)."),
            field="buckets",
        )
    return chosen


def clean_expiry(expires_on: date | None, today: date) -> datetime | None:
    """The key works until the end of ``expires_on`` (UTC): it expires at the next
    midnight. Tomorrow at the earliest, at most 1,000 days ahead."""
    if expires_on is None:
        return None
    if expires_on <= today:
        raise Invalid(gettext("Choose a date after today."), field="expires_on")
    if expires_on > today + timedelta(days=EXPIRY_MAX_DAYS):
        raise Invalid(
            gettext(
                "Choose a date within %(days)s days (at the latest %(date)s).",
                days=format_decimal(EXPIRY_MAX_DAYS),
                date=format_date(today + timedelta(days=EXPIRY_MAX_DAYS), "medium"),
            ),
            field="expires_on",
        )
    return datetime.combine(expires_on + timedelta(days=1), time(0), UTC)


# ------------------------------------------------------------------------ secret ---
@dataclass(frozen=True)
class Secret:
    """A key's secret, for the one response that shows it, with the files to download.
    Never stored, logged or rendered anywhere else."""

    key_id: str
    name: str
    secret: str
    region: str
    endpoint_url: str

    def __repr__(self) -> str:  # never in a traceback or a log line by accident
        return f"Secret(key_id={self.key_id!r}, secret=<hidden>)"

    __str__ = __repr__

    @property
    def profile(self) -> str:
        """An AWS CLI / SDK credentials-and-config profile: save as ~/.aws/credentials (or
        append) and use ``--profile primecloud``."""
        return (
            f"[{PROFILE}]\n"
            f"aws_access_key_id = {self.key_id}\n"
            f"aws_secret_access_key = {self.secret}\n"
            f"region = {self.region}\n"
            f"endpoint_url = {self.endpoint_url}\n"
        )

    @property
    def csv(self) -> str:
        """What ``aws configure import --csv file://…`` accepts as is: the header
        ``User Name,Access key ID,Secret access key`` (the user name becomes the profile),
        no BOM, CRLF line ends as the console writes them."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(["User Name", "Access key ID", "Secret access key"])
        writer.writerow([CSV_USER, self.key_id, self.secret])
        return out.getvalue()

    @property
    def env(self) -> str:
        return (
            f"export AWS_ACCESS_KEY_ID={self.key_id}\n"
            f"export AWS_SECRET_ACCESS_KEY={self.secret}\n"
            f"export AWS_DEFAULT_REGION={self.region}\n"
            f"export AWS_ENDPOINT_URL={self.endpoint_url}\n"
        )


def _secret(key: AccessKey, secret: str) -> Secret:
    region = endpoints.region_codes()[0]
    url = current_app.config["S3_ENDPOINT"].replace("{region}", region)
    return Secret(key.key_id, key.name, secret, region, url)


@dataclass
class Issued:
    """A key with the secret just issued for it (create, rotate)."""

    row: KeyRow
    secret: Secret

    @property
    def dom_id(self) -> str:
        return self.row.dom_id


# ------------------------------------------------------------------------ create ---
def create_key(
    actor: User,
    account_id: int,
    name: str | None,
    *,
    permission: str | None = KeyPermission.READ_WRITE.value,
    scope: str | None = KeyScope.ALL.value,
    bucket_ids=(),
    bucket_names: str | None = None,
    expires_on: date | None = None,
    ip: str | None = None,
) -> Issued:
    """A new active key, its secret sealed; the secret returned once."""
    account, membership = require(actor, account_id, Permission.KEYS_WRITE, lock=True)
    check_writable(account)
    _check_ceiling(account)
    name = clean_name(name)
    permission = clean_permission(permission)
    scope, buckets = clean_scope(account.id, scope, bucket_ids, bucket_names)
    now = clock.now()
    expires_at = clean_expiry(expires_on, now.astimezone(UTC).date())
    secret = new_secret()
    key = AccessKey(
        account_id=account.id,
        key_id=new_key_id(),
        name=name,
        secret_ciphertext=_seal(secret),
        permission=permission,
        scope=scope,
        expires_at=expires_at,
        created_by_id=actor.id,
    )
    if clock.traveling():  # the demo seed creates keys in the past
        key.created_at = now
    db.session.add(key)
    db.session.flush()
    _set_buckets(key, buckets)
    events.emit(
        actor,
        Action.KEY_CREATED,
        key,
        account=account,
        ip=ip,
        details={
            "name": name,
            "permission": permission,
            "scope": scope,
            "buckets": [b.name for b in buckets],
            "expires_at": expires_at.isoformat() if expires_at else None,
        },
    )
    return Issued(_row_of(key, account, membership), _secret(key, secret))


def _seal(secret: str) -> bytes:
    from portal.crypto import seal

    return seal(secret.encode())


def _set_buckets(key: AccessKey, buckets: list[Bucket]) -> None:
    db.session.execute(
        AccessKeyBucket.__table__.delete().where(AccessKeyBucket.access_key_id == key.id)
    )
    if buckets:
        db.session.execute(
            insert(AccessKeyBucket),
            [
                {"access_key_id": key.id, "bucket_id": b.id, "account_id": key.account_id}
                for b in buckets
            ],
        )


# ----------------------------------------------------------------------- changes ---
def _lock(actor: User, account_id: int, key_id: str):
    if not isinstance(key_id, str) or len(key_id) != 20:
        require(actor, account_id, Permission.KEYS_WRITE)
        raise NotFound()
    return require_object(
        actor, account_id, Permission.KEYS_WRITE, AccessKey, AccessKey.key_id == key_id, lock=True
    )


def _refuse_revoked(key: AccessKey) -> None:
    if key.status == KeyStatus.REVOKED:
        raise Invalid(gettext("This key is revoked: it can no longer be changed."))


def _expired(key: AccessKey) -> bool:
    return shown_status(key.status, key.expires_at, clock.now()) == "expired"


def _tell_managers(actor: User, action: Action, key: AccessKey, account, ip: str | None) -> None:
    """The audit row of a move owners and admins are told of (rotate, revoke)."""
    events.emit(
        actor,
        action,
        key,
        account=account,
        ip=ip,
        details={"name": key.name},
        notify=MANAGERS,
        link=list_path(account.id),
        params={"actor_name": actor.name, "key_name": key.name, "key_id": key.key_id},
    )


def rotate_key(actor: User, account_id: int, key_id: str, *, ip: str | None = None) -> Issued:
    """A new secret under the same key id (the old one stops working); owners and admins
    are notified."""
    account, membership, key = _lock(actor, account_id, key_id)
    _refuse_revoked(key)
    check_writable(account)
    if _expired(key):
        raise Invalid(gettext("This key has expired: create a new key instead."))
    secret = new_secret()
    key.secret_ciphertext = _seal(secret)
    key.rotated_at = clock.now()
    _tell_managers(actor, Action.KEY_ROTATED, key, account, ip)
    return Issued(_row_of(key, account, membership), _secret(key, secret))


def deactivate_key(actor: User, account_id: int, key_id: str, *, ip: str | None = None) -> KeyRow:
    """active → inactive (also in a suspended organization: it stops a leak)."""
    account, membership, key = _lock(actor, account_id, key_id)
    _refuse_revoked(key)
    if not states.ACCESS_KEY.allows("deactivate", key.status):
        raise Invalid(gettext("This key is already inactive."))
    key.status = KeyStatus.INACTIVE.value
    events.emit(actor, Action.KEY_DEACTIVATED, key, account=account, ip=ip)
    return _row_of(key, account, membership)


def reactivate_key(actor: User, account_id: int, key_id: str, *, ip: str | None = None) -> KeyRow:
    """inactive → active: only while the organization is active, before the expiry, and
    within the ceiling of active keys."""
    account, membership, key = _lock(actor, account_id, key_id)
    _refuse_revoked(key)
    if not states.ACCESS_KEY.allows("reactivate", key.status):
        raise Invalid(gettext("This key is already active."))
    check_writable(account)
    if _expired(key):
        raise Invalid(gettext("This key has expired and cannot be reactivated: create a new key."))
    _check_ceiling(account)
    key.status = KeyStatus.ACTIVE.value
    events.emit(actor, Action.KEY_REACTIVATED, key, account=account, ip=ip)
    return _row_of(key, account, membership)


def revoke_key(actor: User, account_id: int, key_id: str, *, ip: str | None = None) -> KeyRow:
    """Either state → revoked, final (also in a suspended organization). Owners and admins
    are notified."""
    account, membership, key = _lock(actor, account_id, key_id)
    _refuse_revoked(key)
    key.status = KeyStatus.REVOKED.value
    key.revoked_at = clock.now()
    _tell_managers(actor, Action.KEY_REVOKED, key, account, ip)
    return _row_of(key, account, membership)


@dataclass
class KeyEdit:
    """The edit form of one key: the key, the organization's buckets and those chosen."""

    account: Account
    membership: AccountMember
    row: KeyRow
    buckets: list[tuple[int, str]]
    chosen: set[int]

    @property
    def typed(self) -> int:
        return CHOICES_SHOWN if typed_scope(self.buckets) else 0


def open_edit(actor: User, account_id: int, key_id: str) -> KeyEdit:
    account, membership = require(actor, account_id, Permission.KEYS_WRITE)
    row = key_row(actor, account_id, key_id)
    if row is None:
        raise NotFound()
    chosen = set(
        db.session.scalars(
            select(AccessKeyBucket.bucket_id).where(AccessKeyBucket.access_key_id == row.id)
        )
    )
    return KeyEdit(account, membership, row, _bucket_choices(account.id), chosen)


def update_key(
    actor: User,
    account_id: int,
    key_id: str,
    *,
    name: str | None,
    scope: str | None,
    bucket_ids=(),
    bucket_names: str | None = None,
    ip: str | None = None,
) -> KeyRow:
    """Rename a key and change its scope (``key.renamed``, ``key.scope_changed``)."""
    account, membership, key = _lock(actor, account_id, key_id)
    _refuse_revoked(key)
    check_writable(account)
    name = clean_name(name)
    scope, buckets = clean_scope(account.id, scope, bucket_ids, bucket_names)
    old_names = sorted(_scopes([key.id]).get(key.id, []))
    new_names = sorted(b.name for b in buckets)
    old_name = key.name
    if name != old_name:
        key.name = name
        events.emit(
            actor,
            Action.KEY_RENAMED,
            key,
            account=account,
            ip=ip,
            details={"from": old_name, "to": name},
        )
    if scope != key.scope or old_names != new_names:
        old_scope = key.scope
        key.scope = scope
        db.session.flush()
        _set_buckets(key, buckets)
        events.emit(
            actor,
            Action.KEY_SCOPE_CHANGED,
            key,
            account=account,
            ip=ip,
            details={
                "from": old_scope,
                "to": scope,
                "old_buckets": old_names,
                "buckets": new_names,
            },
        )
    return _row_of(key, account, membership)


# --------------------------------------------------------------- expiry notices ---
EXPIRY_ACTIONS = {"expiring": Action.KEY_EXPIRING, "expired": Action.KEY_EXPIRED}


def send_expiry_notices(now: datetime | None = None) -> tuple[int, int]:
    """Tell the owners and admins of each organization, once per key, that a key expires
    within 7 days, and once that it has expired (revoked keys are left alone). Records what
    it sent in access_key_notices (an insert that does nothing when the row exists), so a
    second run — or two at once — sends nothing twice. Returns (expiring, expired) counts
    of keys notified."""
    now = now or clock.now()
    sent = {"expiring": 0, "expired": 0}
    windows = {
        "expiring": and_(
            AccessKey.expires_at > now, AccessKey.expires_at <= now + timedelta(days=WARN_DAYS)
        ),
        "expired": AccessKey.expires_at <= now,
    }
    for kind, window in windows.items():
        noticed = select(AccessKeyNotice.access_key_id).where(
            AccessKeyNotice.access_key_id == AccessKey.id, AccessKeyNotice.kind == kind
        )
        candidates = db.session.execute(
            select(AccessKey, Account)
            .join(Account, Account.id == AccessKey.account_id)
            .where(
                AccessKey.status != KeyStatus.REVOKED.value,
                AccessKey.expires_at.is_not(None),
                window,
                ~noticed.exists(),
            )
            .order_by(AccessKey.id)
        ).all()
        for key, account in candidates:
            claimed = db.session.execute(
                pg_insert(AccessKeyNotice)
                .values(access_key_id=key.id, kind=kind, sent_at=now)
                .on_conflict_do_nothing()
                .returning(AccessKeyNotice.access_key_id)
            ).first()
            if claimed is None:
                continue
            # A system event (no actor): its audit row, and the owners and admins told.
            events.emit(
                None,
                EXPIRY_ACTIONS[kind],
                key,
                account=account,
                details={"expires_at": key.expires_at.isoformat()},
                notify=MANAGERS,
                link=list_path(account.id),
                params={
                    "key_name": key.name,
                    "key_id": key.key_id,
                    "expires_on": key.expires_at.date().isoformat(),
                },
            )
            sent[kind] += 1
    db.session.flush()
    return sent["expiring"], sent["expired"]


def admin_section(actor: User, account: Account):
    """The staff page's keys section: counts by shown status and the 20 newest keys (id,
    name, status, permission, scope) — never a secret. Two queries."""
    from portal.permissions import require_platform_admin

    require_platform_admin(actor)
    now = clock.now()
    shown = case(
        (
            and_(AccessKey.status != KeyStatus.REVOKED.value, AccessKey.expires_at <= func.now()),
            "expired",
        ),
        else_=AccessKey.status,
    )
    counts = dict(
        db.session.execute(
            select(shown, func.count()).where(AccessKey.account_id == account.id).group_by(shown)
        ).all()
    )
    raw = ORDER.fetch(_rows_statement().where(AccessKey.account_id == account.id), None, 20)
    rows = [KeyRow(*r, now=now) for r in raw]
    return AdminKeys(counts, rows)


@dataclass
class AdminKeys:
    counts: dict[str, int]
    rows: list[KeyRow]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def count(self, status: str) -> int:
        return self.counts.get(status, 0)
