"""The log as tlog-tiles, read from whatever storage the tree uses: the one place that knows it.

Views, `publish_tiles` and the witness client ask this module for a tile, an entry bundle or the
published checkpoint; when the tree's storage changes, only this module changes with it. A tile
is served only within the latest signed checkpoint, so everything served can be checked against
a signed root, and a tile of a given width never changes.
"""

from __future__ import annotations

from ledger import selectors, witnessing
from ledger.errors import NotInLog
from ledger.models import Entry
from model_ledger_verify.tlog.tiles import ENTRIES, TILE_WIDTH, encode_bundle, tile_width


def published_size() -> int:
    """Return the size of the published checkpoint (0 when none is signed yet)."""
    published = witnessing.checkpoint_published()
    return published.size if published else 0


def _check_covered(level: int, index: int, width: int, size: int) -> None:
    if width > tile_width(size, level, index):
        raise NotInLog(f"No signed checkpoint covers tile {level}/{index} of width {width}.")


def tile(level: int, index: int, width: int = TILE_WIDTH, *, size: int | None = None) -> bytes:
    """Return the concatenated hashes of tree tile (level, index) of ``width`` hashes.

    Raise NotInLog if the published checkpoint (or the tree of ``size``, a published size the
    caller already read) does not cover that many hashes.
    """
    _check_covered(level, index, width, published_size() if size is None else size)
    # The tree is stored as these very tiles (ledger.Tile and the tree state's partial tiles);
    # a narrower width is a prefix, as tlog-tiles defines partial tiles.
    return selectors.tile_hashes(level, index, width)


def entry_bundle(index: int, width: int = TILE_WIDTH, *, size: int | None = None) -> bytes:
    """Return entry bundle ``index`` of ``width`` leaves, framed as tlog-tiles requires."""
    _check_covered(0, index, width, published_size() if size is None else size)
    first = index * TILE_WIDTH
    rows = Entry.objects.filter(seq__gte=first, seq__lt=first + width).order_by("seq")
    leaves = [bytes(leaf) for leaf in rows.values_list("leaf", flat=True)]
    if len(leaves) != width:
        raise NotInLog(f"The log is missing entries of bundle {index}.")
    return encode_bundle(leaves)


def resource(level: int | str, index: int, width: int, *, size: int | None = None) -> bytes:
    """Return a tree tile or, for level ``entries``, an entry bundle."""
    if level == ENTRIES:
        return entry_bundle(index, width, size=size)
    return tile(int(level), index, width, size=size)


def checkpoint_note() -> str:
    """Return the published checkpoint note with its cosignatures; raise NotInLog if none.

    That is the latest checkpoint meeting the witness policy (LEDGER_WITNESS_POLICY).
    """
    published = witnessing.checkpoint_published()
    if published is None:
        raise NotInLog("No checkpoint has been signed yet.")
    return witnessing.cosigned_note(published)
