"""The sealing credentials, and the report manifest: built from the facts, embedded as a PDF/A-3 attachment
(with evidence.json, which it binds by hash)."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.sign import signers

from governance.reports.sealing.attachments import Attachment, embed_associated, pinned_writer
from model_ledger_verify.evidence import EVIDENCE_FORMAT, EVIDENCE_NAME
from model_ledger_verify.report import (
    MANIFEST_FORMAT,
    MANIFEST_NAME,
    TWIN_FORMAT,
    TWIN_NAME,
    canonical_json,
)
from model_ledger_verify.report_twin import TWIN_MANIFEST_KEY

DEVELOPMENT_CA_NAME = "Model Ledger DEVELOPMENT CA \u2014 untrusted"


DEVELOPMENT_SEAL_NAME = "Model Ledger DEVELOPMENT report seal \u2014 untrusted"


DEVELOPMENT_P12 = "seal.p12"


DEVELOPMENT_CA_PEM = "ca.pem"


_DEVELOPMENT_VALIDITY = dt.timedelta(days=3650)


_REPORT_KINDS = ("version", "decision", "annex-iv")


_MIN_RSA_BITS = 2048


_EC_CURVES = (ec.SECP256R1, ec.SECP384R1)


class SealingError(Exception):
    """Credentials cannot be loaded or created, or a document cannot be sealed."""


@dataclass(frozen=True)
class SealingCredentials:
    """A loaded sealing key and certificate.

    ``signer`` signs with pyHanko; ``certificate_sha256`` is the hex SHA-256 of the signing
    certificate's DER (it goes into the manifest); ``trust_root_pem`` is the PEM of the root
    an auditor must trust to verify the seal; ``subject`` is the certificate subject, readable;
    ``development`` is true for the throwaway credentials of :func:`development_credentials`.
    """

    signer: signers.SimpleSigner
    certificate_sha256: str
    trust_root_pem: bytes
    subject: str
    development: bool


def _rfc3339(moment: dt.datetime) -> str:
    if moment.utcoffset() is None:
        raise ValueError("generated_at must be timezone-aware")
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def build_manifest(
    content_pdf: bytes,
    *,
    report_id: str,
    kind: str,
    subject: str,
    generated_at: dt.datetime,
    credentials: SealingCredentials,
    ledger: dict[str, Any],
    evidence_sha256: str | None = None,
    twin_sha256: str | None = None,
) -> dict[str, Any]:
    """Return the manifest of a rendered report (format in this module's docstring).

    ``content_pdf`` is the output of ``renderer.render``; its hash and length are computed
    here. ``ledger`` is ``{"origin", "checkpoint", "entries"}`` as described above. Raise
    ValueError if ``kind`` is not ``"version"``, ``"decision"`` or ``"annex-iv"``, ``generated_at`` is naive,
    or ``ledger`` lacks one of its three members.
    """
    if kind not in _REPORT_KINDS:
        raise ValueError(f"report kind must be one of {', '.join(_REPORT_KINDS)}, not {kind!r}")
    missing = {"origin", "checkpoint", "entries"} - set(ledger)
    if missing:
        raise ValueError(f"ledger evidence lacks {', '.join(sorted(missing))}")
    manifest = {
        "format": MANIFEST_FORMAT,
        "report_id": report_id,
        "kind": kind,
        "subject": subject,
        "generated_at": _rfc3339(generated_at),
        "content_sha256": hashlib.sha256(content_pdf).hexdigest(),
        "content_length": len(content_pdf),
        "certificate_sha256": credentials.certificate_sha256,
        "development": credentials.development,
        "ledger": ledger,
    }
    if evidence_sha256 is not None:
        manifest["evidence_sha256"] = evidence_sha256
    if twin_sha256 is not None:
        manifest[TWIN_MANIFEST_KEY] = twin_sha256
    return manifest


def attach_manifest(
    pdf: bytes, manifest: dict[str, Any], *, evidence: bytes | None = None, twin: bytes | None = None
) -> bytes:
    """Return ``pdf`` with ``manifest`` appended as the embedded file ``manifest.json`` (and
    ``evidence``, when given, as ``evidence.json``, and ``twin`` as ``report.json``, which the
    manifest binds by their SHA-256).

    The files are PDF/A-3 associated files of the document (``/AF``; ``report.json`` is the
    ``/Source`` of the pages, the other two ``/Data``), added in an incremental update, so
    ``pdf`` is a byte prefix of the result. The embedded manifest bytes are
    :func:`canonical_json` of ``manifest``. Raise SealingError if ``pdf`` cannot be parsed or
    already has embedded files; raise TypeError or ValueError if ``manifest`` is not
    JSON-serialisable (floats that are not finite included).
    """
    data = canonical_json(manifest)
    moment = _generated_at(manifest)
    try:
        # Dated the generation time, so equal reports give equal bytes up to the seal.
        writer = pinned_writer(pdf, moment)
    except Exception as exc:
        raise SealingError(f"cannot read the rendered PDF: {exc}") from exc
    names = writer.root.get("/Names")
    if names is not None and "/EmbeddedFiles" in names.get_object():
        raise SealingError("the PDF already embeds files; a report gets exactly one manifest")
    files = [Attachment(MANIFEST_NAME, data, f"Evidence manifest ({MANIFEST_FORMAT}): content hash and ledger proofs")]
    if evidence is not None:
        files.append(
            Attachment(EVIDENCE_NAME, evidence, f"The facts shown and their ledger leaves ({EVIDENCE_FORMAT})")
        )
    if twin is not None:
        files.append(
            Attachment(TWIN_NAME, twin, f"The report's content as data ({TWIN_FORMAT})", relationship="Source")
        )
    embed_associated(writer, files, moment)
    # ISO 32000-1 §7.7.2 /PageMode: open the attachments panel, so a reader sees the manifest at once.
    writer.root[pdf_name("/PageMode")] = pdf_name("/UseAttachments")
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    result = out.getvalue()
    if not result.startswith(pdf):  # pragma: no cover (pyHanko appends by construction)
        raise SealingError("the manifest update rewrote the rendered content")
    return result


def _generated_at(manifest: dict[str, Any]) -> dt.datetime:
    """The embedded files' dates: the report's generation time, so equal reports give equal bytes."""
    try:
        return dt.datetime.strptime(str(manifest["generated_at"]), "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)
    except (KeyError, ValueError):
        return dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
