"""The leaf format, in one place: its version, members, timestamp form, encoder and fast decoder.

A leaf is the RFC 8785 canonical JSON of an object with exactly the members of :data:`TYPES`
(docs/ledger-format.md, "Leaves"). The sequencer builds leaves with :func:`encode`; the offline
verifier proves them canonical and well formed with :func:`fast_accepts`, falling back to the
exact reference check (:func:`parse_canonical_reference` and :func:`problem`) for anything the
fast path cannot prove. The leaf hash is :func:`model_ledger_verify.merkle.leaf_hash` (RFC 9162 §2.1.1).

Like the rest of the pure core, this module imports no Django.
"""

from __future__ import annotations

import json
import json.encoder
import re
from collections.abc import Callable
from datetime import UTC, datetime
from json.encoder import encode_basestring  # type: ignore[attr-defined]  (the C encoder)
from typing import Any

from model_ledger_verify import canonical

__all__ = [
    "MEMBERS",
    "TIMESTAMP",
    "TYPES",
    "VERSION",
    "encode",
    "fast_accepts",
    "fast_canonical",
    "parse_canonical",
    "parse_canonical_reference",
    "problem",
    "timestamp",
]

VERSION = 1
"""The leaf format version (the ``v`` member): the one the sequencer writes and the verifier reads."""

# Leaf members and their JSON types (docs/ledger-format.md, "Leaves").
TYPES: dict[str, type] = {
    "v": int,
    "origin": str,
    "seq": int,
    "ts": str,
    "type": str,
    "actor": str,
    "subject": str,
    "idempotency_key": str,
    "data": dict,
}
MEMBERS = frozenset(TYPES)
_VERSION_BYTES = str(VERSION).encode()

# RFC 3339 UTC with exactly six fractional digits and "Z", e.g. 2026-11-27T23:40:01.123456Z.
TIMESTAMP_PATTERN = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z"
TIMESTAMP = re.compile(TIMESTAMP_PATTERN)
_TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def timestamp(moment: datetime) -> str:
    """Return the ``ts`` form of an aware datetime: UTC, microseconds, ``Z``."""
    return moment.astimezone(UTC).strftime(_TIMESTAMP_FORMAT)


def _json_string(value: str) -> bytes:
    """RFC 8785 bytes of a string already validated at submit time (the stdlib encoder escapes
    exactly the characters RFC 8785 §3.2.2.2 does, with lowercase hex)."""
    return encode_basestring(value).encode("utf-8")  # type: ignore[no-any-return]


def encode(
    *,
    origin: str,
    seq: int,
    ts: str,
    type: str,
    actor: str,
    subject: str,
    idempotency_key: str,
    data: bytes,
) -> bytes:
    """Return the RFC 8785 bytes of a leaf, given its data already in canonical form.

    Equal to canonical.dumps of the whole leaf object (a test holds it to that); assembled by
    hand because RFC 8785 §3.2.3 fixes the member order and the sequencer builds thousands a second.
    """
    d = _json_string
    return b"".join(
        (
            b'{"actor":',
            d(actor),
            b',"data":',
            data,
            b',"idempotency_key":',
            d(idempotency_key),
            b',"origin":',
            d(origin),
            b',"seq":',
            str(seq).encode(),
            b',"subject":',
            d(subject),
            b',"ts":',
            d(ts),
            b',"type":',
            d(type),
            b',"v":',
            _VERSION_BYTES,
            b"}",
        )
    )


# --------------------------------------------------------------------------------------------
# Decoding: canonical JSON, fast and exact
# --------------------------------------------------------------------------------------------

# The reference check is canonical.dumps(canonical.loads(b)) == b. It is exact but written in
# Python, and would dominate the run time on a large bundle, so each leaf first goes through a
# fast path (fast_accepts below) built on regular expressions and on the C JSON scanner and
# encoder of the standard library. A fast path only ever *accepts*; whenever it has any doubt
# the reference check decides (and words the error).
#
# Why an acceptance is always right: for the inputs admitted, the C encoder (sort_keys, no
# whitespace, ensure_ascii off) writes exactly the RFC 8785 bytes canonical.dumps would:
#  - strings: both escape ", \, \b \f \n \r \t, other U+0000..U+001F as \u00xx in lowercase
#    hex, and write every other character as itself (RFC 8785 §3.2.2.2);
#  - integers: both write the decimal repr; canonical refuses magnitudes above 2**53 - 1, so a
#    leaf with a run of 16 or more digits anywhere is left to the reference check;
#  - member order: RFC 8785 §3.2.3 sorts keys by UTF-16 code units, Python by code points; the
#    orders agree unless a character outside the BMP occurs, which in UTF-8 needs a lead byte
#    0xF0..0xF4, so such leaves are left to the reference check;
#  - nesting: more than MAX_DEPTH opening brackets anywhere leaves it to the reference check.
# The input must also decode as strict UTF-8 and parse as one JSON value with no surrounding
# whitespace; floats, NaN and Infinity make the scanner raise; and the re-encoding must equal
# the input exactly, which rules out duplicate keys, other whitespace, escaping or order, and
# lone surrogates (the input is valid UTF-8, so its text holds none).


def _refuse(text: str) -> Any:
    raise ValueError(text)


_SCAN = json.JSONDecoder(parse_float=_refuse, parse_constant=_refuse).scan_once
_GUARD_TABLE = bytes(
    ord("d") if 0x30 <= b <= 0x39 else ord("X") if b >= 0xF0 else ord("b") if b in b"{[" else 46 for b in range(256)
)
_SIXTEEN_DIGITS = b"d" * 16


def _make_encoder() -> Callable[[Any, int], Any]:
    """Return ``f(value, 0) -> iterable of str`` producing sorted, compact, non-ASCII-escaping
    JSON: the C encoder built once, or the pure-Python one if the C accelerator is missing."""
    fallback = json.JSONEncoder(ensure_ascii=False, allow_nan=False, sort_keys=True, separators=(",", ":"))
    make = getattr(json.encoder, "c_make_encoder", None)
    escape = getattr(json.encoder, "c_encode_basestring", None)
    if make is not None and escape is not None:
        try:
            encoder = make(None, None, escape, None, ":", ",", True, False, False)
            probe = {"b": [1, "é\n", None, True], "a": {}}
            if "".join(encoder(probe, 0)) == fallback.encode(probe):
                return encoder  # type: ignore[no-any-return]
        except Exception:  # noqa: S110 - any surprise in the C encoder means: use the fallback
            pass
    return lambda value, _level: fallback.iterencode(value)


_ENCODE = _make_encoder()


def fast_canonical(data: bytes, max_brackets: int = canonical.MAX_DEPTH) -> Any:
    """Return the value of ``data`` if the fast path can prove it canonical, else None.

    ``max_brackets`` bounds the opening brackets: MAX_DEPTH for a whole value, one less for a
    value nested one level down (canonical counts depth from the top of the whole leaf).
    """
    guard = data.translate(_GUARD_TABLE)
    if b"X" in guard or _SIXTEEN_DIGITS in guard or guard.count(b"b") > max_brackets:
        return None
    try:
        text = data.decode("utf-8")
        value, end = _SCAN(text, 0)
        if end == len(text) and "".join(_ENCODE(value, 0)) == text:
            return value
    except (ValueError, StopIteration, RecursionError):  # incl. JSONDecodeError, UnicodeError
        pass
    return None


def parse_canonical(data: bytes) -> Any:
    """Return the value of ``data`` if it is canonical ledger JSON; raise CanonicalError if not.

    Canonical means ``canonical.dumps(canonical.loads(data)) == data``: strict UTF-8 RFC 8785
    JSON without floats, duplicate keys or unsafe integers, in its one canonical byte form.
    """
    value = fast_canonical(data)
    if value is not None:
        return value
    return parse_canonical_reference(data)


def parse_canonical_reference(data: bytes) -> Any:
    """:func:`parse_canonical` by the reference check alone."""
    value = canonical.loads(data)
    if canonical.dumps(value) != data:
        raise canonical.CanonicalError(
            "the JSON is valid but its bytes are not the RFC 8785 form "
            "(member order, whitespace, escaping or number form differ)"
        )
    return value


# The leaf fast path. A canonical leaf has a fixed shape, its members in RFC 8785 order:
#   {"actor":S,"data":{…},"idempotency_key":S,"origin":S,"seq":N,"subject":S,"ts":T,"type":S,"v":V}
# The envelope is checked by two regular expressions, and only the data object goes through the
# JSON scanner and encoder. _STRING matches exactly the RFC 8785 serialisation of a string (with
# the UTF-8 validity of its raw bytes checked separately): characters other than ", \ and
# U+0000..U+001F as themselves, the two-character escapes \" \\ \b \f \n \r \t, and \u00xx in
# lowercase hex for the other control characters. A byte string that passes is therefore the
# canonical form of a leaf with exactly the format's members and types.
_STRING = rb'"[^"\\\x00-\x1f]*+(?:\\(?:["\\bfnrt]|u00(?:0[0-7bef]|1[0-9a-f]))[^"\\\x00-\x1f]*+)*+"'
_LEAF_HEAD = re.compile(rb'\{"actor":' + _STRING + rb',"data":')
_LEAF_TAIL = re.compile(
    rb'\},"idempotency_key":'
    + _STRING
    + rb',"origin":('
    + _STRING
    + rb'),"seq":(0|[1-9][0-9]{0,14}),"subject":'
    + _STRING
    + rb',"ts":"'
    + TIMESTAMP_PATTERN.encode()
    + rb'","type":'
    + _STRING
    + rb',"v":'
    + str(VERSION).encode()
    + rb"\}"
)
_DATA_END = b'},"idempotency_key":'


def fast_accepts(leaf: bytes, seq: bytes, origin: bytes) -> bool:
    """Return True if ``leaf`` is provably a canonical, well-formed leaf with the decimal
    ``seq`` and the canonical JSON string ``origin``; False means "not proven", not "bad"."""
    head = _LEAF_HEAD.match(leaf)
    if head is None:
        return False
    # The data object ends at the last "},"idempotency_key":", because no later envelope
    # member can hold that text: inside a canonical string every " is escaped.
    split = leaf.rfind(_DATA_END)
    tail = _LEAF_TAIL.fullmatch(leaf, split) if split > 0 else None
    if tail is None or tail.group(2) != seq or tail.group(1) != origin:
        return False
    try:
        leaf.decode("utf-8")
    except UnicodeDecodeError:
        return False
    data = fast_canonical(leaf[head.end() : split + 1], canonical.MAX_DEPTH - 1)
    return type(data) is dict


def problem(leaf: Any) -> str | None:
    """Return what is wrong with the members of a parsed leaf, or None."""
    if not isinstance(leaf, dict):
        return "leaf is not a JSON object"
    missing = sorted(MEMBERS - leaf.keys())
    extra = sorted(leaf.keys() - MEMBERS)
    if missing or extra:
        parts = []
        if missing:
            parts.append("missing " + ", ".join(missing))
        if extra:
            parts.append("unexpected " + ", ".join(extra))
        return "leaf members are wrong: " + "; ".join(parts)
    names = {int: "an integer", str: "a string", dict: "an object"}
    for name, kind in TYPES.items():
        if type(leaf[name]) is not kind:
            return f"leaf member {name} must be {names[kind]}"
    if leaf["v"] != VERSION:
        return f"leaf version v={leaf['v']} is not supported (expected {VERSION})"
    if not TIMESTAMP.fullmatch(leaf["ts"]):
        return f"leaf ts {leaf['ts'][:40]!r} is not RFC 3339 UTC with microseconds and Z"
    return None
