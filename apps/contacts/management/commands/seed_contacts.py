"""`seed_contacts N --workspace SLUG [--seed S]`: add N realistic generated contacts with tags."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.contacts.seeding import contacts_seed
from apps.workspaces.models import Workspace


class Command(BaseCommand):
    help = (
        "Add N generated contacts (names by locale, unique emails on reserved .example domains, "
        "phones, persona attributes, consent, 0-3 tags) to a workspace. Safe to run again: "
        "every run adds new contacts."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("count", type=int, help="How many contacts to add.")
        parser.add_argument("--workspace", required=True, help="The workspace's slug.")
        parser.add_argument("--seed", type=int, default=None, help="Random seed, for repeatable data.")
        parser.add_argument(
            "--chunk-size", type=int, default=50_000, help="Contacts per COPY and transaction."
        )

    def handle(self, *args: Any, count: int, workspace: str, seed: int | None, **options: Any) -> None:
        if count < 1:
            raise CommandError("Give a positive number of contacts.")
        found = Workspace.objects.filter(slug=workspace).first()
        if found is None:
            raise CommandError(f"There is no workspace with the slug “{workspace}”.")
        self.stdout.write(f"Seeding {count:,} contacts into {found.name} ({found.slug})…")

        def progress(done: int, total: int, seconds: float) -> None:
            rate = done / seconds if seconds else 0
            self.stdout.write(f"  {done:>12,} / {total:,} contacts  {seconds:7.1f} s  {rate:>10,.0f} rows/s")

        result = contacts_seed(
            workspace=found, count=count, seed=seed, chunk_size=options["chunk_size"], progress=progress
        )
        self.stdout.write(
            f"Seeded {result.contacts:,} contacts and {result.links:,} tag links in "
            f"{result.seconds:.1f} s: {result.rows_per_second:,.0f} rows/s"
        )
