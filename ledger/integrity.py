"""End-to-end check of the live database: the `verify_ledger` command and the periodic audit.

Recomputes the tree from the stored leaves and compares everything stored alongside them:
sequence numbers, leaf hashes, canonical leaf bytes, interior nodes, the tree state, and every
checkpoint's root and signature. Reports the first failure, naming the seq where it is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings

from ledger import selectors
from ledger.models import Checkpoint, Node, SigningKey, TreeState
from model_ledger_verify import canonical, merkle, notes

CHUNK = 5_000


class IntegrityError(Exception):
    """The stored log is not intact; the message names the first problem found."""


@dataclass
class IntegrityReport:
    entries: int = 0
    nodes: int = 0
    checkpoints: int = 0
    root: bytes = merkle.EMPTY_ROOT
    problems: list[str] = field(default_factory=list)


def _check_leaf(seq: int, leaf: bytes, origin: str) -> None:
    try:
        decoded = canonical.loads(leaf)
        if canonical.dumps(decoded) != leaf:
            raise IntegrityError(f"seq {seq}: leaf bytes are not canonical JSON.")
    except canonical.CanonicalError as exc:
        raise IntegrityError(f"seq {seq}: leaf is not valid canonical JSON ({exc}).") from None
    if not isinstance(decoded, dict) or decoded.get("seq") != seq:
        raise IntegrityError(
            f"seq {seq}: leaf says seq {decoded.get('seq') if isinstance(decoded, dict) else '?'}; "
            "entries were reordered or rewritten."
        )
    if decoded.get("origin") != origin:
        raise IntegrityError(f"seq {seq}: leaf origin {decoded.get('origin')!r} is not {origin!r}.")


def verify_database(*, progress: Callable[[int, int], None] | None = None) -> IntegrityReport:
    """Return a report of the intact log; raise IntegrityError naming the first bad seq."""
    origin = settings.LEDGER_ORIGIN
    state = TreeState.objects.filter(pk=TreeState.SINGLETON).first()
    size = state.size if state else 0
    checkpoints = list(Checkpoint.objects.order_by("size"))
    wanted_sizes = {cp.size for cp in checkpoints}
    roots: dict[int, bytes] = {0: merkle.EMPTY_ROOT}
    report = IntegrityReport()
    compact = merkle.CompactRange()
    expected_nodes: dict[tuple[int, int], bytes] = {}

    def compare_nodes() -> None:
        if not expected_nodes:
            return
        stored = dict(selectors.node_hashes_between(expected_nodes))

        # Report the node closest to the damage: the one whose range ends first, lowest level.
        def order(item: tuple[tuple[int, int], bytes]) -> tuple[int, int]:
            (level, index), _ = item
            return ((index + 1) << level, level)

        for (level, index), digest in sorted(expected_nodes.items(), key=order):
            if stored.get((level, index)) != digest:
                first, last = index << level, ((index + 1) << level) - 1
                problem = "is missing" if (level, index) not in stored else "does not match the leaves"
                raise IntegrityError(f"seq {first}..{last}: stored node {level}/{index} {problem}.")
        report.nodes += len(expected_nodes)
        expected_nodes.clear()

    next_seq = 0
    for seq, leaf_hash, leaf in selectors.entry_range(0, 2**62):
        if seq != next_seq:
            raise IntegrityError(f"seq {next_seq}: missing; the next stored entry is seq {seq}.")
        _check_leaf(seq, leaf, origin)
        if merkle.leaf_hash(leaf) != leaf_hash:
            raise IntegrityError(f"seq {seq}: stored leaf hash does not match the leaf bytes.")
        for level, index, digest in compact.append(leaf_hash):
            if level:
                expected_nodes[(level, index)] = digest
        next_seq += 1
        if next_seq in wanted_sizes:
            roots[next_seq] = compact.root()
        if next_seq % CHUNK == 0:
            compare_nodes()
            if progress:
                progress(next_seq, size)
    compare_nodes()
    report.entries = next_seq
    if next_seq != size:
        raise IntegrityError(
            f"seq {min(next_seq, size)}: the tree state says {size} entries but {next_seq} are stored."
        )
    stored_nodes = Node.objects.count()
    if stored_nodes != report.nodes:
        raise IntegrityError(f"seq {size}: {stored_nodes - report.nodes} stored nodes lie outside the tree.")
    report.root = compact.root()
    if state is not None and bytes(state.root) != report.root:
        raise IntegrityError(f"seq {size}: the tree state root does not match the leaves.")
    verifiers = {key.pk: notes.Verifier.from_string(key.verifier_key) for key in SigningKey.objects.all()}
    for cp in checkpoints:
        if cp.size > size:
            raise IntegrityError(f"seq {size}: a checkpoint claims size {cp.size}, beyond the log.")
        if bytes(cp.root) != roots[cp.size]:
            raise IntegrityError(
                f"seq {cp.size - 1 if cp.size else 0}: the checkpoint at size {cp.size} "
                "does not match the stored leaves."
            )
        verifier = verifiers.get(cp.key_id)
        try:
            if verifier is None:
                raise notes.NoteError("its key is not registered")
            body = notes.open_checkpoint(cp.note, [verifier], origin=origin)
        except notes.NoteError as exc:
            raise IntegrityError(f"checkpoint at size {cp.size}: signature invalid ({exc}).") from None
        if body.size != cp.size or body.root != bytes(cp.root):
            raise IntegrityError(f"checkpoint at size {cp.size}: the signed note says otherwise.")
        report.checkpoints += 1
    return report
