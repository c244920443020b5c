"""The keys page: /accounts/<id>/keys (the ceiling, the create form, the list by status,
keyset-paged, revoked keys apart) and each key's actions.

The secret is in exactly two responses: the one to the create request and the one to a
rotate request (``keys/_issued.html``: copy button, the AWS CLI profile, the CSV that
``aws configure import --csv`` reads, the environment variables, each a download that
app.js builds in the browser from the text on the page). Nothing else can show it: no
route reads a secret back, and the page carries ``Cache-Control: no-store``
(portal.security), so reloading or going back does not bring it again.

Every action works without JavaScript (post, then a redirect, a confirmation page for
revoke and rotate, or the page that shows the new secret); with htmx the row is swapped.
A refused change answers 422 with the message next to the field or the row.
"""

from __future__ import annotations

from flask import Blueprint, request, url_for
from flask_babel import gettext
from flask_login import login_required
from markupsafe import Markup, escape
from werkzeug.routing import BaseConverter

from portal import htmx, web
from portal.errors import Invalid
from portal.extensions import db
from portal.keys import services
from portal.keys.forms import CreateKeyForm, EditKeyForm, KeyFilterForm
from portal.permissions import Permission, require


class KeyIdConverter(BaseConverter):
    """``<key:key_id>``: what a public key id can be; anything else matches no route."""

    regex = r"PC[A-Z0-9]{18}"


bp = Blueprint("keys", __name__)
bp.record_once(lambda state: state.app.url_map.converters.setdefault("key", KeyIdConverter))

PAGE = "keys/index.html"


@bp.app_template_global()
def bucket_choices(buckets, chosen, idp: str, invalid: bool) -> Markup:
    """The scope fields' bucket checkboxes (``keys/_scope_fields.html``), one per bucket of
    the organization, built in one pass: an organization may have ten thousand buckets, and
    a Jinja loop costs ~3 µs each. The same HTML the loop wrote."""
    idp = escape(idp)
    aria = f' aria-invalid="true" aria-describedby="{idp}buckets-error"' if invalid else ""
    parts = []
    for bucket_id, name in buckets:
        value = bucket_id if type(bucket_id) is int else escape(bucket_id)
        checked = " checked" if bucket_id in chosen else ""
        parts.append(
            f'<div class="checkbox">\n          <input type="checkbox" name="buckets" '
            f'value="{value}" id="{idp}bucket-choice-{value}"{checked}{aria}>\n          '
            f'<label for="{idp}bucket-choice-{value}">{escape(name)}</label>\n        </div>'
        )
    return Markup("\n        ".join(parts))  # noqa: S704 - every value escaped above


LIST_PIECE = "keys/_list.html"
KEY = "/accounts/<int:account_id>/keys/<key:key_id>"


def _list_url(account_id: int) -> str:
    return url_for("keys.index", account_id=account_id)


def _back(account_id: int) -> str:
    return web.back_to(request.form.get("back"), _list_url(account_id))


def _page(
    account_id: int,
    status: int = 200,
    partial: str = LIST_PIECE,
    create_form: CreateKeyForm | None = None,
    rows: bool = True,
    row_errors: dict | None = None,
):
    form = KeyFilterForm(formdata=request.args if request.method == "GET" else None)
    ok, cursor = form.parse() if request.method == "GET" else (True, None)
    listing = services.list_keys(
        web.actor(),
        account_id,
        status=(form.status.data or "") if ok else "",
        before=cursor,
        limit=web.page_size("KEYS_PAGE_SIZE", services.PAGE_SIZE),
        rows=rows and ok,
    )
    if not ok:
        status = 422
    return web.account_page(
        PAGE,
        partial,
        listing,
        status,
        listing=listing,
        form=form,
        links=form.links(_list_url(account_id), listing.page),
        back=request.full_path.rstrip("?") if request.method == "GET" else _list_url(account_id),
        create_form=create_form or CreateKeyForm(formdata=None),
        row_errors=row_errors or {},
    )


def _page_with_errors(errors: dict, *, account_id: int, error_field=None, extra=None, **_ids):
    return _page(account_id, 422, row_errors=errors)


ROW = web.Rows(
    template="keys/_row.html",
    name="k",
    reload=lambda account_id, key_id: services.key_row(web.actor(), account_id, key_id),
    page=_page_with_errors,
    columns=9,
)


@bp.get("/accounts/<int:account_id>/keys")
@login_required
def index(account_id: int):
    return _page(account_id)


def _issued_response(issued: services.Issued, account_id: int, message: str, partial: str):
    """The one response that shows a secret: the piece htmx swaps in, or the page."""
    if htmx.is_partial() and partial == "row":
        return ROW.draw(issued.row, row_message=message, rotated_secret=issued.secret)
    oob = htmx.is_partial()  # the list and the ceiling are on the page: refresh them too
    listing = services.list_keys(web.actor(), account_id, rows=oob)
    form = KeyFilterForm(formdata=None)
    return web.account_page(
        "keys/issued.html",
        "keys/_issued.html",
        listing,
        listing=listing,
        issued=issued,
        secret=issued.secret,
        message=message,
        oob=oob,
        form=form,
        links=form.links(_list_url(account_id), listing.page),
    )


@bp.post("/accounts/<int:account_id>/keys")
@login_required
def create(account_id: int):
    # The permission first: a role that may not create keys gets 403 whatever it sent.
    require(web.actor(), account_id, Permission.KEYS_WRITE)
    form = CreateKeyForm()
    if form.validate():
        try:
            issued = services.create_key(
                web.actor(),
                account_id,
                form.name.data,
                permission=form.permission.data,
                scope=form.scope.data,
                bucket_ids=form.buckets.data or [],
                bucket_names=form.bucket_names.data,
                expires_on=form.expires_on.data,
                ip=web.client_ip(),
            )
        except Invalid as exc:
            db.session.rollback()
            web.form_error(form, exc)
        else:
            db.session.commit()
            message = gettext("The access key %(name)s was created.", name=issued.row.name)
            return _issued_response(issued, account_id, message, "create")
    return _page(account_id, 422, "keys/_create.html", create_form=form, rows=not htmx.is_partial())


@bp.post(f"{KEY}/rotate")
@login_required
def rotate(account_id: int, key_id: str):
    back = _back(account_id)
    ids = {"account_id": account_id, "key_id": key_id}
    if not web.confirmed():
        current = services.key_row(web.actor(), account_id, key_id)
        if current is not None and current.may_rotate:
            return web.ask(_rotate_question(current), back)
    try:
        issued = services.rotate_key(web.actor(), account_id, key_id, ip=web.client_ip())
    except Invalid as exc:
        db.session.rollback()
        return ROW.refused(exc, back=back, ids=ids)
    db.session.commit()
    message = gettext(
        "The key %(key_id)s has a new secret; the previous one no longer works.",
        key_id=issued.row.key_id,
    )
    return _issued_response(issued, account_id, message, "row")


def _rotate_question(row) -> str:
    return gettext(
        "Rotate the secret of %(name)s? The current secret stops working at once.",
        name=row.name,
    )


@bp.post(f"{KEY}/deactivate")
@login_required
def deactivate(account_id: int, key_id: str):
    return ROW.act(
        lambda: services.deactivate_key(web.actor(), account_id, key_id, ip=web.client_ip()),
        done=lambda k: gettext("The key %(name)s is inactive.", name=k.name),
        back=_back(account_id),
        ids={"account_id": account_id, "key_id": key_id},
    )


@bp.post(f"{KEY}/reactivate")
@login_required
def reactivate(account_id: int, key_id: str):
    return ROW.act(
        lambda: services.reactivate_key(web.actor(), account_id, key_id, ip=web.client_ip()),
        done=lambda k: gettext("The key %(name)s is active again.", name=k.name),
        back=_back(account_id),
        ids={"account_id": account_id, "key_id": key_id},
    )


@bp.post(f"{KEY}/revoke")
@login_required
def revoke(account_id: int, key_id: str):
    return ROW.act(
        lambda: services.revoke_key(web.actor(), account_id, key_id, ip=web.client_ip()),
        done=lambda k: gettext("The key %(name)s is revoked for good.", name=k.name),
        back=_back(account_id),
        ids={"account_id": account_id, "key_id": key_id},
        confirm=lambda k: gettext(
            "Revoke %(name)s (%(key_id)s)? This is final: the key stops working and cannot "
            "be brought back.",
            name=k.name,
            key_id=k.key_id,
        ),
        may=lambda k: k.may_revoke,
    )


def _edit_page(view: services.KeyEdit, form: EditKeyForm, status: int = 200):
    """The edit form: in the key's row for htmx, a page of its own without JavaScript."""
    return web.account_page(
        "keys/edit.html", "keys/_edit_row.html", view, status, key=view, edit_form=form
    )


@bp.get(f"{KEY}/edit")
@login_required
def edit(account_id: int, key_id: str):
    view = services.open_edit(web.actor(), account_id, key_id)
    form = EditKeyForm(formdata=None)
    form.name.data = view.row.name
    form.scope.data = view.row.scope
    form.buckets.data = [str(i) for i in view.chosen]
    if view.typed:
        form.bucket_names.data = "\n".join(view.row.buckets)
    return _edit_page(view, form)


@bp.post(f"{KEY}/edit")
@login_required
def update(account_id: int, key_id: str):
    view = services.open_edit(web.actor(), account_id, key_id)
    form = EditKeyForm()
    if form.validate():
        try:
            row = services.update_key(
                web.actor(),
                account_id,
                key_id,
                name=form.name.data,
                scope=form.scope.data,
                bucket_ids=form.buckets.data or [],
                bucket_names=form.bucket_names.data,
                ip=web.client_ip(),
            )
        except Invalid as exc:
            db.session.rollback()
            web.form_error(form, exc)
        else:
            db.session.commit()
            message = gettext("The key %(name)s was saved.", name=row.name)
            return web.done(
                message, _list_url(account_id), lambda: ROW.draw(row, row_message=message)
            )
    view = services.open_edit(web.actor(), account_id, key_id)
    view.chosen = {int(i) for i in (form.buckets.data or []) if str(i).isdigit()}
    return _edit_page(view, form, 422)
