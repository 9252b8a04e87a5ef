"""API tokens (django-rest-knox): issued to a person or service account, revoked by its holder
or an administrator. Each issue and revocation is a ledger event (written by the token signals)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from knox.models import AuthToken

from governance import access, actors
from governance.errors import Forbidden, InvalidInput, NotVisible
from governance.models import TokenProfile
from governance.services.identity import events, rules

MAX_TOKEN_DAYS = 366
MAX_NAME_LENGTH = 100
# A token's last use is written at most once a minute: a pipeline posting decision batches in a
# loop would otherwise write a row per request, and "last used" is read in minutes anyway.
TOKEN_USE_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class IssuedToken:
    """The token itself (shown once, never stored) and its public name."""

    token: str
    token_id: str
    user: str
    expires_at: datetime | None


@dataclass(frozen=True)
class Revoked:
    """How many tokens were revoked, and their public names."""

    token_ids: list[str]


def is_admin(user: AbstractBaseUser | None) -> bool:
    """Whether `user` manages people, and so anyone's tokens (governance.access)."""
    return access.can(user, "manage_people")


@transaction.atomic
def token_issue(
    *,
    actor: AbstractBaseUser | None,
    user: AbstractBaseUser,
    days: int | None = None,
    name: str = "",
    via: str = "api",
) -> IssuedToken:
    """Issue a token named `name` for `user` (to oneself, or by an admin to anyone active); log
    `token.issued` with its name.

    People holding the `tokens` right issue their own; administrators issue them for anyone (a
    pipeline's, say). `actor` None means the operator at a command (see `actors.command`). Raise
    Forbidden or InvalidInput.
    """
    if actor is not None and actor.pk != user.pk and not is_admin(actor):
        raise Forbidden("Only administrators issue tokens for other people.")
    if actor is not None and actor.pk == user.pk and not is_admin(actor):
        access.require(actor, "tokens")
    if not user.is_active:
        raise InvalidInput(f"{user.get_username()} is deactivated; tokens are for active users.")
    if days is not None and not (isinstance(days, int) and 1 <= days <= MAX_TOKEN_DAYS):
        raise InvalidInput("Bad lifetime.", errors={"days": [f"Between 1 and {MAX_TOKEN_DAYS} days."]})
    name = name.strip()
    # Printable text only: no control, format (bidirectional overrides) or separator characters,
    # which would make the name read differently from what the token.issued entry holds.
    if len(name) > MAX_NAME_LENGTH or not name.isprintable():
        raise InvalidInput("Bad name.", errors={"name": [f"At most {MAX_NAME_LENGTH} printable characters."]})
    expiry = timedelta(days=days) if days else settings.REST_KNOX["TOKEN_TTL"]
    with actors.acting_for(actor, via), events.token_named(name):
        instance, token = AuthToken.objects.create(user=user, expiry=expiry)
    return IssuedToken(token, events.token_id(instance.digest), user.get_username(), instance.expiry)


def token_profile_create(token: AuthToken) -> None:
    """Give a newly created token its profile, named as `events.token_named` says (any path)."""
    TokenProfile.objects.create(token=token, name=events.token_name())


def token_used(token: AuthToken, *, seen: datetime | None = None) -> None:
    """Record that `token` authenticated a request now (at most once per TOKEN_USE_RESOLUTION).

    One conditional UPDATE: concurrent requests race harmlessly, the later time wins or the row
    is already fresh. `seen` is the last use read with the token for this request, if the
    caller has it: when that is fresh already, no statement is sent at all.
    """
    now = timezone.now()
    if seen is not None and seen >= now - TOKEN_USE_RESOLUTION:
        return
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - TOKEN_USE_RESOLUTION)
    TokenProfile.objects.filter(stale, token_id=token.pk).update(last_used_at=now)


def _visible_tokens(actor: AbstractBaseUser | None):
    tokens = AuthToken.objects.select_related("user", "profile")
    if actor is None or is_admin(actor):
        return tokens
    return tokens.filter(user=actor)


@transaction.atomic
def token_revoke(
    *,
    actor: AbstractBaseUser | None,
    token_id: str | None = None,
    current_digest: str | None = None,
    user: AbstractBaseUser | None = None,
    via: str = "api",
) -> Revoked:
    """Revoke one token by its public id, the caller's current token, or every token of `user`.

    People revoke their own tokens; administrators (and the operator at a command, `actor` None)
    any. A token the caller may not revoke is reported as not found. Raise InvalidInput,
    NotVisible or Forbidden.
    """
    if sum(x is not None for x in (token_id, current_digest, user)) != 1:
        raise InvalidInput("Name one token, or a user whose tokens to revoke.")
    with actors.acting_for(actor, via), events.token_revocation_reason("revoked"):
        if user is not None:
            if actor is not None and actor.pk != user.pk and not is_admin(actor):
                raise Forbidden("Only administrators revoke other people's tokens.")
            ids = [events.token_id(t.digest) for t in AuthToken.objects.filter(user=user)]
            rules.tokens_revoke_all(user, reason="revoked")
            return Revoked(ids)
        if current_digest is not None:
            token = AuthToken.objects.filter(digest=current_digest).first()
        else:
            token = next((t for t in _visible_tokens(actor) if events.token_id(t.digest) == token_id), None)
        if token is None:
            raise NotVisible("No such token.")
        if actor is not None and token.user_id != actor.pk and not is_admin(actor):
            raise NotVisible("No such token.")
        ident = events.token_id(token.digest)
        token.delete()
        return Revoked([ident])


def _profile(token: AuthToken) -> TokenProfile | None:
    try:
        return token.profile
    except TokenProfile.DoesNotExist:
        return None


def token_list(actor: AbstractBaseUser, *, own: bool = False) -> list[dict[str, object]]:
    """Return the tokens the caller may see (their own; all for administrators unless `own`),
    newest first, with each one's name and last use."""
    visible = _visible_tokens(actor)
    if own:
        visible = visible.filter(user=actor)
    rows = []
    for t in visible.order_by("-created"):
        profile = _profile(t)
        rows.append(
            {
                "token_id": events.token_id(t.digest),
                "name": profile.name if profile else "",
                "user": t.user.get_username(),
                "created_at": t.created,
                "expires_at": t.expiry,
                "last_used_at": profile.last_used_at if profile else None,
            }
        )
    return rows
