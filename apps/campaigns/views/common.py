"""What the campaign pages share: URLs, roles, and turning service errors into form errors and
messages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from apps.campaigns.choices import ChannelKind
from apps.campaigns.models import ChannelItem
from apps.campaigns.sms_text import SmsInfo, sms_info
from apps.core.http import WorkspaceHttpRequest
from apps.core.roles import Role


def can(request: WorkspaceHttpRequest, role: Role) -> bool:
    return Role(request.membership.role).includes(role)


def url(request: WorkspaceHttpRequest, name: str, **kwargs: Any) -> str:
    return reverse(f"campaigns:{name}", kwargs={"workspace_slug": request.workspace.slug, **kwargs})


def add_errors(form: forms.Form, error: ValidationError) -> None:
    """A service's errors on the form's fields; those of fields it does not show on top."""
    for name, problems in error.message_dict.items():
        form.add_error(name if name in form.fields else None, problems)


def refused(request: WorkspaceHttpRequest, message: str, back: str) -> HttpResponse:
    """A step the item's state or the sign-off does not allow: say why, back to the page."""
    messages.error(request, message)
    return redirect(back)


def sms_summary(info: SmsInfo) -> str:
    """ "42 characters · GSM-7 · 1 part", as carriers count them."""
    parts = _("%(count)s part") if info.parts == 1 else _("%(count)s parts")
    return " · ".join(
        (
            _("%(count)s characters") % {"count": f"{info.length:,}"},
            info.encoding,
            parts % {"count": info.parts},
        )
    )


def sms_line(item: ChannelItem) -> str:
    return sms_summary(sms_info(item.sms_text or "")) if item.channel == ChannelKind.SMS else ""
