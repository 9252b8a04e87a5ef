"""Who the caller is: their roles, the rights they hold without a model, and per model what they may do."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from api.views.base import GovernanceView
from governance import access, selectors
from governance.roles import roles_of

# The models listed with their rights; a reader of every model sees the first ones by slug.
MAX_MODELS = 200


class WhoAmIView(GovernanceView):
    @extend_schema(
        summary="The caller: username, name, roles, and the actions they may take on each model they see",
        responses=inline_serializer(
            "WhoAmI",
            {
                "username": serializers.CharField(),
                "name": serializers.CharField(),
                "roles": serializers.ListField(child=serializers.CharField()),
                "rights": serializers.ListField(child=serializers.CharField()),
                "models": serializers.ListField(child=serializers.DictField()),
                "models_truncated": serializers.BooleanField(),
            },
        ),
    )
    def get(self, request: Request) -> Response:
        user = request.user
        rights = sorted(name for name, rule in access.RULES.items() if not rule.per_model and access.can(user, name))
        rows = list(selectors.model_list(user).order_by("slug")[: MAX_MODELS + 1])
        offered = access.offers_each(user, rows[:MAX_MODELS])
        models = [{"slug": row.slug, "actions": sorted(offered[row.pk])} for row in rows[:MAX_MODELS]]
        return Response(
            {
                "username": user.get_username(),
                "name": user.get_full_name(),
                "roles": sorted(roles_of(user)),
                "rights": rights,
                "models": models,
                "models_truncated": len(rows) > MAX_MODELS,
            }
        )
