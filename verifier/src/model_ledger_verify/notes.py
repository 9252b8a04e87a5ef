"""C2SP signed notes (https://c2sp.org/signed-note), signed with Ed25519.

A note is text followed by signature lines; a checkpoint (see :mod:`.checkpoints`) is the
commonest text::

    <origin>
    <tree size, decimal>
    <base64 root hash>

    — <key name> <base64(4-byte key id ‖ 64-byte Ed25519 signature)>

Key strings use the format of Go's ``golang.org/x/mod/sumdb/note`` package, so notes and keys
interoperate with its tools: a verifier key is ``<name>+<hex key id>+<base64(0x01 ‖ public key)>``
and a signer key is ``PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 ‖ seed)>``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import secrets
from collections.abc import Sequence

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

__all__ = [
    "MAX_NOTE_SIZE",
    "MAX_SIGNATURES",
    "NoteError",
    "Signer",
    "Verifier",
    "generate_signer_key",
    "key_id",
    "open_note",
    "sign_note",
]

MAX_NOTE_SIZE = 1 << 20
"""The largest note, in UTF-8 bytes, that :func:`open_note` will parse."""

MAX_SIGNATURES = 100
"""The most signature lines a note may carry; C2SP requires accepting at least 16."""

_ALG_ED25519 = b"\x01"
_SIGNER_PREFIX = "PRIVATE+KEY+"
_SIG_PREFIX = "\u2014 "  # em dash, space
_KEY_ID_HEX = re.compile(r"[0-9a-fA-F]{8}")
# C2SP signed-note §Format: no ASCII control characters other than newline.
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")


class NoteError(ValueError):
    """A key, note or checkpoint is malformed, or a note's signatures do not verify."""


def _b64decode(value: str, what: str) -> bytes:
    """Return the bytes of canonical standard base64 (RFC 4648 §4); raise NoteError if not."""
    # Decoders ignore stray padding bits, so re-encoding is the only way to insist on one form.
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise NoteError(f"{what} is not valid base64") from None
    if base64.b64encode(raw).decode("ascii") != value:
        raise NoteError(f"{what} is not canonical base64")
    return raw


def _b64encode(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _check_name(name: object) -> str:
    """Return ``name`` if it is a valid key name; raise NoteError otherwise."""
    if not isinstance(name, str) or not name:
        raise NoteError("key name must be a non-empty string")
    # C2SP signed-note §Format: no Unicode spaces and no plus signs.
    if "+" in name or any(ch.isspace() for ch in name):
        raise NoteError(f"key name {name!r} must not contain '+' or whitespace")
    if _CONTROL.search(name):
        raise NoteError(f"key name {name!r} must not contain control characters")
    return name


def key_id(name: str, public_key: bytes) -> bytes:
    """Return the 4-byte C2SP key id of an Ed25519 key.

    That is the first four bytes of SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key). Raise NoteError
    if the name is invalid or the public key is not 32 bytes.
    """
    _check_name(name)
    if len(public_key) != 32:
        raise NoteError("an Ed25519 public key is 32 bytes")
    # C2SP signed-note §Ed25519 signatures: key ID = SHA-256(name || 0x0A || 0x01 || key)[:4].
    data = name.encode("utf-8") + b"\n" + _ALG_ED25519 + bytes(public_key)
    return hashlib.sha256(data).digest()[:4]


def _parse_key_body(body: str, what: str) -> tuple[str, bytes, bytes]:
    """Split ``<name>+<hex id>+<base64(0x01 ‖ key)>`` into name, key id and 32-byte key."""
    # Names cannot contain "+", but base64 can: split off only the first two fields.
    parts = body.split("+", 2)
    if len(parts) != 3:
        raise NoteError(f"{what} must look like <name>+<8 hex digits>+<base64 key>")
    name, hex_id, b64 = parts
    _check_name(name)
    if not _KEY_ID_HEX.fullmatch(hex_id):
        raise NoteError(f"{what} key id {hex_id!r} is not 8 hex digits")
    raw = _b64decode(b64, f"{what} key")
    if raw[:1] != _ALG_ED25519:
        raise NoteError(f"{what} has an unsupported algorithm (only Ed25519, 0x01, is known)")
    if len(raw) != 33:
        raise NoteError(f"{what} does not hold a 32-byte Ed25519 key")
    return name, bytes.fromhex(hex_id), raw[1:]


class Verifier:
    """An Ed25519 public key with its C2SP name and key id."""

    __slots__ = ("_key", "key_id", "name", "public_key")

    def __init__(self, name: str, public_key: bytes) -> None:
        """Create a verifier; raise NoteError for an invalid name or key."""
        self.name: str = _check_name(name)
        self.public_key: bytes = bytes(public_key)
        self.key_id: bytes = key_id(name, self.public_key)
        try:
            self._key = Ed25519PublicKey.from_public_bytes(self.public_key)
        except ValueError:
            raise NoteError("not a valid Ed25519 public key") from None

    @classmethod
    def from_string(cls, vkey: str) -> Verifier:
        """Return the verifier for a ``<name>+<hex id>+<base64(0x01 ‖ key)>`` string.

        Raise NoteError if the string is malformed, the algorithm is not Ed25519, or the key id
        does not match the name and key.
        """
        if not isinstance(vkey, str):
            raise NoteError("verifier key must be a string")
        name, kid, public_key = _parse_key_body(vkey.strip(), "verifier key")
        verifier = cls(name, public_key)
        if verifier.key_id != kid:
            raise NoteError(
                f"verifier key id {kid.hex()} does not match its name and key (expected {verifier.key_id.hex()})"
            )
        return verifier

    def verifier_key(self) -> str:
        """Return the ``<name>+<hex id>+<base64(0x01 ‖ key)>`` string for this key."""
        return f"{self.name}+{self.key_id.hex()}+{_b64encode(_ALG_ED25519 + self.public_key)}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        """Return True if ``signature`` is this key's Ed25519 signature of ``message``."""
        if len(signature) != 64:
            return False
        try:
            self._key.verify(bytes(signature), bytes(message))
        except InvalidSignature:
            return False
        return True

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Verifier):
            return NotImplemented
        return self.name == other.name and self.public_key == other.public_key

    def __hash__(self) -> int:
        return hash((self.name, self.public_key))

    def __repr__(self) -> str:
        return f"Verifier({self.verifier_key()!r})"


class Signer:
    """An Ed25519 private key with its C2SP name and key id."""

    __slots__ = ("_key", "_seed", "key_id", "name", "public_key")

    def __init__(self, name: str, seed: bytes) -> None:
        """Create a signer from a 32-byte Ed25519 seed; raise NoteError if either is invalid."""
        self.name: str = _check_name(name)
        if len(seed) != 32:
            raise NoteError("an Ed25519 seed is 32 bytes")
        self._seed = bytes(seed)
        self._key = Ed25519PrivateKey.from_private_bytes(self._seed)
        self.public_key: bytes = self._key.public_key().public_bytes_raw()
        self.key_id: bytes = key_id(name, self.public_key)

    @classmethod
    def from_string(cls, skey: str) -> Signer:
        """Return the signer for a ``PRIVATE+KEY+<name>+<hex id>+<base64(0x01 ‖ seed)>`` string.

        Raise NoteError if the string is malformed, the algorithm is not Ed25519, or the key id
        does not match the name and the public key derived from the seed.
        """
        if not isinstance(skey, str):
            raise NoteError("signer key must be a string")
        skey = skey.strip()
        if not skey.startswith(_SIGNER_PREFIX):
            raise NoteError("signer key must start with PRIVATE+KEY+")
        name, kid, seed = _parse_key_body(skey[len(_SIGNER_PREFIX) :], "signer key")
        signer = cls(name, seed)
        if signer.key_id != kid:
            raise NoteError(
                f"signer key id {kid.hex()} does not match its name and key (expected {signer.key_id.hex()})"
            )
        return signer

    def verifier_key(self) -> str:
        """Return the public ``<name>+<hex id>+<base64(0x01 ‖ key)>`` string for this key."""
        return f"{self.name}+{self.key_id.hex()}+{_b64encode(_ALG_ED25519 + self.public_key)}"

    def verifier(self) -> Verifier:
        """Return the :class:`Verifier` for this key."""
        return Verifier(self.name, self.public_key)

    def sign(self, message: bytes) -> bytes:
        """Return the 64-byte Ed25519 signature of ``message`` (RFC 8032, deterministic)."""
        return self._key.sign(bytes(message))

    def __repr__(self) -> str:
        return f"Signer({self.verifier_key()!r})"


def _signer_key_string(name: str, seed: bytes) -> str:
    signer = Signer(name, seed)
    encoded = _b64encode(_ALG_ED25519 + seed)
    return f"{_SIGNER_PREFIX}{signer.name}+{signer.key_id.hex()}+{encoded}"


def generate_signer_key(name: str) -> str:
    """Return a new random signer key string ``PRIVATE+KEY+<name>+<hex id>+<base64>``.

    Raise NoteError if ``name`` is not a valid key name.
    """
    return _signer_key_string(_check_name(name), secrets.token_bytes(32))


def _check_text(text: object) -> str:
    if not isinstance(text, str) or not text.endswith("\n"):
        raise NoteError("note text must be a string ending in a newline")
    if _CONTROL.search(text):
        raise NoteError("note text must not contain control characters other than newline")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise NoteError("note text is not valid Unicode") from None
    return text


def sign_note(text: str, signers: Sequence[Signer]) -> str:
    """Return the signed note: ``text``, a blank line, then one signature line per signer.

    Each line is ``— <name> <base64(key id ‖ signature)>`` with the signature over the UTF-8
    text including its final newline (C2SP signed-note). The text may contain empty lines; the
    signature block is found after the last one. Raise NoteError if ``text`` does not end in a
    newline or contains other control characters, if there are no signers, or if the note
    would exceed :data:`MAX_NOTE_SIZE`.
    """
    _check_text(text)
    if not signers:
        raise NoteError("a note needs at least one signature")
    # Every signature covers the same bytes: the text with its final newline, no blank line.
    message = text.encode("utf-8")
    lines = [f"{_SIG_PREFIX}{s.name} {_b64encode(s.key_id + s.sign(message))}\n" for s in signers]
    note = text + "\n" + "".join(lines)
    if len(note.encode("utf-8")) > MAX_NOTE_SIZE:
        raise NoteError(f"signed note would exceed {MAX_NOTE_SIZE} bytes")
    return note


def open_note(note: str | bytes, verifiers: Sequence[Verifier]) -> tuple[str, list[Verifier]]:
    """Verify a signed note; return its text and the known verifiers that signed it validly.

    Signatures whose (name, key id) match no verifier are ignored, as C2SP requires, and a
    repeated signature by one key is checked once. Raise NoteError if the note is larger than
    :data:`MAX_NOTE_SIZE`, not UTF-8, contains control characters other than newline, has no
    signature block or a malformed signature line, or more than :data:`MAX_SIGNATURES`
    signatures; if a known key's signature does not verify; if two different verifiers share
    a name and key id; or if no known key signed the note.
    """
    if isinstance(note, bytes | bytearray | memoryview):
        if len(note) > MAX_NOTE_SIZE:
            raise NoteError(f"note is larger than {MAX_NOTE_SIZE} bytes")
        try:
            note = bytes(note).decode("utf-8")
        except UnicodeDecodeError:
            raise NoteError("note is not valid UTF-8") from None
    if not isinstance(note, str):
        raise NoteError("note must be text")
    try:
        size = len(note.encode("utf-8"))
    except UnicodeEncodeError:
        raise NoteError("note is not valid Unicode") from None
    if size > MAX_NOTE_SIZE:
        raise NoteError(f"note is larger than {MAX_NOTE_SIZE} bytes")
    if _CONTROL.search(note):
        raise NoteError("note contains control characters other than newline")

    # C2SP signed-note §Format: the text may hold empty lines; the last one ends it.
    split = note.rfind("\n\n")
    if split < 0:
        raise NoteError("note has no signature block (no blank line)")
    text, block = note[: split + 1], note[split + 2 :]
    if not block or not block.endswith("\n"):
        raise NoteError("note's signature block is empty or does not end in a newline")

    # A key is identified by name and id together (C2SP signed-note §Signatures).
    known: dict[tuple[str, bytes], Verifier] = {}
    for v in verifiers:
        other = known.setdefault((v.name, v.key_id), v)
        if other != v:
            raise NoteError(f"two verifier keys share the name and id {v.name}+{v.key_id.hex()}")

    message = text.encode("utf-8")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"note has more than {MAX_SIGNATURES} signatures")
    signed: list[Verifier] = []
    seen: set[tuple[str, bytes]] = set()
    for number, line in enumerate(lines, start=1):
        if not line.startswith(_SIG_PREFIX):
            raise NoteError(f"signature line {number} does not start with an em dash and space")
        name, _, b64 = line[len(_SIG_PREFIX) :].partition(" ")
        try:
            _check_name(name)
        except NoteError as exc:
            raise NoteError(f"signature line {number}: {exc}") from None
        raw = _b64decode(b64, f"signature line {number}")
        if len(raw) < 5:
            raise NoteError(f"signature line {number} is too short to hold a key id and signature")
        ident = (name, raw[:4])
        verifier = known.get(ident)
        # Unknown keys MUST be ignored; they may be witnesses or a rotated-in log key.
        if verifier is None or ident in seen:
            continue
        seen.add(ident)
        if not verifier.verify(message, raw[4:]):
            raise NoteError(f"invalid signature by known key {name}+{raw[:4].hex()}")
        signed.append(verifier)
    if not signed:
        raise NoteError("no valid signature by a known key")
    return text, signed
