from django.contrib import admin
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from api import tlog
from config.middleware import payload_too_large


def health(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file, as the CSP requires.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="docs"),
    path("api-auth/", include("rest_framework.urls")),
    path("health", health, name="health"),
    # The log as C2SP tlog-tiles, for monitors, mirrors and witnesses.
    path("tlog/checkpoint", tlog.CheckpointView.as_view(), name="tlog-checkpoint"),
    path("tlog/tile/<path:path>", tlog.TileView.as_view(), name="tlog-tile"),
    # A C2SP tlog-witness for other logs (also served alone by `manage.py run_witness`).
    path("witness/", include("witness.urls")),
    # The web console: sign-in at "/", then the review queue and the record pages.
    path("", include("console.urls")),
]


def _json_error(code: str, message: str, status: int) -> JsonResponse:
    return JsonResponse({"code": code, "message": message, "errors": {}}, status=status)


def handler400(request: HttpRequest, exception: Exception) -> JsonResponse:
    if isinstance(exception, RequestDataTooBig):
        return payload_too_large()
    return _json_error("bad_request", "The request is not valid.", 400)


def handler404(request: HttpRequest, exception: Exception) -> JsonResponse:
    return _json_error("not_found", "Not found.", 404)


def handler500(request: HttpRequest) -> JsonResponse:
    return _json_error("server_error", "Internal error; it has been logged.", 500)
