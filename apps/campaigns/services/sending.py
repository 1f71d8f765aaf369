"""Test sends: the item as a chosen contact gets it, to the person testing it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.utils.translation import gettext as _

from apps.campaigns import selectors
from apps.campaigns.choices import ChannelKind
from apps.campaigns.models import ChannelItem
from apps.campaigns.rendering import render_for
from apps.campaigns.services.common import InvalidTransition
from apps.campaigns.services.states import target_of
from apps.contacts.cleaning import FieldError, normalise_phone
from apps.contacts.models import Contact
from apps.core.sms import SmsMessage, get_backend

if TYPE_CHECKING:
    from apps.accounts.models import User


def _first_problems(rendered_problems: dict[str, list[str]]) -> None:
    if rendered_problems:
        raise ValidationError(rendered_problems)


def item_test_send(*, item: ChannelItem, actor: User, contact: Contact | None = None, phone: str = "") -> str:
    """Send the item, personalised as `contact` (default: the preview contact), to the person
    testing it: an email to their own address, a text to the phone number they give. Returns where
    it went. Works in any state: the draft is what needs testing."""
    if contact is None:
        contact = selectors.preview_contact(item=item)
    rendered = render_for(item, contact=contact, custom_keys=selectors.custom_keys(workspace=item.workspace))
    _first_problems(rendered.problems)
    if item.channel == ChannelKind.EMAIL:
        if not item.from_email:
            raise ValidationError({"from_email": [_("Give a from address first.")]})
        if not (item.body_html or item.body_text):
            raise ValidationError({"body_html": [_("Write the email's body first.")]})
        sender = f"{item.from_name} <{item.from_email}>" if item.from_name else item.from_email
        message = EmailMultiAlternatives(
            subject=f"[Test] {rendered.values['subject']}",
            body=rendered.values["body_text"] or _("This email has an HTML body only."),
            from_email=sender,
            to=[actor.email],
            reply_to=[item.reply_to] if item.reply_to else None,
            headers={"X-Ensemble-Test": target_of(item)},
        )
        if rendered.values["body_html"]:
            message.attach_alternative(rendered.values["body_html"], "text/html")
        message.send()
        return actor.email
    if item.channel == ChannelKind.SMS:
        if not item.sms_text:
            raise ValidationError({"sms_text": [_("Write the text message first.")]})
        try:
            number = normalise_phone(phone or "", region=item.workspace.default_phone_region)
        except FieldError as error:
            raise ValidationError(
                {"phone": [str(error) if phone else _("Give the phone number to send the test to.")]}
            ) from error
        backend = get_backend()
        backend.send(SmsMessage(to=number, body=rendered.values["sms_text"], reference=target_of(item)))
        return number
    if item.channel == ChannelKind.WEBHOOK:
        raise InvalidTransition(
            _("Webhook test sends come with the delivery engine (signed requests with an address guard); "
              "the preview shows the payload each recipient's integration call carries.")
        )  # fmt: skip
    raise InvalidTransition(
        _("A %(channel)s is run by its team, not sent by Ensemble.")
        % {"channel": item.get_channel_display().lower()}
    )
