"""Seal a rendered report: embed its evidence manifest, then sign it as a PAdES electronic seal.

A sealed report is three PDF revisions, each an incremental update of the one before
(ISO 32000-1 §7.5.6), so every earlier revision is a byte prefix of the file:

1. the rendered content (``renderer.render``), byte-identical for identical content;
2. :func:`attach_manifest`: the embedded file ``manifest.json`` (ISO 32000-1 §7.11.4);
3. :func:`seal`: a PAdES signature (ETSI EN 319 142-1) whose byte range covers everything
   before it, the manifest included.

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
``ledger``
    ``{"origin": str, "checkpoint": str, "entries": [{"seq": int, "leaf_hash": hex,
    "proof": [hex, ...]}, ...]}``: a C2SP signed checkpoint note of the ledger and, for every
    ledger entry the report cites, its RFC 9162 inclusion proof against that checkpoint
    (leaf index ``seq``, tree size and root from the checkpoint). See docs/ledger-format.md.

``verify.verify_report`` checks all of it. Nothing here imports Django: callers pass paths
and bytes explicitly.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils import embed
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError
from pyhanko.sign.timestamps import HTTPTimeStamper

from model_ledger_verify.evidence import EVIDENCE_FORMAT, EVIDENCE_NAME
from model_ledger_verify.report import (
    MANIFEST_FORMAT,
    MANIFEST_NAME,
    SIGNATURE_FIELD,
    ReportVerificationError,
    canonical_json,
    read_manifest,
)

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

DEVELOPMENT_CA_NAME = "Model Ledger DEVELOPMENT CA \u2014 untrusted"
DEVELOPMENT_SEAL_NAME = "Model Ledger DEVELOPMENT report seal \u2014 untrusted"
DEVELOPMENT_P12 = "seal.p12"
DEVELOPMENT_CA_PEM = "ca.pem"
_DEVELOPMENT_VALIDITY = dt.timedelta(days=3650)
_REPORT_KINDS = ("version", "decision")
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
) -> dict[str, Any]:
    """Return the manifest of a rendered report (format in this module's docstring).

    ``content_pdf`` is the output of ``renderer.render``; its hash and length are computed
    here. ``ledger`` is ``{"origin", "checkpoint", "entries"}`` as described above. Raise
    ValueError if ``kind`` is not ``"version"`` or ``"decision"``, ``generated_at`` is naive,
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
    return manifest


def attach_manifest(pdf: bytes, manifest: dict[str, Any], *, evidence: bytes | None = None) -> bytes:
    """Return ``pdf`` with ``manifest`` appended as the embedded file ``manifest.json`` (and
    ``evidence``, when given, as ``evidence.json``, which the manifest binds by its SHA-256).

    The file is added in an incremental update, so ``pdf`` is a byte prefix of the result.
    The embedded bytes are :func:`canonical_json` of ``manifest``. Raise SealingError if
    ``pdf`` cannot be parsed or already has embedded files; raise TypeError or
    ValueError if ``manifest`` is not JSON-serialisable (floats that are not finite included).
    """
    data = canonical_json(manifest)
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    except Exception as exc:
        raise SealingError(f"cannot read the rendered PDF: {exc}") from exc
    names = writer.root.get("/Names")
    if names is not None and "/EmbeddedFiles" in names.get_object():
        raise SealingError("the PDF already embeds files; a report gets exactly one manifest")
    stream = embed.EmbeddedFileObject.from_file_data(
        writer,
        data,
        compress=True,
        params=embed.EmbeddedFileParams(embed_size=True, embed_checksum=True),
        mime_type="application/json",
    )
    spec = embed.FileSpec(
        file_spec_string=MANIFEST_NAME,
        file_name=MANIFEST_NAME,
        embedded_data=stream,
        description=f"Evidence manifest ({MANIFEST_FORMAT}): content hash and ledger proofs",
    )
    embed.embed_file(writer, spec)
    if evidence is not None:
        _embed_json(writer, EVIDENCE_NAME, evidence, f"The facts shown and their ledger leaves ({EVIDENCE_FORMAT})")
    # ISO 32000-1 §7.7.2 /PageMode: open the attachments panel, so a reader sees the manifest at once.
    writer.root[pdf_name("/PageMode")] = pdf_name("/UseAttachments")
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    result = out.getvalue()
    if not result.startswith(pdf):  # pragma: no cover (pyHanko appends by construction)
        raise SealingError("the manifest update rewrote the rendered content")
    return result


def _embed_json(writer: IncrementalPdfFileWriter, name: str, data: bytes, description: str) -> None:
    stream = embed.EmbeddedFileObject.from_file_data(
        writer,
        data,
        compress=True,
        params=embed.EmbeddedFileParams(embed_size=True, embed_checksum=True),
        mime_type="application/json",
    )
    embed.embed_file(
        writer, embed.FileSpec(file_spec_string=name, file_name=name, embedded_data=stream, description=description)
    )


def seal(
    pdf_with_manifest: bytes,
    credentials: SealingCredentials,
    *,
    tsa_url: str | None = None,
    reason: str,
    location: str | None = None,
) -> bytes:
    """Return ``pdf_with_manifest`` sealed with ``credentials`` in a final incremental update.

    The signature is PAdES (ETSI EN 319 142-1): SubFilter ``ETSI.CAdES.detached``, SHA-256,
    the signing certificate bound by the ESS signing-certificate-v2 attribute. That is
    baseline B-B; with ``tsa_url`` an RFC 3161 signature timestamp from that TSA is added
    (baseline B-T). The field is named ``LedgerSeal`` and is invisible. Raise SealingError if
    the document has no ``manifest.json`` naming this certificate, or if signing or the
    timestamp request fails.
    """
    _check_manifest_certificate(pdf_with_manifest, credentials)
    # An approval signature, not a certification one: no DocMDP permissions are needed when
    # the verifier refuses anything at all after the seal.
    metadata = signers.PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason,
        location=location,
    )
    timestamper = HTTPTimeStamper(tsa_url) if tsa_url else None
    pdf_signer = signers.PdfSigner(metadata, signer=credentials.signer, timestamper=timestamper)
    reserved: int | None = _contents_size(credentials, timestamped=timestamper is not None)
    try:
        try:
            writer = IncrementalPdfFileWriter(io.BytesIO(pdf_with_manifest))
            output = pdf_signer.sign_pdf(writer, bytes_reserved=reserved)
        except SigningError as exc:
            if "larger than expected" not in str(exc):
                raise
            # The sized guess was short (a TSA with a long chain): let pyHanko measure.
            writer = IncrementalPdfFileWriter(io.BytesIO(pdf_with_manifest))
            output = pdf_signer.sign_pdf(writer)
    except Exception as exc:
        raise SealingError(f"cannot seal the report: {exc}") from exc
    return output.getvalue()


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


def load_signer(p12_path: Path, passphrase: bytes | None) -> SealingCredentials:
    """Return production credentials from a PKCS #12 file (RSA ≥ 2048 bits or ECDSA P-256/384).

    The trust root is the self-signed certificate of the file's chain, else the last one, or
    the signing certificate itself when it is self-signed. Raise SealingError if the file
    cannot be read or decrypted, holds no key or certificate, has an unsupported key type, or
    carries no certificate that could serve as a trust root.
    """
    return _load_p12(Path(p12_path), passphrase, development=False)


def _load_p12(path: Path, passphrase: bytes | None, *, development: bool) -> SealingCredentials:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SealingError(f"cannot read the sealing certificate {path}: {exc}") from exc
    try:
        key, cert, chain = pkcs12.load_key_and_certificates(data, passphrase)
    except (ValueError, TypeError) as exc:
        raise SealingError(f"cannot open {path} (wrong passphrase or not PKCS #12)") from exc
    if key is None or cert is None:
        raise SealingError(f"{path} must hold a private key and its certificate")
    if isinstance(key, rsa.RSAPrivateKey):
        if key.key_size < _MIN_RSA_BITS:
            raise SealingError(f"RSA sealing keys need at least {_MIN_RSA_BITS} bits")
    elif isinstance(key, ec.EllipticCurvePrivateKey):
        if not isinstance(key.curve, _EC_CURVES):
            raise SealingError(f"unsupported elliptic curve {key.curve.name} for sealing")
    else:
        raise SealingError(f"unsupported sealing key type {type(key).__name__}")
    try:
        signer = signers.SimpleSigner.load_pkcs12_data(data, (), passphrase=passphrase)
    except ValueError as exc:  # pragma: no cover (cryptography already opened it)
        raise SealingError(f"cannot load {path}: {exc}") from exc
    root = _trust_root(cert, chain)
    der = cert.public_bytes(serialization.Encoding.DER)
    return SealingCredentials(
        signer=signer,
        certificate_sha256=hashlib.sha256(der).hexdigest(),
        trust_root_pem=root.public_bytes(serialization.Encoding.PEM),
        subject=cert.subject.rfc4514_string(),
        development=development,
    )


def _trust_root(cert: x509.Certificate, chain: list[x509.Certificate]) -> x509.Certificate:
    # PKCS #12 (RFC 7292) does not order its certificates; a root is the self-issued one.
    if cert.issuer == cert.subject:
        return cert
    for candidate in chain:
        if candidate.issuer == candidate.subject:
            return candidate
    if chain:
        return chain[-1]
    raise SealingError(
        "the PKCS #12 file has no CA certificate, so no trust root can be named; include the chain up to the root"
    )


def development_credentials(directory: Path) -> SealingCredentials:
    """Return the development credentials kept in ``directory``, creating them the first time.

    They are a throwaway CA ("Model Ledger DEVELOPMENT CA — untrusted", saved as ``ca.pem``)
    and an ECDSA P-256 sealing certificate it issued ("Model Ledger DEVELOPMENT report seal —
    untrusted"), saved with its key and the CA certificate in ``seal.p12`` (no passphrase,
    mode 0600). The CA key is discarded. Concurrent first calls agree on one set. Raise
    SealingError if the directory cannot be written or the files are unreadable.
    """
    directory = Path(directory)
    p12_path = directory / DEVELOPMENT_P12
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not p12_path.exists():
            _publish(p12_path, _development_p12(), mode=0o600)
    except OSError as exc:
        raise SealingError(f"cannot create development credentials in {directory}: {exc}") from exc
    credentials = _load_p12(p12_path, None, development=True)
    ca_path = directory / DEVELOPMENT_CA_PEM
    try:
        if not ca_path.exists() or ca_path.read_bytes() != credentials.trust_root_pem:
            _publish(ca_path, credentials.trust_root_pem, mode=0o644, replace=True)
    except OSError as exc:
        raise SealingError(f"cannot write {ca_path}: {exc}") from exc
    return credentials


def _publish(path: Path, data: bytes, *, mode: int, replace: bool = False) -> None:
    """Write ``data`` to ``path`` atomically; unless ``replace``, keep a file already there."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if replace:
            os.replace(temporary, path)
        else:
            # link() never overwrites: the first of two racing processes wins, both use it.
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Model Ledger (DEVELOPMENT)"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _development_p12() -> bytes:
    """Return a new PKCS #12 file: a development seal key, its certificate and its CA."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    not_before, not_after = now - dt.timedelta(minutes=5), now + _DEVELOPMENT_VALIDITY
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name(DEVELOPMENT_CA_NAME))
        .issuer_name(_name(DEVELOPMENT_CA_NAME))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    seal_key = ec.generate_private_key(ec.SECP256R1())
    seal_cert = (
        x509.CertificateBuilder()
        .subject_name(_name(DEVELOPMENT_SEAL_NAME))
        .issuer_name(ca_cert.subject)
        .public_key(seal_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(seal_key.public_key()), False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    # The CA travels inside the PKCS #12 file, so the key, its certificate and the root that
    # verifies it can never come from two different generations.
    return pkcs12.serialize_key_and_certificates(
        name=DEVELOPMENT_SEAL_NAME.encode("utf-8"),
        key=seal_key,
        cert=seal_cert,
        cas=[ca_cert],
        encryption_algorithm=serialization.NoEncryption(),
    )


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    """Return keyCertSign+cRLSign for a CA, digitalSignature+nonRepudiation for a seal."""
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=not cert_sign,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )
