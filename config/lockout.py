"""The answer to a sign-in refused for too many failures: the API's JSON error, or a page."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from governance.signin import lockout_message, retry_at


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict | None = None
) -> HttpResponse:
    until = retry_at(request, (credentials or {}).get("username"))
    message = lockout_message(until)
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse({"code": "locked_out", "message": message, "errors": {}}, status=429)
    else:
        response = render(request, "console/locked_out.html", {"message": message, "until": until}, status=429)
    response["Retry-After"] = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    return response
