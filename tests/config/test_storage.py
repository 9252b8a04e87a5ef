"""STORAGES from the environment: reports and tiles in directories under VAR_DIR, or in buckets
that the web service and every worker share (config/storage.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.storage import storages

VAR = Path("/srv/ledger/var")
VARIABLES = [
    f"{prefix}_{name}"
    for prefix in ("REPORT", "TILE")
    for name in ("STORAGE_BACKEND", "STORAGE_DIR", "S3_BUCKET", "S3_PREFIX", "S3_ENDPOINT_URL", "S3_REGION")
] + ["REPORT_S3_ADDRESSING_STYLE", "TILE_S3_ADDRESSING_STYLE", "TILE_S3_ACL"]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in [*VARIABLES, "AWS_ACCESS_KEY_ID_FILE", "AWS_SECRET_ACCESS_KEY_FILE"]:
        monkeypatch.delenv(name, raising=False)


def test_it_keeps_reports_and_tiles_under_var_dir_by_default():
    configured = storages(VAR)
    assert configured["reports"] == {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": "/srv/ledger/var/reports"},
    }
    assert configured["tiles"]["OPTIONS"] == {"location": "/srv/ledger/var/tiles"}


def test_a_report_bucket_puts_reports_in_it_without_overwriting(monkeypatch):
    monkeypatch.setenv("REPORT_S3_BUCKET", "ledger-reports")
    monkeypatch.setenv("REPORT_S3_PREFIX", "/sealed/")
    monkeypatch.setenv("REPORT_S3_ENDPOINT_URL", "http://minio:9000")
    monkeypatch.setenv("REPORT_S3_REGION", "us-east-1")
    monkeypatch.setenv("REPORT_S3_ADDRESSING_STYLE", "path")
    assert storages(VAR)["reports"] == {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": "ledger-reports",
            "location": "sealed",
            "endpoint_url": "http://minio:9000",
            "region_name": "us-east-1",
            "addressing_style": "path",
            "file_overwrite": False,
        },
    }


def test_the_report_storage_is_django_storages_s3_with_those_options(monkeypatch):
    from django.core.files.storage import StorageHandler

    monkeypatch.setenv("REPORT_S3_BUCKET", "ledger-reports")
    monkeypatch.setenv("REPORT_S3_ENDPOINT_URL", "http://127.0.0.1:9000")
    storage = StorageHandler(storages(VAR))["reports"]
    assert (type(storage).__name__, storage.bucket_name, storage.endpoint_url, storage.file_overwrite) == (
        "S3Storage",
        "ledger-reports",
        "http://127.0.0.1:9000",
        False,
    )


def test_the_access_key_pair_is_read_from_files(monkeypatch, tmp_path):
    (tmp_path / "id").write_text("service\n")
    (tmp_path / "secret").write_text("a-secret-from-a-file\n")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID_FILE", str(tmp_path / "id"))
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY_FILE", str(tmp_path / "secret"))
    monkeypatch.setenv("REPORT_S3_BUCKET", "ledger-reports")
    monkeypatch.setenv("TILE_S3_BUCKET", "ledger-tiles")
    configured = storages(VAR)
    for alias in ("reports", "tiles"):
        options = configured[alias]["OPTIONS"]
        assert (options["access_key"], options["secret_key"]) == ("service", "a-secret-from-a-file"), alias


def test_half_an_access_key_pair_in_files_is_refused(monkeypatch, tmp_path):
    (tmp_path / "secret").write_text("a-secret-from-a-file\n")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY_FILE", str(tmp_path / "secret"))
    monkeypatch.delenv("AWS_ACCESS_KEY_ID", raising=False)
    monkeypatch.setenv("REPORT_S3_BUCKET", "ledger-reports")
    with pytest.raises(ImproperlyConfigured, match="set both AWS_ACCESS_KEY_ID"):
        storages(VAR)


def test_a_bucket_and_another_backend_together_are_refused(monkeypatch):
    monkeypatch.setenv("REPORT_S3_BUCKET", "ledger-reports")
    monkeypatch.setenv("REPORT_STORAGE_BACKEND", "django.core.files.storage.FileSystemStorage")
    with pytest.raises(ImproperlyConfigured, match="unset REPORT_STORAGE_BACKEND"):
        storages(VAR)


def test_an_unknown_addressing_style_is_refused(monkeypatch):
    monkeypatch.setenv("TILE_S3_BUCKET", "ledger-tiles")
    monkeypatch.setenv("TILE_S3_ADDRESSING_STYLE", "subdomain")
    with pytest.raises(ImproperlyConfigured, match="TILE_S3_ADDRESSING_STYLE='subdomain' is not an addressing style"):
        storages(VAR)
