from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = "Governance"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from governance import checks, signals, signin  # noqa: F401  (checks and lockout events register on import)

        # Identity changes on every path (admin, commands, the ORM) become ledger events.
        signals.connect()
