"""C2SP tlog-cosignature/v1 with Ed25519 (https://c2sp.org/tlog-cosignature), and witness policies.

A cosignature is a note signature line by a witness::

    — <witness name> base64(key id ‖ u64 big-endian timestamp ‖ Ed25519 signature)

where the key id is SHA-256(name ‖ 0x0A ‖ 0x04 ‖ public key)[:4] and the signature covers::

    cosignature/v1
    time <timestamp>
    <the checkpoint note text, with its final newline>

It states that, at that time, the witness had verified this checkpoint consistent with every
earlier one it saw for the origin. Keys use the signed-note vkey form with algorithm byte 0x04:
``<name>+<hex key id>+<base64(0x04 ‖ public key)>``, and ``PRIVATE+KEY+…`` with the seed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from model_ledger_verify.notes import NoteError

ALG_COSIGNATURE_V1 = b"\x04"
SIG_PREFIX = "\u2014 "
_SIGNER_PREFIX = "PRIVATE+KEY+"
_MAX_TIMESTAMP = 2**63 - 1


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _unb64(text: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise NoteError(f"{what} is not valid base64") from None
    if _b64(raw) != text:
        raise NoteError(f"{what} is not canonical base64")
    return raw


def _check_name(name: str) -> str:
    if not name or "+" in name or any(ch.isspace() for ch in name) or not name.isprintable():
        raise NoteError(f"witness name {name!r} is empty or holds '+', spaces or control characters")
    return name


def cosigner_key_id(name: str, public_key: bytes) -> bytes:
    """Return SHA-256(name ‖ 0x0A ‖ 0x04 ‖ public key)[:4] (tlog-cosignature §Format)."""
    return hashlib.sha256(name.encode("utf-8") + b"\n" + ALG_COSIGNATURE_V1 + public_key).digest()[:4]


def signed_message(text: str, timestamp: int) -> bytes:
    """Return the bytes a cosignature/v1 signs: header, time line, then the checkpoint text."""
    return f"cosignature/v1\ntime {timestamp}\n{text}".encode()


def _parse_key(body: str, what: str) -> tuple[str, bytes, bytes]:
    parts = body.strip().split("+", 2)
    if len(parts) != 3:
        raise NoteError(f"{what} must look like <name>+<8 hex digits>+<base64 key>")
    name, hex_id, b64 = parts
    _check_name(name)
    try:
        kid = bytes.fromhex(hex_id)
    except ValueError:
        kid = b""
    if len(kid) != 4 or len(hex_id) != 8:
        raise NoteError(f"{what} key id {hex_id!r} is not 8 hex digits")
    raw = _unb64(b64, what)
    if raw[:1] != ALG_COSIGNATURE_V1 or len(raw) != 33:
        raise NoteError(f"{what} is not an Ed25519 cosignature/v1 key (algorithm 0x04, 32 bytes)")
    return name, kid, raw[1:]


@dataclass(frozen=True)
class Cosignature:
    """A verified cosignature: which witness, when, and the exact signature line."""

    name: str
    key_id: bytes
    timestamp: int
    line: str


class CosignatureVerifier:
    """A witness's Ed25519 cosignature/v1 public key with its name and key id."""

    def __init__(self, name: str, public_key: bytes) -> None:
        self.name = _check_name(name)
        self.public_key = bytes(public_key)
        self.key_id = cosigner_key_id(name, self.public_key)
        try:
            self._key = Ed25519PublicKey.from_public_bytes(self.public_key)
        except ValueError:
            raise NoteError("not a valid Ed25519 public key") from None

    @classmethod
    def from_string(cls, vkey: str) -> CosignatureVerifier:
        """Return the verifier for ``<name>+<hex id>+<base64(0x04 ‖ key)>``; raise NoteError if bad."""
        name, kid, public_key = _parse_key(vkey, "witness key")
        verifier = cls(name, public_key)
        if verifier.key_id != kid:
            raise NoteError(f"witness key id {kid.hex()} does not match its name and key")
        return verifier

    def verifier_key(self) -> str:
        return f"{self.name}+{self.key_id.hex()}+{_b64(ALG_COSIGNATURE_V1 + self.public_key)}"

    def check(self, text: str, signature: bytes) -> int | None:
        """Return the timestamp if ``signature`` (key id removed) cosigns ``text``; else None."""
        if len(signature) != 72:
            return None
        timestamp = int.from_bytes(signature[:8], "big")
        if timestamp > _MAX_TIMESTAMP:
            return None
        try:
            self._key.verify(signature[8:], signed_message(text, timestamp))
        except InvalidSignature:
            return None
        return timestamp

    def __repr__(self) -> str:
        return f"CosignatureVerifier({self.verifier_key()!r})"


class Cosigner:
    """A witness's Ed25519 private key: signs cosignature/v1 lines."""

    def __init__(self, name: str, seed: bytes) -> None:
        self.name = _check_name(name)
        if len(seed) != 32:
            raise NoteError("an Ed25519 seed is 32 bytes")
        self._key = Ed25519PrivateKey.from_private_bytes(bytes(seed))
        self.public_key = self._key.public_key().public_bytes_raw()
        self.key_id = cosigner_key_id(name, self.public_key)

    @classmethod
    def from_string(cls, skey: str) -> Cosigner:
        """Return the cosigner for ``PRIVATE+KEY+<name>+<hex id>+<base64(0x04 ‖ seed)>``."""
        skey = skey.strip()
        if not skey.startswith(_SIGNER_PREFIX):
            raise NoteError("witness signing key must start with PRIVATE+KEY+")
        name, kid, seed = _parse_key(skey[len(_SIGNER_PREFIX) :], "witness signing key")
        cosigner = cls(name, seed)
        if cosigner.key_id != kid:
            raise NoteError(f"witness signing key id {kid.hex()} does not match its name and key")
        return cosigner

    def verifier(self) -> CosignatureVerifier:
        return CosignatureVerifier(self.name, self.public_key)

    def cosign(self, text: str, timestamp: int | None = None) -> str:
        """Return the signature line (with its newline) cosigning checkpoint ``text``."""
        timestamp = int(time.time()) if timestamp is None else timestamp
        if not 0 < timestamp <= _MAX_TIMESTAMP:
            raise NoteError("a cosignature's timestamp must be positive")
        signature = self._key.sign(signed_message(text, timestamp))
        return f"{SIG_PREFIX}{self.name} {_b64(self.key_id + timestamp.to_bytes(8, 'big') + signature)}\n"


def generate_cosigner_key(name: str) -> str:
    """Return a new random ``PRIVATE+KEY+<name>+<hex id>+<base64(0x04 ‖ seed)>`` string."""
    seed = secrets.token_bytes(32)
    cosigner = Cosigner(name, seed)
    return f"{_SIGNER_PREFIX}{name}+{cosigner.key_id.hex()}+{_b64(ALG_COSIGNATURE_V1 + seed)}"


def split_note(note: str) -> tuple[str, list[str]]:
    """Return a signed note's text and its signature lines (each without its newline)."""
    split = note.rfind("\n\n")
    if split < 0 or not note.endswith("\n"):
        raise NoteError("note has no signature block")
    return note[: split + 1], note[split + 2 : -1].split("\n")


def cosignatures(note: str, witnesses: Sequence[CosignatureVerifier]) -> list[Cosignature]:
    """Return the valid cosignatures on ``note`` by the given witnesses, one per witness.

    Lines by unknown keys are ignored. Raise NoteError if a line by a known witness does not
    verify (C2SP signed-note: such a note is malformed).
    """
    text, lines = split_note(note)
    known = {(w.name, w.key_id): w for w in witnesses}
    found: dict[tuple[str, bytes], Cosignature] = {}
    for line in lines:
        if not line.startswith(SIG_PREFIX):
            raise NoteError("a signature line does not start with an em dash and a space")
        name, _, b64 = line[len(SIG_PREFIX) :].partition(" ")
        raw = _unb64(b64, "signature line")
        witness = known.get((name, raw[:4]))
        if witness is None or (name, raw[:4]) in found:
            continue
        timestamp = witness.check(text, raw[4:])
        if timestamp is None:
            raise NoteError(f"the cosignature by {name}+{raw[:4].hex()} does not verify")
        found[(name, raw[:4])] = Cosignature(name, raw[:4], timestamp, line + "\n")
    return list(found.values())


def add_signatures(note: str, lines: Sequence[str]) -> str:
    """Return ``note`` with the signature ``lines`` appended, each once."""
    text, existing = split_note(note)
    out = list(existing)
    for line in lines:
        line = line.rstrip("\n")
        if line and line not in out:
            out.append(line)
    return text + "\n" + "".join(f"{line}\n" for line in out)


@dataclass(frozen=True)
class WitnessPolicy:
    """A checkpoint counts as witnessed when at least ``threshold`` of ``witnesses`` cosigned it."""

    threshold: int
    witnesses: tuple[CosignatureVerifier, ...]

    def __post_init__(self) -> None:
        if not 0 <= self.threshold <= len(self.witnesses):
            raise NoteError(f"a policy of {self.threshold} of {len(self.witnesses)} witnesses cannot be met")

    def check(self, note: str) -> list[Cosignature]:
        """Return the cosignatures that meet the policy; raise NoteError if too few verify."""
        found = cosignatures(note, self.witnesses)
        if len(found) < self.threshold:
            names = ", ".join(sorted(c.name for c in found)) or "none"
            raise NoteError(
                f"the checkpoint has {len(found)} valid witness cosignatures ({names}); "
                f"the policy needs {self.threshold}"
            )
        return found
