"""Bearer tokens (django-rest-knox) that remember when they were last used."""

from __future__ import annotations

import binascii
from hmac import compare_digest
from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from knox.crypto import hash_token
from knox.models import get_token_model
from knox.settings import CONSTANTS, knox_settings
from rest_framework import exceptions

from governance.services.identity import tokens


class TokenAuthentication(KnoxTokenAuthentication):
    """Knox's bearer tokens; a token that authenticates a request records its last use, which
    its holder sees on the console's API tokens page."""

    def authenticate_credentials(self, token: bytes) -> tuple[Any, Any]:
        # Knox 5.1's own lookup, but with the token's profile joined in: a last use already
        # recorded within the resolution then costs no statement (not even an UPDATE that
        # matches no row), so reading with a token writes nothing on most requests.
        msg = _("Invalid token.")
        text = token.decode("utf-8")
        candidates = get_token_model().objects.filter(token_key=text[: CONSTANTS.TOKEN_KEY_LENGTH])
        for auth_token in candidates.select_related("user", "profile"):
            if self._cleanup_token(auth_token):
                continue
            try:
                digest = hash_token(text)
            except (TypeError, binascii.Error):
                raise exceptions.AuthenticationFailed(msg) from None
            if compare_digest(digest, auth_token.digest):
                if knox_settings.AUTO_REFRESH and auth_token.expiry:
                    self.renew_token(auth_token)
                return self.validate_user(auth_token)
        raise exceptions.AuthenticationFailed(msg)

    def validate_user(self, auth_token: Any) -> tuple[Any, Any]:
        user, token = super().validate_user(auth_token)
        profile = getattr(token, "profile", None)  # joined by the lookup: no query
        tokens.token_used(token, seen=profile.last_used_at if profile else None)
        return user, token


class TokenScheme(KnoxTokenScheme):
    """The schema's bearer scheme for these tokens (drf-spectacular's knox scheme, same name)."""

    target_class = "api.authentication.TokenAuthentication"
