"""Sealing a report with PAdES (pyHanko): one incremental signature over the whole file."""

from __future__ import annotations

import datetime as dt
import io

from pyhanko.keys import load_certs_from_pemder_data
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError
from pyhanko.sign.signers import pdf_signer as pades
from pyhanko.sign.timestamps import HTTPTimeStamper
from pyhanko_certvalidator import ValidationContext

from governance.reports.sealing.attachments import pinned_writer
from governance.reports.sealing.manifest import SealingCredentials, SealingError
from model_ledger_verify.report import (
    ARCHIVE_TIMESTAMP_FIELD,
    SIGNATURE_FIELD,
    ReportVerificationError,
    read_manifest,
)


def seal(
    pdf_with_manifest: bytes,
    credentials: SealingCredentials,
    *,
    tsa_url: str | None = None,
    tsa_roots_pem: list[bytes] | None = None,
    reason: str,
    location: str | None = None,
) -> bytes:
    """Return ``pdf_with_manifest`` sealed with ``credentials`` in a final incremental update.

    The signature is PAdES (ETSI EN 319 142-1): SubFilter ``ETSI.CAdES.detached``, SHA-256,
    the signing certificate bound by the ESS signing-certificate-v2 attribute. That is
    baseline B-B. With ``tsa_url`` it is baseline B-LTA: an RFC 3161 signature timestamp from
    that TSA (B-T) and, in the same revision, the validation data of the seal and of the
    timestamp (certificates and the CRLs or OCSP responses their certificates point to, fetched
    now) in the document security store (DSS, B-LT); then, in a last revision, a document
    timestamp over it all (B-LTA). ``tsa_roots_pem`` are the roots the TSA's certificate chains to, when they are not
    the seal's. The field is named ``LedgerSeal`` and is invisible. Raise SealingError if the
    document has no ``manifest.json`` naming this certificate, or if signing, a timestamp
    request or fetching validation data fails.
    """
    _check_manifest_certificate(pdf_with_manifest, credentials)
    # An approval signature, not a certification one: no DocMDP permissions are needed when
    # the verifier refuses anything at all after the seal.
    long_term = tsa_url is not None
    context = _collecting_context(credentials, tsa_roots_pem or []) if long_term else None
    metadata = signers.PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason,
        location=location,
        embed_validation_info=long_term,
        validation_context=context,
        # The validation data goes into the seal's own revision (B-LT in one revision).
        dss_settings=pades.DSSContentSettings(
            include_vri=False, placement=pades.SigDSSPlacementPreference.TOGETHER_WITH_SIGNATURE
        ),
    )
    timestamper = HTTPTimeStamper(tsa_url) if tsa_url else None
    pdf_signer = signers.PdfSigner(metadata, signer=credentials.signer, timestamper=timestamper)
    reserved: int | None = _contents_size(credentials, timestamped=timestamper is not None)
    try:
        try:
            writer = pinned_writer(pdf_with_manifest, dt.datetime.now(dt.UTC))
            output = pdf_signer.sign_pdf(writer, bytes_reserved=reserved)
        except SigningError as exc:
            if "larger than expected" not in str(exc):
                raise
            # The sized guess was short (a TSA with a long chain): let pyHanko measure.
            writer = pinned_writer(pdf_with_manifest, dt.datetime.now(dt.UTC))
            output = pdf_signer.sign_pdf(writer)
        if timestamper is not None:
            # B-LTA: a document timestamp over the whole file, any validation data it needs
            # beyond the seal's written in its own revision, before it, so it covers every byte.
            stamper = pades.PdfTimeStamper(timestamper, field_name=ARCHIVE_TIMESTAMP_FIELD)
            output = stamper.timestamp_pdf(
                pinned_writer(output.getvalue(), dt.datetime.now(dt.UTC)),
                "sha256",
                validation_context=context,
                dss_settings=pades.TimestampDSSContentSettings(include_vri=False, update_before_ts=True),
            )
    except Exception as exc:
        raise SealingError(f"cannot seal the report: {exc}") from exc
    return output.getvalue()


def _collecting_context(credentials: SealingCredentials, tsa_roots_pem: list[bytes]) -> ValidationContext:
    """The context in which pyHanko gathers the validation data to embed: the seal's and the
    TSA's roots, revocation information fetched from the certificates' own pointers."""
    roots = list(load_certs_from_pemder_data(credentials.trust_root_pem))
    for blob in tsa_roots_pem:
        roots += load_certs_from_pemder_data(blob)
    return ValidationContext(trust_roots=roots, allow_fetching=True, revocation_mode="soft-fail")


def _contents_size(credentials: SealingCredentials, *, timestamped: bool) -> int:
    """Return the hex digits to reserve for the CMS signature in /Contents.

    pyHanko would otherwise build the whole CMS object twice, once to measure it. The object
    holds the certificates, the signed attributes and the signature (at most 512 bytes for
    RSA-4096) and, for B-T, the TSA's token with its own certificates.
    """
    signer = credentials.signer
    certificates = sum(len(c.dump()) for c in signer.cert_registry)
    if signer.signing_cert is not None:
        certificates += len(signer.signing_cert.dump())
    size = certificates + 2048 + (16384 if timestamped else 0)
    return 2 * (-(-size // 1024) * 1024)


def _check_manifest_certificate(pdf: bytes, credentials: SealingCredentials) -> None:
    try:
        manifest = read_manifest(PdfFileReader(io.BytesIO(pdf)))
    except ReportVerificationError as exc:
        raise SealingError(str(exc)) from exc
    except Exception as exc:
        raise SealingError(f"cannot read the PDF to seal: {exc}") from exc
    if manifest.get("certificate_sha256") != credentials.certificate_sha256:
        raise SealingError(
            "the manifest names another sealing certificate than the one sealing it "
            f"({manifest.get('certificate_sha256')!r} != {credentials.certificate_sha256})"
        )
