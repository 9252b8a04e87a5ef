"""Forms of the console's management pages: they parse input; the services decide and re-check."""

from __future__ import annotations

import re

from django import forms

from governance.models import RegisteredModel

ACTION_CHOICES = [
    ("view", "view: read its records"),
    ("register", "register: versions, cards, CI evidence, deploy"),
    ("log", "log: decisions and monitoring observations"),
    ("reports", "reports: generate and download reports"),
]
THRESHOLD_LINE = re.compile(r"^\s*(?P<metric>[\w.:-]+)\s+(?P<operator>min|max)\s+(?P<value>-?\d+(\.\d+)?)\s*$")


class ModelRegisterForm(forms.Form):
    slug = forms.SlugField(max_length=100, help_text="Short name used in URLs and by pipelines, e.g. card-fraud.")
    name = forms.CharField(max_length=200)
    intended_purpose = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    regulated_use = forms.ChoiceField(choices=RegisteredModel.RegulatedUse.choices)
    risk_tier = forms.ChoiceField(choices=RegisteredModel.RiskTier.choices)
    owner = forms.CharField(max_length=150, help_text="Username of the model owner.")
    runbook = forms.CharField(max_length=1000, required=False, help_text="http(s) URL of the runbook.")


class AccessChangeForm(forms.Form):
    principal = forms.CharField(max_length=150, label="User or group", help_text="A username, or group:NAME.")
    actions = forms.MultipleChoiceField(choices=ACTION_CHOICES, widget=forms.CheckboxSelectMultiple)
    reason = forms.CharField(max_length=2000, required=False)


class PolicyForm(forms.Form):
    thresholds = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        help_text="One per line: METRIC min|max VALUE, e.g. auc min 0.80. Empty clears them.",
    )
    expected_interval_minutes = forms.IntegerField(min_value=1, max_value=525_600, label="Observe every (minutes)")
    psi_threshold = forms.DecimalField(min_value=0, decimal_places=6, max_digits=12, label="PSI bound")
    ks_threshold = forms.DecimalField(min_value=0, decimal_places=6, max_digits=12, label="KS bound")
    min_volume = forms.IntegerField(min_value=0, required=False, label="Minimum volume per window")
    drift_windows = forms.IntegerField(min_value=1, required=False, label="Retrain after drift in N windows")
    accuracy_metric = forms.CharField(max_length=100, required=False, label="Retrain when this metric")
    accuracy_floor = forms.DecimalField(decimal_places=6, max_digits=12, required=False, label="falls under")
    max_age_days = forms.IntegerField(min_value=1, required=False, label="Retrain after (days)")

    def clean_thresholds(self) -> list[dict[str, str]]:
        rows = []
        for number, line in enumerate(self.cleaned_data["thresholds"].splitlines(), 1):
            if not line.strip():
                continue
            match = THRESHOLD_LINE.match(line)
            if match is None:
                raise forms.ValidationError(f"Line {number}: write METRIC min|max VALUE, e.g. auc min 0.80.")
            rows.append({k: match[k] for k in ("metric", "operator", "value")})
        return rows


class DeployForm(forms.Form):
    environment = forms.SlugField(max_length=50, initial="production")
    change_ticket = forms.CharField(max_length=200, required=False)
    reason = forms.CharField(max_length=2000, required=False)
