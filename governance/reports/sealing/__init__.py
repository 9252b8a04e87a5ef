"""Seal a rendered report: embed its evidence manifest, then sign it as a PAdES electronic seal.

A sealed report is three PDF revisions, each an incremental update of the one before
(ISO 32000-1 §7.5.6), so every earlier revision is a byte prefix of the file:

1. the rendered content (``renderer.render``), byte-identical for identical content;
2. :func:`attach_manifest`: the embedded files ``manifest.json``, ``evidence.json`` and
   ``report.json`` (ISO 32000-1 §7.11.4), PDF/A-3 associated files of the document (see
   docs/report-format.md);
3. :func:`seal`: a PAdES signature (ETSI EN 319 142-1) whose byte range covers everything
   before it, the manifest included;
4. with a timestamp authority only, PAdES B-LTA: the validation data (DSS) and a document
   timestamp over the whole file (see :func:`seal` and docs/report-format.md).

The manifest is canonical JSON (keys sorted, no whitespace, UTF-8):
``json.dumps(manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=False)``.
Its members (format ``ledger-report/1``):

``format``
    ``"ledger-report/1"``.
``report_id``, ``kind``, ``subject``
    The report's id, its kind (``"version"`` or ``"decision"``) and what it is about.
``generated_at``
    Generation time, UTC, RFC 3339 with ``Z`` (e.g. ``2026-11-27T23:40:01.123456Z``).
``content_sha256``, ``content_length``
    SHA-256 (64 lowercase hex) and length in bytes of revision 1, the rendered content: the
    file prefix ``pdf[:content_length]``.
``certificate_sha256``
    SHA-256 (64 lowercase hex) of the DER of the sealing certificate, known before sealing.
``development``
    Optional, ``true`` when sealed with the development credentials.
``evidence_sha256``, ``report_json_sha256``
    SHA-256 (64 lowercase hex) of the embedded ``evidence.json`` (the facts and their leaves)
    and ``report.json`` (the machine-readable twin of the pages), when the report embeds them.
``ledger``
    ``{"origin": str, "checkpoint": str, "entries": [{"seq": int, "leaf_hash": hex,
    "proof": [hex, ...]}, ...]}``: a C2SP signed checkpoint note of the ledger and, for every
    ledger entry the report cites, its RFC 9162 inclusion proof against that checkpoint
    (leaf index ``seq``, tree size and root from the checkpoint). See docs/ledger-format.md.

``verify.verify_report`` checks all of it. Nothing here imports Django: callers pass paths
and bytes explicitly.

The package: `manifest` (credentials, manifest, attachments), `signing` (the PAdES seal) and
`keys` (PKCS#12 signers and the development CA).
"""

from governance.reports.sealing.keys import development_credentials, load_signer
from governance.reports.sealing.manifest import (
    DEVELOPMENT_CA_NAME,
    DEVELOPMENT_SEAL_NAME,
    SealingCredentials,
    SealingError,
    attach_manifest,
    build_manifest,
)
from governance.reports.sealing.signing import seal
from model_ledger_verify.report import MANIFEST_FORMAT, MANIFEST_NAME, SIGNATURE_FIELD, canonical_json

__all__ = [
    "DEVELOPMENT_CA_NAME",
    "DEVELOPMENT_SEAL_NAME",
    "MANIFEST_FORMAT",
    "MANIFEST_NAME",
    "SIGNATURE_FIELD",
    "SealingCredentials",
    "SealingError",
    "attach_manifest",
    "build_manifest",
    "canonical_json",
    "development_credentials",
    "load_signer",
    "seal",
]
