"""The one JSON error shape: {"code": "...", "message": "...", "errors": {field: [messages]}}.

Every error the API returns goes through `exception_handler`: DRF's own exceptions, Django's
404 / permission / validation errors, and each app's error hierarchy (by its `code`).
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from governance import errors as gov
from ledger.errors import BadProofRequest, EventRejected, LedgerError, NotInLog, SigningRefused

logger = logging.getLogger(__name__)

# Each domain error's HTTP status, most specific class first.
STATUS_BY_ERROR: list[tuple[type[Exception], int]] = [
    (gov.NotVisible, status.HTTP_404_NOT_FOUND),
    (gov.LockedOut, status.HTTP_429_TOO_MANY_REQUESTS),
    (gov.Forbidden, status.HTTP_403_FORBIDDEN),
    (gov.Conflict, status.HTTP_409_CONFLICT),
    (gov.InvalidInput, status.HTTP_400_BAD_REQUEST),
    (gov.GovernanceError, status.HTTP_400_BAD_REQUEST),
    (NotInLog, status.HTTP_404_NOT_FOUND),
    (BadProofRequest, status.HTTP_400_BAD_REQUEST),
    (EventRejected, status.HTTP_400_BAD_REQUEST),
    (SigningRefused, status.HTTP_409_CONFLICT),
    (LedgerError, status.HTTP_503_SERVICE_UNAVAILABLE),
]

_DRF_CODES = {
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
    exceptions.ParseError: "parse_error",
    exceptions.ValidationError: "invalid",
}


def bad_request(message: str, *, field: str | None = None) -> BadProofRequest:
    """Return an error for a malformed query parameter (400, code invalid_parameters)."""
    return BadProofRequest(message, errors={field: [message]} if field else None)


def error_body(code: str, message: str, errors: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"code": code, "message": message, "errors": errors or {}}


def _plain(detail: Any) -> Any:
    """Return a DRF error detail as plain JSON: messages as strings, nesting kept."""
    if isinstance(detail, dict):
        return {str(key): _plain(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_plain(item) for item in detail]
    return str(detail)


def _field_errors(detail: Any) -> tuple[str, dict[str, Any]]:
    """Split a DRF validation detail into a message and per-field errors."""
    detail = _plain(detail)
    if isinstance(detail, dict):
        # Nested fields keep their structure ({"content": {"model_details": ["…"]}}).
        errors = {key: value if isinstance(value, list | dict) else [value] for key, value in detail.items()}
        general = errors.pop("non_field_errors", None)
        message = general[0] if general else "The request is not valid; see errors."
        if general and len(general) > 1:
            errors["non_field_errors"] = general
        return message, errors
    if isinstance(detail, list):
        return (detail[0] if detail and isinstance(detail[0], str) else "The request is not valid."), {}
    return str(detail), {}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    for error_class, http_status in STATUS_BY_ERROR:
        if isinstance(exc, error_class):
            assert isinstance(exc, LedgerError | gov.GovernanceError)
            return Response(error_body(exc.code, exc.message, exc.errors), status=http_status)
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return Response(error_body("payload_too_large", f"The request body is over {limit:,} bytes."), status=413)
    if isinstance(exc, IntegrityError):
        # Last resort: a write path that lost a race on a unique row (services retry their own).
        logger.warning("Unhandled IntegrityError answered as a conflict: %s", exc)
        return Response(error_body("conflict", "A concurrent request wrote a conflicting record; retry."), status=409)
    if isinstance(exc, OverflowError):
        # A date or number beyond what the database can convert (e.g. years outside 1-9999).
        return Response(error_body("invalid", "A value is out of the range this service accepts."), status=400)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    code = next((value for cls, value in _DRF_CODES.items() if isinstance(exc, cls)), "error")
    if isinstance(exc, exceptions.ValidationError):
        message, errors = _field_errors(exc.detail)
    else:
        message, errors = str(getattr(exc, "detail", exc)), {}
    response.data = error_body(code, message, errors)
    return response
