from __future__ import annotations

from celery import shared_task

from apps.contacts import services


@shared_task(name="contacts.refresh_ages")
def refresh_ages() -> int:
    """Daily: keep `age` current from `birth_date`, so segments on age stay true."""
    return services.contacts_refresh_ages()


@shared_task(name="contacts.purge_import_files")
def purge_import_files() -> int:
    """Daily: uploaded lists and reports hold personal data; keep them `IMPORT_RETENTION_DAYS`."""
    from apps.contacts.importing.retention import import_files_purge

    return import_files_purge()


@shared_task(name="contacts.run_import", acks_late=True)
def run_import(job_id: int, dry_run: bool = False) -> None:
    """Thin wrapper: the job row holds settings and progress; re-running it is safe (upserts)."""
    from apps.contacts.importing import pipeline
    from apps.contacts.models import ImportJob

    job = ImportJob.objects.select_related("workspace", "created_by").filter(id=job_id).first()
    if job is None or job.is_finished:
        return
    if job.cancel_requested:  # cancelled while it waited in the queue
        pipeline.import_mark_cancelled(job=job)
        return
    try:
        pipeline.import_execute(job=job, dry_run=dry_run)
    except Exception as error:
        # Whatever broke (a lost file, a database outage), the job must not stay "running" forever;
        # what was committed stays: whole chunks on SQLite (`committed_rows` says how far they
        # reach), merge lanes that committed on PostgreSQL (the error names them).
        pipeline.import_mark_failed(job=job, failure=f"The import stopped unexpectedly: {error}")
        raise
