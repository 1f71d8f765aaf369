"""`import_contacts --workspace SLUG FILE [--preset NAME] [--mode ...] [--tag NAME ...]`: the import
pipeline, run synchronously. Prints one JSON summary line last; exits 0 when the file was read (row
errors are reported, not fatal) and non-zero when it cannot be read at all."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.contacts.choices import ImportMode, ImportStatus
from apps.contacts.importing import pipeline, presets
from apps.contacts.models import ImportPreset
from apps.workspaces.models import Workspace


class Command(BaseCommand):
    help = "Import a CSV or XLSX contact list into a workspace, as the browser and the API do."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--workspace", required=True, help="Workspace slug.")
        parser.add_argument(
            "--preset",
            help="Name of a saved import preset: its mapping and choices (the options below override "
            "them; --tag adds to its tags).",
        )
        parser.add_argument("--mode", choices=ImportMode.values, help="upsert unless the preset says.")
        parser.add_argument("--tag", action="append", default=[], help="Add this tag to every contact.")
        parser.add_argument("--delimiter", help="Cell separator, e.g. ';' (detected when left out).")
        parser.add_argument("--encoding", help="e.g. utf-8, cp1252, utf-16 (detected when left out).")
        parser.add_argument("--date-order", choices=["dmy", "mdy"], help="For ambiguous dates.")
        parser.add_argument("--dry-run", action="store_true", help="Check every row without storing.")

    def handle(self, *args: Any, **options: Any) -> None:
        workspace = Workspace.objects.filter(slug=options["workspace"]).first()
        if workspace is None:
            raise CommandError(f"There is no workspace with the slug “{options['workspace']}”.")
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path} is not a file.")
        preset = self._preset(workspace, options["preset"])
        base = presets.preset_settings(preset) if preset else pipeline.ImportSettings()
        settings = dataclasses.replace(
            base,
            mode=options["mode"] or base.mode,
            tags=list(dict.fromkeys([*base.tags, *options["tag"]])),
            delimiter=options["delimiter"],
            encoding=options["encoding"],
            date_order=options["date_order"] or base.date_order,
        )
        try:
            with path.open("rb") as handle:
                job = pipeline.import_create(
                    workspace=workspace, upload=File(handle, name=path.name), actor=None, options=settings
                )
            if preset is not None:
                for note in presets.import_preset_notes(job=job, preset=preset):
                    self.stderr.write(f"Preset “{preset.name}”: {note}")
            try:
                pipeline.import_check_ready(job=job)
            except ValidationError:
                job.file.delete(save=False)
                job.delete()
                raise
            job = pipeline.import_execute(job=job, dry_run=options["dry_run"])
        except ValidationError as error:
            if "date_order" in getattr(error, "error_dict", {}):
                raise CommandError(
                    "The dates could be day/month or month/day: pass --date-order dmy or mdy."
                ) from error
            raise CommandError("; ".join(error.messages)) from error
        if job.status == ImportStatus.FAILED:
            raise CommandError(job.failure)
        self.stdout.write(json.dumps(pipeline.import_summary(job), ensure_ascii=False))

    @staticmethod
    def _preset(workspace: Workspace, name: str | None) -> ImportPreset | None:
        if name is None:
            return None
        preset = presets.import_preset_by_name(workspace=workspace, name=name)
        if preset is None:
            known = ", ".join(f"“{saved.name}”" for saved in presets.import_preset_list(workspace=workspace))
            raise CommandError(
                f"There is no import preset “{name}” in {workspace.slug}"
                + (f"; its presets are {known}." if known else "; it has none yet.")
            )
        return preset
