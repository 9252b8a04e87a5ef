import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ledger import keys, selectors
from ledger.errors import SigningKeyUnavailable
from model_ledger_verify import notes


class Command(BaseCommand):
    help = (
        "Print the ledger's verifier key strings, one per line (the active key last). "
        "With --generate NAME --out FILE, write a new signing key file instead."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--generate", metavar="NAME", help="make a new signing key named NAME")
        parser.add_argument("--out", metavar="FILE", help="where to write the new key (mode 0600)")

    def handle(self, *args: object, generate: str | None, out: str | None, **options: object) -> None:
        if generate:
            if not out:
                raise CommandError("--generate needs --out FILE.")
            try:
                skey = notes.generate_signer_key(generate)
            except notes.NoteError as exc:
                raise CommandError(str(exc)) from None
            try:
                fd = os.open(Path(out), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                raise CommandError(f"{out} exists; refusing to overwrite a key.") from None
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(skey + "\n")
            self.stdout.write(notes.Signer.from_string(skey).verifier_key())
            return
        seen = [key.verifier_key for key in selectors.signing_key_list()]
        try:
            active = keys.active_signer().verifier_key()
        except SigningKeyUnavailable as exc:
            if not seen:
                raise CommandError(str(exc)) from None
            active = None
        if active and active in seen:
            seen.remove(active)
        for line in [*seen, *([active] if active else [])]:
            self.stdout.write(line)
