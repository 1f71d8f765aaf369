"""The workspace navigation. A section without a URL name is shown as upcoming, not linked."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class NavSection:
    label: str | Promise
    url_name: str | None
    # URL-name prefixes (inside the `workspaces` namespace or an app's) that mark this section active;
    # "contacts:" covers every page of the contacts app.
    active_for: tuple[str, ...] = ()


SECTIONS: tuple[NavSection, ...] = (
    NavSection(_("Overview"), "workspaces:dashboard", ("workspaces:dashboard",)),
    NavSection(_("Plan"), None),
    NavSection(_("Personas"), "personas:list", ("personas:",)),
    NavSection(_("Segments"), "segments:list", ("segments:",)),
    NavSection(_("Contacts"), "contacts:list", ("contacts:",)),
    NavSection(_("Campaigns"), "campaigns:list", ("campaigns:",)),
    NavSection(_("Calendar"), None),
    NavSection(_("KPIs"), None),
    NavSection(
        _("Team & settings"),
        "workspaces:team",
        ("workspaces:team", "workspaces:settings", "workspaces:api-tokens"),
    ),
)


@dataclass(frozen=True)
class NavItem:
    label: str | Promise
    url: str | None
    active: bool


def nav_items(*, workspace_slug: str, current_view: str | None) -> list[NavItem]:
    return [
        NavItem(
            label=section.label,
            url=reverse(section.url_name, kwargs={"workspace_slug": workspace_slug})
            if section.url_name
            else None,
            active=any((current_view or "").startswith(prefix) for prefix in section.active_for),
        )
        for section in SECTIONS
    ]
