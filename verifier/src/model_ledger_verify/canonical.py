"""RFC 8785 JSON Canonicalization Scheme (JCS) for ledger leaves, without floating point.

A leaf is hashed exactly as stored, so its bytes must be reproducible by anyone: :func:`dumps`
produces the JCS serialisation of a JSON value, and a verifier confirms that stored bytes ``b``
are canonical with ``dumps(loads(b)) == b``.

JCS numbers are IEEE-754 doubles serialised the ECMAScript way (RFC 8785 §3.2.2.3). The ledger
sidesteps that entirely: it accepts only integers that a double represents exactly, and refuses
every float, so metrics and other fractional values travel as decimal strings.
"""

from __future__ import annotations

import json
import re
from typing import Any

import rfc8785

try:  # orjson writes the same bytes much faster where _plain allows it; the verifier does without
    import orjson
except ImportError:  # pragma: no cover - the service installs orjson
    orjson = None  # type: ignore[assignment]

__all__ = ["MAX_DEPTH", "MAX_SAFE_INTEGER", "CanonicalError", "dumps", "loads", "reference_dumps"]

MAX_SAFE_INTEGER = 2**53 - 1
"""The largest integer that every IEEE-754 double reader preserves exactly (I-JSON, RFC 7493)."""

MAX_DEPTH = 200
"""The deepest nesting of arrays and objects accepted by :func:`dumps` and :func:`loads`."""

_SURROGATE = re.compile(r"[\ud800-\udfff]")

# RFC 8785 §3.2.2.2: the two-character escapes where JSON has them, \u00xx (lowercase hex) for
# the remaining control characters, and every other character as itself.
_ESCAPES: dict[int, str] = {c: f"\\u{c:04x}" for c in range(0x20)}
_ESCAPES.update(
    {
        ord('"'): '\\"',
        ord("\\"): "\\\\",
        ord("\b"): "\\b",
        ord("\f"): "\\f",
        ord("\n"): "\\n",
        ord("\r"): "\\r",
        ord("\t"): "\\t",
    }
)


class CanonicalError(ValueError):
    """A value cannot be canonicalised, or bytes are not acceptable ledger JSON."""


def _where(path: str) -> str:
    return path or "the top level"


def _utf16_key(key: str) -> bytes:
    # RFC 8785 §3.2.3: sort by UTF-16 code units; big-endian bytes compare the same way.
    return key.encode("utf-16-be")


def _string(value: str, path: str) -> str:
    if _SURROGATE.search(value):
        raise CanonicalError(f"string at {_where(path)} contains a lone surrogate and is not valid Unicode")
    return '"' + value.translate(_ESCAPES) + '"'


def _encode(value: Any, path: str, depth: int, out: list[str]) -> None:
    # Literals are tested before int: True and False are ints to Python but not to JSON.
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(_string(value, path))
    elif isinstance(value, int):
        if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            raise CanonicalError(
                f"integer at {_where(path)} is outside ±(2**53 - 1) and cannot be represented "
                "exactly; send it as a decimal string"
            )
        # Within ±(2**53 - 1) the ECMAScript form of RFC 8785 §3.2.2.3 is the plain decimal;
        # int.__repr__ also keeps IntEnum members from printing their names.
        out.append(int.__repr__(value))
    elif isinstance(value, float):
        raise CanonicalError(
            f"float at {_where(path)} is not allowed: metrics and other non-integer numbers "
            'must travel as decimal strings, e.g. "0.8731"'
        )
    elif isinstance(value, dict):
        if depth >= MAX_DEPTH:
            raise CanonicalError(f"value nests deeper than {MAX_DEPTH} levels (or is cyclic)")
        for key in value:
            if not isinstance(key, str):
                raise CanonicalError(f"object at {_where(path)} has a non-string key {key!r}")
            if _SURROGATE.search(key):
                raise CanonicalError(f"object at {_where(path)} has a key containing a lone surrogate")
        # RFC 8785 §3.2.3: members sorted by key, no whitespace, recursively.
        out.append("{")
        for i, key in enumerate(sorted(value, key=_utf16_key)):
            if i:
                out.append(",")
            out.append(_string(key, path))
            out.append(":")
            _encode(value[key], f"{path}.{key}" if path else key, depth + 1, out)
        out.append("}")
    elif isinstance(value, list | tuple):
        if depth >= MAX_DEPTH:
            raise CanonicalError(f"value nests deeper than {MAX_DEPTH} levels (or is cyclic)")
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _encode(item, f"{path}[{i}]", depth + 1, out)
        out.append("]")
    else:
        raise CanonicalError(
            f"value at {_where(path)} has type {type(value).__name__}, which JSON cannot carry "
            "canonically (use dict, list, str, int, bool or None)"
        )


def dumps(value: Any) -> bytes:
    """Return the RFC 8785 canonical JSON serialisation of ``value``, encoded as UTF-8.

    Accept dict (string keys), list, tuple, str, int, bool and None. Raise CanonicalError, with
    the path of the offending value (e.g. ``data.metrics.auc``), for floats, integers beyond
    ±(2**53 - 1), non-string keys, strings or keys holding lone surrogates, any other type, and
    nesting deeper than :data:`MAX_DEPTH`.
    """
    # The bytes come from the maintained rfc8785 package, which is faster than _encode on the
    # sequencer's path (bench/canonical_bench.py) and agrees with it byte for byte (a property
    # test holds them to that). It accepts floats and any depth, which the ledger refuses, so a
    # quick walk checks those first; on any refusal _encode runs and words the error with its path.
    # Plain values (see _plain) go through orjson's C encoder with sorted keys, which writes
    # exactly these bytes for them (the same property tests hold it to rfc8785).
    try:
        if orjson is not None and _plain(value, 0):
            return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
        _check_ledger_rules(value, 0)
        return rfc8785.dumps(value)
    except (ValueError, TypeError, RecursionError):  # rfc8785's and orjson's refusals
        pass
    return reference_dumps(value)


def reference_dumps(value: Any) -> bytes:
    """:func:`dumps` by the ledger's own encoder alone: the same bytes and the same errors."""
    out: list[str] = []
    _encode(value, "", 0, out)
    return "".join(out).encode("utf-8")


_SCALARS = frozenset({str, int, bool, type(None)})


def _plain(value: Any, depth: int) -> bool:
    """True when orjson's sorted compact JSON of ``value`` is its RFC 8785 form.

    That holds for exact dicts with ASCII keys (orjson orders keys by code point, RFC 8785 by
    UTF-16 code unit: the two differ only past U+D7FF), lists, tuples, strings (both escape the
    same characters the same way; orjson refuses lone surrogates), booleans, None and integers
    within the safe range. Anything else (a float, a subclass, a deep value) answers False.
    """
    if depth >= MAX_DEPTH:
        return False
    kind = type(value)
    if kind is dict:
        for key in value:
            if type(key) is not str or not key.isascii():
                return False
        children: Any = value.values()
    elif kind is list or kind is tuple:
        children = value
    else:
        return _plain_scalar(value, kind)
    for child in children:
        child_kind = type(child)
        if child_kind is str or child_kind is bool or child is None:
            continue
        if child_kind is dict or child_kind is list or child_kind is tuple:
            if not _plain(child, depth + 1):
                return False
        elif not _plain_scalar(child, child_kind):
            return False
    return True


def _plain_scalar(value: Any, kind: type) -> bool:
    if kind is int:
        return -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER
    return kind is str or kind is bool or value is None


def _check_ledger_rules(value: Any, depth: int) -> None:
    """Raise ValueError if ``value`` holds a float or nests deeper than MAX_DEPTH; the rest of
    what the ledger refuses, rfc8785 refuses too."""
    if isinstance(value, dict):
        children: Any = value.values()
    elif isinstance(value, list | tuple):
        children = value
    elif isinstance(value, float):
        raise ValueError("float")
    else:
        return
    if depth >= MAX_DEPTH:
        raise ValueError("too deep")
    for child in children:
        if type(child) not in _SCALARS:
            _check_ledger_rules(child, depth + 1)


def _reject_float(text: str) -> Any:
    raise CanonicalError(f"number {text} is not an integer: non-integer numbers must travel as decimal strings")


def _reject_constant(name: str) -> Any:
    raise CanonicalError(f"{name} is not JSON")


def _parse_int(text: str) -> int:
    # Refuse long digit strings before int() spends time on them; 2**53 - 1 has 16 digits.
    if len(text.lstrip("-")) > 16:
        raise CanonicalError(f"integer {text[:20]}… is outside ±(2**53 - 1)")
    value = int(text)
    if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
        raise CanonicalError(f"integer {text} is outside ±(2**53 - 1)")
    return value


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise CanonicalError(f"duplicate object key {key!r}")
        obj[key] = value
    return obj


def _check_parsed(value: Any, path: str, depth: int) -> None:
    # json accepts "\ud800" escapes, but I-JSON (RFC 7493 §2.1) and UTF-8 do not.
    if isinstance(value, str):
        if _SURROGATE.search(value):
            raise CanonicalError(f"string at {_where(path)} contains a lone surrogate escape")
        return
    if isinstance(value, dict | list) and depth >= MAX_DEPTH:
        raise CanonicalError(f"JSON nests deeper than {MAX_DEPTH} levels")
    if isinstance(value, dict):
        for key, item in value.items():
            if _SURROGATE.search(key):
                raise CanonicalError(f"object at {_where(path)} has a lone surrogate in a key")
            _check_parsed(item, f"{path}.{key}" if path else key, depth + 1)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_parsed(item, f"{path}[{i}]", depth + 1)


def loads(data: bytes) -> Any:
    """Parse ledger JSON strictly and return the value (objects as dict, arrays as list).

    Raise CanonicalError if ``data`` is not valid UTF-8 or not a single JSON value, or if it
    holds a number with a fraction or exponent, NaN or Infinity, an integer beyond
    ±(2**53 - 1), a duplicate object key, a lone surrogate escape, or nesting deeper than
    :data:`MAX_DEPTH`. Whitespace and escaping are not checked: compare ``dumps(loads(data))``
    with ``data`` to confirm the bytes are canonical.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise CanonicalError(f"expected bytes, got {type(data).__name__}")
    try:
        text = bytes(data).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CanonicalError(f"not valid UTF-8 at byte {exc.start}") from None
    # RFC 8259 §4 leaves duplicate names undefined; I-JSON (RFC 7493 §2.3) forbids them.
    try:
        value = json.loads(
            text,
            parse_float=_reject_float,
            parse_int=_parse_int,
            parse_constant=_reject_constant,
            object_pairs_hook=_object,
        )
    except CanonicalError:
        raise
    except RecursionError:
        raise CanonicalError(f"JSON nests deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:
        raise CanonicalError(f"not valid JSON: {exc}") from None
    _check_parsed(value, "", 0)
    return value
