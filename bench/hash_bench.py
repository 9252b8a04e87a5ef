"""Dataset fingerprint speed against `sha256sum`, single-stream hashlib and MLflow's digest.

Writes a directory of 8 files (768 MiB; 96 MiB with `--quick`) of random bytes, reads it once
so every contender starts from the page cache, then times, on the same files:

- `sha256sum` over the 8 files (one process, one file after another);
- single-stream hashlib (one thread, 1 MiB reads, one file after another);
- `model_ledger_verify.fingerprint` (one thread per core, 1 MiB reads): the manifest and root hash;
- MLflow's dataset digest (`mlflow.data.digest_utils.compute_numpy_digest` over the same bytes
  as a NumPy array), when MLflow and NumPy are installed: it hashes a sample, so it is fast and
  partial, which is why the ledger records it only as what it is.

    .venv/bin/python bench/hash_bench.py [--quick] [--dir DIR]

Targets: fingerprint ≥ 90% of single-stream hashlib per core used, and ≥ 1.5x sha256sum.
The last line is `RESULT fingerprint_mib_per_s=<n> MiB/s`.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from model_ledger_verify.fingerprint import READ_SIZE, fingerprint  # noqa: E402

FILES = 8


def make_files(directory: Path, size: int) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    chunk = os.urandom(4 << 20)
    for n in range(FILES):
        path = directory / f"part-{n}.bin"
        with open(path, "wb") as fh:
            written = 0
            while written < size:
                piece = chunk[: min(len(chunk), size - written)]
                # Vary each chunk so no two files (or chunks) are identical.
                fh.write(bytes([n]) + piece[1:])
                written += len(piece)
        paths.append(path)
    return paths


def timed(label: str, fn, total: int, repeat: int) -> tuple[str, float]:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return label, total / best / 2**20


def single_stream(paths: list[Path]) -> None:
    buffer = bytearray(READ_SIZE)
    view = memoryview(buffer)
    for path in paths:
        digest = hashlib.sha256()
        with open(path, "rb", buffering=0) as fh:
            while n := fh.readinto(buffer):
                digest.update(view[:n])


def mlflow_digest(paths: list[Path]):
    try:
        import numpy as np
        from mlflow.data.digest_utils import compute_numpy_digest
    except ImportError as exc:
        return None, f"not measured: {exc.name} is not installed"

    def run() -> None:
        for path in paths:
            compute_numpy_digest(np.fromfile(path, dtype=np.uint8))

    return run, ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="96 MiB instead of 768 MiB")
    parser.add_argument("--dir", type=Path, help="where to write the files (default: a temporary folder)")
    args = parser.parse_args(argv)
    size = (12 if args.quick else 96) << 20
    work = args.dir or Path(tempfile.mkdtemp(prefix="hashbench-"))
    repeat = 3
    try:
        print(f"writing {FILES} files of {size >> 20} MiB to {work} ...", flush=True)
        paths = make_files(work / "data", size)
        total = size * FILES
        single_stream(paths)  # warm the page cache
        cores = os.cpu_count() or 1
        rows = []
        if shutil.which("sha256sum"):
            rows.append(
                timed(
                    "sha256sum (coreutils)",
                    lambda: subprocess.run(["sha256sum", *map(str, paths)], check=True, capture_output=True),
                    total,
                    repeat,
                )
            )
        rows.append(timed("hashlib, single stream", lambda: single_stream(paths), total, repeat))
        rows.append(timed(f"fingerprint ({cores} threads)", lambda: fingerprint(work / "data"), total, repeat))
        run, why = mlflow_digest(paths)
        mlflow_row = timed("MLflow dataset digest (sampled)", run, total, repeat) if run else None
        table = dict(rows)
        ours = table[f"fingerprint ({cores} threads)"]
        single = table["hashlib, single stream"]
        print(f"\nmachine: {cores} cores; {total >> 20} MiB in {FILES} files, from the page cache, best of {repeat}")
        print(f"{'method':36} | {'MiB/s':>8} | vs sha256sum")
        print("-" * 37 + "+" + "-" * 10 + "+" + "-" * 13)
        base = table.get("sha256sum (coreutils)")
        for label, rate in rows + ([mlflow_row] if mlflow_row else []):
            ratio = f"{rate / base:.2f}x" if base else "-"
            print(f"{label:36} | {rate:8.0f} | {ratio:>11}")
        if not mlflow_row:
            print(f"{'MLflow dataset digest':36} | {why}")
        used = min(cores, FILES)
        per_core = ours / used / single
        print(f"\nfingerprint per core used: {per_core:.0%} of single-stream hashlib (target >= 90%)")
        if base:
            print(f"fingerprint vs sha256sum: {ours / base:.2f}x (target >= 1.5x)")
        print(f"RESULT fingerprint_mib_per_s={ours:.0f} MiB/s")
    finally:
        if not args.dir:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
