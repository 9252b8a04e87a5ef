"""Shared field helpers: SHA-256 hex checks, named constraints."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

SHA256_REGEX = r"^[0-9a-f]{64}$"


def sha256_field(**kwargs: object) -> models.CharField:
    return models.CharField(max_length=64, **kwargs)


def sha256_check(field: str, *, name: str, nullable: bool = False) -> models.CheckConstraint:
    """A named constraint: `field` holds 64 lowercase hex digits (or is empty when nullable)."""
    condition = Q(**{f"{field}__regex": SHA256_REGEX})
    if nullable:
        condition |= Q(**{field: ""})
    return models.CheckConstraint(
        condition=condition,
        name=name,
        violation_error_message=f"{field} must be a SHA-256: 64 lowercase hex digits.",
    )


def choices_check(field: str, choices: type[models.TextChoices], *, name: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(**{f"{field}__in": choices.values}),
        name=name,
        violation_error_message=f"{field} must be one of {', '.join(choices.values)}.",
    )


# URLs the service stores and may show as links. Schemes are lowercase and the text holds no
# whitespace; a hostile scheme (javascript:, data:, vbscript:) never gets in, so no page, report
# or generated client can be handed one. The same patterns are the database constraints, the
# service checks and the OpenAPI `pattern`s (ECMA 262 and PostgreSQL regular expressions alike).
WEB_SCHEMES = ("https", "http")
# Where artifacts and datasets live: object stores, data lakes and MLflow's own locations.
STORAGE_SCHEMES = (
    "s3",
    "gs",
    "abfss",
    "wasbs",
    "hdfs",
    "dbfs",
    "file",
    "models",
    "runs",
    "mlflow-artifacts",
    # A dataset MLflow knows only by name (a table, a query): mlflow-dataset:/<name>.
    "mlflow-dataset",
    *WEB_SCHEMES,
)
WEB_URL_REGEX = r"^https?://[^\s/?#]+([/?#]\S*)?$"
STORAGE_URI_REGEX = rf"^({'|'.join(STORAGE_SCHEMES)}):/\S*$"


def url_check(field: str, *, name: str, storage: bool = False, blank: bool = True) -> models.CheckConstraint:
    """A named constraint: `field` is an http(s) URL (or a storage URI when `storage`), or empty."""
    condition = Q(**{f"{field}__regex": STORAGE_URI_REGEX if storage else WEB_URL_REGEX})
    if blank:
        condition |= Q(**{field: ""})
    schemes = ", ".join(STORAGE_SCHEMES if storage else WEB_SCHEMES)
    return models.CheckConstraint(
        condition=condition,
        name=name,
        violation_error_message=f"{field} must be a URL with one of the schemes {schemes}.",
    )
