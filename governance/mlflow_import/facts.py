"""What the MLflow import reads, as ledger values: versions, runs, datasets and their hashes.

Pure reading: nothing here writes to the database. `connect` imports the MLflow client on first
use, so the service starts without it installed.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit
from urllib.request import url2pathname

from governance.errors import GovernanceError
from governance.records import sha256_of
from governance.validation import DECIMAL_RE, STORAGE_URI_RE, VERSION_RE, WEB_URL_RE
from model_ledger_verify.fingerprint import FileEntry, FingerprintError, fingerprint, manifest_root

INSTALL_HINT = (
    "MLflow import needs the MLflow client: pip install mlflow-skinny "
    "(and sqlalchemy and alembic for a sqlite:// or other database tracking URI)."
)
# The MLflow tags the import reads.
VERSION_TAGS = ("version", "semver")
GIT_COMMIT_TAG = "mlflow.source.git.commit"
GIT_REPOSITORY_TAG = "mlflow.source.git.repoURL"
CONTEXT_TAG = "mlflow.data.context"
# The environment a logged model was built in, as MLflow writes it beside the model (MLmodel);
# a run whose model has none may state its lock's SHA-256 in this tag.
ENVIRONMENT_FILES = ("requirements.txt", "conda.yaml", "python_env.yaml")
ENVIRONMENT_LOCK_TAG = "ledger.environment_lock_sha256"
SHA256_HEX = frozenset("0123456789abcdef")
# MLflow's dataset contexts → the ledger's roles. `eval` is what mlflow.evaluate() logs: the data
# a version's reported metrics were measured on, which the ledger calls test data.
ROLE_BY_CONTEXT = {
    "train": "training",
    "training": "training",
    "validation": "validation",
    "valid": "validation",
    "val": "validation",
    "test": "test",
    "testing": "test",
    "eval": "test",
    "evaluation": "test",
}
MAX_DECIMAL_LENGTH = 40  # governance.validation.Errors.decimal


class MlflowUnavailable(GovernanceError):
    """The MLflow client is not installed, or the tracking server could not be read."""

    code = "mlflow_unavailable"


@dataclass(frozen=True)
class Mlflow:
    """The MLflow client for one tracking URI, with what the import uses of the library."""

    client: Any
    error: type[Exception]
    download: Callable[..., str]
    tracking_uri: str


class Unreadable(Exception):
    """A version cannot be imported; the message says why."""


def connect(tracking_uri: str) -> Mlflow:
    """Import the MLflow client on first use (so the service runs without it) and connect."""
    # The ledger sends nothing to third parties: MLflow's client telemetry stays off unless an
    # operator turns it on, and download progress bars stay out of worker logs.
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    try:
        from mlflow import MlflowClient
        from mlflow.artifacts import download_artifacts
        from mlflow.exceptions import MlflowException
    except ImportError as exc:
        raise MlflowUnavailable(INSTALL_HINT) from exc
    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    return Mlflow(client=client, error=MlflowException, download=download_artifacts, tracking_uri=tracking_uri)


# --- Versions and runs ---------------------------------------------------------------------------
@dataclass
class DatasetFacts:
    """One dataset input: its role and the fields of `dataset_register`."""

    role: str
    fields: dict[str, Any]


@dataclass
class VersionFacts:
    """One version: its datasets and the fields of `version_register` (but the name)."""

    datasets: list[DatasetFacts]
    fields: dict[str, Any]


def version_name(mlflow_version: Any) -> str:
    """Return the ledger version: the `version` or `semver` tag, else MLflow's number."""
    tags = mlflow_version.tags or {}
    for tag in VERSION_TAGS:
        value = (tags.get(tag) or "").strip()
        if value:
            if not VERSION_RE.match(value):
                raise Unreadable(
                    f"Its {tag} tag {value!r} is not a ledger version name (letters, digits and . + _ -, at most 64)."
                )
            return value
    return str(mlflow_version.version)


def gather(ml: Mlflow, mlflow_version: Any, *, subject: str, note: Callable[[str, str], None]) -> VersionFacts:
    """Read the version's run, datasets and artifact from MLflow.

    Call `note(subject, reason)` for each part left out (a dataset, a metric); raise Unreadable
    when the version cannot be imported at all, or MLflow's error when MLflow fails.
    """
    if not mlflow_version.run_id:
        raise Unreadable("It names no MLflow run, so there is no training data to record.")
    run = ml.client.get_run(mlflow_version.run_id)
    inputs = list(getattr(run.inputs, "dataset_inputs", None) or [])
    if not inputs:
        raise Unreadable("Its run logged no dataset inputs; the ledger needs at least the training data.")
    datasets = []
    for dataset_input in inputs:
        facts = dataset_facts(dataset_input)
        if isinstance(facts, str):
            note(f"{subject} dataset {dataset_input.dataset.name!r}", facts)
        else:
            datasets.append(facts)
    metrics = []
    for metric_name, value in sorted(run.data.metrics.items()):
        text = decimal_string(value)
        if text is None:
            note(f"{subject} metric {metric_name!r}", f"{value!r} is not a finite decimal of at most 40 digits.")
        elif len(metric_name) > 100:
            note(f"{subject} metric {metric_name[:40]!r}…", "Metric names are at most 100 characters.")
        else:
            metrics.append({"name": metric_name, "value": text})
    tags = run.data.tags
    repository = tags.get(GIT_REPOSITORY_TAG, "")
    if len(repository) > 500:
        note(f"{subject} repository", "The repository URL is longer than 500 characters.")
        repository = ""
    if repository and not WEB_URL_RE.fullmatch(repository):
        note(f"{subject} repository", "The repository is not an http(s) URL, the only kind the ledger links.")
        repository = ""
    artifact_uri = storage_location(mlflow_version.source or "")
    if not artifact_uri:
        raise Unreadable(f"Its source {mlflow_version.source!r} is not a location the ledger records.")
    description = origin(mlflow_version)
    if mlflow_version.description:
        description += f"\n\n{mlflow_version.description}"
    artifact, lock = artifact_hashes(ml, mlflow_version)
    if not lock:
        lock = tags.get(ENVIRONMENT_LOCK_TAG, "").strip()
        if lock and not (len(lock) == 64 and set(lock) <= SHA256_HEX):
            note(f"{subject} environment lock", f"Its {ENVIRONMENT_LOCK_TAG} tag is not a SHA-256 (64 lowercase hex).")
            lock = ""
    return VersionFacts(
        datasets=datasets,
        fields={
            "artifact_sha256": artifact,
            "environment_lock_sha256": lock,
            "artifact_uri": artifact_uri,
            "code_repository": repository,
            "code_commit": tags.get(GIT_COMMIT_TAG, ""),
            "pipeline_run_id": run.info.run_id,
            "pipeline_run_url": run_url(ml.tracking_uri, run),
            "hyperparameters": dict(run.data.params),
            "metrics": metrics,
            "description": description,
        },
    )


def origin(mlflow_version: Any) -> str:
    """The first line of an imported version's description: which MLflow version it was."""
    return f"Imported from MLflow: registered model {mlflow_version.name!r}, version {mlflow_version.version}."


def decimal_string(value: Any) -> str | None:
    """Return a metric as a decimal string ("0.0000001", never "1e-07"), or None when it has none.

    repr() is the shortest text that reads back as the same float, so no digits are invented.
    """
    try:
        number = Decimal(repr(float(value)))
    except (InvalidOperation, TypeError, ValueError):
        return None
    if not number.is_finite():
        return None
    text = format(number.normalize(), "f")
    text = "0" if text == "-0" else text
    return text if DECIMAL_RE.match(text) and len(text) <= MAX_DECIMAL_LENGTH else None


def run_url(tracking_uri: str, run: Any) -> str:
    parts = urlsplit(tracking_uri)
    if parts.scheme not in ("http", "https"):
        return ""
    base = redacted(tracking_uri).rstrip("/")
    return f"{base}/#/experiments/{run.info.experiment_id}/runs/{run.info.run_id}"


def redacted(uri: str) -> str:
    """Return `uri` without user name and password, fit for the ledger and for messages."""
    parts = urlsplit(uri)
    if "@" not in parts.netloc:
        return uri
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


# --- Datasets and hashing ------------------------------------------------------------------------
def dataset_facts(dataset_input: Any) -> DatasetFacts | str:
    """Return what to register for one dataset input, or why it is left out.

    A readable local file or folder is hashed by content, with the project's one dataset
    fingerprint (model_ledger_verify/fingerprint.py, as `ledgerctl hash-dataset` does), so the same data has
    the same identity whichever way it was registered. Anything else (s3://, http://, a table)
    cannot be read here: the ledger still needs a SHA-256, so it gets a reference hash, the
    SHA-256 of the RFC 8785 JSON of {name, source, mlflow_digest} as MLflow recorded them, and
    its provenance says so. MLflow's own digest is kept in the provenance for what it is: a short,
    partial fingerprint of the data, not a content hash.
    """
    dataset = dataset_input.dataset
    tags = {tag.key: tag.value for tag in (dataset_input.tags or [])}
    context = (tags.get(CONTEXT_TAG) or "").strip().lower()
    role = ROLE_BY_CONTEXT.get(context) if context else "training"
    if role is None:
        return f"Its context {context!r} is not training, validation or test data."
    digest = dataset.digest or ""
    # A source that names no storage location (a table, a query) is recorded by the dataset's name.
    uri = storage_location(source_uri(dataset.source or "")) or f"mlflow-dataset:/{quote(dataset.name, safe='')}"
    about_digest = f"MLflow digest {digest!r}: MLflow's short, partial fingerprint of the data, not a content hash."
    first = f"Imported from MLflow dataset input {dataset.name!r} (source type {dataset.source_type or 'unknown'})."
    content = content_hash(uri)
    if isinstance(content, tuple):
        sha256, size = content
        kind = "content"
        provenance = (
            f"{first} SHA-256 of its content, read at import: the root of the ledger's dataset manifest "
            f"(ledger-dataset-manifest/1, as `ledgerctl hash-dataset` computes it). {about_digest}"
        )
    else:
        sha256 = sha256_of({"name": dataset.name, "source": dataset.source or "", "mlflow_digest": digest})
        size = 0
        kind = "reference"
        provenance = (
            f"{first} Reference hash, not a content hash: content not readable at import ({content}). "
            "The SHA-256 is of the RFC 8785 JSON of {name, source, mlflow_digest} as MLflow recorded them; "
            f"the size is unknown (recorded as 0). {about_digest}"
        )
    return DatasetFacts(
        role=role,
        fields={
            "name": dataset.name,
            "uri": uri,
            "sha256": sha256,
            "size_bytes": size,
            "row_count": row_count(dataset.profile),
            # The schema exactly as MLflow recorded it (its JSON text).
            "schema_sha256": hashlib.sha256(dataset.schema.encode()).hexdigest() if dataset.schema else "",
            "provenance": provenance,
            "hash_kind": kind,
        },
    )


def source_uri(source: str) -> str:
    """Return the location inside MLflow's dataset source JSON ({"uri": …}, {"url": …}, …)."""
    try:
        parsed = json.loads(source)
    except (TypeError, ValueError):
        return source
    if isinstance(parsed, dict):
        for key in ("uri", "url", "path"):
            if isinstance(parsed.get(key), str) and parsed[key]:
                return parsed[key]
    return source


def storage_location(location: str) -> str:
    """Return `location` as a storage URI the ledger accepts (a local path as file:), or ""."""
    if STORAGE_URI_RE.fullmatch(location):
        return location
    if location.startswith("/") and not location.startswith("//"):
        return Path(location).as_uri()
    return ""


def content_hash(uri: str) -> tuple[str, int] | str:
    """Return (fingerprint root, size in bytes) of the local data `uri` names, or why not."""
    path = readable_path(uri)
    if path is None:
        return "not a local file or folder this service can read"
    try:
        content = fingerprint(path)
    except FingerprintError as exc:
        # Its message lists every problem; a few are enough to say why.
        reason = " ".join(str(exc).split())
        return reason if len(reason) <= 300 else f"{reason[:299]}…"
    return content.root, content.total_bytes


def readable_path(uri: str) -> Path | None:
    """Return the local file or folder `uri` names, when this process can read it."""
    parts = urlsplit(uri)
    if parts.scheme == "file" and parts.netloc in ("", "localhost"):
        path = Path(url2pathname(unquote(parts.path)))
    elif not parts.scheme and uri.startswith("/"):
        path = Path(uri)
    else:
        return None
    try:
        return path if (path.is_file() or path.is_dir()) and os.access(path, os.R_OK) else None
    except OSError:
        return None


def artifact_hashes(ml: Mlflow, mlflow_version: Any) -> tuple[str, str]:
    """Download the version's artifacts to a temporary folder; return (artifact, environment lock).

    The artifact is their fingerprint. The environment lock is the fingerprint of the logged
    model's environment files (ENVIRONMENT_FILES beside its MLmodel), as if they alone were in a
    folder, or "" when it has none. Raise Unreadable when the artifacts cannot be fingerprinted
    faithfully (e.g. an empty folder).
    """
    # The registry's download location, not the version's source: a "models:/…" source would be
    # resolved against MLflow's process-wide tracking URI, which may name another server.
    location = ml.client.get_model_version_download_uri(mlflow_version.name, str(mlflow_version.version))
    with tempfile.TemporaryDirectory(prefix="mlflow-import-") as folder:
        local = ml.download(
            artifact_uri=location, dst_path=folder, tracking_uri=ml.tracking_uri, registry_uri=ml.tracking_uri
        )
        try:
            content = fingerprint(local)
        except FingerprintError as exc:
            raise Unreadable(f"Its artifacts cannot be hashed: {exc}") from None
        return content.root, environment_lock(content)


def environment_lock(content: Any) -> str:
    """Return the fingerprint of the environment files beside the shallowest MLmodel, or ""."""
    models = sorted((f.path.count("/"), f.path) for f in content.files if f.path.rpartition("/")[2] == "MLmodel")
    folder = models[0][1].rpartition("/")[0] if models else ""
    prefix = f"{folder}/" if folder else ""
    files = [
        FileEntry(path=f.path[len(prefix) :], size=f.size, sha256=f.sha256)
        for f in content.files
        if f.path.startswith(prefix) and f.path[len(prefix) :] in ENVIRONMENT_FILES
    ]
    return manifest_root(sorted(files, key=lambda f: f.path.encode())) if files else ""


def row_count(profile: str | None) -> int | None:
    try:
        rows = json.loads(profile or "{}").get("num_rows")
    except (AttributeError, TypeError, ValueError):
        return None
    return rows if isinstance(rows, int) and not isinstance(rows, bool) and rows >= 0 else None
