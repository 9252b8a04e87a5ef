"""The model page's charts: drift per feature with the policy's bounds, live performance and
volume over time, and metrics across versions; each states its range, and every point of a
version never approved is marked unapproved."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from console import timecharts
from governance.models import ModelVersion, Observation
from governance.services import policies
from governance.services.monitoring import observations


@pytest.fixture
def observed(world, people):
    """Four 1 ms windows of credit-risk 1.0.0 in production: income drifts past the PSI bound in the
    last; AUC falls; volume holds."""
    model, start = world.model, world.deployment.started_at
    policies.monitoring_policy_set(
        actor=people["owner"],
        model=model,
        expected_interval_minutes=60,
        psi_threshold="0.2",
        ks_threshold="0.1",
        min_volume=100,
    )
    policies.thresholds_set(
        actor=people["owner"], model=model, thresholds=[{"metric": "auc", "operator": "min", "value": "0.8"}]
    )
    items = []
    for i, (psi, ks, auc, count) in enumerate(
        [
            ("0.01", "0.02", "0.88", 900),
            ("0.05", "0.04", "0.86", 950),
            ("0.12", "0.07", "0.84", 880),
            ("0.31", "0.15", "0.79", 910),
        ]
    ):
        window = {
            "version": "1.0.0",
            "window_start": start + timedelta(milliseconds=i),
            "window_end": start + timedelta(milliseconds=i + 1),
        }
        items += [
            {**window, "kind": "feature_drift", "feature": "income band", "psi": psi, "ks": ks},
            {**window, "kind": "performance", "metric": "auc", "value": auc},
            {**window, "kind": "volume", "count": count},
        ]
    observations.observation_post_batch(actor=people["pipeline_granted"], model=model, items=items)


def test_the_model_page_charts_drift_live_accuracy_and_volume(observed, client_for):
    response = client_for("auditor").get("/models/credit-risk")
    context = response.context
    drift = {chart.title: chart for chart in context["drift_charts"]}
    assert set(drift) == {"PSI of income band", "KS of income band"}
    psi = drift["PSI of income band"]
    assert [p["value"] for p in psi.points] == ["0.01", "0.05", "0.12", "0.31"]
    assert [t["text"] for t in psi.thresholds] == ["alert above 0.2"]
    assert psi.range_text.startswith("y axis 0 to ") and "(from zero)" in psi.range_text
    assert "4 observations" in psi.range_text
    assert psi.points[0]["x"] < psi.points[-1]["x"] and psi.points[-1]["y"] < psi.points[0]["y"]
    live = {chart.title: chart for chart in context["live_charts"]}
    auc = live["Live auc"]
    assert auc.range_text.startswith("y axis 0.7 to 0.9 (not from zero)")
    assert [t["text"] for t in auc.thresholds] == ["≥ 0.8"]
    volume = live["Volume (cases per window)"]
    assert [t["text"] for t in volume.thresholds] == ["alert below 100"] and "(from zero)" in volume.range_text
    assert not any(chart.unapproved for chart in [*drift.values(), *live.values()])
    html = response.content.decode()
    assert html.count('data-testid="drift-') == 2 and "<script" not in html.split("<main")[1]


def test_every_point_of_a_never_approved_version_is_marked(world):
    v100, v110 = world.v100, world.v110
    observed = [
        Observation(version=v, window_end=datetime(2026, 1, 1, h, tzinfo=UTC), kind="volume", count=10 * h)
        for h, v in ((1, v100), (2, v110), (3, v110))
    ]
    for o, v in zip(observed, (v100, v110, v110), strict=True):
        o.version_id = v.pk
    chart = timecharts.build("Volume", "volume", observed, lambda o: Decimal(o.count), [], {v100.pk}, zero=True)
    assert [p["unapproved"] for p in chart.points] == [False, True, True]
    assert chart.unapproved == ["1.1.0"]


def test_metrics_across_versions_mark_the_unapproved_version(world, client_for):
    ModelVersion.objects.filter(pk=world.v110.pk).update(metrics=[{"name": "auc", "value": "0.91"}])
    page = client_for("auditor").get("/models/credit-risk")
    (chart,) = [c for c in page.context["charts"] if c.title == "auc"]
    assert chart.unapproved == ["1.1.0"]
    assert [p["unapproved"] for p in chart.points] == [False, True]
    assert "not from zero" in chart.range_text
    html = page.content.decode()
    assert "1.1.0 (unapproved)" in html and 'data-testid="unapproved-mark"' in html
