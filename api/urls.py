from django.urls import path

from api.views import assurance, identity, ledger, me, mlflow, monitoring, operations, people, registry, reports

app_name = "api"

MODEL = "models/<slug:slug>"
VERSION = f"{MODEL}/versions/<str:version>"
DECISION = f"{MODEL}/decisions/<str:decision_id>"
USER = "users/<str:username>"

urlpatterns = [
    # The ledger (auditors).
    path("ledger/checkpoint", ledger.CheckpointLatestView.as_view(), name="checkpoint-latest"),
    path("ledger/checkpoints", ledger.CheckpointListView.as_view(), name="checkpoint-list"),
    path("ledger/keys", ledger.KeyListView.as_view(), name="key-list"),
    path("ledger/witnesses", ledger.WitnessListView.as_view(), name="witness-list"),
    path("ledger/entries", ledger.EntryRangeView.as_view(), name="entry-range"),
    path("ledger/entries/<int:seq>", ledger.EntryDetailView.as_view(), name="entry-detail"),
    path("ledger/proofs/inclusion", ledger.InclusionProofView.as_view(), name="proof-inclusion"),
    path("ledger/proofs/consistency", ledger.ConsistencyProofView.as_view(), name="proof-consistency"),
    # The caller.
    path("me", me.WhoAmIView.as_view(), name="me"),
    # The registry.
    path("models", registry.ModelListView.as_view(), name="model-list"),
    path(MODEL, registry.ModelDetailView.as_view(), name="model-detail"),
    path(f"{MODEL}/validation", registry.ModelValidationView.as_view(), name="model-validation"),
    path(f"{MODEL}/classification", assurance.ClassificationView.as_view(), name="model-classification"),
    path(f"{MODEL}/risks", assurance.RiskView.as_view(), name="model-risks"),
    path(f"{MODEL}/oversight", assurance.OversightView.as_view(), name="model-oversight"),
    path(f"{VERSION}/findings", assurance.FindingView.as_view(), name="version-findings"),
    path(f"{MODEL}/transfers", registry.TransferRequestView.as_view(), name="model-transfer"),
    path("transfers/<int:pk>/accept", registry.TransferAcceptView.as_view(), name="transfer-accept"),
    path(f"{MODEL}/access", registry.AccessView.as_view(), name="model-access"),
    path(
        f"{MODEL}/access/grant",
        registry.AccessChangeView.as_view(grant=True),
        name="model-access-grant",
    ),
    path(
        f"{MODEL}/access/revoke",
        registry.AccessChangeView.as_view(grant=False),
        name="model-access-revoke",
    ),
    path("datasets", registry.DatasetListView.as_view(), name="dataset-list"),
    path("datasets/<str:sha256>", registry.DatasetDetailView.as_view(), name="dataset-detail"),
    path(
        "datasets/<str:sha256>/versions",
        registry.DatasetVersionsView.as_view(),
        name="dataset-versions",
    ),
    path("versions", registry.VersionQueueView.as_view(), name="version-queue"),
    path(f"{MODEL}/versions", registry.VersionListView.as_view(), name="version-list"),
    path(VERSION, registry.VersionDetailView.as_view(), name="version-detail"),
    path(f"{VERSION}/lineage", registry.VersionLineageView.as_view(), name="version-lineage"),
    path(f"{VERSION}/review", registry.VersionReviewView.as_view(), name="version-review"),
    path(f"{VERSION}/retire", registry.VersionRetireView.as_view(), name="version-retire"),
    path(f"{VERSION}/cards", registry.CardListView.as_view(), name="card-list"),
    path(f"{VERSION}/approvals", registry.ApprovalListView.as_view(), name="approval-list"),
    path(f"{VERSION}/signature", registry.SignaturePreviewView.as_view(), name="signature-preview"),
    # Operations.
    path(f"{MODEL}/deployments", operations.DeploymentListView.as_view(), name="deployment-list"),
    path(f"{MODEL}/deployments/at", operations.DeploymentAtView.as_view(), name="deployment-at"),
    path(
        f"{MODEL}/deployments/<int:pk>/end",
        operations.DeploymentEndView.as_view(),
        name="deployment-end",
    ),
    path(f"{MODEL}/decisions", operations.DecisionListView.as_view(), name="decision-list"),
    path(DECISION, operations.DecisionDetailView.as_view(), name="decision-detail"),
    path(f"{DECISION}/reviews", operations.DecisionReviewView.as_view(), name="decision-review"),
    path(f"{DECISION}/erase", operations.DecisionEraseView.as_view(), name="decision-erase"),
    path("decisions", operations.DecisionSearchView.as_view(), name="decision-search"),
    # Reports.
    path("reports", reports.ReportListView.as_view(), name="report-list"),
    path("reports/<str:pk>", reports.ReportDetailView.as_view(), name="report-detail"),
    path("reports/<str:pk>/retry", reports.ReportRetryView.as_view(), name="report-retry"),
    path("reports/<str:pk>/download", reports.ReportDownloadView.as_view(), name="report-download"),
    # Production gates, monitoring, alerts, retraining and notifications.
    path(f"{VERSION}/gates", monitoring.GatesView.as_view(), name="version-gates"),
    path(f"{VERSION}/ci-evidence", monitoring.CiEvidenceView.as_view(), name="version-ci-evidence"),
    path(f"{MODEL}/status", monitoring.ModelStatusView.as_view(), name="model-status"),
    path(f"{MODEL}/thresholds", monitoring.ThresholdsView.as_view(), name="model-thresholds"),
    path(f"{MODEL}/monitoring-policy", monitoring.MonitoringPolicyView.as_view(), name="model-monitoring-policy"),
    path(f"{MODEL}/retraining-policy", monitoring.RetrainingPolicyView.as_view(), name="model-retraining-policy"),
    path(f"{MODEL}/observations", monitoring.ObservationListView.as_view(), name="observation-list"),
    path(f"{MODEL}/alerts", monitoring.AlertListView.as_view(), name="alert-list"),
    path(f"{MODEL}/alerts/<int:pk>", monitoring.AlertDetailView.as_view(), name="alert-detail"),
    path(f"{MODEL}/alerts/<int:pk>/acknowledge", monitoring.AlertAcknowledgeView.as_view(), name="alert-acknowledge"),
    path(f"{MODEL}/alerts/<int:pk>/resolve", monitoring.AlertResolveView.as_view(), name="alert-resolve"),
    path("alerts", monitoring.AlertQueueView.as_view(), name="alert-queue"),
    path(
        f"{MODEL}/retraining-requests",
        monitoring.RetrainingRequestListView.as_view(),
        name="retraining-request-list",
    ),
    path("webhooks", monitoring.WebhookListView.as_view(), name="webhook-list"),
    path("webhooks/<int:pk>", monitoring.WebhookDetailView.as_view(), name="webhook-detail"),
    path("webhooks/<int:pk>/deliveries", monitoring.WebhookDeliveryListView.as_view(), name="webhook-deliveries"),
    path("deliveries", monitoring.DeliveryListView.as_view(), name="delivery-list"),
    # People and API tokens.
    path("tokens", identity.TokenListView.as_view(), name="token-list"),
    path("tokens/revoke", identity.TokenRevokeView.as_view(), name="token-revoke"),
    path("users", people.UserListView.as_view(), name="user-list"),
    path(f"{USER}", people.UserDetailView.as_view(), name="user-detail"),
    path(f"{USER}/deactivate", people.UserActiveView.as_view(active=False), name="user-deactivate"),
    path(f"{USER}/reactivate", people.UserActiveView.as_view(active=True), name="user-reactivate"),
    path(f"{USER}/roles/grant", people.UserRoleView.as_view(grant=True), name="user-role-grant"),
    path(f"{USER}/roles/revoke", people.UserRoleView.as_view(grant=False), name="user-role-revoke"),
    path(f"{USER}/privileges", people.UserPrivilegesView.as_view(), name="user-privileges"),
    path(f"{USER}/password", people.UserPasswordView.as_view(), name="user-password"),
    path("role-grants", people.RoleGrantListView.as_view(), name="role-grant-list"),
    path("role-grants/<int:pk>/confirm", people.RoleGrantDecideView.as_view(confirm=True), name="role-grant-confirm"),
    path("role-grants/<int:pk>/reject", people.RoleGrantDecideView.as_view(confirm=False), name="role-grant-reject"),
    # Integrations.
    path("integrations/mlflow/webhook", mlflow.MlflowWebhookView.as_view(), name="mlflow-webhook"),
]
