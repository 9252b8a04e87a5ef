"""``manage.py run_witness``: serve a C2SP tlog-witness for other logs on its own port."""

from __future__ import annotations

import socketserver
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.core.management.base import BaseCommand, CommandError, CommandParser

from model_ledger_verify.tlog.cosign import Cosigner, generate_cosigner_key
from witness import config


class _ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class Command(BaseCommand):
    help = (
        "Serve POST /add-checkpoint and GET /<origin hash>/checkpoint for the logs in WITNESS_LOGS, "
        "cosigning with WITNESS_SIGNING_KEY_FILE. --generate-key NAME prints a new witness key instead."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", default="127.0.0.1:8100", help="HOST:PORT to listen on")
        parser.add_argument(
            "--generate-key", metavar="NAME", help="print a new witness signing key and its verifier key"
        )

    def handle(self, *args: Any, bind: str, generate_key: str | None, **options: Any) -> None:
        if generate_key:
            skey = generate_cosigner_key(generate_key)
            self.stdout.write(skey)
            self.stdout.write(Cosigner.from_string(skey).verifier().verifier_key())
            return
        host, _, port = bind.rpartition(":")
        if not host or not port.isdigit():
            raise CommandError("--bind must be HOST:PORT")
        verifier = config.cosigner().verifier()
        logs = config.logs()
        # Only the witness routes on this port, whatever else the installation serves.
        settings.ROOT_URLCONF = "witness.standalone_urls"
        server = make_server(
            host, int(port), WSGIHandler(), server_class=_ThreadingServer, handler_class=_QuietHandler
        )
        self.stdout.write(
            f"Witness {verifier.verifier_key()} on http://{bind}/ for {len(logs)} log(s): {', '.join(logs)}"
        )
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
