"""Serializer fields whose OpenAPI schema states the rule the service enforces."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from governance.models.fields import STORAGE_SCHEMES, STORAGE_URI_REGEX, WEB_URL_REGEX

# Python's `\s` also matches the separators U+001C to U+001F, which ECMAScript's (the schema's)
# does not: the schema's URL patterns leave out every control character instead.
_NOT_SPACE = r"[^\s\u0000-\u001f\u007f-\u009f]"


def _ecma(pattern: str) -> str:
    return pattern.replace(r"[^\s", r"[^\s\u0000-\u001f\u007f-\u009f").replace(r"\S", _NOT_SPACE)


@extend_schema_field({"type": "string", "pattern": _ecma(WEB_URL_REGEX)})
class WebUrlField(serializers.RegexField):
    pass


@extend_schema_field({"type": "string", "pattern": _ecma(STORAGE_URI_REGEX)})
class StorageUriField(serializers.RegexField):
    pass


@extend_schema_field({"type": "string", "pattern": r"^[ -~\u00a1-\u00ac\u00ae-\u0377]*$"})
class PrintableTextField(serializers.CharField):
    """Text the service takes only if printable (str.isprintable: no control, format or separator
    characters). The schema states a printable subset (Latin, IPA, combining marks and Greek) that
    a regular expression without Unicode categories can say."""


def web_url(*, max_length: int = 1000, **kwargs: Any) -> serializers.RegexField:
    """An http(s) URL (the console links only these)."""
    kwargs.setdefault("help_text", "An http or https URL (lowercase scheme, no spaces).")
    return WebUrlField(WEB_URL_REGEX, max_length=max_length, trim_whitespace=False, **kwargs)


def storage_uri(*, max_length: int = 1000, **kwargs: Any) -> serializers.RegexField:
    """Where an artifact or dataset is stored: a URI with one of STORAGE_SCHEMES."""
    kwargs.setdefault("help_text", f"A URI with one of the schemes {', '.join(STORAGE_SCHEMES)}.")
    return StorageUriField(STORAGE_URI_REGEX, max_length=max_length, trim_whitespace=False, **kwargs)


def secret_field(**kwargs: Any) -> serializers.CharField:
    """A password or shared secret: write-only, taken exactly as sent (never trimmed)."""
    kwargs.setdefault("style", {"input_type": "password"})
    return serializers.CharField(write_only=True, trim_whitespace=False, **kwargs)
