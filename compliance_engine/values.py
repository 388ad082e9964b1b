"""Runtime representations of language values that Python lacks: the calendar month.

text → str, int → int, decimal and money → decimal.Decimal, bool → bool,
date → datetime.date, datetime → naive local datetime.datetime (Asia/Shanghai),
duration → datetime.timedelta (exact) or CalendarDuration (months), month → Month,
enum → str (a member), list of T → tuple, empty → None.
"""

from __future__ import annotations

import calendar as _calendar
import re
from dataclasses import dataclass
from datetime import date, datetime

_MONTH_RE = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$")


class Month(int):
    """A calendar month ('YYYY-MM'); an int counting months since year 0, so it orders and hashes."""

    __slots__ = ()

    @classmethod
    def of(cls, year: int, month: int) -> Month:
        return cls(year * 12 + month - 1)

    @classmethod
    def parse(cls, text: str) -> Month:
        m = _MONTH_RE.match(text)
        if not m or not 1 <= int(m.group(2)) <= 12:
            raise ValueError(f"not a month (YYYY-MM): {text!r}")
        return cls.of(int(m.group(1)), int(m.group(2)))

    @classmethod
    def of_date(cls, d: date) -> Month:
        return cls.of(d.year, d.month)

    @property
    def year(self) -> int:
        return int(self) // 12

    @property
    def month(self) -> int:
        return int(self) % 12 + 1

    def shift(self, months: int) -> Month:
        return Month(int(self) + months)

    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    def last_day(self) -> date:
        return date(self.year, self.month, _calendar.monthrange(self.year, self.month)[1])

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def __repr__(self) -> str:
        return f"Month('{self}')"


@dataclass(frozen=True, slots=True, order=True)
class CalendarDuration:
    """N calendar months (years are 12 months); added with clamping to the month's last day."""

    months: int

    def __neg__(self) -> CalendarDuration:
        return CalendarDuration(-self.months)

    def __str__(self) -> str:
        if self.months % 12 == 0:
            return f"{self.months // 12} years"
        return f"{self.months} months"


def add_months(value: date | datetime | Month, months: int):
    """Shift a date, datetime or Month by calendar months, clamping to the month's last day."""
    if isinstance(value, Month):
        return value.shift(months)
    total = value.year * 12 + value.month - 1 + months
    year, month = divmod(total, 12)
    month += 1
    day = min(value.day, _calendar.monthrange(year, month)[1])
    return value.replace(year=year, month=month, day=day)
