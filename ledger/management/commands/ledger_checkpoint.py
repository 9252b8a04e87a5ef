from django.core.management.base import BaseCommand

from ledger import services, witnessing


class Command(BaseCommand):
    help = "Integrate queued submissions, sign a checkpoint of the tree now, and ask the witnesses to cosign it."

    def handle(self, *args: object, **options: object) -> None:
        added = services.tree_integrate_all()
        checkpoint = services.checkpoint_sign()
        self.stdout.write(f"Integrated {added:,}; checkpoint at size {checkpoint.size:,}.")
        for witness, error in witnessing.checkpoint_witness(checkpoint).items():
            self.stdout.write(f"Witness {witness}: {error or 'cosigned'}")
        self.stdout.write(witnessing.cosigned_note(checkpoint))
