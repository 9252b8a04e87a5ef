from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from governance.models import Decision, ModelVersion, Report
from governance.models.reports import VERSION_KINDS
from governance.services.reports import report_generate


class Command(BaseCommand):
    help = (
        "Generate a sealed report now and write it to --out: "
        "`generate_report version MODEL VERSION --out FILE`, `generate_report annex-iv MODEL VERSION --out FILE` "
        "or `generate_report decision DECISION_ID --out FILE`."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=Report.Kind.values)
        parser.add_argument("subject", nargs="+", help="MODEL VERSION, or DECISION_ID")
        parser.add_argument("--model", help="the model slug, when a decision id is used by several models")
        parser.add_argument("--out", required=True, type=Path)
        parser.add_argument("--purpose", default="", help="e.g. regulator exam, internal audit")
        parser.add_argument(
            "--redaction",
            choices=Report.Redaction.values,
            default=Report.Redaction.AUTHORITY,
            help="decision reports: authority (everything, the default), internal (pseudonymised) or subject",
        )

    def handle(
        self,
        *args: object,
        kind: str,
        subject: list[str],
        model: str | None,
        out: Path,
        purpose: str,
        redaction: str,
        **options: object,
    ) -> None:
        if kind in VERSION_KINDS:
            if len(subject) != 2:
                raise CommandError(f"A {kind} report takes MODEL VERSION.")
            version = (
                ModelVersion.objects.select_related("model").filter(model__slug=subject[0], version=subject[1]).first()
            )
            if version is None:
                raise CommandError(f"No version {subject[1]!r} of model {subject[0]!r}.")
            report = Report.objects.create(
                kind=kind, model=version.model, version=version, purpose=purpose, requested_at=_now()
            )
        else:
            if len(subject) != 1:
                raise CommandError("A decision report takes DECISION_ID.")
            matches = Decision.objects.select_related("model", "version").filter(decision_id=subject[0])
            if model:
                matches = matches.filter(model__slug=model)
            found = list(matches[:2])
            if not found:
                raise CommandError(f"No decision {subject[0]!r}.")
            if len(found) > 1:
                raise CommandError("Several models logged that decision id; name one with --model.")
            decision = found[0]
            report = Report.objects.create(
                kind=kind,
                model=decision.model,
                version=decision.version,
                decision=decision,
                purpose=purpose,
                redaction=redaction,
                requested_at=_now(),
            )
        report = report_generate(report_id=str(report.pk))
        if report.status != Report.Status.READY:
            raise CommandError(f"Report {report.pk} failed: {report.failure_reason}")
        from django.core.files.storage import storages

        with storages["reports"].open(report.file_name, "rb") as fh:
            out.write_bytes(fh.read())
        self.stdout.write(f"Wrote {out} (report {report.pk}, SHA-256 {report.file_sha256}).")


def _now():
    from django.utils import timezone

    return timezone.now()
