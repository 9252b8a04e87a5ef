"""The governance domain: what is recorded about each model, and who did what to it."""

from governance.models.access import ModelGroupObjectPermission, ModelUserObjectPermission
from governance.models.alerts import Alert, Delivery, RetrainingRequest, Webhook
from governance.models.assurance import Classification, OversightMeasure, RiskEntry, ValidationFinding
from governance.models.decisions import Decision, DecisionPayload, DecisionReview
from governance.models.deployments import Deployment
from governance.models.identity import RoleGrant, TokenProfile
from governance.models.monitoring import (
    CiEvidence,
    MetricThreshold,
    MonitoringPolicy,
    Observation,
    RetrainingPolicy,
)
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
    "Alert",
    "Approval",
    "CiEvidence",
    "Classification",
    "Dataset",
    "Decision",
    "DecisionPayload",
    "DecisionReview",
    "Delivery",
    "Deployment",
    "MetricThreshold",
    "ModelCard",
    "ModelGroupObjectPermission",
    "ModelUserObjectPermission",
    "ModelVersion",
    "MonitoringPolicy",
    "Observation",
    "OversightMeasure",
    "OwnershipTransfer",
    "RegisteredModel",
    "Report",
    "RetrainingPolicy",
    "RetrainingRequest",
    "RiskEntry",
    "RoleGrant",
    "StatusChange",
    "TokenProfile",
    "ValidationFinding",
    "VersionDataset",
    "Webhook",
]
