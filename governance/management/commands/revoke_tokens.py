"""Revoke every API token a user holds (each a `token.revoked` event)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from governance import actors
from governance.services.identity import tokens


class Command(BaseCommand):
    help = "Revoke every API token USERNAME holds; each revocation is logged in the ledger."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: object, username: str, **options: object) -> None:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        with actors.command("revoke_tokens"):
            revoked = tokens.token_revoke(actor=None, user=user, via="command")
        self.stdout.write(f"Revoked {len(revoked.token_ids)} token(s) of {username}: {', '.join(revoked.token_ids)}")
