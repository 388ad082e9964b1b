"""Say a checked condition in words an officer reads (Chinese), using the fields' labels.

Used by the catalog page (`compliance doc`). It reads the typed IR, so what it says is what the
engine evaluates (e.g. a calendar-month comparison appears as "晚于 b 加 3 个月").
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from . import ir
from .model import Rule, Window
from .schema import RecordKind
from .types import Kind
from .values import CalendarDuration, Month

_COMPARE = {"eq": "等于", "ne": "不等于", "lt": "小于", "le": "不大于", "gt": "大于", "ge": "不小于"}
_COMPARE_TIME = {"lt": "早于", "le": "不晚于", "gt": "晚于", "ge": "不早于"}
_ARITH = {"add": "加", "sub": "减", "mul": "乘", "div": "除以"}
_AGGREGATE = {"sum": "之和", "avg": "的平均值", "min": "的最小值", "max": "的最大值"}


class Describer:
    def __init__(self, kind: RecordKind, row_kind: RecordKind | None = None):
        self.kind = kind
        self.row_kind = row_kind

    def say(self, node: ir.Node, nested: bool = False) -> str:
        text = getattr(self, f"_{type(node).__name__}")(node)
        needs_parens = nested and isinstance(node, ir.Binary) and node.op in ("and", "or", *_ARITH)
        return f"（{text}）" if needs_parens else text

    def _label(self, kind: RecordKind | None, name: str) -> str:
        f = kind.field(name) if kind else None
        return f.label or name if f else name

    def _FieldRef(self, n: ir.FieldRef) -> str:
        if n.scope == "row":
            return "被统计记录的" + self._label(self.row_kind, n.name)
        return self._label(self.kind, n.name)

    def _LetRef(self, n: ir.LetRef) -> str:
        return n.name

    def _AsOf(self, n: ir.AsOf) -> str:
        return "评估时点"

    def _Const(self, n: ir.Const) -> str:
        return value_words(n.value, n.type.kind)

    def _ListConst(self, n: ir.ListConst) -> str:
        return "{" + "、".join(self.say(i) for i in n.items) + "}"

    def _Unary(self, n: ir.Unary) -> str:
        return f"并非{self.say(n.operand, True)}" if n.op == "not" else f"负{self.say(n.operand, True)}"

    def _Binary(self, n: ir.Binary) -> str:
        if n.op in ("and", "or"):  # a chain of the same operator reads as one list
            return ("，且" if n.op == "and" else "，或").join(self.say(x, True) for x in _chain(n, n.op))
        left, right = self.say(n.left, True), self.say(n.right, True)
        if n.op in _ARITH:
            return f"{left}{_ARITH[n.op]}{right}"
        if n.op in ("eq", "ne") and n.right.type.kind in (Kind.BOOL, Kind.ENUM, Kind.TEXT):
            return f"{left}{'为' if n.op == 'eq' else '不为'}{right}"
        temporal = n.left.type.kind in (Kind.DATE, Kind.DATETIME, Kind.MONTH)
        word = _COMPARE_TIME.get(n.op, _COMPARE[n.op]) if temporal else _COMPARE[n.op]
        return f"{left}{word}{right}"

    def _Coalesce(self, n: ir.Coalesce) -> str:
        return f"{self.say(n.left, True)}（为空时取{self.say(n.right)}）"

    def _IsEmpty(self, n: ir.IsEmpty) -> str:
        return f"{self.say(n.operand, True)}{'不为空' if n.negated else '为空'}"

    def _InList(self, n: ir.InList) -> str:
        items = "、".join(self.say(i) for i in n.items)
        return f"{self.say(n.operand, True)}{'不' if n.negated else ''}属于{{{items}}}"

    def _Call(self, n: ir.Call) -> str:
        a = [self.say(x, True) for x in n.args]
        forms = {
            "workdays_between": lambda: f"从{a[0]}到{a[1]}的工作日数",
            "add_workdays": lambda: f"{a[0]}后第{a[1]}个工作日",
            "is_workday": lambda: f"{a[0]}是工作日",
            "date": lambda: f"{a[0]}的日期", "month": lambda: f"{a[0]}所在月份",
            "hour": lambda: f"{a[0]}的小时数", "year": lambda: f"{a[0]}的年份",
            "weekday": lambda: f"{a[0]}是星期几", "day": lambda: f"{a[0]}的日",
            "month_of_year": lambda: f"{a[0]}的月份数",
            "period_start": lambda: f"{a[0]}的首日", "period_end": lambda: f"{a[0]}的末日",
            "count": lambda: f"{a[0]}的项数", "contains": lambda: f"{a[0]}包含{a[1]}",
            "contains_any": lambda: f"{a[0]}包含{a[1]}中任一项", "abs": lambda: f"|{a[0]}|",
            "earliest": lambda: "、".join(a) + "中最早者", "latest": lambda: "、".join(a) + "中最晚者",
            "len": lambda: f"{a[0]}的字数",
            "starts_with": lambda: f"{a[0]}以{a[1]}开头", "ends_with": lambda: f"{a[0]}以{a[1]}结尾",
        }
        return forms[n.func]() if n.func in forms else f"{n.func}({', '.join(a)})"

    def _Case(self, n: ir.Case) -> str:
        arms = ["、".join(self.say(p) for p in pats) + f"时为{self.say(v)}" for pats, v in n.arms]
        if n.default is not None:
            arms.append(f"其他为{self.say(n.default)}")
        return f"按{self.say(n.subject, True)}（" + "；".join(arms) + "）"

    def _Aggregate(self, n: ir.Aggregate) -> str:
        if n.arg is None:
            return "记录数"
        if n.func == "count":
            return f"满足「{self.say(n.arg)}」的记录数"
        return f"{self.say(n.arg, True)}{_AGGREGATE[n.func]}"


def _chain(node: ir.Node, op: str) -> list[ir.Node]:
    if isinstance(node, ir.Binary) and node.op == op:
        return _chain(node.left, op) + _chain(node.right, op)
    return [node]


def value_words(value, kind: Kind | None = None) -> str:
    if value is None:
        return "空"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, timedelta):
        return duration_words(value)
    if isinstance(value, CalendarDuration):
        return f"{value.months // 12} 年" if value.months % 12 == 0 else f"{value.months} 个月"
    if isinstance(value, (Month, Decimal, int, date, datetime)):
        return str(value)
    if kind is Kind.TEXT:
        return f"“{value}”"
    return str(value)


def duration_words(d: timedelta) -> str:
    seconds = int(d.total_seconds())
    for unit, size in (("天", 86400), ("小时", 3600), ("分钟", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size} {unit}"
    return f"{seconds} 秒"


def condition_words(rule: Rule) -> str:
    return Describer(rule.kind).say(rule.condition)


def window_words(rule: Rule, window: Window) -> str:
    d = Describer(rule.kind, window.kind)
    if rule.is_group_rule:
        scope = "本组的记录"
    else:
        keys = "、".join(d._label(rule.kind, k) for k in window.by)
        scope = f"与本记录{keys}相同的{window.kind.label or window.kind.name}记录" if keys else \
            f"全部{window.kind.label or window.kind.name}记录"
    parts = [scope]
    if window.where is not None:
        parts.append(f"其中{d.say(window.where)}")
    if window.range is not None:
        r = window.range
        low = f"{'[' if r.low_closed else '('}{d.say(r.low) if r.low is not None else '−∞'}"
        high = f"{d.say(r.high) if r.high is not None else '+∞'}{']' if r.high_closed else ')'}"
        parts.append(f"{d._label(window.kind, r.field)}在 {low}, {high} 内")
    results = "；".join(f"{name} = {d.say(value)}" for name, value in window.aggregates)
    return "，".join(parts) + f"：{results}"
