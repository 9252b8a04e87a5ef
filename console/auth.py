"""Who may use the console, and how refusals look: every page goes through `console_page`.

People sign in with a password; pipelines (service accounts) use API tokens and are refused
here even when their account has a password. What a person may see or do is decided by the
governance selectors and services the views call; their NotVisible and Forbidden become the
console's 404 and 403 pages (HTML, not the API's JSON).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from governance import access
from governance.errors import Forbidden, NotVisible

PIPELINES_REFUSED = "Pipeline service accounts cannot sign in to the console; they use API tokens."


def is_pipeline_only(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Return whether the user's only role is pipeline (a service account)."""
    return access.is_service_account(user)


def refuse(request: HttpRequest, status: int, message: str) -> HttpResponse:
    titles = {403: "Not allowed", 404: "Not found"}
    return render(
        request,
        "console/error.html",
        {"title": titles.get(status, "Error"), "message": message, "status": status},
        status=status,
    )


def console_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Require a signed-in person; turn NotVisible into 404 and Forbidden into 403."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if is_pipeline_only(request.user):
            return refuse(request, 403, PIPELINES_REFUSED)
        try:
            return view(request, *args, **kwargs)
        except NotVisible as exc:
            return refuse(request, 404, exc.message)
        except Forbidden as exc:
            return refuse(request, 403, exc.message)

    return wrapped
