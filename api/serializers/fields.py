"""Serializer fields whose OpenAPI schema states the rule the service enforces."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from governance.models.fields import STORAGE_SCHEMES, STORAGE_URI_REGEX, WEB_URL_REGEX


def web_url(*, max_length: int = 1000, **kwargs: Any) -> serializers.RegexField:
    """An http(s) URL (the console links only these)."""
    kwargs.setdefault("help_text", "An http or https URL (lowercase scheme, no spaces).")
    return serializers.RegexField(WEB_URL_REGEX, max_length=max_length, trim_whitespace=False, **kwargs)


def storage_uri(*, max_length: int = 1000, **kwargs: Any) -> serializers.RegexField:
    """Where an artifact or dataset is stored: a URI with one of STORAGE_SCHEMES."""
    kwargs.setdefault("help_text", f"A URI with one of the schemes {', '.join(STORAGE_SCHEMES)}.")
    return serializers.RegexField(STORAGE_URI_REGEX, max_length=max_length, trim_whitespace=False, **kwargs)


def secret_field(**kwargs: Any) -> serializers.CharField:
    """A password or shared secret: write-only, taken exactly as sent (never trimmed)."""
    kwargs.setdefault("style", {"input_type": "password"})
    return serializers.CharField(write_only=True, trim_whitespace=False, **kwargs)
