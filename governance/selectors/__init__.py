"""Reads of the governance domain, one module per subject, each narrowed to what the caller may see.

- `registry`: models, versions and their lineage, cards, approvals, datasets, deployments;
- `history`: a model's timeline, for its page;
- `approvals`: how many signatures a version needs, the separation-of-duties rules, what a
  signature would sign, and whether a signer could sign now;
- `decisions`: logged decisions, by model, id or subject;
- `gates`: the production gates evaluated from recorded evidence;
- `monitoring`: thresholds, policies, CI evidence, observations, alerts, retraining requests,
  webhooks and deliveries, and a model's status;
- `people`: users, roles and compliance officer grants (administrators and officers);
- `separation`: the separation-of-duties rules for a signature, judged over history;
- `reports`: audit reports and the versions one may report on.

Services write and may read through selectors; selectors import no service. The registry and
decision reads are also importable from here, where most callers find them.
"""

from governance.selectors.decisions import decision_get, decision_list
from governance.selectors.people import officer_grant_of, role_grant_list, user_get, user_list
from governance.selectors.registry import (
    approval_list,
    card_list,
    dataset_get,
    dataset_list,
    deployment_at,
    deployment_list,
    model_get,
    model_list,
    previous_version,
    version_ancestors,
    version_dataset_links,
    version_descendants,
    version_get,
    version_list,
    versions_trained_on,
)

__all__ = [
    "approval_list",
    "card_list",
    "dataset_get",
    "dataset_list",
    "decision_get",
    "decision_list",
    "deployment_at",
    "deployment_list",
    "model_get",
    "model_list",
    "officer_grant_of",
    "previous_version",
    "role_grant_list",
    "user_get",
    "user_list",
    "version_ancestors",
    "version_dataset_links",
    "version_descendants",
    "version_get",
    "version_list",
    "versions_trained_on",
]
