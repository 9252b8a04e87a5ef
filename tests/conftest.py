"""Shared fixtures: a signing key, append-only triggers around committed-data tests, and the
rule that under CI a test needing PostgreSQL or Redis may not be skipped."""

from __future__ import annotations

import os

import pytest
from django.conf import settings
from django.db import connection

from ledger import triggers
from model_ledger_verify import notes

REQUIRED_SERVICES = {s for s in os.environ.get("REQUIRE_SERVICES", "").split(",") if s}
_skipped_services: list[str] = []


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("postgres") and connection.vendor != "postgresql":
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL"))
        if item.get_closest_marker("redis") and not (settings.CELERY_BROKER_URL or "").startswith("redis"):
            item.add_marker(pytest.mark.skip(reason="needs Redis: set CELERY_BROKER_URL"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> object:
    outcome = yield
    report = outcome.get_result()
    if report.skipped:
        for service in REQUIRED_SERVICES:
            if item.get_closest_marker(service):
                _skipped_services.append(f"{item.nodeid} ({service})")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _skipped_services:
        print("\nTests that need a required service were skipped:")
        for name in _skipped_services:
            print(f"  {name}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def signing_key_file(tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("keys") / "ledger.key"
    path.write_text(notes.generate_signer_key("test.example/ledger") + "\n")
    return path


@pytest.fixture(autouse=True)
def _ledger_settings(settings, signing_key_file):
    settings.LEDGER_SIGNING_KEY_FILE = signing_key_file
    settings.LEDGER_ORIGIN = "test.example/ledger"
    # Production hashing takes a third of a second per password by design; tests make many.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _append_only_triggers(request: pytest.FixtureRequest):
    """Keep the append-only triggers in place, but let committed-data tests be flushed after.

    Flushing a transactional test database deletes every row, which the triggers refuse; so
    for those tests the triggers are dropped at teardown, just before the flush, and installed
    again at the start of the next test that uses the database.
    """
    marker = request.node.get_closest_marker("django_db")
    transactional = "transactional_db" in request.fixturenames or "live_server" in request.fixturenames
    transactional = transactional or bool(marker and marker.kwargs.get("transaction"))
    uses_db = transactional or marker is not None or "db" in request.fixturenames
    if not uses_db:
        yield
        return
    request.getfixturevalue("transactional_db" if transactional else "db")
    triggers.install(connection)
    yield
    if transactional:
        triggers.uninstall(connection)


@pytest.fixture
def eager_tasks():
    """Run Celery tasks in-process for this test, whatever broker is configured."""
    from config.celery import app

    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = eager
