from __future__ import annotations

from celery import shared_task

from apps.contacts import services


@shared_task(name="contacts.refresh_ages")
def refresh_ages() -> int:
    """Daily: keep `age` current from `birth_date`, so segments on age stay true."""
    return services.contacts_refresh_ages()
