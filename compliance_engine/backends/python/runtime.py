"""The only names generated Python code may use (`EXPORTED`): null-aware helpers, calendar
arithmetic and value conversions. Generated modules get exactly these in their globals."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from ...values import CalendarDuration, Month, add_months


def to_datetime(value):
    """A date used where a datetime is expected means 00:00 local time."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.combine(value, time.min)


def to_date(value):
    return value.date() if isinstance(value, datetime) else value


def plus(a, b):
    """`a + b` where b may be calendar months (clamped to the month's last day)."""
    if isinstance(b, CalendarDuration):
        return add_months(a, b.months)
    return a + b


def minus(a, b):
    if isinstance(b, CalendarDuration):
        return add_months(a, -b.months)
    if isinstance(a, Month) and isinstance(b, Month):
        return CalendarDuration(int(a) - int(b))
    return a - b


def divide(a, b):
    """Exact division; `x / 0` (and a duration ÷ a zero duration) is empty."""
    if b == 0 or b == timedelta(0):
        return None
    if isinstance(a, timedelta):
        if isinstance(b, timedelta):
            return Decimal(a // timedelta(microseconds=1)) / Decimal(b // timedelta(microseconds=1))
        return timedelta(microseconds=int(Decimal(a // timedelta(microseconds=1)) / Decimal(b)))
    if isinstance(a, int) and isinstance(b, int):
        return Decimal(a) / Decimal(b)
    return a / b


def times(a, b):
    if isinstance(a, timedelta):
        return timedelta(microseconds=int(Decimal(a // timedelta(microseconds=1)) * Decimal(b)))
    return a * b


def earliest(*values):
    present = [to_datetime(v) if any(isinstance(x, datetime) for x in values) else v for v in values if v is not None]
    return min(present) if present else None


def latest(*values):
    present = [to_datetime(v) if any(isinstance(x, datetime) for x in values) else v for v in values if v is not None]
    return max(present) if present else None


def month_of(value) -> Month:
    return Month.of(value.year, value.month)


def period_start(m: Month) -> date:
    return m.first_day()


def period_end(m: Month) -> date:
    return m.last_day()


def contains(container, item) -> bool:
    return item in container


def contains_any(container, items) -> bool:
    return any(i in container for i in items)


class _Unset:
    """Not computed yet: a value shared by several rules of a record is computed at first use."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET = _Unset()

EXPORTED = {
    "UNSET": UNSET, "Decimal": Decimal, "Month": Month, "CalendarDuration": CalendarDuration,
    "to_datetime": to_datetime, "to_date": to_date, "plus": plus, "minus": minus, "divide": divide,
    "times": times, "earliest": earliest, "latest": latest, "month_of": month_of,
    "period_start": period_start, "period_end": period_end, "contains": contains,
    "contains_any": contains_any,
}
