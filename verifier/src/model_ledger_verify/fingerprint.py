"""Dataset fingerprints: a deterministic manifest of every file and one root hash over it.

The construction (also in README.md, so anyone can recompute it without this code):

1. List every regular file under PATH (or PATH itself when it is a file). Each gets its path
   relative to PATH, with `/` separators (for a single file: its name), its size in bytes and
   the SHA-256 of its content.
2. Sort the entries by the UTF-8 bytes of the path.
3. The manifest is the UTF-8 text: the line `ledger-dataset-manifest/1`, then one line per
   file: `<sha256 hex>` TAB `<size>` TAB `<path>`, every line ending in LF.
4. The root hash is the SHA-256 of the manifest bytes, 64 lowercase hex digits.

So the root does not depend on the directory's own name, the order files were created in, or
the platform's path separator, and changes when any byte, name or file changes. Symbolic links,
unreadable files, names with a tab or newline, and files that change while being hashed are
errors, never skipped. Files are hashed in parallel (hashlib releases the GIL), with large reads.
Only the standard library is used.
"""

from __future__ import annotations

import hashlib
import os
import stat
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

MANIFEST_HEADER = "ledger-dataset-manifest/1"
# 1 MiB reads: large enough that per-call overhead vanishes next to hashing, small enough to
# keep one buffer per thread cheap.
READ_SIZE = 1 << 20


class FingerprintError(Exception):
    """The path cannot be fingerprinted faithfully; the message lists every problem found."""


@dataclass(frozen=True)
class FileEntry:
    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Fingerprint:
    root: str
    files: tuple[FileEntry, ...]
    total_bytes: int

    def manifest(self) -> str:
        """Return the manifest text whose SHA-256 is `root`."""
        lines = [MANIFEST_HEADER] + [f"{f.sha256}\t{f.size}\t{f.path}" for f in self.files]
        return "\n".join(lines) + "\n"


def manifest_root(files: list[FileEntry]) -> str:
    lines = [MANIFEST_HEADER] + [f"{f.sha256}\t{f.size}\t{f.path}" for f in files]
    return hashlib.sha256(("\n".join(lines) + "\n").encode("utf-8")).hexdigest()


def _collect(root: Path) -> tuple[list[tuple[str, Path, os.stat_result]], list[str]]:
    """Return (files as (relative path, path, stat)), problems) for a file or a directory."""
    problems: list[str] = []
    try:
        info = os.lstat(root)
    except OSError as exc:
        raise FingerprintError(f"{root}: {exc.strerror}") from None
    if stat.S_ISLNK(info.st_mode):
        raise FingerprintError(f"{root} is a symbolic link; give the real path.")
    if stat.S_ISREG(info.st_mode):
        return [(root.name, root, info)], problems
    if not stat.S_ISDIR(info.st_mode):
        raise FingerprintError(f"{root} is neither a regular file nor a directory.")
    found: list[tuple[str, Path, os.stat_result]] = []

    def walk(directory: Path, prefix: str) -> None:
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:
            problems.append(f"{directory}: cannot list ({exc.strerror})")
            return
        for entry in entries:
            relative = f"{prefix}{entry.name}"
            if "\t" in entry.name or "\n" in entry.name or "\r" in entry.name:
                problems.append(f"{relative!r}: names with tabs or line breaks cannot enter the manifest")
                continue
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError as exc:
                problems.append(f"{relative}: {exc.strerror}")
                continue
            if stat.S_ISLNK(info.st_mode):
                problems.append(f"{relative}: symbolic link (not followed; copy the data or hash its target)")
            elif stat.S_ISDIR(info.st_mode):
                walk(Path(entry.path), f"{relative}/")
            elif stat.S_ISREG(info.st_mode):
                found.append((relative, Path(entry.path), info))
            else:
                problems.append(f"{relative}: not a regular file")

    walk(root, "")
    return found, problems


def _hash_file(path: Path, before: os.stat_result, progress: Callable[[int], None]) -> str:
    digest = hashlib.sha256()
    buffer = bytearray(READ_SIZE)
    view = memoryview(buffer)
    with open(path, "rb", buffering=0) as fh:
        while True:
            n = fh.readinto(buffer)
            if not n:
                break
            digest.update(view[:n])
            progress(n)
    after = os.stat(path)
    if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
        raise FingerprintError(f"{path}: changed while it was being hashed")
    return digest.hexdigest()


def fingerprint(
    path: str | os.PathLike,
    *,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Fingerprint:
    """Return the fingerprint of a file or directory (the construction in this module's doc).

    `progress(done_bytes, total_bytes)` is called as data is hashed. Raise FingerprintError
    listing every problem (symbolic links, unreadable or changing files, an empty directory).
    """
    root = Path(path)
    found, problems = _collect(root)
    if not found and not problems:
        raise FingerprintError(f"{root}: no files to fingerprint (the directory is empty).")
    total = sum(info.st_size for _, _, info in found)
    done = 0
    lock = threading.Lock()

    def advance(n: int) -> None:
        nonlocal done
        if progress is None:
            return
        with lock:
            done += n
            current = done
        progress(current, total)

    def one(item: tuple[str, Path, os.stat_result]) -> FileEntry | str:
        relative, file_path, info = item
        try:
            return FileEntry(relative, info.st_size, _hash_file(file_path, info, advance))
        except FingerprintError as exc:
            return str(exc)
        except OSError as exc:
            return f"{relative}: {exc.strerror}"

    # Biggest files first, so the last one to finish is a small one.
    ordered = sorted(found, key=lambda item: -item[2].st_size)
    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
        results = list(pool.map(one, ordered))
    problems += [r for r in results if isinstance(r, str)]
    if problems:
        raise FingerprintError("cannot fingerprint faithfully:\n  " + "\n  ".join(problems))
    files = sorted((r for r in results if isinstance(r, FileEntry)), key=lambda f: f.path.encode("utf-8"))
    return Fingerprint(manifest_root(files), tuple(files), total)
