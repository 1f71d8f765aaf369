"""The public endpoints a message's recipient (or the SMS provider) reaches: unsubscribe, the open
pixel, click redirects and inbound texts. No login and no workspace in the URL: a signed token names
the delivery, and the delivery names the workspace; the SMS webhook is authenticated by an HMAC
signature over its body."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from apps.contacts.choices import Channel
from apps.contacts.cleaning import FieldError, normalise_phone
from apps.delivery import services, tokens
from apps.delivery.models import Delivery
from apps.workspaces.models import Workspace

# The smallest transparent GIF (1x1, 43 bytes).
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
# RFC 8058: what a mail client POSTs for a one-click unsubscribe.
ONE_CLICK = "One-Click"


def _invalid_link(request: HttpRequest) -> HttpResponse:
    return render(request, "delivery/invalid_link.html", status=404)


def _delivery(purpose: str, token: str) -> Delivery | None:
    """The delivery the signed token names: the token is the only scope these pages have."""
    try:
        data = tokens.read(purpose, token)
    except tokens.BadToken:
        return None
    return Delivery.objects.select_related("item", "workspace").filter(pk=data.delivery_id).first()


def mask_address(channel: str, address: str) -> str:
    """Enough to recognise one's own address, not enough to learn someone else's from a link."""
    if not address:
        return _("your address")
    if channel == Channel.SMS:
        return f"{address[:3]}•••{address[-2:]}"
    local, _at, domain = address.partition("@")
    return f"{local[:2]}•••@{domain}"


@csrf_exempt  # RFC 8058 one-click POSTs come without cookies or a CSRF token: the signed token guards it.
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks (mail scanners prefetch links: a GET never unsubscribes); POST unsubscribes, from
    the page's button or from the mail client's one-click request."""
    delivery = _delivery("unsubscribe", token)
    if delivery is None:
        return _invalid_link(request)
    channel = services.consent_channel(delivery.item.channel)
    names = {
        "address": mask_address(channel, delivery.address),
        "workspace": delivery.workspace.name,
    }
    if channel == Channel.SMS:
        question = _("Unsubscribe %(address)s from %(workspace)s texts?") % names
    else:
        question = _("Unsubscribe %(address)s from %(workspace)s emails?") % names
    context: dict[str, Any] = {"question": question, "workspace": delivery.workspace, "done": False}
    if request.method == "POST":
        if request.POST.get("List-Unsubscribe") == ONE_CLICK:
            source, text = "one-click unsubscribe (mail client, RFC 8058)", "List-Unsubscribe=One-Click"
        else:
            source, text = "unsubscribe link", f"{question} [{_('Unsubscribe')}]"
        services.unsubscribe(delivery=delivery, source=source, text=text)
        context["done"] = True
    response = render(request, "delivery/unsubscribe.html", context)
    response["X-Robots-Tag"] = "noindex"
    return response


@never_cache
@require_safe
def open_pixel(request: HttpRequest, token: str) -> HttpResponse:
    """Always the GIF, whatever the token: a broken image would only show the reader an error."""
    if request.method == "GET":
        try:
            data = tokens.read("open", token)
        except tokens.BadToken:
            pass
        else:
            services.record_open(delivery_id=data.delivery_id)
    return HttpResponse(PIXEL, content_type="image/gif")


def _is_web_url(target: str | None) -> bool:
    if not target:
        return False
    parts = urlsplit(target)
    return parts.scheme in {"http", "https"} and bool(parts.netloc)


@never_cache
@require_safe
def click(request: HttpRequest, token: str) -> HttpResponseBase:
    """Redirect to the target the token signs, never to one from the request (no open redirect)."""
    try:
        data = tokens.read("click", token)
    except tokens.BadToken:
        return _invalid_link(request)
    if not _is_web_url(data.target):
        return _invalid_link(request)
    target = str(data.target)
    if request.method == "GET":
        services.record_click(delivery_id=data.delivery_id, target=target)
    return HttpResponseRedirect(target)


def _plain(text: str, status: int) -> HttpResponse:
    return HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")


def inbound_signature(secret: str, workspace_slug: str, body: bytes) -> str:
    """HMAC-SHA256 of the body under a key derived for the workspace: a signed request captured
    for one workspace cannot be replayed to another's URL."""
    key = hmac.new(secret.encode(), workspace_slug.encode(), hashlib.sha256).digest()
    return hmac.new(key, body, hashlib.sha256).hexdigest()


def _signed(secret: str, workspace_slug: str, body: bytes, signature: str) -> bool:
    expected = inbound_signature(secret, workspace_slug, body)
    given = signature.strip().removeprefix("sha256=").lower()
    return hmac.compare_digest(expected, given)


def _inbound_fields(request: HttpRequest) -> dict[str, str]:
    if request.content_type == "application/json":
        try:
            payload = json.loads(request.body)
        except ValueError:
            return {}
        if not isinstance(payload, dict):
            return {}
        return {key: str(payload.get(key) or "") for key in ("from", "text", "id")}
    return {key: request.POST.get(key, "") for key in ("from", "text", "id")}


def _sender_number(raw: str, region: str) -> str | None:
    """E.164 of the sender. Providers send international numbers, some without the plus
    (`4915123456789`): digits without a leading 0 are read as international, not as national."""
    text = raw.strip()
    candidate = f"+{text}" if text.isdigit() and not text.startswith("0") else text
    try:
        return normalise_phone(candidate, region=region)
    except FieldError:
        return None


@csrf_exempt  # a server-to-server webhook: the HMAC signature authenticates it.
@require_POST
def sms_inbound(request: HttpRequest, workspace_slug: str) -> HttpResponse:
    """The SMS provider forwards a text sent to the workspace's number (`from`, `text`, `id`)."""
    secret = settings.SMS_INBOUND_SECRET
    if not secret:
        return _plain("Inbound SMS is not configured (SMS_INBOUND_SECRET).", 503)
    if not _signed(secret, workspace_slug, request.body, request.headers.get("X-Ensemble-Signature", "")):
        return _plain("Bad signature.", 403)
    # After the signature: nobody can probe which workspaces exist.
    workspace = Workspace.objects.filter(slug=workspace_slug).first()
    if workspace is None:
        return _plain("No such workspace.", 404)
    fields = _inbound_fields(request)
    if not fields.get("from") or not fields.get("id"):
        return _plain("Send the fields from, text and id.", 400)
    number = _sender_number(fields["from"], workspace.default_phone_region)
    if number is None:
        return _plain("The sender is not a valid phone number.", 400)
    reply = services.sms_inbound(
        workspace=workspace, from_number=number, body=fields["text"], message_id=fields["id"]
    )
    return JsonResponse({"reply": reply})
