"""`seed_demo`: the Acme Outdoor demo workspace with a user per team. Safe to run again."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.workspaces.demo import DEMO_PASSWORD, seed_demo


class Command(BaseCommand):
    help = "Create or refresh the demo workspaces “Acme Outdoor” (acme) and “Summit Kids” (summit)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force", action="store_true", help="Run even with DEBUG off (it resets the demo passwords)."
        )

    def handle(self, *args: Any, force: bool, **options: Any) -> None:
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_demo sets published passwords on the demo logins, so it runs only with DEBUG=true "
                "(as `make run` does). Pass --force if this really is a demo installation."
            )
        people = seed_demo()
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for person, workspaces in people:
            self.stdout.write(
                f"  {person.email:<22} {person.team.label:<10} {person.role.label:<9} workspaces: {workspaces}"
            )
