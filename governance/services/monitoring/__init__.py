"""Monitoring: observations from monitoring sources, and the job that judges them.

- `observations`: posting observations per deployed version and window; drift as PSI and KS,
  or as binned reference and live counts from which the server computes both (governance.drift);
- `evaluation`: the periodic job that judges each new observation once and opens alerts, and
  opens an "unmonitored" alert for a production deployment that has gone longer than its
  policy's expected interval without an observation: silent drift is the failure to catch.

The thresholds and the monitoring policy they are judged by are set in governance.services.policies.
"""

from governance.services.monitoring.evaluation import Evaluation, monitoring_evaluate
from governance.services.monitoring.observations import (
    DRIFT_KINDS,
    MAX_BATCH,
    ObservationBatch,
    observation_post_batch,
    observation_record,
)

__all__ = [
    "DRIFT_KINDS",
    "MAX_BATCH",
    "Evaluation",
    "ObservationBatch",
    "monitoring_evaluate",
    "observation_post_batch",
    "observation_record",
]
