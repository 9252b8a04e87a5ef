"""The C2SP tlog-tiles read API (https://c2sp.org/tlog-tiles) under ``/tlog/``.

``/tlog/checkpoint`` is mutable and cached for seconds; a tile or entry bundle at a given path
never changes, so it is cached for a year as immutable. The checkpoint and the hash tiles are
public: they hold hashes only. Entry bundles hold the leaves, so they follow the entries API
(ledger read permission) unless ``LEDGER_PUBLIC_ENTRIES`` publishes them to everyone.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import NotAuthenticated, PermissionDenied
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.views import APIView

from governance import access
from ledger import tile_source
from ledger.errors import NotInLog
from model_ledger_verify.tlog.tiles import ENTRIES, TileError, parse_tile_path

CHECKPOINT_CACHE = "public, max-age=5"
TILE_CACHE = "public, max-age=31536000, immutable"
PRIVATE_TILE_CACHE = "private, max-age=31536000, immutable"


class CheckpointView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="tlog-tiles checkpoint (signed note with cosignatures)",
        responses={(200, "text/plain"): OpenApiTypes.STR},
    )
    def get(self, request: Request) -> HttpResponse:
        note = tile_source.checkpoint_note()
        response = HttpResponse(note.encode("utf-8"), content_type="text/plain; charset=utf-8")
        response["Cache-Control"] = CHECKPOINT_CACHE
        return response


class TileView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="tlog-tiles tile or entry bundle", responses={(200, "application/octet-stream"): OpenApiTypes.BINARY}
    )
    def get(self, request: Request, path: str) -> HttpResponse:
        try:
            level, index, width = parse_tile_path(f"tile/{path}")
        except TileError as exc:
            raise NotInLog(str(exc)) from None
        cache = TILE_CACHE
        if level == ENTRIES and not settings.LEDGER_PUBLIC_ENTRIES:
            user = request.user
            if not (user and user.is_authenticated):
                raise NotAuthenticated()
            if not access.reads_ledger(user):
                raise PermissionDenied()
            cache = PRIVATE_TILE_CACHE
        response = HttpResponse(tile_source.resource(level, index, width), content_type="application/octet-stream")
        response["Cache-Control"] = cache
        return response
