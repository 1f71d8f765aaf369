"""How long an uploaded contact list and its rejected-rows report are kept.

Both hold personal data: a person erased in Ensemble still sits in the file that brought them in.
So the files go `IMPORT_RETENTION_DAYS` after the import ended (and at once with their import or
workspace), while the import's row stays as the record of what was imported, when and by whom. An
upload nobody ever imported goes whole.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.contacts.choices import ImportStatus
from apps.contacts.models import ImportJob

FINISHED = (ImportStatus.COMPLETED, ImportStatus.CANCELLED, ImportStatus.FAILED)
NOT_STARTED = (ImportStatus.UPLOADED, ImportStatus.VALIDATED)


def retention_days() -> int:
    return int(getattr(settings, "IMPORT_RETENTION_DAYS", 30))


def import_files_purge(*, now: datetime | None = None) -> int:
    """Delete the files of imports that ended more than the retention ago, and imports never run
    that nobody touched for as long. Returns how many imports lost their files."""
    cutoff = (now or timezone.now()) - timedelta(days=retention_days())
    purged = 0
    ended = ImportJob.objects.filter(status__in=FINISHED, finished_at__lt=cutoff).exclude(
        Q(file="") & Q(report="")
    )
    for job in ended.only("id", "file", "report").iterator(chunk_size=500):
        _delete_files(job)
        ImportJob.objects.filter(id=job.id).update(file="", report="", updated_at=timezone.now())
        purged += 1
    for job in ImportJob.objects.filter(status__in=NOT_STARTED, updated_at__lt=cutoff).iterator(
        chunk_size=500
    ):
        job.delete()  # `delete_files_with_import` removes its file
        purged += 1
    return purged


def _delete_files(job: ImportJob) -> None:
    for stored in (job.file, job.report):
        if stored:
            stored.delete(save=False)


def delete_files_with_import(sender: type[ImportJob], instance: ImportJob, **kwargs: Any) -> None:
    """post_delete: an import's files go with it (also when its workspace is deleted), once the
    deletion is committed, so a rolled-back delete keeps them."""
    names = [(stored.storage, stored.name) for stored in (instance.file, instance.report) if stored]
    if names:
        transaction.on_commit(lambda: [storage.delete(name) for storage, name in names])
