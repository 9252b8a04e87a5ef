"""API tokens (django-rest-knox): issued to a person or service account, revoked by its holder
or an administrator. Each issue and revocation is a ledger event (written by the token signals)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from knox.models import AuthToken

from governance import access, actors
from governance.errors import Forbidden, InvalidInput, NotVisible
from governance.services.identity import events, rules

MAX_TOKEN_DAYS = 366


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
    *, actor: AbstractBaseUser | None, user: AbstractBaseUser, days: int | None = None, via: str = "api"
) -> IssuedToken:
    """Issue a token for `user` (to oneself, or by an admin to anyone active); log `token.issued`.

    `actor` None means the operator at a command (see `actors.command`). Raise Forbidden or InvalidInput.
    """
    if actor is not None and actor.pk != user.pk and not is_admin(actor):
        raise Forbidden("Only administrators issue tokens for other people.")
    if not user.is_active:
        raise InvalidInput(f"{user.get_username()} is deactivated; tokens are for active users.")
    if days is not None and not (isinstance(days, int) and 1 <= days <= MAX_TOKEN_DAYS):
        raise InvalidInput("Bad lifetime.", errors={"days": [f"Between 1 and {MAX_TOKEN_DAYS} days."]})
    expiry = timedelta(days=days) if days else settings.REST_KNOX["TOKEN_TTL"]
    with actors.acting_for(actor, via):
        instance, token = AuthToken.objects.create(user=user, expiry=expiry)
    return IssuedToken(token, events.token_id(instance.digest), user.get_username(), instance.expiry)


def _visible_tokens(actor: AbstractBaseUser | None):
    tokens = AuthToken.objects.select_related("user")
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


def token_list(actor: AbstractBaseUser) -> list[dict[str, object]]:
    """Return the tokens the caller may see (their own; all for administrators), newest first."""
    return [
        {
            "token_id": events.token_id(t.digest),
            "user": t.user.get_username(),
            "created_at": t.created,
            "expires_at": t.expiry,
        }
        for t in _visible_tokens(actor).order_by("-created")
    ]
