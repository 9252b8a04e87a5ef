"""Fixtures for the service tests: the shared world from tests/governance/world.py."""

from tests.governance.world import (  # noqa: F401 — fixtures are found by name
    PASSWORD,
    alice,
    datasets,
    make_user,
    model,
    olga,
    oscar,
    pipeline,
    register_version,
    version,
)
