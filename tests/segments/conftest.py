"""Fixtures of the segment tests: a viewer beside the standing cast."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from apps.core.roles import Role
from tests.conftest import Cast
from tests.factories import MembershipFactory, issue_token


@pytest.fixture
def viewer_membership(cast: Cast):
    return MembershipFactory(workspace=cast.workspace, role=Role.VIEWER)


@pytest.fixture
def viewer_client(viewer_membership) -> Client:
    client = Client()
    client.force_login(viewer_membership.user)
    return client


@pytest.fixture
def viewer_api(viewer_membership) -> APIClient:
    _, key = issue_token(membership=viewer_membership)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client
