"""The fast path of step 2 for a whole block of ``entries.ndjson`` lines at once.

:func:`accept_block` proves that every line of a block is in exactly the exporter's form and
passes every check, or answers None, and the caller then checks the block line by line (which
decides and words the first error). It does what :func:`model_ledger_verify.leaf.fast_accepts`
does for one leaf, with the per-leaf work that can be shared done once per block: the guards
against non-BMP characters and unsafe integers are one ``translate`` of all the data objects,
the UTF-8 check one ``decode`` of all the leaves, and the re-encoding check one run of the C
encoder over the list of all data objects. Only the scanner runs once per data object, at the
offset where that object starts, so that each parsed value is known to span exactly its own
bytes.

Why one encoding of the list proves every object canonical: the text checked is
``"[" + t1 + "," + t2 + … + "]"`` where each ``ti`` was scanned to exactly one object ``vi``;
the encoder writes ``"[" + e1 + "," + e2 + … + "]"`` with ``ei`` the encoding of ``vi``. If the
two texts are equal, parsing them gives the same spans, and the spans of the encoding are the
``ei`` (each a complete JSON object), so ``ei == ti`` for every i: exactly the per-leaf check.
"""

from __future__ import annotations

import binascii
import hashlib

from model_ledger_verify import canonical, merkle
from model_ledger_verify import leaf as leaf_format

# A data object nested deeper than canonical allows needs this many opening brackets, each with
# its closing one, so a shorter object cannot be too deep and its brackets need no count.
_DEEP_BYTES = 2 * (canonical.MAX_DEPTH - 1)
_DATA_END = b'},"idempotency_key":'
# The guards, on bytes mapped by one translate: "d" a digit, "p" a byte a number may follow in
# canonical JSON (":", ",", "[" or its "-"), "X" the lead byte of a character outside the BMP.
# An integer of 16 digits or more (canonical refuses magnitudes above 2**53 - 1, which the C
# scanner and encoder would pass) shows as "p" then sixteen "d"; runs of digits inside strings,
# such as those in hex digests, follow a letter or a quote and pass (the per-leaf guard counts
# any run, and sends one digest in forty to the reference check). A non-BMP character orders
# keys differently in UTF-16 and in Python, so the reference check decides those too.
_GUARD_TABLE = bytes(
    ord("d") if 0x30 <= b <= 0x39 else ord("X") if b >= 0xF0 else ord("p") if b in b":,[-" else 46 for b in range(256)
)
_UNSAFE_INTEGER = b"p" + b"d" * 16


def accept_block(lines: list[bytes], first_seq: int, origin_token: bytes) -> bytes | None:
    """Return the concatenated leaf hashes of ``lines`` (seq from ``first_seq``) if the fast
    path proves every line good; None when it cannot (the lines may still be good)."""
    a2b, hexlify, sha256 = binascii.a2b_base64, binascii.hexlify, hashlib.sha256
    leaf_prefix = merkle.LEAF_PREFIX
    head_match = leaf_format._LEAF_HEAD.match
    tail_match = leaf_format._LEAF_TAIL.fullmatch
    out = bytearray()
    leaves: list[bytes] = []
    datas: list[bytes] = []
    seq = first_seq
    for line in lines:
        digits = b"%d" % seq
        head = b'{"seq":' + digits + b',"leaf_hash":"'
        k = len(head)
        if not (line.startswith(head) and line.endswith(b'"}') and line[k + 64 : k + 74] == b'","leaf":"'):
            return None
        try:
            leaf = a2b(line[k + 74 : -2], strict_mode=True)
        except binascii.Error:
            return None
        found = head_match(leaf)
        split = leaf.rfind(_DATA_END)
        tail = tail_match(leaf, split) if found is not None and split > 0 else None
        if tail is None or tail.group(2) != digits or tail.group(1) != origin_token:
            return None
        digest = sha256(leaf_prefix + leaf).digest()
        if hexlify(digest) != line[k : k + 64]:
            return None
        data = leaf[found.end() : split + 1]
        if data[:1] != b"{" or (len(data) >= _DEEP_BYTES and data.count(b"{") + data.count(b"[") >= _DEEP_BYTES // 2):
            return None
        out += digest
        leaves.append(leaf)
        datas.append(data)
        seq += 1
    return bytes(out) if _data_canonical(leaves, datas) else None


def _data_canonical(leaves: list[bytes], datas: list[bytes]) -> bool:
    """Return whether every leaf is UTF-8 and every data object canonical JSON (an object)."""
    joined = b",".join(datas)
    guard = joined.translate(_GUARD_TABLE)
    if b"X" in guard or _UNSAFE_INTEGER in guard:
        return False
    try:
        b"\n".join(leaves).decode("utf-8")  # "\n" cannot finish a multi-byte sequence
        texts = [data.decode("utf-8") for data in datas]
        scan = leaf_format._SCAN
        text = "[" + ",".join(texts) + "]"
        values = []
        position = 1
        for piece in texts:
            value, end = scan(text, position)
            if type(value) is not dict or end != position + len(piece):
                return False
            values.append(value)
            position = end + 1
        return "".join(leaf_format._ENCODE(values, 0)) == text
    except (ValueError, StopIteration, RecursionError):  # incl. JSONDecodeError, UnicodeError
        return False
