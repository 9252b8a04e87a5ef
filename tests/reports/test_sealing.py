"""Sealing appends the manifest and a PAdES signature, and loads or creates credentials."""

from __future__ import annotations

import hashlib
import io
import json
import os
import stat
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.reader import PdfFileReader

from governance.reports import renderer, sealing
from model_ledger_verify import report as verify

from .helpers import (
    Ledger,
    ec_key,
    make_authority,
    manifest_for,
    rsa_key,
    sample_content,
    sealed_report,
    write_p12,
)

REPO = Path(__file__).resolve().parents[2]


def test_it_appends_the_manifest_so_the_content_stays_a_byte_prefix(
    dev_credentials: sealing.SealingCredentials, ledger: Ledger
) -> None:
    pdf = renderer.render(sample_content())
    manifest = manifest_for(pdf, dev_credentials, ledger.evidence())
    with_manifest = sealing.attach_manifest(pdf, manifest)
    assert with_manifest.startswith(pdf)
    embedded = verify.read_manifest(PdfFileReader(io.BytesIO(with_manifest)))
    assert embedded == manifest
    assert embedded["content_sha256"] == hashlib.sha256(pdf).hexdigest()
    assert embedded["content_length"] == len(pdf)
    assert embedded["generated_at"] == "2026-11-27T23:40:01.123456Z"


def test_it_embeds_the_manifest_as_canonical_json() -> None:
    manifest = {"b": [1, "ζ"], "a": {"y": None, "x": True}}
    with_manifest = sealing.attach_manifest(renderer.render(sample_content()), manifest)
    stream = PdfFileReader(io.BytesIO(with_manifest)).root["/Names"]["/EmbeddedFiles"]
    raw = stream["/Names"][1]["/EF"]["/F"].data
    assert raw == '{"a":{"x":true,"y":null},"b":[1,"ζ"]}'.encode()
    assert raw == json.dumps(manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def test_it_refuses_a_second_manifest_and_a_manifest_that_is_not_json() -> None:
    pdf = renderer.render(sample_content())
    with pytest.raises(sealing.SealingError, match="exactly one manifest"):
        sealing.attach_manifest(sealing.attach_manifest(pdf, {"a": 1}), {"a": 2})
    with pytest.raises(ValueError):
        sealing.attach_manifest(pdf, {"x": float("inf")})


def test_it_seals_in_a_last_revision_that_keeps_everything_before_it(
    dev_credentials: sealing.SealingCredentials, ledger: Ledger
) -> None:
    pdf = renderer.render(sample_content())
    with_manifest = sealing.attach_manifest(pdf, manifest_for(pdf, dev_credentials, ledger.evidence()))
    sealed = sealing.seal(with_manifest, dev_credentials, reason="Audit report seal")
    assert sealed.startswith(with_manifest)
    (signature,) = PdfFileReader(io.BytesIO(sealed)).embedded_signatures
    assert signature.field_name == "LedgerSeal"
    assert str(signature.sig_object["/SubFilter"]) == "/ETSI.CAdES.detached"
    assert str(signature.sig_object["/Reason"]) == "Audit report seal"
    assert signature.md_algorithm == "sha256"


def test_it_refuses_to_seal_a_report_without_a_manifest_or_for_another_certificate(
    dev_credentials: sealing.SealingCredentials, ledger: Ledger
) -> None:
    pdf = renderer.render(sample_content())
    with pytest.raises(sealing.SealingError, match="no embedded manifest"):
        sealing.seal(pdf, dev_credentials, reason="x")
    manifest = manifest_for(pdf, dev_credentials, ledger.evidence())
    manifest["certificate_sha256"] = "0" * 64
    with pytest.raises(sealing.SealingError, match="another sealing certificate"):
        sealing.seal(sealing.attach_manifest(pdf, manifest), dev_credentials, reason="x")


def test_it_creates_development_credentials_once_with_private_files(tmp_path: Path) -> None:
    directory = tmp_path / "dev-keys"
    first = sealing.development_credentials(directory)
    second = sealing.development_credentials(directory)
    assert first.development
    assert first.certificate_sha256 == second.certificate_sha256
    assert stat.S_IMODE((directory / "seal.p12").stat().st_mode) == 0o600
    assert (directory / "ca.pem").read_bytes() == first.trust_root_pem
    ca = x509.load_pem_x509_certificate(first.trust_root_pem)
    assert ca.subject.rfc4514_string().startswith("CN=Model Ledger DEVELOPMENT CA — untrusted")
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    seal_cert = x509.load_der_x509_certificate(first.signer.signing_cert.dump())
    usage = seal_cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment
    assert "DEVELOPMENT report seal — untrusted" in first.subject
    assert hashlib.sha256(seal_cert.public_bytes(serialization.Encoding.DER)).hexdigest() == first.certificate_sha256
    assert sorted(p.name for p in directory.iterdir()) == ["ca.pem", "seal.p12"]


@pytest.mark.parametrize("algorithm", ["rsa-3072", "ecdsa-p256"])
def test_it_seals_with_a_production_p12_of_either_key_type(algorithm: str, p12_dir: Path, ledger: Ledger) -> None:
    authority = make_authority()
    key = rsa_key(3072) if algorithm == "rsa-3072" else ec_key()
    cert = authority.issue("Example Bank report seal", key)
    path = write_p12(p12_dir / "seal.p12", key, cert, [authority.cert], b"correct horse")
    credentials = sealing.load_signer(path, b"correct horse")
    assert not credentials.development
    assert credentials.trust_root_pem == authority.pem
    result = verify.verify_report(
        sealed_report(credentials, ledger),
        trust_roots_pem=[authority.pem],
        ledger_keys=[ledger.key],
    )
    assert result.signer_subject == "CN=Example Bank report seal,O=Report Tests"
    assert not result.development


def test_it_trusts_a_self_signed_seal_certificate_itself(p12_dir: Path, ledger: Ledger) -> None:
    authority = make_authority("Self-signed report seal")
    # The "authority" key signs its own certificate, and seals with it.
    path = write_p12(p12_dir / "self.p12", authority.key, authority.cert, [], None)
    credentials = sealing.load_signer(path, None)
    assert credentials.trust_root_pem == authority.pem


def test_it_refuses_unusable_p12_files(p12_dir: Path) -> None:
    authority = make_authority()
    key = ec_key()
    cert = authority.issue("seal", key)
    protected = write_p12(p12_dir / "a.p12", key, cert, [authority.cert], b"right")
    with pytest.raises(sealing.SealingError, match="wrong passphrase"):
        sealing.load_signer(protected, b"wrong")
    chainless = write_p12(p12_dir / "b.p12", key, cert, [], None)
    with pytest.raises(sealing.SealingError, match="no CA certificate"):
        sealing.load_signer(chainless, None)
    weak_key = rsa_key(1024)
    weak = write_p12(p12_dir / "c.p12", weak_key, authority.issue("weak", weak_key), [], None)
    with pytest.raises(sealing.SealingError, match="at least 2048 bits"):
        sealing.load_signer(weak, None)
    with pytest.raises(sealing.SealingError, match="cannot read"):
        sealing.load_signer(p12_dir / "missing.p12", None)


def test_it_agrees_on_one_development_certificate_when_created_concurrently(tmp_path: Path) -> None:
    directory = tmp_path / "race"
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: sealing.development_credentials(directory), range(4)))
    assert len({r.certificate_sha256 for r in results}) == 1
    assert sorted(p.name for p in directory.iterdir()) == ["ca.pem", "seal.p12"]


def test_it_imports_no_django_for_sealing_and_verifying() -> None:
    code = (
        "import sys\n"
        "import governance.reports.sealing, model_ledger_verify.report, governance.reports.content\n"
        "loaded = sorted({m.split('.')[0] for m in sys.modules} & {'django', 'rest_framework', 'celery'})\n"
        "sys.exit(', '.join(loaded) or None)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
