"""Bearer tokens (django-rest-knox) that remember when they were last used."""

from __future__ import annotations

from typing import Any

from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox.auth import TokenAuthentication as KnoxTokenAuthentication

from governance.services.identity import tokens


class TokenAuthentication(KnoxTokenAuthentication):
    """Knox's bearer tokens; a token that authenticates a request records its last use, which
    its holder sees on the console's API tokens page."""

    def validate_user(self, auth_token: Any) -> tuple[Any, Any]:
        user, token = super().validate_user(auth_token)
        tokens.token_used(token)
        return user, token


class TokenScheme(KnoxTokenScheme):
    """The schema's bearer scheme for these tokens (drf-spectacular's knox scheme, same name)."""

    target_class = "api.authentication.TokenAuthentication"
