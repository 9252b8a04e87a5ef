"""Two versions of one model side by side: card, metrics, datasets and gates."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from console import diffs
from governance import selectors
from governance.selectors.gates import gates_evaluate


def _card(version: Any) -> Any:
    return selectors.card_list(version).order_by("-revision").first()


def compare_page(user: AbstractBaseUser, slug: str, a: str, b: str) -> dict[str, Any]:
    """Return what the compare page shows of versions `a` (the older side) and `b` of `slug`.

    Raise NotVisible when the model or either version is not one `user` may read.
    """
    model = selectors.model_get(user, slug)
    older = selectors.version_get(user, model.slug, a)
    newer = selectors.version_get(user, model.slug, b)
    old_card, new_card = _card(older), _card(newer)
    old_gates, new_gates = gates_evaluate(version=older), gates_evaluate(version=newer)
    return {
        "model": model,
        "older": older,
        "newer": newer,
        "old_card": old_card,
        "new_card": new_card,
        "card_diff": diffs.card_diff(old_card.content if old_card else None, new_card.content if new_card else None),
        "metric_diff": diffs.metric_diff(older.metrics, newer.metrics),
        "dataset_diff": diffs.dataset_diff(
            list(older.dataset_links.select_related("dataset")), list(newer.dataset_links.select_related("dataset"))
        ),
        "gate_diff": diffs.gate_pairs(old_gates, new_gates),
        "old_gates": old_gates,
        "new_gates": new_gates,
    }
