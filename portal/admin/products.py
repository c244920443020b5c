"""/admin/products: the catalog (platform admins). List by SKU with keyset pages, create,
edit (name, description, monthly price, active; the SKU is fixed), and delete a product
nothing refers to (one that orders reference is deactivated instead).

These routes join the admin blueprint (``portal.admin.routes`` imports this module), so its
staff-only check covers them."""

from __future__ import annotations

from flask import render_template, request, url_for
from flask_babel import format_decimal, gettext
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, StringField, TextAreaField

from portal import web
from portal.admin.routes import bp
from portal.billing import catalog
from portal.errors import Invalid
from portal.extensions import db
from portal.pagination import ListForm

PAGE = "admin/products.html"
LIST = "admin/_products.html"


class ProductsListForm(ListForm):
    keyset = catalog.ORDER


class ProductForm(FlaskForm):
    """Create or edit a product (the template leaves the SKU out when editing). Any text
    reaches the services, which answer with a message on the field."""

    sku = StringField(_l("SKU"))
    name = StringField(_l("Name"))
    description = TextAreaField(_l("Description"))
    price = StringField(_l("Monthly price (R$)"))
    active = BooleanField(_l("Offered to customers"), default=True)


class DeleteForm(FlaskForm):
    back = HiddenField()


def price_text(value) -> str:
    """A price as the form shows it, in the reader's language (``1.234,56`` in pt-BR)."""
    return format_decimal(value, format="#,##0.00")


def _list_url() -> str:
    return url_for("admin.products")


def _back(value: str | None) -> str:
    """The list with its page, never another site."""
    return web.back_to(value, _list_url())


def _page(form: ProductForm | None = None, status: int = 200, row_errors=None, message=None):
    listing_form = ProductsListForm(formdata=request.args)
    ok, cursor = listing_form.parse()
    listing = None
    if ok:
        listing = catalog.list_products(
            web.actor(),
            before=cursor,
            limit=web.page_size("ADMIN_PRODUCTS_PAGE_SIZE", catalog.PAGE_SIZE),
        )
    return web.render(
        PAGE,
        LIST,
        status if listing is not None else 422,
        listing=listing,
        list_form=listing_form,
        links=listing_form.links(_list_url(), listing),
        form=form or ProductForm(formdata=None),
        row_errors=row_errors or {},
        message=message,
        back=request.full_path.rstrip("?"),
    )


@bp.get("/products")
@login_required
def products():
    return _page()


@bp.post("/products")
@login_required
def create_product():
    form = ProductForm()
    if form.validate():
        try:
            product = catalog.create_product(
                web.actor(),
                sku=form.sku.data,
                name=form.name.data,
                description=form.description.data,
                price=form.price.data,
                active=form.active.data,
                ip=web.client_ip(),
            )
        except Invalid as exc:
            db.session.rollback()
            web.form_error(form, exc)
        else:
            db.session.commit()
            message = gettext("%(sku)s was added to the catalog.", sku=product.sku)
            return web.done(message, _list_url(), lambda: _page(message=message))
    return _page(form, 422)


def _edit_page(row: catalog.ProductRow, form: ProductForm, status: int = 200):
    return render_template("admin/product.html", row=row, form=form), status


@bp.get("/products/<int:product_id>")
@login_required
def product(product_id: int):
    row = catalog.get_product(web.actor(), product_id)
    p = row.product
    form = ProductForm(
        formdata=None,
        data={
            "name": p.name,
            "description": p.description,
            "price": price_text(p.price_monthly),
            "active": p.active,
        },
    )
    return _edit_page(row, form)


@bp.post("/products/<int:product_id>")
@login_required
def update_product(product_id: int):
    row = catalog.get_product(web.actor(), product_id)  # 404 before reading the input
    form = ProductForm()
    if form.validate():
        try:
            product = catalog.update_product(
                web.actor(),
                product_id,
                name=form.name.data,
                description=form.description.data,
                price=form.price.data,
                active=form.active.data,
                ip=web.client_ip(),
            )
        except Invalid as exc:
            db.session.rollback()
            web.form_error(form, exc)
            row = catalog.get_product(web.actor(), product_id)
        else:
            db.session.commit()
            web.flash_success(gettext("%(sku)s was saved.", sku=product.sku))
            return web.hx_redirect(_list_url())
    return _edit_page(row, form, 422)


def _refused_page(errors: dict, *, product_id: int, error_field=None, extra=None):
    return _page(status=422, row_errors=errors)


PRODUCT = web.Rows(
    template="admin/_product_row.html",
    name="p",
    reload=lambda product_id: catalog.product_row(web.actor(), product_id),
    page=_refused_page,
    columns=5,
)


@bp.post("/products/<int:product_id>/delete")
@login_required
def delete_product(product_id: int):
    form = DeleteForm()
    back = _back(form.back.data)
    return PRODUCT.act(
        lambda: catalog.delete_product(web.actor(), product_id, ip=web.client_ip()),
        done=lambda p: gettext("%(sku)s was deleted.", sku=p.sku),
        back=back,
        ids={"product_id": product_id},
        confirm=lambda p: gettext(
            "Delete %(sku)s (%(name)s) from the catalog?", sku=p.sku, name=p.product.name
        ),
        may=lambda p: p.may_delete,
        removes=True,
        extra={"back": back},
    )
