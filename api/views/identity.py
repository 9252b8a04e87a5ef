"""API tokens: issue, list, revoke (each a ledger event)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema, inline_serializer
from knox.models import AuthToken
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from api.serializers.identity import (
    TokenIssuedSerializer,
    TokenIssueInSerializer,
    TokenOutSerializer,
    TokenRevokedSerializer,
    TokenRevokeInSerializer,
)
from api.views.base import GovernanceView
from governance.errors import InvalidInput, NotVisible
from governance.services.identity import tokens


def _user_named(request: Request, username: str):
    """Return the named user; 404 for anyone but administrators asking about someone else."""
    if username != request.user.get_username() and not tokens.is_admin(request.user):
        raise NotVisible("No such user.")
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise NotVisible("No such user.")
    return user


class TokenListView(GovernanceView):
    @extend_schema(
        summary="Your API tokens (all, for administrators)",
        responses=inline_serializer("TokenList", {"results": TokenOutSerializer(many=True)}),
    )
    def get(self, request: Request) -> Response:
        return Response({"results": TokenOutSerializer(tokens.token_list(request.user), many=True).data})

    @extend_schema(
        summary="Issue an API token (for yourself, or by an administrator for anyone)",
        request=TokenIssueInSerializer,
        responses={201: TokenIssuedSerializer},
    )
    def post(self, request: Request) -> Response:
        self.authorize("tokens")  # administrators hold it too; pipelines get theirs from one
        fields = self.parse(TokenIssueInSerializer)
        user = _user_named(request, fields["user"]) if "user" in fields else request.user
        issued = tokens.token_issue(
            actor=request.user, user=user, days=fields.get("days"), name=fields.get("name", "")
        )
        return Response(TokenIssuedSerializer(issued).data, status=status.HTTP_201_CREATED)


class TokenRevokeView(GovernanceView):
    @extend_schema(
        summary="Revoke an API token: the one in use, one by id, or every token of a user (administrators)",
        request=TokenRevokeInSerializer,
        responses=TokenRevokedSerializer,
    )
    def post(self, request: Request) -> Response:
        fields = self.parse(TokenRevokeInSerializer)
        if "user" in fields:
            revoked = tokens.token_revoke(actor=request.user, user=_user_named(request, fields["user"]))
        elif "token_id" in fields:
            revoked = tokens.token_revoke(actor=request.user, token_id=fields["token_id"])
        elif isinstance(request.auth, AuthToken):
            revoked = tokens.token_revoke(actor=request.user, current_digest=request.auth.digest)
        else:
            raise InvalidInput(
                "This request carries no API token to revoke; name one with token_id.",
                errors={"token_id": ["Required when signed in with a session."]},
            )
        return Response(TokenRevokedSerializer({"revoked": revoked.token_ids}).data, status=status.HTTP_200_OK)
