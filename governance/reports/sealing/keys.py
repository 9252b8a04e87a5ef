"""Sealing keys: loading a PKCS#12 signer, and the throwaway development CA and seal."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import tempfile
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from pyhanko.sign import signers

from governance.reports.sealing.manifest import (
    _DEVELOPMENT_VALIDITY,
    _EC_CURVES,
    _MIN_RSA_BITS,
    DEVELOPMENT_CA_NAME,
    DEVELOPMENT_CA_PEM,
    DEVELOPMENT_P12,
    DEVELOPMENT_SEAL_NAME,
    SealingCredentials,
    SealingError,
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
