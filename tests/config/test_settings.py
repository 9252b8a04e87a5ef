"""Settings come from the environment, and a malformed value stops the service at start."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from model_ledger_verify import notes

ROOT = Path(__file__).resolve().parents[2]
BASE_ENV = {
    "PATH": os.environ.get("PATH", ""),
    "DJANGO_SETTINGS_MODULE": "config.settings",
    "SECRET_KEY": "a-test-secret-that-is-long-enough-for-the-deploy-check-0123456789abcdef",
}


def _run(args: list[str], **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**BASE_ENV, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _setup(**env: str) -> subprocess.CompletedProcess:
    return _run(["-c", "import django; django.setup()"], **env)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DJANGO_DEBUG": "maybe"}, "DJANGO_DEBUG='maybe' is not a boolean"),
        ({"DATABASE_URL": "nonsense://x"}, "is not a database URL"),
        ({"LEDGER_CHECKPOINT_INTERVAL": "soon"}, "LEDGER_CHECKPOINT_INTERVAL='soon' is not an integer"),
        ({"LEDGER_CHECKPOINT_INTERVAL": "0"}, "below the minimum of 1"),
        ({"SECRET_KEY": ""}, "SECRET_KEY (or SECRET_KEY_FILE) must be set"),
        ({"SECRET_KEY_FILE": "/nonexistent/secret"}, "SECRET_KEY_FILE='/nonexistent/secret' cannot be read"),
    ],
)
def test_a_malformed_setting_fails_at_start_with_a_clear_message(env, message):
    result = _setup(**env)
    assert result.returncode != 0
    assert message in result.stderr


def test_secrets_are_read_from_files(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("from-a-file\n")
    result = _run(
        ["-c", "import django; django.setup(); from django.conf import settings; print(settings.SECRET_KEY)"],
        SECRET_KEY="",
        SECRET_KEY_FILE=str(secret),
    )
    assert result.stdout.strip() == "from-a-file"


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    from governance.reports import sealing

    key = tmp_path / "ledger.key"
    key.write_text(notes.generate_signer_key("prod.example/ledger") + "\n")
    sealing.development_credentials(tmp_path / "seal")  # any PKCS #12 will do for the check
    result = _run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        ALLOWED_HOSTS="ledger.example.com",
        LEDGER_SIGNING_KEY_FILE=str(key),
        REPORT_SIGNING_P12_FILE=str(tmp_path / "seal" / "seal.p12"),
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )
    assert result.returncode == 0, result.stderr + result.stdout


def test_check_deploy_reports_the_missing_report_certificate(tmp_path):
    key = tmp_path / "ledger.key"
    key.write_text(notes.generate_signer_key("prod.example/ledger") + "\n")
    result = _run(
        ["manage.py", "check", "--deploy"],
        ALLOWED_HOSTS="ledger.example.com",
        LEDGER_SIGNING_KEY_FILE=str(key),
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )
    assert result.returncode != 0
    assert "governance.E001" in result.stderr


def test_check_deploy_reports_the_development_key(tmp_path):
    result = _run(
        ["manage.py", "check", "--deploy"],
        DJANGO_DEBUG="1",
        VAR_DIR=str(tmp_path),
        ALLOWED_HOSTS="ledger.example.com",
    )
    assert result.returncode != 0
    assert "ledger.E001" in result.stderr


def test_a_malformed_key_file_is_reported_by_check(tmp_path):
    key = tmp_path / "ledger.key"
    key.write_text("PRIVATE+KEY+not-a-key\n")
    result = _run(
        ["manage.py", "check"], LEDGER_SIGNING_KEY_FILE=str(key), DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}"
    )
    assert result.returncode != 0
    assert "ledger.E002" in result.stderr


def test_a_tile_bucket_configures_the_tiles_storage(tmp_path):
    code = (
        "import django; django.setup(); from django.core.files.storage import storages; "
        "s = storages['tiles']; print(type(s).__name__, s.bucket_name, s.location, s.endpoint_url, s.default_acl)"
    )
    result = _run(
        ["-c", code],
        DJANGO_DEBUG="1",
        VAR_DIR=str(tmp_path),
        TILE_S3_BUCKET="ledger-tiles",
        TILE_S3_PREFIX="/tlog/",
        TILE_S3_ENDPOINT_URL="http://127.0.0.1:9000",
        TILE_S3_ACL="public-read",
    )
    assert result.stdout.split() == ["S3TileStorage", "ledger-tiles", "tlog", "http://127.0.0.1:9000", "public-read"]
