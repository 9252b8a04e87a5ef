"""Writes to the governance domain. Each service is atomic and logs its ledger event."""
