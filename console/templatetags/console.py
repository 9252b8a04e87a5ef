"""Small presentation helpers: status tones for badges, short hashes, the nav section."""

from __future__ import annotations

from django import template

from governance import access
from governance.roles import role_title
from governance.validation import WEB_URL_RE

register = template.Library()

TONES = {
    "ok": {"pass", "passed", "approved", "deployed", "ready", "resolved", "verified", "confirm"},
    "bad": {"fail", "failed", "rejected", "open", "removed", "rollback", "alert", "reverse"},
    "warn": {"waived", "in_review", "pending", "acknowledged", "changed", "override", "escalate", "retraining"},
    "info": {"registered", "added", "reviewed", "risk_accepted", "version", "deployment", "status"},
}
SECTIONS = {
    "queue": "queue",
    "models": "models",
    "model": "models",
    "compare": "models",
    "version": "models",
    "sign": "models",
    "approval": "models",
    "decisions": "decisions",
    "decision": "decisions",
    "alerts": "alerts",
    "reports": "reports",
    "ledger": "ledger",
    "ledger-offline": "ledger",
    "verify": "ledger",
    "people": "people",
    "tokens": "tokens",
}


@register.filter
def tone(value: object) -> str:
    """Return the badge class for a status, state or outcome."""
    if value is True:
        return "badge-ok"
    if value is False:
        return "badge-bad"
    for name, values in TONES.items():
        if str(value) in values:
            return f"badge-{name}"
    return "badge-muted"


@register.filter
def short(value: object, length: int = 12) -> str:
    """The first characters of a hash, for tables (the full value goes in a title)."""
    text = str(value or "")
    return text if len(text) <= length else f"{text[:length]}…"


@register.filter
def section(url_name: str | None) -> str:
    return SECTIONS.get(url_name or "", "")


@register.filter
def sees_people(user: object) -> bool:
    """Whether the People page is for this user (administrators and compliance officers)."""
    return access.can(user, "read_people")


@register.simple_tag
def role_of(user: object) -> str:
    return role_title(user) if getattr(user, "is_authenticated", False) else ""


@register.filter
def web_link(value: object) -> bool:
    """Return whether `value` is an http(s) URL, the only kind the console renders as a link."""
    return isinstance(value, str) and WEB_URL_RE.fullmatch(value) is not None


@register.simple_tag
def may(user: object, action: str, obj: object = None) -> bool:
    """Return whether `user` may do `action` (on `obj`): governance.access decides what is offered."""
    from governance import access

    return bool(getattr(user, "is_authenticated", False)) and access.can(user, action, obj)
