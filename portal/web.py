"""Route helpers: what every route does the same way, written once.

- :func:`actor`, :func:`client_ip`, :func:`page_size`: the acting person, their address (for
  the audit row) and a list's page size;
- :func:`form_error`: a service's Invalid next to its field;
- :func:`render`: the page, or its partial for a real htmx request; :func:`account_page`
  for an organization's page (its frame needs the account and the reader's membership);
- :func:`done`: after a change, flash + redirect without JavaScript, or the partial htmx
  swaps in, with the message;
- :class:`Rows`: a row action. A route says which service to call; the row is drawn from
  what the service returned (a refused change answers 422 with the message next to the
  row, with or without JavaScript), and a destructive action asks for a confirmation
  without JavaScript (htmx asks with ``hx-confirm``).

A route is: parse → service → respond through one of these.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, flash, make_response, redirect, render_template, request
from flask_login import current_user

from portal import htmx
from portal.errors import Invalid
from portal.extensions import db

CONFIRMED = "confirmed"  # the field a confirmed destructive action posts (value "1")


def actor():
    """The signed-in person (the real object, not Flask-Login's proxy)."""
    return current_user._get_current_object()


def client_ip() -> str | None:
    """The caller's address, for audit rows (ProxyFix, when configured, has already applied
    X-Forwarded-For)."""
    return request.remote_addr


def page_size(config_key: str, default: int) -> int:
    return int(current_app.config.get(config_key, default))


def form_error(form, exc: Invalid) -> None:
    """Put a service's Invalid next to its field (or above the form)."""
    field = getattr(form, exc.field, None) if exc.field else None
    if field is not None:
        field.errors = [*field.errors, exc.message]
    else:
        form.form_errors.append(exc.message)


def render(template: str, partial: str, status: int = 200, **context):
    """The whole page ``template``, or only ``partial`` (which it includes) for htmx."""
    return htmx.render(template, partial, status=status, **context)


def account_page(template: str, partial: str, view, status: int = 200, **context):
    """A page of an organization: :func:`render` with what its frame
    (``accounts/_layout.html``: the name, the tabs the reader may open) needs, taken from a
    service's ``view`` that carries the ``account`` and the reader's ``membership``."""
    return render(
        template, partial, status, account=view.account, membership=view.membership, **context
    )


def list_view(template: str, partial: str, form, load: Callable[[Any], Any], url: str, **context):
    """A keyset-paged list page: ``form`` (a ListForm read from the query string) is parsed,
    ``load(cursor)`` reads the page when the filters are valid (422 with the messages next
    to the filters otherwise), and the page or its partial is drawn with ``listing``,
    ``links`` (pager, "Clear filters") and ``back`` (this view's URL, for row actions to
    return to without JavaScript)."""
    ok, cursor = form.parse()
    listing = load(cursor) if ok else None
    return render(
        template,
        partial,
        200 if listing is not None else 422,
        form=form,
        listing=listing,
        links=form.links(url, listing),
        back=request.full_path.rstrip("?"),
        **context,
    )


def back_to(value: str | None, base: str) -> str:
    """Where a row action returns without JavaScript: ``value`` when it is the list ``base``
    itself (with its filters and page), never another page or site; else ``base``."""
    value = (value or "").strip()
    parts = urlsplit(value)
    if value and not parts.scheme and not parts.netloc and parts.path == base:
        return f"{base}?{parts.query}" if parts.query else base
    return base


def row_page(template: str, name: str, load: Callable[..., Any]):
    """The ``page`` of a :class:`Rows` whose refusal, without JavaScript, is shown on a page
    of that row alone (``template`` reads it as ``name``): the row as it is now, with the
    message next to the field (422)."""

    def page(errors: dict, *, error_field=None, extra=None, **ids):
        row = load(**ids)
        return render_template(
            template,
            **{name: row},
            row_error=errors.get(row.dom_id),
            error_field=error_field,
            **(extra or {}),
        ), 422

    return page


def done(message: str | None, back: str, partial: Callable[[], Any] | None = None):
    """A change went through: with htmx, ``partial()`` (the swapped piece, which shows the
    message); without JavaScript, the message as a flash and a redirect to ``back``."""
    if partial is not None and htmx.is_partial():
        return partial()
    if message:
        flash(message, "success")
    return redirect(back)


def hx_redirect(target: str):
    """Leave the page: htmx follows ``HX-Redirect`` with a full load; others get a 302."""
    if htmx.is_htmx():
        return make_response("", 204, {"HX-Redirect": target})
    return redirect(target)


def confirmed() -> bool:
    """Has the person confirmed a destructive action? htmx asks with ``hx-confirm`` (the
    request is then sent), so only a request without JavaScript needs the field."""
    return htmx.is_htmx() or request.form.get(CONFIRMED) == "1"


def ask(question: str, back: str):
    """A page that asks ``question`` before the action posted here is carried out; its
    button posts the same form again, confirmed. Nothing is written meanwhile."""
    carry = {k: v for k, v in request.form.items() if k not in ("csrf_token", CONFIRMED)}
    return render_template(
        "confirm.html", question=question, action=request.path, back=back, carry=carry
    )


def after_response(work: Callable[[], Any]) -> None:
    """Run ``work()`` once the response has been sent, in a copy of this request's context
    (``url_for``, the language) and in a transaction of its own: committed when it returns,
    rolled back (and logged) if it raises; the emails it queued are delivered after that
    commit. For work whose duration must not show in the response: "forgot password" does
    the same (nothing) for a known and an unknown address while the person waits."""
    from flask import after_this_request, copy_current_request_context

    from portal import mail

    def run():
        try:
            work()
            db.session.commit()
        except Exception:  # noqa: BLE001 - the response is gone; the log is all that is left
            db.session.rollback()
            logging.getLogger("portal.web").exception("work after the response failed")
            return
        mail.deliver_committed()

    job = copy_current_request_context(run)

    @after_this_request
    def _schedule(response):
        response.call_on_close(job)
        return response


def flash_success(message: str) -> None:
    flash(message, "success")


is_partial = htmx.is_partial


@dataclass
class Rows:
    """One kind of row, for its row actions.

    - ``template`` draws one row; it reads the row as ``name`` (plus ``row_error``,
      ``error_field`` and ``row_message``) and whatever ``context(row)`` adds;
    - rows are view objects with a ``dom_id`` (the element a swap replaces);
    - ``reload(**ids)`` reads the row as it is now (after a refusal, and for the question
      of a confirmation), None when it is gone; it checks the reader's access itself;
    - ``page(errors, **ids)`` answers without JavaScript when a change is refused: the whole
      page with ``errors`` ({row id: message}) next to the row, 422.
    """

    template: str
    name: str
    reload: Callable[..., Any]
    page: Callable[..., Any]
    context: Callable[[Any], Mapping[str, Any]] | None = None
    columns: int = 6

    def draw(self, row, status: int = 200, **extra):
        context = dict(self.context(row)) if self.context else {}
        context.update(extra)
        return render_template(self.template, **{self.name: row}, **context), status

    def gone(self, dom_id: str, message: str, status: int = 200):
        """The row that was removed, replaced by the message about it."""
        return render_template(
            "_gone_row.html", dom_id=dom_id, message=message, columns=self.columns
        ), status

    def act(
        self,
        call: Callable[[], Any],
        *,
        done: Callable[[Any], str],
        back: str,
        ids: Mapping[str, Any],
        confirm: Callable[[Any], str] | None = None,
        may: Callable[[Any], bool] | None = None,
        removes: bool = False,
        extra: Mapping[str, Any] | None = None,
        on_done: Callable[[Any], Any] | None = None,
    ):
        """Run a row action: ``call()`` (the service), commit, respond.

        - success: htmx gets the row drawn from what ``call()`` returned, with ``done(row)``
          as its message (``removes=True``: the message in place of the row); without
          JavaScript, a flash and a redirect to ``back``;
        - Invalid: rollback; htmx gets the row as it is now with the message (422), or, if
          the row is gone, a full-page reload of ``back`` with the message flashed; without
          JavaScript, ``page()`` with the message next to the row (422);
        - ``confirm(row)``: without JavaScript and before the person confirmed, a page that
          asks that question (nothing is written yet) — only when ``may(row)`` says the
          person may act at all; otherwise the service answers (403, 422) straight away."""
        extra = dict(extra or {})
        if confirm is not None and not confirmed():
            current = self.reload(**ids)
            if current is not None and (may is None or may(current)):
                return ask(confirm(current), back)
        try:
            result = call()
        except Invalid as exc:
            db.session.rollback()
            return self.refused(exc, back=back, ids=ids, extra=extra)
        db.session.commit()
        message = done(result)
        if on_done is not None:
            on_done(result)
        if not htmx.is_partial():
            flash(message, "success")
            return redirect(back)
        if removes:
            return self.gone(result.dom_id, message)
        return self.draw(result, row_message=message, **extra)

    def refused(self, exc: Invalid, *, back: str, ids: Mapping[str, Any], extra=None):
        current = self.reload(**ids)
        if htmx.is_partial():
            if current is None:  # gone meanwhile: the whole page, fresh, with the message
                flash(exc.message, "error")
                return hx_redirect(back)
            return self.draw(
                current, 422, row_error=exc.message, error_field=exc.field, **(extra or {})
            )
        if current is None:
            flash(exc.message, "error")
            return redirect(back)
        return self.page(
            {current.dom_id: exc.message}, error_field=exc.field, extra=extra or {}, **ids
        )
