"""People and roles (administrators and officers), and one's own account: the password.

Every change goes through governance.services.identity and is a ledger event.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from console.auth import console_page
from governance import access, selectors
from governance.errors import Conflict, Forbidden, InvalidInput
from governance.roles import Role
from governance.services.identity import officers, users

VIA = "console"


def _done(request: HttpRequest, action, success: str, to: str = "console:people") -> HttpResponse:
    """Run `action()`; show its refusal or `success` as a message; go back to the page."""
    try:
        action()
    except (Conflict, InvalidInput, Forbidden) as exc:
        problems = [message for messages_ in exc.errors.values() for message in messages_ if isinstance(message, str)]
        messages.error(request, " ".join([exc.message, *problems]))
    else:
        messages.success(request, success)
    return redirect(to)


@console_page
@require_GET
def people(request: HttpRequest) -> HttpResponse:
    rows = [
        (person, sorted(g.name for g in person.groups.all() if g.name in Role.values))
        for person in selectors.user_list(request.user)
    ]
    context = {
        "rows": rows,
        "proposals": selectors.role_grant_list(request.user, "proposed"),
        "roles": Role.choices,
        "is_admin": access.can(request.user, "manage_people"),
        "is_officer": officers.is_officer(request.user),
    }
    return render(request, "console/people.html", context)


@console_page
@require_POST
def person_create(request: HttpRequest) -> HttpResponse:
    roles = [role for role in request.POST.getlist("roles") if role]
    password = request.POST.get("password") or None
    username = request.POST.get("username", "")
    return _done(
        request,
        lambda: users.user_create(
            actor=request.user,
            username=username,
            first_name=request.POST.get("first_name", ""),
            last_name=request.POST.get("last_name", ""),
            email=request.POST.get("email", ""),
            password=password,
            roles=roles,
            via=VIA,
        ),
        f"Created {username}.",
    )


@console_page
@require_POST
def person_change(request: HttpRequest, username: str, action: str) -> HttpResponse:
    person = selectors.user_get(request.user, username)
    role = request.POST.get("role", "")
    reason = request.POST.get("reason", "")
    if action in ("deactivate", "reactivate"):
        act = lambda: users.user_set_active(  # noqa: E731
            actor=request.user, user=person, active=action == "reactivate", via=VIA
        )
        return _done(request, act, f"{username}: {action}d.")
    if action == "grant" and role == Role.COMPLIANCE_OFFICER:
        act = lambda: officers.officer_propose(actor=request.user, grantee=person, reason=reason, via=VIA)  # noqa: E731
        return _done(request, act, f"Proposed {username} as compliance officer; another officer must confirm.")
    if action == "privileges":
        flags = {name: request.POST.get(name) == "on" for name in ("is_staff", "is_superuser")}
        act = lambda: users.privileges_set(actor=request.user, user=person, via=VIA, **flags)  # noqa: E731
        return _done(request, act, f"{username}: staff and superuser status set.")
    if action in ("grant", "revoke"):
        change = users.role_grant if action == "grant" else users.role_revoke
        return _done(
            request,
            lambda: change(actor=request.user, user=person, role=role, via=VIA),
            f"{username}: {role} {action}ed.",
        )
    return render(request, "console/error.html", {"title": "Not found", "message": "No such action."}, status=404)


@console_page
@require_POST
def proposal_decide(request: HttpRequest, pk: int, decision: str) -> HttpResponse:
    grant = officers.grant_get(request.user, pk)
    if decision not in ("confirm", "reject"):
        return render(request, "console/error.html", {"title": "Not found", "message": "No such action."}, status=404)
    if decision == "confirm":
        act = lambda: officers.officer_confirm(actor=request.user, grant=grant, via=VIA)  # noqa: E731
    else:
        reason = request.POST.get("reason", "")
        act = lambda: officers.officer_reject(actor=request.user, grant=grant, reason=reason, via=VIA)  # noqa: E731
    return _done(request, act, f"Proposal for {grant.grantee.get_username()} {decision}ed.")


@console_page
@require_http_methods(["GET", "POST"])
def account(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _done(
            request,
            lambda: users.password_change(
                actor=request.user,
                user=request.user,
                current_password=request.POST.get("current_password", ""),
                new_password=request.POST.get("new_password", ""),
                via=VIA,
            ),
            "Password changed; your API tokens were revoked.",
            to="console:account",
        )
    return render(request, "console/account.html")
