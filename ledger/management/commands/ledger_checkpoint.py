from django.core.management.base import BaseCommand

from ledger import services


class Command(BaseCommand):
    help = "Integrate queued submissions and sign a checkpoint of the tree now."

    def handle(self, *args: object, **options: object) -> None:
        added = services.tree_integrate_all()
        checkpoint = services.checkpoint_sign()
        self.stdout.write(f"Integrated {added:,}; checkpoint at size {checkpoint.size:,}.")
        self.stdout.write(checkpoint.note)
