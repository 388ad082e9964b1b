"""Months, calendar months and working days as sqlglot expressions (docs/sql_backend.md).

Months are VARCHAR 'YYYY-MM', like the records' month columns: string order is month order and
equality is exact, so comparisons, min/max and window ranges need nothing special. Arithmetic
goes through the month's first day. A calendar duration (`3 months`) is a BIGINT count of months;
adding it is `+ INTERVAL (n) MONTH`, which clamps to the month's last day like `values.add_months`.

Working days read the table `calendar_days(day, is_workday, workday_index)`, which holds the days
of CALENDAR_RANGE: a year more on each side than any calendar's data may reach
(`calendar.MIN_YEAR`..`MAX_YEAR`), so its first and last weeks follow the plain weekday rule.
Beyond the table that rule goes on forever (as in `WorkdayCalendar`): a day `s` whole weeks past
an edge has the index of the day `s` weeks back plus `5·s`, and the workday of an index beyond the
table's follows from `calendar._nth_weekday`. So every day has the exact answer the Python backend
computes (a sentinel like 9999-12-31 included), with one hash-joined lookup in the common case.
"""

from __future__ import annotations

from datetime import date

from sqlglot import exp

from ...calendar import MAX_YEAR, MIN_YEAR

CALENDAR = "calendar_days"  # (day DATE, is_workday BOOLEAN, workday_index BIGINT): see duckdb_runner
CALENDAR_RANGE = (date(MIN_YEAR - 1, 1, 1), date(MAX_YEAR + 1, 12, 31))  # the days calendar_days holds
_DAY, _MONTH = exp.var("DAY"), exp.var("MONTH")


def _num(n: int) -> exp.Expression:
    return exp.Literal.number(n)


def date_literal(d: date) -> exp.Expression:
    return exp.cast(exp.Literal.string(d.isoformat()), "DATE")


def as_date(value: exp.Expression) -> exp.Expression:
    return exp.cast(value, "DATE")


def add_days(value: exp.Expression, days: exp.Expression) -> exp.Expression:
    return exp.DateAdd(this=value, expression=days, unit=_DAY.copy())


def days_between(start: exp.Expression, end: exp.Expression) -> exp.Expression:
    return exp.DateDiff(this=end, expression=start, unit=_DAY.copy())


# ---- months and calendar months --------------------------------------------------------------
def month_of(value: exp.Expression) -> exp.Expression:
    """The month 'YYYY-MM' of a DATE or TIMESTAMP."""
    return exp.TimeToStr(this=value, format=exp.Literal.string("%Y-%m"))


def first_day(month: exp.Expression) -> exp.Expression:
    return as_date(exp.DPipe(this=month, expression=exp.Literal.string("-01")))


def last_day(month: exp.Expression) -> exp.Expression:
    return exp.LastDay(this=first_day(month))


def add_months(value: exp.Expression, months: exp.Expression, result: str) -> exp.Expression:
    """`value + months` calendar months, month-end clamped; result is 'DATE', 'TIMESTAMP' or 'MONTH'."""
    if result == "MONTH":
        return month_of(add_months(first_day(value), months, "DATE"))
    shifted = exp.DateAdd(this=value, expression=months, unit=_MONTH.copy())
    return as_date(shifted) if result == "DATE" else shifted  # DuckDB's DATE + INTERVAL is a TIMESTAMP


def months_between(later: exp.Expression, earlier: exp.Expression) -> exp.Expression:
    """`later - earlier` of two months, in months (a calendar duration)."""
    return exp.DateDiff(this=first_day(later), expression=first_day(earlier), unit=_MONTH.copy())


# ---- the working-day calendar ----------------------------------------------------------------
def _lookup(column: str, where) -> exp.Expression:
    """(SELECT cal.column FROM calendar_days AS cal WHERE where(cal)): a scalar, NULL if no row."""
    c = "cal"
    select = exp.select(exp.column(column, table=c)).from_(exp.alias_(exp.to_table(CALENDAR), c, table=True))
    return exp.Subquery(this=select.where(where(c)))


def _ceil_div(value: exp.Expression, by: int) -> exp.Expression:
    """ceil(max(value, 0) / by) for integers: how many whole steps of `by` cover an overshoot."""
    positive = exp.func("GREATEST", exp.paren(value), _num(0))
    return exp.paren(exp.IntDiv(this=exp.paren(exp.Add(this=positive, expression=_num(by - 1))), expression=_num(by)))


def _weeks_outside(day: exp.Expression) -> exp.Expression:
    """Whole weeks that bring `day` back into the table: > 0 after it, < 0 before it, else 0."""
    first, last = (date_literal(d) for d in CALENDAR_RANGE)
    after = _ceil_div(days_between(last, day.copy()), 7)
    before = _ceil_div(days_between(day.copy(), first), 7)
    return exp.paren(exp.Sub(this=after, expression=before))


def _on_day(day: exp.Expression, column: str) -> tuple[exp.Expression, exp.Expression]:
    """The table's `column` for `day` shifted by whole weeks into the table, and those weeks."""
    weeks = _weeks_outside(day)
    inside = add_days(day.copy(), exp.Mul(this=_num(-7), expression=weeks))
    return _lookup(column, lambda c: exp.EQ(this=exp.column("day", table=c), expression=as_date(inside))), weeks


def workday_index(value: exp.Expression) -> exp.Expression:
    """`WorkdayCalendar.workday_index` of a DATE or TIMESTAMP's day."""
    index, weeks = _on_day(as_date(value), "workday_index")
    return exp.paren(exp.Add(this=index, expression=exp.Mul(this=_num(5), expression=weeks.copy())))


def is_workday(value: exp.Expression) -> exp.Expression:
    # parenthesised: a bare subquery would carry the outcome column's alias itself, and
    # compiler._hoist_lookups replaces the subquery (alias and all) by a join column
    return exp.paren(_on_day(as_date(value), "is_workday")[0])


def _index_bound(fn: str) -> exp.Expression:
    """The table's lowest (MIN) or highest (MAX) workday index: uncorrelated, computed once."""
    return exp.Subquery(this=exp.select(exp.func(fn, exp.column("workday_index"))).from_(CALENDAR))


def _nth_weekday_date(m: exp.Expression) -> exp.Expression:
    """calendar._nth_weekday as a DATE: the weekday whose _weekdays_upto is m (m ≥ 1)."""
    before = exp.paren(exp.Sub(this=m, expression=_num(1)))
    ordinal = exp.Add(this=exp.Mul(this=_num(7), expression=exp.paren(exp.IntDiv(this=before, expression=_num(5)))),
                      expression=exp.Mod(this=before.copy(), expression=_num(5)))  # ordinal - 1
    return as_date(add_days(date_literal(date(1, 1, 1)), ordinal))


def _beyond_table(k: exp.Expression) -> exp.Expression:
    """The workday of index k when the table has none: k at or below its lowest index or above its
    highest, where the weekday rule holds and index(d) = _weekdays_upto(ordinal(d)) + offset."""
    first, last = CALENDAR_RANGE

    def offset(edge: date, fn: str) -> exp.Expression:  # index(edge) - _weekdays_upto(ordinal(edge))
        o = edge.toordinal()
        return exp.Sub(this=_index_bound(fn), expression=_num(5 * (o // 7) + min(o % 7, 5)))

    below = exp.LTE(this=k.copy(), expression=_index_bound("MIN"))
    shift = exp.Case().when(below, offset(first, "MIN")).else_(offset(last, "MAX"))
    return _nth_weekday_date(exp.Sub(this=k.copy(), expression=shift))


def add_workdays(value: exp.Expression, n: exp.Expression, is_date: bool) -> exp.Expression:
    """`WorkdayCalendar.add_workdays`: the n-th working day after (n < 0: before) the value's day,
    keeping the time of day; the value itself for n = 0.

    The target's index k is index(day) + n, except going back from a rest day, whose index is
    that of the workday before it: then k = index(day) + n + 1 (Python: index(day - 1) + n + 1).
    The day's row is `c1` (shifted by whole weeks into the table, see `_on_day`); one subquery
    joins it to the target's row `c2` (plain equalities: DuckDB makes them hash joins), and a
    second computes the target from k when it lies beyond the table.
    """
    day = as_date(value.copy())
    weeks = _weeks_outside(day)
    day_inside = add_days(day.copy(), exp.Mul(this=_num(-7), expression=weeks.copy()))
    c1_rest = exp.Not(this=exp.column("is_workday", table="c1"))
    rest_back = exp.Case().when(exp.and_(exp.LT(this=n.copy(), expression=_num(0)), c1_rest), _num(1)).else_(_num(0))
    k = exp.paren(exp.Add(this=exp.Add(this=exp.column("workday_index", table="c1"),
                                       expression=exp.Add(this=exp.Mul(this=_num(5), expression=weeks), expression=n.copy())),
                          expression=rest_back))
    on_day = exp.EQ(this=exp.column("day", table="c1"), expression=as_date(day_inside))
    c1 = exp.alias_(exp.to_table(CALENDAR), "c1", table=True)
    inside = (exp.select(exp.column("day", table="c2")).from_(c1.copy())
              .join(exp.alias_(exp.to_table(CALENDAR), "c2", table=True), join_type="CROSS")
              .where(exp.and_(on_day.copy(), exp.column("is_workday", table="c2"),
                              exp.EQ(this=exp.column("workday_index", table="c2"), expression=k.copy()))))
    beyond = exp.select(_beyond_table(k)).from_(c1).where(on_day)
    target = exp.Coalesce(this=exp.Subquery(this=inside), expressions=[exp.Subquery(this=beyond)])
    moved = target if is_date else add_days(value.copy(), days_between(day, target))
    return exp.Case().when(exp.EQ(this=n.copy(), expression=_num(0)), value.copy()).else_(moved)
