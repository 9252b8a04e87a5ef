"""Load the demo data (see governance.demo). Safe to run any number of times."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandParser

from governance import demo
from ledger import services


class Command(BaseCommand):
    help = "Create the demo sign-ins, the credit-risk story and 10,000 decisions (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--password", default=demo.PASSWORD, help="password for the demo people")
        parser.add_argument("--decisions", type=int, default=demo.DECISIONS, help="how many demo decisions")

    def handle(self, *args: object, password: str, decisions: int, **options: object) -> None:
        def progress(done: int, total: int) -> None:
            sys.stderr.write(f"\rdecisions {done:,}/{total:,}")
            if done == total:
                sys.stderr.write("\n")

        created, total = demo.seed(password, progress=progress, decision_count=decisions)
        services.tree_integrate_all()
        checkpoint = services.checkpoint_sign()
        self.stdout.write(
            f"Demo data ready: {created:,} new decisions of {total:,}; ledger checkpoint at size "
            f"{checkpoint.size:,}.\nSign in as demo-officer-1, demo-officer-2, demo-owner, demo-auditor "
            f"or demo-admin with password {password!r}; demo-pipeline uses API tokens "
            "(manage.py issue_token demo-pipeline)."
        )
