"""Registering datasets by content hash; the first registration of a hash stands."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from governance import access, events
from governance.models import (
    Dataset,
)
from governance.records import dataset_record
from governance.services.concurrency import retried_on_duplicate
from governance.validation import Errors


@retried_on_duplicate
@transaction.atomic
def dataset_register(
    *,
    actor: AbstractBaseUser,
    name: str,
    uri: str,
    sha256: str,
    size_bytes: int,
    row_count: int | None = None,
    schema_sha256: str = "",
    provenance: str = "",
    preparation: str = "",
    hash_kind: str = Dataset.HashKind.CONTENT,
) -> tuple[Dataset, bool]:
    """Register a dataset by content hash; return (dataset, created).

    Registering the same hash again returns the existing dataset (the first registration
    stands) and logs nothing.
    """
    access.require(actor, "register_dataset")
    errors = Errors()
    errors.text(name, "name", limit=200)
    errors.url(uri, "uri", limit=1000, storage=True, required=True)
    errors.sha256(sha256, "sha256")
    errors.sha256(schema_sha256, "schema_sha256", optional=True)
    errors.check(hash_kind in Dataset.HashKind.values, "hash_kind", "content or reference.")
    errors.check(
        isinstance(size_bytes, int) and 0 <= size_bytes < 2**53, "size_bytes", "An integer from 0 to 2**53 - 1."
    )
    errors.check(
        row_count is None or (isinstance(row_count, int) and 0 <= row_count < 2**53),
        "row_count",
        "A non-negative integer.",
    )
    errors.raise_if_any()
    existing = Dataset.objects.filter(sha256=sha256).first()
    if existing is not None:
        return existing, False
    dataset = Dataset.objects.create(
        name=name,
        uri=uri,
        sha256=sha256,
        size_bytes=size_bytes,
        row_count=row_count,
        schema_sha256=schema_sha256 or "",
        provenance=provenance,
        preparation=preparation,
        hash_kind=hash_kind,
        registered_by=actor,
        registered_at=timezone.now(),
        ledger_key=f"dataset.registered:{sha256}",
    )
    events.record(
        type="dataset.registered",
        actor=actor,
        subject=f"dataset:{sha256}",
        key=dataset.ledger_key,
        data=dataset_record(dataset),
    )
    return dataset, True
