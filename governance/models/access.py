"""django-guardian's per-model permission rows, as direct foreign keys (fast joins, real FKs).

Only `governance.access` reads or writes these, through guardian's API.
"""

from __future__ import annotations

from django.db import models
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from governance.models.registry import RegisteredModel


class ModelUserObjectPermission(UserObjectPermissionBase):
    """A permission on one registered model held by one user."""

    content_object = models.ForeignKey(RegisteredModel, on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        abstract = False


class ModelGroupObjectPermission(GroupObjectPermissionBase):
    """A permission on one registered model held by a group."""

    content_object = models.ForeignKey(RegisteredModel, on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        abstract = False
