"""Sign-in throttling: ten wrong passwords within fifteen minutes lock a username, or an
address, out of every sign-in form and of the e-signature's password re-entry."""

from __future__ import annotations

import logging

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client

from governance.models import Approval
from tests.api.factories import PASSWORD
from tests.api.test_signature_lockout import lockout_events

pytestmark = pytest.mark.django_db

FORMS = {
    "console": "/",
    "admin": "/admin/login/",
    "API browser": "/api-auth/login/",
}
V110 = "/models/credit-risk/versions/1.1.0"


def _fail(client: Client, url: str, username: str, times: int, **extra: str):
    response = None
    for _ in range(times):
        response = client.post(url, {"username": username, "password": "wrong"}, **extra)
    return response


@pytest.mark.parametrize("form", FORMS)
def test_ten_wrong_passwords_lock_the_username_out_and_the_right_one_is_refused(form, people):
    url, client = FORMS[form], Client()
    assert _fail(client, url, "admin", 9).status_code == 200
    locked = _fail(client, url, "admin", 1)
    assert locked.status_code == 429
    assert "Try again after" in locked.content.decode()
    assert int(locked["Retry-After"]) == 15 * 60
    response = Client(REMOTE_ADDR="10.0.0.9").post(url, {"username": "admin", "password": PASSWORD})
    assert response.status_code == 429
    assert SESSION_KEY not in client.session
    assert lockout_events() == ["user:admin"]


def test_nine_failures_leave_the_right_password_working(people):
    client = Client()
    _fail(client, "/", "officer-1", 9)
    assert client.post("/", {"username": "officer-1", "password": PASSWORD}).status_code == 302
    assert lockout_events() == []


def test_ten_failures_from_one_address_lock_that_address_for_every_username(people):
    for n in range(10):
        Client(REMOTE_ADDR="192.0.2.7").post("/", {"username": f"guess-{n}", "password": "wrong"})
    response = Client(REMOTE_ADDR="192.0.2.7").post("/", {"username": "auditor", "password": PASSWORD})
    assert response.status_code == 429
    # Someone elsewhere still signs in as that person.
    assert Client(REMOTE_ADDR="192.0.2.8").post("/", {"username": "auditor", "password": PASSWORD}).status_code == 302
    # A name that is no account stays out of the ledger.
    assert lockout_events() == ["signin"]


def test_the_limit_is_a_setting(people, settings):
    settings.AXES_FAILURE_LIMIT = 3
    assert _fail(Client(), "/", "auditor", 3).status_code == 429


def test_lockouts_and_failures_are_logged(people, caplog):
    with caplog.at_level(logging.INFO):
        _fail(Client(), "/", "auditor", 10)
    text = caplog.text
    assert "AXES: New login failure" in text
    assert "Sign-in locked out until" in text and "'auditor'" in text


def test_wrong_signature_passwords_lock_the_console_signature(world, client_for):
    officer = client_for("officer_1")
    preview = officer.get(f"{V110}/sign").context["form"].initial
    body = {"meaning": "approved", "reason": "Reviewed.", "password": "wrong", **preview}
    body = {key: value for key, value in body.items() if value is not None}
    for _ in range(9):
        assert officer.post(f"{V110}/sign", body).status_code == 400
    locked = officer.post(f"{V110}/sign", body)
    assert locked.status_code == 429
    assert "Try again after" in locked.content.decode()
    assert officer.post(f"{V110}/sign", {**body, "password": PASSWORD}).status_code == 429
    assert not Approval.objects.filter(version=world.v110).exists()
    assert lockout_events() == ["user:officer-1"]
    # The same counters guard sign-in: the locked-out officer cannot sign in elsewhere either.
    assert Client().post("/", {"username": "officer-1", "password": PASSWORD}).status_code == 429


def test_a_forged_forwarded_address_does_not_escape_the_address_lockout(people):
    for n in range(10):
        Client(REMOTE_ADDR="192.0.2.7").post(
            "/", {"username": f"guess-{n}", "password": "wrong"}, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}"
        )
    response = Client(REMOTE_ADDR="192.0.2.7").post(
        "/", {"username": "auditor", "password": PASSWORD}, HTTP_X_FORWARDED_FOR="203.0.113.99"
    )
    assert response.status_code == 429
