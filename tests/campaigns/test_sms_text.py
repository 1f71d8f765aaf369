"""SMS length and parts as carriers count them."""

from __future__ import annotations

from apps.campaigns.sms_text import SmsInfo, sms_info


def test_empty_text_has_no_parts() -> None:
    assert sms_info("") == SmsInfo("GSM-7", 0, 0, 160, 160, ())


def test_160_gsm_characters_fit_one_part() -> None:
    assert sms_info("a" * 160) == SmsInfo("GSM-7", 160, 1, 160, 0, ())


def test_161_gsm_characters_need_two_parts_of_153() -> None:
    info = sms_info("a" * 161)
    assert (info.parts, info.per_part, info.remaining) == (2, 153, 145)


def test_306_gsm_characters_fit_two_parts_and_307_need_three() -> None:
    assert (sms_info("a" * 306).parts, sms_info("a" * 306).remaining) == (2, 0)
    assert (sms_info("a" * 307).parts, sms_info("a" * 307).remaining) == (3, 152)


def test_gsm_accents_and_greek_capitals_stay_gsm_7() -> None:
    info = sms_info("Grüße aus Köln, ΔΣ é à ñ @ £ ¥ §")
    assert (info.encoding, info.non_gsm) == ("GSM-7", ())


def test_euro_sign_counts_two_septets() -> None:
    info = sms_info("€5")
    assert (info.encoding, info.length, info.remaining) == ("GSM-7", 3, 157)


def test_every_extension_character_counts_two_septets() -> None:
    assert sms_info("^{}\\[~]|€\f").length == 20


def test_escape_sequence_never_straddles_two_parts() -> None:
    # 152 + 2 + 152 = 306 septets would fit two parts, but "€" cannot be split at septet 153.
    info = sms_info("a" * 152 + "€" + "a" * 152)
    assert (info.length, info.parts, info.remaining) == (306, 3, 152)


def test_one_emoji_switches_to_ucs_2_and_counts_two_code_units() -> None:
    info = sms_info("Hi 👋")
    assert (info.encoding, info.length, info.per_part, info.remaining) == ("UCS-2", 5, 70, 65)


def test_non_gsm_lists_each_offending_character_once_in_order() -> None:
    assert sms_info("“Hi” ć 👋 ć").non_gsm == ("“", "”", "ć", "👋")


def test_70_ucs_2_code_units_fit_one_part_and_71_need_two_of_67() -> None:
    assert (sms_info("ć" * 70).parts, sms_info("ć" * 70).per_part) == (1, 70)
    info = sms_info("ć" * 71)
    assert (info.parts, info.per_part, info.remaining) == (2, 67, 63)


def test_surrogate_pair_never_straddles_two_parts() -> None:
    info = sms_info("ć" * 66 + "👋" + "ć" * 66)
    assert (info.length, info.parts, info.remaining) == (134, 3, 66)


def test_gsm_text_counts_newlines_as_one_septet() -> None:
    assert sms_info("a\nb\r\n").length == 5
