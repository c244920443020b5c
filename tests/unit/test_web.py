"""portal.web.Rows: a row action answers the same way everywhere — the row drawn from what
the service returned (htmx) or a flash and a redirect (no JavaScript); a refusal is a 422
with the message next to the row (both), or a fresh page when the row is gone; a
destructive action asks first without JavaScript, and only someone who may act is asked."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from flask import get_flashed_messages
from jinja2 import ChoiceLoader, DictLoader

from portal import web
from portal.errors import Invalid, NotAllowed
from portal.extensions import db
from tests.conftest import make_test_app

HTMX = {"HX-Request": "true"}
ROW = (
    '<tr id="{{ r.dom_id }}">{{ r.name }}|message={{ row_message }}|error={{ row_error }}'
    "|field={{ error_field }}|extra={{ colour }}</tr>"
)


@dataclass
class Thing:
    id: int
    name: str
    may: bool = True

    @property
    def dom_id(self) -> str:
        return f"thing-{self.id}"


@pytest.fixture(scope="module")
def web_app(databases, smtp_server):
    """An app that knows one more template: a row of things."""
    controller, _ = smtp_server
    app = make_test_app(databases.server_url, controller.port)
    app.jinja_env.loader = ChoiceLoader([DictLoader({"_test/row.html": ROW}), app.jinja_loader])
    yield app
    with app.app_context():
        db.engine.dispose()


class Spy:
    """The stand-in service and page: what was called, with what."""

    def __init__(self, now: Thing | None = Thing(1, "Ana")):
        self.now = now
        self.calls: list[str] = []
        self.pages: list[dict] = []

    def service(self, result=None, error: Exception | None = None):
        def call():
            self.calls.append("service")
            if error is not None:
                raise error
            return result or Thing(1, "Ana (changed)")

        return call

    def reload(self, thing_id):
        assert thing_id == 1
        return self.now

    def page(self, errors, *, error_field=None, extra=None, thing_id):
        self.pages.append({"errors": errors, "field": error_field, "extra": extra, "id": thing_id})
        return "the whole page", 422


def rows(spy: Spy) -> web.Rows:
    return web.Rows(template="_test/row.html", name="r", reload=spy.reload, page=spy.page)


def act(web_app, spy, call, *, htmx=False, form=None, **options):
    """Run a row action in a POST request; returns (response, flashed messages)."""
    with web_app.test_request_context(
        "/things/1/change", method="POST", data=form or {}, headers=HTMX if htmx else {}
    ):
        response = rows(spy).act(
            call,
            done=lambda thing: f"{thing.name} is done.",
            back="/things",
            ids={"thing_id": 1},
            **options,
        )
        return web_app.make_response(response), get_flashed_messages(with_categories=True)


# ------------------------------------------------------------------------ success ---
def test_with_htmx_the_row_is_drawn_from_what_the_service_returned(web_app):
    spy = Spy(now=Thing(1, "stale"))
    response, flashed = act(web_app, spy, spy.service(), htmx=True, extra={"colour": "blue"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html == (
        '<tr id="thing-1">Ana (changed)|message=Ana (changed) is done.|error=|field='
        "|extra=blue</tr>"
    )
    assert spy.calls == ["service"] and flashed == []


def test_without_javascript_a_flash_and_back_to_the_list(web_app):
    spy = Spy()
    response, flashed = act(web_app, spy, spy.service())
    assert response.status_code == 302 and response.headers["Location"] == "/things"
    assert flashed == [("success", "Ana (changed) is done.")]


def test_a_removed_row_is_replaced_by_the_message(web_app):
    spy = Spy()
    response, _ = act(web_app, spy, spy.service(), htmx=True, removes=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<tr id="thing-1" class="gone-row">')
    assert "Ana (changed) is done." in html and "colspan=" in html


def test_on_done_sees_the_result_after_the_commit(web_app):
    spy, seen = Spy(), []
    act(web_app, spy, spy.service(), on_done=lambda thing: seen.append(thing.name))
    assert seen == ["Ana (changed)"]


# ------------------------------------------------------------------------ refused ---
def test_a_refusal_with_htmx_is_the_current_row_with_the_message(web_app):
    spy = Spy(now=Thing(1, "Ana as she is"))
    error = Invalid("Not like that.", field="role")
    response, flashed = act(web_app, spy, spy.service(error=error), htmx=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Ana as she is|message=|error=Not like that.|field=role" in html
    assert flashed == [] and spy.pages == []


def test_a_refusal_without_javascript_is_the_page_with_the_message_by_the_row(web_app):
    spy = Spy()
    error = Invalid("Not like that.", field="role")
    response, flashed = act(web_app, spy, spy.service(error=error), extra={"colour": "red"})
    assert response.status_code == 422
    assert response.get_data(as_text=True) == "the whole page"
    assert spy.pages == [
        {
            "errors": {"thing-1": "Not like that."},
            "field": "role",
            "extra": {"colour": "red"},
            "id": 1,
        }
    ]
    assert flashed == []


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "no-js"])
def test_a_row_gone_meanwhile_reloads_the_list_with_the_message(web_app, htmx):
    spy = Spy(now=None)
    response, flashed = act(web_app, spy, spy.service(error=Invalid("It is gone.")), htmx=htmx)
    if htmx:
        assert response.status_code == 204 and response.headers["HX-Redirect"] == "/things"
    else:
        assert response.status_code == 302 and response.headers["Location"] == "/things"
    assert flashed == [("error", "It is gone.")]


def test_other_refusals_are_not_the_rows_business(web_app):
    """403 and 404 go to the app's error pages (the service raised them)."""
    spy = Spy()
    with pytest.raises(NotAllowed):
        act(web_app, spy, spy.service(error=NotAllowed()), htmx=True)


# ------------------------------------------------------------------- confirmation ---
def ask(thing):
    return f"Remove {thing.name}?"


def test_without_javascript_a_destructive_action_asks_first(web_app):
    spy = Spy()
    response, _ = act(
        web_app, spy, spy.service(), form={"role": "viewer"}, confirm=ask, may=lambda t: t.may
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and spy.calls == []  # nothing done yet
    assert "Remove Ana?" in html
    assert 'action="/things/1/change"' in html and 'href="/things"' in html
    assert 'name="confirmed" value="1"' in html
    assert 'name="role" value="viewer"' in html  # the form is posted again as it was


def test_once_confirmed_it_is_done(web_app):
    spy = Spy()
    response, _ = act(web_app, spy, spy.service(), form={"confirmed": "1"}, confirm=ask)
    assert response.status_code == 302 and spy.calls == ["service"]


def test_htmx_asked_already(web_app):
    """hx-confirm asked in the browser: the request is the confirmation."""
    spy = Spy()
    response, _ = act(web_app, spy, spy.service(), htmx=True, confirm=ask)
    assert response.status_code == 200 and spy.calls == ["service"]


@pytest.mark.parametrize("now", [Thing(1, "Ana", may=False), None], ids=["may-not", "gone"])
def test_only_someone_who_may_act_is_asked(web_app, now):
    """Someone who may not act, or a row that is gone, gets the service's answer at once."""
    spy = Spy(now=now)
    error = NotAllowed() if now else Invalid("It is gone.")
    if now:
        with pytest.raises(NotAllowed):
            act(web_app, spy, spy.service(error=error), confirm=ask, may=lambda t: t.may)
    else:
        response, _ = act(web_app, spy, spy.service(error=error), confirm=ask)
        assert response.status_code == 302
    assert spy.calls == ["service"]


# ----------------------------------------------------------------------- helpers ---
def test_done_is_the_partial_for_htmx_or_a_flash_and_redirect(web_app):
    with web_app.test_request_context("/x", method="POST", headers=HTMX):
        assert web.done("Saved.", "/back", lambda: ("the piece", 200)) == ("the piece", 200)
    with web_app.test_request_context("/x", method="POST"):
        response = web.done("Saved.", "/back", lambda: ("the piece", 200))
        assert response.status_code == 302 and response.headers["Location"] == "/back"
        assert get_flashed_messages(with_categories=True) == [("success", "Saved.")]


def test_form_error_puts_the_message_by_its_field_or_above_the_form(web_app):
    from flask_wtf import FlaskForm
    from wtforms import StringField

    class Form(FlaskForm):
        class Meta:
            csrf = False

        email = StringField()

    with web_app.test_request_context("/x", method="POST"):
        form = Form()
        web.form_error(form, Invalid("Taken.", field="email"))
        web.form_error(form, Invalid("Try later.", field="no_such_field"))
        web.form_error(form, Invalid("Something else."))
        assert form.email.errors == ["Taken."]
        assert form.form_errors == ["Try later.", "Something else."]


def test_page_size_and_client_ip(web_app):
    with web_app.test_request_context("/x", environ_base={"REMOTE_ADDR": "203.0.113.7"}):
        assert web.client_ip() == "203.0.113.7"
        assert web.page_size("NO_SUCH_SETTING", 25) == 25
        web_app.config["THINGS_PAGE_SIZE"] = "7"
        assert web.page_size("THINGS_PAGE_SIZE", 25) == 7
        del web_app.config["THINGS_PAGE_SIZE"]
