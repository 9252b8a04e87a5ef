"""API tokens for people: issue one (named, expiring, shown once), see one's tokens and their
last use, revoke them. Each issue and revocation is a ledger event (governance.services.identity)."""

from __future__ import annotations

from datetime import UTC

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from console.auth import console_page
from console.forms import TokenForm
from governance import access
from governance.errors import Conflict, Forbidden, InvalidInput
from governance.services.identity import tokens

VIA = "console"
# The session key holding a just-issued token until the page after the redirect shows it.
ISSUED = "console_issued_token"


def _page(request: HttpRequest, form: TokenForm, issued: dict | None = None, status: int = 200) -> HttpResponse:
    context = {"form": form, "issued": issued, "tokens": tokens.token_list(request.user, own=True)}
    response = render(request, "console/tokens.html", context, status=status)
    if issued:
        response["Cache-Control"] = "no-store"  # the token is in this page; keep it out of caches
    return response


@console_page
@require_http_methods(["GET", "POST"])
def token_page(request: HttpRequest) -> HttpResponse:
    """GET: one's tokens. POST: issue one, then redirect (so a reload never issues another); the
    page after the redirect shows the token once, taking it out of the server-side session."""
    access.require(request.user, "tokens")
    if request.method == "GET":
        return _page(request, TokenForm(), issued=request.session.pop(ISSUED, None))
    form = TokenForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=400)
    try:
        issued = tokens.token_issue(
            actor=request.user,
            user=request.user,
            name=form.cleaned_data["name"],
            days=int(form.cleaned_data["days"]),
            via=VIA,
        )
    except (Conflict, InvalidInput) as exc:
        for field, problems in exc.errors.items():
            if field in form.fields:
                form.add_error(field, [str(p) for p in problems])
        form.add_error(None, exc.message)
        return _page(request, form, status=400)
    request.session[ISSUED] = {
        "token": issued.token,
        "token_id": issued.token_id,
        "name": form.cleaned_data["name"],
        "expires_at": issued.expires_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if issued.expires_at else "",
    }
    return redirect("console:tokens")


@console_page
@require_POST
def token_revoke(request: HttpRequest, token_id: str) -> HttpResponse:
    try:
        revoked = tokens.token_revoke(actor=request.user, token_id=token_id, via=VIA)
    except (InvalidInput, Forbidden) as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Token {revoked.token_ids[0]} revoked; it no longer authenticates.")
    return redirect("console:tokens")
