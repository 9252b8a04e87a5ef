"""Two-person grants of the compliance officer role."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from governance.roles import Role


class RoleGrant(models.Model):
    """A grant of the compliance officer role, which takes two people.

    An administrator proposes it; it takes effect when an existing compliance officer other than
    the grantee (and the proposer) confirms it. The first officer of an installation has no one to
    confirm them and is bootstrapped by `manage.py bootstrap_officer` instead (`bootstrap` set, no
    proposer or confirmer). Rows are history and never deleted: a role removed later leaves its
    grant here, and its `role.revoked` event says when. Only the membership this grant created
    makes a person an officer; adding the group by any other path is refused.
    """

    class State(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        CONFIRMED = "confirmed", "Confirmed"
        REJECTED = "rejected", "Rejected"

    grantee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="role_grants")
    role = models.CharField(max_length=32, choices=Role.choices, default=Role.COMPLIANCE_OFFICER)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PROPOSED)
    bootstrap = models.BooleanField(default=False)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    proposed_at = models.DateTimeField()
    reason = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    # The ledger keys of the proposal (`role.proposed`) and of the grant itself (`role.granted`).
    proposal_key = models.CharField(max_length=200, unique=True)
    grant_key = models.CharField(max_length=200, unique=True, null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=["proposed", "confirmed", "rejected"]),
                name="%(app_label)s_%(class)s_state_valid",
                violation_error_message="Unknown role grant state.",
            ),
            models.CheckConstraint(
                condition=Q(role="compliance_officer"),
                name="%(app_label)s_%(class)s_officer_role_only",
                violation_error_message="Only the compliance officer role is granted by two people.",
            ),
            models.UniqueConstraint(
                fields=["grantee", "role"],
                condition=Q(state="proposed"),
                name="%(app_label)s_%(class)s_one_open_proposal",
                violation_error_message="This person already has an open proposal for this role.",
            ),
            models.CheckConstraint(
                condition=Q(proposed_by__isnull=True) | ~Q(proposed_by=F("grantee")),
                name="%(app_label)s_%(class)s_not_proposed_by_grantee",
                violation_error_message="Nobody proposes themselves for a role.",
            ),
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | (~Q(decided_by=F("grantee")) & ~Q(decided_by=F("proposed_by"))),
                name="%(app_label)s_%(class)s_two_people",
                violation_error_message="The grant is confirmed by someone other than the grantee and the proposer.",
            ),
            models.CheckConstraint(
                condition=Q(bootstrap=False) | Q(proposed_by__isnull=True, decided_by__isnull=True, state="confirmed"),
                name="%(app_label)s_%(class)s_bootstrap_shape",
                violation_error_message="A bootstrapped grant has no proposer or confirmer and is confirmed.",
            ),
            models.CheckConstraint(
                condition=Q(bootstrap=True) | Q(proposed_by__isnull=False),
                name="%(app_label)s_%(class)s_proposed_by_someone",
                violation_error_message="Every grant but the bootstrap has a proposer.",
            ),
        ]
        indexes = [
            # The signer's latest confirmed grant (approval_sign) and the open proposals list.
            models.Index(fields=["grantee", "role", "state"], name="gov_rolegrant_grantee_state"),
        ]

    def __str__(self) -> str:
        return f"{self.role} for {self.grantee} ({self.state})"


class TokenProfile(models.Model):
    """What the holder of an API token knows it by: the name they gave it, and its last use.

    One row per knox token issued through `governance.services.identity.tokens`, deleted with the
    token. The name is also in the token's `token.issued` event; the last use is operational
    state, recorded at most once a minute (`TOKEN_USE_RESOLUTION`) and never a ledger event.
    """

    token = models.OneToOneField("knox.AuthToken", on_delete=models.CASCADE, primary_key=True, related_name="profile")
    name = models.CharField(max_length=100, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name or "unnamed token"
