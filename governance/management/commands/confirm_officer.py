"""An existing compliance officer confirms a proposal, and the role takes effect."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from governance.errors import GovernanceError
from governance.models import RoleGrant
from governance.services.identity import officers


class Command(BaseCommand):
    help = (
        "Confirm the open proposal making USERNAME a compliance officer, as the existing officer named "
        "by --by (not USERNAME, not the proposer)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--by", required=True, help="the confirming officer's username")

    def handle(self, *args: object, username: str, by: str, **options: object) -> None:
        confirmer = get_user_model().objects.filter(username=by).first()
        if confirmer is None:
            raise CommandError(f"No user named {by!r}.")
        grant = RoleGrant.objects.filter(grantee__username=username, state=RoleGrant.State.PROPOSED).first()
        if grant is None:
            raise CommandError(f"No open compliance officer proposal for {username!r}.")
        try:
            officers.officer_confirm(actor=confirmer, grant=grant, via="command")
        except GovernanceError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(
            f"{username} is a compliance officer, proposed by {grant.proposed_by} and confirmed by {by}."
        )
