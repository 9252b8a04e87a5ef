"""Record kinds of assurance: the classification, risk register entries, oversight measures and
validation findings, each field bound to its `<kind>.recorded` leaf."""

from __future__ import annotations

from governance.models import Classification, OversightMeasure, RiskEntry, ValidationFinding
from governance.reconciliation.engine import Kind, Leaf, actor, bound, by_key, moment

_COMMON = ("pk", "model__slug", "entry_id", "revision", "recorded_by__username", "recorded_at", "ledger_key")


def _kind(name: str, table: type, fields: tuple[str, ...], *, on_version: bool = False) -> Kind:
    parent = ("version__model__slug", "version__version") if on_version else ()
    columns = tuple(c for c in _COMMON if not (on_version and c == "model__slug")) + parent + fields
    model_column = "version__model__slug" if on_version else "model__slug"
    extra = (bound("version", column="version__version"),) if on_version else ()
    return Kind(
        name=name,
        model=table,
        columns=columns,
        natural_key=lambda row: f"{name} {row['entry_id']} r{row['revision']} of {row[model_column]}",
        leaves=(Leaf("recorded", by_key()),),
        fields=(
            bound("model", column=model_column),
            bound("entry_id"),
            bound("revision"),
            *extra,
            *(bound(f) for f in fields),
            moment("recorded_at"),
            actor("recorded_by", "recorded_by__username"),
        ),
    )


CLASSIFICATION = _kind("classification", Classification, ("intended_purpose", "annex_iii", "rationale", "role"))
RISK = _kind(
    "risk entry",
    RiskEntry,
    ("hazard", "affected", "mitigation", "residual_level", "acceptance", "acceptance_note"),
)
OVERSIGHT = _kind("oversight measure", OversightMeasure, ("measure", "responsible", "active"))
FINDING = _kind(
    "validation finding", ValidationFinding, ("title", "severity", "remediation", "state"), on_version=True
)

KINDS = (CLASSIFICATION, RISK, OVERSIGHT, FINDING)
