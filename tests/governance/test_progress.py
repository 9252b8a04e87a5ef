"""Progress of `seed_demo` (what `make run` prints): a bar on a terminal, plain lines in a log."""

from __future__ import annotations

import io

from governance.management.commands.seed_demo import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_it_writes_plain_lines_when_the_output_is_not_a_terminal():
    log = io.StringIO()
    progress = Progress(log, "decisions")
    for done in range(1_000, 10_001, 1_000):
        progress(done, 10_000)
    lines = log.getvalue().splitlines()
    assert lines[0] == "decisions 1,000/10,000" and lines[-1] == "decisions 10,000/10,000"
    assert len(lines) == 10 and "\r" not in log.getvalue()


def test_it_writes_a_line_per_tenth_however_often_it_is_called():
    log = io.StringIO()
    progress = Progress(log, "decisions")
    for done in range(1, 1_001):
        progress(done, 1_000)
    assert len(log.getvalue().splitlines()) == 11  # the first call, each tenth, and the end


def test_it_draws_a_bar_on_a_terminal():
    terminal = Terminal()
    progress = Progress(terminal, "decisions")
    for done in (5_000, 10_000):
        progress(done, 10_000)
    shown = terminal.getvalue()
    assert "\r" in shown and "100%|##########| 10000/10000" in shown
