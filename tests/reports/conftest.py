"""Fixtures of the report tests: development credentials, a ledger, a sealed report, a TSA."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from pyhanko.sign.timestamps import DummyTimeStamper

from governance.reports import sealing

from .helpers import Authority, Ledger, ec_key, make_authority, make_ledger, rsa_key, sealed_report, write_p12


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


@dataclass
class LongTermPKI:
    """A CA publishing its CRL over HTTP, a seal it issued, and a TSA it issued, all on localhost."""

    authority: Authority
    credentials: sealing.SealingCredentials
    tsa_url: str
    crl_requests: int = 0
    tsa_requests: int = 0


@pytest.fixture(scope="session")
def ltv_pki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LongTermPKI]:
    """Serve RFC 3161 timestamps and the CA's CRL over HTTP on localhost, for PAdES B-LTA.

    The seal and TSA certificates point at the CRL (CRL distribution points), so sealing with
    validation data fetches it from here: no network beyond this machine.
    """
    authority = make_authority("Report Tests Long-Term Root")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    crl_url = f"{base}/root.crl"
    tsa_key = rsa_key(2048)  # pyHanko's test TSA signs with RSA only
    tsa_cert = authority.issue("Report Tests Long-Term TSA", tsa_key, time_stamping=True, crl_url=crl_url)
    stamper = DummyTimeStamper(
        tsa_cert=asn1_x509.Certificate.load(tsa_cert.public_bytes(serialization.Encoding.DER)),
        tsa_key=asn1_keys.PrivateKeyInfo.load(
            tsa_key.private_bytes(
                serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        ),
    )
    seal_key = ec_key()
    seal_cert = authority.issue("Report Tests Long-Term Seal", seal_key, crl_url=crl_url)
    p12 = write_p12(tmp_path_factory.mktemp("ltv") / "seal.p12", seal_key, seal_cert, [authority.cert], None)
    pki = LongTermPKI(authority, sealing.load_signer(p12, None), f"{base}/tsa")

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, body: bytes, content_type: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            pki.crl_requests += 1
            self._answer(authority.crl(), "application/pkix-crl")

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            pki.tsa_requests += 1
            self._answer(
                stamper.request_tsa_response(tsp.TimeStampReq.load(body)).dump(), "application/timestamp-reply"
            )

        def log_message(self, *args: object) -> None:
            pass

    httpd.RequestHandlerClass = Handler
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield pki
    finally:
        httpd.shutdown()
        httpd.server_close()
