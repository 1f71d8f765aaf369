"""Reading the contact-list filters from a request, shared by list, export and tag actions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.datastructures import MultiValueDict
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
)
from rest_framework import exceptions, serializers, status
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request

from apps.contacts import selectors
from apps.contacts.api.serializers import CUSTOM_FILTER_PREFIX, FIXED_FILTERS
from apps.contacts.selectors import ContactFilter
from apps.workspaces.models import Workspace


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"
    default_detail = "The request body is too large: send fewer contacts per call."


class IgnoreFormatParameter(DefaultContentNegotiation):
    """For exports `?format=` names the file type, not a DRF renderer; any answer that is not the
    file (an error) is JSON."""

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))
        return renderer, str(renderer.media_type)


def _as_params(filters: Mapping[str, Any]) -> MultiValueDict[str, Any]:
    """A JSON filter object as query parameters (`"tag": ["a", "b"]` is a repeated parameter)."""
    params: MultiValueDict[str, Any] = MultiValueDict()
    for name, value in filters.items():
        params.setlist(str(name), list(value) if isinstance(value, list) else [value])
    return params


def _parse_filters(
    params: Mapping[str, Any], *, workspace: Workspace, strict: bool = False
) -> tuple[ContactFilter, dict[str, str]]:
    """The list's filters and the errors by parameter. `strict` also rejects names that are not
    filters: a typo must not widen a write to every contact."""
    wants_custom = any(str(name).startswith(CUSTOM_FILTER_PREFIX) for name in params)
    custom_fields = list(selectors.custom_field_list(workspace=workspace)) if wants_custom else []
    parsed = selectors.contact_filter_from_params(params, custom_fields=custom_fields)
    errors = dict(parsed.errors)
    custom_names = {f"{CUSTOM_FILTER_PREFIX}{custom.key}" for custom in custom_fields}
    for name in map(str, params):
        if name.startswith(CUSTOM_FILTER_PREFIX) and name not in custom_names:
            errors[name] = "There is no such custom field."
        elif strict and name not in {*FIXED_FILTERS, *selectors.FILTERABLE_FIELDS, *custom_names}:
            errors[name] = "This is not a filter."
    return parsed.filters, errors


def _contact_filter(params: Mapping[str, Any], *, workspace: Workspace) -> ContactFilter:
    filters, errors = _parse_filters(params, workspace=workspace)
    if errors:
        raise serializers.ValidationError(errors)
    return filters


def _renamed(error: DjangoValidationError, names: Mapping[str, str]) -> DjangoValidationError:
    if not hasattr(error, "error_dict"):
        return error
    return DjangoValidationError({names.get(name, name): msgs for name, msgs in error.message_dict.items()})


FILTER_PARAMETERS = [
    OpenApiParameter("q", str, description="Search first and last name, email (prefix) and phone."),
    OpenApiParameter("tag", str, many=True, description="Has this tag; repeat it: all must match."),
    OpenApiParameter("email", str, description="Exact email address, any case."),
    OpenApiParameter("phone", str, description="Exact phone number in E.164, e.g. +49301234567."),
    OpenApiParameter("updated_since", OpenApiTypes.DATETIME, description="Changed at or after (ISO 8601)."),
    *(OpenApiParameter(name, str, description="Equals this value.") for name in selectors.FILTERABLE_FIELDS),
]


FILTER_HELP = (
    "Filter with `q`, `tag` (repeatable, all must match), `email`, `phone`, `updated_since`, any "
    "filterable field (`?city=Berlin&gender=female`) and custom fields (`?custom.shoe_size=42`). "
    "A value that cannot match names its parameter in a 400."
)


CONTACT_EXAMPLE = {
    "email": "maya.berg@example.com",
    "phone": "+49 30 1234567",
    "first_name": "Maya",
    "last_name": "Berg",
    "birth_date": "1988-04-12",
    "gender": "female",
    "address_line1": "Torstraße 12",
    "address_line2": "Hinterhaus, 3. OG",
    "postal_code": "10119",
    "city": "Berlin",
    "country": "DE",
    "orders_count": 3,
    "total_spent": "129.90",
    "language": "de",
    "timezone": "Europe/Berlin",
    "email_consent": "opted_in",
    "tags": ["newsletter", "spring-event"],
    "custom": {"shoe_size": 39},
}


BULK_EXAMPLE = {
    "contacts": [
        CONTACT_EXAMPLE,
        {"email": "jonas@example.com", "first_name": "Jonas", "tags": ["spring-event"]},
        {"phone": "0151 23456789", "city": "Hamburg"},
    ]
}
