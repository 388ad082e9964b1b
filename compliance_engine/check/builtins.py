"""Signatures of the language's builtin functions: argument kinds and result types.

Each signature takes the checked argument types and returns the result type, or raises
`SignatureError` with a message for the officer. Backends implement every name listed here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .. import types as T
from ..types import Kind, Type


class SignatureError(Exception):
    pass


TEMPORAL = (Kind.DATE, Kind.DATETIME)


def _need(t: Type, kinds: tuple[Kind, ...], what: str) -> None:
    if t.kind not in kinds and t.kind not in (Kind.ERROR, Kind.EMPTY):
        raise SignatureError(f"需要{what}，这里是 {t}")


def _arity(args: list[Type], n: int) -> None:
    if len(args) != n:
        raise SignatureError(f"需要 {n} 个参数，这里有 {len(args)} 个")


def _temporal_to(result: Type) -> Callable[[list[Type]], Type]:
    def sig(args: list[Type]) -> Type:
        _arity(args, 1)
        _need(args[0], TEMPORAL, "日期或日期时间")
        return result
    return sig


def _workdays_between(args: list[Type]) -> Type:
    _arity(args, 2)
    for a in args:
        _need(a, TEMPORAL, "日期或日期时间")
    return T.INT


def _add_workdays(args: list[Type]) -> Type:
    _arity(args, 2)
    _need(args[0], TEMPORAL, "日期或日期时间")
    _need(args[1], (Kind.INT, Kind.NUMBER), "整数")
    return args[0]


def _hour(args: list[Type]) -> Type:
    _arity(args, 1)
    _need(args[0], (Kind.DATETIME,), "日期时间")
    return T.INT


def _period_bound(args: list[Type]) -> Type:
    _arity(args, 1)
    _need(args[0], (Kind.MONTH,), "月份（YYYY-MM）")
    return T.DATE


def _count_list(args: list[Type]) -> Type:
    _arity(args, 1)
    _need(args[0], (Kind.LIST,), "列表（在 window 之外 count 只能数列表的元素）")
    return T.INT


def _contains(args: list[Type]) -> Type:
    _arity(args, 2)
    if args[0].kind is Kind.TEXT:
        _need(args[1], (Kind.TEXT,), "文本")
        return T.BOOL
    _need(args[0], (Kind.LIST,), "列表或文本")
    return T.BOOL


def _contains_any(args: list[Type]) -> Type:
    _arity(args, 2)
    _need(args[0], (Kind.LIST,), "列表")
    _need(args[1], (Kind.LIST,), "列表，例如 (\"a\", \"b\")")
    return T.BOOL


def _abs(args: list[Type]) -> Type:
    _arity(args, 1)
    _need(args[0], (*T.NUMERIC_KINDS, Kind.DURATION), "数值或时长")
    return args[0]


def _extreme(args: list[Type]) -> Type:
    if not args:
        raise SignatureError("至少需要 1 个参数")
    for a in args:
        _need(a, TEMPORAL, "日期或日期时间")
    return T.DATETIME if any(a.kind is Kind.DATETIME for a in args) else T.DATE


def _text_to(result: Type, n: int) -> Callable[[list[Type]], Type]:
    def sig(args: list[Type]) -> Type:
        _arity(args, n)
        for a in args:
            _need(a, (Kind.TEXT,), "文本")
        return result
    return sig


@dataclass(frozen=True)
class Builtin:
    name: str
    signature: Callable[[list[Type]], Type]
    doc: str
    # empty only when all arguments are empty (earliest/latest); otherwise when any is
    empty_if_all: bool = False


BUILTINS: dict[str, Builtin] = {b.name: b for b in (
    Builtin("workdays_between", _workdays_between, "working days after t1's day up to and including t2's day"),
    Builtin("add_workdays", _add_workdays, "the n-th working day after t (keeps the time of day)"),
    Builtin("is_workday", _temporal_to(T.BOOL), "whether the day is a working day (holidays, 调休)"),
    Builtin("date", _temporal_to(T.DATE), "the calendar day of a datetime"),
    Builtin("month", _temporal_to(T.MONTH), "the month (YYYY-MM) of a date or datetime"),
    Builtin("year", _temporal_to(T.INT), "the year"),
    Builtin("month_of_year", _temporal_to(T.INT), "the month number 1-12"),
    Builtin("day", _temporal_to(T.INT), "the day of the month 1-31"),
    Builtin("weekday", _temporal_to(T.INT), "1 = Monday … 7 = Sunday"),
    Builtin("hour", _hour, "the hour 0-23, local time"),
    Builtin("period_start", _period_bound, "the first day of a month"),
    Builtin("period_end", _period_bound, "the last day of a month"),
    Builtin("count", _count_list, "the number of items of a list"),
    Builtin("contains", _contains, "whether a list holds an item (or a text holds a text)"),
    Builtin("contains_any", _contains_any, "whether a list holds any of the items"),
    Builtin("abs", _abs, "the absolute value"),
    Builtin("earliest", _extreme, "the earliest non-empty value", empty_if_all=True),
    Builtin("latest", _extreme, "the latest non-empty value", empty_if_all=True),
    Builtin("len", _text_to(T.INT, 1), "the number of characters of a text"),
    Builtin("starts_with", _text_to(T.BOOL, 2), "whether a text starts with another"),
    Builtin("ends_with", _text_to(T.BOOL, 2), "whether a text ends with another"),
)}

AGGREGATES = ("count", "sum", "avg", "min", "max")
