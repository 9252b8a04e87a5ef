"""Load the demo data (see governance.demo). Safe to run any number of times."""

from __future__ import annotations

import sys
from typing import TextIO

from django.core.management.base import BaseCommand, CommandParser
from tqdm import tqdm

from governance import demo
from ledger import services


class Progress:
    """A bar redrawn in place on a terminal; elsewhere (a log, CI) a plain line every tenth of the way."""

    def __init__(self, stream: TextIO, label: str) -> None:
        self._stream, self._label = stream, label
        self._bar: tqdm | None = None
        self._next_line = 0

    def __call__(self, done: int, total: int) -> None:
        if self._stream.isatty():
            if self._bar is None:
                self._bar = tqdm(total=total, desc=self._label, file=self._stream, unit=" decisions")
            self._bar.update(done - self._bar.n)
            if done >= total:
                self._bar.close()
        elif done >= self._next_line or done >= total:
            self._stream.write(f"{self._label} {done:,}/{total:,}\n")
            self._stream.flush()
            self._next_line = done + max(total // 10, 1)


class Command(BaseCommand):
    help = "Create the demo sign-ins, the credit-risk story and 10,000 decisions (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--password", default=demo.PASSWORD, help="password for the demo people")
        parser.add_argument("--decisions", type=int, default=demo.DECISIONS, help="how many demo decisions")

    def handle(self, *args: object, password: str, decisions: int, **options: object) -> None:
        created, total = demo.seed(password, progress=Progress(sys.stderr, "decisions"), decision_count=decisions)
        services.tree_integrate_all()
        checkpoint = services.checkpoint_sign()
        self.stdout.write(
            f"Demo data ready: {created:,} new decisions of {total:,}; ledger checkpoint at size "
            f"{checkpoint.size:,}.\nSign in as demo-officer-1, demo-officer-2, demo-compliance-head, demo-owner, "
            f"demo-auditor or demo-admin with password {password!r}; demo-pipeline uses API tokens "
            "(manage.py issue_token demo-pipeline)."
        )
