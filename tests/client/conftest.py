"""The client tests need no Django: the offline verifier and ``ledgerctl`` must work without it.

The project-wide autouse fixtures configure Django settings and database triggers; here they
are replaced by no-ops so these tests also run with ``-p no:django``.
"""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _ledger_settings() -> None:
    """No Django settings to adjust for offline verification."""


@pytest.fixture(autouse=True)
def _append_only_triggers() -> None:
    """No database is used by the client tests."""
