"""All models, imported here so Flask-Migrate sees the whole metadata."""

from portal.models.accounts import (
    DEFAULT_QUOTAS,
    ROLES,
    Account,
    AccountMember,
    AccountStatus,
    Invitation,
    Role,
)
from portal.models.audit import AuditLog
from portal.models.billing import (
    USAGE_METRICS,
    Invoice,
    InvoiceLine,
    InvoiceNumberCounter,
    Order,
    Product,
    Subscription,
    UsageDaily,
    UsageDailyTotal,
    UsageRecord,
)
from portal.models.notifications import Notification
from portal.models.outbox import EmailOutbox
from portal.models.quotas import QUOTA_RESOURCES, QuotaRequest
from portal.models.sessions import UserSession
from portal.models.storage import (
    BUCKET_NAME_PATTERN,
    AccessKey,
    AccessKeyBucket,
    AccessKeyNotice,
    Bucket,
    KeyPermission,
    KeyScope,
    KeyStatus,
    Versioning,
)
from portal.models.usage import USAGE_THRESHOLDS, UsageThresholdNotice
from portal.models.users import PasswordReset, User

__all__ = [
    "BUCKET_NAME_PATTERN",
    "DEFAULT_QUOTAS",
    "QUOTA_RESOURCES",
    "ROLES",
    "USAGE_METRICS",
    "USAGE_THRESHOLDS",
    "AccessKey",
    "AccessKeyBucket",
    "AccessKeyNotice",
    "Account",
    "AccountMember",
    "AccountStatus",
    "AuditLog",
    "Bucket",
    "EmailOutbox",
    "Invitation",
    "Invoice",
    "InvoiceLine",
    "InvoiceNumberCounter",
    "KeyPermission",
    "KeyScope",
    "KeyStatus",
    "Notification",
    "Order",
    "PasswordReset",
    "Product",
    "QuotaRequest",
    "Role",
    "Subscription",
    "UsageDaily",
    "UsageDailyTotal",
    "UsageRecord",
    "UsageThresholdNotice",
    "User",
    "UserSession",
    "Versioning",
]
