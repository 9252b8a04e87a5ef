"""Step 2 of the bundle check: ``entries.ndjson``, line by line, and the tree rebuilt from it.

``entries.ndjson`` is read once, in blocks of whole lines: the SHA-256 for the manifest is
computed from the same reads that feed the entry checks, and a mismatch is still reported before
any entry error. A large bundle's blocks are checked by worker processes, one per CPU, which
read their block again from the (cached) file and confirm it by CRC-32 against what was hashed.
Memory use does not grow with the number of entries.
"""

from __future__ import annotations

import base64
import binascii
import collections
import hashlib
import json
import os
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from model_ledger_verify import canonical, compact_range, merkle
from model_ledger_verify import leaf as leaf_format
from model_ledger_verify.bundle.block import accept_block
from model_ledger_verify.bundle.common import (
    ENTRIES_FILE,
    HEX64,
    MANIFEST_FILE,
    MAX_LINE_BYTES,
    VerificationError,
    digest_mismatch,
    is_int,
    refuse,
)

if TYPE_CHECKING:
    from concurrent.futures import Future

PARALLEL_MIN_BYTES = 16 << 20
"""An ``entries.ndjson`` at least this large is checked by worker processes (when the machine
has more than one CPU); smaller ones are not worth starting them."""

# Size of the blocks entries.ndjson is read and checked in (each ends at a line end).
_BLOCK_BYTES = 4 << 20

# Lines the block fast path takes at once: large enough to share its per-call costs, small
# enough that a run it cannot prove good costs little to check again line by line.
_RUN_LINES = 512

_ENTRY_MEMBERS = frozenset({"seq", "leaf_hash", "leaf"})


def _check_line(line: bytes, seq: int, origin: str) -> bytes:
    """Check one entries.ndjson line (without its newline) as line ``seq + 1``.

    This is the reference check, written for clarity and precise messages. Return the leaf
    hash; raise VerificationError for the first problem, in the documented order.
    """
    e, number = ENTRIES_FILE, seq + 1
    try:
        row = json.loads(line, parse_constant=refuse)
    except (ValueError, RecursionError) as exc:
        raise VerificationError(f"not valid JSON ({exc})", file=e, line=number) from None
    if not isinstance(row, dict) or row.keys() != _ENTRY_MEMBERS:
        raise VerificationError(
            'line must be an object with exactly "seq", "leaf_hash" and "leaf"',
            file=e,
            line=number,
        )
    if row["seq"] != seq or not is_int(row["seq"]):
        raise VerificationError(
            f"seq is {row['seq']!r} but line {number} must hold seq {seq} "
            "(entries must run 0, 1, 2, … with no gap, repeat or reordering)",
            file=e,
            line=number,
        )
    if not isinstance(row["leaf_hash"], str) or not HEX64.fullmatch(row["leaf_hash"]):
        raise VerificationError("leaf_hash is not 64 lowercase hex digits", file=e, line=number, seq=seq)
    try:
        if not isinstance(row["leaf"], str):
            raise TypeError
        leaf = base64.b64decode(row["leaf"], validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise VerificationError("leaf is not valid base64", file=e, line=number, seq=seq) from None
    try:
        obj = leaf_format.parse_canonical_reference(leaf)
    except canonical.CanonicalError as exc:
        raise VerificationError(
            f"leaf is not canonical JSON (RFC 8785): {exc}", file=e, line=number, seq=seq
        ) from None
    problem = leaf_format.problem(obj)
    if problem:
        raise VerificationError(problem, file=e, line=number, seq=seq)
    if obj["seq"] != seq:
        raise VerificationError(
            f"leaf says seq {obj['seq']} but is on the line of seq {seq}",
            file=e,
            line=number,
            seq=seq,
        )
    if obj["origin"] != origin:
        raise VerificationError(
            f"leaf origin {obj['origin']!r} is not the bundle origin {origin!r}",
            file=e,
            line=number,
            seq=seq,
        )
    digest = merkle.leaf_hash(leaf)
    if digest.hex() != row["leaf_hash"]:
        raise VerificationError(
            f"leaf_hash {row['leaf_hash']} does not match the leaf, whose RFC 9162 leaf hash is {digest.hex()}",
            file=e,
            line=number,
            seq=seq,
        )
    return digest


def _check_block(data: bytes, first_line: int, origin: str) -> bytes:
    """Check a block of whole entries.ndjson lines, the first being line ``first_line``.

    Return the concatenated 32-byte leaf hashes; raise VerificationError at the first bad line.
    Runs of lines go through :func:`.block.accept_block`; in a run it cannot prove good, each
    line goes through a per-line fast path that accepts only a line in exactly the exporter's
    form, ``{"seq":N,"leaf_hash":"<hex>","leaf":"<base64>"}``, passing every check; anything
    else is handed to :func:`_check_line`, which decides and words the error.
    """
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()  # the block ends with a newline
    origin_token = canonical.dumps(origin)
    out = bytearray()
    # Runs of lines first go through the block fast path together; a run it cannot prove good
    # (a line with a non-BMP character, say, or an error) is checked line by line below.
    for start in range(0, len(lines), _RUN_LINES):
        run = lines[start : start + _RUN_LINES]
        hashes = accept_block(run, first_line - 1 + start, origin_token)
        out += hashes if hashes is not None else _check_lines(run, first_line + start, origin)
    return bytes(out)


def _check_lines(lines: list[bytes], first_line: int, origin: str) -> bytes:
    """Check ``lines`` one by one, the first being line ``first_line``; return their leaf hashes."""
    out = bytearray()
    # Local names: this loop runs once per entry, millions of times.
    a2b = binascii.a2b_base64
    hexlify = binascii.hexlify
    fast = leaf_format.fast_accepts
    sha256 = hashlib.sha256
    leaf_prefix = merkle.LEAF_PREFIX
    origin_token = canonical.dumps(origin)
    seq = first_line - 1
    for line in lines:
        digits = b"%d" % seq
        head = b'{"seq":' + digits + b',"leaf_hash":"'
        k = len(head)
        digest = None
        if line.startswith(head) and line.endswith(b'"}') and line[k + 64 : k + 74] == b'","leaf":"':
            try:
                leaf = a2b(line[k + 74 : -2], strict_mode=True)
            except binascii.Error:
                leaf = b""
            if fast(leaf, digits, origin_token):
                candidate = sha256(leaf_prefix + leaf).digest()
                if hexlify(candidate) == line[k : k + 64]:
                    digest = candidate
        if digest is None:
            digest = _check_line(line, seq, origin)
        out += digest
        seq += 1
    return bytes(out)


def _check_block_in_worker(
    path: str, offset: int, length: int, crc: int, first_line: int, origin: str
) -> bytes | VerificationError:
    """Check the block of entries.ndjson at ``offset`` in a worker process.

    The worker reads the block itself, which costs far less than passing it through a pipe, and
    confirms it holds the bytes the parent hashed for the manifest (same length and CRC-32).
    Return the leaf hashes, or the error instead of raising it.
    """
    try:
        with open(path, "rb") as fh:
            fh.seek(offset)
            data = fh.read(length)
        if len(data) != length or binascii.crc32(data) != crc:
            raise VerificationError("the file changed while it was being verified", file=ENTRIES_FILE)
        return _check_block(data, first_line, origin)
    except VerificationError as exc:
        return exc


class _Tree:
    """The right edge of the Merkle tree being rebuilt, with roots captured at wanted sizes.

    ``stack`` holds the roots of the complete subtrees, one per set bit of ``size``, largest
    first: the compact range of RFC 9162 / :class:`model_ledger_verify.compact_range.CompactRange`. Appending merges
    equal-sized subtrees like a binary counter (amortised one node hash per leaf), here a level at
    a time for a whole block; roots are taken with ``CompactRange(size, stack).root()``.
    """

    def __init__(self, wanted: set[int]) -> None:
        self.size = 0
        self.stack: list[bytes] = []
        self.roots: dict[int, bytes] = {0: merkle.EMPTY_ROOT} if 0 in wanted else {}
        self._targets = iter(sorted(s for s in wanted if s > 0))
        self._next = next(self._targets, -1)

    def root(self) -> bytes:
        return compact_range.CompactRange(self.size, self.stack).root()

    def extend(self, hashes: bytes) -> None:
        """Append the concatenated 32-byte leaf hashes ``hashes``, a level at a time
        (:func:`model_ledger_verify.compact_range.append_leaves`), stopping at wanted sizes."""
        start = 0
        while start < len(hashes):
            end = len(hashes) if self._next == -1 else min(len(hashes), start + 32 * (self._next - self.size))
            compact_range.append_leaves(self.size, self.stack, hashes[start:end])
            self.size += (end - start) // 32
            start = end
            if self.size == self._next:
                self.roots[self.size] = self.root()
                self._next = next(self._targets, -1)


def _blocks(fh: IO[bytes], digest: Any) -> Iterator[tuple[int, int, bytes]]:
    """Yield ``(number of its first line, file offset, block)`` for whole-line blocks of ``fh``.

    Every byte read is fed to ``digest`` first. The last block may lack a final newline. Raise
    VerificationError if an unfinished line outgrows MAX_LINE_BYTES (which bounds memory).
    """
    carry = b""
    first_line = 1
    offset = 0
    while True:
        buf = fh.read(_BLOCK_BYTES)
        if not buf:
            if carry:
                yield first_line, offset, carry
            return
        digest.update(buf)
        cut = buf.rfind(b"\n")
        if cut < 0:
            carry += buf
            if len(carry) > MAX_LINE_BYTES:
                raise VerificationError(
                    f"line is longer than {MAX_LINE_BYTES} bytes", file=ENTRIES_FILE, line=first_line
                )
            continue
        block = carry + buf[: cut + 1] if carry else buf[: cut + 1]
        carry = buf[cut + 1 :]
        yield first_line, offset, block
        first_line += block.count(b"\n")
        offset += len(block)


def _pool_context() -> Any:
    """Return the multiprocessing context for worker processes.

    Forking is fastest and needs no re-import, but is only safe from a single-threaded process
    on Linux; otherwise the workers are spawned afresh.
    """
    import multiprocessing

    if sys.platform.startswith("linux") and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def default_workers(entries_bytes: int) -> int:
    if entries_bytes < PARALLEL_MIN_BYTES:
        return 1
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, 16))


def scan_entries(
    path: Path,
    listed: tuple[str, int],
    origin: str,
    total: int,
    wanted: set[int],
    progress: Callable[[int, int], None] | None,
    workers: int,
) -> tuple[int, dict[int, bytes], bytes]:
    """Check entries.ndjson and its manifest SHA-256; return (count, roots at wanted sizes,
    root of all entries).

    The file is read once. Each block is hashed for the manifest and then checked, in this
    process or by ``workers`` worker processes, and its leaf hashes are appended to the tree in
    file order. After the first bad block nothing more is checked, but the rest of the file is
    still hashed, so that a manifest mismatch is reported first, as the check order requires.
    """
    digest = hashlib.sha256()
    tree = _Tree(wanted)
    failure: VerificationError | None = None

    def accept(hashes: bytes) -> None:
        tree.extend(hashes)
        if progress is not None:
            progress(tree.size, total)

    try:
        fh = path.open("rb")
    except OSError as exc:
        raise VerificationError(f"cannot be read: {exc.strerror or exc}", file=ENTRIES_FILE) from None
    with fh:
        blocks = _blocks(fh, digest)
        try:
            if workers > 1:
                _scan_in_pool(path, blocks, origin, workers, accept)
            else:
                for first_line, _, block in blocks:
                    accept(_check_block(block, first_line, origin))
        except VerificationError as exc:
            failure = exc
        while rest := fh.read(_BLOCK_BYTES):
            digest.update(rest)
        length = fh.tell()

    if digest.hexdigest() != listed[0] or length != listed[1]:
        raise VerificationError(digest_mismatch(ENTRIES_FILE, listed[0], digest.hexdigest()), file=MANIFEST_FILE)
    if failure is not None:
        raise failure
    if tree.size != total:
        raise VerificationError(f"has {tree.size} entries but {MANIFEST_FILE} says size {total}", file=ENTRIES_FILE)
    return tree.size, tree.roots, tree.root()


def _scan_in_pool(
    path: Path,
    blocks: Iterator[tuple[int, int, bytes]],
    origin: str,
    workers: int,
    accept: Callable[[bytes], None],
) -> None:
    """Check blocks in worker processes, keeping at most two per worker in flight, and pass
    their leaf hashes to ``accept`` in file order. Raise the first error in file order."""
    # Imported here: a small bundle never needs worker processes (nor their machinery).
    from concurrent.futures import ProcessPoolExecutor

    try:
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=_pool_context())
    except (OSError, ImportError, NotImplementedError):
        # No process support here (e.g. no POSIX semaphores): check in this process instead.
        for first_line, _, block in blocks:
            accept(_check_block(block, first_line, origin))
        return
    inflight: collections.deque[Future[bytes | VerificationError]] = collections.deque()
    read_error: VerificationError | None = None

    def submit() -> bool:
        nonlocal read_error
        if read_error is not None:
            return False
        try:
            first_line, offset, block = next(blocks)
        except StopIteration:
            return False
        except VerificationError as exc:  # an over-long line: report it after earlier blocks
            read_error = exc
            return False
        crc = binascii.crc32(block)
        task = pool.submit(_check_block_in_worker, str(path), offset, len(block), crc, first_line, origin)
        inflight.append(task)
        return True

    try:
        for _ in range(2 * workers):
            if not submit():
                break
        while inflight:
            result = inflight.popleft().result()
            if isinstance(result, VerificationError):
                raise result
            accept(result)
            submit()
        if read_error is not None:
            raise read_error
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
