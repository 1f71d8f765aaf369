"""`create_api_token --workspace SLUG --email EMAIL --role ROLE`: prints the key alone on stdout."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.roles import Role
from apps.workspaces import tokens
from apps.workspaces.models import Membership


class Command(BaseCommand):
    help = "Issue an API token for a member of a workspace. The key is printed once, alone, on stdout."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workspace", required=True, help="Workspace slug.")
        parser.add_argument("--email", required=True, help="The member the token is issued for.")
        parser.add_argument("--role", default=Role.VIEWER, choices=Role.values)
        parser.add_argument("--name", default="Command-line token")

    def handle(self, *args: Any, workspace: str, email: str, role: str, name: str, **options: Any) -> None:
        membership = (
            Membership.objects.select_related("workspace", "user")
            .filter(workspace__slug=workspace, user__email__iexact=email.strip())
            .first()
        )
        if membership is None:
            raise CommandError(f"{email} is not a member of a workspace with slug “{workspace}”.")
        try:
            issued = tokens.api_token_create(
                workspace=membership.workspace,
                name=name,
                role=role,
                created_by=membership.user,
                creator_role=Role(membership.role),
            )
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from error
        self.stdout.write(issued.key)
