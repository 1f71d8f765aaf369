"""The demo company: Acme Outdoor and its sister brand, with one person per team, contacts, segments
and personas."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
    from apps.contacts.seeding import contacts_seed, contacts_seed_addresses

    if not Contact.objects.filter(workspace=workspace).exists():
        contacts_seed(workspace=workspace, count=DEMO_CONTACTS, seed=2026)
    else:  # seeded before contacts had street addresses: the direct-mail export needs them
        contacts_seed_addresses(workspace=workspace, seed=2026)


# Segments for the demo contacts, in the words marketers use (DOMAIN.md). Rules name the seeded tags.
DEMO_SEGMENTS: tuple[dict[str, Any], ...] = (
    {
        "name": "Young families on the newsletter",
        "description": "Women 25-35 with children, on the newsletter, not lapsed: the spring catalogue's core.",
        "rules": {
            "all": [
                {"field": "gender", "op": "eq", "value": "female"},
                {"field": "age", "op": "between", "value": [25, 35]},
                {"field": "children_in_household", "op": "gte", "value": 1},
                {"tag": "Newsletter"},
                {"not": {"tag": "Lapsed customer"}},
            ]
        },
    },
    {
        "name": "Abandoned carts to follow up",
        "description": "Left an item in the online cart: email first, then SMS where we have consent.",
        "rules": {
            "all": [
                {"tag": "Abandoned cart"},
                {
                    "any": [
                        {"field": "email_consent", "op": "eq", "value": "opted_in"},
                        {"field": "sms_consent", "op": "eq", "value": "opted_in"},
                    ]
                },
            ]
        },
    },
    {
        "name": "Hikers and campers near our stores",
        "description": "For the in-store demo days in Munich, Berlin and Hamburg.",
        "rules": {
            "all": [
                {"any": [{"tag": "Hiking"}, {"tag": "Camping"}]},
                {"field": "city", "op": "in", "value": ["München", "Berlin", "Hamburg"]},
            ]
        },
    },
    {
        "name": "High-value customers",
        "description": "VIPs and anyone who has spent 1,000 or more.",
        "rules": {"any": [{"tag": "VIP"}, {"field": "total_spent", "op": "gte", "value": 1000}]},
    },
    {
        "name": "Win-back: no order for a year",
        "description": "Bought before, but not in the last 365 days.",
        "rules": {
            "all": [
                {"field": "orders_count", "op": "gte", "value": 1},
                {"field": "last_purchase_at", "op": "more_than_days_ago", "value": 365},
            ]
        },
    },
    {
        "name": "Do not target: opted out, press, wholesale",
        "description": "Left out of every consumer campaign.",
        "rules": {
            "any": [
                {"field": "email_consent", "op": "eq", "value": "opted_out"},
                {"tag": "Press contact"},
                {"tag": "Wholesale"},
            ]
        },
        "is_exclusion": True,
    },
    {
        "name": "Spring sale 2026 buyers (snapshot)",
        "description": "Frozen when the demo data was loaded: the list the sale's report compares against.",
        "rules": {"tag": "Spring sale 2026"},
        "kind": "static",
    },
)


def _demo_segments(workspace: Workspace) -> None:
    """The demo segments the workspace lacks (by name); ones it already has are left as they are."""
    # Imported here, like the contacts: segments build on workspaces, never the other way round.
    from django.core.exceptions import ValidationError

    from apps.segments import services as segment_services
    from apps.segments.models import Segment

    existing = {
        name.lower() for name in Segment.objects.filter(workspace=workspace).values_list("name", flat=True)
    }
    for spec in DEMO_SEGMENTS:
        if spec["name"].lower() in existing:
            continue
        try:
            segment_services.segment_create(workspace=workspace, **spec)
        except ValidationError:  # the workspace's own contacts lack a tag these rules name
            continue


# Three personas (DOMAIN.md: teams usually write three), each owned by a team, in the team's words.
DEMO_PERSONAS: tuple[dict[str, Any], ...] = (
    {
        "name": "Weekend family adventurer",
        "team": TeamKind.MARKETING,
        "summary": "A parent in her thirties who plans the family's weekends outdoors, on a budget.",
        "age_min": 30,
        "age_max": 44,
        "genders": ["female"],
        "marital_statuses": ["married", "partnered"],
        "children": "some",
        "locations": ["München", "Hamburg", "Köln", "Stuttgart"],
        "income_bands": ["50k_75k", "75k_100k"],
        "goals": "Get the kids outside every weekend; gear that lasts through two siblings.",
        "pains": "Children outgrow jackets in one season; rain ruins plans; too little time to compare.",
        "motivations": "Family time away from screens; safety; good value.",
        "objections": "Premium prices for clothes the kids will outgrow.",
        "preferred_channels": ["email", "social", "store", "catalogue"],
        "devices": ["smartphone", "tablet"],
        "purchase_history": "Two or three orders a year, mostly children's rainwear and shoes before spring.",
        "tenure": "3 years",
        "quote": "If the kids are warm and dry, we stay out all day.",
        "where_they_live": "Suburbs of larger cities, near parks and day-trip hills.",
        "work_and_leisure": "Works part-time in an office; weekends hiking, cycling and camping with the kids.",
        "devices_and_apps": "Smartphone first: Instagram, WhatsApp parents' groups, komoot.",
        "communities": "Kindergarten parents, local hiking clubs, family-travel blogs.",
        "looks_for": "Durable, washable, easy to size up; honest reviews from other parents.",
    },
    {
        "name": "Alpine performance seeker",
        "team": TeamKind.PRODUCT,
        "summary": "A well-paid urban professional who trains for multi-day alpine tours.",
        "age_min": 28,
        "age_max": 45,
        "genders": ["male", "female", "non_binary"],
        "children": "none",
        "locations": ["München", "Garmisch-Partenkirchen", "Freiburg im Breisgau", "Stuttgart"],
        "income_bands": ["75k_100k", "100k_150k", "over_150k"],
        "education_levels": ["bachelor", "master", "doctorate"],
        "goals": "Lighter, technical gear for longer tours; beat last season's summit list.",
        "pains": "Gear that fails at altitude; generic advice from sales staff.",
        "motivations": "Performance, expertise, being first to try new materials.",
        "objections": "Doubts that a general outdoor store stocks serious technical kit.",
        "preferred_channels": ["email", "app", "events", "website"],
        "devices": ["smartphone", "desktop", "wearable"],
        "purchase_history": "Few, large orders: shells, boots, packs; reads specifications closely.",
        "tenure": "5 years",
        "quote": "I want the specs, not a lifestyle photo.",
        "where_they_live": "City centres within two hours of the Alps.",
        "work_and_leisure": "Engineer or consultant; trains mid-week, tours every free weekend.",
        "devices_and_apps": "Strava, komoot, a GPS watch; compares products on a laptop.",
        "communities": "Alpine club sections, ski-touring forums, YouTube gear testers.",
        "looks_for": "Weight, materials, repairability, expert reviews and in-store demos.",
    },
    {
        "name": "City commuter in comfort",
        "team": TeamKind.SALES,
        "summary": "A commuter who wears outdoor clothing in town and buys in store on the way home.",
        "age_min": 45,
        "age_max": 64,
        "marital_statuses": ["married", "divorced", "widowed"],
        "locations": ["Berlin", "Hamburg", "Frankfurt am Main", "Düsseldorf"],
        "income_bands": ["50k_75k", "75k_100k", "100k_150k"],
        "goals": "Stay dry and comfortable on the bike and on foot, and look smart at work.",
        "pains": "Technical jackets that look out of place in the office; confusing online sizing.",
        "motivations": "Comfort, quality that lasts, friendly advice.",
        "objections": "Would rather try on in a store than return parcels.",
        "preferred_channels": ["store", "email", "direct_mail", "call_centre"],
        "devices": ["desktop", "smartphone"],
        "purchase_history": "A loyal buyer of the autumn collection; responds to store events.",
        "tenure": "8 years",
        "quote": "I want one good jacket that works for the office and the weekend.",
        "where_they_live": "Inner-city neighbourhoods, close to public transport and cycle lanes.",
        "work_and_leisure": "Office job; walking, city cycling, the occasional weekend trip.",
        "devices_and_apps": "Email on the desktop at work, the news app and WhatsApp on the phone.",
        "communities": "Neighbourhood associations, cycling advocacy groups, walking clubs.",
        "looks_for": "Timeless design, comfort and a good guarantee; service in a store nearby.",
    },
)


def _demo_personas(workspace: Workspace) -> None:
    """The demo personas the workspace lacks (by name); ones it already has are left as they are."""
    from apps.personas import services as persona_services
    from apps.personas.models import Persona

    existing = {
        name.lower() for name in Persona.objects.filter(workspace=workspace).values_list("name", flat=True)
    }
    for spec in DEMO_PERSONAS:
        if spec["name"].lower() in existing:
            continue
        values = {key: value for key, value in spec.items() if key != "team"}
        team = Team.objects.filter(workspace=workspace, kind=spec["team"]).first()
        persona_services.persona_create(workspace=workspace, owner_team=team, **values)


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
    _demo_segments(acme)
    _demo_personas(acme)
    # Imported here, like the others: campaigns build on workspaces, never the other way round.
    from apps.campaigns.demo import demo_campaigns

    demo_campaigns(workspace=acme)
    return [(p, "acme, summit" if p is ACME_PEOPLE[0] else "acme") for p in ACME_PEOPLE]
