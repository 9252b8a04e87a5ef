"""Sign-in throttling (django-axes) for every form that takes a password.

Django's sign-in forms (the console's, the admin's, the API browser's) go through
`authenticate`, which django-axes guards: after AXES_FAILURE_LIMIT failures for one username or
from one address within AXES_COOLOFF_TIME, every attempt is refused until the cool-off has passed.
The e-signature's password re-entry does not sign anyone in, so its views ask `locked_out` before
signing and report each wrong password with `failed`; the same counters apply. Each lockout is
logged and becomes a `signin.locked_out` ledger event; attempts refused during a lockout are
logged only, and do not extend it.
"""

from __future__ import annotations

import logging
from datetime import datetime

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_ip_address
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.db.models import Max, Q
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import timezone

from governance.services.signin import signin_lockout_record

logger = logging.getLogger(__name__)

FORMS = (("/admin/", "admin"), ("/api-auth/", "api-auth"), ("/api/", "signature"))


def locked_out(request: HttpRequest, username: str) -> bool:
    """Return whether sign-ins (and signatures) as `username` from this address are refused now."""
    return not AxesProxyHandler.is_allowed(request, {"username": username})


def failed(request: HttpRequest, username: str) -> None:
    """Count a wrong password re-entered to sign, as a failed sign-in of `username`."""
    user_login_failed.send(sender=__name__, credentials={"username": username}, request=request)


def retry_at(request: HttpRequest, username: str | None) -> datetime:
    """When the lockout of `username` or of the request's address ends: a cool-off after the
    failure that locked it (attempts refused during a lockout do not extend it)."""
    address = getattr(request, "axes_ip_address", None) or get_client_ip_address(request)
    locking = (
        AccessAttempt.objects.filter(Q(username=username) | Q(ip_address=address))
        if username
        else (AccessAttempt.objects.filter(ip_address=address))
    )
    last = locking.aggregate(last=Max("attempt_time"))["last"] or timezone.now()
    return last + settings.AXES_COOLOFF_TIME


def lockout_message(until: datetime) -> str:
    minutes = max(1, round(settings.AXES_COOLOFF_TIME.total_seconds() / 60))
    return (
        f"Too many failed sign-ins: sign-in is locked for {minutes} minutes. "
        f"Try again after {until:%Y-%m-%d %H:%M} UTC."
    )


def form_of(request: HttpRequest | None) -> str:
    path = getattr(request, "path", "") or ""
    if path.endswith("/sign") or "/approvals" in path:
        return "signature"
    return next((name for prefix, name in FORMS if path.startswith(prefix)), "console")


@receiver(user_locked_out)
def _record_lockout(
    sender: object, request: HttpRequest | None = None, username: str | None = None, **kwargs: object
) -> None:
    if getattr(request, "axes_failures_since_start", None) is None:
        # An attempt refused during a lockout: django-axes logs it; it is not a new lockout.
        return
    until = retry_at(request, username)
    ip_address = kwargs.get("ip_address") or getattr(request, "axes_ip_address", "")
    logger.warning(
        "Sign-in locked out until %s: username %r from %s (%s)", until, username, ip_address, form_of(request)
    )
    signin_lockout_record(
        username=username or "", form=form_of(request), until=until, failures=settings.AXES_FAILURE_LIMIT
    )
