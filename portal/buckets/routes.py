"""The buckets pages: /accounts/<id>/buckets (quota meters, the create form with its live
name check, the list searched by name prefix and keyset-paged) and
/accounts/<id>/buckets/<name> (overview, versioning, lifecycle rules with their import and
export, deletion).

Every form works without JavaScript (post, redirect, get); with htmx the piece that changed
is swapped: the name's feedback, the create form, the versioning card, one rule's row (plus
the rows whose flags changed with it, out of band), the lifecycle section after an import,
the delete form. A refused change answers 422 with the message next to the field.
"""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request, url_for
from flask_babel import gettext
from flask_login import login_required
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.routing import BaseConverter

from portal import htmx, lifecycle, web
from portal.buckets import rules, services
from portal.buckets.forms import (
    BucketFilterForm,
    CreateBucketForm,
    DeleteBucketForm,
    ImportForm,
    NameCheckForm,
    RuleForm,
    RuleIdForm,
    VersioningForm,
)
from portal.errors import DomainError, Invalid, render_error
from portal.extensions import db
from portal.permissions import Permission
from portal.security import accepts_files


class BucketNameConverter(BaseConverter):
    """``<bucket:name>``: what a bucket name can be (S3's characters and length). Anything
    else matches no route (404), and paths such as ``_check-name`` never read as a name."""

    regex = r"[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]"


bp = Blueprint("buckets", __name__)
# Before the routes below are added to the app's URL map (deferred functions run in order).
bp.record_once(lambda state: state.app.url_map.converters.setdefault("bucket", BucketNameConverter))

LIST_PAGE = "buckets/index.html"
LIST_PIECE = "buckets/_list.html"
DETAIL_PAGE = "buckets/detail.html"
BUCKET = "/accounts/<int:account_id>/buckets/<bucket:name>"


def _list_url(account_id: int) -> str:
    return url_for("buckets.index", account_id=account_id)


def _detail_url(account_id: int, name: str, anchor: str | None = None) -> str:
    return url_for("buckets.detail", account_id=account_id, name=name, _anchor=anchor)


# ----------------------------------------------------------------------------- list ---
def _list_page(
    account_id: int,
    status: int = 200,
    partial: str = LIST_PIECE,
    create_form: CreateBucketForm | None = None,
    rows: bool = True,
):
    form = BucketFilterForm(formdata=request.args if request.method == "GET" else None)
    ok, cursor = form.parse() if request.method == "GET" else (True, None)
    listing = services.list_buckets(
        web.actor(),
        account_id,
        q=form.q.data if ok else None,
        before=cursor,
        limit=web.page_size("BUCKETS_PAGE_SIZE", services.PAGE_SIZE),
        rows=rows and ok,
    )
    if not ok:
        status = 422
    return web.render(
        LIST_PAGE,
        partial,
        status,
        listing=listing,
        account=listing.account,
        membership=listing.membership,
        form=form,
        links=form.links(_list_url(account_id), listing.page),
        create_form=create_form or CreateBucketForm(formdata=None),
    )


@bp.get("/accounts/<int:account_id>/buckets")
@login_required
def index(account_id: int):
    return _list_page(account_id)


@bp.post("/accounts/<int:account_id>/buckets")
@login_required
def create(account_id: int):
    form = CreateBucketForm()
    if form.validate():
        try:
            bucket = services.create_bucket(
                web.actor(),
                account_id,
                form.name.data,
                region=form.region.data,
                versioning=form.versioning.data or "unversioned",
                abort_uploads=bool(form.abort_uploads.data),
                ip=web.client_ip(),
            )
        except services.InvalidName as exc:
            db.session.rollback()
            form.name.errors = list(exc.problems)
        except Invalid as exc:
            db.session.rollback()
            web.form_error(form, exc)
        else:
            name = bucket.name
            db.session.commit()
            web.flash_success(gettext("The bucket %(name)s was created.", name=name))
            return web.hx_redirect(_detail_url(account_id, name))
    # The create form alone for htmx; without JavaScript, the page with the list.
    return _list_page(
        account_id, 422, "buckets/_create.html", create_form=form, rows=not htmx.is_partial()
    )


@bp.post("/accounts/<int:account_id>/buckets/_check-name")
@login_required
def check_name(account_id: int):
    """The live check of the create form (htmx, as the person types): the feedback under
    the name field. Reads only."""
    form = NameCheckForm()
    check = None
    if (form.name.data or "").strip():
        check = services.check_name(web.actor(), account_id, form.name.data)
    return render_template("buckets/_name_feedback.html", check=check, errors=None)


# ----------------------------------------------------------------------- one bucket ---
def _detail_page(
    view: services.BucketPage,
    status: int = 200,
    partial: str | None = None,
    **context,
):
    """The bucket's page (or ``partial`` of it for htmx) with the defaults of its forms."""
    rows = rules.views(view)
    preset = request.args.get("preset") if request.method == "GET" else None
    context.setdefault("add_values", rules.preset_values(preset, view.bucket.lifecycle_rules))
    context.setdefault("add_errors", {})
    context.setdefault("row_errors", {})
    context.setdefault("import_form", ImportForm(formdata=None))
    context.setdefault("delete_form", DeleteBucketForm(formdata=None))
    template = partial if partial and htmx.is_partial() else DETAIL_PAGE
    return render_template(
        template,
        page=view,
        account=view.account,
        membership=view.membership,
        rows=rows,
        presets=list(rules.PRESETS.values()),
        max_rules=lifecycle.MAX_RULES,
        **context,
    ), status


@bp.get(BUCKET)
@login_required
def detail(account_id: int, name: str):
    view = services.open_bucket(web.actor(), account_id, name)
    return _detail_page(view, editing=request.args.get("edit"))


@bp.post(f"{BUCKET}/versioning")
@login_required
def versioning(account_id: int, name: str):
    form = VersioningForm()
    try:
        services.change_versioning(
            web.actor(), account_id, name, form.action.data or "", ip=web.client_ip()
        )
    except Invalid as exc:
        db.session.rollback()
        view = services.open_bucket(web.actor(), account_id, name)
        return _detail_page(
            view, 422, "buckets/_versioning_response.html", versioning_error=exc.message
        )
    db.session.commit()
    view = services.open_bucket(web.actor(), account_id, name)
    message = gettext("Versioning of %(name)s: %(state)s.", name=name, state=view.versioning_label)
    return web.done(
        message,
        _detail_url(account_id, name, "versioning"),
        lambda: _detail_page(view, partial="buckets/_versioning_response.html", message=message),
    )


@bp.post(f"{BUCKET}/delete")
@login_required
def delete(account_id: int, name: str):
    form = DeleteBucketForm()
    try:
        services.delete_bucket(
            web.actor(), account_id, name, form.confirm_name.data, ip=web.client_ip()
        )
    except Invalid as exc:
        db.session.rollback()
        web.form_error(form, exc)
        view = services.open_bucket(web.actor(), account_id, name)
        return _detail_page(view, 422, "buckets/_delete.html", delete_form=form)
    db.session.commit()
    web.flash_success(gettext("The bucket %(name)s was deleted.", name=name))
    return web.hx_redirect(_list_url(account_id))


# ------------------------------------------------------------------ lifecycle rules ---
def _rules_page_with_errors(
    errors: dict, *, account_id: int, name: str, rule_id: str, error_field=None, extra=None
):
    """Without JavaScript, a refused rule change: the page with the message next to the
    rule (in its edit form when the change was an edit), 422."""
    view = services.open_bucket(web.actor(), account_id, name)
    extra = extra or {}
    return _detail_page(
        view,
        422,
        row_errors=errors,
        error_field=error_field,
        editing=rule_id if extra.get("form") is not None else None,
        form=extra.get("form"),
    )


RULE = web.Rows(
    template="buckets/_rule_response.html",
    name="r",
    reload=lambda account_id, name, rule_id: rules.rule_row(web.actor(), account_id, name, rule_id),
    page=_rules_page_with_errors,
    columns=5,
)


def _rule_input(form: RuleForm) -> dict:
    return {
        "rule_id": form.rule_id.data,
        "enabled": bool(form.enabled.data),
        "prefix": form.prefix.data or "",
        "expiration_days": form.expiration_days.data,
        "noncurrent_days": form.noncurrent_days.data,
        "abort_days": form.abort_days.data,
        "acknowledge": bool(form.acknowledge.data),
    }


@bp.get(f"{BUCKET}/rules/new")
@login_required
def new_rule(account_id: int, name: str):
    """The add form, from a preset (htmx swaps #rule-add; otherwise the page)."""
    view = services.open_bucket(web.actor(), account_id, name, Permission.BUCKETS_WRITE)
    return _detail_page(view, partial="buckets/_rule_add.html")


@bp.post(f"{BUCKET}/rules")
@login_required
def add_rule(account_id: int, name: str):
    form = RuleForm()
    values = _rule_input(form)
    try:
        added = rules.add_rule(web.actor(), account_id, name, **values, ip=web.client_ip())
    except Invalid as exc:
        db.session.rollback()
        view = services.open_bucket(web.actor(), account_id, name)
        return _detail_page(
            view,
            422,
            "buckets/_rule_add.html",
            add_values=values,
            add_errors={exc.field: exc.message},
        )
    db.session.commit()
    message = gettext("The rule “%(id)s” was added.", id=added.id)
    view = services.open_bucket(web.actor(), account_id, name)
    return web.done(
        message,
        _detail_url(account_id, name, added.dom_id),
        lambda: _detail_page(
            view,
            partial="buckets/_rule_add.html",
            added=added,
            was_empty=len(view.bucket.lifecycle_rules) == 1,
            add_message=message,
        ),
    )


@bp.get(f"{BUCKET}/rules/edit")
@login_required
def edit_rule(account_id: int, name: str):
    """A rule's row as an edit form (htmx swaps the row; otherwise the page with it)."""
    rule_id = request.args.get("rule", "")
    view = services.open_bucket(web.actor(), account_id, name, Permission.BUCKETS_WRITE)
    if not htmx.is_partial():
        return _detail_page(view, editing=rule_id)
    row = rules.rule_row(web.actor(), account_id, name, rule_id)
    if row is None:
        web.flash_success(rules.gone_message())
        return web.hx_redirect(_detail_url(account_id, name, "lifecycle"))
    return render_template("buckets/_rule_row.html", r=row, editing=True)


@bp.get(f"{BUCKET}/rules/row")
@login_required
def rule_row(account_id: int, name: str):
    """A rule's row as it is (the edit form's Cancel)."""
    rule_id = request.args.get("rule", "")
    row = rules.rule_row(web.actor(), account_id, name, rule_id)
    if row is None or not htmx.is_partial():
        return web.hx_redirect(_detail_url(account_id, name, "lifecycle"))
    return render_template("buckets/_rule_row.html", r=row)


@bp.post(f"{BUCKET}/rules/update")
@login_required
def update_rule(account_id: int, name: str):
    form = RuleForm()
    original = request.form.get("rule", "")
    return RULE.act(
        lambda: rules.update_rule(
            web.actor(), account_id, name, original, **_rule_input(form), ip=web.client_ip()
        ),
        done=lambda r: gettext("The rule “%(id)s” was saved.", id=r.id),
        back=_detail_url(account_id, name, "lifecycle"),
        ids={"account_id": account_id, "name": name, "rule_id": original},
        extra={"form": form},
    )


@bp.post(f"{BUCKET}/rules/status")
@login_required
def rule_status(account_id: int, name: str):
    form = RuleIdForm()
    rule_id, status = form.rule.data or "", form.status.data or ""
    return RULE.act(
        lambda: rules.set_rule_status(
            web.actor(), account_id, name, rule_id, status, ip=web.client_ip()
        ),
        done=lambda r: (
            gettext("The rule “%(id)s” is enabled.", id=r.id)
            if r.enabled
            else gettext("The rule “%(id)s” is disabled: it is kept, and does nothing.", id=r.id)
        ),
        back=_detail_url(account_id, name, "lifecycle"),
        ids={"account_id": account_id, "name": name, "rule_id": rule_id},
        # Enabling a rule that deletes every object asks first (htmx: hx-confirm).
        confirm=lambda r: gettext(
            "Enable the rule “%(id)s”? Its prefix is empty: it deletes every object of the "
            "bucket as they expire.",
            id=r.id,
        ),
        may=lambda r: r.may_write and r.deletes_everything and status == "Enabled",
    )


@bp.post(f"{BUCKET}/rules/delete")
@login_required
def delete_rule(account_id: int, name: str):
    form = RuleIdForm()
    rule_id = form.rule.data or ""
    return RULE.act(
        lambda: rules.delete_rule(web.actor(), account_id, name, rule_id, ip=web.client_ip()),
        done=lambda r: gettext("The rule “%(id)s” was deleted.", id=r.id),
        back=_detail_url(account_id, name, "lifecycle"),
        ids={"account_id": account_id, "name": name, "rule_id": rule_id},
        confirm=lambda r: gettext("Delete the lifecycle rule “%(id)s”?", id=r.id),
        may=lambda r: r.may_write,
    )


@bp.get(f"{BUCKET}/lifecycle.json")
@login_required
def export_rules(account_id: int, name: str):
    view, text = rules.export(web.actor(), account_id, name)
    return Response(
        text,
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="{view.export_filename}"'},
    )


@bp.post(f"{BUCKET}/lifecycle/import")
@login_required
@accepts_files  # the S3 JSON may come as a file
def import_rules(account_id: int, name: str):
    form = ImportForm()
    upload = form.file.data
    uploaded = None
    if upload is not None and getattr(upload, "filename", ""):
        uploaded = upload.stream.read(lifecycle.MAX_DOCUMENT_BYTES + 1)
    try:
        result = rules.import_rules(
            web.actor(),
            account_id,
            name,
            pasted=form.document.data,
            uploaded=uploaded,
            acknowledge=bool(form.acknowledge.data),
            ip=web.client_ip(),
        )
    except Invalid as exc:
        db.session.rollback()
        view = services.open_bucket(web.actor(), account_id, name)
        problems = getattr(exc, "problems", [])
        return _detail_page(
            view,
            422,
            "buckets/_lifecycle.html",
            import_form=form,
            import_error=exc.message,
            import_field=exc.field,
            import_problems=problems,
        )
    db.session.commit()
    message = gettext(
        "The lifecycle configuration was imported: %(count)s rules replace the %(before)s "
        "there were.",
        count=result.count,
        before=result.before,
    )
    view = services.open_bucket(web.actor(), account_id, name)
    return web.done(
        message,
        _detail_url(account_id, name, "lifecycle"),
        lambda: _detail_page(view, partial="buckets/_lifecycle.html", lifecycle_message=message),
    )


@bp.errorhandler(RequestEntityTooLarge)
def too_large(exc):
    """An import larger than the portal accepts: the import form says so (422), nothing is
    read or written. Other requests get the ordinary 413 page."""
    from flask_login import current_user

    args = request.view_args or {}
    if (
        request.endpoint != "buckets.import_rules"
        or "name" not in args
        or not current_user.is_authenticated
    ):
        return render_error(413)
    try:
        view = services.open_bucket(web.actor(), args["account_id"], args["name"])
    except DomainError as error:
        return render_error(error.status, error.message or None)
    return _detail_page(
        view,
        422,
        "buckets/_lifecycle.html",
        import_error=lifecycle.too_large_message(),
        import_field="document",
        import_problems=[],
    )
