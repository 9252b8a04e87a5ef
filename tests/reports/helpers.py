"""Synthetic reports, ledgers, certificates and PDF text extraction for the report tests."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import shutil
import subprocess
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from governance.reports import renderer, sealing, twin
from governance.reports.content import (
    BarChart,
    Callout,
    KeyValues,
    LineChart,
    Monospace,
    Paragraph,
    ReportContent,
    Section,
    Table,
    Timeline,
)
from model_ledger_verify import checkpoints, merkle, notes

ORIGIN = "test.example/ledger"
GENERATED_AT = dt.datetime(2026, 11, 27, 23, 40, 1, 123456, tzinfo=dt.UTC)
GREEK = "Αθηνά Παπαδοπούλου"
CYRILLIC = "Дмитрий Иванов"
ARABIC = "فاطمة الزهراء"
ACCENTED = "Zoë Ångström-Núñez"
NAMES = (GREEK, CYRILLIC, ARABIC, ACCENTED)
WATERMARK_COMPACT = "DEVELOPMENT\u2014NOTATRUSTEDSEAL"
_PRESENTATION_FORMS = re.compile("[\ufb50-\ufdff\ufe70-\ufeff]+")
# Directional marks and embeddings a text extractor may put around right-to-left text.
BIDI_CONTROLS = dict.fromkeys(map(ord, "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))


def sample_content(
    *,
    development: bool = True,
    title: str = "Model-version audit report — credit-risk 3.2.0",
    generated_at: dt.datetime = GENERATED_AT,
    audit_rows: int = 12,
) -> ReportContent:
    """Return a report with every kind of block, the four test names and ``audit_rows`` rows."""
    digest = "a3f1" * 16
    rows = tuple(
        (f"2026-11-{i % 28 + 1:02d} 10:{i % 60:02d}", NAMES[i % 4], "approved", digest) for i in range(audit_rows)
    )
    start = generated_at - dt.timedelta(days=5)
    return ReportContent(
        kind="version",
        title=title,
        report_id="RPT-TEST-0001",
        generated_at=generated_at,
        subject="model:credit-risk version 3.2.0",
        development=development,
        footer_note="Verify: ledgerctl verify-report report.pdf --trust-root ca.pem",
        title_rows=(("Purpose", "Internal audit"), ("Requester", ACCENTED)),
        sections=(
            Section(
                "1. Identification",
                (
                    KeyValues(
                        (
                            ("Owner", GREEK),
                            ("Developer", CYRILLIC),
                            ("Validator", ARABIC),
                            ("Approver", ACCENTED),
                            ("Artifact digest", f"sha256:{digest}"),
                        )
                    ),
                    Paragraph(f"Reviewed by {GREEK} and {CYRILLIC}.\nA <b>literal</b> & text."),
                    Callout("No independent validation on file\nFRIA not uploaded", "error"),
                    Callout("Approver ≠ developer", "ok"),
                ),
            ),
            Section(
                "7. Approvals",
                (Table(("When", "Who", "Meaning", "Object hash"), rows, (1.3, 1.6, 1, 3)),),
            ),
            Section(
                "9. Monitoring",
                (
                    BarChart(
                        "Approval rate by group",
                        ("18-25", "26-40", "41-65", "65+"),
                        (("Q3", (61.0, 70.5, 72.2, 58.0)), ("Q4", (63.0, 71.0, 70.0, 60.5))),
                        "approval rate, %",
                        (("four-fifths floor", 57.8),),
                    ),
                    LineChart(
                        "Weekly AUC",
                        tuple(f"W{i}" for i in range(1, 21)),
                        (("AUC", tuple(0.8 + 0.01 * (i % 4) for i in range(20))),),
                        "AUC",
                        (("alert", 0.78),),
                    ),
                    Timeline(
                        "Decision timeline",
                        (
                            (start, "received"),
                            (start + dt.timedelta(minutes=4), "scored"),
                            (start + dt.timedelta(days=2), "decision"),
                        ),
                    ),
                ),
            ),
            Section("13. Integrity", (Monospace(f"leaf {digest}\nproof {digest * 3}"),)),
        ),
    )


@dataclass
class Ledger:
    """A synthetic ledger: its leaves, a checkpoint signed by ``signer``, and its key."""

    signer: notes.Signer
    leaves: list[bytes]
    checkpoint: str

    @property
    def key(self) -> str:
        return self.signer.verifier_key()

    def evidence(self, seqs: tuple[int, ...] = (0, 3, 6)) -> dict[str, Any]:
        """Return the manifest's ledger member citing entries ``seqs``."""
        return {
            "origin": ORIGIN,
            "checkpoint": self.checkpoint,
            "entries": [
                {
                    "seq": seq,
                    "leaf_hash": self.leaves[seq].hex(),
                    "proof": [h.hex() for h in merkle.inclusion_proof(seq, self.leaves)],
                }
                for seq in seqs
            ],
        }


def make_ledger(size: int = 7, origin: str = ORIGIN) -> Ledger:
    signer = notes.Signer.from_string(notes.generate_signer_key(origin))
    leaves = [merkle.leaf_hash(f'{{"seq":{i}}}'.encode()) for i in range(size)]
    checkpoint = checkpoints.Checkpoint(origin, size, merkle.root(leaves))
    return Ledger(signer, leaves, checkpoints.sign_checkpoint(checkpoint, signer))


def manifest_for(
    pdf: bytes, credentials: sealing.SealingCredentials, ledger: dict[str, Any], *, twin: bytes | None = None
) -> dict[str, Any]:
    return sealing.build_manifest(
        pdf,
        report_id="RPT-TEST-0001",
        kind="version",
        subject="model:credit-risk version 3.2.0",
        generated_at=GENERATED_AT,
        credentials=credentials,
        ledger=ledger,
        twin_sha256=hashlib.sha256(twin).hexdigest() if twin is not None else None,
    )


def sealed_report(
    credentials: sealing.SealingCredentials,
    ledger: Ledger,
    *,
    content: ReportContent | None = None,
    tsa_url: str | None = None,
    tsa_roots_pem: list[bytes] | None = None,
) -> bytes:
    """Return a report rendered, given its manifest and sealed: the production path."""
    content = content or sample_content()
    pdf = renderer.render(content)
    report_json = twin.twin_json(content)
    manifest = manifest_for(pdf, credentials, ledger.evidence(), twin=report_json)
    with_manifest = sealing.attach_manifest(pdf, manifest, twin=report_json)
    return sealing.seal(
        with_manifest, credentials, tsa_url=tsa_url, tsa_roots_pem=tsa_roots_pem, reason="Audit report seal"
    )


def pdf_text(pdf: bytes, tmp_path: Path, *args: str) -> str:
    """Return the text pdftotext extracts from ``pdf``; skip the test without pdftotext."""
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed: apt-get install poppler-utils")
    path = tmp_path / "extract.pdf"
    path.write_bytes(pdf)
    result = subprocess.run(["pdftotext", *args, str(path), "-"], capture_output=True, check=True, timeout=60)
    # Arabic is drawn in its contextual presentation forms; compatibility decomposition gives the letters.
    text = result.stdout.decode("utf-8").translate(BIDI_CONTROLS)
    return _PRESENTATION_FORMS.sub(lambda m: unicodedata.normalize("NFKC", m.group()), text)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Report Tests"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _validity(builder: x509.CertificateBuilder) -> x509.CertificateBuilder:
    now = dt.datetime.now(dt.UTC)
    return builder.not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=30))


def _usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not ca,
        content_commitment=not ca,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


@dataclass
class Authority:
    """A test CA that issues sealing and TSA certificates."""

    key: Any
    cert: x509.Certificate

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def issue(
        self, common_name: str, key: Any, *, time_stamping: bool = False, crl_url: str | None = None
    ) -> x509.Certificate:
        builder = (
            _validity(x509.CertificateBuilder())
            .subject_name(_name(common_name))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_usage(ca=False), critical=True)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), False)
        )
        if time_stamping:
            # RFC 3161 §2.3: a TSA certificate has exactly this EKU, marked critical.
            builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        if crl_url:
            point = x509.DistributionPoint([x509.UniformResourceIdentifier(crl_url)], None, None, None)
            builder = builder.add_extension(x509.CRLDistributionPoints([point]), critical=False)
        return builder.sign(self.key, hashes.SHA256())

    def crl(self) -> bytes:
        """Return this CA's current CRL (DER), revoking nothing."""
        now = dt.datetime.now(dt.UTC)
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.cert.subject)
            .last_update(now - dt.timedelta(minutes=5))
            .next_update(now + dt.timedelta(days=7))
            .add_extension(x509.CRLNumber(1), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), False)
        )
        return builder.sign(self.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def make_authority(common_name: str = "Report Tests Root CA") -> Authority:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        _validity(x509.CertificateBuilder())
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_usage(ca=True), critical=True)
        .sign(key, hashes.SHA256())
    )
    return Authority(key, cert)


def write_p12(
    path: Path,
    key: Any,
    cert: x509.Certificate,
    chain: list[x509.Certificate],
    passphrase: bytes | None,
) -> Path:
    encryption = serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
    path.write_bytes(pkcs12.serialize_key_and_certificates(b"seal", key, cert, chain, encryption))
    return path


def rsa_key(bits: int = 3072) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())
