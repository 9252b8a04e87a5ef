"""Sign-in at the home page, and where each person lands once signed in."""

from __future__ import annotations

from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from console.auth import is_pipeline_only
from console.forms import SignInForm
from governance import access

sign_in = LoginView.as_view(template_name="console/home.html", authentication_form=SignInForm)


def home(request: HttpRequest) -> HttpResponse:
    """Anonymous visitors get the sign-in form; officers land on the review queue, others on
    the models they may read."""
    if request.user.is_authenticated and not is_pipeline_only(request.user):
        return redirect("console:queue" if access.is_officer(request.user) else "console:models")
    return sign_in(request)
