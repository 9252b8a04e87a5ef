"""MLflow aliases as deployments: an alias naming an environment deploys the version it points at."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError

from governance.errors import GovernanceError
from governance.mlflow_import.outcome import ImportReport, _reason
from governance.models import Deployment, ModelVersion, RegisteredModel
from governance.services.deployments import deployment_start


# --- Aliases -------------------------------------------------------------------------------------
def _marker(name: str, environment: str) -> str:
    """The note line by which the import finds the deployments it made for a model's aliases."""
    return f"mlflow-import: {json.dumps([name, environment])}"


def _deploy_aliases(
    actor: AbstractBaseUser,
    model: RegisteredModel,
    registered: Any,
    rows: dict[str, ModelVersion],
    only_version: str | None,
    report: ImportReport,
) -> None:
    """Deploy the versions the model's aliases point at, through `deployment_start`.

    An environment is left alone when the alias points at the version serving it, or at the
    version the import last deployed for it: so a deployment a person ended or replaced in the
    ledger is not redone until the alias moves again.
    """
    environments = {alias.lower(): env for alias, env in settings.MLFLOW_ALIAS_ENVIRONMENTS.items()}
    pointers: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for alias, number in sorted((registered.aliases or {}).items()):
        environment = environments.get(alias.lower())
        if environment is not None:
            pointers[environment].append((alias, str(number)))
    for environment, aliases in sorted(pointers.items()):
        numbers = sorted({number for _, number in aliases}, key=int)
        if only_version is not None and str(only_version) not in numbers:
            continue
        names = ", ".join(alias for alias, _ in aliases)
        subject = f"{model.slug} alias {names} → {environment}"
        if len(numbers) > 1:
            report.skip(subject, f"The aliases point at different versions ({', '.join(numbers)}); make them agree.")
            continue
        row = rows.get(numbers[0])
        if row is None:
            report.skip(subject, f"MLflow version {numbers[0]} is not in the ledger.")
            continue
        marker = _marker(registered.name, environment)
        serving = Deployment.objects.filter(model=model, environment=environment, ended_at__isnull=True).first()
        last = (
            Deployment.objects.filter(model=model, environment=environment, notes__contains=marker)
            .order_by("-started_at", "-pk")
            .first()
        )
        if (serving and serving.version_id == row.pk) or (last and last.version_id == row.pk):
            report.unchanged.append(f"{subject} ({row.version})")
            continue
        try:
            deployment_start(
                actor=actor,
                version=row,
                environment=environment,
                reason=f"MLflow alias {names} set on version {numbers[0]}",
                notes=f"Recorded by the MLflow import from alias {names} of {registered.name!r}.\n{marker}",
            )
        except GovernanceError as exc:
            report.skip(subject, _reason(exc))
            continue
        except IntegrityError:
            report.skip(subject, "Deployed at the same moment by another import; the next run sees it.")
            continue
        report.deployments_started.append(f"{model.slug} {row.version} → {environment}")
