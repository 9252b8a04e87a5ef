from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from governance import actors
from governance.errors import GovernanceError
from governance.services.identity import tokens


class Command(BaseCommand):
    help = (
        "Issue an API token for USERNAME and print it as the last line. Only its hash is stored; "
        "send it as `Authorization: Bearer <token>`. The issue is logged in the ledger."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--days", type=int, default=None, help="lifetime (default API_TOKEN_TTL_DAYS)")

    def handle(self, *args: object, username: str, days: int | None, **options: object) -> None:
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"No active user named {username!r}.")
        if days is not None and not 1 <= days <= tokens.MAX_TOKEN_DAYS:
            raise CommandError(f"--days must be between 1 and {tokens.MAX_TOKEN_DAYS}.")
        try:
            with actors.command("issue_token"):
                issued = tokens.token_issue(actor=None, user=user, days=days, via="command")
        except GovernanceError as exc:
            raise CommandError(exc.message) from None
        self.stderr.write(f"Token {issued.token_id} for {username}, expires {issued.expires_at:%Y-%m-%d %H:%M} UTC:")
        self.stdout.write(issued.token)
