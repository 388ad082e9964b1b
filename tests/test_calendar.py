"""Tests for compliance_engine.calendar: China holidays, 调休 weekends, workday arithmetic."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta
from pathlib import Path

import chinese_calendar
import pytest
from hypothesis import given
from hypothesis import strategies as st
from ruamel.yaml import YAML

from compliance_engine.calendar import (
    BUNDLED_PATH,
    EPOCH,
    CalendarError,
    WorkdayCalendar,
    default_calendar,
    load_calendar,
)

CAL = default_calendar()
D = date.fromisoformat


def write(tmp_path: Path, text: str | bytes, name: str = "override.yaml") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def naive_index(is_work, d: date) -> int:
    """Reference workday_index by walking day by day from EPOCH."""
    if d >= EPOCH:
        days = (EPOCH + timedelta(i) for i in range(1, (d - EPOCH).days + 1))
        return sum(map(is_work, days))
    return -sum(map(is_work, (d + timedelta(i) for i in range(1, (EPOCH - d).days + 1))))


def library_is_work(d: date) -> bool:
    """The library's own answer where it has data, the weekday rule elsewhere."""
    if 2004 <= d.year <= 2026:
        return chinese_calendar.is_workday(d)
    return d.weekday() < 5


# --- known facts (checked against chinesecalendar 1.11.0) ------------------------------


def test_2026_spring_festival():
    for day in range(15, 24):  # 2026-02-15 (Sun) .. 2026-02-23 (Mon) off
        d = date(2026, 2, day)
        assert not CAL.is_workday(d)
        assert CAL.holiday_name(d) == "春节"
    # 调休: Saturdays 2026-02-14 and 2026-02-28 are working days.
    for d in (D("2026-02-14"), D("2026-02-28")):
        assert d.weekday() == 5 and CAL.is_workday(d) and CAL.holiday_name(d) is None
    assert CAL.is_workday(D("2026-02-24"))
    assert not CAL.is_workday(D("2026-02-21"))  # a Saturday inside the holiday


def test_2024_national_day():
    for day in range(1, 8):
        assert not CAL.is_workday(date(2024, 10, day))
        assert CAL.holiday_name(date(2024, 10, day)) == "国庆节"
    assert D("2024-09-29").weekday() == 6 and CAL.is_workday(D("2024-09-29"))
    assert D("2024-10-12").weekday() == 5 and CAL.is_workday(D("2024-10-12"))
    assert not CAL.is_workday(D("2024-10-13"))  # the Sunday after is an ordinary rest day
    assert CAL.is_workday(D("2024-10-08"))


def test_ordinary_days():
    assert CAL.is_workday(D("2025-03-12"))  # Wednesday
    assert not CAL.is_workday(D("2025-03-15"))  # Saturday
    assert CAL.holiday_name(D("2025-03-15")) is None


def test_datetime_means_its_calendar_day():
    assert not CAL.is_workday(datetime(2024, 10, 1, 23, 59, 59))
    assert CAL.is_workday(datetime(2024, 9, 29, 0, 0))
    assert CAL.workday_index(datetime(2024, 9, 29, 18)) == CAL.workday_index(D("2024-09-29"))


# --- workday_index / workdays_between --------------------------------------------------


def test_index_at_epoch():
    assert CAL.workday_index(EPOCH) == 0  # (EPOCH, EPOCH] is empty
    assert CAL.workday_index(D("2000-01-03")) == 1  # 2000-01-01 is a Saturday
    assert CAL.workday_index(D("1999-12-31")) == 0  # (1999-12-31, 2000-01-01] has no workday
    assert CAL.workday_index(D("1999-12-30")) == -1


def test_between_across_tiaoxiu_weekend():
    # Fri 09-27 -> Tue 10-08: working Sun 09-29, Mon 09-30, Tue 10-08.
    assert CAL.workdays_between(D("2024-09-27"), D("2024-10-08")) == 3
    assert CAL.workdays_between(D("2024-09-28"), D("2024-09-29")) == 1  # Sat -> working Sun
    assert CAL.workdays_between(D("2024-10-07"), D("2024-10-12")) == 5  # Tue..Sat all work
    assert CAL.workdays_between(D("2025-03-14"), D("2025-03-17")) == 1  # plain weekend


def test_between_negative_and_same_day():
    assert CAL.workdays_between(D("2024-10-08"), D("2024-09-27")) == -3
    assert CAL.workdays_between(D("2024-10-05"), D("2024-10-05")) == 0
    assert CAL.workdays_between(datetime(2024, 9, 29, 8), datetime(2024, 9, 29, 20)) == 0
    assert CAL.workdays_between(datetime(2024, 9, 29, 20), D("2024-09-30")) == 1


def test_index_matches_day_by_day_count_1900_2200():
    # Every day 1900..2200 against a walk using the library's own is_workday.
    start, end = D("1900-01-01"), D("2200-12-31")
    expected = naive_index(library_is_work, start)
    d = start
    while d <= end:
        assert CAL.workday_index(d) == expected, d
        d += timedelta(1)
        expected += library_is_work(d)


def test_outside_covered_years_is_weekday_rule():
    assert [y for y in range(1990, 2040) if CAL.covers(y)] == list(range(2004, 2027))
    assert CAL.is_workday(D("2027-01-01"))  # a Friday; no 2027 data yet
    assert not CAL.is_workday(D("2027-01-02"))
    assert CAL.is_workday(D("2003-10-01"))  # before the library's data, a Wednesday
    # 2026-12-31 (Thu) -> 2027-01-11 (Mon): Fri 1, Mon-Fri 5, Mon 1.
    assert CAL.workdays_between(D("2026-12-31"), D("2027-01-11")) == 7


# --- add_workdays ----------------------------------------------------------------------


def test_add_workdays_examples():
    assert CAL.add_workdays(D("2024-09-27"), 1) == D("2024-09-29")  # the working Sunday
    assert CAL.add_workdays(D("2024-09-27"), 3) == D("2024-10-08")
    assert CAL.add_workdays(D("2024-10-03"), 1) == D("2024-10-08")  # from inside the holiday
    assert CAL.add_workdays(D("2024-10-08"), -1) == D("2024-09-30")
    assert CAL.add_workdays(D("2024-10-08"), -2) == D("2024-09-29")
    assert CAL.add_workdays(D("2024-10-03"), -1) == D("2024-09-30")
    assert CAL.add_workdays(D("2024-10-03"), 0) == D("2024-10-03")
    assert CAL.add_workdays(D("2030-06-07"), 1) == D("2030-06-10")  # outside data: weekends
    assert CAL.add_workdays(D("1950-06-10"), -1) == D("1950-06-09")


def test_add_workdays_keeps_type_and_time():
    t = datetime(2024, 9, 27, 15, 30, 5)
    result = CAL.add_workdays(t, 3)
    assert type(result) is datetime and result == datetime(2024, 10, 8, 15, 30, 5)
    assert type(CAL.add_workdays(D("2024-09-27"), 3)) is date


dates = st.one_of(
    st.dates(D("2000-01-01"), D("2030-12-31")),
    st.dates(D("1900-01-01"), D("2200-12-31")),  # also outside the data range
)
moments = st.one_of(dates, st.datetimes(datetime(2000, 1, 1), datetime(2030, 12, 31)))


@given(t=moments, n=st.integers(-40, 40))
def test_add_workdays_round_trip(t, n):
    r = CAL.add_workdays(t, n)
    if n == 0:
        assert r == t
        return
    assert CAL.is_workday(r)
    step = 1 if n > 0 else -1
    # r is the |n|-th working day strictly after/before t's day, so the days between
    # t and r (exclusive) hold exactly |n| - 1 working days.
    inner = 0
    d = t.toordinal() + step
    while d != r.toordinal():
        inner += CAL.is_workday(date.fromordinal(d))
        d += step
    assert inner == abs(n) - 1
    # workdays_between counts (t, r]: exactly n forward; backward it counts t's own day
    # instead of r's, so it is n only when t is a working day.
    expected = n if n > 0 or CAL.is_workday(t) else n + 1
    assert CAL.workdays_between(t, r) == expected
    if CAL.is_workday(t):
        assert CAL.add_workdays(r, -n) == t


# --- table -----------------------------------------------------------------------------


def test_table_consistent_with_index():
    rows = CAL.table(D("2023-12-20"), D("2027-01-10"))
    assert len(rows) == (D("2027-01-10") - D("2023-12-20")).days + 1
    for (d0, _, i0), (d1, w1, i1) in zip(rows, rows[1:]):
        assert d1 - d0 == timedelta(1)
        assert i1 - i0 == w1  # the index steps by one exactly on working days
    for d, w, i in rows:
        assert (w, i) == (CAL.is_workday(d), CAL.workday_index(d))
    assert CAL.table(D("2024-01-02"), D("2024-01-01")) == []
    assert CAL.table(D("2024-10-01"), D("2024-10-01")) == [
        (D("2024-10-01"), False, CAL.workday_index(D("2024-10-01")))
    ]


# --- bundled data and version ----------------------------------------------------------


def test_bundled_data_equals_library_2024_2026():
    doc = YAML(typ="safe").load(BUNDLED_PATH.read_text(encoding="utf-8"))
    assert isinstance(doc["version"], str) and doc["source"]
    chinese = {h.value: h.chinese for h in chinese_calendar.Holiday}
    years = {2024, 2025, 2026}
    lib_holidays = {
        d: chinese[n] for d, n in chinese_calendar.holidays.items() if d.year in years
    }
    lib_workdays = {d for d in chinese_calendar.workdays if d.year in years}
    bundled_holidays = {d: n for d, n in doc["holidays"].items() if d.year in years}
    assert bundled_holidays == lib_holidays
    assert {d for d in doc["workdays"] if d.year in years} == lib_workdays
    assert {d.year for d in [*doc["holidays"], *doc["workdays"]]} >= years


def test_version_string():
    version = f"chinesecalendar-{chinese_calendar.__version__}+bundled-2026.1"
    assert CAL.version == version
    assert default_calendar() is CAL


# --- overrides -------------------------------------------------------------------------

OVERRIDE_2027 = """\
version: "2027.1"
source: test data, not the real 2027 notice
holidays:
  2027-02-05: 春节
  2027-02-08: 春节
  2026-10-08: 公司停电检修日     # an ordinary Thursday becomes a day off
workdays:
  - 2027-02-06                  # a Saturday becomes a working day
  - 2026-10-07                  # a National Day holiday becomes a working day
"""


def test_override_adds_year_and_flips_days(tmp_path):
    path = write(tmp_path, OVERRIDE_2027, "cn_2027.yaml")
    cal = load_calendar(path)
    assert cal.covers(2027) and not CAL.covers(2027)
    assert not cal.is_workday(D("2027-02-05")) and cal.holiday_name(D("2027-02-05")) == "春节"
    assert cal.is_workday(D("2027-02-06"))
    assert not cal.is_workday(D("2026-10-08"))
    assert cal.holiday_name(D("2026-10-08")) == "公司停电检修日"
    assert cal.is_workday(D("2026-10-07")) and cal.holiday_name(D("2026-10-07")) is None
    sha = hashlib.sha256(path.read_bytes()).hexdigest()[:8]
    assert cal.version == f"{CAL.version}+override:cn_2027@{sha}"
    # The shared default calendar is untouched.
    assert CAL.is_workday(D("2026-10-08")) and not CAL.is_workday(D("2026-10-07"))
    # Index shifts: 2026-10-07 gained a workday, 2026-10-08 lost one.
    assert cal.workdays_between(D("2026-10-06"), D("2026-10-09")) == 2
    assert CAL.workdays_between(D("2026-10-06"), D("2026-10-09")) == 2  # 10-08, 10-09
    assert cal.workday_index(D("2026-10-07")) == CAL.workday_index(D("2026-10-07")) + 1


def test_later_override_wins_and_list_of_holidays(tmp_path):
    first = write(tmp_path, "holidays:\n  - 2025-03-12\n  - 2025-03-13\n", "a.yaml")
    second = write(tmp_path, "workdays: [2025-03-12]\n", "b.yaml")
    cal = load_calendar(first, second)
    assert cal.is_workday(D("2025-03-12"))
    assert not cal.is_workday(D("2025-03-13")) and cal.holiday_name(D("2025-03-13")) == "节假日"
    assert not load_calendar(second, first).is_workday(D("2025-03-12"))
    assert cal.version.count("+override:") == 2


def test_override_spanning_epoch_is_exact(tmp_path):
    # Data around EPOCH puts EPOCH inside the precomputed range; check against a walk.
    text = "holidays:\n  1999-12-31: 测试\nworkdays:\n  - 2000-01-01\n  - 1998-03-07\n"
    cal = load_calendar(write(tmp_path, text))
    assert cal.covers(1998) and cal.covers(1999)
    assert cal.workday_index(EPOCH) == 0
    assert cal.workday_index(D("1999-12-31")) == -1  # (12-31, 01-01]: the working Saturday
    assert cal.workday_index(D("2000-01-03")) == 1

    def is_work(d: date) -> bool:
        if d in (D("2000-01-01"), D("1998-03-07")):
            return True
        return d != D("1999-12-31") and library_is_work(d)

    for d in [D("1990-05-05"), D("1998-03-06"), D("1998-03-08"), D("1999-06-01"), EPOCH,
              D("2004-02-01"), D("2026-12-31"), D("2035-01-01")]:  # fmt: skip
        assert cal.workday_index(d) == naive_index(is_work, d), d


def test_calendar_without_data_is_weekday_rule():
    cal = WorkdayCalendar({}, [], [], "none")
    assert not cal.covers(2024)
    assert cal.is_workday(D("2024-10-01"))
    assert cal.workday_index(D("2000-01-10")) == 6
    assert cal.add_workdays(D("2024-10-04"), 1) == D("2024-10-07")
    assert cal.add_workdays(D("2024-10-07"), -1) == D("2024-10-04")


# --- bad override files ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('version: "x"\nholidays:\n  2027-02-30: 春节\n', "第 3 行：'2027-02-30' 不是有效日期"),
        ("holidays:\n  2027-02-10: 春节\n  27-2-11: 春节\n", "第 3 行：'27-2-11' 不是有效日期"),
        ("workdays:\n  - 2027-02-06\n  - tomorrow\n", "第 3 行：'tomorrow' 不是有效日期"),
        ("workdays:\n  - 20270206\n", "第 2 行：20270206 不是有效日期"),
        ("workdays:\n  - 2301-01-01\n", "第 2 行：'2301-01-01' 超出支持的年份范围"),
        ("holiday:\n  2027-02-10: 春节\n", "第 1 行：未知的键 'holiday'"),
        ("holidays:\n  2027-02-10: [a]\n", "第 2 行：'2027-02-10' 的节日名称应为非空字符串"),
        ("holidays: 2027-02-10\n", "第 1 行：holidays 应为"),
        ("workdays:\n  2027-02-06: 春节\n", "第 1 行：workdays 应为日期列表"),
        ("version: 2027.1\n", "第 1 行：version 应为字符串"),
        ("holidays:\n  2027-02-06: 春节\nworkdays:\n  - 2027-02-06\n",
         "第 4 行：2027-02-06 同时列在 holidays 和 workdays 中"),
        ("holidays:\n  2027-02-06: 春节\n  2027-02-06: 春节\n", "第 3 行：YAML 格式错误"),
        ("workdays: [2027-02-06\n", "YAML 格式错误"),
        ("- 2027-02-06\n", "顶层应为映射"),
        ("", "文件为空"),
        (b"holidays:\n  2027-02-10: \xb4\xba\xbd\xda\n", "不是 UTF-8 编码"),
    ],
)  # fmt: skip
def test_bad_override_file(tmp_path, text, message):
    path = write(tmp_path, text, "bad.yaml")
    with pytest.raises(CalendarError) as info:
        load_calendar(path)
    assert str(info.value).startswith(f"日历文件 {path}")
    assert message in str(info.value)
    assert isinstance(info.value, ValueError)


def test_missing_override_file(tmp_path):
    with pytest.raises(CalendarError, match="nope.yaml 无法读取"):
        load_calendar(tmp_path / "nope.yaml")
