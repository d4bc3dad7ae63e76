"""One closure day as the message running cases get (R1-R3 recomputation). The calendar
route and registration both send it, under one event id per (jurisdiction, day), so a
case told twice recomputes once."""

from __future__ import annotations

from datetime import date

from models.messages import CalendarChanged


def closure_changed(jurisdiction: str, day: date) -> CalendarChanged:
    return CalendarChanged(event_id=f"closure:{jurisdiction}:{day.isoformat()}",
                           extra_closures=[day])
