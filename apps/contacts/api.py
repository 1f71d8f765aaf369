"""REST API for contacts, tags and custom fields. Thin: services write, selectors read, and every rule
for a contact's fields lives in `apps.contacts.cleaning`, so serializers here pass raw values on."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import FileResponse, HttpResponseBase, StreamingHttpResponse
from django.utils import timezone
from django.utils.datastructures import MultiValueDict
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import JSONParser
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings

from apps.contacts import exporting, selectors, services
from apps.contacts.choices import (
    Consent,
    ContactSource,
    CustomFieldType,
    EducationLevel,
    Gender,
    IncomeBand,
    MaritalStatus,
)
from apps.contacts.cleaning import FIELD_NAMES
from apps.contacts.models import Contact, CustomField, Tag
from apps.contacts.selectors import ContactFilter
from apps.core.roles import Role
from apps.workspaces.models import Workspace
from apps.workspaces.permissions import api_context, api_user
from apps.workspaces.viewsets import WorkspaceScopedViewSetMixin

READ_ONLY_FIELDS = ("id", "suppressed", "created_at", "updated_at")
EXPORT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
FIXED_FILTERS = ("q", "tag", "email", "phone", "updated_since")
CUSTOM_FILTER_PREFIX = "custom."

# --- Serializers --------------------------------------------------------------------------------------


def _shown_choice(choices: Any) -> serializers.ChoiceField:
    # Declared so the schema says "" is possible (a read-only model field loses `allow_blank`).
    return serializers.ChoiceField(choices=choices, allow_blank=True, read_only=True)


class ContactSerializer(serializers.ModelSerializer[Contact]):
    """A contact as the API shows it: the public field names of `cleaning.FIELD_NAMES`."""

    tags: serializers.RelatedField[Tag, str, str] | serializers.ManyRelatedField = (
        serializers.SlugRelatedField(many=True, read_only=True, slug_field="name")
    )
    custom = serializers.DictField(read_only=True, help_text="Custom field values by key.")
    gender = _shown_choice(Gender.choices)
    marital_status = _shown_choice(MaritalStatus.choices)
    household_income_band = _shown_choice(IncomeBand.choices)
    education_level = _shown_choice(EducationLevel.choices)
    suppressed = serializers.SerializerMethodField(
        help_text="The email or phone is on the suppression list: no marketing, whatever the consent."
    )

    class Meta:
        model = Contact
        fields = ("id", *FIELD_NAMES, "suppressed", "created_at", "updated_at")
        read_only_fields = fields

    def get_suppressed(self, contact: Contact) -> bool:
        return contact.id in self.context["suppressed_ids"]


def _text(help_text: str = "") -> serializers.CharField:
    return serializers.CharField(required=False, allow_blank=True, allow_null=True, help_text=help_text)


def _choice(choices: Any, help_text: str = "") -> serializers.ChoiceField:
    return serializers.ChoiceField(
        choices=choices, required=False, allow_blank=True, allow_null=True, help_text=help_text
    )


class ContactWriteSerializer(serializers.Serializer):
    """A contact as a client sends it. The declared fields document the API; the values go to the
    service as sent, which cleans them with `cleaning.clean_contact_values` and names every bad field.
    An empty value (`""` or `null`) clears a field. Unknown names are reported as errors; the
    read-only fields of a response (`id`, `suppressed`, timestamps) are ignored, so a fetched
    contact can be sent back as it is."""

    email = _text("An email address or a phone number is required.")
    phone = _text("Any common notation; national numbers are read in the workspace's phone region.")
    first_name = _text()
    last_name = _text()
    birth_date = serializers.DateField(required=False, allow_null=True, help_text="Sets `age`.")
    age = serializers.IntegerField(
        required=False, allow_null=True, help_text="Taken from `birth_date` when that is known."
    )
    gender = _choice(Gender.choices)
    marital_status = _choice(MaritalStatus.choices)
    children_in_household = serializers.IntegerField(required=False, allow_null=True)
    city = _text()
    region = _text()
    country = _text("ISO 3166 code, e.g. DE.")
    postal_code = _text()
    household_income_band = _choice(IncomeBand.choices)
    education_level = _choice(EducationLevel.choices)
    customer_since = serializers.DateField(required=False, allow_null=True)
    orders_count = serializers.IntegerField(required=False, allow_null=True)
    total_spent = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        required=False,
        allow_null=True,
        help_text="In the workspace's currency.",
    )
    last_purchase_at = serializers.DateTimeField(required=False, allow_null=True)
    language = _text("e.g. de, en, pt-BR.")
    timezone = _text("e.g. Europe/Berlin.")
    email_consent = _choice(Consent.choices, "An address on the suppression list cannot be opted in.")
    sms_consent = _choice(Consent.choices, "A number on the suppression list cannot be opted in.")
    tags = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        allow_null=True,
        help_text="Tag names; they replace the contact's tags. Unknown names are created.",
    )
    custom = serializers.DictField(
        required=False,
        allow_null=True,
        help_text="Custom field values by key; `null` removes a value, keys left out stay (PATCH).",
    )

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if not isinstance(data, Mapping):
            raise serializers.ValidationError(
                {api_settings.NON_FIELD_ERRORS_KEY: ["Send the contact as a JSON object."]}
            )
        return {str(name): value for name, value in data.items() if name not in READ_ONLY_FIELDS}


@extend_schema_field(ContactWriteSerializer)
class RawContactField(serializers.Field):
    """One contact of a bulk call, handed to the service as sent: it reports a bad row in that row's
    result instead of failing the whole call."""

    def to_internal_value(self, data: Any) -> Any:
        return data

    def to_representation(self, value: Any) -> Any:
        return value


class ContactBulkSerializer(serializers.Serializer):
    contacts = serializers.ListField(
        child=RawContactField(),
        max_length=services.MAX_BULK_UPSERT,
        help_text=f"Up to {services.MAX_BULK_UPSERT:,} contacts, matched by email, else by phone.",
    )


# Documentation only (the view builds the answer directly); inline because `errors` is a field here
# and a property of every serializer.
BulkResultSerializer = inline_serializer(
    "ContactBulkResult",
    fields={
        "created": serializers.IntegerField(),
        "updated": serializers.IntegerField(),
        "unchanged": serializers.IntegerField(),
        "errors": serializers.IntegerField(help_text="Rows not stored; see their `errors`."),
        "results": inline_serializer(
            "ContactBulkRow",
            many=True,
            fields={
                "index": serializers.IntegerField(help_text="Position in the request's `contacts`."),
                "status": serializers.ChoiceField(choices=["created", "updated", "unchanged", "error"]),
                "id": serializers.IntegerField(allow_null=True),
                "errors": serializers.DictField(
                    child=serializers.CharField(), help_text="Field name -> message."
                ),
            },
        ),
    },
)


class TagSerializer(serializers.ModelSerializer[Tag]):
    contact_count = serializers.SerializerMethodField()

    class Meta:
        model = Tag
        fields = ("id", "name", "colour", "description", "contact_count", "created_at", "updated_at")
        read_only_fields = ("id", "contact_count", "created_at", "updated_at")

    def get_contact_count(self, tag: Tag) -> int:
        return getattr(tag, "contact_count", 0)  # a tag just created has no contacts yet


class TagTargetSerializer(serializers.Serializer):
    contact_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        max_length=services.MAX_BULK_UPSERT,
        help_text="Contacts by id; ids of other workspaces are ignored.",
    )
    filters = serializers.DictField(
        required=False,
        help_text=(
            "The contact list's filters (`q`, `tag`, `email`, `phone`, `updated_since`, any filterable "
            "field, `custom.<key>`); `{}` means every contact."
        ),
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("contact_ids" in attrs) == ("filters" in attrs):
            raise serializers.ValidationError("Send either `contact_ids` or `filters`.")
        return attrs


class TagAppliedSerializer(serializers.Serializer):
    added = serializers.IntegerField(help_text="Contacts that did not have the tag before.")


class TagRemovedSerializer(serializers.Serializer):
    removed = serializers.IntegerField(help_text="Contacts that had the tag.")


class CustomFieldSerializer(serializers.ModelSerializer[CustomField]):
    type = serializers.ChoiceField(choices=CustomFieldType.choices, source="field_type")
    choices = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="For the choice type only."
    )

    class Meta:
        model = CustomField
        fields = ("id", "key", "label", "type", "choices", "created_at", "updated_at")
        read_only_fields = ("id", "created_at", "updated_at")
        extra_kwargs = {"key": {"help_text": "Where contacts store the value; cannot change later."}}


# --- Helpers ------------------------------------------------------------------------------------------


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


# --- Contacts -----------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(parameters=FILTER_PARAMETERS, description=f"Newest first. {FILTER_HELP}"),
    retrieve=extend_schema(responses=ContactSerializer),
    destroy=extend_schema(
        description="GDPR erasure: the contact and its history are deleted; a hashed entry keeps its "
        "email and phone on the suppression list, so they can never be opted in again."
    ),
)
class ContactViewSet(WorkspaceScopedViewSetMixin, viewsets.GenericViewSet):
    """The workspace's contacts, addressed by id."""

    serializer_class = ContactSerializer
    queryset = Contact.objects.all()
    # A bulk export of personal data is a write-level act: viewers read contacts one page at a time.
    action_roles = {"export": Role.EDITOR}
    filter_backends: list[Any] = []  # filters are read by the selectors (`contact_filter_from_params`)

    def get_queryset(self) -> Any:
        queryset = super().get_queryset()
        if self.action == "list" and not getattr(self, "swagger_fake_view", False):
            filters = _contact_filter(self.request.query_params, workspace=self._workspace)
            queryset = selectors.contact_list(workspace=self._workspace, filters=filters)
        return selectors.with_tags(queryset).order_by("-id")

    def get_serializer_class(self) -> type[serializers.BaseSerializer[Any]]:
        if self.action in {"create", "update", "partial_update"}:
            return ContactWriteSerializer
        return ContactSerializer

    @property
    def _workspace(self) -> Workspace:
        return api_context(self.request).workspace

    def _render(self, contacts: Sequence[Contact]) -> list[dict[str, Any]]:
        suppressed = selectors.contact_ids_suppressed(workspace=self._workspace, contacts=contacts)
        context = {**self.get_serializer_context(), "suppressed_ids": suppressed}
        return list(ContactSerializer(contacts, many=True, context=context).data)

    def _respond(self, contact: Contact, status_code: int = status.HTTP_200_OK) -> Response:
        fresh = selectors.contact_get(workspace=self._workspace, contact_id=contact.id)  # current tags
        return Response(self._render([fresh])[0], status=status_code)

    def _values(self, request: Request) -> dict[str, Any]:
        serializer = ContactWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset = self.get_queryset()
        page = self.paginate_queryset(queryset)
        if page is None:
            return Response(self._render(list(queryset)))
        return self.get_paginated_response(self._render(page))

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(self._render([self.get_object()])[0])

    @extend_schema(
        request=ContactWriteSerializer,
        responses={201: ContactSerializer},
        examples=[
            OpenApiExample("A customer with consent and tags", value=CONTACT_EXAMPLE, request_only=True)
        ],
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        contact = services.contact_create(
            workspace=self._workspace,
            values=self._values(request),
            source=ContactSource.API,
            actor=api_user(request),
        )
        return self._respond(contact, status.HTTP_201_CREATED)

    @extend_schema(
        request=ContactWriteSerializer,
        responses=ContactSerializer,
        description="Replace the contact: fields left out are cleared (tags and custom values too), "
        "except consent, which changes only when sent. An email or a phone is required.",
    )
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        contact = services.contact_replace(
            contact=self.get_object(),
            values=self._values(request),
            actor=api_user(request),
            consent_source="Edited (API)",
        )
        return self._respond(contact)

    @extend_schema(
        request=ContactWriteSerializer,
        responses=ContactSerializer,
        description="Change the given fields; the others stay. `tags`, when sent, replaces the tags.",
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        contact = services.contact_update(
            contact=self.get_object(),
            values=self._values(request),
            actor=api_user(request),
            consent_source="Edited (API)",
        )
        return self._respond(contact)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.contact_erase(contact=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=ContactBulkSerializer,
        responses=BulkResultSerializer,
        description=f"Create or update up to {services.MAX_BULK_UPSERT:,} contacts per call, matched by "
        "email, else by phone. Fields sent overwrite, fields left out stay, tags are added. A bad row "
        "is reported in its result and skipped; the others are stored.",
        examples=[
            OpenApiExample("Three contacts", value=BULK_EXAMPLE, request_only=True),
            OpenApiExample(
                "Result",
                value={
                    "created": 2,
                    "updated": 0,
                    "unchanged": 0,
                    "errors": 1,
                    "results": [
                        {"index": 0, "status": "created", "id": 101, "errors": {}},
                        {"index": 1, "status": "created", "id": 102, "errors": {}},
                        {"index": 2, "status": "error", "id": None, "errors": {"phone": "Not valid."}},
                    ],
                },
                response_only=True,
            ),
        ],
    )
    @action(detail=False, methods=["post"], parser_classes=[JSONParser])
    def bulk(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        try:
            data = request.data
        except RequestDataTooBig as error:
            raise PayloadTooLarge() from error
        serializer = ContactBulkSerializer(data=data)
        serializer.is_valid(raise_exception=True)
        rows = services.contacts_bulk_upsert(
            workspace=self._workspace,
            rows=serializer.validated_data["contacts"],
            source=ContactSource.API,
            actor=api_user(request),
        )
        counts = dict.fromkeys(("created", "updated", "unchanged", "error"), 0)
        for row in rows:
            counts[row.status] += 1
        # Built directly: 10,000 rows through a serializer would cost more than the upsert's queries.
        return Response(
            {
                "created": counts["created"],
                "updated": counts["updated"],
                "unchanged": counts["unchanged"],
                "errors": counts["error"],
                "results": [
                    {"index": row.index, "status": row.status, "id": row.id, "errors": row.errors}
                    for row in rows
                ],
            }
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("format", str, enum=[*EXPORT_TYPES], description="File type; csv if left out."),
            *FILTER_PARAMETERS,
        ],
        responses={
            (200, EXPORT_TYPES["csv"]): OpenApiResponse(OpenApiTypes.BINARY, description="The file."),
            (200, EXPORT_TYPES["xlsx"]): OpenApiResponse(OpenApiTypes.BINARY, description="The file."),
        },
        description="Every contact of the filtered list, oldest first, one column per field and per "
        f"custom field. Cells that a spreadsheet would run as a formula are escaped. {FILTER_HELP}",
    )
    @action(detail=False, methods=["get"], content_negotiation_class=IgnoreFormatParameter)
    def export(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase:
        kind = kwargs.get("format") or request.query_params.get("format") or "csv"
        if kind not in EXPORT_TYPES:
            raise serializers.ValidationError({"format": [f"Use one of: {', '.join(EXPORT_TYPES)}."]})
        workspace = self._workspace
        contacts = selectors.contact_list(
            workspace=workspace, filters=_contact_filter(request.query_params, workspace=workspace)
        )
        keys = selectors.custom_field_list(workspace=workspace).values_list("key", flat=True)
        columns = exporting.export_columns(list(keys))
        today = timezone.localdate(timezone=ZoneInfo(workspace.time_zone))
        filename = f"{workspace.slug}-contacts-{today.isoformat()}.{kind}"
        if kind == "xlsx":
            return FileResponse(
                exporting.write_xlsx(contacts, columns),
                as_attachment=True,
                filename=filename,
                content_type=EXPORT_TYPES["xlsx"],
            )
        response = StreamingHttpResponse(
            exporting.csv_lines(contacts, columns), content_type=EXPORT_TYPES["csv"]
        )
        response["Content-Disposition"] = f'attachment; filename="{filename}"'  # slug and date: ASCII
        return response


# --- Tags ---------------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(description="The workspace's tags by name, with how many contacts have each."),
    destroy=extend_schema(description="Delete the tag; its contacts stay."),
)
class TagViewSet(WorkspaceScopedViewSetMixin, viewsets.ModelViewSet):
    """Tags mark contacts; names are unique per workspace, whatever their case."""

    serializer_class = TagSerializer
    queryset = Tag.objects.all()
    filter_backends: list[Any] = []

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return Tag.objects.none()
        workspace = api_context(self.request).workspace
        # Counting links is a join over every tagged contact: only where the count is shown.
        return selectors.tag_list(
            workspace=workspace, with_counts=self.action in {"list", "retrieve", "update", "partial_update"}
        )

    @extend_schema(
        examples=[
            OpenApiExample(
                "A campaign tag",
                value={
                    "name": "spring-event",
                    "colour": "#1f6f5c",
                    "description": "Came to the spring event",
                },
                request_only=True,
            )
        ]
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer: serializers.BaseSerializer[Tag]) -> None:
        serializer.instance = services.tag_create(
            workspace=api_context(self.request).workspace, **serializer.validated_data
        )

    def perform_update(self, serializer: serializers.BaseSerializer[Tag]) -> None:
        tag = serializer.instance
        assert tag is not None  # noqa: S101 - DRF sets it for updates
        data = {"name": tag.name, "colour": tag.colour, "description": tag.description}
        serializer.instance = services.tag_update(tag=tag, **(data | serializer.validated_data))

    def perform_destroy(self, instance: Tag) -> None:
        services.tag_delete(tag=instance)

    def _targets(self, request: Request) -> Any:
        serializer = TagTargetSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        workspace = api_context(request).workspace
        if "contact_ids" in serializer.validated_data:
            return selectors.contacts_by_ids(
                workspace=workspace, ids=serializer.validated_data["contact_ids"]
            )
        params = _as_params(serializer.validated_data["filters"])
        filters, errors = _parse_filters(params, workspace=workspace, strict=True)
        if errors:
            raise serializers.ValidationError({"filters": errors})
        return selectors.contact_list(workspace=workspace, filters=filters)

    @extend_schema(
        request=TagTargetSerializer,
        responses=TagAppliedSerializer,
        description="Tag many contacts at once, by id or by the contact list's filters.",
        examples=[
            OpenApiExample("By id", value={"contact_ids": [101, 102]}, request_only=True),
            OpenApiExample(
                "By filter", value={"filters": {"city": "Berlin", "tag": ["newsletter"]}}, request_only=True
            ),
        ],
    )
    @action(detail=True, methods=["post"], parser_classes=[JSONParser])
    def apply(self, request: Request, pk: str | None = None) -> Response:
        tag = self.get_object()  # first: another workspace's tag is a 404 whatever the body
        return Response({"added": services.contacts_tag(contacts=self._targets(request), tag=tag)})

    @extend_schema(
        request=TagTargetSerializer,
        responses=TagRemovedSerializer,
        description="Untag many contacts at once, by id or by the contact list's filters.",
    )
    @action(detail=True, methods=["post"], parser_classes=[JSONParser])
    def remove(self, request: Request, pk: str | None = None) -> Response:
        tag = self.get_object()
        return Response({"removed": services.contacts_untag(contacts=self._targets(request), tag=tag)})


# --- Custom fields ------------------------------------------------------------------------------------


@extend_schema_view(
    destroy=extend_schema(description="Delete the field and remove its value from every contact."),
    update=extend_schema(description="Change the label or the choices; key and type stay as created."),
    partial_update=extend_schema(
        description="Change the label or the choices; key and type stay as created."
    ),
)
class CustomFieldViewSet(WorkspaceScopedViewSetMixin, viewsets.ModelViewSet):
    """Workspace-defined contact attributes. Admins manage them; everyone reads them."""

    serializer_class = CustomFieldSerializer
    queryset = CustomField.objects.all()
    write_role = Role.ADMIN
    filter_backends: list[Any] = []

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return CustomField.objects.none()
        return selectors.custom_field_list(workspace=api_context(self.request).workspace)

    @extend_schema(
        examples=[
            OpenApiExample(
                "A choice field",
                value={
                    "key": "loyalty_tier",
                    "label": "Loyalty tier",
                    "type": "choice",
                    "choices": ["silver", "gold"],
                },
                request_only=True,
            )
        ]
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer: serializers.BaseSerializer[CustomField]) -> None:
        data = serializer.validated_data
        try:
            serializer.instance = services.custom_field_create(
                workspace=api_context(self.request).workspace,
                key=data["key"],
                label=data["label"],
                field_type=data["field_type"],
                choices=data.get("choices", []),
            )
        except DjangoValidationError as error:
            raise _renamed(error, {"field_type": "type"}) from error

    def perform_update(self, serializer: serializers.BaseSerializer[CustomField]) -> None:
        custom_field = serializer.instance
        assert custom_field is not None  # noqa: S101 - DRF sets it for updates
        data = serializer.validated_data
        try:
            serializer.instance = services.custom_field_update(
                custom_field=custom_field,
                label=data.get("label", custom_field.label),
                choices=data.get("choices", custom_field.choices),
                key=data.get("key"),
                field_type=data.get("field_type"),
            )
        except DjangoValidationError as error:
            raise _renamed(error, {"field_type": "type"}) from error

    def perform_destroy(self, instance: CustomField) -> None:
        services.custom_field_delete(custom_field=instance)
