"""``ledgerctl``: the auditor's and operator's command line for the model ledger.

This module builds the argument parser and dispatches to one small handler per subcommand.
Each subcommand is registered by a ``register(subparsers)`` function that adds its parser and
sets ``handler`` to a function ``(args) -> exit code``; a new subcommand (gates, promote,
register-version, …) lives in its own module and is added to :data:`REGISTRARS`.

Exit codes: 0 when the command succeeded (for ``verify``: the bundle verified), 1 when it ran
and found a problem (``error: <message>`` on stderr), 2 for usage errors, unreadable paths and
malformed keys.

``verify`` imports no Django and opens no network connection: it works fully offline. A
subcommand that talks to the service should import its HTTP code inside its handler, so that
building the parser stays free of it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from model_ledger_verify.bundle import BundleReport, VerificationError, parse_verifier_keys, verify_bundle
from model_ledger_verify.client.tlog_commands import (
    add_witness_arguments,
    bundle_record_in_state,
    bundle_trusted_from_state,
    parse_keys,
    register_monitor_log,
    run_audit,
)
from model_ledger_verify.notes import NoteError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


class UsageError(Exception):
    """A problem with how the command was invoked (exit code 2), not with what it checked."""


# --------------------------------------------------------------------------------------------
# ledgerctl verify
# --------------------------------------------------------------------------------------------


class _Progress:
    """Entry counts on stderr: refreshed in place on a terminal, a line per 100,000 otherwise."""

    EVERY = 100_000

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._tty = stream.isatty()
        self._last_time = 0.0
        self._last_count = 0
        self._shown = False

    def __call__(self, done: int, total: int) -> None:
        if self._tty:
            now = time.monotonic()
            if now - self._last_time < 0.2 and done != total:
                return
            self._last_time = now
            self._stream.write(f"\rverifying entries: {done:,}/{total:,}")
            self._shown = True
        elif done // self.EVERY > self._last_count // self.EVERY:
            self._stream.write(f"verified {done:,}/{total:,} entries\n")
        self._last_count = done
        self._stream.flush()

    def finish(self) -> None:
        if self._shown:
            self._stream.write("\n")
            self._stream.flush()


def _register_verify(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "verify",
        help="verify an export bundle offline",
        description=(
            "Verify a ledger export bundle (manage.py export_ledger) without trusting the "
            "service: file hashes, every entry, the Merkle tree, and every signed checkpoint. "
            "Exit 0 if it verifies, 1 naming the first failure, 2 for usage errors."
        ),
    )
    parser.add_argument("bundle", type=Path, nargs="?", metavar="BUNDLE_DIR", help="the bundle directory")
    parser.add_argument("--tiles", metavar="URL", help="audit from the log's tlog-tiles instead of a bundle")
    parser.add_argument(
        "--state", type=Path, metavar="FILE", help="checkpoints seen before, kept here: a split view is reported"
    )
    parser.add_argument("--token", help="with --tiles: API token, when entry bundles are not public")
    parser.add_argument("--hashes-only", action="store_true", help="with --tiles: level 0 tiles, not the entries")
    parser.add_argument(
        "--key",
        dest="keys",
        action="append",
        required=True,
        metavar="KEY",
        help="a trusted verifier key <name>+<hex id>+<base64> (repeatable)",
    )
    parser.add_argument(
        "--trusted-checkpoint",
        type=Path,
        metavar="FILE",
        help="a signed checkpoint saved earlier; the bundle must extend it",
    )
    add_witness_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print a JSON object")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress on stderr")
    parser.set_defaults(handler=_cmd_verify)


def _cmd_verify(args: argparse.Namespace) -> int:
    if (args.bundle is None) == (args.tiles is None):
        raise UsageError("give either BUNDLE_DIR or --tiles URL")
    if args.tiles is not None:
        return run_audit(args, args.state)
    if args.witnesses or args.min_witnesses:
        if args.trusted_checkpoint is None:
            raise UsageError("--witness checks a cosigned checkpoint: use --tiles, or --trusted-checkpoint")
        try:
            _, policy = parse_keys(args.keys, args.witnesses, args.min_witnesses)
            if policy is not None:
                policy.check(args.trusted_checkpoint.read_text(encoding="utf-8"))
        except (NoteError, OSError, UnicodeDecodeError) as exc:
            print(f"error: trusted checkpoint: {exc}", file=sys.stderr)
            return EXIT_FAILED
    try:
        parse_verifier_keys(args.keys)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if not args.bundle.is_dir() or not os.access(args.bundle, os.R_OK | os.X_OK):
        raise UsageError(f"{args.bundle} is not a readable bundle directory")
    trusted = None
    if args.trusted_checkpoint is not None:
        try:
            trusted = args.trusted_checkpoint.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read {args.trusted_checkpoint}: {exc}") from None
    if trusted is None and args.state is not None:
        # The newest checkpoint seen before: this bundle must extend it.
        trusted = bundle_trusted_from_state(args.state, args.bundle)

    progress = None if args.quiet else _Progress(sys.stderr)
    try:
        report = verify_bundle(args.bundle, args.keys, trusted, progress=progress)
    except VerificationError as exc:
        if progress is not None:
            progress.finish()
        if args.json:
            print(json.dumps({"ok": False, **exc.to_dict()}, indent=2))
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if progress is not None:
        progress.finish()
    if args.state is not None and bundle_record_in_state(args.state, args.bundle, args.json) != EXIT_OK:
        return EXIT_FAILED
    if args.json:
        print(json.dumps({"ok": True, **report.to_dict()}, indent=2))
    else:
        print(_summary(args.bundle, report))
    return EXIT_OK


def _summary(bundle: Path, report: BundleReport) -> str:
    lines = [
        f"OK: {bundle} verified",
        f"origin:       {report.origin}",
        f"entries:      {report.entries:,}",
    ]
    if report.latest_checkpoint_size is None or report.latest_checkpoint_root is None:
        lines.append("checkpoints:  none; no entry is covered by a signed checkpoint")
    else:
        signers = ", ".join(report.signers)
        lines += [
            f"checkpoints:  {report.checkpoints:,} verified, signed by {signers}",
            f"latest:       size {report.latest_checkpoint_size:,}, root {report.latest_checkpoint_root.hex()}",
        ]
    if report.uncovered_entries:
        lines.append(f"uncovered:    {report.uncovered_entries:,} entries not yet covered by a checkpoint")
    if report.trusted_checkpoint_size is not None:
        lines.append(f"trusted:      checkpoint of size {report.trusted_checkpoint_size:,} is a prefix of this log")
    lines.append(f"elapsed:      {report.elapsed_seconds:.2f} s")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Parser and dispatch
# --------------------------------------------------------------------------------------------


def _more_registrars() -> list[Callable[[argparse._SubParsersAction], None]]:
    from model_ledger_verify.client import (
        account_commands,
        assurance_commands,
        local_commands,
        onboarding_commands,
        operations_commands,
        pipeline_commands,
    )

    return [
        local_commands.register_hash_dataset,
        local_commands.register_verify_report,
        register_monitor_log,
        *pipeline_commands.REGISTRARS,
        *operations_commands.REGISTRARS,
        *onboarding_commands.REGISTRARS,
        *account_commands.REGISTRARS,
        *assurance_commands.REGISTRARS,
    ]


REGISTRARS: list[Callable[[argparse._SubParsersAction], None]] = [_register_verify, *_more_registrars()]
"""Functions adding one subcommand each; a subcommand module appends its ``register``."""


def build_parser() -> argparse.ArgumentParser:
    """Return the ``ledgerctl`` parser with every registered subcommand."""
    parser = argparse.ArgumentParser(
        prog="ledgerctl",
        description="Command line for the model governance audit ledger.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for register in REGISTRARS:
        register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``ledgerctl`` with ``argv`` (default: the process arguments); return the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors and 0 after --help
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    try:
        return int(args.handler(args))
    except UsageError as exc:
        print(f"{parser.prog} {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
