"""`publish_tiles storage:tiles` to an S3 bucket, through django-storages and boto3 as configured
by TILE_S3_*, against moto's S3 server on the loopback (S3 itself is outside our control).

The bucket then serves the log without the application: `ledgerctl verify --tiles` audits it over
HTTP from the bucket's URL alone.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User
from django.core.management import call_command
from rest_framework.test import APIClient

from ledger import services
from model_ledger_verify import notes
from model_ledger_verify.client.cli import main as ledgerctl
from tests.ledger.helpers import fill
from tests.objectstore import s3  # noqa: F401 — a fixture, found by name

BUCKET = "ledger-tiles"
PREFIX = "tlog/v1"
SIZE = 600  # two full level-0 tiles and a partial one


@pytest.fixture
def tile_bucket(s3, settings):
    """STORAGES["tiles"] as config/settings.py builds it from TILE_S3_BUCKET and friends, with
    TILE_S3_ACL=public-read so that anyone may read the tiles (moto refuses anonymous reads
    of private objects, as S3 does)."""
    endpoint, client = s3.endpoint, s3.client
    client.create_bucket(Bucket=BUCKET)
    settings.STORAGES = {
        **settings.STORAGES,
        "tiles": {
            "BACKEND": "ledger.tile_storage.S3TileStorage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "location": PREFIX,
                "endpoint_url": endpoint,
                "region_name": "us-east-1",
                "addressing_style": "path",
                "default_acl": "public-read",
            },
        },
    }
    return endpoint, client


def _objects(client) -> dict[str, dict]:
    listed = client.list_objects_v2(Bucket=BUCKET, Prefix=f"{PREFIX}/")
    return {item["Key"].removeprefix(f"{PREFIX}/"): item for item in listed.get("Contents", [])}


def test_publish_tiles_writes_the_log_to_a_bucket_that_serves_it(tile_bucket, db, signing_key_file, capsys):
    endpoint, client = tile_bucket
    auditor = User.objects.create_user("alice")
    auditor.user_permissions.add(Permission.objects.get(codename="view_entry"))
    services.tree_integrate_all()  # the auditor's user.created
    fill(SIZE - 1)
    assert services.checkpoint_sign().size == SIZE
    call_command("publish_tiles", "storage:tiles", "--entries")
    assert "Published size 600" in capsys.readouterr().out

    objects = _objects(client)
    assert {"checkpoint", "tile/0/000", "tile/0/001", "tile/0/002.p/88", "tile/1/000.p/2", "tile/entries/000"} <= set(
        objects
    )
    # Byte for byte what the API serves, with the API's content types and cache headers.
    api = APIClient()
    api.force_authenticate(auditor)
    for name in objects:
        stored = client.get_object(Bucket=BUCKET, Key=f"{PREFIX}/{name}")
        served = api.get(f"/tlog/{name}")
        assert stored["Body"].read() == served.content, name
        assert stored["ContentType"] == served["Content-Type"], name
    head = client.head_object
    assert head(Bucket=BUCKET, Key=f"{PREFIX}/checkpoint")["CacheControl"] == "public, max-age=5"
    assert head(Bucket=BUCKET, Key=f"{PREFIX}/tile/0/000")["CacheControl"] == "public, max-age=31536000, immutable"
    assert head(Bucket=BUCKET, Key=f"{PREFIX}/tile/0/002.p/88")["CacheControl"] == "public, max-age=5"

    # The bucket alone is enough to audit the log.
    key = notes.Signer.from_string(signing_key_file.read_text()).verifier_key()
    assert ledgerctl(["verify", "--tiles", f"{endpoint}/{BUCKET}/{PREFIX}", "--key", key]) == 0

    # The log grows: full tiles already there are left alone, the checkpoint is replaced in place.
    full = objects["tile/0/000"]["LastModified"], objects["tile/0/000"]["ETag"]
    fill(100, start=SIZE)
    services.checkpoint_sign()
    call_command("publish_tiles", "storage:tiles", "--entries")
    assert "Published size 700" in capsys.readouterr().out
    after = _objects(client)
    assert (after["tile/0/000"]["LastModified"], after["tile/0/000"]["ETag"]) == full
    assert "tile/0/002.p/188" in after
    note = client.get_object(Bucket=BUCKET, Key=f"{PREFIX}/checkpoint")["Body"].read().decode()
    assert note.split("\n")[1] == "700"
    assert ledgerctl(["verify", "--tiles", f"{endpoint}/{BUCKET}/{PREFIX}", "--key", key]) == 0
