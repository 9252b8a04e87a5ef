"""Where sealed reports and published tiles are kept: Django's STORAGES, read from the environment.

The embedded mode keeps both as files under VAR_DIR. Once the web service and the workers run as
separate processes with their own disks (containers, hosts), a report sealed by a worker must be
readable by every web process: REPORT_S3_BUCKET (and TILE_S3_BUCKET for `publish_tiles`) put them
in an S3-compatible bucket (AWS, MinIO, Ceph, R2) through django-storages' S3 backend.

Credentials never appear in settings: boto3 finds them in its own chain (AWS_ACCESS_KEY_ID and
AWS_SECRET_ACCESS_KEY, a profile, an instance role), or in the files named by
AWS_ACCESS_KEY_ID_FILE and AWS_SECRET_ACCESS_KEY_FILE (container secrets).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from config.env import env_path, env_str

FILE_SYSTEM = "django.core.files.storage.FileSystemStorage"
ADDRESSING_STYLES = ("path", "virtual", "auto")


def storages(var_dir: Path) -> dict[str, dict[str, Any]]:
    """Return the STORAGES setting: "reports" and "tiles" on the file system or in buckets."""
    return {
        "default": {"BACKEND": FILE_SYSTEM},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        # Sealed reports. Each is written once under a new name (kind/id.pdf) and read back
        # through the storage API only, so any Django storage serves; a bucket does not
        # overwrite, so two runs of one report's task never replace the file the other recorded.
        "reports": _s3("REPORT", "storages.backends.s3.S3Storage", file_overwrite=False)
        or _custom("REPORT", env_path("REPORT_STORAGE_DIR", var_dir / "reports")),
        # `publish_tiles storage:tiles`: the log as static tlog-tiles files, for a CDN or bucket;
        # each object gets the Content-Type and Cache-Control the tiles API answers with.
        "tiles": _s3("TILE", "ledger.tile_storage.S3TileStorage", default_acl=env_str("TILE_S3_ACL") or None)
        or _custom("TILE", var_dir / "tiles"),
    }


def _custom(prefix: str, location: Path) -> dict[str, Any]:
    """`<prefix>_STORAGE_BACKEND`, any Django storage class (GCS, Azure…) configured by its own
    settings; unset, a directory."""
    backend = env_str(f"{prefix}_STORAGE_BACKEND")
    if backend:
        return {"BACKEND": backend, "OPTIONS": {"location": str(location)} if backend == FILE_SYSTEM else {}}
    return {"BACKEND": FILE_SYSTEM, "OPTIONS": {"location": str(location)}}


def _s3(prefix: str, backend: str, **options: Any) -> dict[str, Any] | None:
    """The bucket named by `<prefix>_S3_BUCKET` with its key prefix, endpoint (for a service other
    than AWS), region and addressing style; None when no bucket is named."""
    bucket = env_str(f"{prefix}_S3_BUCKET")
    if not bucket:
        return None
    if env_str(f"{prefix}_STORAGE_BACKEND"):
        raise ImproperlyConfigured(
            f"{prefix}_S3_BUCKET and {prefix}_STORAGE_BACKEND are both set; unset {prefix}_STORAGE_BACKEND "
            f"(the bucket configures django-storages' S3 backend itself) or {prefix}_S3_BUCKET."
        )
    style = env_str(f"{prefix}_S3_ADDRESSING_STYLE") or None
    if style not in (None, *ADDRESSING_STYLES):
        raise ImproperlyConfigured(
            f"{prefix}_S3_ADDRESSING_STYLE={style!r} is not an addressing style; use path (MinIO and "
            "most self-hosted services), virtual or auto."
        )
    return {
        "BACKEND": backend,
        "OPTIONS": {
            "bucket_name": bucket,
            "location": (env_str(f"{prefix}_S3_PREFIX") or "").strip("/"),
            "endpoint_url": env_str(f"{prefix}_S3_ENDPOINT_URL") or None,
            "region_name": env_str(f"{prefix}_S3_REGION") or None,
            "addressing_style": style,
            **_credentials_from_files(),
            **options,
        },
    }


def _credentials_from_files() -> dict[str, str]:
    """The access key pair from AWS_ACCESS_KEY_ID_FILE and AWS_SECRET_ACCESS_KEY_FILE, or nothing
    (boto3's chain then applies: it does not read *_FILE variables itself)."""
    if not (os.environ.get("AWS_ACCESS_KEY_ID_FILE") or os.environ.get("AWS_SECRET_ACCESS_KEY_FILE")):
        return {}
    access_key, secret_key = env_str("AWS_ACCESS_KEY_ID"), env_str("AWS_SECRET_ACCESS_KEY")
    if not access_key or not secret_key:
        raise ImproperlyConfigured(
            "An S3 access key is read from a file: set both AWS_ACCESS_KEY_ID(_FILE) and AWS_SECRET_ACCESS_KEY(_FILE)."
        )
    return {"access_key": access_key, "secret_key": secret_key}
