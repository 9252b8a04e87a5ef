from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from knox.models import AuthToken


class Command(BaseCommand):
    help = (
        "Issue an API token for USERNAME and print it as the last line. Only its hash is stored; "
        "send it as `Authorization: Bearer <token>`."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--days", type=int, default=None, help="lifetime (default API_TOKEN_TTL_DAYS)")

    def handle(self, *args: object, username: str, days: int | None, **options: object) -> None:
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"No active user named {username!r}.")
        if days is not None and days < 1:
            raise CommandError("--days must be at least 1.")
        expiry = timedelta(days=days) if days else settings.REST_KNOX["TOKEN_TTL"]
        instance, token = AuthToken.objects.create(user=user, expiry=expiry)
        self.stderr.write(f"Token for {username}, expires {instance.expiry:%Y-%m-%d %H:%M} UTC:")
        self.stdout.write(token)
