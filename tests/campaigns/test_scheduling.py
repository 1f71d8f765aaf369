"""Specifications of schedule arithmetic: wall times, DST changes, recipient zones and quiet hours."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, available_timezones

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.campaigns import scheduling
from apps.campaigns.scheduling import (
    DEFAULT_SMS_QUIET_HOURS,
    QuietHours,
    after_quiet_hours,
    delivery_moment,
    describe_dst_rule,
    earliest_moment,
    latest_moment,
    recipient_moment,
    utc_to_wall,
    wall_to_utc,
    zone,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def wall(text: str) -> datetime:
    """A naive wall-clock time, e.g. wall("2026-03-29 02:30")."""
    return datetime.fromisoformat(text)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# --- Zones -------------------------------------------------------------------------------------------


def test_zone_returns_the_named_zone() -> None:
    assert zone("Asia/Tokyo", fallback="Europe/Berlin") == ZoneInfo("Asia/Tokyo")


@pytest.mark.parametrize("name", [None, "", "Mars/Olympus", "europe/berlin", "../etc/passwd", "Europe/"])
def test_zone_falls_back_when_the_name_is_empty_or_unknown(name: str | None) -> None:
    assert zone(name, fallback="Europe/Berlin") == BERLIN


def test_zone_falls_back_to_utc_when_the_fallback_is_unknown_too() -> None:
    assert zone("Mars/Olympus", fallback="Venus/Maxwell") == ZoneInfo("UTC")


# --- The DST rule ------------------------------------------------------------------------------------


def test_berlin_spring_forward_sends_a_missing_time_the_same_minutes_after_the_jump() -> None:
    moment = wall_to_utc(wall("2026-03-29 02:30"), BERLIN)

    assert moment == utc("2026-03-29 01:30")
    assert utc_to_wall(moment, BERLIN) == wall("2026-03-29 03:30")
    assert moment.astimezone(BERLIN).tzname() == "CEST"


def test_berlin_fall_back_sends_a_repeated_time_once_at_its_first_occurrence() -> None:
    moment = wall_to_utc(wall("2026-10-25 02:30"), BERLIN)

    assert moment == utc("2026-10-25 00:30")
    assert moment.astimezone(BERLIN).tzname() == "CEST"


def test_new_york_spring_forward_sends_a_missing_time_the_same_minutes_after_the_jump() -> None:
    moment = wall_to_utc(wall("2026-03-08 02:30"), NEW_YORK)

    assert moment == utc("2026-03-08 07:30")
    assert utc_to_wall(moment, NEW_YORK) == wall("2026-03-08 03:30")
    assert moment.astimezone(NEW_YORK).tzname() == "EDT"


def test_new_york_fall_back_sends_a_repeated_time_once_at_its_first_occurrence() -> None:
    moment = wall_to_utc(wall("2026-11-01 01:30"), NEW_YORK)

    assert moment == utc("2026-11-01 05:30")
    assert moment.astimezone(NEW_YORK).tzname() == "EDT"


def test_wall_to_utc_ignores_a_fold_the_caller_carries() -> None:
    second_occurrence = wall("2026-10-25 02:30").replace(fold=1)

    assert wall_to_utc(second_occurrence, BERLIN) == utc("2026-10-25 00:30")


def test_wall_to_utc_rejects_an_aware_datetime() -> None:
    with pytest.raises(ValueError, match="naive"):
        wall_to_utc(utc("2026-03-29 02:30"), BERLIN)


def test_utc_to_wall_rejects_a_naive_datetime() -> None:
    with pytest.raises(ValueError, match="aware"):
        utc_to_wall(wall("2026-03-29 02:30"), BERLIN)


def test_the_dialog_shows_the_rule_the_module_documents() -> None:
    documented = " ".join((scheduling.__doc__ or "").split())

    assert " ".join(describe_dst_rule().split()) in documented
    assert "03:30" in describe_dst_rule()
    assert "first occurrence" in describe_dst_rule()


# Zones with every kind of change: northern and southern hemisphere, a 30-minute DST (Lord Howe),
# negative DST (Dublin), a quarter-hour offset (Chatham), none at all (Tokyo, Kolkata, UTC).
PROPERTY_ZONES = [
    "Europe/Berlin",
    "Europe/London",
    "Europe/Dublin",
    "America/New_York",
    "America/Los_Angeles",
    "America/Santiago",
    "America/Havana",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "Pacific/Auckland",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "UTC",
]


def _transitions_2026(name: str) -> list[datetime]:
    """Naive wall times (in the offset before the change) around which `name` changes its offset."""
    tz = ZoneInfo(name)
    found = []
    instant = utc("2026-01-01 00:00")
    while instant.year == 2026:
        following = instant + timedelta(minutes=30)
        if tz.utcoffset(instant) != tz.utcoffset(following):
            found.append(utc_to_wall(instant, tz))
        instant = following
    return found


TRANSITIONS = [(name, moment) for name in PROPERTY_ZONES for moment in _transitions_2026(name)]


def test_the_property_zones_include_dst_changes() -> None:
    # Otherwise the property below would only ever see the easy case.
    assert len(TRANSITIONS) >= 20


anywhere_in_2026 = st.tuples(
    st.sampled_from(PROPERTY_ZONES),
    st.datetimes(min_value=wall("2026-01-01"), max_value=wall("2026-12-31 23:59")),
)
# Random times almost never land in the one missing hour of a year: aim at the changes too.
around_a_change = st.tuples(
    st.sampled_from(TRANSITIONS), st.timedeltas(min_value=timedelta(hours=-3), max_value=timedelta(hours=3))
).map(lambda pair: (pair[0][0], pair[0][1] + pair[1]))


@settings(max_examples=400)
@given(case=st.one_of(anywhere_in_2026, around_a_change))
def test_a_wall_time_comes_back_as_itself_or_moved_by_the_gap(case: tuple[str, datetime]) -> None:
    name, local = case
    tz = ZoneInfo(name)

    back = utc_to_wall(wall_to_utc(local, tz), tz)

    if back != local:
        # Only a non-existent time may move, and by exactly the size of the jump: the offset after
        # the change (fold=1 in a gap) minus the one before (fold=0).
        before = local.replace(tzinfo=tz, fold=0).utcoffset()
        after = local.replace(tzinfo=tz, fold=1).utcoffset()
        assert before is not None
        assert after is not None
        gap = after - before
        assert gap > timedelta(0)
        assert back == local + gap


# --- Recipient local time ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("recipient_zone", "expected"),
    [
        ("Asia/Tokyo", "2026-06-15 00:00"),
        ("Europe/Berlin", "2026-06-15 07:00"),
        ("America/Los_Angeles", "2026-06-15 16:00"),
        (None, "2026-06-15 13:00"),  # no zone: the workspace's (New York, EDT)
        ("", "2026-06-15 13:00"),
    ],
)
def test_recipient_local_sends_at_nine_in_each_recipients_zone(
    recipient_zone: str | None, expected: str
) -> None:
    moment = recipient_moment(
        wall("2026-06-15 09:00"), recipient_zone=recipient_zone, workspace_zone="America/New_York"
    )

    assert moment == utc(expected)


def test_earliest_moment_is_when_utc_plus_14_reaches_the_wall_time() -> None:
    assert earliest_moment(wall("2026-06-15 09:00")) == utc("2026-06-14 19:00")
    assert earliest_moment(wall("2026-06-15 09:00")) == wall_to_utc(
        wall("2026-06-15 09:00"), ZoneInfo("Pacific/Kiritimati")
    )


def test_latest_moment_is_when_utc_minus_12_reaches_the_wall_time() -> None:
    assert latest_moment(wall("2026-06-15 09:00")) == utc("2026-06-15 21:00")
    assert latest_moment(wall("2026-06-15 09:00")) == wall_to_utc(
        wall("2026-06-15 09:00"), ZoneInfo("Etc/GMT+12")
    )


@pytest.mark.parametrize("day", ["2026-01-15 12:00", "2026-07-15 12:00"])
def test_no_zone_on_earth_is_outside_earliest_and_latest(day: str) -> None:
    local = wall(day)

    for name in available_timezones():
        moment = wall_to_utc(local, ZoneInfo(name))
        assert earliest_moment(local) <= moment <= latest_moment(local), name


# --- Quiet hours -------------------------------------------------------------------------------------

NIGHT = QuietHours(start=time(21, 0), end=time(8, 0))
LUNCH = QuietHours(start=time(13, 0), end=time(14, 0))


def test_default_sms_quiet_hours_are_nine_pm_to_eight_am() -> None:
    assert DEFAULT_SMS_QUIET_HOURS == NIGHT


@pytest.mark.parametrize(
    ("clock", "inside"),
    [
        (time(20, 59), False),
        (time(21, 0), True),
        (time(23, 59), True),
        (time(0, 0), True),
        (time(7, 59), True),
        (time(8, 0), False),
        (time(12, 0), False),
    ],
)
def test_quiet_hours_crossing_midnight_include_start_and_exclude_end(clock: time, inside: bool) -> None:
    assert NIGHT.contains(clock) is inside


@pytest.mark.parametrize(
    ("clock", "inside"),
    [(time(12, 59), False), (time(13, 0), True), (time(13, 59), True), (time(14, 0), False)],
)
def test_quiet_hours_within_a_day_include_start_and_exclude_end(clock: time, inside: bool) -> None:
    assert LUNCH.contains(clock) is inside


@pytest.mark.parametrize("clock", [time(0, 0), time(9, 0), time(21, 0)])
def test_quiet_hours_starting_when_they_end_are_none(clock: time) -> None:
    assert not QuietHours(start=time(9, 0), end=time(9, 0)).contains(clock)


@pytest.mark.parametrize(
    ("local", "expected_local"),
    [
        ("2026-06-15 22:30", "2026-06-16 08:00"),  # before midnight: tomorrow morning
        ("2026-06-15 07:59", "2026-06-15 08:00"),  # after midnight: this morning
        ("2026-06-15 08:00", "2026-06-15 08:00"),  # over already
        ("2026-06-15 20:59", "2026-06-15 20:59"),  # not started yet
    ],
)
def test_after_quiet_hours_crossing_midnight(local: str, expected_local: str) -> None:
    moment = wall_to_utc(wall(local), BERLIN)

    result = after_quiet_hours(moment, tz=BERLIN, quiet=NIGHT)

    assert utc_to_wall(result, BERLIN) == wall(expected_local)


def test_after_quiet_hours_outside_returns_the_moment_itself() -> None:
    moment = utc("2026-06-15 10:00:42.123456")

    assert after_quiet_hours(moment, tz=BERLIN, quiet=NIGHT) is moment


def test_after_quiet_hours_within_a_day_waits_until_they_end_the_same_day() -> None:
    moment = wall_to_utc(wall("2026-06-15 13:20"), BERLIN)

    assert after_quiet_hours(moment, tz=BERLIN, quiet=LUNCH) == wall_to_utc(wall("2026-06-15 14:00"), BERLIN)


@pytest.mark.parametrize("quiet", [None, QuietHours(start=time(0, 0), end=time(0, 0))])
def test_after_quiet_hours_without_quiet_hours_returns_the_moment(quiet: QuietHours | None) -> None:
    moment = wall_to_utc(wall("2026-06-15 03:00"), BERLIN)

    assert after_quiet_hours(moment, tz=BERLIN, quiet=quiet) == moment


def test_quiet_hours_ending_the_morning_clocks_go_forward_end_at_eight_summer_time() -> None:
    moment = wall_to_utc(wall("2026-03-28 23:00"), BERLIN)  # 22:00 UTC, CET

    result = after_quiet_hours(moment, tz=BERLIN, quiet=NIGHT)

    assert result == utc("2026-03-29 06:00")  # 08:00 CEST, nine hours later not ten


def test_quiet_hours_ending_the_morning_clocks_go_back_end_at_eight_winter_time() -> None:
    moment = wall_to_utc(wall("2026-10-24 23:00"), BERLIN)  # 21:00 UTC, CEST

    result = after_quiet_hours(moment, tz=BERLIN, quiet=NIGHT)

    assert result == utc("2026-10-25 07:00")  # 08:00 CET


def test_quiet_hours_ending_in_the_missing_hour_end_the_same_minutes_after_the_jump() -> None:
    quiet = QuietHours(start=time(22, 0), end=time(2, 30))
    moment = wall_to_utc(wall("2026-03-29 01:00"), BERLIN)

    result = after_quiet_hours(moment, tz=BERLIN, quiet=quiet)

    assert utc_to_wall(result, BERLIN) == wall("2026-03-29 03:30")


def test_quiet_hours_ending_in_the_repeated_hour_never_end_before_the_moment() -> None:
    quiet = QuietHours(start=time(22, 0), end=time(2, 30))
    second_two_ten = utc("2026-10-25 01:10")  # 02:10 CET, after the first 02:30 CEST has passed

    result = after_quiet_hours(second_two_ten, tz=BERLIN, quiet=quiet)

    assert result == utc("2026-10-25 01:30")  # the second 02:30, CET


# --- Delivery moment ---------------------------------------------------------------------------------


def _deliver(**overrides: object) -> datetime:
    arguments: dict[str, object] = {
        "timing": "now",
        "send_at": None,
        "local_wall": None,
        "now": utc("2026-06-15 10:00"),
        "recipient_zone": None,
        "workspace_zone": "Europe/Berlin",
        "quiet": None,
    }
    arguments.update(overrides)
    return delivery_moment(**arguments)  # type: ignore[arg-type]


def test_now_sends_now() -> None:
    assert _deliver(timing="now") == utc("2026-06-15 10:00")


def test_now_sms_at_eleven_pm_recipient_time_waits_until_eight_local() -> None:
    result = _deliver(
        timing="now", now=utc("2026-06-15 14:00"), recipient_zone="Asia/Tokyo", quiet=NIGHT
    )  # 23:00 in Tokyo

    assert utc_to_wall(result, ZoneInfo("Asia/Tokyo")) == wall("2026-06-16 08:00")
    assert result == utc("2026-06-15 23:00")


def test_at_sends_at_the_stored_moment() -> None:
    assert _deliver(timing="at", send_at=utc("2026-06-20 07:00")) == utc("2026-06-20 07:00")


def test_at_in_the_past_sends_now() -> None:
    assert _deliver(timing="at", send_at=utc("2026-06-01 07:00")) == utc("2026-06-15 10:00")


def test_at_applies_quiet_hours_in_the_recipients_zone() -> None:
    # 07:00 UTC is 09:00 in Berlin but 00:00 in Los Angeles.
    result = _deliver(
        timing="at", send_at=utc("2026-06-20 07:00"), recipient_zone="America/Los_Angeles", quiet=NIGHT
    )

    assert result == utc("2026-06-20 15:00")  # 08:00 PDT


def test_recipient_local_sends_at_the_wall_time_in_the_recipients_zone() -> None:
    result = _deliver(
        timing="recipient_local",
        local_wall=wall("2026-06-20 09:00"),
        recipient_zone="America/Los_Angeles",
        quiet=NIGHT,
    )

    assert result == utc("2026-06-20 16:00")


def test_recipient_local_without_a_zone_uses_the_workspace_zone() -> None:
    result = _deliver(timing="recipient_local", local_wall=wall("2026-06-20 09:00"), recipient_zone=None)

    assert result == utc("2026-06-20 07:00")


def test_recipient_local_already_passed_sends_now() -> None:
    # 09:00 in Tokyo was 00:00 UTC; the item launches at 10:00 UTC (19:00 in Tokyo).
    result = _deliver(
        timing="recipient_local",
        local_wall=wall("2026-06-15 09:00"),
        recipient_zone="Asia/Tokyo",
        quiet=NIGHT,
    )

    assert result == utc("2026-06-15 10:00")


def test_recipient_local_already_passed_inside_quiet_hours_waits_for_them_to_end() -> None:
    result = _deliver(
        timing="recipient_local",
        local_wall=wall("2026-06-15 09:00"),
        now=utc("2026-06-15 13:00"),  # 22:00 in Tokyo
        recipient_zone="Asia/Tokyo",
        quiet=NIGHT,
    )

    assert result == utc("2026-06-15 23:00")  # 08:00 the next morning in Tokyo


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"timing": "at"}, "send_at"),
        ({"timing": "recipient_local"}, "local_wall"),
        ({"timing": "yesterday"}, "unknown timing"),
    ],
)
def test_delivery_moment_rejects_an_incomplete_schedule(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _deliver(**overrides)
