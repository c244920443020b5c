"""The product catalog: staff list, create, edit and delete products; customers order from
the active ones.

- The SKU is fixed once the product exists (the database refuses a change: trigger
  ``products_sku_immutable``, migration 0017).
- A product that orders, subscriptions or invoice lines reference is deactivated, never
  deleted (their foreign keys are ON DELETE RESTRICT); an unused product may be deleted.
- Prices are typed the Brazilian way or plain (:func:`portal.billing.money.parse_price`).

Every change is a platform event (no organization): an audit row in the caller's
transaction. No request, flash, current_user or commit here."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from flask_babel import gettext
from sqlalchemy import exists, or_, select
from sqlalchemy.exc import IntegrityError

from portal import events
from portal.audit import Action
from portal.billing.money import parse_price
from portal.errors import Invalid, NotFound
from portal.extensions import db
from portal.models import InvoiceLine, Order, Product, Subscription, User
from portal.pagination import Cursor, Key, Keyset, Page
from portal.permissions import check_id, require_platform_admin

PAGE_SIZE = 50
NAME_MAX = 120
DESCRIPTION_MAX = 2000
SKU_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,39}$")

# By SKU: the unique index uq_products_sku reads each page in order.
ORDER = Keyset(Key(Product.sku, desc=False))


@dataclass(frozen=True)
class ProductRow:
    """One product as staff see it: whether anything refers to it (then it can only be
    deactivated)."""

    product: Product
    in_use: bool

    @property
    def id(self) -> int:
        return self.product.id

    @property
    def sku(self) -> str:
        return self.product.sku

    @property
    def dom_id(self) -> str:
        return f"product-{self.product.id}"

    @property
    def may_delete(self) -> bool:
        return not self.in_use


def _in_use():
    """Does an order, a subscription or an invoice line refer to the row's product? Three
    index probes (ix_orders_product_id, ix_subscriptions_product_id, and invoice_lines'),
    for the page's rows only."""
    return or_(
        exists().where(Order.product_id == Product.id),
        exists().where(Subscription.product_id == Product.id),
        exists().where(InvoiceLine.product_id == Product.id),
    ).label("in_use")


def list_products(
    actor: User, before: Cursor | None = None, limit: int = PAGE_SIZE
) -> Page[ProductRow]:
    """A page of the catalog by SKU, with what refers to each product. One query."""
    require_platform_admin(actor)
    # Product.sku first: the keyset reads the cursor's value from the row by that name.
    page = ORDER.page(select(Product.sku, Product, _in_use()), before, limit)
    page.rows = [ProductRow(product, in_use) for _sku, product, in_use in page.rows]
    return page


def product_row(actor: User, product_id: int) -> ProductRow | None:
    """One product as the list shows it (one query); None if there is none."""
    require_platform_admin(actor)
    row = db.session.execute(
        select(Product, _in_use())
        .where(Product.id == check_id(product_id))
        .execution_options(populate_existing=True)
    ).first()
    return ProductRow(*row) if row is not None else None


def get_product(actor: User, product_id: int) -> ProductRow:
    row = product_row(actor, product_id)
    if row is None:
        raise NotFound()
    return row


def active_products() -> list[Product]:
    """What customers may order: the active products, by name (one query; the catalog is
    a short list kept by staff)."""
    return list(
        db.session.scalars(select(Product).where(Product.active).order_by(Product.name, Product.id))
    )


# --------------------------------------------------------------------------- input ---
def _sku(value: str | None) -> str:
    sku = (value or "").strip().upper()
    if not sku:
        raise Invalid(gettext("Enter the SKU."), field="sku")
    if not SKU_PATTERN.match(sku):
        raise Invalid(
            gettext(
                "Use 2 to 40 letters, digits and hyphens for the SKU, starting with a letter "
                "or digit (e.g. STORAGE-1TB)."
            ),
            field="sku",
        )
    return sku


def _name(value: str | None) -> str:
    name = " ".join((value or "").split())
    if not 2 <= len(name) <= NAME_MAX:
        raise Invalid(
            gettext("The name must have between 2 and %(max)d characters.", max=NAME_MAX),
            field="name",
        )
    return name


def _description(value: str | None) -> str:
    description = (value or "").strip()
    if len(description) > DESCRIPTION_MAX:
        raise Invalid(
            gettext("Use at most %(max)d characters for the description.", max=DESCRIPTION_MAX),
            field="description",
        )
    return description


def _constraint(exc: IntegrityError) -> str | None:
    return getattr(getattr(exc.orig, "diag", None), "constraint_name", None)


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


# ------------------------------------------------------------------------- changes ---
def create_product(
    actor: User,
    *,
    sku: str | None,
    name: str | None,
    description: str | None,
    price: str | None,
    active: bool = True,
    ip: str | None = None,
) -> Product:
    """A new product. Invalid (nothing written) for a bad or taken SKU, name or price."""
    require_platform_admin(actor)
    product = Product(
        sku=_sku(sku),
        name=_name(name),
        description=_description(description),
        price_monthly=parse_price(price),
        active=bool(active),
    )
    try:
        # A savepoint: the same SKU created at the same moment fails here, cleanly.
        with db.session.begin_nested():
            db.session.add(product)
            db.session.flush()
    except IntegrityError as exc:
        if _constraint(exc) == "uq_products_sku":
            raise Invalid(
                gettext("A product with the SKU %(sku)s already exists.", sku=product.sku),
                field="sku",
            ) from None
        raise
    events.emit(
        actor,
        Action.PRODUCT_CREATED,
        product,
        ip=ip,
        details={
            "sku": product.sku,
            "name": product.name,
            "price_monthly": _money(product.price_monthly),
            "active": product.active,
        },
    )
    db.session.flush()
    return product


def update_product(
    actor: User,
    product_id: int,
    *,
    name: str | None,
    description: str | None,
    price: str | None,
    active: bool,
    ip: str | None = None,
) -> Product:
    """Change a product's name, description, monthly price or whether it is offered (the
    SKU never changes). Orders already placed keep the price they copied. Writes an audit
    row with what changed (none when nothing did)."""
    require_platform_admin(actor)
    product = db.session.scalar(
        select(Product)
        .where(Product.id == check_id(product_id))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if product is None:
        raise NotFound()
    new = {
        "name": _name(name),
        "description": _description(description),
        "price_monthly": parse_price(price),
        "active": bool(active),
    }
    changes = {}
    for key, value in new.items():
        old = getattr(product, key)
        if old != value:
            shown = (lambda v: _money(v)) if key == "price_monthly" else (lambda v: v)
            changes[key] = [shown(old), shown(value)]
            setattr(product, key, value)
    if changes:
        db.session.flush()
        events.emit(actor, Action.PRODUCT_UPDATED, product, ip=ip, details=changes)
        db.session.flush()
    return product


def delete_product(actor: User, product_id: int, *, ip: str | None = None) -> ProductRow:
    """Delete a product nothing refers to; returns it as it was. A product in use is
    Invalid: it can only be deactivated."""
    row = get_product(actor, product_id)
    in_use = Invalid(
        gettext(
            "Orders or subscriptions refer to %(sku)s, so it cannot be deleted: deactivate "
            "it instead.",
            sku=row.sku,
        ),
        field="status",
    )
    if row.in_use:
        raise in_use
    target = events.Target.of(row.product)
    try:
        # A savepoint: an order placed meanwhile makes the foreign key refuse the delete.
        with db.session.begin_nested():
            db.session.delete(row.product)
            db.session.flush()
    except IntegrityError:
        raise in_use from None
    # Kept as it was (the caller's commit would expire a deleted row's attributes).
    db.session.expunge(row.product)
    events.emit(
        actor,
        Action.PRODUCT_DELETED,
        target,
        ip=ip,
        details={"sku": row.sku, "name": row.product.name},
    )
    db.session.flush()
    return row
