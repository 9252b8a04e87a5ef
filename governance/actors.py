"""Who is acting right now, for events written where no caller passes an actor (model signals).

Identity changes are logged from model signals so that every path is covered: the API, the
console, Django admin, a management command and the ORM in a shell. A signal receiver cannot be
told who made the change, so the path says it here:

- a web request (console, admin, API) is wrapped by `ActorMiddleware`, which points at the
  request; its user is read when an event is written, after DRF has authenticated a token;
- a service that acts for a named person wraps its writes in `acting_as(user, via)`;
- otherwise the process marker: `command:<name>` for `manage.py <name>`, `shell` for
  `manage.py shell`, else `system`, with the operating-system account in the event's data.
"""

from __future__ import annotations

import contextlib
import contextvars
import getpass
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest, HttpResponse


@dataclass(frozen=True)
class Actor:
    """Who did it: `label` goes into the leaf's actor, `via` names the path, `user` when a person."""

    label: str
    via: str
    user: AbstractBaseUser | None = None


_acting: contextvars.ContextVar[Actor | None] = contextvars.ContextVar("governance_actor", default=None)
_request: contextvars.ContextVar[HttpRequest | None] = contextvars.ContextVar("governance_request", default=None)


def user_label(user: AbstractBaseUser) -> str:
    return f"user:{user.get_username()}"


@contextlib.contextmanager
def acting_as(user: AbstractBaseUser | None, via: str, *, label: str | None = None) -> Iterator[Actor]:
    """Attribute every identity event written inside the block to `user` (or `label`) via `via`."""
    actor = Actor(label or (user_label(user) if user is not None else process_actor().label), via, user)
    token = _acting.set(actor)
    try:
        yield actor
    finally:
        _acting.reset(token)


def command(name: str) -> contextlib.AbstractContextManager[Actor]:
    """Attribute identity events inside the block to the management command `name`."""
    return acting_as(None, "command", label=f"command:{name}")


def acting_for(user: AbstractBaseUser | None, via: str) -> contextlib.AbstractContextManager[Actor | None]:
    """`acting_as(user, via)` for a named person; for None, keep whoever is already acting."""
    return acting_as(user, via) if user is not None else contextlib.nullcontext()


def _request_path(request: HttpRequest) -> str:
    path = request.path_info
    if path.startswith("/admin/"):
        return "admin"
    if path.startswith("/api/") or path.startswith("/api-auth/"):
        return "api"
    return "console"


def process_actor() -> Actor:
    """Return the marker for work done outside a request: the command or the shell."""
    argv = sys.argv
    program = os.path.basename(argv[0]) if argv else ""
    if program in {"manage.py", "django-admin"} and len(argv) > 1:
        name = argv[1]
        if name == "shell":
            return Actor("shell", "shell")
        return Actor(f"command:{name}"[:200], "command")
    return Actor("system", "system")


def os_account() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in containers without a passwd entry
        return str(os.getuid()) if hasattr(os, "getuid") else "unknown"


def current() -> Actor:
    """Return who is acting: the innermost `acting_as`, else the request's user, else the process."""
    actor = _acting.get()
    if actor is not None:
        return actor
    request = _request.get()
    if request is not None:
        user = getattr(request, "user", None)
        via = _request_path(request)
        if user is not None and user.is_authenticated:
            return Actor(user_label(user), via, user)
        return Actor("anonymous", via)
    return process_actor()


class ActorMiddleware:
    """Make the current request the source of "who" for identity events written while it runs."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _request.set(request)
        try:
            return self.get_response(request)
        finally:
            _request.reset(token)
