"""A C2SP tlog-witness for other logs: the latest cosigned view of each, and refused requests.

The witness is independent of this installation's own ledger: it follows other logs (another
firm's installation of this service, a regulator's log) and cosigns their checkpoints only when
they extend what it cosigned before.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class WitnessedLog(models.Model):
    """The latest checkpoint this witness cosigned for one log origin.

    Updated only by a conditional UPDATE on the (size, root) the request was checked against, so
    two concurrent requests can never roll the view back (tlog-witness §add-checkpoint).
    """

    origin = models.CharField(max_length=255, unique=True)
    size = models.BigIntegerField(default=0)
    root = models.BinaryField(max_length=32)
    # The log's note with the log signatures it carried and this witness's cosignature.
    note = models.TextField(blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["origin"]
        constraints = [
            models.CheckConstraint(
                condition=Q(size__gte=0),
                name="%(app_label)s_%(class)s_size_non_negative",
                violation_error_message="A witnessed size cannot be negative.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.origin} at {self.size}"


class Refusal(models.Model):
    """A validly signed checkpoint the witness refused: evidence of a log's misbehaviour.

    Only requests that carry a valid log signature are kept (anyone can send garbage), so each
    row is a statement the log signed and that contradicts what the witness cosigned before.
    """

    origin = models.CharField(max_length=255)
    status = models.PositiveSmallIntegerField()
    reason = models.TextField()
    note = models.TextField()
    witnessed_note = models.TextField(blank=True)
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["-received_at"]
        indexes = [
            # The refusals of one log, newest first (admin and the monitoring view).
            models.Index(fields=["origin", "-received_at"], name="witness_refusal_origin_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.status} for {self.origin}"
