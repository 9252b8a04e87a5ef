"""An administrator proposes someone for the compliance officer role."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from governance.errors import GovernanceError
from governance.services.identity import officers


class Command(BaseCommand):
    help = (
        "Propose USERNAME for the compliance officer role, as the administrator named by --by. It takes "
        "effect when an existing officer other than USERNAME confirms it (confirm_officer)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--by", required=True, help="the proposing administrator's username")
        parser.add_argument("--reason", default="")

    def handle(self, *args: object, username: str, by: str, reason: str, **options: object) -> None:
        User = get_user_model()
        grantee, proposer = User.objects.filter(username=username).first(), User.objects.filter(username=by).first()
        if grantee is None or proposer is None:
            raise CommandError(f"No user named {username if grantee is None else by!r}.")
        try:
            grant = officers.officer_propose(actor=proposer, grantee=grantee, reason=reason, via="command")
        except GovernanceError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"Proposed {username} as compliance officer (proposal {grant.pk}); awaiting confirmation.")
