"""Forms of the console: they parse input; the services decide what it means."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from console.auth import PIPELINES_REFUSED, is_pipeline_only
from governance.models import Approval, ModelVersion, RegisteredModel, Report


class SignInForm(AuthenticationForm):
    """Django's sign-in form (`username`, `password`) that refuses pipeline service accounts."""

    error_messages = {**AuthenticationForm.error_messages, "pipeline": PIPELINES_REFUSED}

    def confirm_login_allowed(self, user) -> None:
        super().confirm_login_allowed(user)
        if is_pipeline_only(user):
            raise forms.ValidationError(self.error_messages["pipeline"], code="pipeline")


class SignatureForm(forms.Form):
    """An electronic signature: meaning, reason and the password re-entered (21 CFR 11.200)."""

    meaning = forms.ChoiceField(
        choices=Approval.Meaning.choices,
        widget=forms.RadioSelect,
        help_text="What your signature means; nothing is chosen for you.",
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text="Recorded with the signature and in the ledger.",
    )
    password = forms.CharField(
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text="Re-enter your password to sign.",
    )
    # What the signer was shown; the service refuses the signature if the record changed since.
    expected_sha256 = forms.RegexField(regex=r"^[0-9a-f]{64}$", widget=forms.HiddenInput)
    card_revision = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    @classmethod
    def for_preview(cls, preview: dict) -> SignatureForm:
        """An empty form carrying what the signer is shown (signature_preview)."""
        return cls(initial={"expected_sha256": preview["signed_sha256"], "card_revision": preview["card_revision"]})


class AlertNoteForm(forms.Form):
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=10_000, required=False)


class ReportRequestForm(forms.Form):
    """A report about a version (`model` and `version`, or `subject` "model version" from the
    reports page's picker) or a decision (`model` and `decision_id`)."""

    kind = forms.ChoiceField(choices=Report.Kind.choices)
    subject = forms.CharField(max_length=170, required=False)
    model = forms.SlugField(max_length=100, required=False)
    version = forms.CharField(max_length=64, required=False)
    decision_id = forms.CharField(max_length=200, required=False)
    purpose = forms.CharField(max_length=200, required=False)
    redaction = forms.ChoiceField(choices=[("", "default"), *Report.Redaction.choices], required=False)

    def clean(self) -> dict:
        data = super().clean()
        if data.get("subject"):
            data["model"], _, data["version"] = data["subject"].partition(" ")
        if not data.get("model"):
            raise forms.ValidationError("Name the model the report is about.")
        return data


class QueueFilterForm(forms.Form):
    model = forms.ChoiceField(required=False)
    risk_tier = forms.ChoiceField(
        label="Risk tier", required=False, choices=[("", "Any"), *RegisteredModel.RiskTier.choices]
    )
    status = forms.ChoiceField(
        required=False,
        choices=[
            ("", "Waiting (registered or in review)"),
            (ModelVersion.Status.REGISTERED, "Registered"),
            (ModelVersion.Status.IN_REVIEW, "In review"),
        ],
    )

    def __init__(self, *args: object, models: list[str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["model"].choices = [("", "Any"), *((slug, slug) for slug in models)]


class TokenForm(forms.Form):
    """A personal API token: what its holder calls it, and how long it lives."""

    LIFETIMES = [("7", "7 days"), ("30", "30 days"), ("90", "90 days"), ("180", "180 days"), ("366", "1 year")]

    name = forms.CharField(
        max_length=100,
        help_text="What you will use it for, e.g. “nightly validation script”.",
    )
    days = forms.TypedChoiceField(label="Expires after", choices=LIFETIMES, initial="90", coerce=int)
