"""The MLflow import, against a real MLflow store: a SQLite tracking store and model registry with
artifacts in a temporary folder, written with the mlflow library. Nothing of MLflow is mocked.

alice owns credit-risk; the pipeline (granted `register` on it) is the import user; olga and
oscar are the compliance officers who approve.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import json
import math
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from governance.demo import FULL_CARD
from governance.mlflow_import.service import mlflow_import
from governance.mlflow_import.tasks import mlflow_import_task
from governance.models import Dataset, Deployment, ModelVersion, RegisteredModel
from governance.records import sha256_of
from governance.selectors import gates as gate_selectors
from governance.services import deployments, registry
from ledger.models import Entry, Submission
from tests.governance import readiness
from tests.governance.conftest import PASSWORD, make_user, register_version

# As the service does: MLflow's client sends no telemetry from here.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
pytest.importorskip("mlflow", reason="the MLflow client (mlflow-skinny) is not installed")
from mlflow import MlflowClient
from mlflow.entities import Dataset as MlflowDataset
from mlflow.entities import DatasetInput, InputTag, Metric, Param

COMMIT = "3f5a0c2d9b8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a"
REPOSITORY = "https://git.example/credit-risk.git"


def fingerprint_root(path: Path) -> str:
    """The dataset fingerprint as README documents it: SHA-256 of "ledger-dataset-manifest/1" and
    one "<sha256>\\t<size>\\t<path>" line per file, sorted by path (a file is its own list)."""
    files = [(path.name, path)] if path.is_file() else [(f.relative_to(path).as_posix(), f) for f in path.rglob("*")]
    lines = ["ledger-dataset-manifest/1"] + [
        f"{hashlib.sha256(file.read_bytes()).hexdigest()}\t{file.stat().st_size}\t{name}"
        for name, file in sorted(files, key=lambda item: item[0].encode())
        if file.is_file()
    ]
    return hashlib.sha256(("\n".join(lines) + "\n").encode()).hexdigest()


def ledger_size() -> int:
    """Events written so far: queued (tests hold the transaction open) or in the log."""
    return Submission.objects.count() + Entry.objects.count()


@functools.cache
def empty_mlflow_database() -> Path:
    """An empty MLflow database, made once per test process: creating MLflow's schema takes
    seconds, copying the file none."""
    folder = Path(tempfile.mkdtemp(prefix="mlflow-template-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    client.search_experiments()
    client.search_registered_models()
    return folder / "mlflow.db"


class Tracking:
    """An MLflow tracking server's store and model registry, in a folder of the test's own."""

    def __init__(self, folder: Path) -> None:
        shutil.copyfile(empty_mlflow_database(), folder / "mlflow.db")
        self.folder = folder
        self.uri = f"sqlite:///{folder / 'mlflow.db'}"
        self.client = MlflowClient(tracking_uri=self.uri, registry_uri=self.uri)
        self.experiment = self.client.create_experiment("credit", artifact_location=(folder / "artifacts").as_uri())

    def file(self, name: str, content: bytes) -> Path:
        path = self.folder / "data" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        return path

    def dataset(
        self, name: str, source: str, *, context: str | None = "train", digest: str = "f00dbabe"
    ) -> DatasetInput:
        """A dataset input as mlflow.log_input records it: source JSON, MLflow's digest, a context tag."""
        key = "url" if source.startswith("http") else "uri"
        source_type = "local" if source.startswith("/") else source.split(":", 1)[0]
        dataset = MlflowDataset(name=name, digest=digest, source_type=source_type, source=json.dumps({key: source}))
        tags = [InputTag("mlflow.data.context", context)] if context else []
        return DatasetInput(dataset, tags=tags)

    def standard_datasets(self) -> list[DatasetInput]:
        """Training data in a local file, validation data in a local folder, test data on S3."""
        train = self.file("train.csv", b"income,score\n52000,0.81\n48000,0.40\n")
        self.file("validation/part-0.csv", b"income,score\n61000,0.77\n")
        self.file("validation/part-1.csv", b"income,score\n39000,0.12\n")
        return [
            self.dataset("applications-train", str(train), context="train"),
            self.dataset(
                "applications-validation", (self.folder / "data" / "validation").as_uri(), context="validation"
            ),
            self.dataset("applications-test", "s3://lake/credit/test.parquet", context="test", digest="9c1e4d2a"),
        ]

    def train(
        self,
        *,
        datasets: list[DatasetInput] | None = None,
        params: dict[str, object] | None = None,
        metrics: dict[str, float] | None = None,
        weights: bytes = b"weights-v1",
        environment: dict[str, bytes] | None = None,
        tags: dict[str, str] | None = None,
    ):
        """Log a finished run with params, metrics, git tags, dataset inputs and a model folder."""
        run = self.client.create_run(
            self.experiment,
            tags={"mlflow.source.git.commit": COMMIT, "mlflow.source.git.repoURL": REPOSITORY, **(tags or {})},
        )
        run_id = run.info.run_id
        params = {"learning_rate": "0.05", "max_depth": 6} if params is None else params
        metrics = {"auc": 0.87, "log_loss": 1e-7} if metrics is None else metrics
        self.client.log_batch(
            run_id,
            metrics=[Metric(key, value, 1_700_000_000_000, 0) for key, value in metrics.items()],
            params=[Param(key, str(value)) for key, value in params.items()],
        )
        self.client.log_inputs(run_id, datasets=self.standard_datasets() if datasets is None else datasets)
        model = self.folder / "models" / run_id
        (model / "weights").mkdir(parents=True)
        (model / "MLmodel").write_text(f"artifact_path: model\nrun_id: {run_id}\n")
        (model / "weights" / "model.bin").write_bytes(weights)
        for name, content in (environment or {}).items():
            (model / name).write_bytes(content)
        self.client.log_artifacts(run_id, str(model), artifact_path="model")
        self.client.set_terminated(run_id)
        return self.client.get_run(run_id)

    def model_folder(self, run) -> Path:
        return self.folder / "models" / run.info.run_id

    def register(self, name: str, run, **tags: str):
        """Register the run's model folder as a new version of `name`."""
        if not self.client.search_registered_models(filter_string=f"name='{name}'"):
            self.client.create_registered_model(name)
        return self.client.create_model_version(
            name, source=f"{run.info.artifact_uri}/model", run_id=run.info.run_id, tags=tags
        )

    def alias(self, name: str, alias: str, version) -> None:
        self.client.set_registered_model_alias(name, alias, str(version))


@pytest.fixture
def tracking(tmp_path) -> Tracking:
    return Tracking(tmp_path)


def run_import(actor, tracking: Tracking, **kwargs):
    return mlflow_import(actor=actor, tracking_uri=tracking.uri, **kwargs)


def approved(version, pipeline, olga, oscar) -> ModelVersion:
    """Give the imported version a complete card and the two approvals a high-risk model needs."""
    registry.card_revise(actor=pipeline, version=version, content=FULL_CARD)
    readiness.approve(version, olga, oscar, password=PASSWORD)
    version.refresh_from_db()
    assert version.status == ModelVersion.Status.APPROVED
    return version


def reasons(report) -> str:
    return "\n".join(str(skipped) for skipped in report.skipped)


# --- Versions ------------------------------------------------------------------------------------
def test_it_records_a_registered_version_with_its_run_and_the_hash_of_its_artifact(pipeline, model, tracking):
    run = tracking.train()
    tracking.register("Credit_Risk", run)

    report = run_import(pipeline, tracking)

    assert report.versions_imported == ["credit-risk 1"], reasons(report)
    version = ModelVersion.objects.get(model=model, version="1")
    assert version.artifact_sha256 == fingerprint_root(tracking.model_folder(run))
    assert version.artifact_uri == f"{run.info.artifact_uri}/model"
    assert version.hyperparameters == {"learning_rate": "0.05", "max_depth": "6"}
    assert version.metrics == [{"name": "auc", "value": "0.87"}, {"name": "log_loss", "value": "0.0000001"}]
    assert (version.code_commit, version.code_repository) == (COMMIT, REPOSITORY)
    assert version.pipeline_run_id == run.info.run_id
    assert version.pipeline_run_url == ""  # only an http(s) server has a page to link to
    assert version.registered_by == pipeline
    assert version.description.startswith("Imported from MLflow: registered model 'Credit_Risk', version 1.")
    roles = sorted((link.role, link.dataset.name) for link in version.dataset_links.select_related("dataset"))
    assert roles == [
        ("test", "applications-test"),
        ("training", "applications-train"),
        ("validation", "applications-validation"),
    ]


def test_the_version_event_carries_decimal_strings_and_the_hashes(pipeline, model, tracking):
    tracking.register("Credit_Risk", tracking.train())

    run_import(pipeline, tracking)

    version = ModelVersion.objects.get(model=model, version="1")
    leaf = readiness.leaf(version.ledger_key)
    assert leaf["type"] == "version.registered"
    assert leaf["data"]["metrics"] == [{"name": "auc", "value": "0.87"}, {"name": "log_loss", "value": "0.0000001"}]
    assert leaf["data"]["artifact_sha256"] == version.artifact_sha256
    assert {d["role"] for d in leaf["data"]["datasets"]} == {"training", "validation", "test"}


def test_a_readable_dataset_is_hashed_by_content_and_mlflow_digest_is_kept_as_a_partial_fingerprint(
    pipeline, model, tracking
):
    tracking.register("Credit_Risk", tracking.train())

    run_import(pipeline, tracking)

    path = tracking.folder / "data" / "train.csv"
    train = Dataset.objects.get(name="applications-train")
    assert train.sha256 == fingerprint_root(path)
    assert train.size_bytes == path.stat().st_size
    assert "SHA-256 of its content" in train.provenance
    assert "MLflow digest 'f00dbabe'" in train.provenance
    assert "short, partial fingerprint" in train.provenance
    assert "Reference hash" not in train.provenance


def test_a_readable_dataset_folder_is_hashed_by_its_sorted_manifest(pipeline, model, tracking):
    tracking.register("Credit_Risk", tracking.train())

    run_import(pipeline, tracking)

    validation = Dataset.objects.get(name="applications-validation")
    assert validation.sha256 == fingerprint_root(tracking.folder / "data" / "validation")
    assert validation.size_bytes == 2 * len(b"income,score\n61000,0.77\n")
    assert "manifest" in validation.provenance


def test_an_unreadable_dataset_gets_a_reference_hash_that_says_it_is_one(pipeline, model, tracking):
    tracking.register("Credit_Risk", tracking.train())

    run_import(pipeline, tracking)

    test = Dataset.objects.get(name="applications-test")
    source = json.dumps({"uri": "s3://lake/credit/test.parquet"})
    assert test.sha256 == sha256_of({"name": "applications-test", "source": source, "mlflow_digest": "9c1e4d2a"})
    assert test.uri == "s3://lake/credit/test.parquet"
    assert test.size_bytes == 0
    assert "Reference hash, not a content hash: content not readable at import" in test.provenance
    assert "MLflow digest '9c1e4d2a'" in test.provenance
    assert test.hash_kind == "reference"
    assert Dataset.objects.get(name="applications-train").hash_kind == "content"


ENVIRONMENT = {
    "requirements.txt": b"scikit-learn==1.7.2\nnumpy==2.3.4\n",
    "conda.yaml": b"name: mlflow-env\ndependencies:\n- python=3.12.7\n",
    "python_env.yaml": b"python: 3.12.7\n",
}


def test_the_environment_lock_is_the_fingerprint_of_the_logged_models_environment_files(pipeline, model, tracking):
    tracking.register("Credit_Risk", tracking.train(environment=ENVIRONMENT))

    run_import(pipeline, tracking)

    only_environment = tracking.folder / "environment"
    only_environment.mkdir()
    for name, content in ENVIRONMENT.items():
        (only_environment / name).write_bytes(content)
    version = ModelVersion.objects.get(model=model, version="1")
    assert version.environment_lock_sha256 == fingerprint_root(only_environment)
    [gate] = [g for g in gate_selectors.gates_evaluate(version=version).gates if g["gate"] == "reproducible_pipeline"]
    assert gate["passed"], gate["reason"]


def test_a_run_tag_states_the_lock_of_a_model_logged_without_environment_files(pipeline, model, tracking):
    lock = hashlib.sha256(b"uv.lock").hexdigest()
    tracking.register("Credit_Risk", tracking.train(tags={"ledger.environment_lock_sha256": lock}))
    tracking.register("Credit_Risk", tracking.train(weights=b"v2", tags={"ledger.environment_lock_sha256": "latest"}))

    report = run_import(pipeline, tracking)

    assert ModelVersion.objects.get(model=model, version="1").environment_lock_sha256 == lock
    assert ModelVersion.objects.get(model=model, version="2").environment_lock_sha256 == ""
    assert "ledger.environment_lock_sha256 tag is not a SHA-256" in reasons(report)


def test_reference_only_data_does_not_satisfy_the_versioned_data_gate_of_a_high_risk_model(pipeline, model, tracking):
    tracking.register("Credit_Risk", tracking.train(environment=ENVIRONMENT))

    run_import(pipeline, tracking)

    version = ModelVersion.objects.get(model=model, version="1")
    [gate] = [g for g in gate_selectors.gates_evaluate(version=version).gates if g["gate"] == "versioned_data"]
    assert not gate["passed"]
    assert gate["reason"] == (
        "No test dataset with a content hash is linked (applications-test: reference hash only, content never read)."
    )
    model.risk_tier = "medium"
    model.save(update_fields=["risk_tier"])
    [gate] = [g for g in gate_selectors.gates_evaluate(version=version).gates if g["gate"] == "versioned_data"]
    assert gate["passed"]


def test_a_dataset_folder_that_cannot_be_hashed_faithfully_gets_a_reference_hash_and_the_reason(
    pipeline, model, tracking
):
    folder = tracking.folder / "data" / "linked"
    folder.mkdir(parents=True)
    (folder / "part-0.csv").write_bytes(b"a\n1\n")
    (folder / "part-1.csv").symlink_to(folder / "part-0.csv")
    tracking.register("Credit_Risk", tracking.train(datasets=[tracking.dataset("linked", str(folder))]))

    run_import(pipeline, tracking)

    linked = Dataset.objects.get(name="linked")
    assert linked.size_bytes == 0
    assert "Reference hash, not a content hash: content not readable at import" in linked.provenance
    assert "symbolic link" in linked.provenance


def test_an_untagged_dataset_is_training_data_and_an_eval_dataset_is_test_data(pipeline, model, tracking):
    train = tracking.file("plain.csv", b"a\n1\n")
    held_out = tracking.file("held-out.csv", b"a\n2\n")
    run = tracking.train(
        datasets=[
            tracking.dataset("plain", str(train), context=None),
            tracking.dataset("held-out", str(held_out), context="eval"),
        ]
    )
    tracking.register("Credit_Risk", run)

    run_import(pipeline, tracking)

    links = ModelVersion.objects.get(model=model, version="1").dataset_links.select_related("dataset")
    assert sorted((link.dataset.name, link.role) for link in links) == [("held-out", "test"), ("plain", "training")]


def test_a_second_run_imports_nothing_new(pipeline, model, tracking):
    tracking.register("Credit_Risk", tracking.train())
    first = run_import(pipeline, tracking)
    assert first.imported == 4  # the version and its three datasets
    written = ledger_size()

    second = run_import(pipeline, tracking)

    assert second.imported == 0
    assert second.unchanged == ["credit-risk 1"]
    assert second.skipped == []
    assert ledger_size() == written


def test_the_next_run_imports_only_the_new_versions(pipeline, model, tracking):
    tracking.register("Credit_Risk", tracking.train())
    run_import(pipeline, tracking)

    tracking.register("Credit_Risk", tracking.train(weights=b"weights-v2"))
    report = run_import(pipeline, tracking)

    assert report.versions_imported == ["credit-risk 2"]
    assert report.datasets_registered == []  # same data: the datasets are already registered
    assert report.unchanged == ["credit-risk 1"]


def test_a_version_or_semver_tag_names_the_ledger_version(pipeline, model, tracking):
    tracking.register("Credit_Risk", tracking.train(), semver="2.1.0")
    tracking.register("Credit_Risk", tracking.train(weights=b"v2"), version="2.2.0", semver="9.9.9")

    report = run_import(pipeline, tracking)

    assert report.versions_imported == ["credit-risk 2.1.0", "credit-risk 2.2.0"]


def test_a_version_renamed_in_mlflow_after_its_import_is_not_imported_again(pipeline, model, tracking):
    tracking.register("Credit_Risk", tracking.train())
    run_import(pipeline, tracking)

    tracking.client.set_model_version_tag("Credit_Risk", "1", "version", "1.0.0")
    report = run_import(pipeline, tracking)

    assert report.imported == 0
    assert report.unchanged == ["credit-risk 1"]


def test_a_version_tag_the_ledger_cannot_use_is_reported_and_nothing_is_written(pipeline, model, tracking):
    tracking.register("Credit_Risk", tracking.train(), version="1.0 beta")
    written = ledger_size()

    report = run_import(pipeline, tracking)

    assert report.imported == 0
    assert "'1.0 beta' is not a ledger version name" in reasons(report)
    assert ledger_size() == written


def test_a_same_named_version_registered_another_way_is_not_taken_for_the_mlflow_one(
    pipeline, model, datasets, tracking
):
    register_version(pipeline, model, datasets, number="1")
    tracking.register("Credit_Risk", tracking.train())

    report = run_import(pipeline, tracking)

    assert report.versions_imported == []
    assert "already has credit-risk 1, not imported from this MLflow version" in reasons(report)


def test_a_metric_that_is_not_a_finite_number_is_left_out_and_reported(pipeline, model, tracking):
    tracking.register("Credit_Risk", tracking.train(metrics={"auc": 0.9, "calibration": math.nan}))

    report = run_import(pipeline, tracking)

    assert ModelVersion.objects.get(model=model, version="1").metrics == [{"name": "auc", "value": "0.9"}]
    assert "metric 'calibration'" in reasons(report)


def test_a_failing_version_is_skipped_and_the_others_are_still_recorded(pipeline, model, tracking):
    tracking.register("Credit_Risk", tracking.train(datasets=[]))
    tracking.register("Credit_Risk", tracking.train(weights=b"v2"))

    report = run_import(pipeline, tracking)

    assert report.versions_imported == ["credit-risk 2"]
    assert "logged no dataset inputs" in reasons(report)
    assert not ModelVersion.objects.filter(model=model, version="1").exists()


def test_a_version_whose_data_has_no_training_role_is_refused_by_the_ledger_and_leaves_nothing_behind(
    pipeline, model, tracking
):
    only_test = tracking.file("only-test.csv", b"a\n1\n")
    tracking.register("Credit_Risk", tracking.train(datasets=[tracking.dataset("t", str(only_test), context="test")]))

    report = run_import(pipeline, tracking)

    assert report.imported == 0
    assert "must have the role training" in reasons(report)
    assert not Dataset.objects.filter(name="t").exists()  # the dataset went with the version's transaction


def test_a_version_logged_as_an_mlflow_3_logged_model_is_hashed_from_its_artifacts(
    pipeline, model, tracking, monkeypatch
):
    run = tracking.train()
    folder = tracking.folder / "logged-model"
    folder.mkdir()
    (folder / "model.bin").write_bytes(b"logged-model-weights")
    logged = tracking.client.create_logged_model(
        experiment_id=tracking.experiment, name="model", source_run_id=run.info.run_id
    )
    tracking.client.log_model_artifacts(logged.model_id, str(folder))
    tracking.client.finalize_logged_model(logged.model_id, "READY")
    tracking.client.create_registered_model("Credit_Risk")
    # MLflow's registry resolves a "models:/" source through its process-wide tracking URI (an
    # MLflow server has only one); only registering needs it, the import does not.
    with monkeypatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", tracking.uri)
        tracking.client.create_model_version(
            "Credit_Risk", source=f"models:/{logged.model_id}", run_id=run.info.run_id, model_id=logged.model_id
        )

    report = run_import(pipeline, tracking)

    assert report.versions_imported == ["credit-risk 1"], reasons(report)
    version = ModelVersion.objects.get(model=model, version="1")
    assert version.artifact_uri == f"models:/{logged.model_id}"
    assert version.artifact_sha256 == fingerprint_root(folder)


# --- Models --------------------------------------------------------------------------------------
def test_a_pipeline_does_not_create_a_model_missing_from_the_ledger(pipeline, model, tracking):
    tracking.register("fraud-score", tracking.train())

    report = run_import(pipeline, tracking)

    assert report.imported == 0
    assert "no model 'fraud-score', and pipeline may not register models" in reasons(report)
    assert not RegisteredModel.objects.filter(slug="fraud-score").exists()


def test_a_model_owner_import_registers_the_missing_model_for_the_configured_owner(alice, tracking, settings):
    settings.MLFLOW_IMPORT_OWNER = "alice"
    tracking.client.create_registered_model(
        "Fraud Score", tags={"risk_tier": "medium", "intended_purpose": "Flag card fraud."}
    )
    tracking.register("Fraud Score", tracking.train())

    report = run_import(alice, tracking)

    assert report.models_created == ["fraud-score"]
    assert report.versions_imported == ["fraud-score 1"], reasons(report)
    created = RegisteredModel.objects.get(slug="fraud-score")
    assert (created.owner, created.risk_tier, created.regulated_use) == (alice, "medium", "other")
    assert created.intended_purpose == "Flag card fraud."
    assert readiness.leaf(created.ledger_key)["type"] == "model.registered"


def test_a_missing_model_is_registered_as_high_risk_unless_its_tags_say_otherwise(alice, tracking, settings):
    settings.MLFLOW_IMPORT_OWNER = "alice"
    tracking.register("Churn", tracking.train())

    run_import(alice, tracking)

    assert RegisteredModel.objects.get(slug="churn").risk_tier == "high"


def test_without_an_owner_to_name_a_missing_model_is_skipped(alice, tracking, settings):
    settings.MLFLOW_IMPORT_OWNER = ""
    tracking.register("Churn", tracking.train())

    report = run_import(alice, tracking)

    assert report.imported == 0
    assert "MLFLOW_IMPORT_OWNER names no active owner" in reasons(report)


def test_a_pipeline_not_granted_the_model_imports_nothing_of_it(model, tracking):
    stranger = make_user("stranger", "pipeline")
    tracking.register("Credit_Risk", tracking.train())

    report = run_import(stranger, tracking)

    assert report.imported == 0
    assert "stranger may not register versions of credit-risk" in reasons(report)


def test_two_mlflow_models_that_would_share_a_ledger_model_are_both_skipped(pipeline, model, tracking):
    tracking.register("Credit_Risk", tracking.train())
    tracking.register("credit-risk", tracking.train(weights=b"other"))

    report = run_import(pipeline, tracking)

    assert report.imported == 0
    assert "would share the ledger model 'credit-risk'" in reasons(report)


def test_one_model_can_be_imported_alone(pipeline, model, tracking):
    tracking.register("Credit_Risk", tracking.train())
    tracking.register("Other", tracking.train(weights=b"other"))

    report = run_import(pipeline, tracking, model_name="Credit_Risk")

    assert report.versions_imported == ["credit-risk 1"]
    assert report.skipped == []


# --- Aliases -------------------------------------------------------------------------------------
def test_an_alias_does_not_deploy_a_version_nobody_approved(pipeline, model, tracking):
    tracking.register("Credit_Risk", tracking.train())
    tracking.alias("Credit_Risk", "challenger", 1)

    report = run_import(pipeline, tracking)

    assert report.deployments_started == []
    assert "credit-risk alias challenger → staging: credit-risk 1 is registered" in reasons(report)
    assert not Deployment.objects.exists()


def test_an_alias_on_an_approved_version_is_recorded_as_a_deployment_once(pipeline, model, olga, oscar, tracking):
    tracking.register("Credit_Risk", tracking.train())
    run_import(pipeline, tracking)
    approved(ModelVersion.objects.get(model=model, version="1"), pipeline, olga, oscar)
    tracking.alias("Credit_Risk", "challenger", 1)

    report = run_import(pipeline, tracking)

    assert report.deployments_started == ["credit-risk 1 → staging"], reasons(report)
    deployment = Deployment.objects.get(model=model, environment="staging", ended_at__isnull=True)
    assert deployment.version.version == "1"
    assert deployment.deployed_by == pipeline
    event = readiness.leaf(deployment.ledger_key)
    assert event["type"] == "deployment.started"
    assert event["data"]["reason"] == "MLflow alias challenger set on version 1"
    assert len(event["data"]["approvals"]) == 2
    written = ledger_size()

    again = run_import(pipeline, tracking)

    assert again.imported == 0
    assert ledger_size() == written


def test_a_production_alias_must_still_clear_the_production_gates(pipeline, model, olga, oscar, tracking):
    tracking.register("Credit_Risk", tracking.train())
    run_import(pipeline, tracking)
    approved(ModelVersion.objects.get(model=model, version="1"), pipeline, olga, oscar)
    tracking.alias("Credit_Risk", "champion", 1)

    report = run_import(pipeline, tracking)

    assert report.deployments_started == []
    assert "credit-risk alias champion → production: Deployment blocked by failing gates" in reasons(report)
    assert not Deployment.objects.filter(environment="production").exists()


def test_moving_an_alias_deploys_the_version_it_now_points_at(pipeline, model, olga, oscar, tracking):
    tracking.register("Credit_Risk", tracking.train())
    tracking.register("Credit_Risk", tracking.train(weights=b"v2"))
    run_import(pipeline, tracking)
    for number in ("1", "2"):
        approved(ModelVersion.objects.get(model=model, version=number), pipeline, olga, oscar)
    tracking.alias("Credit_Risk", "staging", 1)
    run_import(pipeline, tracking)

    tracking.alias("Credit_Risk", "staging", 2)
    report = run_import(pipeline, tracking)

    assert report.deployments_started == ["credit-risk 2 → staging"]
    serving = Deployment.objects.get(model=model, environment="staging", ended_at__isnull=True)
    assert serving.version.version == "2"
    assert Deployment.objects.get(model=model, version__version="1").ended_at is not None


def test_a_deployment_ended_in_the_ledger_is_not_redone_while_the_alias_stays(pipeline, model, olga, oscar, tracking):
    tracking.register("Credit_Risk", tracking.train())
    run_import(pipeline, tracking)
    approved(ModelVersion.objects.get(model=model, version="1"), pipeline, olga, oscar)
    tracking.alias("Credit_Risk", "staging", 1)
    run_import(pipeline, tracking)
    deployments.deployment_end(actor=pipeline, deployment=Deployment.objects.get(), reason="latency incident")

    report = run_import(pipeline, tracking)

    assert report.deployments_started == []
    assert Deployment.objects.count() == 1


def test_aliases_that_disagree_about_an_environment_deploy_nothing(pipeline, model, olga, oscar, tracking):
    tracking.register("Credit_Risk", tracking.train())
    tracking.register("Credit_Risk", tracking.train(weights=b"v2"))
    run_import(pipeline, tracking)
    for number in ("1", "2"):
        approved(ModelVersion.objects.get(model=model, version=number), pipeline, olga, oscar)
    tracking.alias("Credit_Risk", "staging", 1)
    tracking.alias("Credit_Risk", "challenger", 2)

    report = run_import(pipeline, tracking)

    assert "point at different versions (1, 2)" in reasons(report)
    assert not Deployment.objects.exists()


def test_an_alias_no_environment_is_mapped_to_is_not_a_deployment(pipeline, model, olga, oscar, tracking):
    tracking.register("Credit_Risk", tracking.train())
    run_import(pipeline, tracking)
    approved(ModelVersion.objects.get(model=model, version="1"), pipeline, olga, oscar)
    tracking.alias("Credit_Risk", "candidate", 1)

    report = run_import(pipeline, tracking)

    assert report.imported == 0
    assert report.skipped == []


# --- The command and the periodic task -----------------------------------------------------------
def test_the_command_imports_and_says_what_it_did(pipeline, model, tracking, capsys):
    tracking.register("Credit_Risk", tracking.train())

    call_command("import_mlflow", "--tracking-uri", tracking.uri, "--model", "Credit_Risk", "--user", "pipeline")

    out = capsys.readouterr().out
    assert "Versions imported: credit-risk 1" in out
    assert "4 new record(s), 0 already in the ledger, 0 skipped." in out


def test_the_command_refuses_to_run_without_an_import_user(tracking, settings, db):
    settings.MLFLOW_IMPORT_USER = ""

    with pytest.raises(CommandError, match="MLFLOW_IMPORT_USER"):
        call_command("import_mlflow", "--tracking-uri", tracking.uri)


def test_the_periodic_task_imports_as_the_configured_user(pipeline, model, tracking, settings):
    settings.MLFLOW_TRACKING_URI = tracking.uri
    settings.MLFLOW_IMPORT_USER = "pipeline"
    tracking.register("Credit_Risk", tracking.train())

    counts = mlflow_import_task()

    assert counts["versions_imported"] == 1
    assert mlflow_import_task()["versions_imported"] == 0


def test_the_periodic_task_does_nothing_without_a_tracking_uri(settings, db):
    settings.MLFLOW_TRACKING_URI = None

    assert mlflow_import_task() == {}


def test_beat_schedules_the_import_only_when_a_tracking_server_is_named(settings):
    from config.celery import _schedule, app

    name = "governance: import new MLflow model versions and aliases"
    settings.MLFLOW_TRACKING_URI = None
    _schedule(app)
    assert name not in app.conf.beat_schedule

    settings.MLFLOW_TRACKING_URI = "http://mlflow.example:5000"
    settings.MLFLOW_IMPORT_INTERVAL = 600
    _schedule(app)
    try:
        entry = app.conf.beat_schedule[name]
        assert entry["task"] == "governance.mlflow_import.tasks.mlflow_import_task"
        assert entry["schedule"] == 600.0
    finally:
        app.conf.beat_schedule.pop(name, None)
