"""Vocabularies of a persona that contacts do not have: the channels it prefers, its devices, and
whether it has children. Demographics reuse the contact choice sets (`apps.contacts.choices`) so the
generated segment rules compare the same stored values."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class PersonaChannel(models.TextChoices):
    """The typical channels of DOMAIN.md. Campaigns (a later issue) will link to personas through them."""

    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    SOCIAL = "social", _("Social media")
    WEBSITE = "website", _("Website and online shop")
    APP = "app", _("Mobile app and push")
    ADS = "ads", _("Search and shopping ads")
    MARKETPLACE = "marketplace", _("Marketplace")
    CALL_CENTRE = "call_centre", _("Call centre")
    STORE = "store", _("Physical store")
    DIRECT_MAIL = "direct_mail", _("Direct mail")
    PRINT_OUTDOOR = "print_outdoor", _("Print and outdoor")
    TV_RADIO = "tv_radio", _("TV and radio")
    CATALOGUE = "catalogue", _("Catalogues")
    EVENTS = "events", _("Events and live demos")
    MESSAGING = "messaging", _("Messaging apps")


class Device(models.TextChoices):
    SMARTPHONE = "smartphone", _("Smartphone")
    DESKTOP = "desktop", _("Desktop or laptop")
    TABLET = "tablet", _("Tablet")
    SMART_TV = "smart_tv", _("Smart TV")
    WEARABLE = "wearable", _("Wearable")
    VOICE = "voice", _("Voice assistant")


class Children(models.TextChoices):
    """Children in the household, as a persona speaks of it (a contact stores the number)."""

    ANY = "", _("Either")
    NONE = "none", _("No children")
    SOME = "some", _("With children")
