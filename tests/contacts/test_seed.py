from __future__ import annotations

import io
from collections import Counter

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count
from django.utils import timezone

from apps.contacts.cleaning import age_on, clean_contact_values, normalise_email, normalise_phone
from apps.contacts.models import Contact, ContactTag, Tag
from apps.contacts.seed_data import CITIES, TAG_NAMES
from apps.contacts.services import contact_rules
from apps.workspaces.demo import DEMO_CONTACTS, seed_demo
from apps.workspaces.models import Workspace
from tests.conftest import Cast

pytestmark = pytest.mark.django_db

RESERVED_DOMAINS = {"example.com", "example.net", "example.org"}
CHECKED_FIELDS = (
    "first_name", "last_name", "birth_date", "age", "gender", "marital_status", "children_in_household",
    "city", "region", "country", "postal_code", "household_income_band", "education_level",
    "customer_since", "orders_count", "total_spent", "last_purchase_at", "language", "timezone",
    "email_consent", "sms_consent",
)  # fmt: skip


def _seed(count: int, workspace: str = "acme", *args: str) -> str:
    out = io.StringIO()
    call_command("seed_contacts", str(count), "--workspace", workspace, *args, stdout=out)
    return out.getvalue()


def test_seed_contacts_creates_plausible_contacts_in_the_given_workspace_only(cast: Cast) -> None:
    output = _seed(500, "acme", "--seed", "7")

    contacts = list(Contact.objects.filter(workspace=cast.workspace))
    assert len(contacts) == 500
    assert not Contact.objects.filter(workspace=cast.other_workspace).exists()
    assert "rows/s" in output.splitlines()[-1]
    rules = contact_rules(workspace=cast.workspace)
    for contact in contacts:
        values = {name: getattr(contact, name) for name in CHECKED_FIELDS}
        assert clean_contact_values(values, rules=rules).errors == {}, contact.email
        assert contact.email_normalized == normalise_email(contact.email)
        if contact.phone:
            assert contact.phone_e164 == normalise_phone(contact.phone, region="DE")
        if contact.age is not None:
            assert 18 <= contact.age <= 80
        if contact.birth_date:
            assert age_on(contact.birth_date, timezone.now().date()) == contact.age
        domain = contact.email_normalized.rsplit("@", 1)[1]
        assert domain in RESERVED_DOMAINS or domain.endswith(".example")  # RFC 2606: nobody's mailbox
        assert contact.custom == {}
    assert len({contact.email_normalized for contact in contacts}) == 500


def test_seeded_attributes_have_realistic_proportions(cast: Cast) -> None:
    _seed(500, "acme", "--seed", "11")
    contacts = list(Contact.objects.filter(workspace=cast.workspace))

    with_phone = sum(1 for contact in contacts if contact.phone_e164) / len(contacts)
    with_birth_date = sum(1 for contact in contacts if contact.birth_date) / len(contacts)
    assert 0.22 <= with_phone <= 0.38
    assert 0.50 <= with_birth_date <= 0.70
    places = {(c.city, c.region): c.country for c in contacts}
    known = {(city[0], city[1]): country for country, cities in CITIES.items() for city in cities}
    assert all(known[place] == country for place, country in places.items())
    assert Counter(c.country for c in contacts).most_common(1)[0][0] == "DE"  # the workspace's region
    assert {c.email_consent for c in contacts} == {"opted_in", "unknown", "opted_out"}


def test_seeded_contacts_have_zero_to_three_tags_of_their_own_workspace(cast: Cast) -> None:
    _seed(500, "acme", "--seed", "3")

    per_contact = Counter(
        dict(
            Contact.objects.filter(workspace=cast.workspace).annotate(n=Count("tags")).values_list("id", "n")
        ).values()
    )
    assert set(per_contact) <= {0, 1, 2, 3}
    assert 1.3 <= sum(n * k for n, k in per_contact.items()) / 500 <= 1.7
    assert not ContactTag.objects.exclude(tag__workspace=cast.workspace).exists()
    assert Tag.objects.filter(workspace=cast.workspace).count() == len(TAG_NAMES) == 50


def test_running_seed_contacts_again_adds_new_contacts(cast: Cast) -> None:
    _seed(500, "acme", "--seed", "5")
    _seed(500, "acme", "--seed", "5")

    emails = Contact.objects.filter(workspace=cast.workspace).values_list("email_normalized", flat=True)
    assert len(emails) == 1000
    assert len(set(emails)) == 1000
    assert Tag.objects.filter(workspace=cast.workspace).count() == 50


def test_seeded_phones_follow_the_workspace_region(cast: Cast) -> None:
    cast.other_workspace.default_phone_region = "US"
    cast.other_workspace.save(update_fields=["default_phone_region"])

    _seed(300, "rival", "--seed", "9")

    phones = Contact.objects.filter(workspace=cast.other_workspace).exclude(phone_e164="")
    assert phones.exists()
    assert all(phone.startswith("+1") for phone in phones.values_list("phone_e164", flat=True))
    assert all(normalise_phone(c.phone, region="US") == c.phone_e164 for c in phones)


def test_seed_contacts_refuses_an_unknown_workspace(cast: Cast) -> None:
    with pytest.raises(CommandError, match="no workspace"):
        _seed(10, "nowhere")


def test_seed_demo_gives_acme_demo_contacts_with_tags_once(db: None) -> None:
    seed_demo()
    acme = Workspace.objects.get(slug="acme")
    Contact.objects.filter(workspace=acme).order_by("id").first().delete()  # type: ignore[union-attr]

    seed_demo()  # acme has contacts: left as they are

    assert Contact.objects.filter(workspace=acme).count() == DEMO_CONTACTS - 1
    assert ContactTag.objects.filter(tag__workspace=acme).count() > DEMO_CONTACTS
    assert not Contact.objects.exclude(workspace=acme).exists()
