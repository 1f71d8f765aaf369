"""`seed_demo`: the Acme Outdoor demo workspace with a user per team. Safe to run again."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from apps.workspaces.demo import DEMO_PASSWORD, seed_demo


class Command(BaseCommand):
    help = "Create or refresh the demo workspaces “Acme Outdoor” (acme) and “Summit Kids” (summit)."

    def handle(self, *args: Any, **options: Any) -> None:
        people = seed_demo()
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for person, workspaces in people:
            self.stdout.write(
                f"  {person.email:<22} {person.team.label:<10} {person.role.label:<9} workspaces: {workspaces}"
            )
