from django.core.management.base import BaseCommand, CommandError

from governance.reports.credentials import SealingUnavailable, sealing_credentials, tsa_roots


class Command(BaseCommand):
    help = (
        "Print the PEM certificates a validator should trust for this service's report seals: the "
        "seal's root, then the roots of the timestamp authority (REPORT_TSA_ROOTS_FILE), if any."
    )

    def handle(self, *args: object, **options: object) -> None:
        try:
            credentials = sealing_credentials()
            extra = tsa_roots()
        except SealingUnavailable as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(credentials.trust_root_pem.decode().rstrip())
        for blob in extra:
            self.stdout.write(blob.decode().rstrip())
