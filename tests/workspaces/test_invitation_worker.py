"""The invitation email goes out through a real Celery worker on Redis, not inline."""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_prerun
from django.core import mail

from apps.core.roles import Role
from apps.workspaces import invitations
from apps.workspaces.models import Invitation
from apps.workspaces.tasks import send_invitation_email
from config.celery import app as celery_app
from tests.factories import MembershipFactory, WorkspaceFactory

pytestmark = [
    pytest.mark.real_worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("worker"),
]

TASK_TIMEOUT = 30.0


@pytest.fixture
def private_queue(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A queue of this test's own on the shared Redis database.

    Another test run's worker cannot take the task, and leftovers on the default queue do not run
    here. The embedded worker narrows the app's queue selection to it; that is undone afterwards.
    """
    name = f"test-invitation-worker-{uuid.uuid4().hex}"
    queues = celery_app.amqp.queues
    monkeypatch.setitem(celery_app.conf, "task_default_queue", name)
    monkeypatch.setitem(celery_app.conf, "worker_hijack_root_logger", False)  # keep pytest's log capture
    monkeypatch.setattr(queues, "_consume_from", queues._consume_from)
    yield name
    with celery_app.connection_for_write() as connection:
        queue = queues[name].bind(connection.default_channel)
        queue.declare()  # kombu's Redis transport deletes only the bindings this channel knows
        queue.delete()
    queues.pop(name, None)


@pytest.fixture
def task_threads() -> Iterator[list[threading.Thread]]:
    """The threads that started send_invitation_email."""
    threads: list[threading.Thread] = []

    def record(sender: Any = None, **kwargs: Any) -> None:
        if sender is not None and sender.name == send_invitation_email.name:
            threads.append(threading.current_thread())

    task_prerun.connect(record, weak=False)
    yield threads
    task_prerun.disconnect(record)


def _wait_until(condition: Callable[[], bool], timeout: float = TASK_TIMEOUT) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_worker_emails_the_invitation_and_records_when_it_was_sent(
    private_queue: str, task_threads: list[threading.Thread]
) -> None:
    assert celery_app.conf.task_always_eager is False, "inline tasks would pass without a worker"
    workspace = WorkspaceFactory(name="Acme Outdoor")
    admin = MembershipFactory(workspace=workspace, role=Role.ADMIN).user

    with start_worker(celery_app, perform_ping_check=False, pool="solo", queues=[private_queue]):
        invitation = invitations.invitation_create(
            workspace=workspace, email="dana@acme.example", role=Role.EDITOR, team=None, invited_by=admin
        )
        sent = _wait_until(
            lambda: Invitation.objects.filter(id=invitation.id, sent_at__isnull=False).exists()
        )

    assert sent, f"the worker did not send the invitation within {TASK_TIMEOUT:.0f} s"
    assert [message.to for message in mail.outbox] == [["dana@acme.example"]]
    link = re.search(r"/invitations/(?P<token>[^/\s]+)/", mail.outbox[0].body)
    assert link is not None, mail.outbox[0].body
    assert invitations.invitation_from_token(link["token"]) == invitation
    assert task_threads, "send_invitation_email never started"
    assert threading.current_thread() not in task_threads, "the task ran inline, not on the worker"
