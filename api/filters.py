"""Query filters for list endpoints (django-filter)."""

from __future__ import annotations

import django_filters

from governance.models import Decision, Deployment, ModelVersion, RegisteredModel


class StrictBooleanFilter(django_filters.TypedChoiceFilter):
    """A boolean query parameter that refuses anything but true/false (and 1/0)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        choices = [("true", "true"), ("false", "false"), ("1", "1"), ("0", "0")]
        super().__init__(*args, choices=choices, coerce=lambda value: value in ("true", "1"), **kwargs)


class ModelFilter(django_filters.FilterSet):
    owner = django_filters.CharFilter(field_name="owner__username")

    class Meta:
        model = RegisteredModel
        fields = ["risk_tier", "regulated_use", "owner"]


class VersionFilter(django_filters.FilterSet):
    model = django_filters.CharFilter(field_name="model__slug")
    registered_after = django_filters.IsoDateTimeFilter(field_name="registered_at", lookup_expr="gte")

    class Meta:
        model = ModelVersion
        fields = ["status", "model", "registered_after"]


class DeploymentFilter(django_filters.FilterSet):
    active = StrictBooleanFilter(field_name="ended_at", lookup_expr="isnull")

    class Meta:
        model = Deployment
        fields = ["environment", "active"]


class DecisionFilter(django_filters.FilterSet):
    version = django_filters.CharFilter(field_name="version__version")
    occurred_after = django_filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = django_filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="lt")
    overridden = StrictBooleanFilter()

    class Meta:
        model = Decision
        fields = ["version", "mode", "overridden", "occurred_after", "occurred_before"]
