"""The working-day calendar: China statutory holidays and 调休 working weekends.

Three layers, later ones winning day by day:

1. the `chinesecalendar` library (import name `chinese_calendar`, covers 2004–2026);
2. the bundled snapshot `compliance_engine/data/calendar_cn.yaml` (versioned with the
   package, so a year the library lacks can be added here);
3. optional officer override files in the same YAML format (`load_calendar(path, ...)`).

A day listed nowhere follows the weekday rule: Monday–Friday work, Saturday/Sunday rest.
`covers(year)` tells whether some layer has data for the year.

`workday_index(d)` counts working days in (EPOCH, d]; `workdays_between(t1, t2)` is the
difference of two indexes: the working days after t1's day up to and including t2's day.
Rules call these per record over millions of records, so a calendar precomputes dense
arrays for its data range and uses closed-form weekday arithmetic outside it: every call
is a range check plus one list lookup. A `WorkdayCalendar` is immutable once built, so
`default_calendar()` can be shared between threads.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

import chinese_calendar
from ruamel.yaml import YAML, YAMLError
from ruamel.yaml.constructor import RoundTripConstructor

__all__ = [
    "EPOCH",
    "CalendarError",
    "WorkdayCalendar",
    "default_calendar",
    "load_calendar",
]

EPOCH = date(2000, 1, 1)
BUNDLED_PATH = Path(__file__).parent / "data" / "calendar_cn.yaml"
DEFAULT_HOLIDAY_NAME = "节假日"  # for holidays given as a bare list of dates
MIN_YEAR, MAX_YEAR = 1900, 2200  # data outside this would only be a typo, and bloat the arrays

_D = TypeVar("_D", date, datetime)
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_KEYS = ("version", "source", "holidays", "workdays")


class CalendarError(ValueError):
    """A calendar data file is unreadable or has a bad entry (message in Chinese)."""


# --- weekday arithmetic on proleptic ordinals (ordinal 1 = 0001-01-01, a Monday) -----


def _weekdays_upto(o: int) -> int:
    """Mon–Fri days among ordinals 1..o; f(o) - f(o-1) == (o is a weekday) for every o."""
    return 5 * (o // 7) + min(o % 7, 5)


def _nth_weekday(m: int) -> int:
    """The ordinal of the weekday d with _weekdays_upto(d) == m (inverse of the above)."""
    week, r = divmod(m - 1, 5)
    return 7 * week + r + 1


def _is_weekday(o: int) -> bool:
    return (o - 1) % 7 < 5  # same as date.fromordinal(o).weekday() < 5


# --- the calendar ----------------------------------------------------------------------


class WorkdayCalendar:
    """Which days are working days; built from merged holiday/workday data.

    `holidays` maps day-off dates to names, `workdays` are dates worked (调休) even if
    they fall on a weekend; the two must not overlap. `years` are the years with data.
    """

    __slots__ = (
        "version", "_years", "_names", "_lo", "_n", "_work", "_index",
        "_before", "_after", "_wd_ords", "_wd_first",
    )  # fmt: skip

    def __init__(
        self,
        holidays: Mapping[date, str],
        workdays: Iterable[date],
        years: Iterable[int],
        version: str,
    ) -> None:
        workday_set = frozenset(workdays)
        if clash := workday_set.intersection(holidays):
            raise ValueError(f"dates both holiday and workday: {sorted(clash)}")
        self.version = version
        self._years = frozenset(years) | {d.year for d in holidays} | {d.year for d in workday_set}
        self._names = MappingProxyType({d.toordinal(): n for d, n in holidays.items()})
        off = {d.toordinal() for d in holidays}
        on = {d.toordinal() for d in workday_set}

        # Dense range: whole years from the first to the last year with data.
        if self._years:
            self._lo = date(min(self._years), 1, 1).toordinal()
            hi = date(max(self._years), 12, 31).toordinal()
        else:
            self._lo, hi = EPOCH.toordinal(), EPOCH.toordinal() - 1
        self._n = hi - self._lo + 1
        ords = range(self._lo, hi + 1)
        self._work = tuple(o in on or (_is_weekday(o) and o not in off) for o in ords)

        # raw(o): a running count that equals _weekdays_upto(o) before the dense range and
        # _weekdays_upto(o) + shift after it; the index is raw relative to raw(EPOCH).
        raw, count = [], _weekdays_upto(self._lo - 1)
        for w in self._work:
            count += w
            raw.append(count)
        shift = count - _weekdays_upto(hi)
        e = EPOCH.toordinal()
        if e < self._lo:
            base = _weekdays_upto(e)
        elif e > hi:
            base = _weekdays_upto(e) + shift
        else:
            base = raw[e - self._lo]
        self._index = tuple(r - base for r in raw)
        self._before = -base  # index(o) = _weekdays_upto(o) + _before, for o < range
        self._after = shift - base  # ... + _after, for o > range

        # Working days of the range in order, to invert the index in add_workdays.
        self._wd_ords = tuple(o for o, w in zip(ords, self._work) if w)
        self._wd_first = self._index[self._wd_ords[0] - self._lo] if self._wd_ords else 0

    def __repr__(self) -> str:
        years = f"{min(self._years)}–{max(self._years)}" if self._years else "none"
        return f"<WorkdayCalendar {self.version} data years {years}>"

    def is_workday(self, d: date | datetime) -> bool:
        """Whether d's calendar day is a working day."""
        o = d.toordinal()
        i = o - self._lo
        if 0 <= i < self._n:
            return self._work[i]
        return (o - 1) % 7 < 5

    def workday_index(self, d: date | datetime) -> int:
        """Number of working days in (EPOCH, d]; zero or negative for days up to EPOCH."""
        o = d.toordinal()
        i = o - self._lo
        if 0 <= i < self._n:
            return self._index[i]
        return _weekdays_upto(o) + (self._before if i < 0 else self._after)

    def workdays_between(self, t1: date | datetime, t2: date | datetime) -> int:
        """Working days after t1's day up to and including t2's day (negative if t2 < t1)."""
        return self.workday_index(t2) - self.workday_index(t1)

    def add_workdays(self, t: _D, n: int) -> _D:
        """The n-th working day after t's day (n > 0) or before it (n < 0); t for n == 0.

        Keeps the type of t and, for a datetime, its time of day. For n > 0,
        workdays_between(t, result) == n always; for n < 0 only when t is a working day
        (t's own day is not counted going back, so from a rest day the result is n + 1).
        """
        if n == 0:
            return t
        o = t.toordinal()
        # Find the working day with index k. Going forward it is n past t's index; going
        # back, the latest working day before t has the index of the day before t.
        if n > 0:
            k = self.workday_index(t) + n
        else:
            k = self.workday_index(date.fromordinal(o - 1)) + n + 1
        return t + timedelta(days=self._workday_with_index(k) - o)

    def _workday_with_index(self, k: int) -> int:
        i = k - self._wd_first
        if 0 <= i < len(self._wd_ords):
            return self._wd_ords[i]
        return _nth_weekday(k - (self._before if i < 0 else self._after))

    def covers(self, year: int) -> bool:
        """Whether holiday data exists for the year (otherwise: plain weekday rule)."""
        return year in self._years

    def holiday_name(self, d: date | datetime) -> str | None:
        """The holiday name if d's day is a listed day off, else None."""
        return self._names.get(d.toordinal())

    def table(self, start: date, end: date) -> list[tuple[date, bool, int]]:
        """(day, is_workday, workday_index) for every day in [start, end]."""
        days = (date.fromordinal(o) for o in range(start.toordinal(), end.toordinal() + 1))
        return [(d, self.is_workday(d), self.workday_index(d)) for d in days]


# --- data files ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Layer:
    """One data file: days off with names, 调休 workdays, years mentioned, `version:`."""

    holidays: dict[date, str]
    workdays: set[date]
    years: set[int]
    version: str | None


class _StrDatesConstructor(RoundTripConstructor):
    """Round-trip loading (for line numbers) that keeps timestamps as strings.

    Otherwise ruamel builds `date`s itself and an invalid one like 2027-02-30 fails
    inside the loader with no file position; we validate dates ourselves instead.
    A subclass, so the shared RoundTripConstructor is left untouched.
    """


_StrDatesConstructor.add_constructor(
    "tag:yaml.org,2002:timestamp", RoundTripConstructor.construct_yaml_str
)


def _line(node: Any, key: Any = None, item: int | None = None) -> int | None:
    """1-based line of a mapping key / sequence item from ruamel's `lc` info, if any."""
    try:
        line = node.lc.key(key)[0] if item is None else node.lc.item(item)[0]
    except (AttributeError, KeyError, IndexError, TypeError):
        return None
    return line + 1


def _fail(path: Path, line: int | None, message: str) -> CalendarError:
    where = f" 第 {line} 行" if line is not None else ""
    return CalendarError(f"日历文件 {path}{where}：{message}")


def _parse_date(path: Path, value: Any, line: int | None) -> date:
    if isinstance(value, str) and _DATE_RE.fullmatch(value):
        try:
            d = date.fromisoformat(value)
        except ValueError:
            pass
        else:
            if MIN_YEAR <= d.year <= MAX_YEAR:
                return d
            raise _fail(path, line, f"{value!r} 超出支持的年份范围 {MIN_YEAR}–{MAX_YEAR}")
    raise _fail(path, line, f"{value!r} 不是有效日期（应为 YYYY-MM-DD）")


def _parse_holidays(path: Path, node: Any, line: int | None) -> dict[date, str]:
    if isinstance(node, Mapping):
        out = {}
        for key, name in node.items():
            at = _line(node, key=key)
            if name is None:
                name = DEFAULT_HOLIDAY_NAME
            elif not isinstance(name, str) or not name.strip():
                raise _fail(path, at, f"{key!r} 的节日名称应为非空字符串，而不是 {name!r}")
            out[_parse_date(path, key, at)] = name.strip()
        return out
    if isinstance(node, list):
        dates = _parse_dates(path, node)
        return dict.fromkeys(dates, DEFAULT_HOLIDAY_NAME)
    raise _fail(path, line, "holidays 应为“日期: 名称”的映射或日期列表")


def _parse_dates(path: Path, node: Any) -> list[date]:
    return [_parse_date(path, v, _line(node, item=i)) for i, v in enumerate(node)]


def _load_yaml(path: Path) -> tuple[Any, bytes]:
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise CalendarError(f"日历文件 {path} 无法读取：{e.strerror or e}") from e
    yaml = YAML(typ="rt")
    yaml.Constructor = _StrDatesConstructor
    try:
        return yaml.load(raw.decode("utf-8")), raw
    except UnicodeDecodeError as e:
        raise CalendarError(f"日历文件 {path} 不是 UTF-8 编码") from e
    except YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(e, "problem", None) or str(e)
        raise _fail(path, line, f"YAML 格式错误：{problem}") from e


def _read_layer(path: Path) -> tuple[_Layer, bytes]:
    """Parse and validate one data file; CalendarError names the file and the entry."""
    doc, raw = _load_yaml(path)
    if doc is None:
        raise _fail(path, None, "文件为空")
    if not isinstance(doc, Mapping):
        raise _fail(path, None, "顶层应为映射，可含 version、source、holidays、workdays")
    for key in doc:
        if key not in _KEYS:
            raise _fail(path, _line(doc, key=key), f"未知的键 {key!r}（允许：{'、'.join(_KEYS)}）")
    for key in ("version", "source"):
        if key in doc and not isinstance(doc[key], str):
            hint = "（请加引号，如 \"2027.1\"）" if key == "version" else ""
            raise _fail(path, _line(doc, key=key), f"{key} 应为字符串{hint}")

    holidays = _parse_holidays(path, doc.get("holidays") or {}, _line(doc, key="holidays"))
    wd_node = doc.get("workdays") or []
    if not isinstance(wd_node, list):
        raise _fail(path, _line(doc, key="workdays"), "workdays 应为日期列表")
    workdays = _parse_dates(path, wd_node)
    for i, d in enumerate(workdays):
        if d in holidays:  # ambiguous within one file; across files the later one wins
            raise _fail(path, _line(wd_node, item=i), f"{d} 同时列在 holidays 和 workdays 中")
    years = {d.year for d in holidays} | {d.year for d in workdays}
    return _Layer(holidays, set(workdays), years, doc.get("version")), raw


def _library_layer() -> _Layer:
    # Names in Chinese (the library's Holiday.chinese) to match the bundled file.
    chinese = {h.value: h.chinese for h in chinese_calendar.Holiday}
    holidays = {d: chinese.get(n, n) for d, n in chinese_calendar.holidays.items()}
    workdays = set(chinese_calendar.workdays)
    years = {d.year for d in holidays}
    return _Layer(holidays, workdays, years, chinese_calendar.__version__)


def _merge(layers: Iterable[_Layer]) -> tuple[dict[date, str], set[date], set[int]]:
    """Apply layers in order; a later layer's entry replaces any earlier one for the day."""
    holidays: dict[date, str] = {}
    workdays: set[date] = set()
    years: set[int] = set()
    for layer in layers:
        for d, name in layer.holidays.items():
            holidays[d] = name
            workdays.discard(d)
        for d in layer.workdays:
            workdays.add(d)
            holidays.pop(d, None)
        years |= layer.years
    return holidays, workdays, years


def load_calendar(*override_paths: str | Path) -> WorkdayCalendar:
    """Library + bundled data + the given override files, applied in order."""
    library = _library_layer()
    bundled, _ = _read_layer(BUNDLED_PATH)
    if bundled.version is None:
        raise _fail(BUNDLED_PATH, None, "缺少 version")
    layers = [library, bundled]
    version = f"chinesecalendar-{library.version}+bundled-{bundled.version}"
    for p in map(Path, override_paths):
        layer, raw = _read_layer(p)
        layers.append(layer)
        version += f"+override:{p.stem}@{hashlib.sha256(raw).hexdigest()[:8]}"
    holidays, workdays, years = _merge(layers)
    return WorkdayCalendar(holidays, workdays, years, version)


@lru_cache(maxsize=None)
def default_calendar() -> WorkdayCalendar:
    """The shared calendar from library + bundled data (built once, immutable)."""
    return load_calendar()
