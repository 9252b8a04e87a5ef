"""Make the first compliance officer of a new installation (refused once one exists)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from governance import actors
from governance.errors import GovernanceError
from governance.services.identity import officers


class Command(BaseCommand):
    help = (
        "Make USERNAME the first compliance officer of an installation that has none. Later officers "
        "are proposed by an administrator and confirmed by an existing officer (propose_officer, "
        "confirm_officer). Logged in the ledger as a bootstrap."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--reason", default="first compliance officer of this installation")

    def handle(self, *args: object, username: str, reason: str, **options: object) -> None:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        try:
            with actors.command("bootstrap_officer"):
                officers.officer_bootstrap(grantee=user, reason=reason)
        except GovernanceError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"{username} is the first compliance officer.")
