"""Offline verification of an export bundle (`model_ledger_verify.bundle.verify_bundle`).

What it measures: the time and the CPU (this process plus its worker processes) that the offline
verifier takes over a bundle of N entries, in this process alone and with its default worker
pool, and the rebuild of the tree root alone for comparison. The bundle is made synthetically
with the pure modules (no database): leaves shaped like the service's (a decision or registration
event of about 340 bytes, some with non-ASCII text), in the exporter's exact line form, with
signed checkpoints at a few sizes.

Run it from the repository root:

    .venv/bin/python bench/verify_bench.py [--quick] [--profile] [--keep DIR]

`--quick` verifies 200,000 entries, the full run 1,000,000 (the target: ≤ 5 s). `--profile` then
runs the single-process verification under cProfile and prints where its time goes. The last
line is `RESULT verify_entries_per_s=<n> entries/s` (default workers).
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import hashlib
import io
import json
import os
import pstats
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.ledger_bench import Row, at_most, log, print_table  # noqa: E402

ORIGIN = "bench.example/ledger"
TARGET_SECONDS_AT_1M = 5.0


def leaf_object(seq: int) -> dict:
    kind = seq % 4
    data: dict = {
        "artifact_sha256": hashlib.sha256(b"%d" % seq).hexdigest(),
        "n": seq,
        "score": f"0.{seq % 10_000:04d}",
    }
    if kind == 1:
        data["note"] = "résumé ✓"
    elif kind == 2:
        data = {"decision_id": f"dec-{seq:09d}", "commitment": data["artifact_sha256"], "mode": "automated"}
    return {
        "v": 1,
        "origin": ORIGIN,
        "seq": seq,
        "ts": f"2026-12-07T21:{seq // 60 % 60:02d}:{seq % 60:02d}.{seq * 7919 % 1_000_000:06d}Z",
        "type": ("version.registered", "approval.signed", "decision.logged", "monitoring.observed")[kind],
        "actor": f"user:reviewer-{seq % 7}",
        "subject": f"model:credit-risk-{seq % 5}",
        "idempotency_key": f"bench-{seq}",
        "data": data,
    }


def build_bundle(path: Path, size: int) -> str:
    """Write a bundle of `size` entries to `path`; return the verifier key."""
    from model_ledger_verify import canonical, checkpoints, compact_range, merkle, notes

    signer = notes.Signer.from_string(notes.generate_signer_key("bench.example/ledger-key"))
    path.mkdir(parents=True, exist_ok=True)
    wanted = sorted({1, size // 3, size // 2, size})
    tree = compact_range.CompactRange(0, [])
    notes_at = []
    sha = hashlib.sha256()
    first = canonical.dumps(leaf_object(0))
    encode = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode
    assert encode(leaf_object(0)).encode() == first, "the fast encoder must give the canonical bytes"
    with (path / "entries.ndjson").open("wb") as out:
        for seq in range(size):
            leaf = encode(leaf_object(seq)).encode()
            digest = merkle.leaf_hash(leaf)
            tree.append(digest)
            line = b'{"seq":%d,"leaf_hash":"%s","leaf":"%s"}\n' % (
                seq,
                digest.hex().encode(),
                base64.b64encode(leaf),
            )
            sha.update(line)
            out.write(line)
            if tree.size in wanted:
                notes_at.append(
                    checkpoints.sign_checkpoint(checkpoints.Checkpoint(ORIGIN, tree.size, tree.root()), signer)
                )
    lines = []
    for note in notes_at:
        cp = checkpoints.Checkpoint.parse(note[: note.rindex("\n\n") + 1])
        lines.append(json.dumps({"size": cp.size, "root": cp.root.hex(), "note": note}, separators=(",", ":")) + "\n")
    (path / "checkpoints.ndjson").write_text("".join(lines), encoding="utf-8")
    keys = {
        "keys": [{"verifier_key": signer.verifier_key(), "valid_from": "2026-01-01T00:00:00Z", "valid_until": None}]
    }
    (path / "keys.json").write_text(json.dumps(keys, indent=2) + "\n", encoding="utf-8")
    files = {}
    for name in ("entries.ndjson", "checkpoints.ndjson", "keys.json"):
        data = (path / name).read_bytes() if name != "entries.ndjson" else None
        digest = sha.hexdigest() if data is None else hashlib.sha256(data).hexdigest()
        length = (path / name).stat().st_size
        files[name] = {"sha256": digest, "bytes": length}
    manifest = {"format": "ledger-bundle/1", "origin": ORIGIN, "size": size, "files": files}
    (path / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return signer.verifier_key()


def cpu_seconds() -> float:
    """CPU of this process and of its finished children (the verifier's worker processes)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed_verify(bundle: Path, key: str, size: int, workers: int | None, runs: int) -> tuple[float, float]:
    """Return (best wall seconds, CPU seconds of that run) over `runs` verifications."""
    from model_ledger_verify.bundle import verify_bundle

    best = (float("inf"), 0.0)
    for _ in range(runs):
        cpu, started = cpu_seconds(), time.perf_counter()
        report = verify_bundle(bundle, [key], workers=workers)
        wall, used = time.perf_counter() - started, cpu_seconds() - cpu
        assert report.entries == size
        best = min(best, (wall, used))
    return best


def root_rebuild(bundle: Path) -> float:
    """Seconds to rebuild the root from the leaf hashes of entries.ndjson (read, unhex, fold)."""
    from model_ledger_verify.bundle.entries import _Tree

    hashes = bytearray()
    for line in (bundle / "entries.ndjson").open("rb"):
        start = line.index(b'"leaf_hash":"') + 13
        hashes += bytes.fromhex(line[start : start + 64].decode())
    started = time.perf_counter()
    tree = _Tree(set())
    tree.extend(bytes(hashes))
    tree.root()
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="200,000 entries instead of 1,000,000")
    parser.add_argument("--profile", action="store_true", help="profile the single-process verification")
    parser.add_argument("--keep", type=Path, help="build the bundle here (reused if present)")
    parser.add_argument("--runs", type=int, default=3, help="best of this many verifications")
    args = parser.parse_args(argv)
    size = 200_000 if args.quick else 1_000_000
    bundle = args.keep or Path(tempfile.mkdtemp(prefix="verifybench-")) / "bundle"
    key_file = bundle / "verifier.key"
    if key_file.exists():
        key = key_file.read_text().strip()
        log(f"reusing the bundle of {size:,} entries in {bundle}")
    else:
        log(f"building a bundle of {size:,} entries in {bundle}")
        key = build_bundle(bundle, size)
        key_file.write_text(key + "\n")
    megabytes = (bundle / "entries.ndjson").stat().st_size / 2**20
    rows = []
    from model_ledger_verify.bundle.entries import default_workers

    workers = default_workers(int(megabytes * 2**20))
    for label, count in (("1 process", 1), (f"default ({workers} processes)", None)):
        log(f"verifying, {label}, best of {args.runs}")
        wall, cpu = timed_verify(bundle, key, size, count, args.runs)
        per_entry = cpu / size * 1e6
        rows.append(Row(f"offline verify @{size // 1000}k, {label}", wall, "s"))
        rows.append(Row(f"  CPU per entry, {label}", per_entry, "µs"))
        rows.append(Row(f"  entries per CPU-second, {label}", size / cpu, "entries/s"))
    scaled = rows[3].value * 1_000_000 / size
    rows.append(at_most("offline verify, default workers, scaled to 1M", scaled, "s", TARGET_SECONDS_AT_1M))
    rows.append(Row(f"root rebuild alone @{size // 1000}k", root_rebuild(bundle), "s"))
    if args.profile:
        from model_ledger_verify.bundle import verify_bundle

        profiler = cProfile.Profile()
        profiler.runcall(verify_bundle, bundle, [key], workers=1)
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("tottime").print_stats(15)
        print(out.getvalue())
    print()
    print(f"bundle: {size:,} entries, {megabytes:,.0f} MiB of entries.ndjson; {os.cpu_count()} CPUs")
    print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())} (other work skews wall time)")
    print_table(rows)
    print(f"RESULT verify_entries_per_s={size / rows[3].value:.0f} entries/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
