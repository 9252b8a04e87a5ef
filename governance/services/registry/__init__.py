"""Registering models, datasets and versions; revising model cards; moving status.

The package: `inventory` (registering models, validation dates), `datasets`, and `versions`
(versions with their lineage, model cards, status changes, review requests).
"""

from governance.services.registry.datasets import dataset_register
from governance.services.registry.inventory import model_register, model_update_validation
from governance.services.registry.versions import (
    FROZEN_STATUSES,
    MAX_HYPERPARAMETERS,
    MAX_METRICS,
    card_revise,
    status_change,
    version_register,
    version_request_review,
)

__all__ = [
    "FROZEN_STATUSES",
    "MAX_HYPERPARAMETERS",
    "MAX_METRICS",
    "card_revise",
    "dataset_register",
    "model_register",
    "model_update_validation",
    "status_change",
    "version_register",
    "version_request_review",
]
