"""Import MLflow registered model versions into the ledger, through the ledger's own services.

What is read, and what it becomes:

- A registered model's name → the RegisteredModel whose slug is that name slugified
  ("Credit_Risk" → "credit-risk"). A model missing from the ledger is created only when the
  import user may register models and MLFLOW_IMPORT_OWNER names its owner; the MLflow model's
  tags `intended_purpose`, `regulated_use`, `risk_tier` and `runbook` fill those fields, and
  without them it is registered as high risk, regulated use "other": the strictest rules apply
  until a person says otherwise.
- A model version → a ModelVersion named by its tag `version` (or `semver`), else by MLflow's
  number ("3"). Its run gives the hyperparameters (params, strings), the metrics (decimal
  strings, never floats), the code commit and repository (tags `mlflow.source.git.commit`,
  `mlflow.source.git.repoURL`), the pipeline run id and, for an http(s) server, its URL.
- The run's dataset inputs → datasets, in the role their `mlflow.data.context` tag names
  (training when untagged). See `facts.dataset_facts` for how each is hashed.
- The version's artifacts are downloaded and hashed with the project's one fingerprint
  (model_ledger_verify/fingerprint.py: the SHA-256 root of a manifest of every file, as ledgerctl does).
- Aliases → deployments, through MLFLOW_ALIAS_ENVIRONMENTS (alias → environment). An alias does
  not bypass anything: only approved versions deploy, and production deployments must clear the
  gates; otherwise nothing is recorded and the alias is reported as skipped, with the reason.

Incremental and idempotent: a version already in the ledger is neither downloaded nor written
again, and an alias is acted on only when it points at a version the import has not yet deployed
for it. Each version (its datasets with it) is one transaction and each alias deployment another,
so a failure leaves everything else recorded. Whatever is not imported is in the report's
`skipped`, with the reason; only an unreadable registry raises.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser

from governance import access
from governance.errors import InvalidInput
from governance.mlflow_import.aliases import _deploy_aliases
from governance.mlflow_import.facts import MlflowUnavailable, connect, redacted
from governance.mlflow_import.outcome import ImportReport, NotConfigured, Skipped
from governance.mlflow_import.walk import _import_version, _ledger_model, _model_versions, _registered_models, _slugs

__all__ = ["ImportReport", "MlflowUnavailable", "NotConfigured", "Skipped", "import_actor", "mlflow_import"]


def import_actor(username: str | None = None) -> AbstractBaseUser:
    """Return the active user the import acts as: `username`, else settings.MLFLOW_IMPORT_USER.

    Raise NotConfigured when neither names an active user.
    """
    username = username or settings.MLFLOW_IMPORT_USER
    if not username:
        raise NotConfigured(
            "Set MLFLOW_IMPORT_USER to the account the MLflow import acts as "
            "(a pipeline granted `register` on the models it imports)."
        )
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise NotConfigured(f"The MLflow import user {username!r} is not an active user.")
    return user


def mlflow_import(
    *,
    actor: AbstractBaseUser,
    tracking_uri: str,
    model_name: str | None = None,
    version: str | None = None,
) -> ImportReport:
    """Record every MLflow model version not yet in the ledger, then its aliases; return the report.

    `model_name` limits the run to one MLflow registered model, and `version` (with it) to one
    of its versions and the aliases pointing at it. Raise MlflowUnavailable when the client is
    missing or the registry cannot be listed, InvalidInput for a version without a model;
    everything the ledger's rules refuse is reported in `skipped`, not raised.
    """
    if version is not None and model_name is None:
        raise InvalidInput("Name the MLflow model of the version.", errors={"model_name": ["Required with version."]})
    ml = connect(tracking_uri)
    report = ImportReport()
    try:
        models = _registered_models(ml, model_name, report)
    except ml.error as exc:
        raise MlflowUnavailable(f"Could not read the MLflow registry at {redacted(tracking_uri)}: {exc}") from exc
    for registered, slug in _slugs(models, report):
        model = _ledger_model(actor, registered, slug, report)
        if model is None:
            continue
        if not access.can(actor, "register", model):
            report.skip(
                f"model {registered.name}",
                f"{actor.get_username()} may not register versions of {slug}: "
                "a compliance officer grants it `register` on the model.",
            )
            continue
        try:
            versions = list(_model_versions(ml, registered.name, version, report))
        except ml.error as exc:
            raise MlflowUnavailable(f"Could not list the versions of {registered.name!r}: {exc}") from exc
        rows = {}
        for mlflow_version in versions:
            row = _import_version(ml, actor, model, mlflow_version, report)
            if row is not None:
                rows[str(mlflow_version.version)] = row
        _deploy_aliases(actor, model, registered, rows, version, report)
    return report
