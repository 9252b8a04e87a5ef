"""`ledgerctl` subcommands that work offline: `hash-dataset` and `verify-report`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from model_ledger_verify.client.progress import ByteProgress
from model_ledger_verify.client.tlog_commands import add_witness_arguments, parse_keys
from model_ledger_verify.notes import NoteError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def register_hash_dataset(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "hash-dataset",
        help="fingerprint a file or directory: manifest and root SHA-256",
        description="Print the dataset's root hash (the last line) built from a sorted manifest of every file "
        "(path, size, SHA-256); see README for the exact construction.",
    )
    parser.add_argument("path", type=Path)
    parser.add_argument("--manifest-out", type=Path, help="write the manifest text to this file")
    parser.add_argument("--json", action="store_true", help="print a JSON object instead")
    parser.add_argument("--workers", type=int, default=None, help="hashing threads (default: one per core)")
    parser.set_defaults(handler=_hash_dataset)


def _hash_dataset(args: argparse.Namespace) -> int:
    from model_ledger_verify.fingerprint import FingerprintError, fingerprint

    progress = ByteProgress(sys.stderr, "hashing")
    try:
        result = fingerprint(args.path, workers=args.workers, progress=progress)
    except FingerprintError as exc:
        progress.finish()
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE if "No such file" in str(exc) or "Permission" in str(exc) else EXIT_FAILED
    progress.finish()
    if args.manifest_out:
        args.manifest_out.write_text(result.manifest(), encoding="utf-8")
    if args.json:
        print(json.dumps({"root": result.root, "files": len(result.files), "bytes": result.total_bytes}))
    else:
        print(f"{len(result.files)} files, {result.total_bytes:,} bytes")
        print(result.root)
    return EXIT_OK


def register_verify_report(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "verify-report",
        help="verify a sealed PDF report offline",
        description="Check exactly one intact PAdES signature covering the whole file, trusted by --trust, "
        "the embedded manifest, every ledger inclusion proof against a checkpoint signed by --key, and that "
        "every fact in the embedded evidence.json equals its ledger entry.",
    )
    parser.add_argument("file", type=Path)
    parser.add_argument("--trust", type=Path, action="append", required=True, help="PEM of a trusted root")
    parser.add_argument("--key", action="append", required=True, help="ledger verifier key (repeatable)")
    add_witness_arguments(parser)
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(handler=_verify_report)


def _verify_report(args: argparse.Namespace) -> int:
    from model_ledger_verify.report import ReportVerificationError, verify_report

    try:
        pdf = args.file.read_bytes()
        roots = [path.read_bytes() for path in args.trust]
    except OSError as exc:
        print(f"error: {exc.filename}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    try:
        _, policy = parse_keys(args.key, args.witnesses, args.min_witnesses)
    except NoteError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        result = verify_report(pdf, trust_roots_pem=roots, ledger_keys=args.key, witness_policy=policy)
    except ReportVerificationError as exc:
        if args.json:
            print(json.dumps({"verified": False, "error": str(exc)}))
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.json:
        print(
            json.dumps(
                {
                    "verified": True,
                    "report_id": result.report_id,
                    "kind": result.kind,
                    "subject": result.subject,
                    "signer": result.signer_subject,
                    "ledger_entries": result.ledger_entries,
                    "facts": result.facts,
                    "withheld": result.withheld,
                    "checkpoint_size": result.checkpoint_size,
                    "development": result.development,
                    "pades_level": result.level,
                    "twin": result.twin,
                }
            )
        )
    else:
        print(f"verified: {result.kind} report {result.report_id} on {result.subject}")
        print(f"sealed by {result.signer_subject}" + (" (DEVELOPMENT)" if result.development else ""))
        print(
            f"PAdES baseline {result.level}"
            + (f", archived {result.archive_timestamp_time}" if result.archive_timestamp_time else "")
        )
        print(f"{result.ledger_entries} ledger entries proven against checkpoint size {result.checkpoint_size}")
        print(f"{result.facts} facts shown checked against the ledger entries that state them")
        if result.withheld:
            print(
                f"{result.withheld} ledger entries withheld from this edition: proven to exist, their content "
                "proven in the authority edition"
            )
    return EXIT_OK
