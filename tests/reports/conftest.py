"""Fixtures of the report tests: development credentials, a ledger, a sealed report, a TSA."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from pyhanko.sign.timestamps import DummyTimeStamper

from governance.reports import sealing

from .helpers import Authority, Ledger, make_authority, make_ledger, rsa_key, sealed_report


@pytest.fixture(scope="session")
def dev_credentials(tmp_path_factory: pytest.TempPathFactory) -> sealing.SealingCredentials:
    return sealing.development_credentials(tmp_path_factory.mktemp("dev-seal"))


@pytest.fixture(scope="session")
def ledger() -> Ledger:
    return make_ledger()


@pytest.fixture(scope="session")
def sealed(dev_credentials: sealing.SealingCredentials, ledger: Ledger) -> bytes:
    return sealed_report(dev_credentials, ledger)


class _TSAServer:
    def __init__(self, url: str, authority: Authority) -> None:
        self.url = url
        self.authority = authority
        self.requests = 0


@pytest.fixture(scope="session")
def tsa() -> Iterator[_TSAServer]:
    """Serve RFC 3161 timestamps over HTTP on localhost, from a TSA of a separate test CA."""
    authority = make_authority("Report Tests TSA Root")
    key = rsa_key(2048)  # pyHanko's test TSA signs with RSA only
    cert = authority.issue("Report Tests TSA", key, time_stamping=True)
    stamper = DummyTimeStamper(
        tsa_cert=asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)),
        tsa_key=asn1_keys.PrivateKeyInfo.load(
            key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        ),
    )
    state: dict[str, _TSAServer] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            response = stamper.request_tsa_response(tsp.TimeStampReq.load(body)).dump()
            state["server"].requests += 1
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(response)))
            self.end_headers()
            self.wfile.write(response)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    server = _TSAServer(f"http://127.0.0.1:{httpd.server_address[1]}/tsa", authority)
    state["server"] = server
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def p12_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "p12"
    directory.mkdir()
    return directory
