"""PAdES B-LTA: with a timestamp authority, the seal gets a timestamp, validation data and a document timestamp."""

from __future__ import annotations

import io

import pytest
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader

from governance.reports import conformance
from model_ledger_verify.report import ARCHIVE_TIMESTAMP_FIELD, ReportVerificationError, verify_report

from .conftest import LongTermPKI
from .helpers import Ledger, sample_content, sealed_report


@pytest.fixture(scope="module")
def archived(ltv_pki: LongTermPKI, ledger: Ledger) -> bytes:
    return sealed_report(
        ltv_pki.credentials, ledger, content=sample_content(development=False), tsa_url=ltv_pki.tsa_url
    )


def _verify(pdf: bytes, pki: LongTermPKI, ledger: Ledger):
    return verify_report(pdf, trust_roots_pem=[pki.authority.pem], ledger_keys=[ledger.key])


def test_a_report_sealed_with_a_tsa_is_pades_b_lta(archived: bytes, ltv_pki: LongTermPKI, ledger: Ledger) -> None:
    result = _verify(archived, ltv_pki, ledger)
    assert result.level == "B-LTA"
    assert result.timestamped and result.archive_timestamp_time is not None
    assert ltv_pki.tsa_requests >= 2  # the signature timestamp and the document timestamp
    assert ltv_pki.crl_requests >= 1  # validation data fetched from the CA, on localhost


def test_the_validation_data_is_in_the_dss_and_the_document_timestamp_is_last(archived: bytes) -> None:
    reader = PdfFileReader(io.BytesIO(archived))
    dss = reader.root["/DSS"]
    assert len(dss["/Certs"]) >= 3  # the seal's, the TSA's and the root
    assert len(dss["/CRLs"]) >= 1
    signatures = reader.embedded_signatures
    assert [s.sig_object_type for s in signatures] == ["/Sig", "/DocTimeStamp"]
    assert signatures[-1].field_name == ARCHIVE_TIMESTAMP_FIELD
    _, _, second, rest = signatures[-1].byte_range
    assert second + rest == len(archived)  # the document timestamp covers every byte


def test_a_b_lta_report_is_still_pdfa_3b(archived: bytes) -> None:
    assert conformance.check(archived) == []


def test_anything_appended_after_the_document_timestamp_fails(
    archived: bytes, ltv_pki: LongTermPKI, ledger: Ledger
) -> None:
    writer = IncrementalPdfFileWriter(io.BytesIO(archived))
    writer.root["/PageMode"] = writer.root["/PageMode"].__class__("/UseNone")
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(ReportVerificationError, match="appended after"):
        _verify(out.getvalue(), ltv_pki, ledger)


def test_one_changed_byte_in_the_archival_revision_fails(
    archived: bytes, ltv_pki: LongTermPKI, ledger: Ledger
) -> None:
    for position in (len(archived) - 200, len(archived) - 5000):
        tampered = bytearray(archived)
        tampered[position] ^= 0x01
        with pytest.raises(ReportVerificationError):
            _verify(bytes(tampered), ltv_pki, ledger)


def test_an_untrusted_tsa_fails(archived: bytes, dev_credentials, ledger: Ledger) -> None:
    with pytest.raises(ReportVerificationError):
        verify_report(archived, trust_roots_pem=[dev_credentials.trust_root_pem], ledger_keys=[ledger.key])


def test_without_a_tsa_the_seal_stays_b_b(sealed: bytes, dev_credentials, ledger: Ledger) -> None:
    result = verify_report(sealed, trust_roots_pem=[dev_credentials.trust_root_pem], ledger_keys=[ledger.key])
    assert result.level == "B-B" and result.archive_timestamp_time is None


def test_a_renewed_archive_timestamp_chain_still_verifies(
    archived: bytes, ltv_pki: LongTermPKI, ledger: Ledger
) -> None:
    from pyhanko.keys import load_certs_from_pemder_data
    from pyhanko.sign.signers.pdf_signer import PdfTimeStamper
    from pyhanko.sign.timestamps import HTTPTimeStamper
    from pyhanko_certvalidator import ValidationContext

    context = ValidationContext(
        trust_roots=list(load_certs_from_pemder_data(ltv_pki.authority.pem)), allow_fetching=True
    )
    stamper = PdfTimeStamper(HTTPTimeStamper(ltv_pki.tsa_url), field_name="LedgerArchiveTimestamp2")
    renewed = stamper.update_archival_timestamp_chain(
        PdfFileReader(io.BytesIO(archived)), context, in_place=False
    ).getvalue()
    first = _verify(archived, ltv_pki, ledger)
    result = _verify(renewed, ltv_pki, ledger)
    assert result.level == "B-LTA"
    assert result.archive_timestamp_time >= first.archive_timestamp_time
    assert len(PdfFileReader(io.BytesIO(renewed)).embedded_signatures) == 3
