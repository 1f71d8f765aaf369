"""`create_workspace SLUG --name NAME --owner EMAIL`: a workspace and its first admin."""

from __future__ import annotations

import secrets
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from apps.accounts.models import User
from apps.workspaces import services


class Command(BaseCommand):
    help = "Create a workspace with the four usual teams; the owner (created if missing) becomes admin."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--name", required=True)
        parser.add_argument("--owner", required=True, help="Email of the first admin.")
        parser.add_argument("--time-zone", default="UTC")

    @transaction.atomic
    def handle(self, *args: Any, slug: str, name: str, owner: str, time_zone: str, **options: Any) -> None:
        user = User.objects.filter(email__iexact=owner.strip()).first()
        password = None
        if user is None:
            password = secrets.token_urlsafe(12)
            user = User.objects.create_user(email=owner, password=password)
        try:
            workspace = services.workspace_create(name=name, slug=slug, owner=user, time_zone=time_zone)
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from error
        self.stdout.write(f"Created workspace {workspace.slug} ({workspace.name}) with admin {user.email}")
        if password:
            self.stdout.write(f"New login: {user.email} / {password}")
