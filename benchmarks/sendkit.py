"""The send benchmark's baselines: the personalised message built the plain Django way, and a bare
Celery task that renders and sends a batch of them (no ledger).

Workers load this module with `celery -A config worker -I sendkit` (benchmarks/ on PYTHONPATH),
after Celery's Django fix-up has set Django up. The message is the one Ensemble sends (same subject,
bodies, merge tags, tracked links, open pixel, footer, List-Unsubscribe headers, Message-ID and
X-Ensemble-Delivery), rendered by Django templates compiled once per batch and built as a MIME
tree by Python's email package through `EmailMultiAlternatives`: the hot spot the pipeline avoids.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Any

from django.core.mail import EmailMultiAlternatives, get_connection
from django.template import Context, Engine

from apps.delivery import tokens
from config.celery import app
from tests.delivery.faults import BODY_HTML, BODY_TEXT, SUBJECT

FIELDS = ("id", "email_normalized", "first_name", "last_name", "city", "orders_count")
FROM = "Acme Outdoor <shop@acme.example>"
POSTAL = "Acme Outdoor GmbH, Torstraße 1, 10119 Berlin"
_LINK = re.compile(r'href="(https?://[^"]*)"')


class Templates:
    """The item's templates compiled once (per batch), rendered per contact."""

    def __init__(self) -> None:
        engine = Engine(autoescape=True)
        self.subject = engine.from_string(SUBJECT)
        self.html = engine.from_string(BODY_HTML)
        self.text = Engine(autoescape=False).from_string(BODY_TEXT)

    def build(self, contact: dict[str, Any]) -> EmailMultiAlternatives:
        """`contact`: the FIELDS as a dict. Its id stands in for a ledger row's id."""
        ident = contact["id"]
        context = Context(contact, autoescape=True)
        subject = " ".join(self.subject.render(context).split())
        unsubscribe = tokens.unsubscribe_url(ident)
        body = _LINK.sub(
            lambda m: f'href="{tokens.click_url(ident, html.unescape(m.group(1)))}"',
            self.html.render(context),
        )
        footer = (
            f"You receive this because you subscribed to emails from Acme Outdoor. Unsubscribe: {unsubscribe}"
        )
        html_body = (
            f"<!DOCTYPE html><html><head><title>{html.escape(subject)}</title></head><body>{body}"
            f"<div>{html.escape(footer)}<br>{html.escape(POSTAL)}</div>"
            f'<img src="{tokens.open_url(ident)}" width="1" height="1" alt=""></body></html>'
        )
        text_body = f"{self.text.render(Context(contact, autoescape=False))}\n-- \n{footer}\n{POSTAL}\n"
        mailto = f"mailto:unsubscribe+{tokens.make('unsubscribe', ident)}@acme.example"
        message = EmailMultiAlternatives(
            subject=subject,
            body=text_body,
            from_email=FROM,
            to=[contact["email_normalized"]],
            headers={
                "Message-ID": f"<d{ident}.bench@acme.example>",
                "List-Unsubscribe": f"<{unsubscribe}>, <{mailto}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                "X-Ensemble-Delivery": str(ident),
            },
        )
        message.attach_alternative(html_body, "text/html")
        return message


def contacts_by_id(ids: Sequence[int]) -> list[dict[str, Any]]:
    from apps.contacts.models import Contact

    return list(Contact.objects.filter(id__in=list(ids)).order_by("id").values(*FIELDS))


def smtp_connection(**kwargs: Any) -> Any:
    """Django's SMTP backend whatever EMAIL_BACKEND says (EMAIL_URL gives host and port)."""
    return get_connection("django.core.mail.backends.smtp.EmailBackend", **kwargs)


@app.task(name="bench.send_batch", ignore_result=True)
def send_batch(first_id: int, last_id: int) -> int:
    """The bare fan-out: contacts first_id..last_id rendered, built and sent over one connection."""
    from apps.contacts.models import Contact

    contacts = list(Contact.objects.filter(id__gte=first_id, id__lte=last_id).order_by("id").values(*FIELDS))
    templates = Templates()
    with smtp_connection() as connection:
        return int(connection.send_messages([templates.build(contact) for contact in contacts]) or 0)
