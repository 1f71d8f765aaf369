"""Ids drawn up front from a table's own sequence (PostgreSQL)."""

from __future__ import annotations

import pytest
from django.db import connection

from apps.contacts.models import Contact
from apps.core.sequences import id_sequence, next_ids
from tests.conftest import Cast
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def test_id_sequence_names_the_sequence_behind_the_primary_key() -> None:
    with connection.cursor() as cursor:
        assert id_sequence(cursor, Contact) == "public.contacts_contact_id_seq"


def test_next_ids_are_increasing_and_never_given_again(cast: Cast) -> None:
    with connection.cursor() as cursor:
        ids = next_ids(cursor, Contact, 3)

    later = ContactFactory(workspace=cast.workspace)

    assert len(ids) == 3
    assert ids == sorted(set(ids))
    assert later.id > ids[-1]
