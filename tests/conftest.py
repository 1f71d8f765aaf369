"""Shared fixtures: the standing cast (owner, member, outsider) and clients for each surface."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.conf import settings
from django.test import Client
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.core.roles import Role
from apps.workspaces.models import Membership, Workspace
from config.celery import app as celery_app
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory, issue_token


def pytest_configure(config: pytest.Config) -> None:
    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine:
        raise pytest.UsageError(
            f"The suite runs against PostgreSQL, but DATABASE_URL points to {engine}. Run `make test`."
        )


@pytest.fixture(autouse=True)
def _eager_celery(request: pytest.FixtureRequest) -> None:
    """Tasks run inline unless a test asks for a real worker (marker `real_worker`)."""
    eager = request.node.get_closest_marker("real_worker") is None
    celery_app.conf.task_always_eager = eager
    celery_app.conf.task_eager_propagates = eager


@pytest.fixture(autouse=True)
def _threads_only_where_they_can_see_the_data(request: pytest.FixtureRequest, settings) -> None:
    """PostgreSQL imports merge in a thread, and sends hand over in several lanes (threads), each
    with its own connection, which sees committed data only: tests whose data lives in the test's
    transaction run them in their own thread instead (the same statements). Transactional tests
    (live server, `transaction=True`) use the threads, as in use."""
    marker = request.node.get_closest_marker("django_db")
    transactional = bool(marker and marker.kwargs.get("transaction")) or bool(
        {"live_server", "transactional_db"} & set(request.fixturenames)
    )
    settings.IMPORT_BACKGROUND_WRITER = transactional
    if not transactional:
        settings.DELIVERY_SEND_LANES = 1
    # Cleaning helpers are processes a test's monkeypatching cannot reach; their own tests
    # (test_import_cleaners) turn them on.
    settings.IMPORT_CLEANING_HELPERS = 0


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    # PBKDF2 is slow on purpose; tests create many users and need none of its strength.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _media_in_a_temporary_folder(settings, tmp_path) -> None:
    """Uploaded imports and their reports land in the test's own folder, never in var/media."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _text_messages_in_memory(settings) -> None:
    """Like Django's test email outbox: texts land in `apps.core.sms.outbox`, empty for each test."""
    from apps.core import sms

    settings.SMS_BACKEND = "apps.core.sms.LocmemSmsBackend"
    sms.outbox.clear()


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    from django.core.cache import cache

    cache.clear()


@dataclass
class Cast:
    """Workspace A with an owner (admin) and a member (editor); an outsider owns workspace B."""

    workspace: Workspace
    owner: User
    owner_membership: Membership
    member: User
    member_membership: Membership
    other_workspace: Workspace
    outsider: User
    outsider_membership: Membership


@pytest.fixture
def cast(db: None) -> Cast:
    workspace = WorkspaceFactory(name="Acme Outdoor", slug="acme")
    other = WorkspaceFactory(name="Rival Gear", slug="rival")
    owner_m = MembershipFactory(
        workspace=workspace, user=UserFactory(email="owner@acme.example"), role=Role.ADMIN
    )
    member_m = MembershipFactory(
        workspace=workspace, user=UserFactory(email="member@acme.example"), role=Role.EDITOR
    )
    outsider_m = MembershipFactory(
        workspace=other, user=UserFactory(email="boss@rival.example"), role=Role.ADMIN
    )
    return Cast(
        workspace=workspace,
        owner=owner_m.user,
        owner_membership=owner_m,
        member=member_m.user,
        member_membership=member_m,
        other_workspace=other,
        outsider=outsider_m.user,
        outsider_membership=outsider_m,
    )


@pytest.fixture
def owner_client(cast: Cast) -> Client:
    client = Client()
    client.force_login(cast.owner)
    return client


@pytest.fixture
def member_client(cast: Cast) -> Client:
    client = Client()
    client.force_login(cast.member)
    return client


@pytest.fixture
def outsider_client(cast: Cast) -> Client:
    client = Client()
    client.force_login(cast.outsider)
    return client


@pytest.fixture
def owner_api(cast: Cast) -> APIClient:
    """The owner's integration: an admin API token of workspace A."""
    _, key = issue_token(membership=cast.owner_membership)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


@pytest.fixture
def member_api(cast: Cast) -> APIClient:
    _, key = issue_token(membership=cast.member_membership)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def _token_client(membership: Membership) -> APIClient:
    _, key = issue_token(membership=membership)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def _logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def viewer_membership(cast: Cast) -> Membership:
    """A viewer of workspace A, beside the standing cast."""
    return MembershipFactory(workspace=cast.workspace, role=Role.VIEWER)


@pytest.fixture
def viewer_client(viewer_membership: Membership) -> Client:
    return _logged_in(viewer_membership.user)


@pytest.fixture
def viewer_api(viewer_membership: Membership) -> APIClient:
    return _token_client(viewer_membership)


@pytest.fixture
def approver_membership(cast: Cast) -> Membership:
    """An approver of workspace A: signs off (schedules) content."""
    return MembershipFactory(workspace=cast.workspace, role=Role.APPROVER)


@pytest.fixture
def approver_client(approver_membership: Membership) -> Client:
    return _logged_in(approver_membership.user)


@pytest.fixture
def approver_api(approver_membership: Membership) -> APIClient:
    return _token_client(approver_membership)
