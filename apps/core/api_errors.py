"""One error format for the whole API: `{"error": {"code", "message", "fields": {...}}}`."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def _flatten_messages(detail: Any) -> list[str]:
    if isinstance(detail, dict):
        return [msg for value in detail.values() for msg in _flatten_messages(value)]
    if isinstance(detail, list):
        return [msg for value in detail for msg in _flatten_messages(value)]
    return [str(detail)]


def _fields(detail: Any) -> dict[str, Any]:
    """Field errors keep their nesting (`{"rules": {"all": {"0": [...]}}}`) so paths stay precise."""
    if isinstance(detail, dict):
        return {
            str(key): _fields(value) if isinstance(value, dict) else _flatten_messages(value)
            for key, value in detail.items()
        }
    return {}


def _code(exc: exceptions.APIException) -> str:
    codes = exc.get_codes()
    if isinstance(codes, str):
        return codes
    if isinstance(exc, exceptions.ValidationError):
        return "invalid"
    return exc.default_code


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        # Services raise Django's ValidationError; the API shows it in the one error format.
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    detail = exc.detail
    if isinstance(exc, exceptions.ValidationError):
        non_field = (
            detail.get("non_field_errors", detail.get("__all__")) if isinstance(detail, dict) else detail
        )
        fields = _fields(detail) if isinstance(detail, dict) else {}
        fields.pop("non_field_errors", None)
        fields.pop("__all__", None)
        message = "; ".join(_flatten_messages(non_field)) if non_field else "The request has invalid fields."
    else:
        fields = {}
        message = "; ".join(_flatten_messages(detail))
    response.data = {"error": {"code": _code(exc), "message": message, "fields": fields}}
    if response.status_code == status.HTTP_429_TOO_MANY_REQUESTS and isinstance(exc, exceptions.Throttled):
        response.data["error"]["retry_after"] = getattr(exc, "wait", None)
    return response
