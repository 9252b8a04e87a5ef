"""Refuse URLs carrying NUL characters before any view sees them.

PostgreSQL text cannot hold NUL, so such a value would fail deep in a query; no path or
parameter of this service legitimately contains one.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse


class RejectNulMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        query = request.META.get("QUERY_STRING", "")
        if "\x00" in request.path or "%00" in query or "\x00" in query:
            return JsonResponse(
                {"code": "invalid", "message": "URLs may not contain NUL (%00) characters.", "errors": {}}, status=400
            )
        return self.get_response(request)
