"""The governance domain: what is recorded about each model, and who did what to it."""

from governance.models.access import ModelGroupObjectPermission, ModelUserObjectPermission
from governance.models.decisions import Decision, DecisionPayload, DecisionReview
from governance.models.deployments import Deployment
from governance.models.registry import (
    Approval,
    Dataset,
    ModelCard,
    ModelVersion,
    OwnershipTransfer,
    RegisteredModel,
    StatusChange,
    VersionDataset,
)
from governance.models.reports import Report

__all__ = [
    "Approval",
    "Dataset",
    "Decision",
    "DecisionPayload",
    "DecisionReview",
    "Deployment",
    "ModelCard",
    "ModelGroupObjectPermission",
    "ModelUserObjectPermission",
    "ModelVersion",
    "OwnershipTransfer",
    "RegisteredModel",
    "Report",
    "StatusChange",
    "VersionDataset",
]
