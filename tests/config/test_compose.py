"""docker-compose.yml, read as data (no Docker here): every process that reads or writes reports
and tiles reaches the same buckets, and everything the file names exists."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = {"migrate", "web", "worker", "beat"}


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def _depends(service: dict) -> set[str]:
    depends = service.get("depends_on", {})
    return set(depends) if isinstance(depends, (dict, list)) else set()


def _needs(services: dict, name: str) -> set[str]:
    """Every service `name` waits for, directly or through others."""
    seen: set[str] = set()
    todo = list(_depends(services[name]))
    while todo:
        other = todo.pop()
        if other not in seen:
            seen.add(other)
            todo.extend(_depends(services[other]))
    return seen


def test_every_process_of_the_service_shares_the_report_and_tile_buckets():
    services = _compose()["services"]
    assert {name for name, service in services.items() if service.get("build") == "."} == APP_SERVICES
    init = "\n".join(services["minio-init"]["command"])
    for name in APP_SERVICES:
        env = services[name]["environment"]
        for prefix in ("REPORT", "TILE"):
            assert env[f"{prefix}_S3_ENDPOINT_URL"] == "http://minio:9000", name
            assert env[f"{prefix}_S3_ADDRESSING_STYLE"] == "path", name
            assert f"local/{env[f'{prefix}_S3_BUCKET']}" in init.split("mc mb --ignore-existing")[1].split("\n")[0]
        # The buckets exist before any of them starts.
        assert {"minio", "minio-init", "postgres", "redis"} <= _needs(services, name), name
    assert services["minio-init"]["depends_on"]["minio"]["condition"] == "service_healthy"


def test_everything_the_file_names_is_defined():
    compose = _compose()
    services = compose["services"]
    for name, service in services.items():
        assert _depends(service) <= set(services), name
        for secret in service.get("secrets", []):
            assert secret in compose["secrets"], (name, secret)
        for volume in service.get("volumes", []):
            assert volume.split(":")[0] in compose["volumes"], (name, volume)
    for secret in compose["secrets"].values():
        assert secret["file"].startswith("./secrets/")


def test_the_variables_it_reads_from_dot_env_are_in_the_example():
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    defined = set(re.findall(r"^([A-Z][A-Z0-9_]*)=", example, flags=re.MULTILINE))
    wanted = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", text))
    assert wanted and wanted <= defined
