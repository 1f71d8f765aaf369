"""The demo campaigns: one spring launch told across seven channels (what omnichannel means in
practice: one message, one audience picture, a team per touchpoint) and a small abandoned-cart
follow-up. Everything stays a draft: scheduling needs sign-off, and sending comes with the delivery
engine. Called by `apps.workspaces.demo.seed_demo` once the demo segments and personas exist."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone

from apps.campaigns import services
from apps.campaigns.models import Campaign
from apps.personas.models import Persona
from apps.segments.models import Segment
from apps.workspaces.models import Team, TeamKind, Workspace

DEMO_POSTAL_ADDRESS = "Acme Outdoor GmbH, Bergstraße 12, 80331 München, Germany"

SPRING = "Spring collection launch"
ABANDONED_CART = "Abandoned cart follow-up"

# The demo segments and personas these campaigns address (apps/workspaces/demo.py names them).
YOUNG_FAMILIES = "Young families on the newsletter"
ABANDONED_CARTS = "Abandoned carts to follow up"
HIKERS_NEAR_STORES = "Hikers and campers near our stores"
HIGH_VALUE = "High-value customers"
DO_NOT_TARGET = "Do not target: opted out, press, wholesale"
FAMILY_PERSONA = "Weekend family adventurer"
COMMUTER_PERSONA = "City commuter in comfort"

SPRING_EMAIL_HTML = """<h1>{{ first_name|default:"Hello" }}, spring is here</h1>
<p>Light rain jackets, trail shoes that dry overnight and a family tent that goes up in five minutes:
the spring collection is ready for the first warm weekend{% if city %} in {{ city }}{% endif %}.</p>
<p><a href="https://acme.example/spring">See the spring collection</a>, or join a spring walk from
your nearest store on Saturday.</p>
<p style="font-size:12px;color:#666">You receive this because you signed up for news from
{{ workspace.name }}.</p>"""

SPRING_EMAIL_TEXT = """{{ first_name|default:"Hello" }}, spring is here.

Light rain jackets, trail shoes that dry overnight and a family tent that goes up in five minutes:
the spring collection is ready for the first warm weekend{% if city %} in {{ city }}{% endif %}.

See it at https://acme.example/spring, or join a spring walk from your nearest store on Saturday.

You receive this because you signed up for news from {{ workspace.name }}."""

CART_EMAIL_HTML = """<p>Hi {{ first_name|default:"there" }},</p>
<p>You left something in your cart. It is still there, and so is your size, for now.</p>
<p><a href="https://acme.example/cart">Back to your cart</a>. Questions about the fit? Reply to this
email or ask in any of our stores: the staff can see what you picked.</p>"""


def next_spring(today: dt.date) -> tuple[dt.date, dt.date]:
    """The coming spring's launch window: mid-March to the end of April."""
    year = today.year if today < dt.date(today.year, 3, 16) else today.year + 1
    return dt.date(year, 3, 16), dt.date(year, 4, 30)


def _named(model: type[Any], workspace: Workspace, *names: str) -> list[Any]:
    """The workspace's objects with these names, in this order; ones it lacks are left out."""
    found = {obj.name.lower(): obj for obj in model.objects.filter(workspace=workspace)}
    return [found[name.lower()] for name in names if name.lower() in found]


def _spring(workspace: Workspace, teams: dict[str, Team | None], today: dt.date) -> None:
    starts, ends = next_spring(today)
    campaign = services.campaign_create(
        workspace=workspace,
        name=SPRING,
        goal=(
            "Launch the spring collection with one story in every channel: families ready for the first "
            "warm weekend. Email and SMS bring people to the shop and the stores, the windows and the "
            "call centre tell the same story, and a postcard reaches our best customers at home."
        ),
        owner_team=teams[TeamKind.MARKETING],
        starts_on=starts,
        ends_on=ends,
        personas=_named(Persona, workspace, FAMILY_PERSONA, COMMUTER_PERSONA),
    )
    exclusions = _named(Segment, workspace, DO_NOT_TARGET)
    families = _named(Segment, workspace, YOUNG_FAMILIES, HIKERS_NEAR_STORES)
    services.item_create(
        campaign=campaign,
        channel="email",
        name="Launch email",
        subject='{{ first_name|default:"Hello" }}, the spring collection is here',
        preheader="Light rain jackets, quick-dry trail shoes and a spring walk from every store.",
        body_html=SPRING_EMAIL_HTML,
        body_text=SPRING_EMAIL_TEXT,
        segments=families,
        exclusions=exclusions,
    )
    services.item_create(
        campaign=campaign,
        channel="sms",
        name="Launch day text",
        sms_text=(
            'Acme Outdoor: {{ first_name|default:"Hi" }}, the spring collection is in store today. '
            "Rain jackets 10% off for members until 30 April. STOP to opt out"
        ),
        segments=_named(Segment, workspace, HIGH_VALUE),
        exclusions=exclusions,
    )
    services.item_create(
        campaign=campaign,
        channel="social",
        name="Instagram launch post",
        content=(
            "Carousel: a family on a spring walk in light rain jackets, then the trail shoes drying "
            "overnight, then the tent going up in five minutes. Caption: The first warm weekend is "
            "coming. Ready? #AcmeSpring"
        ),
        placement="Instagram",
        budget=Decimal("1500.00"),
        starts_on=starts,
        ends_on=starts + dt.timedelta(days=13),
        owner_team=teams[TeamKind.MARKETING],
    )
    services.item_create(
        campaign=campaign,
        channel="direct_mail",
        name="Spring postcard",
        content=(
            "A6 postcard. Front: the spring collection on a family walk. Back: a thank-you to our best "
            "customers and the code SPRING-POST for 15% off one item in store or online."
        ),
        placement="A6 postcard, printed and posted by our mail house",
        budget=Decimal("2400.00"),
        starts_on=starts,
        ends_on=starts + dt.timedelta(days=20),
        owner_team=teams[TeamKind.MARKETING],
        segments=_named(Segment, workspace, HIGH_VALUE),
        exclusions=exclusions,
    )
    services.item_create(
        campaign=campaign,
        channel="in_store",
        name="Spring windows and entrance display",
        content=(
            "Windows: the family walk from the email and the postcard. Entrance: the rain jackets on a "
            "rail by size, a trail-shoe drying demo, and the spring walk's sign-up sheet."
        ),
        placement="Stores in München, Berlin and Hamburg: windows and entrance",
        budget=Decimal("3000.00"),
        starts_on=starts,
        ends_on=ends,
        owner_team=teams[TeamKind.SALES],
    )
    services.item_create(
        campaign=campaign,
        channel="call_centre",
        name="Spring call-centre script",
        content=(
            "Callers who ask about the spring collection: it is online and in every store from the launch "
            "day. Members get 10% off rain jackets until 30 April. If the customer left something in "
            "the online cart, ask whether it is still the one they want and offer to reserve their size "
            "in the nearest store."
        ),
        placement="Customer service hotline",
        starts_on=starts,
        ends_on=ends,
        owner_team=teams[TeamKind.SUPPORT],
    )


def _abandoned_cart(workspace: Workspace, teams: dict[str, Team | None]) -> None:
    campaign = services.campaign_create(
        workspace=workspace,
        name=ABANDONED_CART,
        goal="Bring back customers who left an item in the online cart: an email first, then a text where we have consent.",
        owner_team=teams[TeamKind.SALES],
        personas=_named(Persona, workspace, FAMILY_PERSONA),
    )
    carts = _named(Segment, workspace, ABANDONED_CARTS)
    exclusions = _named(Segment, workspace, DO_NOT_TARGET)
    services.item_create(
        campaign=campaign,
        channel="email",
        name="Your cart is waiting",
        subject='{{ first_name|default:"Hi" }}, your cart is waiting',
        preheader="It is still there, and so is your size, for now.",
        body_html=CART_EMAIL_HTML,
        segments=carts,
        exclusions=exclusions,
    )
    services.item_create(
        campaign=campaign,
        channel="sms",
        name="Cart reminder text",
        sms_text='Acme Outdoor: {{ first_name|default:"Hi" }}, your cart is still waiting for you. STOP to opt out',
        segments=carts,
        exclusions=exclusions,
    )


def demo_campaigns(*, workspace: Workspace, today: dt.date | None = None) -> None:
    """The demo campaigns the workspace lacks (by name); ones it already has are left as they are,
    items and all, so re-running the seed never duplicates or undoes anyone's edits."""
    if not workspace.postal_address.strip():  # emails need it before they can be scheduled
        Workspace.objects.filter(pk=workspace.pk).update(postal_address=DEMO_POSTAL_ADDRESS)
        workspace.postal_address = DEMO_POSTAL_ADDRESS
    today = today or timezone.localdate()
    existing = {
        name.lower() for name in Campaign.objects.filter(workspace=workspace).values_list("name", flat=True)
    }
    teams: dict[str, Team | None] = {
        kind: Team.objects.filter(workspace=workspace, kind=kind).first()
        for kind in (TeamKind.MARKETING, TeamKind.SALES, TeamKind.SUPPORT)
    }
    if SPRING.lower() not in existing:
        _spring(workspace, teams, today)
    if ABANDONED_CART.lower() not in existing:
        _abandoned_cart(workspace, teams)
