import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandParser

from governance.reports.credentials import SealingUnavailable, sealing_credentials, tsa_roots
from ledger import selectors as ledger_selectors
from model_ledger_verify.report import ReportVerificationError, verify_report


class Command(BaseCommand):
    help = (
        "Verify a sealed report against this service's trust root and ledger keys: exactly one intact, "
        "trusted signature covering the whole file, a matching manifest, valid ledger proofs, and every fact "
        "of the embedded evidence.json equal to its ledger entry. Exit 0 or 1."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)

    def handle(self, *args: object, file: Path, **options: object) -> None:
        try:
            pdf = file.read_bytes()
            roots = [sealing_credentials().trust_root_pem, *tsa_roots()]
        except (OSError, SealingUnavailable) as exc:
            self.stderr.write(f"REPORT NOT VERIFIED: {exc}")
            sys.exit(1)
        keys = [key.verifier_key for key in ledger_selectors.signing_key_list()]
        try:
            result = verify_report(pdf, trust_roots_pem=roots, ledger_keys=keys)
        except ReportVerificationError as exc:
            self.stderr.write(f"REPORT NOT VERIFIED: {exc}")
            sys.exit(1)
        self.stdout.write(
            f"Report verified: {result.kind} report {result.report_id} on {result.subject}, sealed by "
            f"{result.signer_subject} (PAdES {result.level}); {result.ledger_entries} ledger entries proven "
            f"against checkpoint size "
            f"{result.checkpoint_size}; {result.facts} facts checked against their ledger entries"
            f"{f'; {result.withheld} entries withheld from this edition proven to exist' if result.withheld else ''}"
            f"{' (DEVELOPMENT seal)' if result.development else ''}."
        )
