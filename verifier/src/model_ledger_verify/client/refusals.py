"""How ledgerctl words a refusal: the server's message, then one line per failing gate, per field,
or per kind of item error (with a count and the first few item ids). `--json` prints it all."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

MAX_LINE = 300  # characters: a reason longer than this is cut; --json has the whole text
MAX_KINDS = 10  # kinds of item error listed before "… and N more"
FIRST_IDS = 3  # item ids named per kind


def flatten(problem: Any) -> str:
    if isinstance(problem, list):
        return "; ".join(flatten(p) for p in problem)
    if isinstance(problem, dict):
        return "; ".join(f"{k}: {flatten(v)}" for k, v in problem.items())
    return str(problem)


def _clip(line: str) -> str:
    return line if len(line) <= MAX_LINE else f"{line[: MAX_LINE - 1]}…"


def _kinds(problem: Any, prefix: str = "") -> list[str]:
    """Each distinct "field: message" of one item's errors."""
    if isinstance(problem, dict):
        return [kind for name, value in problem.items() for kind in _kinds(value, f"{prefix}{name}: ")]
    if isinstance(problem, list):
        return [kind for value in problem for kind in _kinds(value, prefix)]
    return [f"{prefix}{problem}"]


def refusal_lines(status: int, code: str, message: str, errors: Any, item_ids: Sequence[Any] = ()) -> list[str]:
    """Return the lines that explain a refusal; `item_ids[i]` names item i of a batch."""
    lines = [f"{message} (HTTP {status}, {code})"]
    errors = errors if isinstance(errors, dict) else {"errors": errors} if errors else {}
    gates = errors.get("gates")
    if isinstance(gates, list):
        for gate in gates:
            if isinstance(gate, dict) and not gate.get("passed", True):
                lines.append(_clip(f"  [FAIL] {gate.get('gate')}: {gate.get('reason')}"))
    kinds: dict[str, list[str]] = {}
    for name, problem in errors.items():
        if name == "gates" and isinstance(gates, list):
            continue
        if not name.isdigit():
            lines.append(_clip(f"  {name}: {flatten(problem)}"))
            continue
        index = int(name)
        label = str(item_ids[index]) if index < len(item_ids) and item_ids[index] else f"item {index}"
        for kind in dict.fromkeys(_kinds(problem)):
            kinds.setdefault(kind, []).append(label)
    for kind, labels in list(kinds.items())[:MAX_KINDS]:
        first = ", ".join(labels[:FIRST_IDS]) + (", …" if len(labels) > FIRST_IDS else "")
        lines.append(_clip(f"  {kind} — {len(labels):,} item{'s' if len(labels) != 1 else ''} ({first})"))
    if len(kinds) > MAX_KINDS:
        lines.append(f"  … and {len(kinds) - MAX_KINDS} more kinds of error (--json lists every one)")
    return lines
