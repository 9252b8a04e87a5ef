"""Sign-in lockouts as ledger events: who was locked out of which form, and until when."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import transaction

from governance import events
from governance.records import rfc3339


@transaction.atomic
def signin_lockout_record(*, username: str, form: str, until: datetime, failures: int) -> str:
    """Log `signin.locked_out` and return its key.

    The leaf names the account only when it exists: a mistyped or guessed name (sometimes a
    password typed in the wrong box) is not written into an append-only log. The address stays
    out of the leaf too (personal data); the service log has it.
    """
    known = bool(username) and get_user_model().objects.filter(username=username).exists()
    return events.record(
        type="signin.locked_out",
        actor=None,
        subject=f"user:{username}" if known else "signin",
        key=f"signin.locked_out:{uuid.uuid4()}",
        data={
            "username": username if known else "",
            "form": form,
            "failures": failures,
            "until": rfc3339(until),
        },
    )
