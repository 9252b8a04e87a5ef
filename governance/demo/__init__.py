"""The demo story behind `manage.py seed_demo`: one high-risk credit model's life.

credit-risk (owned by demo-owner) has four versions: 1.0.0 (approved, deployed, later retired),
1.1.0 (approved by both officers, serving production), 2.0.0 (approved, deployed, rolled back to
1.1.0 after an alert) and 2.1.0 (registered by the pipeline, card incomplete, no approvals: the
review candidate), plus 10,000 decisions on the versions deployed at their times.

The owner declares the metric thresholds, the monitoring policy and the retraining policy before
the first deployment, and the pipeline posts CI evidence for each version it promotes, so 1.1.0
clears every production gate while 2.1.0 fails several (card, approvals, CI). The monitoring
sources post daily observations; on 2.0.0 the income band drifts until the evaluation job opens
a drift alert, the owner acknowledges it, three drifted windows open a retraining request, the
owner rolls back to 1.1.0 and resolves the alert, and 2.1.0 is registered to answer the request.

The story is dated over past months: the services run under a simulated clock so deployments
and signatures carry those dates. Ledger integration times are real.


The package: `world` (people, constants, the simulated clock and small helpers), `story` (the
credit-risk model's life) and `seeding` (the decisions and `seed`).
"""

from governance.demo.seeding import decision_items, seed
from governance.demo.story import story
from governance.demo.world import (
    BATCH,
    DECISIONS,
    DRIFT_2_0_0,
    FULL_CARD,
    INCOME_REFERENCE,
    PASSWORD,
    PEOPLE,
    START,
    people,
)

__all__ = [
    "BATCH",
    "DECISIONS",
    "DRIFT_2_0_0",
    "FULL_CARD",
    "INCOME_REFERENCE",
    "PASSWORD",
    "PEOPLE",
    "START",
    "decision_items",
    "people",
    "seed",
    "story",
]
