"""People, roles and API tokens: input and output shapes."""

from __future__ import annotations

from rest_framework import serializers

from api.serializers.fields import PrintableTextField
from governance.services.identity.tokens import MAX_NAME_LENGTH, MAX_TOKEN_DAYS


class TokenIssueInSerializer(serializers.Serializer):
    user = serializers.CharField(required=False, help_text="Whose token (administrators only); default: yourself.")
    days = serializers.IntegerField(required=False, min_value=1, max_value=MAX_TOKEN_DAYS)
    name = PrintableTextField(
        required=False, allow_blank=True, max_length=MAX_NAME_LENGTH, help_text="What you call it (e.g. the script)."
    )


class TokenIssuedSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Shown once; only its hash is stored. Send as `Authorization: Bearer`.")
    token_id = serializers.CharField()
    user = serializers.CharField()
    expires_at = serializers.DateTimeField(allow_null=True)


class TokenOutSerializer(serializers.Serializer):
    token_id = serializers.CharField()
    name = serializers.CharField()
    user = serializers.CharField()
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(allow_null=True)
    last_used_at = serializers.DateTimeField(allow_null=True, help_text="To the minute; null when never used.")


class TokenRevokeInSerializer(serializers.Serializer):
    token_id = serializers.RegexField(
        r"^[0-9a-f]{16}$",
        required=False,
        help_text="The token to revoke; default: the token this request authenticates with.",
    )
    user = serializers.CharField(required=False, help_text="Revoke every token of this user (administrators).")

    schema_rules = {"not": {"required": ["token_id", "user"]}}

    def validate(self, data: dict) -> dict:
        if "token_id" in data and "user" in data:
            raise serializers.ValidationError("Give token_id or user, not both.")
        return data


class TokenRevokedSerializer(serializers.Serializer):
    revoked = serializers.ListField(child=serializers.CharField())


class UserOutSerializer(serializers.Serializer):
    username = serializers.CharField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    email = serializers.CharField()
    is_active = serializers.BooleanField()
    is_staff = serializers.BooleanField()
    is_superuser = serializers.BooleanField()
    roles = serializers.ListField(child=serializers.CharField())


class UserInSerializer(serializers.Serializer):
    username = serializers.RegexField(r"^[\w.@+-]{1,150}$", help_text="Letters, digits and @ . + - _ only.")
    first_name = serializers.CharField(required=False, allow_blank=True, max_length=150, default="")
    last_name = serializers.CharField(required=False, allow_blank=True, max_length=150, default="")
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    password = serializers.CharField(
        required=False, trim_whitespace=False, help_text="Omit for a service account that uses API tokens only."
    )
    roles = serializers.ListField(
        child=serializers.ChoiceField(
            ["pipeline", "model_owner", "auditor", "admin"],
        ),
        required=False,
        default=list,
        help_text="Roles to grant at once; compliance_officer is proposed separately.",
    )


class RoleInSerializer(serializers.Serializer):
    role = serializers.ChoiceField(["pipeline", "model_owner", "compliance_officer", "auditor", "admin"])
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class PrivilegesInSerializer(serializers.Serializer):
    is_staff = serializers.BooleanField(required=False)
    is_superuser = serializers.BooleanField(required=False)


class PasswordInSerializer(serializers.Serializer):
    new_password = serializers.CharField(trim_whitespace=False)
    current_password = serializers.CharField(
        required=False, trim_whitespace=False, help_text="Required when changing your own password."
    )


class RoleGrantOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    user = serializers.CharField(source="grantee.username")
    role = serializers.CharField()
    state = serializers.CharField()
    bootstrap = serializers.BooleanField()
    proposed_by = serializers.CharField(source="proposed_by.username", allow_null=True, default=None)
    proposed_at = serializers.DateTimeField()
    reason = serializers.CharField()
    decided_by = serializers.CharField(source="decided_by.username", allow_null=True, default=None)
    decided_at = serializers.DateTimeField(allow_null=True)


class ReasonInSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
