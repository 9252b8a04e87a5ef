"""Forms for the assurance records (classification, risks, oversight measures, findings): they
parse input; `governance.services.assurance` decides and re-checks."""

from __future__ import annotations

from django import forms

from governance.models import Classification, RiskEntry, ValidationFinding

ENTRY = {"max_length": 100, "help_text": "The entry's id, e.g. r-01; the same id records a new revision."}


def _text(rows: int = 3, required: bool = True) -> forms.CharField:
    return forms.CharField(widget=forms.Textarea(attrs={"rows": rows}), required=required, strip=False)


class ClassificationForm(forms.Form):
    intended_purpose = _text()
    annex_iii = forms.ChoiceField(label="AI Act classification", choices=Classification.Point.choices)
    rationale = _text(required=False)
    role = forms.ChoiceField(choices=[("provider", "Provider"), ("deployer", "Deployer")])


class RiskForm(forms.Form):
    entry_id = forms.SlugField(**ENTRY)
    hazard = _text()
    affected = _text(2, required=False)
    mitigation = _text(2, required=False)
    residual_level = forms.ChoiceField(choices=RiskEntry.Level.choices)
    acceptance = forms.ChoiceField(choices=RiskEntry.Acceptance.choices)
    acceptance_note = _text(2, required=False)


class OversightForm(forms.Form):
    entry_id = forms.SlugField(**ENTRY)
    measure = _text()
    responsible = forms.CharField(max_length=200)
    active = forms.BooleanField(required=False, initial=True)


class FindingForm(forms.Form):
    entry_id = forms.SlugField(**ENTRY)
    title = forms.CharField(max_length=300)
    severity = forms.ChoiceField(choices=ValidationFinding.Level.choices)
    remediation = _text(2, required=False)
    state = forms.ChoiceField(choices=ValidationFinding.State.choices)


# kind -> (form, heading, columns shown in the list)
FORMS = {
    "classification": (ClassificationForm, "Classification", ("annex_iii", "intended_purpose", "role")),
    "risk": (RiskForm, "Risk register", ("entry_id", "hazard", "residual_level", "acceptance")),
    "oversight": (OversightForm, "Human-oversight measures", ("entry_id", "measure", "responsible", "active")),
    "finding": (FindingForm, "Validation findings", ("entry_id", "title", "severity", "state")),
}
