"""Refuse what no view should see: URLs carrying NUL characters, bodies over the size limit.

PostgreSQL text cannot hold NUL, so such a value would fail deep in a query; no path or
parameter of this service legitimately contains one.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
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


def payload_too_large() -> JsonResponse:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    message = (
        f"The request body is larger than this service accepts: at most {limit:,} bytes ({limit / 2**20:.1f} MiB)."
    )
    return JsonResponse({"code": "payload_too_large", "message": message, "errors": {}}, status=413)


class BodySizeLimitMiddleware:
    """Answer 413 in the JSON error shape to a body whose Content-Length is over the limit
    (MAX_REQUEST_BODY_BYTES), before anything reads it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and length > limit:
            return payload_too_large()
        return self.get_response(request)
