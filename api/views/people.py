"""People and roles: users, role grants and revocations, and two-person officer proposals.

Administrators and compliance officers read; administrators write; officers confirm officer
proposals. Every change is a ledger event (user.*, role.*, password.changed, token.revoked).
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from api.pagination import Pagination
from api.serializers.identity import (
    PasswordInSerializer,
    PrivilegesInSerializer,
    ReasonInSerializer,
    RoleGrantOutSerializer,
    RoleInSerializer,
    UserInSerializer,
    UserOutSerializer,
)
from api.views.base import GovernanceListView, GovernanceView
from governance import access, selectors
from governance.errors import NotVisible
from governance.roles import Role
from governance.services.identity import officers, users


def user_out(user) -> dict:
    data = {field: getattr(user, field) for field in UserOutSerializer().fields if field != "roles"}
    data["roles"] = sorted(g.name for g in user.groups.all() if g.name in Role.values)
    return UserOutSerializer(data).data


def _target(request: Request, username: str):
    """The user named in the path: anyone may name themselves, administrators and officers anyone."""
    if username == request.user.get_username():
        return request.user
    return selectors.user_get(request.user, username)


class UserListView(GovernanceView):
    pagination_class = Pagination  # so the schema describes the paginated answer

    @extend_schema(summary="People and their roles (administrators, officers)", responses=UserOutSerializer(many=True))
    def get(self, request: Request) -> Response:
        paginator = Pagination()
        page = paginator.paginate_queryset(selectors.user_list(request.user), request, view=self)
        return paginator.get_paginated_response([user_out(user) for user in page])

    @extend_schema(
        summary="Create a user (administrators)", request=UserInSerializer, responses={201: UserOutSerializer}
    )
    def post(self, request: Request) -> Response:
        access.require(request.user, "manage_people")  # before the body is read
        fields = self.parse(UserInSerializer)
        user = users.user_create(actor=request.user, **fields)
        return Response(user_out(user), status=status.HTTP_201_CREATED)


class UserDetailView(GovernanceView):
    @extend_schema(summary="One person", responses=UserOutSerializer)
    def get(self, request: Request, username: str) -> Response:
        return Response(user_out(_target(request, username)))


class UserActiveView(GovernanceView):
    active = True

    @extend_schema(
        summary="Deactivate or reactivate a user (administrators)", request=None, responses=UserOutSerializer
    )
    def post(self, request: Request, username: str) -> Response:
        user = _target(request, username)
        users.user_set_active(actor=request.user, user=user, active=self.active)
        return Response(user_out(user))


class UserRoleView(GovernanceView):
    grant = True

    @extend_schema(
        summary="Grant or revoke a role (administrators); granting compliance_officer opens a proposal",
        request=RoleInSerializer,
        responses={200: UserOutSerializer, 202: RoleGrantOutSerializer},
    )
    def post(self, request: Request, username: str) -> Response:
        user = _target(request, username)
        access.require(request.user, "manage_people")
        fields = self.parse(RoleInSerializer)
        if self.grant and fields["role"] == Role.COMPLIANCE_OFFICER:
            proposal = officers.officer_propose(actor=request.user, grantee=user, reason=fields["reason"])
            return Response(RoleGrantOutSerializer(proposal).data, status=status.HTTP_202_ACCEPTED)
        change = users.role_grant if self.grant else users.role_revoke
        change(actor=request.user, user=user, role=fields["role"])
        return Response(user_out(user))


class UserPrivilegesView(GovernanceView):
    @extend_schema(
        summary="Set or clear staff and superuser status (superusers)",
        request=PrivilegesInSerializer,
        responses=UserOutSerializer,
    )
    def post(self, request: Request, username: str) -> Response:
        user = _target(request, username)
        access.require(request.user, "manage_people")
        fields = self.parse(PrivilegesInSerializer)
        users.privileges_set(actor=request.user, user=user, **fields)
        return Response(user_out(user))


class UserPasswordView(GovernanceView):
    @extend_schema(
        summary="Change your password, or reset someone's (administrators); revokes their API tokens",
        request=PasswordInSerializer,
        responses={204: None},
    )
    def post(self, request: Request, username: str) -> Response:
        if username != request.user.get_username() and not access.can(request.user, "manage_people"):
            raise NotVisible("No such user.")
        user = _target(request, username)
        fields = self.parse(PasswordInSerializer)
        users.password_change(actor=request.user, user=user, **fields)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RoleGrantListView(GovernanceListView):
    @extend_schema(
        summary="Compliance officer grants and open proposals (administrators, officers)",
        responses=RoleGrantOutSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        state = request.query_params.get("state") or None
        if state is not None and state not in ("proposed", "confirmed", "rejected"):
            raise serializers.ValidationError({"state": ["One of proposed, confirmed, rejected."]})
        return self.paginate(selectors.role_grant_list(request.user, state), RoleGrantOutSerializer)


class RoleGrantDecideView(GovernanceView):
    confirm = True

    @extend_schema(
        summary="Confirm (an officer other than the grantee and proposer) or reject a proposal",
        request=ReasonInSerializer,
        responses=RoleGrantOutSerializer,
    )
    def post(self, request: Request, pk: int) -> Response:
        grant = officers.grant_get(request.user, pk)
        access.require(request.user, "confirm_officer" if self.confirm else "read_people")
        fields = self.parse(ReasonInSerializer)
        if self.confirm:
            grant = officers.officer_confirm(actor=request.user, grant=grant)
        else:
            grant = officers.officer_reject(actor=request.user, grant=grant, reason=fields["reason"])
        return Response(RoleGrantOutSerializer(grant).data)
