"""REST API for the workspace, its teams, members, invitations and API tokens. Thin: services write."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import generics, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.roles import Role
from apps.workspaces import invitations, selectors, services, tokens
from apps.workspaces.models import ApiToken, Invitation, Membership, Team, Workspace
from apps.workspaces.permissions import api_context, api_user
from apps.workspaces.viewsets import WorkspaceScopedViewSetMixin


class WorkspaceSerializer(serializers.ModelSerializer[Workspace]):
    class Meta:
        model = Workspace
        fields = (
            "id",
            "name",
            "slug",
            "time_zone",
            "default_sender_name",
            "default_sender_email",
            "default_phone_region",
            "currency",
            "postal_address",
            "contact_pressure_limit",
            "contact_pressure_days",
            "created_at",
        )
        read_only_fields = ("id", "slug", "created_at")


class TeamSerializer(serializers.ModelSerializer[Team]):
    member_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Team
        fields = ("id", "name", "kind", "description", "member_count", "created_at")
        read_only_fields = ("id", "created_at")


class WorkspaceTeamField(serializers.PrimaryKeyRelatedField):
    """A team id that must belong to the request's workspace (others are 'does not exist')."""

    def get_queryset(self) -> Any:
        return Team.objects.filter(workspace=api_context(self.context["request"]).workspace)


class MembershipSerializer(serializers.ModelSerializer[Membership]):
    email = serializers.EmailField(source="user.email", read_only=True)
    name = serializers.CharField(source="user.get_full_name", read_only=True)
    team = WorkspaceTeamField(allow_null=True, required=False)

    class Meta:
        model = Membership
        fields = ("id", "email", "name", "team", "role", "created_at")
        read_only_fields = ("id", "email", "name", "created_at")


class InvitationSerializer(serializers.ModelSerializer[Invitation]):
    team = WorkspaceTeamField(allow_null=True, required=False)
    status = serializers.CharField(read_only=True)

    class Meta:
        model = Invitation
        fields = ("id", "email", "role", "team", "status", "expires_at", "sent_at", "created_at")
        read_only_fields = ("id", "status", "expires_at", "sent_at", "created_at")


class ApiTokenSerializer(serializers.ModelSerializer[ApiToken]):
    created_by = serializers.EmailField(source="created_by.email", read_only=True, default=None)
    is_active = serializers.BooleanField(read_only=True)

    class Meta:
        model = ApiToken
        fields: tuple[str, ...] = (
            "id",
            "name",
            "role",
            "prefix",
            "created_by",
            "created_at",
            "last_used_at",
            "revoked_at",
            "is_active",
        )
        read_only_fields = ("id", "prefix", "created_by", "created_at", "last_used_at", "revoked_at")


class IssuedApiTokenSerializer(ApiTokenSerializer):
    key = serializers.CharField(
        read_only=True, help_text="Shown once: store it now, it cannot be shown again."
    )

    class Meta(ApiTokenSerializer.Meta):
        fields = (*ApiTokenSerializer.Meta.fields, "key")


class CurrentWorkspaceView(generics.RetrieveUpdateAPIView):
    """The workspace this request acts in. Admins may update it."""

    serializer_class = WorkspaceSerializer
    write_role = Role.ADMIN

    def get_object(self) -> Workspace:
        return api_context(self.request).workspace

    def perform_update(self, serializer: serializers.BaseSerializer[Workspace]) -> None:
        serializer.instance = services.workspace_update(
            workspace=self.get_object(), **serializer.validated_data
        )


class TeamViewSet(WorkspaceScopedViewSetMixin, viewsets.ModelViewSet):
    serializer_class = TeamSerializer
    queryset = Team.objects.all()
    write_role = Role.ADMIN
    filterset_fields = ("kind",)
    ordering_fields = ("name", "created_at")

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return Team.objects.none()
        return selectors.team_list(workspace=api_context(self.request).workspace)

    def perform_create(self, serializer: serializers.BaseSerializer[Team]) -> None:
        serializer.instance = services.team_create(
            workspace=api_context(self.request).workspace, **serializer.validated_data
        )

    def perform_update(self, serializer: serializers.BaseSerializer[Team]) -> None:
        team = serializer.instance
        assert team is not None  # noqa: S101 - DRF sets it for updates
        data = {
            "name": team.name,
            "kind": team.kind,
            "description": team.description,
            **serializer.validated_data,
        }
        serializer.instance = services.team_update(team=team, **data)

    def perform_destroy(self, instance: Team) -> None:
        services.team_delete(team=instance)


class MembershipViewSet(
    WorkspaceScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Members of the workspace. People join through invitations, so there is no create."""

    serializer_class = MembershipSerializer
    queryset = Membership.objects.select_related("user", "team")
    write_role = Role.ADMIN
    filterset_fields = ("role", "team")

    def perform_update(self, serializer: serializers.BaseSerializer[Membership]) -> None:
        membership = serializer.instance
        assert membership is not None  # noqa: S101
        data = serializer.validated_data
        serializer.instance = services.membership_update(
            membership=membership,
            role=data.get("role", membership.role),
            team=data.get("team", membership.team),
        )

    def perform_destroy(self, instance: Membership) -> None:
        services.membership_remove(membership=instance)


@extend_schema_view(
    destroy=extend_schema(description="Withdraw a pending invitation; its link stops working.")
)
class InvitationViewSet(
    WorkspaceScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Invitations by email. Creating one sends the email through Celery."""

    serializer_class = InvitationSerializer
    queryset = Invitation.objects.select_related("team")
    read_role = Role.ADMIN
    write_role = Role.ADMIN

    @extend_schema(
        examples=[
            OpenApiExample("Invite a sales editor", value={"email": "sam@example.com", "role": "editor"})
        ]
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer: serializers.BaseSerializer[Invitation]) -> None:
        data = serializer.validated_data
        serializer.instance = invitations.invitation_create(
            workspace=api_context(self.request).workspace,
            email=data["email"],
            role=data.get("role", Role.EDITOR),
            team=data.get("team"),
            invited_by=api_user(self.request),
        )

    def perform_destroy(self, instance: Invitation) -> None:
        invitations.invitation_revoke(invitation=instance)

    @extend_schema(request=None, responses=InvitationSerializer)
    @action(detail=True, methods=["post"])
    def resend(self, request: Request, pk: str | None = None) -> Response:
        invitation = invitations.invitation_resend(invitation=self.get_object())
        return Response(self.get_serializer(invitation).data)


class ApiTokenViewSet(
    WorkspaceScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """API tokens of the workspace. The key is returned once, on creation."""

    serializer_class = ApiTokenSerializer
    queryset = ApiToken.objects.select_related("created_by")
    read_role = Role.ADMIN
    write_role = Role.ADMIN

    @extend_schema(
        responses={201: IssuedApiTokenSerializer},
        examples=[OpenApiExample("Shop integration", value={"name": "Shopify sync", "role": "editor"})],
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        issued = tokens.api_token_create(
            workspace=api_context(request).workspace,
            name=serializer.validated_data["name"],
            role=serializer.validated_data.get("role", Role.VIEWER),
            created_by=api_user(request),
            creator_role=api_context(request).role,
        )
        body = IssuedApiTokenSerializer(issued.token).data | {"key": issued.key}
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=ApiTokenSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: str | None = None) -> Response:
        token = tokens.api_token_revoke(token=self.get_object())
        return Response(self.get_serializer(token).data)
