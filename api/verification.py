"""`?verify=true` on record reads: each fact of the record reconciled with its ledger leaf."""

from __future__ import annotations

from typing import Any

from django.db.models import Model, QuerySet
from drf_spectacular.utils import OpenApiParameter
from rest_framework.request import Request

from api.errors import bad_request
from governance import reconciliation

VERIFY_PARAMETER = OpenApiParameter(
    "verify",
    bool,
    description=(
        "With `true`, the answer carries `verification`: every field shown, compared with the "
        "ledger entry (`seq`) that recorded it. `verified` is false when any differs."
    ),
)


def wants_verification(request: Request) -> bool:
    """Return whether the read asks for verification; raise a 400 for anything but true/false."""
    value = request.query_params.get("verify")
    if value is None or value == "false":
        return False
    if value == "true":
        return True
    raise bad_request("verify must be true or false.", field="verify")


def verification_of(kind: str, record: Model) -> dict[str, Any]:
    """Return one record's verification (see `verification`)."""
    return verification(kind, type(record)._default_manager.filter(pk=record.pk))[record.pk]


def verification(kind: str, queryset: QuerySet, *, key: str = "pk") -> dict[Any, dict[str, Any]]:
    """Return, by `key` (a column of the kind), each record's verification: {verified,
    differs_from, facts}."""
    out = {}
    for row, facts in reconciliation.facts_of(kind, queryset):
        failed = [fact for fact in facts if not fact.ok]
        out[row[key]] = {
            "verified": not failed,
            # The ledger entry the record contradicts, as the console says it: "#N".
            "differs_from": failed[0].seq if failed else None,
            "facts": [fact.as_dict() for fact in facts],
        }
    return out
