"""Change a user from the command line: (de)activate, grant or revoke roles, staff and superuser."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from governance import actors
from governance.errors import GovernanceError
from governance.roles import Role


class Command(BaseCommand):
    help = (
        "Change USERNAME as the operator at this terminal; every change is logged in the ledger as this "
        "command. The compliance_officer role is not granted here (bootstrap_officer, propose_officer)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        state = parser.add_mutually_exclusive_group()
        state.add_argument("--deactivate", action="store_true")
        state.add_argument("--reactivate", action="store_true")
        parser.add_argument("--grant", action="append", default=[], choices=Role.values, metavar="ROLE")
        parser.add_argument("--revoke", action="append", default=[], choices=Role.values, metavar="ROLE")
        parser.add_argument("--staff", choices=["yes", "no"])
        parser.add_argument("--superuser", choices=["yes", "no"])

    def handle(self, *args: object, username: str, **options: object) -> None:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        fields = []
        if options["deactivate"] or options["reactivate"]:
            user.is_active = bool(options["reactivate"])
            fields.append("is_active")
        for flag, field in (("staff", "is_staff"), ("superuser", "is_superuser")):
            if options[flag]:
                setattr(user, field, options[flag] == "yes")
                fields.append(field)
        try:
            with actors.command("change_user"), transaction.atomic():
                if fields:
                    user.save(update_fields=fields)
                for role in options["grant"]:
                    user.groups.add(Group.objects.get_or_create(name=role)[0])
                for role in options["revoke"]:
                    user.groups.remove(Group.objects.get_or_create(name=role)[0])
        except GovernanceError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"Changed {username}.")
