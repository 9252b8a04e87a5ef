"""Progress of a long check: a rewritten line on a terminal, plain lines otherwise."""

from __future__ import annotations

from typing import TextIO

# Off a terminal, one line per this many records of a kind (and one when a kind starts).
PLAIN_EVERY = 100_000


class Progress:
    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.kind = ""
        self.count = 0
        self.shown = 0
        self.dirty = False

    def _write(self, text: str) -> None:
        if self.tty:
            self.stream.write(f"\r\x1b[K{text}")
            self.dirty = True
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def entries(self, done: int, total: int) -> None:
        if self.tty or done == total or done - self.shown >= PLAIN_EVERY:
            self.shown = done
            self._write(f"checked {done:,}/{total:,} ledger entries")

    def records(self, kind: str, n: int) -> None:
        if kind != self.kind:
            self.kind, self.count, self.shown = kind, 0, 0
        self.count += n
        if self.tty or self.count - self.shown >= PLAIN_EVERY or self.shown == 0:
            self.shown = self.count
            self._write(f"reconciled {self.count:,} {kind} records")

    def done(self) -> None:
        if self.dirty:
            self.stream.write("\n")
            self.stream.flush()
            self.dirty = False
