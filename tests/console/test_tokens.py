"""The API tokens page: people issue named, expiring tokens shown once, see their last use and
revoke them; each issue and revocation is a ledger event; pipelines and strangers get nothing."""

from __future__ import annotations

import re
from datetime import timedelta

from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from governance.models import TokenProfile
from governance.services.identity import tokens
from governance.services.identity.events import token_id
from tests.identity import logged


def issue(client, name: str = "nightly validation", days: str = "30"):
    return client.post("/account/tokens", {"name": name, "days": days}, follow=True)


def shown_token(response) -> str:
    match = re.search(r'id="issued-token-value"[^>]*value="([^"]+)"', response.content.decode())
    assert match, response.content.decode()
    return match.group(1)


def test_an_owner_issues_a_named_token_that_is_shown_once_and_works(people, client_for):
    client = client_for("owner")
    response = issue(client)
    assert response.redirect_chain == [("/account/tokens", 302)]  # a reload does not issue another
    assert response["Cache-Control"] == "no-store"
    token = shown_token(response)
    instance = AuthToken.objects.get(user=people["owner"])
    assert instance.expiry - timezone.now() <= timedelta(days=30)
    assert instance.expiry - timezone.now() > timedelta(days=29)
    assert token not in client.get("/account/tokens").content.decode()  # shown once, never again
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api.get("/api/v1/me").status_code == 200
    (leaf,) = logged("token.issued", user="owner")
    assert leaf["data"]["name"] == "nightly validation" and leaf["data"]["via"] == "console"
    assert leaf["data"]["token_id"] == token_id(instance.digest)
    assert token not in repr(logged())


def test_the_page_lists_ones_own_tokens_with_their_last_use(people, client_for):
    client = client_for("officer_1")
    token = shown_token(issue(client, name="evidence export"))
    issue(client_for("auditor"), name="someone else's")
    page = client.get("/account/tokens").content.decode()
    assert "evidence export" in page and "someone else" not in page
    assert "never used" in page
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    api.get("/api/v1/models")
    profile = TokenProfile.objects.get(token__user=people["officer_1"])
    assert profile.last_used_at is not None
    assert profile.last_used_at.strftime("%Y-%m-%d %H:%M") in client.get("/account/tokens").content.decode()


def test_a_token_records_its_last_use_at_most_once_a_minute(people):
    instance, _ = AuthToken.objects.create(people["auditor"])
    tokens.token_used(instance)
    first = TokenProfile.objects.get(pk=instance.pk).last_used_at
    tokens.token_used(instance)
    assert TokenProfile.objects.get(pk=instance.pk).last_used_at == first
    TokenProfile.objects.filter(pk=instance.pk).update(last_used_at=first - tokens.TOKEN_USE_RESOLUTION * 2)
    tokens.token_used(instance)
    assert TokenProfile.objects.get(pk=instance.pk).last_used_at > first - tokens.TOKEN_USE_RESOLUTION


def test_revoking_a_token_stops_it_and_is_a_ledger_event(people, client_for):
    client = client_for("owner")
    token = shown_token(issue(client))
    instance = AuthToken.objects.get(user=people["owner"])
    response = client.post(f"/account/tokens/{token_id(instance.digest)}/revoke", follow=True)
    assert "revoked" in response.content.decode()
    assert not AuthToken.objects.filter(user=people["owner"]).exists()
    assert not TokenProfile.objects.exists()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api.get("/api/v1/me").status_code == 401
    (leaf,) = logged("token.revoked", user="owner")
    assert leaf["actor"] == "user:owner" and leaf["data"]["via"] == "console"


def test_nobody_revokes_someone_elses_token_from_the_page(people, client_for):
    theirs, _ = AuthToken.objects.create(people["auditor"])
    response = client_for("owner").post(f"/account/tokens/{token_id(theirs.digest)}/revoke")
    assert response.status_code == 404
    assert AuthToken.objects.filter(pk=theirs.pk).exists()


def test_bad_input_is_refused_next_to_the_field(people, client_for):
    client = client_for("owner")
    for data in ({"name": "", "days": "30"}, {"name": "x", "days": "9999"}, {"name": "x" * 101, "days": "7"}):
        response = client.post("/account/tokens", data)
        assert response.status_code == 400
        assert 'class="errorlist' in response.content.decode()
    assert not AuthToken.objects.exists()


def test_a_name_that_is_not_printable_text_is_refused(people, client_for):
    # A bidirectional override or an invisible separator would make a name shown on this page
    # and in the token.issued entry read differently from what it holds.
    for name in ("ci\u202egnp.exe", "ci\u2066x", "ci\x7f", "c\x85i", "line\u2028break"):
        response = client_for("owner").post("/account/tokens", {"name": name, "days": "7"})
        assert response.status_code == 400, name
        assert "printable" in response.content.decode()
    assert not AuthToken.objects.exists()
    assert (
        client_for("owner").post("/account/tokens", {"name": "Nächtliche Prüfung 夜間", "days": "7"}).status_code
        == 302
    )


def test_forms_on_the_page_carry_a_csrf_token(people, client_for):
    page = client_for("owner").get("/account/tokens").content.decode()
    assert page.count("csrfmiddlewaretoken") == page.count("<form")


def test_the_page_and_its_link_are_for_people_who_hold_the_tokens_right(people, client_for, make_user):
    for who in ("owner", "officer_1", "auditor", "admin"):
        client = client_for(who)
        assert 'href="/account/tokens"' in client.get("/account").content.decode()
        assert client.get("/account/tokens").status_code == 200
    roleless = make_user("roleless")
    client = client_for(roleless)
    assert client.get("/account/tokens").status_code == 403
    assert client.post("/account/tokens", {"name": "x", "days": "7"}).status_code == 403
    assert not AuthToken.objects.exists()
    assert client_for("pipeline_granted").get("/account/tokens").status_code == 403


def test_a_token_issued_through_the_api_carries_its_name(people, client_for):
    response = client_for("auditor").post("/api/v1/tokens", {"name": "ci", "days": 7}, content_type="application/json")
    assert response.status_code == 201
    listed = client_for("auditor").get("/api/v1/tokens").json()["results"]
    assert [(row["name"], row["last_used_at"]) for row in listed] == [("ci", None)]
