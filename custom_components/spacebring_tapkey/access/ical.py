"""Weekly schedules as Tapkey `timeRestrictionIcal` values.

Tapkey applies an RFC 5545 VCALENDAR holding exactly one VEVENT on top of a
grant's validity. Tapkey publishes no example, so the exact form (IANA TZID
without a VTIMEZONE block) is unconfirmed; it lives in this one function.
The output is deterministic: the planner compares it to recognise grants it
made for the same schedule.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from .model import WeeklySchedule

_BYDAY = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
# A Monday long past: the series starts on the first scheduled day of its week.
_ANCHOR_MONDAY = date(2024, 1, 1)
_STAMP = "20240101T000000Z"


def weekly_schedule_ical(schedule: WeeklySchedule) -> str:
    """Render `schedule` as a VCALENDAR with one weekly-recurring VEVENT."""
    days = sorted(schedule.weekdays)
    first_day = _ANCHOR_MONDAY + timedelta(days=days[0])
    start = datetime.combine(first_day, schedule.start)
    end = datetime.combine(first_day, schedule.end)
    if schedule.crosses_midnight:
        end += timedelta(days=1)
    tzid = schedule.timezone
    byday = ",".join(_BYDAY[day] for day in days)
    uid = f"{byday}-{start:%H%M%S}-{end:%H%M%S}-{tzid}@spacebring-tapkey"
    lines = (
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//spacebring_tapkey//access schedule//EN",
        "BEGIN:VEVENT",
        f"UID:{uid.replace(',', '').replace('/', '-')}",
        f"DTSTAMP:{_STAMP}",
        f"DTSTART;TZID={tzid}:{start:%Y%m%dT%H%M%S}",
        f"DTEND;TZID={tzid}:{end:%Y%m%dT%H%M%S}",
        f"RRULE:FREQ=WEEKLY;BYDAY={byday}",
        "END:VEVENT",
        "END:VCALENDAR",
    )
    return "\r\n".join(lines) + "\r\n"
