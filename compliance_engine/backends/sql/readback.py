"""DuckDB's values read back as the Python backend holds them, by their language type: months
('YYYY-MM' text) as Month, calendar durations (a count of months) as CalendarDuration, INTERVALs
that come through Arrow (month-day-nano) as timedelta, and DECIMAL(38, 10) values without their
padding zeros (Python's decimals keep no such padding)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from ...plan import RulePlan
from ...types import Kind, Type
from ...values import CalendarDuration, Month
from .compiler import DECIMAL_SCALE, ExprCompiler


_AS_IS = frozenset({Kind.TEXT, Kind.ENUM, Kind.INT, Kind.BOOL, Kind.DATE, Kind.DATETIME})


def needs_conversion(t: Type) -> bool:
    """Whether DuckDB's value of type `t` may differ from Python's (else `python_value` is identity)."""
    return t.kind not in _AS_IS


def python_value(value, t: Type):
    if value is None:
        return None
    if t.kind is Kind.MONTH and isinstance(value, str):
        return Month.parse(value)
    if t.kind is Kind.DURATION and t.calendar and isinstance(value, int):
        return CalendarDuration(value)
    if hasattr(value, "nanoseconds") and hasattr(value, "days"):  # pyarrow's MonthDayNano
        return timedelta(days=value.days + 30 * value.months, microseconds=value.nanoseconds // 1000)
    if isinstance(value, Decimal) and value.as_tuple().exponent == -DECIMAL_SCALE:
        return Decimal(format(value, "f").rstrip("0").rstrip(".") or "0")
    if t.kind is Kind.LIST and t.item is not None:
        return [python_value(v, t.item) for v in value]
    return value


def evidence_types(comp: ExprCompiler, rp: RulePlan) -> tuple[tuple[str, Type], ...]:
    """Each evidence name with its type (to read DuckDB's values back as Python's)."""
    rule = rp.rule
    lets = dict(rule.lets)
    values = {name: value for w in rule.windows for name, value in w.aggregates}
    out = []
    for name in rp.evidence:
        if name in rule.kind.field_names:
            t = rule.kind.field(name).type
        elif name in lets:
            t = lets[name].type
        elif name in values:
            t = values[name].type
        else:
            t = comp.fact_type(name, rule)
        out.append((name, t))
    return tuple(out)


