"""Filter forms of the browsing pages: they parse the query string into selector filters."""

from __future__ import annotations

from typing import Any

from django import forms

from console.browse import DateInput
from governance.models import Alert, ModelVersion, RegisteredModel, Report
from governance.selectors.browse import Filters, day_after, day_start
from ledger.browse import EntryFilters

ANY = [("", "Any")]


def _date(label: str) -> forms.DateField:
    return forms.DateField(label=label, required=False, widget=DateInput)


class BrowseForm(forms.Form):
    """A form of filters; `filters()` turns its clean values into the selectors' Filters."""

    since = _date("From (UTC day)")
    until = _date("To (UTC day)")

    def __init__(self, *args: Any, models: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "model" in self.fields:
            self.fields["model"].choices = [*ANY, *((slug, slug) for slug in models or [])]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            self.add_error("until", "The end of the range is before its start.")
        return data

    def filters(self) -> Filters:
        names = set(Filters.__dataclass_fields__)
        return Filters(**{k: v for k, v in self.cleaned_data.items() if k in names and v not in ("", None)})


class DecisionFilterForm(BrowseForm):
    q = forms.CharField(
        label="Subject reference or decision id",
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "applicant-01234 or demo-00042"}),
    )
    model = forms.ChoiceField(required=False)
    version = forms.CharField(max_length=64, required=False)
    outcome = forms.CharField(
        label="Outcome", max_length=200, required=False, widget=forms.TextInput(attrs={"list": "outcomes"})
    )
    overridden = forms.TypedChoiceField(
        label="Overridden by a person",
        required=False,
        choices=[*ANY, ("yes", "Overridden"), ("no", "Not overridden")],
        coerce=lambda value: value == "yes",
        empty_value=None,
    )
    field_order = ["q", "model", "version", "since", "until", "outcome", "overridden"]


class AlertFilterForm(BrowseForm):
    model = forms.ChoiceField(required=False)
    state = forms.ChoiceField(required=False, choices=[*ANY, *Alert.State.choices])
    kind = forms.ChoiceField(required=False, choices=[*ANY, *Alert.Kind.choices])
    field_order = ["model", "state", "kind", "since", "until"]


class ReportFilterForm(BrowseForm):
    model = forms.ChoiceField(required=False)
    version = forms.CharField(max_length=64, required=False)
    kind = forms.ChoiceField(required=False, choices=[*ANY, *Report.Kind.choices])
    state = forms.ChoiceField(label="Status", required=False, choices=[*ANY, *Report.Status.choices])
    field_order = ["model", "version", "kind", "state", "since", "until"]


class ModelFilterForm(BrowseForm):
    q = forms.CharField(
        label="Search", max_length=200, required=False, widget=forms.TextInput(attrs={"type": "search"})
    )
    risk_tier = forms.ChoiceField(label="Risk tier", required=False, choices=[*ANY, *RegisteredModel.RiskTier.choices])
    since = _date("Registered from (UTC day)")
    until = _date("Registered to (UTC day)")


class VersionSearchForm(BrowseForm):
    q = forms.CharField(
        label="Search versions",
        max_length=200,
        required=False,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "2.1, a registrant, a word of the description"}
        ),
    )
    state = forms.ChoiceField(label="Status", required=False, choices=[*ANY, *ModelVersion.Status.choices])
    since = _date("Registered from (UTC day)")
    until = _date("Registered to (UTC day)")


class LedgerFilterForm(BrowseForm):
    type = forms.RegexField(
        label="Event type",
        regex=r"^[a-z_]+\.[a-z_]+$",
        max_length=60,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "decision.logged"}),
    )
    subject = forms.CharField(
        max_length=300, required=False, widget=forms.TextInput(attrs={"placeholder": "model:credit-risk"})
    )

    def entry_filters(self) -> EntryFilters:
        data = self.cleaned_data
        since = day_start(data["since"]) if data.get("since") else None
        until = day_after(data["until"]) if data.get("until") else None
        return EntryFilters(type=data.get("type") or "", subject=data.get("subject") or "", since=since, until=until)


class CompareForm(forms.Form):
    """Two versions of one model to show side by side."""

    a = forms.CharField(label="Version", max_length=64)
    b = forms.CharField(label="Compared with", max_length=64)
