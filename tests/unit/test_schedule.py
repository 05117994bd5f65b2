from datetime import UTC, date, datetime, time, timedelta

from booking.catalogue.model import DutyTemplate, Part
from booking.catalogue.policy import BookingPolicy
from booking.catalogue.schedule import last_released_date, place_times, plan_sessions, session_span

TZ = "Asia/Shanghai"


def test_twenty_places_in_a_morning_get_twelve_minutes_each() -> None:
    start, end = session_span(date(2026, 11, 23), (time(8), time(12)), TZ)
    places = place_times(start, end, 20)
    assert [p.queue_no for p in places] == list(range(1, 21))
    assert places[0].starts_at.astimezone().utcoffset() is not None
    assert places[1].starts_at - places[0].starts_at == timedelta(minutes=12)
    assert places[6].starts_at == start + timedelta(minutes=72)  # queue no. 7 at 09:12
    assert places[-1].ends_at == end


def test_a_new_day_opens_at_seven_in_the_hospital_time_zone() -> None:
    policy = BookingPolicy()
    before = datetime(2026, 11, 22, 22, 59, tzinfo=UTC)  # 06:59 on the 23rd in Shanghai
    after = before + timedelta(minutes=1)
    assert last_released_date(before, policy, TZ) == date(2026, 11, 29)
    assert last_released_date(after, policy, TZ) == date(2026, 11, 30)


def test_weekly_templates_become_sessions_on_their_weekdays() -> None:
    templates = [DutyTemplate(1, Part.AM, 20), DutyTemplate(3, Part.PM, 20)]
    planned = plan_sessions(templates, date(2026, 11, 23), 7)  # Monday, through next Monday
    assert [(p.visit_date.isoweekday(), p.part) for p in planned] == [
        (1, Part.AM),
        (3, Part.PM),
        (1, Part.AM),
    ]
