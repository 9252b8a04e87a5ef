"""`ledgerctl logout`: revoke the API token in use (LEDGER_TOKEN), so it cannot be used again."""

from __future__ import annotations

import argparse
from typing import Any

from model_ledger_verify.client.calls import add_common_options, call


def register_logout(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("logout", help="revoke the API token in use; it stops working at once")
    add_common_options(parser)
    parser.set_defaults(handler=_logout)


def _logout(args: argparse.Namespace) -> int:
    def action(client: Any) -> dict:
        return client.revoke_token()

    return call(args, action, lambda answer: f"revoked token {', '.join(answer['revoked'])}")


REGISTRARS = [register_logout]
