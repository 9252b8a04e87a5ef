"""Recording assurance facts: the AI Act classification, risk register entries, human-oversight
measures and validation findings, each revision a new row and a ledger event.

`<kind>.recorded` carries the model (and version, for findings), the entry id and revision, the
time, and every recorded field. The model's owner and compliance officers record the first three
(`oversee`); validation findings come from compliance officers alone (`validate`), who are
independent of the model's development.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import models, transaction
from django.db.models import Max
from django.utils import timezone

from governance import access, events
from governance.errors import InvalidInput
from governance.models import (
    Classification,
    ModelVersion,
    OversightMeasure,
    RegisteredModel,
    RiskEntry,
    ValidationFinding,
)
from governance.records import rfc3339
from governance.results import Written
from governance.validation import SLUG_RE, Errors

LONG_TEXT = 5000


@dataclass(frozen=True)
class Spec:
    """One kind of assurance record: its table, event, right and fields.

    `fields` maps each field to its check: an int (a text limit; required unless in `optional`),
    a TextChoices class, or bool.
    """

    kind: str
    table: type[models.Model]
    action: str
    fields: dict[str, Any]
    optional: frozenset[str] = frozenset()
    defaults: dict[str, Any] | None = None
    on_version: bool = False


SPECS = {
    "classification": Spec(
        "classification",
        Classification,
        "oversee",
        {"intended_purpose": LONG_TEXT, "annex_iii": Classification.Point, "rationale": LONG_TEXT, "role": 20},
        optional=frozenset({"rationale"}),
        defaults={"rationale": "", "role": "provider"},
    ),
    "risk": Spec(
        "risk",
        RiskEntry,
        "oversee",
        {
            "hazard": LONG_TEXT,
            "affected": LONG_TEXT,
            "mitigation": LONG_TEXT,
            "residual_level": RiskEntry.Level,
            "acceptance": RiskEntry.Acceptance,
            "acceptance_note": LONG_TEXT,
        },
        optional=frozenset({"affected", "mitigation", "acceptance_note"}),
        defaults={"affected": "", "mitigation": "", "acceptance": "pending", "acceptance_note": ""},
    ),
    "oversight": Spec(
        "oversight",
        OversightMeasure,
        "oversee",
        {"measure": LONG_TEXT, "responsible": 200, "active": bool},
        defaults={"active": True},
    ),
    "finding": Spec(
        "finding",
        ValidationFinding,
        "validate",
        {
            "title": 300,
            "severity": ValidationFinding.Level,
            "remediation": LONG_TEXT,
            "state": ValidationFinding.State,
        },
        optional=frozenset({"remediation"}),
        defaults={"remediation": "", "state": "open"},
        on_version=True,
    ),
}


def _validate(spec: Spec, entry_id: Any, values: dict[str, Any]) -> None:
    errors = Errors()
    errors.check(
        isinstance(entry_id, str) and bool(SLUG_RE.fullmatch(entry_id)),
        "entry_id",
        "A slug, e.g. r-01 (lowercase letters, digits and hyphens).",
    )
    for name in set(values) - set(spec.fields):
        errors.add(name, "Unknown field.")
    for name, check in spec.fields.items():
        value = values.get(name)
        if check is bool:
            errors.check(isinstance(value, bool), name, "true or false.")
        elif isinstance(check, int):
            errors.text(value, name, limit=check, required=name not in spec.optional)
        else:
            errors.check(value in check.values, name, f"One of {', '.join(check.values)}.")
    if spec.kind == "classification":
        errors.check(values.get("role") in ("provider", "deployer"), "role", "provider or deployer.")
        if values.get("annex_iii") == "not_high_risk" and not str(values.get("rationale", "")).strip():
            errors.add("rationale", "Claiming not high-risk needs the Art. 6(3) rationale.")
    if spec.kind == "risk" and values.get("acceptance") == "accepted":
        errors.check(
            bool(str(values.get("acceptance_note", "")).strip()),
            "acceptance_note",
            "Say who accepted the residual risk and on what basis.",
        )
    errors.raise_if_any()


def _check_key_room(spec: Spec, key: str, entry_id: str) -> None:
    """Raise InvalidInput naming `entry_id` when `key` is longer than a ledger key may be: a long
    model slug and version leave less room for the id than its own limit."""
    limit = spec.table._meta.get_field("ledger_key").max_length
    if len(key) > limit:
        room = max(len(entry_id) - (len(key) - limit), 0)
        whose = {"finding": "this version's findings", "oversight": "this model's oversight measures"}.get(
            spec.kind, f"this model's {spec.kind}s"
        )
        raise InvalidInput(
            "The entry id is too long for this record's ledger key; nothing was written.",
            errors={"entry_id": [f"At most {room} characters for {whose}."]},
        )


@transaction.atomic
def assurance_record(
    *,
    actor: AbstractBaseUser,
    kind: str,
    model: RegisteredModel,
    entry_id: str,
    version: ModelVersion | None = None,
    **values: Any,
) -> Written[models.Model]:
    """Record a revision of entry `entry_id` of `kind` (see SPECS) and its `<kind>.recorded` event.

    Raise NotVisible or Forbidden (access), InvalidInput naming each bad field.
    """
    spec = SPECS[kind]
    access.require(actor, spec.action, version if spec.on_version else model)
    values = {**(spec.defaults or {}), **values}
    _validate(spec, entry_id, values)
    parent = {"version": version} if spec.on_version else {"model": model}
    # Lock the parent row: two revisions of one entry at once get distinct numbers.
    type(next(iter(parent.values()))).objects.select_for_update().get(pk=next(iter(parent.values())).pk)
    last = spec.table.objects.filter(**parent, entry_id=entry_id).aggregate(n=Max("revision"))["n"] or 0
    now = timezone.now()
    key = f"{kind}.recorded:{model.slug}:{version.version + ':' if version else ''}{entry_id}:{last + 1}"
    _check_key_room(spec, key, entry_id)
    row = spec.table.objects.create(
        **parent, entry_id=entry_id, revision=last + 1, recorded_by=actor, recorded_at=now, ledger_key=key, **values
    )
    data = {"model": model.slug, "entry_id": entry_id, "revision": last + 1, "recorded_at": rfc3339(now), **values}
    if version is not None:
        data["version"] = version.version
    events.record(type=f"{kind}.recorded", actor=actor, subject=f"model:{model.slug}", key=key, data=data)
    return Written(row, key)


def classification_record(*, actor: AbstractBaseUser, model: RegisteredModel, **values: Any) -> Written:
    """Record the model's intended purpose and AI Act classification (a new revision)."""
    return assurance_record(actor=actor, kind="classification", model=model, entry_id="classification", **values)


def risk_record(*, actor: AbstractBaseUser, model: RegisteredModel, entry_id: str, **values: Any) -> Written:
    """Record a revision of a risk register entry: hazard, mitigation, residual level, acceptance."""
    return assurance_record(actor=actor, kind="risk", model=model, entry_id=entry_id, **values)


def oversight_record(*, actor: AbstractBaseUser, model: RegisteredModel, entry_id: str, **values: Any) -> Written:
    """Record a revision of a human-oversight measure and who is responsible for it."""
    return assurance_record(actor=actor, kind="oversight", model=model, entry_id=entry_id, **values)


def finding_record(*, actor: AbstractBaseUser, version: ModelVersion, entry_id: str, **values: Any) -> Written:
    """Record a revision of a validation finding of `version` and its remediation state."""
    return assurance_record(
        actor=actor, kind="finding", model=version.model, version=version, entry_id=entry_id, **values
    )
