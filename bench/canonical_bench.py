"""Canonical JSON on the sequencer's path: the ledger's own encoder against the `rfc8785` package.

`ledger.services.submit` canonicalises every event's `data` (and checks each envelope string)
before it queues it; the leaf around the data is then assembled by hand. This times, on payloads
shaped like the ledger's events and after checking that all give the same bytes:

- the ledger's own encoder (`canonical.reference_dumps`, path-tracking, refuses floats);
- `rfc8785.dumps`, the maintained pure-Python RFC 8785 implementation;
- `canonical.dumps` as adopted: a walk for the ledger's own rules (no floats, bounded depth),
  then `rfc8785.dumps`; the own encoder only words errors.

    .venv/bin/python bench/canonical_bench.py [--quick]

The last line is `RESULT rfc8785_time_ratio=<n> x`: rfc8785's time over the own encoder's
(below 1 means rfc8785 is faster on this path, and is used).
"""

from __future__ import annotations

import argparse
import sys
import timeit
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import rfc8785  # noqa: E402

from model_ledger_verify import canonical  # noqa: E402

HEX = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

# Event payloads as the governance services write them (decimal strings for every fraction).
PAYLOADS: dict[str, object] = {
    "decision.logged": {
        "decision_id": "0b8f1a52-3c1e-4f7e-9d7a-51f0a8f4b2c1",
        "model": "credit-risk",
        "version": "1.1.0",
        "outcome": "declined",
        "score": "0.8731",
        "inputs_commitment": HEX,
        "decided_at": "2026-11-27T23:40:01.123456Z",
        "deployment": 42,
    },
    "version.registered": {
        "model": "credit-risk",
        "version": "1.1.0",
        "artifact_sha256": HEX,
        "datasets": [{"name": f"loans-{i}", "sha256": HEX, "role": "training", "rows": 120_000 + i} for i in range(4)],
        "metrics": {"auc": "0.8731", "ks": "0.4120", "gini": "0.7462", "brier": "0.1031"},
        "params": {"max_depth": 6, "learning_rate": "0.05", "n_estimators": 400, "seed": 7},
        "registered_by": "user:pipeline-ci",
    },
    "card.revised (unicode, escapes)": {
        "model": "scoring-ümlaut",
        "sections": {
            "intended_use": "Prüfung von Kreditanträgen — nur für Privatkunden.\nNicht für Unternehmen.",
            "limitations": 'Trained on 2019\u20132024 data; "thin file" applicants are under-represented.\t(see §4)',
            "owners": ["Ana Lídia", "Jürgen Weiß", "Zoë 🚀"],
            "ethics": "无歧视性特征; 不使用性别或种族",
        },
        "revision": 7,
        "supersedes": HEX,
    },
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args()
    number = 2_000 if args.quick else 20_000
    repeat = 3 if args.quick else 5

    def best(fn: object, payload: object) -> float:
        return min(timeit.repeat(lambda: fn(payload), number=number, repeat=repeat)) / number  # type: ignore[operator]

    print(f"{'payload (µs per call)':34} {'bytes':>6} {'own':>8} {'rfc8785':>8} {'adopted':>8} {'rfc/own':>8}")
    totals = [0.0, 0.0, 0.0]
    for name, payload in PAYLOADS.items():
        expected = canonical.reference_dumps(payload)
        assert rfc8785.dumps(payload) == expected == canonical.dumps(payload), f"{name}: the encoders disagree"
        times = [
            best(canonical.reference_dumps, payload),
            best(rfc8785.dumps, payload),
            best(canonical.dumps, payload),
        ]
        totals = [t + u for t, u in zip(totals, times, strict=True)]
        own, theirs, adopted = (t * 1e6 for t in times)
        print(f"{name:34} {len(expected):>6} {own:>8.1f} {theirs:>8.1f} {adopted:>8.1f} {theirs / own:>8.2f}")
    ratio = totals[1] / totals[0]
    own, theirs, adopted = (t * 1e6 for t in totals)
    print(f"{'all three':34} {'':>6} {own:>8.1f} {theirs:>8.1f} {adopted:>8.1f} {ratio:>8.2f}")
    print(f"Python {sys.version.split()[0]}, rfc8785 {getattr(rfc8785, '__version__', '?')}")
    print(f"RESULT rfc8785_time_ratio={ratio:.2f} x")


if __name__ == "__main__":
    main()
