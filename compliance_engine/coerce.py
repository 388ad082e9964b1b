"""Turning raw cell values into the runtime values of their field type, and back into text.

Input files hand us strings (CSV), JSON scalars and arrays (JSONL) or Python objects made
from Arrow scalars (Parquet). Each field type has one small converter that takes any of
these and returns the representation described in values.py, or raises `Invalid` with the
form it expected. `_CONVERTERS` maps a type's kind to its converter (or to a factory, for
types with parameters: enum, list, calendar duration).

`plan_for(kind)` turns a record kind into a tuple of (field name, converter, optional) once;
`coerce_record` runs that tuple for every row. This is the hot loop of reading millions of
rows, so converters try the "already the right Python type" case first (Parquet and JSON
usually hand over ints, bools, Decimals, dates and datetimes) before doing any string work.

The inverse direction (`text_formatter`, `json_formatter`) is used by records.write_records.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from .errors import ComplianceError
from .schema import RecordKind
from .types import Kind, Type
from .values import CalendarDuration, Month

try:
    from zoneinfo import ZoneInfo

    SHANGHAI = ZoneInfo("Asia/Shanghai")
except Exception:  # no tz database on this machine: China has used a fixed UTC+8 since 1991
    SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")

Converter = Callable[[object], object]
Plan = tuple[tuple[str, Converter, bool], ...]


class RecordValueError(ComplianceError, ValueError):
    """A record that cannot be coerced to its kind; `reasons` holds one Chinese sentence per problem."""

    def __init__(self, *reasons: str):
        self.reasons = reasons
        super().__init__("；".join(reasons))


class Invalid(Exception):
    """Raised by a converter: `expected` completes the sentence "字段 X 的值 'v' …"."""

    def __init__(self, expected: str):
        self.expected = expected


# --- messages: what the officer is told the value should look like ---------------------------

_TEXT_MSG = "不是文本"
_INT_MSG = "不是有效的整数（应为整数，如 42）"
_DECIMAL_MSG = "不是有效的数值（应为十进制数，如 12.5）"
_MONEY_MSG = "不是有效的金额（应为最多两位小数的数，如 1234.50）"
_MONEY_PLACES_MSG = "超过两位小数（金额应精确到分，如 1234.50）"
_BOOL_MSG = "不是有效的是/否值（应为 是/否、true/false、1/0、yes/no、y/n、t/f）"
_DATE_MSG = "不是有效的日期（应为 YYYY-MM-DD 或 YYYY/MM/DD）"
_DATE_TIME_MSG = "带有非零点的时间，不是日期（应为 YYYY-MM-DD）"
_DATETIME_MSG = "不是有效的日期时间（应为 YYYY-MM-DD HH:MM[:SS]）"
_DURATION_MSG = "不是有效的时长（应为秒数，或 ISO-8601 时长如 PT45M、P1DT2H）"
_DURATION_MONTHS_MSG = "按月/年计，不是确定的时长（应为秒数，或 PT45M、P1DT2H 这样的时长）"
_CALENDAR_MSG = "不是按月计的时长（应为 P3M、P1Y 这样的 ISO-8601 时长）"
_MONTH_MSG = "不是有效的月份（应为 YYYY-MM）"
_LIST_MSG = "不是有效的列表（应为 JSON 数组，或以 ; 或 | 分隔的各项）"


def show(value: object) -> str:
    """A value as quoted in a message: one line, at most 40 characters."""
    s = value if isinstance(value, str) else str(value)
    s = s.replace("\r", "\\r").replace("\n", "\\n")
    if len(s) > 40:
        s = s[:40] + "…"
    return f"'{s}'"


# --- converters, one per type ------------------------------------------------------------------
# Each takes a non-empty value (the caller has already handled None / '' / NaN).

_INT_RE = re.compile(r"\s*[+-]?\d+\s*")
# Decimal() itself also accepts 'NaN', 'Infinity' and '1_000': the regex keeps those out.
_DECIMAL_RE = re.compile(r"\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*")


def to_text(v: object) -> str:
    t = type(v)
    if t is str:
        return v  # kept as written: spaces may matter in free text
    if t is int or t is Decimal:  # e.g. a customer number exported as a JSON number
        return format(v, "f") if t is Decimal else str(v)
    if t is float:
        return str(int(v)) if v.is_integer() else repr(v)
    raise Invalid(_TEXT_MSG)




def to_decimal(v: object, message: str = _DECIMAL_MSG) -> Decimal:
    t = type(v)
    if t is Decimal:
        d = v if v.is_finite() else None
    elif t is int:
        d = Decimal(v)
    elif t is str:
        d = Decimal(v) if _DECIMAL_RE.fullmatch(v) else None
    elif t is float:  # the float's shortest text, never its binary expansion: 0.1 stays 0.1
        d = Decimal(repr(v)) if math.isfinite(v) else None
    else:
        d = None
    if d is None:
        raise Invalid(message)
    if not -28 <= d.adjusted() <= 28:
        # Beyond the 28 digits decimal arithmetic keeps ('1e999999999'): a typo, not a value,
        # and one that would print as a billion digits. A zero is just zero ('0e-99').
        if not d.is_zero():
            raise Invalid(message)
        return Decimal(0)
    return d


def to_int(v: object) -> int:
    t = type(v)
    if t is int:
        return v
    if t is str and _INT_RE.fullmatch(v) and len(v) < 40:  # 40: int() of 10**5 digits is slow
        return int(v)
    if t is bool:  # bool is an int subclass, but true is not a count
        raise Invalid(_INT_MSG)
    if isinstance(v, int):
        return int(v)
    # '3.0' or a float column (pandas turns int columns with gaps into floats): accept whole numbers
    d = to_decimal(v, _INT_MSG)
    if d != d.to_integral_value():
        raise Invalid(_INT_MSG)
    return int(d)


_CENT = Decimal("0.01")


def to_money(v: object) -> Decimal:
    d = to_decimal(v, _MONEY_MSG)
    try:
        q = d.quantize(_CENT)
    except InvalidOperation:  # more digits than the decimal context holds
        raise Invalid(_MONEY_MSG) from None
    if q != d:  # '12.345' would lose a fraction of a cent; '12.300' is still exact
        raise Invalid(_MONEY_PLACES_MSG)
    return q


_BOOL_WORDS = {
    "true": True, "false": False, "1": True, "0": False, "是": True, "否": False,
    "yes": True, "no": False, "y": True, "n": False, "t": True, "f": False,
}


def to_bool(v: object) -> bool:
    t = type(v)
    if t is bool:
        return v
    if t is str:
        b = _BOOL_WORDS.get(v.strip().lower())
        if b is not None:
            return b
    elif t is int and v in (0, 1):
        return bool(v)
    raise Invalid(_BOOL_MSG)


_DATETIME_RE = re.compile(
    r"\s*(\d{4})([-/])(\d{1,2})\2(\d{1,2})"  # the same separator twice: 2026-03-05, 2026/03/05
    r"(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,6}))?)?"
    r"\s*(Z|[+-]\d{2}(?::?\d{2})?)?)?\s*",
    re.IGNORECASE,
)


def _local(dt: datetime) -> datetime:
    """An aware datetime as the naive Asia/Shanghai wall-clock time the engine works in."""
    return dt.astimezone(SHANGHAI).replace(tzinfo=None)


def _offset(text: str) -> timezone:
    if text in ("Z", "z"):
        return timezone.utc
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0)))


def to_datetime(v: object) -> datetime:
    t = type(v)
    if t is datetime:
        return v if v.tzinfo is None else _local(v)
    if t is str:
        # Nearly every cell of a real export is 'YYYY-MM-DD HH:MM:SS': the C parser is 10x faster.
        # The shape check keeps fromisoformat's other spellings (week dates, offsets) out.
        if len(v) == 19 and v[4] == v[7] == "-" and v[13] == v[16] == ":" and v[10] in " T" and v.isascii():
            try:
                return datetime.fromisoformat(v)
            except ValueError:
                pass  # the general path below gives the message
        m = _DATETIME_RE.fullmatch(v)
        if m:
            y, _, mo, d, h, mi, s, frac, tz = m.groups()
            try:
                dt = datetime(
                    int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0),
                    int(frac.ljust(6, "0")) if frac else 0,
                )
            except ValueError:  # month 13, 25:00, 31 April …
                raise Invalid(_DATETIME_MSG) from None
            return _local(dt.replace(tzinfo=_offset(tz))) if tz else dt
    elif isinstance(v, datetime):  # a subclass, e.g. pandas.Timestamp: normalise to datetime
        v = _local(v) if v.tzinfo is not None else v
        return datetime(v.year, v.month, v.day, v.hour, v.minute, v.second, v.microsecond)
    elif isinstance(v, date):  # a date where a datetime is expected means 00:00 local time
        return datetime(v.year, v.month, v.day)
    raise Invalid(_DATETIME_MSG)


def to_date(v: object) -> date:
    if type(v) is date:
        return v
    if type(v) is str and len(v) == 10 and v[4] == v[7] == "-" and v.isascii():  # fast: 'YYYY-MM-DD'
        try:
            return date.fromisoformat(v)
        except ValueError:
            pass
    # Datetime spellings are accepted as long as the time is midnight (exports often add 00:00:00).
    try:
        dt = to_datetime(v)
    except Invalid:
        raise Invalid(_DATE_MSG) from None
    if dt.hour or dt.minute or dt.second or dt.microsecond:
        raise Invalid(_DATE_TIME_MSG)
    return dt.date()


_ISO_DURATION_RE = re.compile(
    r"\s*([+-])?P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?"
    r"(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:[.,]\d+)?)S)?)?\s*",
    re.IGNORECASE,
)


_MAX_SECONDS = Decimal(timedelta.max.days) * 86400


def _seconds(d: Decimal) -> timedelta:
    if abs(d) >= _MAX_SECONDS:  # beyond what a timedelta holds
        raise Invalid(_DURATION_MSG)
    micro = d * 1_000_000
    if micro != micro.to_integral_value():  # finer than a microsecond
        raise Invalid(_DURATION_MSG)
    return timedelta(microseconds=int(micro))


def to_duration(v: object) -> timedelta:
    t = type(v)
    if t is timedelta:
        return v
    if t is str:
        m = _ISO_DURATION_RE.fullmatch(v)
        if m is None:
            return _seconds(to_decimal(v, _DURATION_MSG))
        sign, years, months, weeks, days, hours, minutes, secs = m.groups()
        if years or months:
            raise Invalid(_DURATION_MONTHS_MSG)
        if not (weeks or days or hours or minutes or secs):  # a bare 'P'
            raise Invalid(_DURATION_MSG)
        try:
            total = _seconds(Decimal(secs.replace(",", "."))) if secs else timedelta()
            total += timedelta(weeks=int(weeks or 0), days=int(days or 0),
                               hours=int(hours or 0), minutes=int(minutes or 0))
        except (ValueError, OverflowError):  # P99999999999D: beyond what a timedelta holds
            raise Invalid(_DURATION_MSG) from None
        return -total if sign == "-" else total
    if t is bool:
        raise Invalid(_DURATION_MSG)
    return _seconds(to_decimal(v, _DURATION_MSG))  # a plain number is seconds


def to_calendar_duration(v: object) -> CalendarDuration:
    if type(v) is CalendarDuration:
        return v
    m = _ISO_DURATION_RE.fullmatch(v) if type(v) is str else None
    if m is None or not (m[2] or m[3]) or any(m.groups()[3:]):  # only years and months
        raise Invalid(_CALENDAR_MSG)
    months = int(m[2] or 0) * 12 + int(m[3] or 0)
    return CalendarDuration(-months if m[1] == "-" else months)


_MONTH_RE = re.compile(r"\s*(\d{4})(?:[-/](\d{1,2})|(\d{2}))\s*")  # 2026-03, 2026/3, 202603


def to_month(v: object) -> Month:
    if type(v) is Month:
        return v
    m = _MONTH_RE.fullmatch(v) if type(v) is str else None
    if m is None or not 1 <= int(m[2] or m[3]) <= 12:
        raise Invalid(_MONTH_MSG)
    return Month.of(int(m[1]), int(m[2] or m[3]))


def enum_converter(t: Type) -> Converter:
    members = t.enum.members if t.enum else ()
    allowed = frozenset(members)
    name = f" {t.enum.name} " if t.enum and t.enum.name else "允许"
    message = f"不在{name}的取值范围内（应为 {'、'.join(members)} 之一）"

    def to_enum(v: object) -> str:
        if type(v) is str:
            if v in allowed:
                return v
            v = v.strip()  # a stray space from a spreadsheet does not make a new category
        elif type(v) in (int, Decimal, float):  # accuracy class 1.0 written as a JSON number
            v = str(v)
        else:
            raise Invalid(message)
        if v in allowed:
            return v
        raise Invalid(message)

    return to_enum


def _is_empty(v: object) -> bool:
    return v is None or (type(v) is str and (not v or v.isspace())) or (type(v) is float and v != v)


def _list_items(v: object) -> list | tuple:
    if type(v) in (list, tuple):
        return v
    if type(v) is not str:
        raise Invalid(_LIST_MSG)
    s = v.strip()
    if s.startswith("["):
        try:
            items = json.loads(s, parse_float=Decimal)
        except (ValueError, RecursionError):
            raise Invalid(_LIST_MSG) from None
        if type(items) is not list:
            raise Invalid(_LIST_MSG)
        return items
    # 'a;b;c' or 'a|b|c': ';' wins when both occur, so an item may contain '|'.
    # Empty pieces ('a;b;') carry nothing and are dropped; padding around items is trimmed.
    sep = ";" if ";" in s else "|"
    return [p.strip() for p in s.split(sep) if p.strip()]


def list_converter(t: Type) -> Converter:
    item = converter_for(t.item) if t.item else to_text

    def to_list(v: object) -> tuple:
        out = []
        for i, x in enumerate(_list_items(v), 1):
            if _is_empty(x):
                raise Invalid(f"中第 {i} 项为空（列表各项不能为空）")
            try:
                out.append(item(x))
            except Invalid as e:
                raise Invalid(f"中第 {i} 项 {show(x)} {e.expected}") from None
        return tuple(out)

    return to_list


# The table: a type's kind → its converter, or a factory taking the Type for parameterised kinds.
_CONVERTERS: dict[Kind, Converter] = {
    Kind.TEXT: to_text,
    Kind.INT: to_int,
    Kind.DECIMAL: to_decimal,
    Kind.MONEY: to_money,
    Kind.BOOL: to_bool,
    Kind.DATE: to_date,
    Kind.DATETIME: to_datetime,
    Kind.DURATION: to_duration,
    Kind.MONTH: to_month,
}
_FACTORIES: dict[Kind, Callable[[Type], Converter]] = {
    Kind.ENUM: enum_converter,
    Kind.LIST: list_converter,
}


@lru_cache(maxsize=None)
def converter_for(t: Type) -> Converter:
    if t.kind is Kind.DURATION and t.calendar:
        return to_calendar_duration
    if t.kind in _FACTORIES:
        return _FACTORIES[t.kind](t)
    if t.kind in _CONVERTERS:
        return _CONVERTERS[t.kind]
    raise ValueError(f"a record field cannot have type {t}")


# --- plans: a record kind compiled once --------------------------------------------------------


@lru_cache(maxsize=256)
def _build_plan(kind: RecordKind) -> Plan:
    return tuple((f.name, converter_for(f.type), f.optional) for f in kind.fields)


_last_plan: tuple[RecordKind | None, Plan] = (None, ())


def plan_for(kind: RecordKind) -> Plan:
    """The compiled plan of `kind`. Hashing a kind walks all its fields, so the kind of the
    previous call (nearly always the same: one file, one kind) is recognised by identity first."""
    global _last_plan
    last = _last_plan
    if last[0] is kind:
        return last[1]
    plan = _build_plan(kind)
    _last_plan = (kind, plan)
    return plan


def coerce_plan(plan: Plan, raw: Mapping[str, object]) -> dict:
    """Coerce one raw row with a compiled plan; every problem of the row is reported at once."""
    out: dict = {}
    errors: list[str] | None = None
    get = raw.get
    for name, convert, optional in plan:
        v = get(name)
        if v is None or (type(v) is str and (not v or v.isspace())) or (type(v) is float and v != v):
            out[name] = None  # NaN is how pandas writes a missing number
            if not optional:
                errors = errors or []
                errors.append(f"必填字段 {name} 为空")
            continue
        try:
            out[name] = convert(v)
        except Invalid as e:
            errors = errors or []
            errors.append(f"字段 {name} 的值 {show(v)} {e.expected}")
        except (ValueError, TypeError, ArithmeticError) as e:  # a safety net: a bad row never stops reading
            errors = errors or []
            errors.append(f"字段 {name} 的值 {show(v)} 无法识别（{e}）")
    if errors:
        raise RecordValueError(*errors)
    return out


def coerce_record(kind: RecordKind, raw: Mapping[str, object]) -> dict:
    """The typed record of `raw`: every field of `kind` (absent or empty → None).

    Raises RecordValueError naming every bad or missing field. Keys not in the kind are ignored.
    """
    return coerce_plan(plan_for(kind), raw)


# --- the inverse: typed values back to text and JSON -------------------------------------------


def iso_duration(v: timedelta | CalendarDuration) -> str:
    if isinstance(v, CalendarDuration):
        return f"-P{-v.months}M" if v.months < 0 else f"P{v.months}M"
    micro = (v.days * 86400 + v.seconds) * 1_000_000 + v.microseconds
    sign, micro = ("-", -micro) if micro < 0 else ("", micro)
    secs, frac = divmod(micro, 1_000_000)
    days, secs = divmod(secs, 86400)
    hours, secs = divmod(secs, 3600)
    minutes, secs = divmod(secs, 60)
    time = "".join(f"{n}{u}" for n, u in ((hours, "H"), (minutes, "M")) if n)
    if secs or frac:
        time += f"{secs}.{frac:06d}".rstrip("0").rstrip(".") + "S"
    text = (f"{days}D" if days else "") + (f"T{time}" if time else "")
    return f"{sign}P{text or 'T0S'}"


def _decimal_text(v: Decimal) -> str:
    return format(v, "f")  # never exponent notation: '100', not '1E+2'


_TEXT_FORMATS: dict[Kind, Callable[[object], str]] = {
    Kind.TEXT: str,
    Kind.INT: str,
    Kind.DECIMAL: _decimal_text,
    Kind.MONEY: _decimal_text,
    Kind.BOOL: lambda v: "true" if v else "false",
    Kind.DATE: date.isoformat,
    Kind.DATETIME: lambda v: v.isoformat(sep=" "),
    Kind.DURATION: iso_duration,
    Kind.MONTH: str,
    Kind.ENUM: str,
}
# JSON: numbers stay numbers (written from the Decimal's own digits, so exact), the rest strings.
_JSON_NUMBERS = {Kind.INT: str, Kind.DECIMAL: _decimal_text, Kind.MONEY: _decimal_text,
                 Kind.BOOL: lambda v: "true" if v else "false"}


@lru_cache(maxsize=None)
def json_formatter(t: Type) -> Callable[[object], str]:
    """A non-empty typed value → a JSON fragment."""
    if t.kind is Kind.LIST:
        item = json_formatter(t.item)
        return lambda v: "[" + ",".join(item(x) for x in v) + "]"
    if t.kind in _JSON_NUMBERS:
        return _JSON_NUMBERS[t.kind]
    text = _TEXT_FORMATS[t.kind]
    return lambda v: json.dumps(text(v), ensure_ascii=False)


@lru_cache(maxsize=None)
def text_formatter(t: Type) -> Callable[[object], str]:
    """A non-empty typed value → its CSV cell (lists as JSON arrays)."""
    return json_formatter(t) if t.kind is Kind.LIST else _TEXT_FORMATS[t.kind]
