"""SMS length, encoding and parts, so the editor can show what a message will cost before it is sent.

One character outside the GSM 03.38 alphabet (an emoji, a curly quote) switches the whole message to
UCS-2 and cuts a part from 160 to 70 characters; the writer needs to know which character did it.
"""

from __future__ import annotations

from dataclasses import dataclass

# GSM 03.38 basic character set (the escape character itself is not something a writer types).
GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# The extension table: each is sent as ESC + character, two septets.
GSM_EXTENSION = frozenset("^{}\\[~]|€\f")

GSM_SINGLE, GSM_MULTI = 160, 153
UCS2_SINGLE, UCS2_MULTI = 70, 67


@dataclass(frozen=True)
class SmsInfo:
    """What the editor shows under an SMS: encoding, length, parts and what forced UCS-2."""

    encoding: str
    length: int
    parts: int
    per_part: int
    remaining: int
    non_gsm: tuple[str, ...]


def sms_info(text: str) -> SmsInfo:
    """Length and parts as carriers count them: GSM-7 septets, or UTF-16 code units for UCS-2."""
    non_gsm = tuple(
        dict.fromkeys(char for char in text if char not in GSM_BASIC and char not in GSM_EXTENSION)
    )
    if non_gsm:
        encoding, single, multi = "UCS-2", UCS2_SINGLE, UCS2_MULTI
        costs = [2 if ord(char) > 0xFFFF else 1 for char in text]
    else:
        encoding, single, multi = "GSM-7", GSM_SINGLE, GSM_MULTI
        costs = [2 if char in GSM_EXTENSION else 1 for char in text]
    length = sum(costs)
    if length <= single:
        return SmsInfo(encoding, length, 1 if length else 0, single, single - length, non_gsm)
    parts, used = _split(costs, multi)
    return SmsInfo(encoding, length, parts, multi, multi - used, non_gsm)


def _split(costs: list[int], per_part: int) -> tuple[int, int]:
    """Parts needed and units used in the last one. A two-unit character (an escape sequence, a
    surrogate pair) is never split between parts: phones would show garbage, so it moves on."""
    parts, used = 1, 0
    for cost in costs:
        if used + cost > per_part:
            parts, used = parts + 1, 0
        used += cost
    return parts, used
