"""What differs between two versions of a model (the previous one, or any two): the model card
section by section, the metrics, the datasets and the gates.

Card text is compared word by word with difflib; each section becomes a table row with the
removed and inserted words marked.
"""

from __future__ import annotations

import difflib
from decimal import Decimal, InvalidOperation
from typing import Any

from governance.models import ModelCard


def _words(text: str) -> list[str]:
    return text.split()


def _segments(old: str, new: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Return (old, new) as lists of (op, text): op is "same", "del" or "ins"."""
    a, b = _words(old), _words(new)
    before: list[tuple[str, str]] = []
    after: list[tuple[str, str]] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag == "equal":
            before.append(("same", " ".join(a[i1:i2])))
            after.append(("same", " ".join(b[j1:j2])))
            continue
        if i2 > i1:
            before.append(("del", " ".join(a[i1:i2])))
        if j2 > j1:
            after.append(("ins", " ".join(b[j1:j2])))
    return before, after


def card_diff(previous: dict[str, Any] | None, current: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Return one row per card section: its state (same, changed, added, removed) and the words."""
    if current is None and previous is None:
        return []
    previous, current = previous or {}, current or {}
    sections = list(ModelCard.SECTIONS) + sorted((set(previous) | set(current)) - set(ModelCard.SECTIONS))
    rows = []
    for section in sections:
        old, new = str(previous.get(section, "") or "").strip(), str(current.get(section, "") or "").strip()
        if not old and not new:
            state = "empty"
        elif old == new:
            state = "same"
        elif not old:
            state = "added"
        elif not new:
            state = "removed"
        else:
            state = "changed"
        before, after = _segments(old, new)
        rows.append({"section": section.replace("_", " "), "state": state, "before": before, "after": after})
    return rows


def _decimal(value: object) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def metric_diff(previous: list[dict[str, Any]], current: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return one row per (metric, slice) in either list, with both values and the change."""

    def keyed(metrics: list[dict[str, Any]]) -> dict[tuple[str, str], str]:
        return {(m.get("name", ""), m.get("slice", "")): str(m.get("value", "")) for m in metrics}

    old, new = keyed(previous), keyed(current)
    rows = []
    for key in list(new) + [k for k in old if k not in new]:
        before, after = old.get(key), new.get(key)
        change = ""
        a, b = _decimal(before), _decimal(after)
        if a is not None and b is not None:
            delta = b - a
            change = "0" if delta == 0 else f"{'+' if delta > 0 else '-'}{abs(delta)}"
        rows.append(
            {"metric": key[0], "slice": key[1], "before": before or "", "after": after or "", "change": change}
        )
    return rows


def dataset_diff(older: list[Any], newer: list[Any]) -> list[dict[str, Any]]:
    """Return one row per (dataset hash, role) linked to either version: in both, added or removed.

    `older` and `newer` are VersionDataset links (`.dataset`, `.role`).
    """

    def keyed(links: list[Any]) -> dict[tuple[str, str], Any]:
        return {(link.dataset.sha256, link.role): link for link in links}

    old, new = keyed(older), keyed(newer)
    rows = []
    for key in list(new) + [k for k in old if k not in new]:
        link = new.get(key) or old[key]
        state = "same" if key in old and key in new else ("added" if key in new else "removed")
        rows.append({"name": link.dataset.name, "sha256": key[0], "role": key[1], "state": state})
    return rows


def gate_pairs(older: Any, newer: Any) -> list[dict[str, Any]]:
    """Return one row per gate of either report (GateReport): each side's status and reason."""
    old = {gate["gate"]: gate for gate in older.gates}
    new = {gate["gate"]: gate for gate in newer.gates}
    rows = []
    for name in list(old) + [n for n in new if n not in old]:
        a, b = old.get(name), new.get(name)
        rows.append(
            {
                "gate": name,
                "title": (a or b)["title"],
                "before": a,
                "after": b,
                "state": "same" if a and b and a["status"] == b["status"] else "changed",
            }
        )
    return rows
