"""``ledgerctl verify --tiles`` and ``ledgerctl monitor-log``: audit a log from its tlog-tiles.

Both fetch only static paths below the log's tiles URL (``…/tlog`` of the service, or any
mirror), verify the checkpoint's signature and the witness policy, and keep every checkpoint
seen per origin in a state file, so a split view or a fork shows up as an equivocation with the
two signed notes as evidence (exit 1, the evidence as JSON on stdout with ``--json``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from model_ledger_verify import checkpoints, notes
from model_ledger_verify.tlog.cosign import CosignatureVerifier, WitnessPolicy
from model_ledger_verify.tlog.monitor import (
    AuditError,
    AuditReport,
    Equivocation,
    MonitorState,
    audit,
    newest_seen,
    record_verified,
)

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
TIMEOUT_SECONDS = 30


class TileFetchError(Exception):
    pass


def http_fetcher(url: str, token: str | None = None):
    """Return ``fetch(path) -> bytes`` for tiles below ``url`` (http(s) or a local directory)."""
    # Imported here: building the parser (and an offline verify) opens no network module.
    import urllib.error
    import urllib.request

    base = url.rstrip("/")
    if not base.startswith(("http://", "https://")):
        root = Path(base.removeprefix("file://"))
        return lambda path: (root / path).read_bytes()

    def fetch(path: str) -> bytes:
        headers = {"Accept-Encoding": "identity"}
        if token and path.startswith("tile/entries/"):
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(f"{base}/{path}", headers=headers)  # noqa: S310 (http(s) checked above)
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 (user's URL)
                return response.read()
        except urllib.error.HTTPError as exc:
            raise TileFetchError(f"GET {base}/{path}: HTTP {exc.code}") from None
        except (OSError, ValueError) as exc:
            raise TileFetchError(f"GET {base}/{path}: {exc}") from None

    return fetch


def parse_keys(keys: Sequence[str], witnesses: Sequence[str], min_witnesses: int | None):
    """Return the log verifiers and the witness policy (None without witnesses); UsageError-safe."""
    log_keys = [notes.Verifier.from_string(k) for k in keys]
    cosigners = tuple(CosignatureVerifier.from_string(w) for w in witnesses)
    if min_witnesses is None:
        min_witnesses = len(cosigners)
    if min_witnesses and not cosigners:
        raise notes.NoteError("--min-witnesses needs the witnesses' keys (--witness)")
    return log_keys, (WitnessPolicy(min_witnesses, cosigners) if cosigners else None)


def add_witness_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--witness",
        dest="witnesses",
        action="append",
        default=[],
        metavar="KEY",
        help="a trusted witness key <name>+<hex id>+<base64(0x04 ‖ key)> (repeatable)",
    )
    parser.add_argument(
        "--min-witnesses",
        type=int,
        metavar="K",
        help="how many of the --witness keys must have cosigned (default: all of them)",
    )


def _print_report(report: AuditReport, as_json: bool) -> None:
    if as_json:
        print(
            json.dumps(
                {
                    "ok": True,
                    "origin": report.origin,
                    "size": report.size,
                    "root": report.root.hex(),
                    "previous_size": report.previous_size,
                    "entries_read": report.entries_read,
                    "tiles_fetched": report.tiles_fetched,
                    "witnesses": [{"name": c.name, "timestamp": c.timestamp} for c in report.cosignatures],
                },
                indent=2,
            )
        )
        return
    witnesses = ", ".join(c.name for c in report.cosignatures) or "none required"
    since = f", consistent with size {report.previous_size:,}" if report.previous_size is not None else ""
    print(f"OK: {report.origin} at size {report.size:,}, root {report.root.hex()}{since}")
    print(f"read {report.entries_read:,} new entries in {report.tiles_fetched:,} fetches; witnessed by {witnesses}")


def run_audit(args: argparse.Namespace, state_path: Path | None) -> int:
    """Fetch the checkpoint, audit, save the state; return the exit code."""
    try:
        log_keys, policy = parse_keys(args.keys, args.witnesses, args.min_witnesses)
    except notes.NoteError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    fetch = http_fetcher(args.tiles, getattr(args, "token", None))
    try:
        state = MonitorState.load(state_path)
        note = fetch("checkpoint").decode("utf-8")
        report = audit(fetch, note, log_keys, state, policy=policy, entries=not args.hashes_only)
    except Equivocation as exc:
        if args.json:
            print(json.dumps({"ok": False, "equivocation": exc.evidence()}, indent=2))
        print(f"error: EQUIVOCATION: {exc}", file=sys.stderr)
        print(f"seen:\n{exc.seen_note}\nnew:\n{exc.new_note}", file=sys.stderr)
        return EXIT_FAILED
    except (AuditError, TileFetchError, OSError, UnicodeDecodeError, ValueError) as exc:
        if args.json:
            print(json.dumps({"ok": False, "error": str(exc)}, indent=2))
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if state_path is not None:
        state.save(state_path)
    _print_report(report, args.json)
    return EXIT_OK


def register_monitor_log(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "monitor-log",
        help="follow a log through its tlog-tiles, proving each checkpoint consistent with the last",
        description="Fetch the log's checkpoint, verify its signature and witnesses, prove it consistent with "
        "every checkpoint recorded in --state, read the new entries, and record it. With --interval, repeat.",
    )
    parser.add_argument("--tiles", required=True, metavar="URL", help="the log's tiles prefix, e.g. https://host/tlog")
    parser.add_argument("--key", dest="keys", action="append", required=True, metavar="KEY", help="log verifier key")
    parser.add_argument("--state", type=Path, required=True, metavar="FILE", help="where seen checkpoints are kept")
    add_witness_arguments(parser)
    parser.add_argument("--token", help="API token, when the entry bundles are not public")
    parser.add_argument("--hashes-only", action="store_true", help="read level 0 tiles, not the entries")
    parser.add_argument("--interval", type=float, metavar="SECONDS", help="keep following, checking this often")
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(handler=_monitor_log)


def _monitor_log(args: argparse.Namespace) -> int:
    while True:
        code = run_audit(args, args.state)
        if args.interval is None or code != EXIT_OK:
            return code
        time.sleep(args.interval)


def bundle_notes(bundle: Path) -> list[str]:
    """Return the checkpoint notes of an export bundle (unverified until verify_bundle passes)."""
    path = bundle / "checkpoints.ndjson"
    if not path.is_file():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            note = json.loads(line).get("note")
            if isinstance(note, str):
                out.append(note)
    return out


def bundle_trusted_from_state(state_path: Path, bundle: Path) -> str | None:
    """Return the newest checkpoint seen before that this bundle must extend, if any."""
    state = MonitorState.load(state_path)
    try:
        parsed = [checkpoints.Checkpoint.parse(n[: n.rfind("\n\n") + 1]) for n in bundle_notes(bundle)]
    except (notes.NoteError, ValueError):
        return None  # the bundle verifier names the malformed checkpoint
    if not parsed:
        return None
    return newest_seen(state, parsed[-1].origin, max(c.size for c in parsed))


def bundle_record_in_state(state_path: Path, bundle: Path, as_json: bool) -> int:
    """Record a verified bundle's checkpoints in the state; exit 1 on equivocation."""
    state = MonitorState.load(state_path)
    try:
        record_verified(state, bundle_notes(bundle))
    except Equivocation as exc:
        if as_json:
            print(json.dumps({"ok": False, "equivocation": exc.evidence()}, indent=2))
        print(f"error: EQUIVOCATION: {exc}", file=sys.stderr)
        return EXIT_FAILED
    state.save(state_path)
    return EXIT_OK
