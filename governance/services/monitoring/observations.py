"""Observations from monitoring sources: one measurement of a deployed version over a window."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from governance import access, drift, events
from governance.errors import Conflict, InvalidInput
from governance.models import Deployment, ModelVersion, Observation, RegisteredModel
from governance.records import rfc3339
from governance.services.concurrency import retried_on_duplicate
from governance.validation import SLUG_RE, Errors
from model_ledger_verify import canonical

# One request carries at most this many observations (one ledger event each): enough for a
# model's features over a window, small enough for one short transaction.
MAX_BATCH = 1_000
# Windows may end slightly in the future by the sender's clock, not more.
CLOCK_SKEW = timedelta(minutes=5)
DRIFT_KINDS = frozenset({Observation.Kind.FEATURE_DRIFT, Observation.Kind.PREDICTION_DRIFT})


@dataclass(frozen=True)
class ObservationBatch:
    observations: list[Observation]
    created: int
    ledger_keys: list[str]


# The fields that identify an observation, and those that must match when it is sent again.
IDENTITY = ("kind", "feature", "metric", "slice", "window_start", "window_end")
MEASURES = ("value", "psi", "ks", "count", "bins")


def _clean(item: Any, index: int, errors: Errors, now: datetime) -> dict[str, Any] | None:
    """Check one observation's shape and compute drift from bins; return the clean values."""
    field = str(index)
    if not isinstance(item, dict):
        errors.add(field, "An observation object.")
        return None
    before = len(errors.fields)
    kind = item.get("kind")
    errors.check(kind in Observation.Kind.values, f"{field}.kind", f"One of {', '.join(Observation.Kind.values)}.")
    errors.text(item.get("version"), f"{field}.version", limit=64)
    environment = item.get("environment", "production")
    errors.check(
        isinstance(environment, str) and bool(SLUG_RE.match(environment)) and len(environment) <= 50,
        f"{field}.environment",
        "The environment the version is deployed to, e.g. production.",
    )
    start, end = item.get("window_start"), item.get("window_end")
    window_ok = isinstance(start, datetime) and isinstance(end, datetime) and start.tzinfo and end.tzinfo
    errors.check(bool(window_ok), f"{field}.window_start", "window_start and window_end are times with a zone.")
    if window_ok:
        errors.check(end > start, f"{field}.window_end", "The window must end after it starts.")
        errors.check(end <= now + CLOCK_SKEW, f"{field}.window_end", "The window cannot end in the future.")
    clean = {
        "version": item.get("version"),
        "environment": environment,
        "kind": kind,
        "window_start": start,
        "window_end": end,
        "feature": item.get("feature") or "",
        "metric": item.get("metric") or "",
        "slice": item.get("slice") or "",
        "value": item.get("value") or "",
        "psi": item.get("psi") or "",
        "ks": item.get("ks") or "",
        "count": item.get("count"),
        "bins": item.get("bins"),
    }
    for name, limit in (("feature", 200), ("metric", 100), ("slice", 200)):
        errors.text(clean[name], f"{field}.{name}", limit=limit, required=False)
    given = {name for name in MEASURES if clean[name] not in ("", None)}
    if kind in DRIFT_KINDS:
        if kind == Observation.Kind.FEATURE_DRIFT:
            errors.text(clean["feature"], f"{field}.feature", limit=200)
        allowed = {"bins"} if "bins" in given else {"psi", "ks"}
        errors.check(
            bool(given) and given <= allowed,
            field,
            "Drift carries psi and/or ks (decimal strings), or bins {reference, live}, not both.",
        )
        for name in ("psi", "ks"):
            if clean[name]:
                errors.decimal(clean[name], f"{field}.{name}")
        if "bins" in given:
            bins = clean["bins"]
            if not isinstance(bins, dict) or set(bins) - {"reference", "live", "edges"}:
                errors.add(f"{field}.bins", "An object with reference and live counts (and optional edges).")
            else:
                try:
                    clean["psi"] = drift.psi(bins.get("reference"), bins.get("live"))
                    clean["ks"] = drift.ks(bins.get("reference"), bins.get("live"))
                except drift.BinsError as exc:
                    errors.add(f"{field}.bins", str(exc))
    elif kind == Observation.Kind.PERFORMANCE:
        errors.text(clean["metric"], f"{field}.metric", limit=100)
        errors.check(given == {"value"}, field, "Performance carries metric and value only.")
        errors.decimal(clean["value"], f"{field}.value")
    elif kind == Observation.Kind.VOLUME:
        count = clean["count"]
        errors.check(
            given == {"count"} and isinstance(count, int) and not isinstance(count, bool) and count >= 0,
            f"{field}.count",
            "Volume carries count, a non-negative integer, only.",
        )
    return clean if len(errors.fields) == before else None


def _serving(model: RegisteredModel, items: list[dict[str, Any]]) -> dict[int, Deployment | None]:
    """Return, by item index, the deployment of its version in its environment over its window."""
    versions = {
        v.version: v for v in ModelVersion.objects.filter(model=model, version__in={i["version"] for i in items})
    }
    spans: dict[tuple[int, str], list[Deployment]] = {}
    for deployment in Deployment.objects.filter(model=model, version__in=versions.values()).select_related("version"):
        spans.setdefault((deployment.version_id, deployment.environment), []).append(deployment)
    found: dict[int, Deployment | None] = {}
    for index, item in enumerate(items):
        version = versions.get(item["version"])
        candidates = spans.get((version.pk, item["environment"]), []) if version else []
        overlapping = [
            d
            for d in candidates
            if d.started_at < item["window_end"] and (d.ended_at is None or d.ended_at > item["window_start"])
        ]
        found[index] = max(overlapping, key=lambda d: d.started_at) if overlapping else None
    return found


def observation_record(observation: Observation) -> dict[str, Any]:
    """Return the ledger form: bins enter as a SHA-256 (they can be large)."""
    bins = observation.bins
    return {
        "model": observation.model.slug,
        "version": observation.version.version,
        "environment": observation.deployment.environment,
        "deployment": observation.deployment.ledger_key,
        "window_start": rfc3339(observation.window_start),
        "window_end": rfc3339(observation.window_end),
        "kind": observation.kind,
        "feature": observation.feature,
        "metric": observation.metric,
        "slice": observation.slice,
        "value": observation.value,
        "psi": observation.psi,
        "ks": observation.ks,
        "count": observation.count,
        "bins_sha256": hashlib.sha256(canonical.dumps(bins)).hexdigest() if bins is not None else None,
        "posted_at": rfc3339(observation.posted_at),
    }


@retried_on_duplicate
@transaction.atomic
def observation_post_batch(
    *, actor: AbstractBaseUser, model: RegisteredModel, items: list[dict[str, Any]]
) -> ObservationBatch:
    """Record monitoring observations, each with a `monitoring.observed` event; all or nothing.

    Each item names a version, its environment and a window the version served in. Sending an
    observation again (same deployment, kind, feature, metric, slice and window) with the same
    measures returns the original and writes nothing; with different measures it is refused
    (observations are never edited). Raise NotVisible, Forbidden (pipelines granted `log`),
    InvalidInput or Conflict with per-item errors by index.
    """
    access.require(actor, "log", model)
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_BATCH:
        raise InvalidInput(
            f"Send 1 to {MAX_BATCH} observations.", errors={"observations": [f"1 to {MAX_BATCH} items."]}
        )
    now = timezone.now()
    errors = Errors()
    cleaned = [_clean(item, index, errors, now) for index, item in enumerate(items)]
    errors.raise_if_any("Some observations are not valid; none was recorded.")
    clean: list[dict[str, Any]] = [c for c in cleaned if c is not None]
    deployments = _serving(model, clean)
    missing = {
        str(i): [f"{c['version']} did not serve {c['environment']} during this window."]
        for i, c in enumerate(clean)
        if deployments[i] is None
    }
    if missing:
        raise Conflict("Some observations are for versions not deployed then; none was recorded.", errors=missing)
    rows: list[Observation] = []
    new_rows: list[Observation] = []
    conflicts: dict[str, list[str]] = {}
    batch_keys: dict[tuple, int] = {}
    for index, item in enumerate(clean):
        deployment = deployments[index]
        identity = (deployment.pk, *(item[name] for name in IDENTITY))
        if identity in batch_keys:
            conflicts[str(index)] = [f"Repeats observation {batch_keys[identity]} of this batch."]
            continue
        batch_keys[identity] = index
        existing = Observation.objects.filter(deployment=deployment, **{n: item[n] for n in IDENTITY}).first()
        if existing is not None:
            if any(getattr(existing, name) != item[name] for name in MEASURES):
                conflicts[str(index)] = ["Already observed with different values; observations are never edited."]
            rows.append(existing)
            continue
        row = Observation(
            model=model,
            version=deployment.version,
            deployment=deployment,
            posted_by=actor,
            posted_at=now,
            ledger_key=f"monitoring.observed:{uuid.uuid4()}",
            **{name: item[name] for name in (*IDENTITY, *MEASURES)},
        )
        rows.append(row)
        new_rows.append(row)
    if conflicts:
        raise Conflict("Some observations conflict with recorded ones; none was recorded.", errors=conflicts)
    Observation.objects.bulk_create(new_rows)
    events.record_many(
        [
            {
                "type": "monitoring.observed",
                "actor": events.actor_name(actor),
                "subject": f"model:{model.slug}",
                "idempotency_key": row.ledger_key,
                "data": observation_record(row),
            }
            for row in new_rows
        ]
    )
    return ObservationBatch(rows, len(new_rows), [row.ledger_key for row in rows])
