"""verify_report accepts an untouched sealed report and names the first thing that is wrong."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from pyhanko.pdf_utils.generic import pdf_string
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers

from governance.reports import renderer, sealing
from model_ledger_verify.report import ReportVerificationError, verify_report

from .helpers import Ledger, make_ledger, manifest_for, sample_content, sealed_report


def _verify(pdf: bytes, credentials: sealing.SealingCredentials, ledger: Ledger, **kwargs):
    options = {"trust_roots_pem": [credentials.trust_root_pem], "ledger_keys": [ledger.key]}
    options.update(kwargs)
    return verify_report(pdf, **options)


def _signed_range(pdf: bytes) -> tuple[int, int, int]:
    """Return where the signature's /Contents starts and ends, and the file length."""
    (signature,) = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    _, first_length, second_start, second_length = signature.byte_range
    return first_length, second_start, second_start + second_length


def _manifest_revision(credentials, log: Ledger, **changes) -> bytes:
    """Return a rendered report with its manifest, ``changes`` overriding manifest members."""
    content = renderer.render(sample_content())
    manifest = manifest_for(content, credentials, log.evidence())
    manifest.update(changes)
    return sealing.attach_manifest(content, manifest)


def test_it_verifies_a_sealed_report(
    sealed: bytes, dev_credentials: sealing.SealingCredentials, ledger: Ledger
) -> None:
    result = _verify(sealed, dev_credentials, ledger)
    assert result.report_id == "RPT-TEST-0001"
    assert result.kind == "version"
    assert result.subject == "model:credit-risk version 3.2.0"
    assert result.generated_at == "2026-11-27T23:40:01.123456Z"
    assert result.ledger_entries == 3
    assert result.checkpoint_size == 7
    assert result.checkpoint_origin == "test.example/ledger"
    assert result.certificate_sha256 == dev_credentials.certificate_sha256
    assert result.development
    assert not result.timestamped
    assert result.signing_time is not None
    assert "DEVELOPMENT report seal" in result.signer_subject


def test_it_rejects_one_byte_changed_anywhere(
    sealed: bytes, dev_credentials: sealing.SealingCredentials, ledger: Ledger
) -> None:
    content_end, manifest_end, _ = (m.end() for m in re.finditer(rb"%%EOF", sealed))
    contents_start, contents_end, end = _signed_range(sealed)
    positions = {
        "content prefix, start": 20,
        "content prefix, middle": content_end // 2,
        "content prefix, last revision end": content_end - 3,
        "manifest update": (content_end + manifest_end) // 2,
        "manifest update, its trailer": manifest_end - 30,
        "signature dictionary before /Contents": contents_start - 40,
        "signature's CMS object": contents_start + 200,
        "zero padding of /Contents": contents_end - 20,
        "signed range after /Contents": contents_end + 30,
        "final trailer": end - 30,
    }
    # And a sweep of evenly spaced positions over the whole file.
    positions.update({f"offset {p}": p for p in range(7, len(sealed), len(sealed) // 23)})
    for where, position in positions.items():
        tampered = bytearray(sealed)
        tampered[position] ^= 0x01
        with pytest.raises(ReportVerificationError):
            _verify(bytes(tampered), dev_credentials, ledger)
            pytest.fail(f"a change at {where} ({position}) was not detected")


def test_it_rejects_lowercase_hex_in_the_unsigned_contents(
    sealed: bytes, dev_credentials: sealing.SealingCredentials, ledger: Ledger
) -> None:
    contents_start, _, _ = _signed_range(sealed)
    gap = sealed[contents_start : contents_start + 400]
    letter = re.search(rb"[A-F]", gap)
    assert letter is not None
    position = contents_start + letter.start()
    tampered = sealed[:position] + sealed[position : position + 1].lower() + sealed[position + 1 :]
    with pytest.raises(ReportVerificationError, match="uppercase hex"):
        _verify(tampered, dev_credentials, ledger)


def test_it_rejects_an_incremental_update_after_the_seal(
    sealed: bytes, dev_credentials: sealing.SealingCredentials, ledger: Ledger
) -> None:
    writer = IncrementalPdfFileWriter(io.BytesIO(sealed))
    info = writer.trailer["/Info"]
    info["/Title"] = pdf_string("Rewritten after sealing")
    writer.mark_update(writer.trailer.raw_get("/Info"))
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(ReportVerificationError, match="does not cover the whole file"):
        _verify(out.getvalue(), dev_credentials, ledger)


def test_it_rejects_bytes_appended_after_the_seal(
    sealed: bytes, dev_credentials: sealing.SealingCredentials, ledger: Ledger
) -> None:
    with pytest.raises(ReportVerificationError):
        _verify(sealed + b"\n% appended\n", dev_credentials, ledger)


def test_it_rejects_a_second_signature(
    sealed: bytes, dev_credentials: sealing.SealingCredentials, ledger: Ledger
) -> None:
    signer = signers.PdfSigner(
        signers.PdfSignatureMetadata(
            field_name="Second", md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES
        ),
        signer=dev_credentials.signer,
    )
    twice = signer.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(sealed))).getvalue()
    with pytest.raises(ReportVerificationError, match="does not cover the whole file"):
        _verify(twice, dev_credentials, ledger)


def test_it_rejects_an_unsigned_report(dev_credentials: sealing.SealingCredentials, ledger: Ledger) -> None:
    unsigned = _manifest_revision(dev_credentials, ledger)
    with pytest.raises(ReportVerificationError, match="no signature"):
        _verify(unsigned, dev_credentials, ledger)
    with pytest.raises(ReportVerificationError, match="not a readable PDF"):
        _verify(b"not a pdf", dev_credentials, ledger)


def test_it_rejects_a_seal_that_does_not_chain_to_a_given_root(sealed: bytes, ledger: Ledger, tmp_path: Path) -> None:
    stranger = sealing.development_credentials(tmp_path / "another-dev-ca")
    with pytest.raises(ReportVerificationError, match="does not chain to a given trust root"):
        verify_report(sealed, trust_roots_pem=[stranger.trust_root_pem], ledger_keys=[ledger.key])
    with pytest.raises(ReportVerificationError, match="no trust roots"):
        verify_report(sealed, trust_roots_pem=[], ledger_keys=[ledger.key])


def test_it_rejects_a_manifest_whose_content_hash_does_not_match(
    dev_credentials: sealing.SealingCredentials, ledger: Ledger
) -> None:
    other = hashlib.sha256(b"another rendering").hexdigest()
    with_manifest = _manifest_revision(dev_credentials, ledger, content_sha256=other)
    sealed = sealing.seal(with_manifest, dev_credentials, reason="x")
    with pytest.raises(ReportVerificationError, match="content hash does not match"):
        _verify(sealed, dev_credentials, ledger)


def test_it_rejects_a_content_length_that_is_not_a_revision_boundary(
    dev_credentials: sealing.SealingCredentials, ledger: Ledger
) -> None:
    content = renderer.render(sample_content())
    shorter = content[:-100]
    with_manifest = _manifest_revision(
        dev_credentials,
        ledger,
        content_length=len(shorter),
        content_sha256=hashlib.sha256(shorter).hexdigest(),
    )
    sealed = sealing.seal(with_manifest, dev_credentials, reason="x")
    with pytest.raises(ReportVerificationError, match="revision"):
        _verify(sealed, dev_credentials, ledger)


def test_it_rejects_a_manifest_naming_another_certificate(
    dev_credentials: sealing.SealingCredentials, ledger: Ledger
) -> None:
    with_manifest = _manifest_revision(dev_credentials, ledger, certificate_sha256="ab" * 32)
    signer = signers.PdfSigner(
        signers.PdfSignatureMetadata(
            field_name="LedgerSeal", md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES
        ),
        signer=dev_credentials.signer,
    )
    sealed = signer.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(with_manifest))).getvalue()
    with pytest.raises(ReportVerificationError, match="another sealing certificate"):
        _verify(sealed, dev_credentials, ledger)


def test_it_rejects_a_bad_inclusion_proof(dev_credentials: sealing.SealingCredentials, ledger: Ledger) -> None:
    evidence = ledger.evidence()
    evidence["entries"][1]["proof"][0] = "00" * 32
    with_manifest = _manifest_revision(dev_credentials, ledger, ledger=evidence)
    sealed = sealing.seal(with_manifest, dev_credentials, reason="x")
    with pytest.raises(ReportVerificationError, match="seq 3 is not proven"):
        _verify(sealed, dev_credentials, ledger)


def test_it_rejects_a_checkpoint_signed_by_another_key(
    dev_credentials: sealing.SealingCredentials, ledger: Ledger
) -> None:
    impostor = make_ledger()
    sealed = sealed_report(dev_credentials, impostor)
    with pytest.raises(ReportVerificationError, match="checkpoint does not verify"):
        _verify(sealed, dev_credentials, ledger)
    # The impostor's own key does verify it: the failure was the key, not the file.
    assert _verify(sealed, dev_credentials, impostor).ledger_entries == 3


def test_it_rejects_a_checkpoint_of_another_origin_and_a_report_proving_nothing(
    dev_credentials: sealing.SealingCredentials, ledger: Ledger
) -> None:
    evidence = ledger.evidence()
    evidence["origin"] = "elsewhere.example/ledger"
    sealed = sealing.seal(
        _manifest_revision(dev_credentials, ledger, ledger=evidence),
        dev_credentials,
        reason="x",
    )
    with pytest.raises(ReportVerificationError, match="not the expected"):
        _verify(sealed, dev_credentials, ledger)
    empty = ledger.evidence(())
    sealed = sealing.seal(_manifest_revision(dev_credentials, ledger, ledger=empty), dev_credentials, reason="x")
    with pytest.raises(ReportVerificationError, match="proves no ledger record"):
        _verify(sealed, dev_credentials, ledger)


def test_it_verifies_a_timestamped_seal_when_the_tsa_is_trusted(
    dev_credentials: sealing.SealingCredentials, ledger: Ledger, tsa
) -> None:
    sealed = sealed_report(dev_credentials, ledger, tsa_url=tsa.url, tsa_roots_pem=[tsa.authority.pem])
    assert tsa.requests >= 1
    result = _verify(
        sealed,
        dev_credentials,
        ledger,
        trust_roots_pem=[dev_credentials.trust_root_pem, tsa.authority.pem],
    )
    assert result.timestamped
    assert result.timestamp_time is not None
    with pytest.raises(ReportVerificationError, match="TSA does not chain"):
        _verify(sealed, dev_credentials, ledger)


def test_it_fails_to_seal_when_the_tsa_cannot_be_reached(
    dev_credentials: sealing.SealingCredentials, ledger: Ledger
) -> None:
    with pytest.raises(sealing.SealingError, match="cannot seal"):
        sealed_report(dev_credentials, ledger, tsa_url="http://127.0.0.1:9/tsa")


@pytest.mark.skipif(
    shutil.which("pdfsig") is None,
    reason="pdfsig (poppler-utils) is not installed: apt-get install poppler-utils",
)
def test_it_produces_a_signature_that_poppler_finds_valid(sealed: bytes, tmp_path: Path) -> None:
    path = tmp_path / "sealed.pdf"
    path.write_bytes(sealed)
    # pdfsig judges trust with NSS, which does not know the development CA: only the
    # signature's own validity is asserted.
    result = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, timeout=60, check=False)
    assert "Signature Validation: Signature is Valid." in result.stdout, result.stdout
    assert "ETSI.CAdES.detached" in result.stdout
    assert "Total document signed" in result.stdout


def test_it_judges_certificates_at_the_validation_time_given(
    sealed: bytes, dev_credentials: sealing.SealingCredentials, ledger: Ledger
) -> None:
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=365 * 30)
    with pytest.raises(ReportVerificationError, match="not valid at the validation time"):
        _verify(sealed, dev_credentials, ledger, validation_time=later)
    assert _verify(sealed, dev_credentials, ledger, validation_time=dt.datetime.now(dt.UTC)).development


def test_it_rejects_malformed_ledger_keys_and_trust_roots(
    sealed: bytes, dev_credentials: sealing.SealingCredentials, ledger: Ledger
) -> None:
    with pytest.raises(ReportVerificationError, match="ledger verifier key"):
        _verify(sealed, dev_credentials, ledger, ledger_keys=["not+a+key"])
    with pytest.raises(ReportVerificationError, match="no ledger verifier keys"):
        _verify(sealed, dev_credentials, ledger, ledger_keys=[])
    with pytest.raises(ReportVerificationError, match="trust root 0"):
        _verify(sealed, dev_credentials, ledger, trust_roots_pem=[b"-----BEGIN CERTIFICATE-----\nAA==\n"])


def test_it_requires_the_witnesses_asked_for_on_the_quoted_checkpoint(
    dev_credentials: sealing.SealingCredentials,
) -> None:
    from model_ledger_verify.tlog.cosign import Cosigner, WitnessPolicy, add_signatures, generate_cosigner_key

    ledger = make_ledger()
    w1, w2 = (Cosigner.from_string(generate_cosigner_key(f"witness.test/w{i}")) for i in (1, 2))
    text = ledger.checkpoint.split("\n\n")[0] + "\n"
    ledger.checkpoint = add_signatures(ledger.checkpoint, [w1.cosign(text)])
    pdf = sealed_report(dev_credentials, ledger)
    one = WitnessPolicy(1, (w1.verifier(), w2.verifier()))
    assert _verify(pdf, dev_credentials, ledger, witness_policy=one).checkpoint_size == 7
    two = WitnessPolicy(2, (w1.verifier(), w2.verifier()))
    with pytest.raises(ReportVerificationError, match="not witnessed as required"):
        _verify(pdf, dev_credentials, ledger, witness_policy=two)
