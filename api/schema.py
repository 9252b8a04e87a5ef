"""The OpenAPI schema: drf-spectacular's, stating the rules the serializers enforce.

Request bodies are documented as JSON only, and hold only the fields their serializer names
(`additionalProperties: false`; the API ignores others, but refuses a body with NUL anywhere,
an unknown field's name or value included), unless the serializer sets `extra_properties = True`
because others send it (MLflow). Two kinds of rule drf-spectacular leaves out are stated here, so
that a generated client sends only requests the API accepts:

- DRF text fields refuse NUL characters, and unless they allow blank, text that is empty once
  trimmed: their request schema gets a `pattern` saying so (a field with its own pattern keeps it).
- A serializer whose `validate` enforces a rule between its fields (one of two, at most one, at
  least one of several, a field another's value requires) states it as JSON Schema in its
  `schema_rules` (`oneOf`, `anyOf`, `not`, ...), merged into its component; `body_required = True`
  says that a body must be sent even though each of its fields is optional.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import force_instance
from rest_framework import serializers

# Any text without NUL; and text with at least one character that is neither NUL nor whitespace.
NO_NUL = r"^[^\u0000]*$"
NOT_BLANK = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"


def text_rule(field: serializers.Field, schema: dict) -> dict:
    """`schema` for the request field `field`, with the text rule DRF enforces and the schema
    does not state yet (a field with its own pattern, format or choices keeps them)."""
    if isinstance(field, serializers.ListField) and isinstance(schema.get("items"), dict):
        return {**schema, "items": text_rule(field.child, schema["items"])}
    if (
        not isinstance(field, serializers.CharField)
        or schema.get("type") != "string"
        or {"pattern", "format", "enum"} & schema.keys()
    ):
        return schema
    if field.allow_blank:
        return {**schema, "pattern": NO_NUL}
    if field.trim_whitespace:
        return {**schema, "pattern": NOT_BLANK}
    return {**schema, "pattern": NO_NUL, "minLength": max(schema.get("minLength", 0), 1)}


class LedgerAutoSchema(AutoSchema):
    def map_parsers(self) -> list[str]:
        # Request bodies are documented as JSON, the API's format: the form parsers serve the
        # browsable API, and a form cannot carry the nested objects and lists most bodies hold.
        return [media_type for media_type in super().map_parsers() if media_type == "application/json"]

    def _map_serializer(self, serializer: Any, direction: str, bypass_extensions: bool = False) -> dict:
        schema = super()._map_serializer(serializer, direction, bypass_extensions)
        rules = getattr(force_instance(serializer), "schema_rules", None)
        return {**schema, **rules} if rules else schema

    def _get_request_for_media_type(self, serializer: Any, direction: str = "request") -> tuple[Any, bool]:
        # A body whose every field is optional is still required when its rules need one of them.
        schema, required = super()._get_request_for_media_type(serializer, direction)
        return schema, getattr(force_instance(serializer), "body_required", required)

    def _map_basic_serializer(self, serializer: Any, direction: str) -> dict:
        schema = super()._map_basic_serializer(serializer, direction)
        serializer = force_instance(serializer)
        if direction == "request":
            if not getattr(serializer, "extra_properties", False):
                schema["additionalProperties"] = False
            properties = schema.get("properties", {})
            for name, field in serializer.fields.items():
                if name in properties:
                    properties[name] = text_rule(field, properties[name])
        return schema


# --- Building blocks for `schema_rules` ----------------------------------------------------------
def text_given(name: str) -> dict:
    """`name` is present and holds text that is not blank once trimmed."""
    return {"required": [name], "properties": {name: {"pattern": NOT_BLANK}}}


def value_given(name: str, type_: str) -> dict:
    """`name` is present and not null."""
    return {"required": [name], "properties": {name: {"type": type_}}}


def none_of_values(name: str, values: list[str]) -> dict:
    """`name`, when present, is none of `values` (said so, rather than "one of the others", because
    drf-spectacular names every `enum` it finds in a property as a component)."""
    return {"properties": {name: {"not": {"enum": values}}}}


def text_needed_when(name: str, values: list[str], needed: str) -> dict:
    """When `name` is one of `values`, `needed` holds text (not blank once trimmed)."""
    return {"anyOf": [none_of_values(name, values), text_given(needed)]}
