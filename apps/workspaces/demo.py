"""The demo company: Acme Outdoor and its sister brand, with one person per team."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from apps.accounts.models import User
from apps.core.roles import Role
from apps.workspaces import services
from apps.workspaces.models import Team, TeamKind, Workspace

DEMO_PASSWORD = "ensemble-demo"  # noqa: S105 - printed on purpose: demo data for local runs only
DEMO_CONTACTS = 2000


@dataclass(frozen=True)
class DemoPerson:
    email: str
    first_name: str
    last_name: str
    team: TeamKind
    role: Role


ACME_PEOPLE = (
    DemoPerson("maya@acme.example", "Maya", "Lindqvist", TeamKind.MARKETING, Role.ADMIN),
    DemoPerson("priya@acme.example", "Priya", "Raman", TeamKind.PRODUCT, Role.EDITOR),
    DemoPerson("sam@acme.example", "Sam", "Okafor", TeamKind.SALES, Role.APPROVER),
    DemoPerson("jordan@acme.example", "Jordan", "Weiss", TeamKind.SUPPORT, Role.EDITOR),
)


def _person(person: DemoPerson) -> User:
    user = User.objects.filter(email__iexact=person.email).first() or User(email=person.email)
    user.first_name, user.last_name = person.first_name, person.last_name
    user.set_password(DEMO_PASSWORD)
    user.save()
    return user


def _workspace(
    *,
    slug: str,
    name: str,
    owner: User,
    time_zone: str,
    sender: str,
    address: str,
    region: str,
    currency: str,
) -> Workspace:
    workspace = Workspace.objects.filter(slug=slug).first()
    if workspace is None:
        workspace = services.workspace_create(name=name, slug=slug, owner=owner, time_zone=time_zone)
    services.workspace_update(
        workspace=workspace,
        default_sender_name=name,
        default_sender_email=sender,
        postal_address=address,
        default_phone_region=region,
        currency=currency,
    )
    return workspace


def _demo_contacts(workspace: Workspace) -> None:
    """Customers with tags for the contact pages, once: a workspace that has contacts keeps its own."""
    # Imported here: contacts build on workspaces, never the other way round at import time.
    from apps.contacts.models import Contact
    from apps.contacts.seeding import contacts_seed

    if not Contact.objects.filter(workspace=workspace).exists():
        contacts_seed(workspace=workspace, count=DEMO_CONTACTS, seed=2026)


@transaction.atomic
def seed_demo() -> list[tuple[DemoPerson, str]]:
    """Create or refresh the demo data; returns (person, workspace slugs) for printing."""
    users = {person.email: _person(person) for person in ACME_PEOPLE}
    owner = users[ACME_PEOPLE[0].email]
    acme = _workspace(
        slug="acme",
        name="Acme Outdoor",
        owner=owner,
        time_zone="Europe/Berlin",
        sender="hello@acme.example",
        address="Acme Outdoor GmbH, Bergstraße 12, 80331 München, Germany",
        region="DE",
        currency="EUR",
    )
    summit = _workspace(
        slug="summit",
        name="Summit Kids",
        owner=owner,
        time_zone="America/New_York",
        sender="hi@summitkids.example",
        address="Summit Kids Inc., 200 Trail Ave, Boulder, CO 80302, USA",
        region="US",
        currency="USD",
    )
    for person in ACME_PEOPLE:
        team = Team.objects.get(workspace=acme, kind=person.team)
        services.membership_add(workspace=acme, user=users[person.email], role=person.role, team=team)
    marketing = Team.objects.get(workspace=summit, kind=TeamKind.MARKETING)
    services.membership_add(workspace=summit, user=owner, role=Role.ADMIN, team=marketing)
    _demo_contacts(acme)
    return [(p, "acme, summit" if p is ACME_PEOPLE[0] else "acme") for p in ACME_PEOPLE]
