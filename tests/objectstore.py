"""An S3 endpoint on the loopback for the tests of buckets: moto in server mode (S3 itself is
outside our control), reached over real HTTP by django-storages and boto3, in this process or in
the service processes a test starts."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

boto3 = pytest.importorskip("boto3")
moto_server = pytest.importorskip("moto.server")

# moto accepts any key pair; boto3 insists on having one.
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


@dataclass(frozen=True)
class S3:
    endpoint: str
    client: Any

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        listed = self.client.list_objects_v2(Bucket=bucket, Prefix=prefix)
        return [item["Key"] for item in listed.get("Contents", [])]


@pytest.fixture
def s3(monkeypatch) -> Iterator[S3]:
    """An empty S3 endpoint; boto3 finds the credentials in the environment."""
    # Port 0: the system picks a free one, and nothing can take it between choosing and binding.
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    endpoint = "http://{}:{}".format(*server.get_host_and_port())
    # moto keeps its buckets in this process, across servers: start each test from none.
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"), timeout=10)  # noqa: S310
    try:
        yield S3(endpoint, boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1"))
    finally:
        server.stop()
