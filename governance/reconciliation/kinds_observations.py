"""Record kind of monitoring observations: what was posted (`monitoring.observed`) and how it was
judged (`monitoring.evaluated`)."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

from django.db.models import QuerySet

from governance.models import Observation
from governance.reconciliation.engine import Fact, Kind, Leaf, Row, actor, bound, by_key, by_pattern, moment
from ledger.models import Entry


def _first_evaluation(_: QuerySet | None) -> datetime | None:
    """Return the log time of the first `monitoring.evaluated` entry, None before any."""
    first = Entry.objects.filter(idempotency_key__startswith="monitoring.evaluated:").order_by("seq").first()
    return None if first is None else datetime.fromisoformat(json.loads(bytes(first.leaf))["ts"])


def _evaluation(row: Row, leaves: dict[str, dict | None], first: datetime | None) -> list[Fact]:
    """A judged observation posted after evaluations were first logged must have its entry
    (earlier ones were judged before judgements reached the ledger); an entry means judged."""
    evaluated = leaves["evaluated"]
    if evaluated is not None:
        return [] if row["evaluated_at"] is not None else [Fact("evaluated", False, evaluated["seq"], False, True)]
    if row["evaluated_at"] is None or first is None or row["posted_at"] < first:
        return []
    return [Fact("monitoring.evaluated entry", False, None, stored=f"monitoring.evaluated:{row['pk']}")]


def _bins_sha256(bins: object) -> str | None:
    if bins is None:
        return None
    data = json.dumps(bins, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return hashlib.sha256(data).hexdigest()


OBSERVATION = Kind(
    name="observation",
    model=Observation,
    columns=(
        "pk",
        "model__slug",
        "version__version",
        "deployment__environment",
        "deployment__ledger_key",
        "window_start",
        "window_end",
        "kind",
        "feature",
        "metric",
        "slice",
        "value",
        "psi",
        "ks",
        "count",
        "bins",
        "posted_by__username",
        "posted_at",
        "evaluated_at",
        "breached",
        "judged_against",
        "alert__ledger_key",
        "ledger_key",
    ),
    natural_key=lambda row: f"observation {row['pk']} of {row['model__slug']} {row['version__version']}",
    leaves=(
        Leaf("recorded", by_key()),
        Leaf("evaluated", by_pattern("monitoring.evaluated:{}"), required=lambda row: False),
    ),
    fields=(
        bound("model", column="model__slug"),
        bound("version", column="version__version"),
        bound("environment", column="deployment__environment"),
        bound("deployment", column="deployment__ledger_key"),
        moment("window_start"),
        moment("window_end"),
        *(bound(name) for name in ("kind", "feature", "metric", "slice", "value", "psi", "ks", "count")),
        bound("bins", path="bins_sha256", convert=_bins_sha256),
        moment("posted_at"),
        actor("posted_by", "posted_by__username"),
        moment("evaluated_at", leaf="evaluated"),
        bound("breached", leaf="evaluated"),
        bound("judged_against", leaf="evaluated"),
        bound("alert", column="alert__ledger_key", leaf="evaluated"),
    ),
    more=_evaluation,
    context=_first_evaluation,
)


KINDS = (OBSERVATION,)
