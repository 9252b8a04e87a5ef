"""Progress on stderr: redrawn in place on a terminal, a few plain lines otherwise."""

from __future__ import annotations

import time
from typing import TextIO


class ByteProgress:
    """Counts of done/total units, e.g. bytes hashed or decisions uploaded."""

    def __init__(self, stream: TextIO, label: str, *, unit: str = "bytes") -> None:
        self._stream, self._label, self._unit = stream, label, unit
        self._tty = stream.isatty()
        self._last = 0.0
        self._shown = False

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self._last < (0.2 if self._tty else 5.0) and done != total:
            return
        self._last = now
        percent = f" ({done / total:.0%})" if total else ""
        text = f"{self._label}: {done:,}/{total:,} {self._unit}{percent}"
        self._stream.write(f"\r{text}" if self._tty else f"{text}\n")
        self._stream.flush()
        self._shown = True

    def finish(self) -> None:
        if self._shown and self._tty:
            self._stream.write("\n")
            self._stream.flush()
