"""Browsing at scale: decisions, alerts, reports, models, a model's versions and the ledger are
filtered and paged, and export every filtered row as CSV; any two versions compare side by side."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from console.browse import PAGE_SIZE
from governance.services import alerts as alert_services
from governance.services import decisions as decision_services
from ledger import services as ledger_services
from ledger.models import Entry
from tests.api.factories import decision_item


def rows_of(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.fixture
def many(world, people):
    """60 more decisions of credit-risk 1.0.0, hourly from noon UTC on the day after it was deployed
    (DAY_1) into the next day: every third declined, every fifth overridden by a person; one whose
    label a spreadsheet would run as a formula."""
    day = datetime.combine(day_1(world), time(12), tzinfo=UTC)
    items = []
    for n in range(100, 160):
        item = decision_item(n, "1.0.0", day + timedelta(hours=n - 100))
        if n % 3 == 0:
            item["output_label"] = "decline"
        if n % 5 == 0:
            item.update(overridden=True, override_reason="Manual check", final_label="refer", mode="human_reviewed")
        items.append(item)
    items[-1]["output_label"] = "=HYPERLINK(1)"
    decision_services.decision_log_batch(actor=people["pipeline_granted"], model=world.model, items=items)
    ledger_services.tree_integrate_all()
    return items


def day_1(world) -> date:
    return world.deployment.started_at.astimezone(UTC).date() + timedelta(days=1)


def test_decisions_page_and_filter_by_model_version_day_outcome_and_override(world, many, client_for):
    auditor = client_for("auditor")
    day = day_1(world).isoformat()
    first = auditor.get("/decisions")
    assert len(first.context["decisions"]) == PAGE_SIZE
    assert first.context["page"].paginator.count == 63
    second = auditor.get("/decisions", {"page": 2})
    assert len(second.context["decisions"]) == 13
    assert 'rel="prev"' in second.content.decode()

    filtered = auditor.get("/decisions", {"model": "credit-risk", "version": "1.0.0", "since": day, "until": day})
    assert filtered.context["page"].paginator.count == 12  # 12:00 to 23:00 on the first day
    declined = auditor.get("/decisions", {"outcome": "decline", "overridden": "no"})
    assert {d.output_label for d in declined.context["decisions"]} == {"decline"}
    assert all(not d.overridden for d in declined.context["decisions"])
    referred = auditor.get("/decisions", {"outcome": "refer"}).context["decisions"]
    assert {(d.overridden, d.final_label) for d in referred} == {(True, "refer")}
    assert len(referred) == 12
    assert {"approve", "decline", "refer"} <= set(first.context["outcomes"])  # the outcome filter's suggestions


def test_the_decision_export_holds_every_filtered_row_and_defuses_formulas(world, many, client_for):
    auditor = client_for("auditor")
    rows = rows_of(auditor.get("/decisions", {"since": day_1(world).isoformat(), "format": "csv"}))
    assert len(rows) == 60  # all of them, not one page
    assert rows[0]["decision_id"] == "d-00159" and rows[0]["output_label"] == "'=HYPERLINK(1)"
    assert rows[0]["occurred_at"].endswith("Z")
    overridden = rows_of(auditor.get("/decisions", {"overridden": "yes", "format": "csv"}))
    assert {row["overridden"] for row in overridden} == {"true"} and len(overridden) == 12
    assert rows_of(client_for("other_owner").get("/decisions", {"format": "csv"})) == []


def test_filters_that_do_not_parse_answer_400_never_an_unfiltered_export(many, client_for):
    auditor = client_for("auditor")
    for query in ({"since": "yesterday"}, {"overridden": "maybe"}, {"since": "2030-03-02", "until": "2030-03-01"}):
        assert auditor.get("/decisions", query).status_code == 400
        assert auditor.get("/decisions", {**query, "format": "csv"}).status_code == 400
    assert auditor.get("/decisions", {"model": "no-such-model"}).status_code == 400
    assert auditor.get("/ledger", {"type": "not a type"}).status_code == 400


@pytest.mark.parametrize("url", ["/decisions", "/alerts", "/reports", "/models", "/models/credit-risk", "/ledger"])
def test_a_range_to_the_last_day_a_date_can_hold_is_open_ended_never_a_500(url, world, client_for):
    auditor = client_for("auditor")
    everything = auditor.get(url)
    to_the_end = auditor.get(url, {"since": "0001-01-01", "until": "9999-12-31"})
    assert to_the_end.status_code == 200
    assert to_the_end.context["page"].paginator.count == everything.context["page"].paginator.count
    assert auditor.get(url, {"until": "9999-12-31", "format": "csv"}).status_code == 200


def test_alerts_filter_by_state_and_kind_and_export(world, people, client_for):
    opened, _ = alert_services.alert_open(
        model=world.model, kind="drift", dedupe_key="drift:a", summary="Income drifts.", details={}
    )
    alert_services.alert_open(
        model=world.model, kind="accuracy", dedupe_key="accuracy:a", summary="Accuracy fell.", details={}
    )
    officer_1 = people["officer_1"]
    alert_services.alert_acknowledge(actor=officer_1, alert=opened, note="")
    alert_services.alert_resolve(actor=officer_1, alert=opened, note="Rolled back.")
    officer = client_for("officer_1")
    resolved = officer.get("/alerts", {"state": "resolved"}).context["alerts"]
    assert [(a.summary, handle) for a, handle in resolved] == [("Income drifts.", False)]
    accuracy = officer.get("/alerts", {"kind": "accuracy"}).context["alerts"]
    assert [(a.summary, handle) for a, handle in accuracy] == [("Accuracy fell.", True)]
    rows = rows_of(officer.get("/alerts", {"format": "csv"}))
    assert {row["summary"]: row["state"] for row in rows} == {"Income drifts.": "resolved", "Accuracy fell.": "open"}
    assert rows_of(client_for("other_owner").get("/alerts", {"format": "csv"})) == []


def test_models_filter_and_export(world, client_for):
    officer = client_for("officer_1")
    high = officer.get("/models", {"risk_tier": "high"}).context["models"]
    assert [m.slug for m in high] == ["credit-risk"]
    assert [m.slug for m in officer.get("/models", {"q": "fraud"}).context["models"]] == ["fraud-score"]
    rows = rows_of(officer.get("/models", {"format": "csv"}))
    assert [row["slug"] for row in rows] == ["churn-score", "credit-risk", "fraud-score"]
    assert [row["slug"] for row in rows_of(client_for("owner").get("/models", {"format": "csv"}))] == [
        "credit-risk",
        "fraud-score",
    ]


def test_the_ledger_filters_by_type_subject_and_day_and_exports(world, client_for):
    auditor = client_for("auditor")
    registered = auditor.get("/ledger", {"type": "version.registered"}).context["entries"]
    assert {e["type"] for e in registered} == {"version.registered"} and len(registered) == 4
    churn = auditor.get("/ledger", {"subject": "model:churn-score"}).context["entries"]
    assert churn and {e["subject"] for e in churn} == {"model:churn-score"}
    today = datetime.now(UTC).date()
    assert len(auditor.get("/ledger", {"since": today.isoformat()}).context["entries"]) == min(
        PAGE_SIZE, Entry.objects.count()
    )
    assert auditor.get("/ledger", {"until": (today - timedelta(days=1)).isoformat()}).context["entries"] == []
    rows = rows_of(auditor.get("/ledger", {"type": "decision.logged", "format": "csv"}))
    assert [row["type"] for row in rows] == ["decision.logged"] * 3
    assert [int(row["seq"]) for row in rows] == sorted((int(row["seq"]) for row in rows), reverse=True)
    owner = client_for("owner").get("/ledger", {"format": "csv"})
    assert not owner["Content-Type"].startswith("text/csv")  # no entries for those who may not read the log


def test_the_model_page_searches_and_exports_its_versions(world, client_for):
    owner = client_for("owner")
    found = owner.get("/models/credit-risk", {"q": "1.1"}).context["version_rows"]
    assert [v.version for v in found] == ["1.1.0"]
    deployed = owner.get("/models/credit-risk", {"state": "deployed"}).context["version_rows"]
    assert [v.version for v in deployed] == ["1.0.0"]
    rows = rows_of(owner.get("/models/credit-risk", {"format": "csv"}))
    assert [row["version"] for row in rows] == ["1.1.0", "1.0.0"]
    assert client_for("other_owner").get("/models/credit-risk", {"format": "csv"}).status_code == 404


def test_any_two_versions_compare_side_by_side(world, client_for):
    response = client_for("auditor").get("/models/credit-risk/compare", {"a": "1.0.0", "b": "1.1.0"})
    assert response.status_code == 200
    context = response.context
    assert (context["older"].version, context["newer"].version) == ("1.0.0", "1.1.0")
    assert {d["state"] for d in context["dataset_diff"]} == {"same"}
    gates = {g["gate"]: g for g in context["gate_diff"]}
    assert gates["approvals"]["before"]["passed"] and not gates["approvals"]["after"]["passed"]
    assert all(row["state"] in ("same", "empty") for row in context["card_diff"])
    html = response.content.decode()
    assert 'data-testid="compare-gates"' in html and 'data-testid="compare-datasets"' in html


def test_compare_refuses_what_it_cannot_show(world, client_for):
    auditor = client_for("auditor")
    assert auditor.get("/models/credit-risk/compare", {"a": "1.0.0"}).status_code == 400
    assert auditor.get("/models/credit-risk/compare", {"a": "1.0.0", "b": "9.9.9"}).status_code == 404
    other = client_for("other_owner").get("/models/credit-risk/compare", {"a": "1.0.0", "b": "1.1.0"})
    assert other.status_code == 404
    reversed_ = auditor.get("/models/credit-risk/compare", {"a": "1.1.0", "b": "1.0.0"})
    assert reversed_.status_code == 200


def queries_for(client, url: str, query: dict) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, query).status_code == 200
    return len(captured)


@pytest.mark.parametrize(
    ("url", "query"),
    [
        ("/decisions", {}),
        ("/decisions", {"format": "csv"}),
        ("/alerts", {}),
        ("/reports", {}),
        ("/models", {}),
        ("/ledger", {"type": "decision.logged"}),
    ],
)
def test_a_browsing_page_costs_the_same_queries_for_3_or_63_decisions(url, query, world, people, client_for):
    auditor = client_for("auditor")
    alert_services.alert_open(model=world.model, kind="drift", dedupe_key="d:1", summary="Drift.", details={})
    few = queries_for(auditor, url, query)
    start = world.deployment.started_at
    items = [decision_item(n, "1.0.0", start + timedelta(milliseconds=n)) for n in range(100, 160)]
    decision_services.decision_log_batch(actor=people["pipeline_granted"], model=world.model, items=items)
    alert_services.alert_open(model=world.model, kind="accuracy", dedupe_key="a:1", summary="AUC.", details={})
    ledger_services.tree_integrate_all()
    assert queries_for(auditor, url, query) == few
