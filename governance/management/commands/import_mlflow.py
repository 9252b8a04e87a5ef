from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from governance.errors import GovernanceError
from governance.mlflow_import.service import import_actor, mlflow_import


class Command(BaseCommand):
    help = (
        "Record MLflow registered model versions (and their aliases, as deployments) in the ledger: "
        "`import_mlflow --tracking-uri URI [--model NAME [--model-version N]] [--user USERNAME]`. "
        "Only what is new is written; running it again imports nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tracking-uri", help="the MLflow tracking server (default: MLFLOW_TRACKING_URI)")
        parser.add_argument("--model", help="import only this MLflow registered model")
        parser.add_argument(
            "--model-version", dest="version", help="with --model: import only this version (its number in MLflow)"
        )
        parser.add_argument("--user", help="the account the import acts as (default: MLFLOW_IMPORT_USER)")

    def handle(
        self,
        *args: object,
        tracking_uri: str | None,
        model: str | None,
        version: str | None,
        user: str | None,
        **options: object,
    ) -> None:
        tracking_uri = tracking_uri or settings.MLFLOW_TRACKING_URI
        if not tracking_uri:
            raise CommandError("Name the MLflow server: --tracking-uri URI, or set MLFLOW_TRACKING_URI.")
        if version and not model:
            raise CommandError("--model-version needs --model.")
        try:
            report = mlflow_import(
                actor=import_actor(user), tracking_uri=tracking_uri, model_name=model, version=version
            )
        except GovernanceError as exc:
            raise CommandError(exc.message) from exc
        for title, items in (
            ("Models registered", report.models_created),
            ("Versions imported", report.versions_imported),
            ("Datasets registered", report.datasets_registered),
            ("Deployments recorded", report.deployments_started),
        ):
            for item in items:
                self.stdout.write(f"{title}: {item}")
        for skipped in report.skipped:
            self.stdout.write(f"Skipped {skipped}")
        self.stdout.write(
            f"{report.imported} new record(s), {len(report.unchanged)} already in the ledger, "
            f"{len(report.skipped)} skipped."
        )
