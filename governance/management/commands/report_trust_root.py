from django.core.management.base import BaseCommand, CommandError

from governance.reports.credentials import SealingUnavailable, sealing_credentials


class Command(BaseCommand):
    help = "Print the PEM certificate a validator should trust for this service's report seals."

    def handle(self, *args: object, **options: object) -> None:
        try:
            credentials = sealing_credentials()
        except SealingUnavailable as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(credentials.trust_root_pem.decode().rstrip())
