from django.contrib.auth.views import LogoutView
from django.urls import path

from console.views import assurance, home, ledger, manage, operations, people, registry, reports, signing, tokens

app_name = "console"

VERSION = "models/<slug:slug>/versions/<str:version>"

urlpatterns = [
    path("", home.home, name="home"),
    path("sign-out", LogoutView.as_view(), name="sign-out"),
    path("queue", registry.queue, name="queue"),
    path("models", registry.models, name="models"),
    path("models/new", manage.model_new, name="model-new"),
    path("models/<slug:slug>", registry.model, name="model"),
    path("models/<slug:slug>/compare", registry.compare, name="compare"),
    path("models/<slug:slug>/access", manage.model_access, name="model-access"),
    path("models/<slug:slug>/policies", manage.model_policies, name="model-policies"),
    *(
        path(f"models/<slug:slug>/{kind}", assurance.assurance_page, {"kind": kind}, name=f"model-{kind}")
        for kind in ("classification", "risk", "oversight")
    ),
    path(f"{VERSION}/findings", assurance.assurance_page, {"kind": "finding"}, name="version-findings"),
    path(f"{VERSION}/review", manage.version_review, name="version-review"),
    path(f"{VERSION}/deploy", manage.version_deploy, name="version-deploy"),
    path(VERSION, registry.version, name="version"),
    path(f"{VERSION}/sign", signing.sign, name="sign"),
    path(f"{VERSION}/approvals/<int:pk>", signing.approval, name="approval"),
    path("decisions", operations.decisions, name="decisions"),
    # Any id: one logged before ids had an alphabet may hold a slash.
    path("models/<slug:slug>/decisions/<path:decision_id>", operations.decision, name="decision"),
    path("alerts", operations.alerts, name="alerts"),
    path("alerts/<int:pk>/acknowledge", operations.alert_acknowledge, name="alert-acknowledge"),
    path("alerts/<int:pk>/resolve", operations.alert_resolve, name="alert-resolve"),
    path("reports", reports.reports, name="reports"),
    path("reports/<uuid:pk>/download", reports.report_download, name="report-download"),
    path("ledger", ledger.ledger, name="ledger"),
    path("ledger/offline", ledger.offline, name="ledger-offline"),
    path("ledger/entries/<int:seq>/verify", ledger.verify, name="verify"),
    path("people", people.people, name="people"),
    path("people/new", people.person_create, name="person-create"),
    path("people/proposals/<int:pk>/<str:decision>", people.proposal_decide, name="proposal-decide"),
    path("people/<str:username>/<str:action>", people.person_change, name="person-change"),
    path("account", people.account, name="account"),
    path("account/tokens", tokens.token_page, name="tokens"),
    path("account/tokens/<str:token_id>/revoke", tokens.token_revoke, name="token-revoke"),
]
