"""Verify a sealed audit report offline, trusting only the roots and ledger keys given.

This module runs without Django (``ledgerctl verify-report`` uses it) and imports only the
standard library, ``cryptography``, pyHanko and the pure ledger core. The manifest format is
described in ``governance.reports.sealing``; :func:`verify_report` checks, in order:

1. the file is a PDF whose first signature is the seal, followed by nothing or only by
   document timestamps;
2. the seal is intact and cryptographically valid, covers the entire file (nothing was
   appended after it) and chains to one of the given trust roots; a signature timestamp, when
   present, must be valid and trusted too (PAdES B-T, ETSI EN 319 142-1); at B-LT/B-LTA what
   follows the seal only adds validation data and document timestamps, each valid and from a
   trusted TSA, the last one covering the entire file;
3. the embedded ``manifest.json`` is present, canonical JSON, of format ``ledger-report/1``,
   names the certificate that sealed it, and its ``content_sha256``/``content_length`` are
   those of the file prefix that holds the rendered content;
4. its ledger checkpoint is signed by one of the given ledger keys (C2SP signed note), and
   every cited entry's RFC 9162 inclusion proof leads to the checkpoint's root;
5. the embedded ``evidence.json`` the manifest binds by SHA-256: its checkpoint is signed by a
   given ledger key, each of its leaves proves into it, and every fact the report shows equals
   the member of the leaf that states it, and each entry an edition withholds proves into it
   by its hash (:mod:`model_ledger_verify.evidence`);
6. the embedded ``report.json``, the machine-readable twin of the pages, is the one the
   manifest binds by SHA-256 and names the same report (:mod:`model_ledger_verify.report_twin`).

The first failure raises :class:`ReportVerificationError` with a message naming it.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.keys import load_certs_from_pemder_data
from pyhanko.pdf_utils.reader import PdfFileReader

from model_ledger_verify import checkpoints, evidence, merkle, notes
from model_ledger_verify.report_seal import ReportVerificationError, _check_signature, _fail
from model_ledger_verify.report_twin import TWIN_FORMAT, TWIN_NAME, check_twin
from model_ledger_verify.tlog.cosign import WitnessPolicy

__all__ = [
    "MANIFEST_FORMAT",
    "MANIFEST_NAME",
    "SIGNATURE_FIELD",
    "TWIN_FORMAT",
    "TWIN_NAME",
    "ReportVerification",
    "ReportVerificationError",
    "canonical_json",
    "read_manifest",
    "verify_report",
]

MANIFEST_FORMAT = "ledger-report/1"
MANIFEST_NAME = "manifest.json"
SIGNATURE_FIELD = "LedgerSeal"
ARCHIVE_TIMESTAMP_FIELD = "LedgerArchiveTimestamp"
MAX_MANIFEST_BYTES = 32 * 1024 * 1024
_HEX64 = re.compile(r"[0-9a-f]{64}")
# A revision ends with the %%EOF marker and an optional end-of-line (ISO 32000-1 §7.5.5).
_REVISION_END = re.compile(rb"%%EOF(\r\n|\r|\n)?\Z")


@dataclass(frozen=True)
class ReportVerification:
    """What a verified report proves.

    ``signer_subject`` is the sealing certificate's subject and ``certificate_sha256`` the hex
    SHA-256 of its DER. ``signing_time`` is the time the signer claimed; ``timestamp_time``
    the time attested by a trusted TSA, when ``timestamped``. ``report_id``, ``kind``,
    ``subject`` and ``generated_at`` come from the manifest. ``ledger_entries`` entries were
    proven included in the ledger ``checkpoint_origin`` of ``checkpoint_size`` leaves.
    ``development`` is true when the report was sealed with development credentials.
    """

    signer_subject: str
    signing_time: datetime | None
    certificate_sha256: str
    report_id: str
    kind: str
    subject: str
    generated_at: str
    ledger_entries: int
    checkpoint_origin: str
    checkpoint_size: int
    timestamped: bool
    timestamp_time: datetime | None
    development: bool
    # Facts of the embedded evidence.json checked against their leaves (0 for older reports).
    facts: int = 0
    # Ledger entries whose existence evidence.json proves without their content: an edition
    # (the data subject's) withholds leaves that name people its pages do not show.
    withheld: int = 0
    # Whether the report embeds its machine-readable twin, report.json, bound by the manifest.
    twin: bool = False
    # The PAdES baseline level (ETSI EN 319 142-1): "B-B", "B-T", "B-LT" or "B-LTA", and the
    # time of the last document timestamp of a B-LTA report.
    level: str = "B-B"
    archive_timestamp_time: datetime | None = None


def canonical_json(value: Any) -> bytes:
    """Return the manifest encoding of ``value``: sorted keys, no spaces, UTF-8.

    Raise TypeError or ValueError if ``value`` is not JSON-serialisable, including floats
    that are not finite.
    """
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode(
        "utf-8"
    )


def _load_roots(trust_roots_pem: Sequence[bytes]) -> list[Any]:
    """Return every certificate in the given PEM (or DER) blobs, as pyHanko takes them."""
    roots: list[Any] = []
    for number, blob in enumerate(trust_roots_pem):
        try:
            if b"-----BEGIN" in blob:
                certs = x509.load_pem_x509_certificates(blob)
            else:
                certs = [x509.load_der_x509_certificate(blob)]
        except ValueError as exc:
            raise _fail(f"trust root {number} is not a PEM or DER certificate: {exc}") from exc
        for cert in certs:
            roots += load_certs_from_pemder_data(cert.public_bytes(serialization.Encoding.DER))
    if not roots:
        raise _fail("no trust roots given: a report can only be verified against a root")
    return roots


def _load_ledger_keys(ledger_keys: Sequence[str]) -> list[notes.Verifier]:
    if not ledger_keys:
        raise _fail("no ledger verifier keys given")
    verifiers = []
    for key in ledger_keys:
        try:
            verifiers.append(notes.Verifier.from_string(key))
        except notes.NoteError as exc:
            raise _fail(f"ledger verifier key {key[:40]!r} is malformed: {exc}") from exc
    return verifiers


def read_manifest(reader: PdfFileReader) -> dict[str, Any]:
    """Return the parsed ``manifest.json`` embedded in the latest revision of ``reader``.

    Raise ReportVerificationError if there is no such file or more than one, if it is larger
    than :data:`MAX_MANIFEST_BYTES`, or if it is not canonical JSON of an object.
    """
    try:
        tree = reader.root["/Names"]["/EmbeddedFiles"]
        names = tree["/Names"]
    except (KeyError, TypeError) as exc:
        raise _fail("the report has no embedded manifest.json") from exc
    specs = [names[i + 1] for i in range(0, len(names) - 1, 2) if str(names[i]) == MANIFEST_NAME]
    if not specs:
        raise _fail("the report has no embedded manifest.json")
    if len(specs) > 1:
        raise _fail("the report embeds more than one manifest.json")
    try:
        stream = specs[0].get_object()["/EF"]["/F"].get_object()
        length = int(stream.get("/Length", 0))
        if length > MAX_MANIFEST_BYTES:
            raise _fail(f"manifest.json is larger than {MAX_MANIFEST_BYTES} bytes")
        raw = stream.data
    except ReportVerificationError:
        raise
    except Exception as exc:
        raise _fail(f"manifest.json cannot be read: {exc}") from exc
    if len(raw) > MAX_MANIFEST_BYTES:
        raise _fail(f"manifest.json is larger than {MAX_MANIFEST_BYTES} bytes")
    try:
        manifest = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise _fail(f"manifest.json is not valid JSON: {exc}") from exc
    if not isinstance(manifest, dict):
        raise _fail("manifest.json is not a JSON object")
    # Canonical form rules out duplicate keys and any other second reading of the bytes.
    if canonical_json(manifest) != raw:
        raise _fail("manifest.json is not in canonical form (sorted keys, no whitespace)")
    return manifest


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _text(manifest: dict[str, Any], key: str) -> str:
    value = manifest.get(key)
    if not isinstance(value, str):
        raise _fail(f"manifest {key} is missing or not a string")
    return value


def _hex64(value: object, what: str) -> str:
    if not isinstance(value, str) or not _HEX64.fullmatch(value):
        raise _fail(f"{what} is not 64 lowercase hex digits")
    return value


def _integer(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _fail(f"{what} is not a non-negative integer")
    return value


def _check_content(pdf: bytes, manifest: dict[str, Any]) -> None:
    digest = _hex64(manifest.get("content_sha256"), "manifest content_sha256")
    length = _integer(manifest.get("content_length"), "manifest content_length")
    if not 0 < length < len(pdf):
        raise _fail(f"manifest content_length {length} does not fit in a {len(pdf)}-byte file")
    prefix = pdf[:length]
    if not _REVISION_END.search(prefix[-8:]):
        raise _fail("manifest content_length does not end at a PDF revision (%%EOF)")
    if hashlib.sha256(prefix).hexdigest() != digest:
        raise _fail("the content hash does not match: the rendered report differs from the one the manifest describes")


def _check_ledger(
    manifest: dict[str, Any], verifiers: list[notes.Verifier], policy: WitnessPolicy | None = None
) -> tuple[checkpoints.Checkpoint, int]:
    evidence = manifest.get("ledger")
    if not isinstance(evidence, dict):
        raise _fail("manifest ledger is missing or not an object")
    origin = evidence.get("origin")
    note = evidence.get("checkpoint")
    entries = evidence.get("entries")
    if not isinstance(origin, str) or not isinstance(note, str):
        raise _fail("manifest ledger origin or checkpoint is missing or not a string")
    try:
        checkpoint = checkpoints.open_checkpoint(note, verifiers, origin=origin)
    except notes.NoteError as exc:
        raise _fail(f"the ledger checkpoint does not verify: {exc}") from exc
    if policy is not None:
        try:
            policy.check(note)
        except notes.NoteError as exc:
            raise _fail(f"the ledger checkpoint is not witnessed as required: {exc}") from exc
    if not isinstance(entries, list) or not entries:
        raise _fail("manifest ledger entries are missing: the report proves no ledger record")
    for number, entry in enumerate(entries):
        what = f"ledger entry {number}"
        if not isinstance(entry, dict):
            raise _fail(f"{what} is not an object")
        seq = _integer(entry.get("seq"), f"{what} seq")
        leaf = bytes.fromhex(_hex64(entry.get("leaf_hash"), f"{what} leaf_hash"))
        proof = entry.get("proof")
        if not isinstance(proof, list):
            raise _fail(f"{what} proof is not a list")
        path = [bytes.fromhex(_hex64(h, f"{what} proof element")) for h in proof]
        try:
            merkle.verify_inclusion(seq, checkpoint.size, leaf, path, checkpoint.root)
        except merkle.ProofError as exc:
            raise _fail(
                f"ledger entry seq {seq} is not proven in the checkpoint of size {checkpoint.size}: {exc}"
            ) from exc
    return checkpoint, len(entries)


def verify_report(
    pdf: bytes,
    *,
    trust_roots_pem: list[bytes],
    ledger_keys: list[str],
    validation_time: datetime | None = None,
    witness_policy: WitnessPolicy | None = None,
) -> ReportVerification:
    """Verify a sealed report and return what it proves.

    ``trust_roots_pem`` are the only certificates trusted (PEM, several per blob allowed, or
    DER), for the seal and for any TSA; ``ledger_keys`` are C2SP verifier keys
    (``name+hexid+base64``) of the ledger. Nothing is fetched from the network; revocation is
    checked only from information embedded in the file. ``validation_time`` (default: now) is
    the moment at which certificate validity is judged; pass a trusted timestamp's time to
    check a report whose certificate has since expired.

    Raise ReportVerificationError naming the first check that fails (see the module
    docstring for the list).
    """
    roots = _load_roots(trust_roots_pem)
    verifiers = _load_ledger_keys(ledger_keys)
    try:
        reader, status, archived = _check_signature(pdf, roots, validation_time)
    except ReportVerificationError as exc:
        bad = _first_bad_fact(pdf, verifiers)
        if bad:
            raise _fail(f"{exc}; and its evidence does not hold: {bad}") from exc
        raise
    manifest = read_manifest(reader)
    if manifest.get("format") != MANIFEST_FORMAT:
        raise _fail(f"manifest format is {manifest.get('format')!r}, not {MANIFEST_FORMAT!r}")
    certificate_der = status.signing_cert.dump()
    certificate_sha256 = hashlib.sha256(certificate_der).hexdigest()
    named = _hex64(manifest.get("certificate_sha256"), "manifest certificate_sha256")
    if named != certificate_sha256:
        raise _fail("the manifest names another sealing certificate than the one that sealed the report")
    _check_content(pdf, manifest)
    checkpoint, proven = _check_ledger(manifest, verifiers, witness_policy)
    facts, withheld = _check_facts(reader, manifest, verifiers)
    twin = check_twin(reader, manifest)
    subject = x509.load_der_x509_certificate(certificate_der).subject.rfc4514_string()
    development = manifest.get("development") is True or "DEVELOPMENT" in subject
    timestamp = status.timestamp_validity
    return ReportVerification(
        signer_subject=subject,
        signing_time=status.signer_reported_dt,
        certificate_sha256=certificate_sha256,
        report_id=_text(manifest, "report_id"),
        kind=_text(manifest, "kind"),
        subject=_text(manifest, "subject"),
        generated_at=_text(manifest, "generated_at"),
        ledger_entries=proven,
        checkpoint_origin=checkpoint.origin,
        checkpoint_size=checkpoint.size,
        timestamped=timestamp is not None,
        timestamp_time=timestamp.timestamp if timestamp is not None else None,
        development=development,
        facts=facts,
        withheld=withheld,
        twin=twin,
        level=_level(reader, timestamp is not None, archived is not None),
        archive_timestamp_time=archived,
    )


def _level(reader: PdfFileReader, timestamped: bool, archived: bool) -> str:
    """The PAdES baseline level the report reaches (ETSI EN 319 142-1 §6)."""
    if not timestamped:
        return "B-B"
    if "/DSS" not in reader.root:
        return "B-T"
    return "B-LTA" if archived else "B-LT"


def _first_bad_fact(pdf: bytes, verifiers: list[notes.Verifier]) -> str:
    """Return the first evidence failure of a report whose seal failed ("" if none is found)."""
    try:
        raw = evidence.read_embedded(PdfFileReader(io.BytesIO(pdf), strict=False), evidence.EVIDENCE_NAME)
        if raw is not None:
            evidence.check_evidence(raw, verifiers)
    except evidence.EvidenceError as exc:
        return str(exc)
    except Exception:  # noqa: S110 — a file too broken to read has no facts to name
        pass
    return ""


def _check_facts(reader: PdfFileReader, manifest: dict[str, Any], verifiers: list[notes.Verifier]) -> tuple[int, int]:
    """Check the embedded evidence.json that the manifest binds by hash; return its facts and
    withheld entries."""
    digest = manifest.get("evidence_sha256")
    try:
        raw = evidence.read_embedded(reader, evidence.EVIDENCE_NAME)
    except evidence.EvidenceError as exc:
        raise _fail(str(exc)) from exc
    if digest is None and raw is None:
        return 0, 0  # a report sealed before evidence.json existed
    if raw is None:
        raise _fail("the manifest names an evidence.json that the report does not embed")
    if digest is None:
        raise _fail("the report embeds an evidence.json that its manifest does not bind")
    try:
        facts, _, withheld = evidence.check_evidence(raw, verifiers)
    except evidence.EvidenceError as exc:
        raise _fail(f"the evidence does not hold: {exc}") from exc
    if hashlib.sha256(raw).hexdigest() != _hex64(digest, "manifest evidence_sha256"):
        raise _fail("evidence.json is not the one the manifest names (its SHA-256 differs)")
    return facts, withheld
