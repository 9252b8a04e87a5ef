"""`?format=csv` on the API's lists: the page's rows as CSV, paging in headers, filters applied,
errors still in the one JSON shape."""

from __future__ import annotations

import csv
import io

from rest_framework.test import APIClient

from api.renderers import CSVRenderer


def client_as(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def rows(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_a_list_answers_csv_with_its_filters_and_paging_in_headers(world, people):
    client = client_as(people["auditor"])
    response = client.get("/api/v1/models/credit-risk/decisions", {"format": "csv", "page_size": 2})
    found = rows(response)
    assert len(found) == 2 and response["X-Total-Count"] == "3"
    assert 'rel="next"' in response["Link"] and "format=csv" in response["Link"]
    assert found[0]["decision_id"].startswith("d-")
    one = rows(client.get("/api/v1/models/credit-risk/decisions", {"format": "csv", "overridden": "true"}))
    assert one == []


def test_nested_values_flatten_lists_are_json_and_formulas_are_defused():
    page = {"count": 1, "results": [{"a": {"b": 1, "c": None}, "tags": ["x", "y"], "note": "=SUM(A1)", "n": "-1.5"}]}
    text = CSVRenderer().render(page).decode()
    assert list(csv.reader(io.StringIO(text))) == [
        ["a.b", "a.c", "tags", "note", "n"],
        ["1", "", '["x","y"]', "'=SUM(A1)", "-1.5"],
    ]


def test_the_models_list_answers_csv(world, people):
    found = rows(client_as(people["officer_1"]).get("/api/v1/models", {"format": "csv"}))
    assert {row["slug"] for row in found} >= {"credit-risk", "fraud-score"}


def test_accept_text_csv_works_like_the_format_parameter(world, people):
    response = client_as(people["auditor"]).get("/api/v1/versions", HTTP_ACCEPT="text/csv")
    assert rows(response)


def test_errors_keep_the_json_error_shape(world, people):
    response = client_as(people["auditor"]).get(
        "/api/v1/models/credit-risk/decisions", {"format": "csv", "occurred_after": "yesterday"}
    )
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert {"code", "message"} <= set(response.json())
    hidden = client_as(people["other_owner"]).get("/api/v1/models/credit-risk/decisions", {"format": "csv"})
    assert hidden.status_code == 404 and hidden.json()["code"]


def test_a_single_record_is_not_offered_as_csv(world, people):
    response = client_as(people["auditor"]).get("/api/v1/models/credit-risk", {"format": "csv"})
    assert response.status_code == 404
