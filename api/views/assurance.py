"""The assurance records of a model: its classification, risk register, oversight measures, and
the validation findings of a version. GET lists the revision in force of each entry; POST records
a new revision (a ledger event)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework.request import Request
from rest_framework.response import Response

from api.serializers.assurance import SERIALIZERS
from api.views.base import GovernanceView, written
from governance import selectors
from governance.selectors.assurance import assurance_list
from governance.services import assurance

_WHO = {"finding": "compliance officers", "classification": "owner, compliance officers"}


def _view(kind: str, plural: str) -> type[GovernanceView]:
    parse_with, render_with = SERIALIZERS[kind]
    listing = inline_serializer(f"{kind.capitalize()}List", {plural: render_with(many=True)})
    on_version = kind == "finding"

    class View(GovernanceView):
        def _subject(self, request: Request, slug: str, version: str | None):
            if on_version:
                row = selectors.version_get(request.user, slug, version)
                return row.model, row
            return selectors.model_get(request.user, slug), None

        @extend_schema(summary=f"The {plural} in force (latest revision of each)", responses=listing)
        def get(self, request: Request, slug: str, version: str | None = None) -> Response:
            model, row = self._subject(request, slug, version)
            rows = assurance_list(request.user, kind, model=model, version=row)
            return Response({plural: render_with(rows, many=True).data})

        @extend_schema(
            summary=f"Record a revision of a {kind} entry ({_WHO.get(kind, 'owner, compliance officers')})",
            request=parse_with,
            responses=render_with,
        )
        def post(self, request: Request, slug: str, version: str | None = None) -> Response:
            model, row = self._subject(request, slug, version)
            self.authorize(assurance.SPECS[kind].action, row or model)
            data = dict(self.parse(parse_with))
            entry_id = data.pop("entry_id", "classification")
            result = assurance.assurance_record(
                actor=request.user, kind=kind, model=model, version=row, entry_id=entry_id, **data
            )
            return written(request, render_with(result.record).data, result.ledger_key)

    View.__name__ = View.__qualname__ = f"{kind.capitalize()}View"
    return View


ClassificationView = _view("classification", "classifications")
RiskView = _view("risk", "risks")
OversightView = _view("oversight", "oversight_measures")
FindingView = _view("finding", "findings")
