"""Forms of the segment pages: the segment's own fields (shape only) and the freeze-a-copy form. The
rules travel as the builder's fields (`builder.py`); the services check everything."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.segments.models import SegmentKind
from apps.segments.services import DESCRIPTION_MAX, NAME_MAX


class SegmentForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=NAME_MAX)
    description = forms.CharField(
        label=_("Description"),
        max_length=DESCRIPTION_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Who these people are and what the segment is for."),
    )
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[
            (SegmentKind.DYNAMIC, _("Dynamic: evaluated whenever it is used")),
            (SegmentKind.STATIC, _("Static snapshot: members frozen when saved")),
        ],
        initial=SegmentKind.DYNAMIC,
    )
    is_exclusion = forms.BooleanField(
        label=_("Exclusion segment: meant to leave these people out of audiences"), required=False
    )


class FreezeCopyForm(forms.Form):
    name = forms.CharField(label=_("Name of the snapshot"), max_length=NAME_MAX)
