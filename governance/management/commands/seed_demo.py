"""Load demo data: sign-ins and a few hundred ledger events. Safe to run any number of times."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission, User
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from ledger import services

DEMO_PASSWORD = "demo-password"  # noqa: S105 — documented demo sign-in, never a real secret
DEMO_EVENTS = 300
MODELS = ("credit-risk", "claims-triage", "resume-screen")
VERSIONS = ("1.0.0", "1.1.0", "2.0.0", "2.1.0")


def _demo_event(n: int) -> dict:
    """Return the n-th demo event: a model's life from registration to decisions."""
    model = MODELS[n % len(MODELS)]
    version = VERSIONS[(n // len(MODELS)) % len(VERSIONS)]
    kinds = [
        ("model.registered", {"name": model, "risk_tier": "high"}),
        ("dataset.registered", {"name": f"{model}-train", "sha256": f"{n:064x}"}),
        ("version.registered", {"model": model, "version": version, "auc": "0.8731"}),
        ("approval.signed", {"model": model, "version": version, "meaning": "approved"}),
        ("deployment.started", {"model": model, "version": version, "environment": "staging"}),
        ("decision.logged", {"model": model, "decision_id": f"demo-{n:05d}", "score": "0.42"}),
    ]
    event_type, data = kinds[0] if n < len(MODELS) else kinds[1 + n % (len(kinds) - 1)]
    return {
        "type": event_type,
        "actor": "user:demo-pipeline",
        "subject": f"model:{model}",
        "idempotency_key": f"demo:{n}",
        "data": data,
    }


class Command(BaseCommand):
    help = "Create the demo sign-ins and ledger events (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--password", default=DEMO_PASSWORD, help="password for demo people")

    def handle(self, *args: object, password: str, **options: object) -> None:
        with transaction.atomic():
            auditors, _ = Group.objects.get_or_create(name="auditor")
            auditors.permissions.add(Permission.objects.get(codename="view_entry"))
            auditor = self._user("demo-auditor", password)
            auditor.groups.add(auditors)
            admin = self._user("demo-admin", password)
            admin.is_staff = admin.is_superuser = True
            admin.save(update_fields=["is_staff", "is_superuser"])
            added = sum(services.submit(**_demo_event(n)).created for n in range(DEMO_EVENTS))
        services.tree_integrate_all()
        checkpoint = services.checkpoint_sign()
        self.stdout.write(
            f"Demo data ready: {added} new ledger events; checkpoint at size {checkpoint.size}. "
            f"Sign in as demo-auditor or demo-admin with password {password!r}."
        )

    def _user(self, username: str, password: str) -> User:
        user, created = User.objects.get_or_create(username=username)
        if created or not user.check_password(password):
            user.set_password(password)
            user.save(update_fields=["password"])
        return user
