"""Bearer tokens (django-rest-knox) that remember when they were last used."""

from __future__ import annotations

from typing import Any

from knox.auth import TokenAuthentication as KnoxTokenAuthentication

from governance.services.identity import tokens


class TokenAuthentication(KnoxTokenAuthentication):
    """Knox's bearer tokens; a token that authenticates a request records its last use, which
    its holder sees on the console's API tokens page."""

    def validate_user(self, auth_token: Any) -> tuple[Any, Any]:
        user, token = super().validate_user(auth_token)
        tokens.token_used(token)
        return user, token
