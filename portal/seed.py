"""``flask seed-demo``: believable demo data in every table, idempotent.

Everything is written with SQLAlchemy in the caller's transaction (the command commits once
at the end), and goes through the database's rules like any other code: accounts are
inserted 'pending' and moved step by step (approved, then active, then suspended), orders,
invoices and keys likewise, quota approvals raise quotas through the trigger, and an
approved account becomes active through its first subscription.

Idempotent: people are found by email, products by SKU and organizations by CNPJ; an
organization that already exists is left exactly as it is (with everything under it), so a
second run writes nothing and does not fail.

Access-key secrets: the database only ever holds ciphertext (portal.crypto.seal, Fernet).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import click
from flask.cli import with_appcontext
from sqlalchemy import select
from stdnum.br import cnpj as stdnum_cnpj

from portal.audit import Action
from portal.crypto import seal
from portal.extensions import db
from portal.models import (
    AccessKey,
    Account,
    AccountMember,
    AuditLog,
    Bucket,
    EmailOutbox,
    Invitation,
    Invoice,
    InvoiceLine,
    Notification,
    Order,
    PasswordReset,
    Product,
    QuotaRequest,
    Subscription,
    UsageRecord,
    User,
    UserSession,
)

ADMIN_EMAIL = "admin@primecloud.com.br"
ADMIN_PASSWORD = "primecloud-admin-demo"  # noqa: S105 - a documented demo login
OWNER_EMAIL = "ana@example.com.br"
OWNER_PASSWORD = "primecloud-demo"  # noqa: S105 - a documented demo login
PEOPLE_PASSWORD = OWNER_PASSWORD  # every other demo person

NOW = datetime.now(UTC).replace(microsecond=0)


def days_ago(n: float) -> datetime:
    return NOW - timedelta(days=n)


def month_start(months_back: int) -> date:
    """The first day of the month ``months_back`` months before this one."""
    index = NOW.year * 12 + NOW.month - 1 - months_back
    return date(index // 12, index % 12 + 1, 1)


def cnpj(base: str) -> str:
    """A valid, normalized CNPJ from its first 12 characters."""
    return base + stdnum_cnpj.calc_check_digits(base)


def new_key_id() -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    return "PC" + "".join(secrets.choice(alphabet) for _ in range(18))


# --------------------------------------------------------------------------- seeding ---
@dataclass
class Seeder:
    created: dict

    def count(self, what: str, n: int = 1) -> None:
        self.created[what] = self.created.get(what, 0) + n

    def add(self, row, what: str | None = None):
        db.session.add(row)
        db.session.flush()
        self.count(what or row.__tablename__)
        return row

    # ---- people -------------------------------------------------------------------
    def person(self, email: str, name: str, password: str, admin: bool = False) -> User:
        from portal.users.services import hash_password

        user = db.session.scalar(select(User).where(User.email == email))
        if user is None:
            user = self.add(
                User(
                    email=email,
                    name=name,
                    password_hash=hash_password(password),
                    is_platform_admin=admin,
                    locale="pt_BR",
                    email_verified_at=days_ago(120),
                    created_at=days_ago(120),
                )
            )
        return user

    def product(self, sku: str, name: str, price: str, description: str) -> Product:
        product = db.session.scalar(select(Product).where(Product.sku == sku))
        if product is None:
            product = self.add(
                Product(sku=sku, name=name, price_monthly=Decimal(price), description=description)
            )
        return product

    def audit(self, actor, action: Action, account, when, target=None, **details) -> None:
        target_type, target_id, label = target or (None, None, None)
        self.add(
            AuditLog(
                account_id=account.id if account is not None else None,
                actor_id=actor.id if actor is not None else None,
                action=str(action),
                target_type=target_type,
                target_id=None if target_id is None else str(target_id),
                target_label=label,
                ip="200.160.2.3" if actor is not None else None,
                details=details,
                created_at=when,
            )
        )

    # ---- organizations ------------------------------------------------------------
    def organization(self, *, name, cnpj_, status, owner, admin_user, members, age_days):
        """Create the organization if its CNPJ is new; return (account, created?)."""
        account = db.session.scalar(select(Account).where(Account.cnpj == cnpj_))
        if account is not None:
            return account, False
        account = self.add(
            Account(name=name, cnpj=cnpj_, created_by_id=owner.id, created_at=days_ago(age_days))
        )
        self.add(
            AccountMember(
                account_id=account.id, user_id=owner.id, role="owner", created_at=days_ago(age_days)
            )
        )
        self.audit(
            owner,
            Action.ACCOUNT_CREATED,
            account,
            days_ago(age_days),
            ("account", account.id, name),
        )
        for user, role in members:
            self.add(
                AccountMember(
                    account_id=account.id,
                    user_id=user.id,
                    role=role,
                    invited_by_id=owner.id,
                    created_at=days_ago(age_days - 2),
                )
            )
            self.audit(
                user,
                Action.MEMBER_JOINED,
                account,
                days_ago(age_days - 2),
                ("user", user.id, user.email),
                role=role,
            )
        steps = {
            "pending": [],
            "approved": ["approved"],
            "active": ["approved", "active"],
            "suspended": ["approved", "active", "suspended"],
        }[status]
        for i, step in enumerate(steps):
            self.move(account, step, days_ago(age_days - 1 - i), admin_user)
        return account, True

    def move(self, account, step, when, admin_user) -> None:
        """One status step, through the database's state machine, with its audit row."""
        previous = account.status
        account.status = step
        if step == "approved":
            account.approved_at = when
        elif step == "active":
            account.activated_at = when
        elif step == "suspended":
            account.suspended_at = when
            account.suspension_reason = "Fatura em atraso há mais de 30 dias"
        db.session.flush()
        self.audit(
            admin_user,
            Action.ACCOUNT_STATUS_CHANGED,
            account,
            when,
            ("account", account.id, account.name),
            **{"from": previous, "to": step},
        )

    def buckets(self, account, actor, specs) -> list[Bucket]:
        made = []
        for name, versioning, rules in specs:
            bucket = self.add(
                Bucket(
                    account_id=account.id,
                    name=name,
                    versioning="enabled" if versioning == "suspended" else versioning,
                    lifecycle_rules=rules,
                    object_count=secrets.randbelow(90_000) + 1_000,
                    size_bytes=(secrets.randbelow(30) + 1) * 1024**3,  # within the 100 GB quota
                    created_by_id=actor.id,
                    created_at=days_ago(60),
                )
            )
            self.audit(
                actor, Action.BUCKET_CREATED, account, days_ago(60), ("bucket", bucket.id, name)
            )
            if versioning == "suspended":
                bucket.versioning = "suspended"
                db.session.flush()
            if versioning != "unversioned":
                self.audit(
                    actor,
                    Action.BUCKET_VERSIONING_CHANGED,
                    account,
                    days_ago(45),
                    ("bucket", bucket.id, name),
                    versioning=versioning,
                )
            if rules:
                self.audit(
                    actor,
                    Action.BUCKET_LIFECYCLE_CHANGED,
                    account,
                    days_ago(40),
                    ("bucket", bucket.id, name),
                    rules=len(rules),
                )
            made.append(bucket)
        return made

    def keys(self, account, actor, specs) -> None:
        for name, status in specs:
            key = self.add(
                AccessKey(
                    account_id=account.id,
                    key_id=new_key_id(),
                    name=name,
                    secret_ciphertext=seal(secrets.token_urlsafe(30).encode()),
                    created_by_id=actor.id,
                    created_at=days_ago(50),
                    last_used_at=days_ago(1) if status == "active" else None,
                )
            )
            self.audit(
                actor, Action.KEY_CREATED, account, days_ago(50), ("access_key", key.key_id, name)
            )
            if status in ("inactive", "revoked"):
                key.status = status
                if status == "revoked":
                    key.revoked_at = days_ago(10)
                db.session.flush()
                self.audit(
                    actor,
                    Action.KEY_REVOKED if status == "revoked" else Action.KEY_STATUS_CHANGED,
                    account,
                    days_ago(10),
                    ("access_key", key.key_id, name),
                    status=status,
                )

    def order(self, account, product, actor, admin_user, status, quantity=1, age=30) -> Order:
        order = self.add(
            Order(
                account_id=account.id,
                product_id=product.id,
                quantity=quantity,
                unit_price=product.price_monthly,
                total=product.price_monthly * quantity,
                placed_by_id=actor.id,
                created_at=days_ago(age),
            )
        )
        self.audit(
            actor, Action.ORDER_PLACED, account, days_ago(age), ("order", order.id, product.name)
        )
        path = {
            "pending": [],
            "paid": ["paid"],
            "fulfilled": ["paid", "fulfilled"],
            "cancelled": ["cancelled"],
        }
        for step in path[status]:
            order.status = step
            setattr(order, f"{step}_at", days_ago(age - 1))
            db.session.flush()
            action = {
                "paid": Action.ORDER_PAID,
                "fulfilled": Action.ORDER_FULFILLED,
                "cancelled": Action.ORDER_CANCELLED,
            }[step]
            who = actor if step == "cancelled" else admin_user
            self.audit(who, action, account, days_ago(age - 1), ("order", order.id, product.name))
        return order

    def subscription(self, account, product, quantity=1, cancelled=False, age=29) -> Subscription:
        sub = self.add(
            Subscription(
                account_id=account.id,
                product_id=product.id,
                quantity=quantity,
                started_at=days_ago(age),
                current_period_end=NOW + timedelta(days=30 - age % 30),
                created_at=days_ago(age),
            )
        )
        if cancelled:
            sub.status = "cancelled"
            sub.cancelled_at = days_ago(age - 20)
            db.session.flush()
        # The database may have activated the account (first subscription): re-read it.
        db.session.refresh(account)
        return sub

    def invoice(self, account, admin_user, month_start: date, status: str, lines) -> Invoice:
        next_month = date(month_start.year + month_start.month // 12, month_start.month % 12 + 1, 1)
        amounts = [
            (
                d,
                Decimal(q),
                Decimal(p),
                (Decimal(q) * Decimal(p)).quantize(Decimal("0.01"), ROUND_HALF_UP),
            )
            for d, q, p in lines
        ]
        invoice = self.add(
            Invoice(
                account_id=account.id,
                period_start=month_start,
                period_end=next_month,
                total=sum((a for *_, a in amounts), Decimal("0.00")),
                created_at=datetime.combine(next_month, datetime.min.time(), UTC),
            )
        )
        for description, quantity, price, amount in amounts:
            self.add(
                InvoiceLine(
                    invoice_id=invoice.id,
                    description=description,
                    quantity=quantity,
                    unit_price=price,
                    amount=amount,
                )
            )
        issued = datetime.combine(next_month, datetime.min.time(), UTC) + timedelta(days=1)
        path = {"draft": [], "open": ["open"], "paid": ["open", "paid"], "void": ["open", "void"]}[
            status
        ]
        for step in path:
            invoice.status = step
            if step == "open":
                invoice.issued_at = issued
                invoice.due_at = next_month + timedelta(days=10)
                self.audit(
                    admin_user,
                    Action.INVOICE_ISSUED,
                    account,
                    issued,
                    ("invoice", invoice.id, str(invoice.number)),
                )
            elif step == "paid":
                invoice.paid_at = issued + timedelta(days=6)
            elif step == "void":
                invoice.voided_at = issued + timedelta(days=2)
            db.session.flush()
        return invoice

    def usage(self, account, buckets, days=7) -> None:
        metrics = {
            "storage_gb_hours": Decimal("2400.5"),
            "egress_gb": Decimal("35.2"),
            "requests_put": Decimal("12000"),
            "requests_get": Decimal("98000"),
        }
        for day in range(days):
            start = datetime.combine(NOW.date() - timedelta(days=day + 1), datetime.min.time(), UTC)
            for i, (metric, base) in enumerate(metrics.items()):
                bucket = buckets[(day + i) % len(buckets)] if buckets else None
                self.add(
                    UsageRecord(
                        account_id=account.id,
                        bucket_id=bucket.id if bucket else None,
                        metric=metric,
                        quantity=base * (1 + Decimal(day) / 10),
                        period_start=start,
                        period_end=start + timedelta(days=1),
                        source_event_id=f"seed-{account.cnpj}-{metric}-{start:%Y%m%d}",
                    )
                )

    def quota(self, account, requester, admin_user, resource, value, status, reason) -> None:
        request = self.add(
            QuotaRequest(
                account_id=account.id,
                resource=resource,
                current_value=account.quota(resource),
                requested_value=value,
                reason=reason,
                requested_by_id=requester.id,
                created_at=days_ago(15),
            )
        )
        self.audit(
            requester,
            Action.QUOTA_REQUESTED,
            account,
            days_ago(15),
            ("quota_request", request.id, resource),
            requested=value,
        )
        if status != "pending":
            request.status = status
            request.reviewed_by_id = admin_user.id
            request.reviewed_at = days_ago(14)
            request.review_note = (
                "Aprovado para o plano atual"
                if status == "approved"
                else "Uso atual não justifica o aumento"
            )
            db.session.flush()
            action = Action.QUOTA_APPROVED if status == "approved" else Action.QUOTA_REJECTED
            self.audit(
                admin_user, action, account, days_ago(14), ("quota_request", request.id, resource)
            )
            db.session.refresh(account)  # the trigger may have raised the quota

    def invitation(self, account, inviter, email, role, state) -> None:
        token_hash = hashlib.sha256(f"seed-{account.cnpj}-{email}".encode()).hexdigest()
        created = days_ago(20 if state == "revoked" else 3)
        invitation = self.add(
            Invitation(
                account_id=account.id,
                email=email,
                role=role,
                token_hash=token_hash,
                invited_by_id=inviter.id,
                created_at=created,
                expires_at=created + timedelta(days=7),
            )
        )
        self.audit(
            inviter,
            Action.INVITATION_SENT,
            account,
            created,
            ("invitation", invitation.id, email),
            role=role,
        )
        if state == "accepted":
            invitation.accepted_at = created + timedelta(hours=5)
            invitation.accepted_by_id = db.session.scalar(
                select(User.id).where(User.email == email)
            )
            db.session.flush()
            self.audit(
                None,
                Action.INVITATION_ACCEPTED,
                account,
                invitation.accepted_at,
                ("invitation", invitation.id, email),
            )
        if state == "revoked":
            invitation.revoked_at = created + timedelta(days=1)
            invitation.revoked_by_id = inviter.id
            db.session.flush()
            self.audit(
                inviter,
                Action.INVITATION_REVOKED,
                account,
                invitation.revoked_at,
                ("invitation", invitation.id, email),
            )
        self.add(
            EmailOutbox(
                to_address=email,
                subject=f"Convite para {account.name} no PrimeCloud",
                body_text=f"Você foi convidado para {account.name}.",
                body_html=f"<p>Você foi convidado para {account.name}.</p>",
                template="invitation",
                status="sent",
                attempts=1,
                created_at=created,
                next_attempt_at=created,
                sent_at=created + timedelta(seconds=5),
            )
        )

    def notify(self, user, account, kind, read, age, **params) -> None:
        self.add(
            Notification(
                user_id=user.id,
                account_id=account.id,
                kind=kind,
                params={"account_name": account.name, **params},
                link=f"/accounts/{account.id}/members",
                read=read,
                read_at=days_ago(age - 1) if read else None,
                created_at=days_ago(age),
            )
        )


STORAGE_RULES = [
    {
        "id": "expirar-logs",
        "status": "Enabled",
        "filter": {"prefix": "logs/"},
        "expiration": {"days": 30},
    },
    {
        "id": "versoes-antigas",
        "status": "Enabled",
        "filter": {"prefix": ""},
        "noncurrent_version_expiration": {"noncurrent_days": 90},
        "abort_incomplete_multipart_upload": {"days_after_initiation": 7},
    },
]


def seed_demo() -> tuple[dict, list[tuple[str, str]]]:
    """Write the demo data into db.session (the caller commits). Returns what was created
    (table → rows) and the demo logins."""
    from portal.lifecycle import validate_rules

    s = Seeder(created={})
    admin = s.person(ADMIN_EMAIL, "Equipe PrimeCloud", ADMIN_PASSWORD, admin=True)
    ana = s.person(OWNER_EMAIL, "Ana Souza", OWNER_PASSWORD)
    bruno = s.person("bruno@example.com.br", "Bruno Lima", PEOPLE_PASSWORD)
    carla = s.person("carla@example.com.br", "Carla Mendes", PEOPLE_PASSWORD)
    diego = s.person("diego@example.com.br", "Diego Rocha", PEOPLE_PASSWORD)
    elisa = s.person("elisa@example.com.br", "Elisa Castro", PEOPLE_PASSWORD)
    fernanda = s.person("fernanda@example.com.br", "Fernanda Alves", PEOPLE_PASSWORD)
    gabriel = s.person("gabriel@example.com.br", "Gabriel Pereira", PEOPLE_PASSWORD)
    helena = s.person("helena@example.com.br", "Helena Martins", PEOPLE_PASSWORD)

    if "users" in s.created:
        s.add(
            PasswordReset(
                user_id=ana.id,
                token_hash=hashlib.sha256(b"seed-password-reset-ana").hexdigest(),
                created_at=days_ago(40),
                expires_at=days_ago(40) + timedelta(hours=1),
                used_at=days_ago(40) + timedelta(minutes=12),
            )
        )
        # Ana is also logged in on her phone and another computer (what /sessions lists).
        # The random ids those browsers would hold are not kept: nobody can use them.
        for agent, ip, seen in (
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
                "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
                "177.38.10.24",
                days_ago(1),
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like "
                "Gecko) Chrome/126.0 Safari/537.36",
                "200.150.1.77",
                days_ago(3),
            ),
        ):
            started = seen - timedelta(hours=2)
            s.add(
                UserSession(
                    user_id=ana.id,
                    token_hash=hashlib.sha256(secrets.token_bytes(32)).hexdigest(),
                    session_version=ana.session_version,
                    remember=True,
                    created_at=started,
                    last_seen_at=seen,
                    expires_at=datetime.now(UTC) + timedelta(days=27),
                    ip=ip,
                    user_agent=agent,
                )
            )
        s.audit(ana, Action.USER_SIGNED_UP, None, days_ago(120), ("user", ana.id, ana.email))
        s.audit(ana, Action.USER_LOGGED_IN, None, days_ago(1), ("user", ana.id, ana.email))
        s.audit(
            None, Action.USER_PROMOTED_ADMIN, None, days_ago(120), ("user", admin.id, admin.email)
        )

    basic = s.product(
        "STD-1TB", "Armazenamento Padrão 1 TB", "89.90", "1 TB em sa-east-sp1, 3 réplicas"
    )
    pro = s.product(
        "STD-10TB", "Armazenamento Padrão 10 TB", "749.00", "10 TB em sa-east-sp1, 3 réplicas"
    )
    archive = s.product(
        "ARC-50TB", "Arquivo Frio 50 TB", "990.00", "Classe de arquivamento, recuperação em horas"
    )
    s.product("EGRESS-1TB", "Pacote de Tráfego 1 TB", "129.00", "Transferência de saída adicional")

    # 1. Ana's company: active, every role, every kind of object.
    acme, new = s.organization(
        name="Ana Tecnologia Ltda",
        cnpj_=cnpj("112223330001"),
        status="active",
        owner=ana,
        admin_user=admin,
        members=[(bruno, "admin"), (carla, "member"), (diego, "billing"), (elisa, "viewer")],
        age_days=100,
    )
    if new:
        buckets = s.buckets(
            acme,
            carla,
            [
                ("ana-backups", "enabled", validate_rules(STORAGE_RULES)),
                ("ana-logs", "unversioned", validate_rules(STORAGE_RULES[:1])),
                ("ana-midia.publica", "suspended", []),
            ],
        )
        s.keys(
            acme,
            carla,
            [("deploy-ci", "active"), ("backup-noturno", "inactive"), ("laptop-antigo", "revoked")],
        )
        s.order(acme, basic, ana, admin, "fulfilled", quantity=2, age=95)
        s.subscription(acme, basic, quantity=2, age=94)
        s.order(acme, archive, diego, admin, "fulfilled", age=70)
        s.subscription(acme, archive, cancelled=True, age=69)
        s.order(acme, pro, diego, admin, "paid", age=5)
        s.order(acme, pro, diego, admin, "pending", age=2)
        s.order(acme, archive, ana, admin, "cancelled", age=40)
        months = [month_start(k) for k in (4, 3, 2, 1)]
        storage_line = ("Armazenamento Padrão 1 TB (2 unidades)", "2", "89.90")
        egress_line = ("Tráfego de saída excedente (GB)", "35.200", "0.3500")
        s.invoice(acme, admin, months[0], "void", [storage_line])
        s.invoice(acme, admin, months[0], "paid", [storage_line, egress_line])
        s.invoice(acme, admin, months[1], "paid", [storage_line])
        s.invoice(acme, admin, months[2], "open", [storage_line, egress_line])
        s.invoice(acme, admin, months[3], "draft", [storage_line])
        s.usage(acme, buckets)
        s.quota(acme, ana, admin, "buckets", 25, "approved", "Novos projetos de clientes")
        s.quota(
            acme, bruno, admin, "storage_gb", 100_000, "rejected", "Migração de arquivo histórico"
        )
        s.quota(acme, ana, admin, "access_keys", 12, "pending", "Uma chave por pipeline de CI")
        s.invitation(acme, ana, "joao@example.com.br", "member", "pending")
        s.invitation(acme, bruno, "marina@example.com.br", "viewer", "revoked")
        s.invitation(acme, ana, carla.email, "member", "accepted")
        s.notify(ana, acme, "member.joined", True, 98, member_name=elisa.name, role="viewer")
        s.notify(ana, acme, "invitation.accepted", False, 2, member_name=carla.name)
        s.notify(carla, acme, "member.role_changed", False, 1, actor_name=ana.name, role="member")

    # 2. Approved, not active yet: waiting for its first subscription.
    bela, new = s.organization(
        name="Bela Vista Comércio S.A.",
        cnpj_=cnpj("223334440001"),
        status="approved",
        owner=fernanda,
        admin_user=admin,
        members=[(ana, "admin"), (diego, "billing")],
        age_days=20,
    )
    if new:
        s.order(bela, basic, fernanda, admin, "pending", age=3)
        s.quota(bela, fernanda, admin, "buckets", 15, "pending", "Lojas novas no Sul")
        s.invitation(bela, fernanda, "contato@belavista.com.br", "viewer", "pending")
        s.notify(ana, bela, "member.joined", False, 18, member_name=ana.name, role="admin")

    # 3. Pending review, with a 2026 alphanumeric CNPJ.
    s.organization(
        name="Cosmos Dados Ltda",
        cnpj_=cnpj("12ABC3450001"),
        status="pending",
        owner=gabriel,
        admin_user=admin,
        members=[(elisa, "member")],
        age_days=1,
    )

    # 4. Suspended for an unpaid invoice: read-only, its objects kept. Built while active
    #    (buckets and keys are created only then), suspended last.
    delta, new = s.organization(
        name="Delta Logística Eireli",
        cnpj_=cnpj("334445550001"),
        status="active",
        owner=helena,
        admin_user=admin,
        members=[(bruno, "viewer")],
        age_days=200,
    )
    if new:
        buckets = s.buckets(
            delta, helena, [("delta-notas-fiscais", "enabled", validate_rules(STORAGE_RULES[1:]))]
        )
        s.keys(delta, helena, [("erp", "inactive")])
        s.order(delta, pro, helena, admin, "fulfilled", age=190)
        s.subscription(delta, pro, age=189)
        months = [month_start(k) for k in (3, 2)]
        s.invoice(delta, admin, months[0], "paid", [("Armazenamento Padrão 10 TB", "1", "749.00")])
        s.invoice(delta, admin, months[1], "open", [("Armazenamento Padrão 10 TB", "1", "749.00")])
        s.usage(delta, buckets, days=3)
        s.move(delta, "suspended", days_ago(20), admin)

    # 5. Activated by its first subscription; two owners.
    estrela, new = s.organization(
        name="Estrela Mídia Digital Ltda",
        cnpj_=cnpj("445556660001"),
        status="approved",
        owner=ana,
        admin_user=admin,
        members=[(fernanda, "owner"), (gabriel, "member"), (helena, "billing")],
        age_days=30,
    )
    if new:
        s.order(estrela, basic, ana, admin, "fulfilled", age=25)
        s.subscription(estrela, basic, age=24)  # approved -> active, by the database
        s.audit(
            None,
            Action.ACCOUNT_STATUS_CHANGED,
            estrela,
            days_ago(24),
            ("account", estrela.id, estrela.name),
            **{"from": "approved", "to": "active"},
        )
        s.buckets(estrela, gabriel, [("estrela-videos", "unversioned", [])])
        s.keys(estrela, gabriel, [("render-farm", "active")])
        s.notify(ana, estrela, "member.joined", True, 28, member_name=fernanda.name, role="owner")

    logins = [(ADMIN_EMAIL, ADMIN_PASSWORD), (OWNER_EMAIL, OWNER_PASSWORD)]
    return s.created, logins


@click.command("seed-demo")
@with_appcontext
def seed_demo_command() -> None:
    """Fill the database with believable demo data (safe to run again)."""
    try:
        created, logins = seed_demo()
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    if created:
        click.echo("Created: " + ", ".join(f"{n} {table}" for table, n in sorted(created.items())))
    else:
        click.echo("The demo data is already there; nothing changed.")
    click.echo("Demo logins: " + "; ".join(f"{email} / {password}" for email, password in logins))
