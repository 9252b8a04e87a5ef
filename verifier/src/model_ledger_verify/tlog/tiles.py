"""C2SP tlog-tiles (https://c2sp.org/tlog-tiles): paths, tile shapes and entry bundles.

A tile at level L and index N holds up to 256 consecutive hashes of tree level 8·L: hash i is the
Merkle tree hash of leaves [(256·N + i)·256^L, (256·N + i + 1)·256^L). A full tile is 256 hashes
(8,192 bytes) and never changes; the rightmost tile of each level is partial, with
``floor(size / 256^L) mod 256`` hashes, and is served at ``….p/<W>``. An entry bundle holds the
leaves of the level 0 tile with the same index, each prefixed by its length as a big-endian
uint16.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

HASH_SIZE = 32
TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
MAX_LEVEL = 63
MAX_ENTRY_SIZE = 0xFFFF
"""The largest leaf an entry bundle can frame (its length is a uint16)."""

ENTRIES = "entries"

# tlog-tiles §Merkle Tree: L is 0-63 without leading zeros; N is 3-digit groups, all but the last
# prefixed by "x"; W is 1-255 without leading zeros.
_PATH = re.compile(
    r"tile/(?P<level>entries|0|[1-9][0-9]?)/(?P<index>(?:x[0-9]{3}/)*[0-9]{3})(?:\.p/(?P<width>[1-9][0-9]{0,2}))?"
)


class TileError(ValueError):
    """A tile path, tile or entry bundle is malformed or does not belong to the tree."""


def encode_index(index: int) -> str:
    """Return ``index`` as tlog-tiles path elements: 1234067 becomes ``x001/x234/067``."""
    if index < 0:
        raise TileError(f"tile index {index} is negative")
    groups = [f"{index % 1000:03d}"]
    index //= 1000
    while index:
        groups.append(f"x{index % 1000:03d}")
        index //= 1000
    return "/".join(reversed(groups))


def tile_path(level: int | str, index: int, width: int = TILE_WIDTH) -> str:
    """Return the path of a tile below the log prefix: ``tile/<L>/<N>[.p/<W>]``.

    ``level`` is a tree tile level (0-63) or :data:`ENTRIES` for an entry bundle. Raise
    TileError for a level, index or width out of range.
    """
    if level != ENTRIES and not (isinstance(level, int) and 0 <= level <= MAX_LEVEL):
        raise TileError(f"tile level {level!r} is not 0-{MAX_LEVEL} or {ENTRIES!r}")
    if not 1 <= width <= TILE_WIDTH:
        raise TileError(f"tile width {width} is not 1-{TILE_WIDTH}")
    path = f"tile/{level}/{encode_index(index)}"
    return path if width == TILE_WIDTH else f"{path}.p/{width}"


def parse_tile_path(path: str) -> tuple[int | str, int, int]:
    """Return (level, index, width) of a tile path; the inverse of :func:`tile_path`.

    The path is exactly ``tile/<L>/<N>[.p/<W>]`` with the encodings the spec requires (a level
    with a leading zero, an index group that is not three digits, or a width of 0 or 256 is not
    a tile). Raise TileError otherwise.
    """
    match = _PATH.fullmatch(path)
    if match is None:
        raise TileError(f"{path[:100]!r} is not a tlog-tiles path")
    level_text, index_text, width_text = match.group("level", "index", "width")
    level: int | str = level_text if level_text == ENTRIES else int(level_text)
    if level != ENTRIES and int(level) > MAX_LEVEL:
        raise TileError(f"tile level {level} is above {MAX_LEVEL}")
    groups = index_text.split("/")
    # Every group is zero-padded, so "x000/001" would alias "001": one index, one path.
    if len(groups) > 1 and groups[0] == "x000":
        raise TileError(f"tile index {index_text!r} has a leading zero group")
    index = int("".join(group.lstrip("x") for group in groups))
    width = TILE_WIDTH if width_text is None else int(width_text)
    if width_text is not None and width >= TILE_WIDTH:
        raise TileError(f"partial tile width {width} is not 1-{TILE_WIDTH - 1}")
    return level, index, width


def level_count(size: int, level: int) -> int:
    """Return how many hashes tree level 8·``level`` has in a tree of ``size`` leaves."""
    return size >> (TILE_HEIGHT * level)


def tile_width(size: int, level: int, index: int) -> int:
    """Return the width of tile (level, index) in a tree of ``size``; 0 if the tree lacks it."""
    count = level_count(size, level)
    return max(0, min(TILE_WIDTH, count - index * TILE_WIDTH))


def tiles_for_size(size: int) -> Iterator[tuple[int, int, int]]:
    """Yield (level, index, width) of every tree tile of a tree of ``size`` leaves.

    Level by level, left to right; the last tile of a level is partial when the level's hash
    count is not a multiple of 256, and a level with no hashes has no tiles (tlog-tiles
    §Partial Tiles: empty tiles are not served). Entry bundles mirror level 0.
    """
    level = 0
    while (count := level_count(size, level)) > 0:
        full, rest = divmod(count, TILE_WIDTH)
        for index in range(full):
            yield level, index, TILE_WIDTH
        if rest:
            yield level, full, rest
        level += 1


def partial_tiles(size: int) -> list[tuple[int, int, int]]:
    """Return (level, index, width) of the partial tiles of a tree of ``size`` leaves."""
    out = []
    level = 0
    while (count := level_count(size, level)) > 0:
        if count % TILE_WIDTH:
            out.append((level, count // TILE_WIDTH, count % TILE_WIDTH))
        level += 1
    return out


def split_hashes(tile: bytes, width: int) -> list[bytes]:
    """Return the hashes of a tile of ``width``; raise TileError if its length is not 32·width."""
    if len(tile) != width * HASH_SIZE:
        raise TileError(f"a tile of width {width} is {width * HASH_SIZE} bytes, not {len(tile)}")
    return [bytes(tile[i : i + HASH_SIZE]) for i in range(0, len(tile), HASH_SIZE)]


def encode_bundle(leaves: Sequence[bytes]) -> bytes:
    """Return the entry bundle of ``leaves``: each as a big-endian uint16 length, then its bytes.

    Raise TileError for more than 256 leaves or a leaf longer than :data:`MAX_ENTRY_SIZE`.
    """
    if len(leaves) > TILE_WIDTH:
        raise TileError(f"an entry bundle holds at most {TILE_WIDTH} entries")
    out = bytearray()
    for leaf in leaves:
        if len(leaf) > MAX_ENTRY_SIZE:
            raise TileError(f"an entry of {len(leaf)} bytes does not fit a uint16 length")
        out += len(leaf).to_bytes(2, "big")
        out += leaf
    return bytes(out)


def decode_bundle(data: bytes, width: int) -> list[bytes]:
    """Return the ``width`` entries of an entry bundle; raise TileError if it is not exactly that."""
    entries: list[bytes] = []
    pos = 0
    while pos < len(data):
        if pos + 2 > len(data):
            raise TileError("entry bundle ends inside a length prefix")
        length = int.from_bytes(data[pos : pos + 2], "big")
        pos += 2
        if pos + length > len(data):
            raise TileError("entry bundle ends inside an entry")
        entries.append(bytes(data[pos : pos + length]))
        pos += length
    if len(entries) != width:
        raise TileError(f"entry bundle holds {len(entries)} entries, not {width}")
    return entries
