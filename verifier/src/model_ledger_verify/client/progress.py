"""Progress on stderr: a bar redrawn in place on a terminal; elsewhere (a log, CI) a plain line every few seconds."""

from __future__ import annotations

import time
from typing import TextIO

BAR_WIDTH = 30


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
        if self._tty:
            # A bar redrawn in place; the line is padded so a shorter redraw leaves no remnant.
            filled = BAR_WIDTH * done // total if total else 0
            bar = f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] " if total else ""
            self._stream.write(f"\r{self._label}: {bar}{done:,}/{total:,} {self._unit}{percent}  ")
        else:
            self._stream.write(f"{text}\n")
        self._stream.flush()
        self._shown = True

    def finish(self) -> None:
        if self._shown and self._tty:
            self._stream.write("\n")
            self._stream.flush()
