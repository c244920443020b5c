"""The demo data: five organizations with every role, status and kind of object, built with
:mod:`portal.seed.builders` at dates counted back from now (the newest a few hours ago).

Idempotent: people are found by email, products by SKU and organizations by CNPJ; an
organization that already exists is left as it is, with everything under it, so a second
run writes nothing.
"""

from __future__ import annotations

from datetime import timedelta

from portal.lifecycle import validate_rules
from portal.seed import builders as b
from portal.seed.builders import days_ago, month_start

ADMIN_EMAIL = "admin@primecloud.com.br"
ADMIN_PASSWORD = "primecloud-admin-demo"  # noqa: S105 - a documented demo login
OWNER_EMAIL = "ana@example.com.br"
OWNER_PASSWORD = "primecloud-demo"  # noqa: S105 - a documented demo login
PEOPLE_PASSWORD = OWNER_PASSWORD  # every other demo person

LOGINS = [(ADMIN_EMAIL, ADMIN_PASSWORD), (OWNER_EMAIL, OWNER_PASSWORD)]

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
STORAGE_1TB = ("Armazenamento Padrão 1 TB (2 unidades)", "2", "89.90")
EGRESS = ("Tráfego de saída excedente (GB)", "35.200", "0.3500")
STORAGE_10TB = ("Armazenamento Padrão 10 TB", "1", "749.00")
READ_AFTER = timedelta(days=1)  # people read what they are told the next day


# The organizations: (owner, name, the CNPJ's first 12 characters, created how many days
# ago, the status a platform admin moved it to the next day)…
ORGANIZATIONS = {
    "acme": ("ana", "Ana Tecnologia Ltda", "112223330001", 100, "active"),
    "bela": ("fernanda", "Bela Vista Comércio S.A.", "223334440001", 20, "approved"),
    "cosmos": ("gabriel", "Cosmos Dados Ltda", "12ABC3450001", 1, "pending"),
    "delta": ("helena", "Delta Logística Eireli", "334445550001", 200, "active"),
    "estrela": ("ana", "Estrela Mídia Digital Ltda", "445556660001", 30, "approved"),
}
# … and who joined each long ago: (person, role, who invited them, how many days ago).
TEAMS = {
    "acme": [
        ("bruno", "admin", "ana", 98),
        ("carla", "member", "ana", 98),
        ("diego", "billing", "ana", 98),
        ("elisa", "member", "bruno", 97),
    ],
    "bela": [("ana", "admin", "fernanda", 18), ("diego", "billing", "fernanda", 18)],
    "delta": [("bruno", "viewer", "helena", 198)],
    "estrela": [
        ("fernanda", "owner", "ana", 28),
        ("gabriel", "member", "ana", 28),
        ("helena", "billing", "fernanda", 27),
    ],
}
# Ana's other devices: (browser, address, last seen so many days ago).
DEVICES = (
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
        "177.38.10.24",
        1,
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like "
        "Gecko) Chrome/126.0 Safari/537.36",
        "200.150.1.77",
        3,
    ),
)

PEOPLE = {  # besides Ana and the staff login; email: <key>@example.com.br
    "bruno": "Bruno Lima",
    "carla": "Carla Mendes",
    "diego": "Diego Rocha",
    "elisa": "Elisa Castro",
    "fernanda": "Fernanda Alves",
    "gabriel": "Gabriel Pereira",
    "helena": "Helena Martins",
}


def founded(key: str, people: dict, staff):
    """Organization ``key`` of ORGANIZATIONS, created, reviewed by ``staff`` and joined by
    its TEAMS; None if it exists already (it is then left as it is, with everything under
    it)."""
    owner, name, base, days, status = ORGANIZATIONS[key]
    account, new = b.organization(people[owner], name, b.cnpj(base), when=days_ago(days))
    if not new:
        return None
    b.review(account, staff, status, when=days_ago(days - 1))
    for user, role, inviter, joined in TEAMS.get(key, []):
        b.join(account, people[user], role, inviter=people[inviter], when=days_ago(joined))
    return account


def seed_demo() -> None:
    """Write the demo data into db.session (the caller commits)."""
    signed_up = days_ago(120)
    admin, _ = b.person(
        ADMIN_EMAIL, "Equipe PrimeCloud", ADMIN_PASSWORD, when=signed_up, admin=True
    )
    ana, ana_is_new = b.person(OWNER_EMAIL, "Ana Souza", OWNER_PASSWORD, when=signed_up)
    people = {
        key: b.person(f"{key}@example.com.br", name, PEOPLE_PASSWORD, when=signed_up)[0]
        for key, name in PEOPLE.items()
    }
    people["ana"] = ana
    bruno, carla, diego, elisa = (people[n] for n in ("bruno", "carla", "diego", "elisa"))
    fernanda, gabriel, helena = (people[n] for n in ("fernanda", "gabriel", "helena"))
    if ana_is_new:
        b.reset_password(ana, OWNER_PASSWORD, when=days_ago(40))

    basic = b.product(
        "STD-1TB", "Armazenamento Padrão 1 TB", "89.90", "1 TB em sa-east-sp1, 3 réplicas"
    )
    pro = b.product(
        "STD-10TB", "Armazenamento Padrão 10 TB", "749.00", "10 TB em sa-east-sp1, 3 réplicas"
    )
    archive = b.product(
        "ARC-50TB", "Arquivo Frio 50 TB", "990.00", "Classe de arquivamento, recuperação em horas"
    )
    b.product("EGRESS-1TB", "Pacote de Tráfego 1 TB", "129.00", "Transferência de saída adicional")

    # 1. Ana's company: active, every role, every kind of object.
    acme = founded("acme", people, admin)
    if acme:
        buckets = [
            b.bucket(
                acme,
                carla,
                "ana-backups",
                when=days_ago(60),
                versioning="enabled",
                rules=validate_rules(STORAGE_RULES),
            ),
            b.bucket(
                acme, carla, "ana-logs", when=days_ago(60), rules=validate_rules(STORAGE_RULES[:1])
            ),
            b.bucket(acme, carla, "ana-midia.publica", when=days_ago(60), versioning="suspended"),
        ]
        deploy = b.access_key(acme, carla, "deploy-ci", when=days_ago(50))  # used: b.usage
        b.access_key(
            acme,
            carla,
            "backup-noturno",
            when=days_ago(50),
            status="inactive",
            changed=days_ago(10),
        )
        b.access_key(
            acme, carla, "laptop-antigo", when=days_ago(50), status="revoked", changed=days_ago(10)
        )
        # Read-only, scoped to one bucket, expiring in 5 days (amber on the page); rotated.
        b.access_key(
            acme,
            carla,
            "leitura-backups",
            when=days_ago(30),
            permission="read-only",
            buckets=buckets[:1],
            expires_on=(days_ago(-5)).date(),
            rotated=days_ago(8),
            last_used=days_ago(2),
        )
        # Expired ten days ago (red on the page): it cannot be reactivated.
        b.access_key(
            acme,
            carla,
            "rclone-migracao",
            when=days_ago(40),
            permission="read-write",
            buckets=buckets[1:],
            expires_on=(days_ago(10)).date(),
        )
        # The daily timer told the owners and admins before and after it expired, and that
        # "leitura-backups" expires within the week.
        for when in (days_ago(12), days_ago(9), days_ago(0.2)):
            b.key_expiry_notices(when=when)
        b.order(acme, basic, ana, admin, when=days_ago(95), status="fulfilled", quantity=2)
        b.subscription(acme, basic, when=days_ago(94), quantity=2)
        b.order(acme, archive, diego, admin, when=days_ago(70), status="fulfilled")
        b.subscription(acme, archive, when=days_ago(69), cancelled=days_ago(49))
        b.order(acme, pro, diego, admin, when=days_ago(5), status="paid")
        b.order(acme, pro, diego, admin, when=days_ago(2))
        b.order(acme, archive, ana, admin, when=days_ago(40), status="cancelled")
        four, three, two = (month_start(k) for k in (4, 3, 2))
        b.invoice(acme, admin, four, status="void", lines=[STORAGE_1TB])
        b.invoice(acme, admin, four, status="paid", lines=[STORAGE_1TB, EGRESS])
        b.invoice(acme, admin, three, status="paid", lines=[STORAGE_1TB])
        b.invoice(acme, admin, two, status="open", lines=[STORAGE_1TB, EGRESS])
        b.usage(acme, buckets, days=120, key=deploy)
        b.quota_request(
            acme,
            ana,
            admin,
            "buckets",
            25,
            when=days_ago(15),
            status="approved",
            reason="Novos projetos de clientes: um bucket por cliente a partir de março",
            note="Aprovado para o plano atual",
        )
        b.quota_request(
            acme,
            bruno,
            admin,
            "storage_gb",
            100_000,
            when=days_ago(15),
            status="rejected",
            reason="Migração do arquivo histórico de 20 anos da empresa",
            note="O uso atual não justifica o aumento; fale com vendas",
        )
        b.quota_request(
            acme,
            ana,
            admin,
            "access_keys",
            12,
            when=days_ago(15),
            reason="Uma chave por pipeline de CI, isoladas por projeto",
        )
        b.invite(acme, ana, "joao@example.com.br", "member", when=days_ago(3))
        marina = b.invite(acme, bruno, "marina@example.com.br", "viewer", when=days_ago(6))
        b.revoke(marina, bruno, when=days_ago(5))
        b.change_role(acme, ana, elisa, "viewer", when=days_ago(1))
        b.read_notifications(acme, before=days_ago(7), after=READ_AFTER)

    # 2. Approved, not active yet: waiting for its first subscription.
    bela = founded("bela", people, admin)
    if bela:
        b.order(bela, basic, fernanda, admin, when=days_ago(3))
        b.quota_request(
            bela,
            fernanda,
            admin,
            "buckets",
            15,
            when=days_ago(3),
            reason="Lojas novas no Sul: um bucket por loja",
        )
        b.invite(bela, fernanda, "contato@belavista.com.br", "viewer", when=days_ago(3))
        b.read_notifications(bela, before=days_ago(7), after=READ_AFTER)

    # 3. Pending review, with a 2026 alphanumeric CNPJ; Elisa joined through her invitation.
    cosmos = founded("cosmos", people, admin)
    if cosmos:
        invitation = b.invite(cosmos, gabriel, elisa.email, "member", when=days_ago(0.9))
        b.accept(invitation, elisa, when=days_ago(0.7))

    # 4. Suspended for an unpaid invoice: read-only, its objects kept. Built while active
    #    (buckets and keys are created only then), suspended last.
    delta = founded("delta", people, admin)
    if delta:
        buckets = [
            b.bucket(
                delta,
                helena,
                "delta-notas-fiscais",
                when=days_ago(190),
                versioning="enabled",
                rules=validate_rules(STORAGE_RULES[1:]),
            ),
        ]
        b.access_key(
            delta, helena, "erp", when=days_ago(180), status="inactive", changed=days_ago(25)
        )
        b.order(delta, pro, helena, admin, when=days_ago(190), status="fulfilled")
        b.subscription(delta, pro, when=days_ago(189))
        b.invoice(delta, admin, month_start(3), status="paid", lines=[STORAGE_10TB])
        b.invoice(delta, admin, month_start(2), status="open", lines=[STORAGE_10TB])
        b.usage(delta, buckets, days=60, sizes={"delta-notas-fiscais": 92})  # 92 % of 100 GB
        b.review(
            delta,
            admin,
            "suspended",
            when=days_ago(20),
            reason="Fatura em atraso há mais de 30 dias",
        )
        b.read_notifications(delta, before=days_ago(21), after=READ_AFTER)

    # 5. Activated by its first subscription (the database's move); two owners.
    estrela = founded("estrela", people, admin)
    if estrela:
        b.order(estrela, basic, ana, admin, when=days_ago(25), status="fulfilled")
        b.subscription(estrela, basic, when=days_ago(24))  # approved -> active
        b.bucket(estrela, gabriel, "estrela-videos", when=days_ago(23))
        b.access_key(estrela, gabriel, "render-farm", when=days_ago(23), last_used=days_ago(0.5))
        b.read_notifications(estrela, before=days_ago(26), after=READ_AFTER)

    # Last month's invoices, issued and opened through the invoicing service (Estrela's is
    # still a draft under review); Acme paid by PIX.
    if acme and estrela:
        b.month_invoices(admin, month_start(1), paid=acme, keep_draft=estrela)

    if ana_is_new and acme:
        # Ana's last visit: she logged in yesterday and opened her company. She is also
        # logged in on her phone and on another computer (what /sessions lists).
        b.log_in(OWNER_EMAIL, OWNER_PASSWORD, when=days_ago(1))
        b.open_organization(ana, acme, when=days_ago(1))
        for agent, ip, days in DEVICES:
            seen = days_ago(days)
            b.device_session(
                ana, user_agent=agent, ip=ip, started=seen - timedelta(hours=2), last_seen=seen
            )
