"""Paging, filtering and CSV export for the console's long lists.

A browsing page parses its filters with a form, asks a governance (or ledger) selector for the
filtered rows, and either shows one page of them or, with `?format=csv`, streams every filtered
row as CSV. Cells that a spreadsheet would run as a formula are quoted (OWASP, CSV injection).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from typing import Any

from django import forms
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render

PAGE_SIZE = 50
# Chunks of rows read while streaming an export: bounded memory whatever the filters match.
EXPORT_CHUNK = 2_000
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def page_of(request: HttpRequest, rows: Any, per_page: int = PAGE_SIZE) -> Page:
    """Return the page `?page=` asks for (the last one past the end, the first on nonsense)."""
    return Paginator(rows, per_page).get_page(request.GET.get("page"))


def query_without_page(request: HttpRequest) -> str:
    """The request's query string without `page` and `format`, for the pager's and export's links."""
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("format", None)
    return query.urlencode()


def wants_csv(request: HttpRequest) -> bool:
    return request.GET.get("format") == "csv"


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def cell(value: object) -> str:
    """Return `value` as CSV text: datetimes in UTC ISO 8601, None empty, formulas defused."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if text.startswith(_FORMULA_START) and not _is_number(text):
        return "'" + text
    return text


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_response(
    filename: str, header: Sequence[str], rows: Iterable[Any], row: Callable[[Any], Sequence[object]]
) -> StreamingHttpResponse:
    """Stream `rows` as a CSV attachment named `filename`, one line per row through `row`."""
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield writer.writerow(header)
        for item in rows:
            yield writer.writerow([cell(value) for value in row(item)])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def iterate(queryset: Any) -> Iterator[Any]:
    """Iterate a queryset in bounded chunks (an export of a million decisions stays small)."""
    return queryset.iterator(chunk_size=EXPORT_CHUNK)


class DateInput(forms.DateInput):
    input_type = "date"


def browse(
    request: HttpRequest,
    *,
    form: forms.Form,
    rows: Callable[[Any], Any],
    export: tuple[Sequence[str], Callable[[Any], Sequence[object]]],
    filename: str,
    template: str,
    name: str = "rows",
    context: dict[str, Any] | None = None,
    stream: Callable[[Any], Iterable[Any]] = iterate,
) -> HttpResponse:
    """Answer a browsing page: one page of `rows(form)` (as `page`, its rows also as `name`),
    or with `?format=csv` all of them.

    Filters that do not parse answer 400 with the form's errors and no rows (never a 500, and
    never an export that silently ignores a filter).
    """
    context = {**(context or {}), "form": form, "query": query_without_page(request)}
    if not form.is_valid():
        if wants_csv(request):
            problems = "; ".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items())
            return HttpResponse(f"Bad filters: {problems}\n", status=400, content_type="text/plain; charset=utf-8")
        return render(request, template, {**context, "page": page_of(request, []), name: []}, status=400)
    found = rows(form)
    if wants_csv(request):
        header, row = export
        return csv_response(filename, header, stream(found), row)
    page = page_of(request, found)
    return render(request, template, {**context, "page": page, name: page.object_list})
