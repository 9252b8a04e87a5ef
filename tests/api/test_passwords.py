"""Passwords and shared secrets are taken exactly as typed: no form or serializer trims them."""

from __future__ import annotations

import inspect

import pytest
from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from rest_framework import serializers

import api.serializers.monitoring
import api.serializers.operations
import api.serializers.registry
import console.forms
from governance.models import Approval
from tests.api.factories import PASSWORD

pytestmark = pytest.mark.django_db
SECRET_NAMES = ("password", "secret", "passphrase")


def _serializers():
    for module in (api.serializers.registry, api.serializers.monitoring, api.serializers.operations):
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, serializers.Serializer) and cls.__module__ == module.__name__:
                yield cls


def _forms():
    yield AdminAuthenticationForm
    for _, cls in inspect.getmembers(console.forms, inspect.isclass):
        if issubclass(cls, forms.BaseForm) and cls.__module__ == console.forms.__name__:
            yield cls


def test_no_serializer_trims_a_password_or_secret():
    checked = 0
    for cls in _serializers():
        for name, field in cls().fields.items():
            if any(word in name for word in SECRET_NAMES):
                checked += 1
                assert field.trim_whitespace is False, f"{cls.__name__}.{name} trims whitespace"
    assert checked >= 3


def test_no_form_strips_a_password():
    checked = 0
    for cls in _forms():
        for name, field in cls.base_fields.items():
            if any(word in name for word in SECRET_NAMES):
                checked += 1
                assert getattr(field, "strip", False) is False, f"{cls.__name__}.{name} strips whitespace"
    assert checked >= 2


def test_a_signature_with_a_trailing_space_after_the_password_is_refused(world, client_for):
    response = client_for("officer_1").post(
        "/api/v1/models/credit-risk/versions/1.1.0/approvals",
        {"meaning": "approved", "reason": "Reviewed.", "password": PASSWORD + " "},
        format="json",
    )
    assert response.status_code == 403, response.content
    assert response.json()["code"] == "reauthentication_failed"
    assert not Approval.objects.filter(version=world.v110).exists()


def test_a_password_with_surrounding_spaces_signs_when_it_is_the_password(world, client_for, officer_1):
    officer_1.set_password(f" {PASSWORD} ")
    officer_1.save()
    response = client_for("officer_1").post(
        "/api/v1/models/credit-risk/versions/1.1.0/approvals",
        {"meaning": "reviewed", "reason": "Reviewed.", "password": f" {PASSWORD} "},
        format="json",
    )
    assert response.status_code == 201, response.content
