"""The seal of a sealed report: its PAdES signature, the certificates in it and the bytes it covers.

Django-free, like the rest of the report verifier (``report`` re-exports the error).
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

_CONTENTS_HEX = re.compile(rb"<[0-9A-F]+>")


class ReportVerificationError(Exception):
    """The report does not verify; the message names the first check that failed."""


def _fail(message: str) -> ReportVerificationError:
    return ReportVerificationError(message)


def _check_signature(
    pdf: bytes, roots: list[bytes], validation_time: datetime | None
) -> tuple[PdfFileReader, Any, datetime | None]:
    """Return the reader, pyHanko's status of the report's seal, and the time of the last
    document timestamp (None without one).

    The seal is the first signature. It covers the whole file (PAdES B-B or B-T), or it is
    followed only by revisions that add validation data (DSS) and document timestamps, the last
    of which covers the whole file (B-LT, B-LTA); see :func:`_check_archive_timestamps`.
    """
    try:
        reader = PdfFileReader(io.BytesIO(pdf))
        signatures = reader.embedded_signatures
    except Exception as exc:
        raise _fail(f"the file is not a readable PDF: {exc}") from exc
    if not signatures:
        raise _fail("the report is not sealed: it has no signature")
    signature, later = signatures[0], signatures[1:]
    if any(s.sig_object_type != "/DocTimeStamp" for s in later):
        raise _fail(f"the report has {len(signatures)} signatures, not one: the seal does not cover the whole file")
    if signature.sig_object_type != "/Sig":
        raise _fail("the only signature is a document timestamp, not a seal")
    context = _context(roots, validation_time)
    # Seal certificates carry nonRepudiation (contentCommitment), digitalSignature or both.
    usage = KeyUsageConstraints(key_usage={"non_repudiation", "digital_signature"})
    try:
        status = validate_pdf_signature(
            signature, signer_validation_context=context, key_usage_settings=usage, skip_diff=not later
        )
    except Exception as exc:
        raise _fail(f"the signature cannot be validated: {exc}") from exc
    if not status.intact:
        raise _fail("the signature is broken: the signed bytes were changed")
    if not status.valid:
        raise _fail("the signature is invalid: its cryptographic check failed")
    # A signature followed by no further revision covers the entire file (ISO 32000-1
    # §12.8.1: its /ByteRange spans every byte but its own /Contents).
    if not later and status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
        raise _fail("the signature does not cover the whole file: something was appended after the seal")
    if later:
        _check_only_archival_updates(status, "the seal")
    _check_contents_gap(pdf, signature.byte_range)
    if not status.trusted:
        problem = status.trust_problem_indic.name if status.trust_problem_indic else "UNKNOWN"
        # ETSI EN 319 102-1 sub-indications for a certificate outside its validity period.
        if problem.startswith("OUT_OF_BOUNDS") or problem in ("EXPIRED", "NOT_YET_VALID"):
            raise _fail(f"the sealing certificate is not valid at the validation time ({problem})")
        raise _fail(f"the sealing certificate does not chain to a given trust root ({problem})")
    _check_certificates(signature.signed_data, status.validation_path, "signature")
    timestamp = status.timestamp_validity
    if timestamp is not None and not (timestamp.intact and timestamp.valid):
        raise _fail("the signature timestamp is broken or invalid")
    if timestamp is not None and not timestamp.trusted:
        raise _fail("the signature timestamp's TSA does not chain to a given trust root")
    _check_unsigned_attributes(signature.signer_info, timestamp)
    archived = _check_archive_timestamps(pdf, later, context)
    return reader, status, archived


def _context(roots: list[bytes], validation_time: datetime | None) -> ValidationContext:
    return ValidationContext(trust_roots=roots, allow_fetching=False, moment=validation_time)


def _check_only_archival_updates(status: Any, what: str) -> None:
    """Check that what follows a signature only adds validation data and timestamps (pyHanko's
    difference analysis, ISO 32000-2 §12.8.4.3 and ETSI EN 319 142-1 §5.4/§5.5)."""
    if status.coverage != SignatureCoverageLevel.ENTIRE_REVISION:
        raise _fail(f"{what} does not cover its whole revision")
    level = status.modification_level
    # A document timestamp has no DocMDP permissions to break: pyHanko says None, not False.
    if level is None or level > ModificationLevel.LTA_UPDATES or status.docmdp_ok is False:
        raise _fail(f"something other than validation data and document timestamps was appended after {what}")


def _check_archive_timestamps(pdf: bytes, timestamps: Sequence[Any], context: ValidationContext) -> datetime | None:
    """Check each document timestamp (PAdES B-LTA): intact, valid, from a trusted TSA, holding
    only its chain, and followed by validation data and later timestamps only; return the last
    one's time."""
    moment = None
    for number, embedded in enumerate(timestamps, start=1):
        what = f"document timestamp {number}"
        try:
            status = validate_pdf_timestamp(embedded, validation_context=context)
        except Exception as exc:
            raise _fail(f"{what} cannot be validated: {exc}") from exc
        if not (status.intact and status.valid):
            raise _fail(f"{what} is broken or invalid")
        if not status.trusted:
            raise _fail(f"{what}'s TSA does not chain to a given trust root")
        # The service's reports end with their last document timestamp; a chain renewed with
        # pyHanko's defaults ends with the new timestamp's validation data, which PAdES allows
        # and nothing signs, so only validation data may follow it.
        if status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
            _check_only_archival_updates(status, what)
        _check_contents_gap(pdf, embedded.byte_range)
        _check_certificates(embedded.signed_data, status.validation_path, what)
        moment = status.timestamp
    return moment


def _absent(value: Any) -> bool:
    """Return whether an optional ASN.1 field was left out (pyHanko's asn1crypto ``Void``)."""
    return type(value).__name__ == "Void"


def _check_certificates(signed_data: Any, path: Any, what: str) -> None:
    """Check that a CMS object embeds only certificates of its validated chain, unchanged.

    CMS (RFC 5652 §5.1) does not sign its certificate set, so a copy of the root, or a
    certificate nobody needs, could be altered or added without breaking the signature. A
    sealed report must change in no byte, so anything there but the chain itself is refused.
    """
    chain = {cert.dump() for cert in path.iter_certs(include_root=True)}
    try:
        certificates = signed_data["certificates"]
        embedded = [] if _absent(certificates) else [(c.name, c.chosen.dump()) for c in certificates]
        has_crls = not _absent(signed_data["crls"])
    except Exception as exc:
        raise _fail(f"the {what}'s embedded certificates cannot be read: {exc}") from exc
    if any(kind != "certificate" or der not in chain for kind, der in embedded):
        raise _fail(f"the {what} embeds a certificate that is not on its validated chain")
    if has_crls:
        raise _fail(f"the {what} embeds revocation lists, which sealed reports do not carry")


def _check_unsigned_attributes(signer_info: Any, timestamp: Any) -> None:
    """Check that the only unsigned attribute is a validated signature timestamp token."""
    attributes = signer_info["unsigned_attrs"]
    for attribute in [] if _absent(attributes) else attributes:
        kind = attribute["type"].native
        if kind != "signature_time_stamp_token":
            raise _fail(f"the signature carries an unexpected unsigned attribute {kind}")
        tokens = attribute["values"]
        if len(tokens) != 1 or timestamp is None:
            raise _fail("the signature carries a timestamp that was not validated")
        _check_certificates(tokens[0]["content"], timestamp.validation_path, "signature timestamp")


def _check_contents_gap(pdf: bytes, byte_range: Sequence[int]) -> None:
    """Check that the one unsigned stretch of the file holds the signature and nothing else.

    The /ByteRange (ISO 32000-1 §12.8.1) leaves out the /Contents hex string. Its decoded
    bytes are the CMS object, padded with zeros; any other padding, or hex digits written
    differently (lowercase), would change the file without touching the signature.
    """
    _, first_length, second_start, _ = (int(x) for x in byte_range)
    start, end = first_length, second_start
    gap = pdf[start:end]
    if not _CONTENTS_HEX.fullmatch(gap):
        raise _fail("the signature's /Contents is not the uppercase hex string pyHanko writes")
    contents = bytes.fromhex(gap[1:-1].decode("ascii"))
    if len(contents) < 2 or contents[0] != 0x30:
        raise _fail("the signature's /Contents does not hold a DER SEQUENCE")
    first = contents[1]
    if first < 0x80:
        length = 2 + first
    else:
        count = first & 0x7F
        if not 0 < count <= 4 or len(contents) < 2 + count:
            raise _fail("the signature's /Contents has a malformed DER length")
        length = 2 + count + int.from_bytes(contents[2 : 2 + count], "big")
    if length > len(contents) or any(contents[length:]):
        raise _fail("the signature's /Contents padding was changed: it must be zeros")
