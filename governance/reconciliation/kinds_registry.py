"""Record kinds of the registry: models, datasets, versions, cards, approvals, status, owners."""

from __future__ import annotations

from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery

from governance.models import (
    Approval,
    Dataset,
    ModelCard,
    ModelVersion,
    OwnershipTransfer,
    RegisteredModel,
    StatusChange,
    VersionDataset,
)
from governance.reconciliation.engine import (
    Fact,
    Kind,
    Leaf,
    Row,
    actor,
    bound,
    by_key,
    by_pattern,
    iso_date,
    moment,
)
from governance.reconciliation.leaves import latest_by_model

VALIDATION_DATES = ("validated_at", "next_validation_due", "valid_until")


def _model_annotations() -> dict[str, Any]:
    accepted = OwnershipTransfer.objects.filter(model=OuterRef("pk"), state=OwnershipTransfer.State.ACCEPTED)
    return {"last_transfer": Subquery(accepted.order_by("-decided_at", "-pk").values("pk")[:1])}


def _model_extra(row: Row, leaves: dict[str, dict | None], validations: dict[str, dict]) -> list[Fact]:
    """The owner is the latest accepted transfer's, else the registration's; the validation
    dates are the latest `model.validation_updated` leaf's, else the registration's."""
    facts = []
    registered, changed = leaves["recorded"], leaves["owner"]
    source = changed or registered
    if source is not None:
        member = "to" if changed else "owner"
        said = source["data"][member]
        stored = row["owner__username"]
        facts.append(Fact("owner", stored == said, source["seq"], stored, said, f"data.{member}"))
    dates = validations.get(row["slug"]) or registered
    if dates is not None:
        for name in VALIDATION_DATES:
            stored = iso_date(row[name])
            said = dates["data"][name]
            facts.append(Fact(name, stored == said, dates["seq"], stored, said, f"data.{name}"))
    return facts


MODEL = Kind(
    name="model",
    model=RegisteredModel,
    columns=(
        "pk",
        "slug",
        "name",
        "description",
        "intended_purpose",
        "out_of_scope_uses",
        "regulated_use",
        "risk_tier",
        "provider",
        "owner__username",
        "runbook",
        *VALIDATION_DATES,
        "created_by__username",
        "created_at",
        "ledger_key",
        "last_transfer",
    ),
    natural_key=lambda row: f"model {row['slug']}",
    annotations=_model_annotations,
    leaves=(
        Leaf("recorded", by_key()),
        Leaf(
            "owner", by_pattern("owner.changed:{}", "last_transfer"), required=lambda row: bool(row["last_transfer"])
        ),
    ),
    fields=(
        *(
            bound(name)
            for name in (
                "slug",
                "name",
                "description",
                "intended_purpose",
                "out_of_scope_uses",
                "regulated_use",
                "risk_tier",
                "provider",
                "runbook",
            )
        ),
        actor("created_by", "created_by__username"),
        moment("created_at"),
    ),
    more=_model_extra,
    context=lambda queryset: latest_by_model("model.validation_updated:", "slug"),
)

DATASET = Kind(
    name="dataset",
    model=Dataset,
    columns=(
        "pk",
        "name",
        "uri",
        "sha256",
        "size_bytes",
        "row_count",
        "schema_sha256",
        "provenance",
        "preparation",
        "hash_kind",
        "registered_by__username",
        "registered_at",
        "ledger_key",
    ),
    natural_key=lambda row: f"dataset {row['sha256']}",
    leaves=(Leaf("recorded", by_key()),),
    fields=(
        *(
            bound(name)
            for name in (
                "name",
                "uri",
                "sha256",
                "size_bytes",
                "row_count",
                "schema_sha256",
                "provenance",
                "preparation",
            )
        ),
        # Leaves name the kind only for reference hashes (governance/records.py).
        bound("hash_kind", convert=lambda kind: None if kind == "content" else kind),
        actor("registered_by", "registered_by__username"),
        moment("registered_at"),
    ),
)


def _version_annotations() -> dict[str, Any]:
    changes = StatusChange.objects.filter(version=OuterRef("pk")).order_by("-changed_at", "-pk")
    return {"last_status_key": Subquery(changes.values("ledger_key")[:1])}


def _version_links(queryset: QuerySet | None) -> dict[int, list[dict[str, str]]]:
    """Return each version's dataset links (of the versions in `queryset`, or all)."""
    rows = VersionDataset.objects.all()
    if queryset is not None:
        rows = rows.filter(version__in=queryset.values("pk"))
    links: dict[int, list[tuple[str, str]]] = {}
    for version_id, role, sha in rows.values_list("version_id", "role", "dataset__sha256"):
        links.setdefault(version_id, []).append((role, sha))
    return {pk: [{"role": r, "sha256": s} for r, s in sorted(rows)] for pk, rows in links.items()}


def _version_extra(row: Row, leaves: dict[str, dict | None], links: dict[int, list]) -> list[Fact]:
    leaf = leaves["recorded"]
    if leaf is None:
        return []
    stored = links.get(row["pk"], [])
    said = leaf["data"]["datasets"]
    return [Fact("datasets", stored == said, leaf["seq"], stored, said, "data.datasets")]


VERSION = Kind(
    name="version",
    model=ModelVersion,
    columns=(
        "pk",
        "model__slug",
        "version",
        "description",
        "artifact_sha256",
        "artifact_uri",
        "code_repository",
        "code_commit",
        "pipeline_run_id",
        "pipeline_run_url",
        "environment_lock_sha256",
        "hyperparameters",
        "metrics",
        "parent__version",
        "registered_by__username",
        "registered_at",
        "status",
        "ledger_key",
        "last_status_key",
    ),
    natural_key=lambda row: f"version {row['version']} of {row['model__slug']}",
    annotations=_version_annotations,
    leaves=(
        Leaf("recorded", by_key()),
        Leaf("status", by_key("last_status_key"), required=lambda row: bool(row["last_status_key"])),
    ),
    fields=(
        bound("model", column="model__slug"),
        *(
            bound(name)
            for name in (
                "version",
                "description",
                "artifact_sha256",
                "artifact_uri",
                "code_repository",
                "code_commit",
                "pipeline_run_id",
                "pipeline_run_url",
                "environment_lock_sha256",
                "hyperparameters",
                "metrics",
            )
        ),
        bound("parent", column="parent__version"),
        bound("registered_by", column="registered_by__username"),
        moment("registered_at"),
        bound("status", leaf="status", path="to", default=ModelVersion.Status.REGISTERED),
    ),
    more=_version_extra,
    context=_version_links,
)

CARD = Kind(
    name="card",
    model=ModelCard,
    columns=(
        "pk",
        "version__model__slug",
        "version__version",
        "revision",
        "content",
        "content_sha256",
        "author__username",
        "created_at",
        "ledger_key",
    ),
    natural_key=lambda row: (
        f"card revision {row['revision']} of {row['version__model__slug']} {row['version__version']}"
    ),
    leaves=(Leaf("recorded", by_key()),),
    fields=(
        bound("model", column="version__model__slug"),
        bound("version", column="version__version"),
        bound("revision"),
        bound("content_sha256"),
        bound("content"),
        actor("author", "author__username"),
        moment("created_at"),
    ),
)

APPROVAL = Kind(
    name="approval",
    model=Approval,
    columns=(
        "pk",
        "version__model__slug",
        "version__version",
        "card__revision",
        "signer__username",
        "signer_name",
        "signer_role",
        "meaning",
        "reason",
        "signed_at",
        "signed_sha256",
        "authentication",
        "sod_checks",
        "ledger_key",
    ),
    natural_key=lambda row: (
        f"approval {row['pk']} by {row['signer__username']} of {row['version__model__slug']} {row['version__version']}"
    ),
    leaves=(Leaf("recorded", by_key()),),
    fields=(
        bound("model", column="version__model__slug"),
        bound("version", column="version__version"),
        bound("signer", column="signer__username"),
        *(bound(name) for name in ("signer_name", "signer_role", "meaning", "reason", "signed_sha256")),
        moment("signed_at"),
        bound("card_revision", column="card__revision"),
        bound("authentication"),
        bound("sod_checks"),
    ),
)

STATUS_CHANGE = Kind(
    name="status change",
    model=StatusChange,
    columns=(
        "pk",
        "version__model__slug",
        "version__version",
        "from_status",
        "to_status",
        "actor__username",
        "reason",
        "changed_at",
        "ledger_key",
    ),
    natural_key=lambda row: f"status change {row['pk']} of {row['version__model__slug']} {row['version__version']}",
    leaves=(Leaf("recorded", by_key()),),
    fields=(
        bound("model", column="version__model__slug"),
        bound("version", column="version__version"),
        bound("from_status", path="from"),
        bound("to_status", path="to"),
        bound("reason"),
        moment("changed_at"),
        actor("actor", "actor__username"),
    ),
)


def _transfer_extra(row: Row, leaves: dict[str, dict | None], _: object) -> list[Fact]:
    accepted = leaves["accepted"]
    if accepted is None:
        # No entry accepted it, so it is still pending (no service cancels a transfer).
        ok = row["state"] == OwnershipTransfer.State.PENDING
        said = OwnershipTransfer.State.PENDING.value
        return [Fact("state", ok, leaves["recorded"] and leaves["recorded"]["seq"], row["state"], said)]
    ok = row["state"] == OwnershipTransfer.State.ACCEPTED
    return [Fact("state", ok, accepted["seq"], row["state"], OwnershipTransfer.State.ACCEPTED.value)]


TRANSFER = Kind(
    name="ownership transfer",
    model=OwnershipTransfer,
    columns=(
        "pk",
        "model__slug",
        "from_owner__username",
        "to_owner__username",
        "requested_by__username",
        "reason",
        "state",
        "requested_at",
        "decided_at",
        "ledger_key",
    ),
    natural_key=lambda row: f"ownership transfer {row['pk']} of {row['model__slug']}",
    leaves=(
        Leaf("recorded", by_key()),
        Leaf(
            "accepted",
            by_pattern("owner.changed:{}"),
            required=lambda row: row["state"] == OwnershipTransfer.State.ACCEPTED,
        ),
    ),
    fields=(
        bound("model", column="model__slug"),
        bound("from_owner", column="from_owner__username", path="from"),
        bound("to_owner", column="to_owner__username", path="to"),
        bound("reason"),
        actor("requested_by", "requested_by__username"),
        bound("to_owner", column="to_owner__username", path="to", leaf="accepted"),
        moment("requested_at"),
        moment("decided_at", leaf="accepted"),
    ),
    more=_transfer_extra,
)

KINDS = (MODEL, DATASET, VERSION, CARD, APPROVAL, STATUS_CHANGE, TRANSFER)
