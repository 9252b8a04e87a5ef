"""Print the role matrix of governance.access, or write it into docs/security.md."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from governance import access


def security_doc() -> Path:
    return Path(settings.BASE_DIR) / "docs" / "security.md"


def with_matrix(text: str) -> str:
    """Return `text` with its role matrix (between the markers) replaced by the current one."""
    start, end = text.find(access.MATRIX_START), text.find(access.MATRIX_END)
    if start < 0 or end < start:
        raise CommandError(
            f"docs/security.md has no role matrix markers; put {access.MATRIX_START!r} and "
            f"{access.MATRIX_END!r} on lines of their own where the table goes."
        )
    return text[:start] + access.matrix_markdown() + text[end + len(access.MATRIX_END) :]


class Command(BaseCommand):
    help = "Print the role matrix generated from governance.access.RULES; --write puts it in docs/security.md."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--write", action="store_true", help="Rewrite the matrix in docs/security.md.")

    def handle(self, *args: object, write: bool = False, **options: object) -> None:
        if not write:
            self.stdout.write(access.matrix_markdown())
            return
        path = security_doc()
        path.write_text(with_matrix(path.read_text(encoding="utf-8")), encoding="utf-8")
        self.stdout.write(f"Wrote the role matrix to {path}.")
