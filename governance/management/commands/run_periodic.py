"""Run the periodic jobs by hand: once, or on their schedule until interrupted."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError, CommandParser

from config.celery import PERIODIC_JOBS, app

# How often the loop wakes to see which job is due: the shortest interval is a few seconds.
TICK_SECONDS = 1.0


class Command(BaseCommand):
    help = (
        "Run the periodic jobs in this process, on the schedule Celery beat uses (config/celery.py), "
        f"or each once with --once. Jobs: {', '.join(PERIODIC_JOBS)} (default: every enabled job)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("jobs", nargs="*", metavar="JOB", help="jobs to run (default: all enabled)")
        parser.add_argument("--once", action="store_true", help="run each job once, then exit")

    def handle(self, *args: object, jobs: list[str], once: bool, **options: object) -> None:
        unknown = [name for name in jobs if name not in PERIODIC_JOBS]
        if unknown:
            raise CommandError(f"Unknown job {', '.join(unknown)}; choose from {', '.join(PERIODIC_JOBS)}.")
        names = jobs or [name for name, job in PERIODIC_JOBS.items() if job.enabled]
        app.loader.import_default_modules()
        if once:
            failed = [name for name in names if not self._run(name)]
            if failed:
                raise CommandError(f"Failed: {', '.join(failed)}.")
            return
        due = dict.fromkeys(names, 0.0)
        self.stdout.write(f"Running {', '.join(names)} on their schedule; stop with Ctrl-C.")
        try:
            while True:
                for name in names:
                    if time.monotonic() >= due[name]:
                        due[name] = time.monotonic() + PERIODIC_JOBS[name].interval
                        self._run(name)
                time.sleep(TICK_SECONDS)
        except KeyboardInterrupt:
            self.stdout.write("Stopped.")

    def _run(self, name: str) -> bool:
        job = PERIODIC_JOBS[name]
        started = time.monotonic()
        try:
            result = app.tasks[job.task].apply(throw=True).get()
        except Exception as exc:  # a failing job is reported and the others still run
            self.stderr.write(f"{name}: failed: {type(exc).__name__}: {exc}")
            return False
        self.stdout.write(f"{name}: {result} ({time.monotonic() - started:.2f} s)")
        return True
