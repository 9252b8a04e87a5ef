"""An S3-compatible bucket for `publish_tiles storage:tiles` (django-storages' S3 backend, boto3).

Each object is written with the Content-Type and Cache-Control the tiles API answers with, so a
CDN or the bucket's own website endpoint serves the log as `/tlog/` does: the checkpoint
short-lived, full tiles and bundles immutable, partial tiles briefly (a wider one replaces them).
Overwrites in place: the checkpoint is never missing while it is replaced. Configured by the
TILE_S3_* settings; credentials come from boto3's usual chain (AWS_ACCESS_KEY_ID and
AWS_SECRET_ACCESS_KEY, a profile, or an instance role), never from the settings.
"""

from __future__ import annotations

from typing import Any

from storages.backends.s3 import S3Storage

CHECKPOINT_HEADERS = {"ContentType": "text/plain; charset=utf-8", "CacheControl": "public, max-age=5"}
FULL_TILE_HEADERS = {"ContentType": "application/octet-stream", "CacheControl": "public, max-age=31536000, immutable"}
PARTIAL_TILE_HEADERS = {"ContentType": "application/octet-stream", "CacheControl": "public, max-age=5"}


def object_headers(name: str) -> dict[str, str]:
    """Return the S3 object parameters for one tlog-tiles path (relative to the bucket prefix)."""
    if name == "checkpoint":
        return dict(CHECKPOINT_HEADERS)
    # A partial tile is `tile/<L>/<N>.p/<W>`; full tiles and bundles never change.
    return dict(PARTIAL_TILE_HEADERS if ".p/" in name else FULL_TILE_HEADERS)


class S3TileStorage(S3Storage):
    """django-storages' S3Storage writing tlog-tiles objects with the API's headers."""

    def __init__(self, **settings: Any) -> None:
        settings.setdefault("file_overwrite", True)
        super().__init__(**settings)

    def get_object_parameters(self, name: str) -> dict[str, Any]:
        params = super().get_object_parameters(name)
        relative = name.removeprefix(f"{self.location.rstrip('/')}/") if self.location else name
        params.update(object_headers(relative))
        return params
