"""What every `ledgerctl` subcommand that talks to the service shares: options, the call, exit codes.

The service is configured by LEDGER_URL and LEDGER_TOKEN (or --url and --token). Exit codes: 0 done;
1 the server refused (validation, permission, conflict) or a gate failed; 2 usage (bad arguments,
missing file); 3 the server is unreachable or the token is refused.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from model_ledger_verify.client.progress import ByteProgress

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNREACHABLE = 0, 1, 2, 3


def add_common_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", help="server URL (default: $LEDGER_URL)")
    parser.add_argument("--token", help="API token (default: $LEDGER_TOKEN)")
    parser.add_argument("--json", action="store_true", help="print the server's JSON answer")


def call(args: argparse.Namespace, action: Callable[[Any], Any], describe: Callable[[Any], str]) -> int:
    """Call the API through `action(client)`; print the answer; map errors to exit codes."""
    from model_ledger_verify.client.api import ApiError, LedgerClient, NotConfigured, Unreachable

    try:
        client = LedgerClient.from_environment(args.url, args.token)
        answer = action(client)
    except NotConfigured as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Unreachable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_UNREACHABLE
    except ApiError as exc:
        if args.json:
            print(exc.as_json())
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_UNREACHABLE if exc.status == 401 else EXIT_FAILED
    except OSError as exc:
        print(f"error: {exc.filename or ''}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(json.dumps(answer, indent=2) if args.json else describe(answer))
    return EXIT_OK


def load_spec(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError:
            raise ValueError("YAML specs need PyYAML (pip install pyyaml); or write the spec as JSON.") from None
        spec = yaml.safe_load(text)
    else:
        spec = json.loads(text)
    if not isinstance(spec, dict):
        raise ValueError(f"{path}: the spec must be an object.")
    return spec


def fingerprint_file(path: str) -> tuple[str, int]:
    from model_ledger_verify.fingerprint import fingerprint

    progress = ByteProgress(sys.stderr, f"hashing {path}")
    result = fingerprint(path, progress=progress)
    progress.finish()
    return result.root, result.total_bytes


def receipt_line(answer: dict) -> str:
    receipt = answer.get("receipt") or {}
    return f"ledger seq {receipt.get('seq')}, leaf {str(receipt.get('leaf_hash', ''))[:16]}…"
