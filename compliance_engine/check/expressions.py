"""Check one expression: resolve its names, infer its type, and build the typed IR node.

Errors are reported into the diagnostics bag and replaced by an ERROR-typed constant, so one
run reports every mistake without cascades. Desugaring that only needs types happens here:
enum members and month literals get their type, `t ± N workdays` becomes `add_workdays`, and
`a - b > 3 months` becomes `a > b + 3 months` (calendar months are not a fixed length).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Callable

from .. import ast, ir
from .. import types as T
from ..diagnostics import Diagnostics
from ..model import Fact
from ..schema import RecordKind
from ..types import Kind, Type
from ..values import CalendarDuration, Month
from .builtins import AGGREGATES, BUILTINS, SignatureError
from .names import did_you_mean

ARITH = {"+": "add", "-": "sub", "*": "mul", "/": "div"}
COMPARE = {"==": "eq", "!=": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge"}
FLIP = {"lt": "gt", "le": "ge", "gt": "lt", "ge": "le", "eq": "eq", "ne": "ne"}
_EXACT_UNITS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400, "weeks": 604800}
_ERROR = ir.Const(None, T.ERROR)
_DAY, _ZERO = timedelta(days=1), timedelta(0)


@dataclass
class Scope:
    """What names mean where an expression stands."""

    kind: RecordKind | None  # whose fields bare names are
    field_scope: str = "this"  # "this" (record under test) or "row" (a window's scanned row)
    this_kind: RecordKind | None = None  # target of `this.x`, inside windows
    names: dict[str, ir.LetRef] = field(default_factory=dict)  # lets and aggregates so far
    allow_aggregates: bool = False
    allowed_fields: frozenset[str] | None = None  # group rules: only the group fields
    used_facts: list[Fact] = field(default_factory=list)
    this_fields: frozenset[str] | None = None  # group windows: `this` is the group's key


FactLookup = Callable[[str, str | None], Fact | None]


class ExprChecker:
    def __init__(self, diags: Diagnostics, lookup_fact: FactLookup, fact_names: Callable[[str | None], list[str]]):
        self.diags = diags
        self.lookup_fact = lookup_fact
        self.fact_names = fact_names

    # ---- entry points ------------------------------------------------------------------------
    def check(self, e: ast.Expr, scope: Scope, expected: Type | None = None) -> ir.Node:
        if expected is not None:
            coerced = self._as_expected(e, expected, scope)
            if coerced is not None:
                return coerced
        method = getattr(self, f"_check_{type(e).__name__}")
        return method(e, scope)

    def check_bool(self, e: ast.Expr, scope: Scope, what: str) -> ir.Node:
        node = self.check(e, scope)
        if node.type.kind not in (Kind.BOOL, Kind.ERROR):
            self.error("E0209", f"{what}必须是条件（是/否），这里是 {node.type}", e,
                       "写成比较，例如 `x > 0` 或 `flag == true`")
        return node

    def error(self, code: str, message: str, node, hint: str = "") -> ir.Node:
        self.diags.add(code, message, getattr(node, "span", None), hint)
        return _ERROR

    # ---- literals ----------------------------------------------------------------------------
    def _check_Literal(self, e: ast.Literal, scope: Scope) -> ir.Node:
        tag_types = {"number": T.NUMBER, "string": T.TEXT, "date": T.DATE, "datetime": T.DATETIME,
                     "bool": T.BOOL, "empty": T.EMPTY}
        empty_by = frozenset({"empty"}) if e.tag == "empty" else frozenset()
        return ir.Const(e.value, tag_types[e.tag], empty_by, e.span)

    def _check_DurationLit(self, e: ast.DurationLit, scope: Scope) -> ir.Node:
        if e.unit == "workdays":
            return self.error("E0213", "工作日只能加在日期上（例如 accepted_at + 3 workdays）", e,
                              "比较两个时间相隔几个工作日，请写 workdays_between(开始, 结束) > 3")
        if e.unit in ("months", "years"):
            months = e.amount * (12 if e.unit == "years" else 1)
            if months != int(months):
                return self.error("E0214", "月和年必须是整数", e, "例如 3 months 或 1 year")
            return ir.Const(CalendarDuration(int(months)), T.CALENDAR_DURATION, span=e.span)
        seconds = e.amount * _EXACT_UNITS[e.unit]
        try:
            return ir.Const(timedelta(seconds=float(seconds)), T.DURATION, span=e.span)
        except OverflowError:
            return self.error("E0214", f"时长 {e.amount} {e.unit} 过大", e, "时长不能超过约 270 万年")

    def _check_ListLit(self, e: ast.ListLit, scope: Scope) -> ir.Node:
        items = tuple(self.check(i, scope) for i in e.items)
        item_type = items[0].type if items else T.TEXT
        return ir.ListConst(items, T.list_of(item_type), _union(items), e.span)

    # ---- names -------------------------------------------------------------------------------
    def _check_Name(self, e: ast.Name, scope: Scope) -> ir.Node:
        node = self.resolve(e, scope)
        if node is not None:
            return node
        candidates = [*scope.names, *(scope.kind.field_names if scope.kind else ()),
                      *self.fact_names(scope.kind.name if scope.kind else None), "as_of"]
        where = f"记录类型 {scope.kind.name} 的字段、" if scope.kind else ""
        return self.error("E0201", f"未知名称 `{e.name}`：它不是{where}事实、let 或窗口结果", e,
                          did_you_mean(e.name, candidates, "如果这是一段文本，请加引号，例如 \"" + e.name + "\""))

    def resolve(self, e: ast.Name, scope: Scope) -> ir.Node | None:
        """A name's meaning, or None when nothing by that name is visible here (no report)."""
        if e.name in scope.names:
            ref = scope.names[e.name]
            return ir.LetRef(ref.name, ref.origin, ref.type, ref.empty_by, e.span)
        if scope.kind is not None and (f := scope.kind.field(e.name)) is not None:
            if scope.allowed_fields is not None and e.name not in scope.allowed_fields:
                return self.error("E0308", f"分组规则的条件只能使用分组字段和窗口结果，不能用 `{e.name}`", e,
                                  "分组字段: " + ", ".join(sorted(scope.allowed_fields)))
            return ir.FieldRef(f.name, scope.field_scope, f.type, _optional(f, scope.field_scope), e.span)
        fact = self.lookup_fact(e.name, scope.kind.name if scope.kind else None)
        if fact is not None:
            if fact.kind is not None and scope.allowed_fields is not None:
                return self.error("E0308", f"分组规则的条件不能用按记录计算的事实 `{fact.name}`", e,
                                  "分组规则的条件只能使用分组字段和窗口结果")
            if fact.kind is not None and scope.field_scope == "row":
                return self.error("E0217", f"按记录计算的事实 `{fact.name}` 不能用在 window 的 where/compute 中", e,
                                  "在 window 中直接写它的表达式")
            for needed in (*fact.uses, fact):
                if needed not in scope.used_facts:
                    scope.used_facts.append(needed)
            return ir.LetRef(fact.name, "fact", fact.type, fact.value.empty_by, e.span)
        if e.name == "as_of":
            return ir.AsOf(T.DATETIME, span=e.span)
        return None

    def _check_Attr(self, e: ast.Attr, scope: Scope) -> ir.Node:
        if not (isinstance(e.obj, ast.Name) and e.obj.name == "this"):
            return self.error("E0205", "只能用 this.字段 访问当前记录的字段", e, "例如 this.accepted_at")
        if scope.this_kind is None:
            return self.error("E0205", "this 只能用在 window 中，表示被检查的记录", e,
                              f"在规则条件中直接写字段名 `{e.name}`")
        f = scope.this_kind.field(e.name)
        if f is not None and scope.this_fields is not None and e.name not in scope.this_fields:
            return self.error("E0308", f"分组规则中 this 表示该组，只能用分组字段，不能用 `this.{e.name}`", e,
                              "分组字段: " + ", ".join(sorted(scope.this_fields)))
        if f is None:
            return self.error("E0202", f"记录类型 {scope.this_kind.name} 没有字段 `{e.name}`", e,
                              did_you_mean(e.name, scope.this_kind.field_names))
        return ir.FieldRef(f.name, "this", f.type, _optional(f, "this"), e.span)

    # ---- operators -----------------------------------------------------------------------------
    def _check_Unary(self, e: ast.Unary, scope: Scope) -> ir.Node:
        if e.op == "not":
            operand = self.check_bool(e.operand, scope, "not 的对象")
            return ir.Unary("not", operand, T.BOOL, operand.empty_by, e.span)
        operand = self.check(e.operand, scope)
        if not (operand.type.is_numeric or operand.type.kind in (Kind.DURATION, Kind.ERROR)):
            return self.error("E0207", f"不能对 {operand.type} 取负", e)
        if isinstance(operand, ir.Const) and operand.value is not None and operand.type.kind is Kind.NUMBER:
            return ir.Const(-operand.value, operand.type, span=e.span)
        return ir.Unary("neg", operand, operand.type, operand.empty_by, e.span)

    def _check_Binary(self, e: ast.Binary, scope: Scope) -> ir.Node:
        if e.op in ("and", "or"):
            left = self.check_bool(e.left, scope, f"{e.op} 的左边")
            right = self.check_bool(e.right, scope, f"{e.op} 的右边")
            empty_by = (left.empty_by - _guarded(right, e.op)) | (right.empty_by - _guarded(left, e.op))
            return ir.Binary(e.op, left, right, T.BOOL, empty_by, e.span)
        if e.op == "??":
            return self._coalesce(e, scope)
        if e.op in COMPARE:
            return self._compare(e, scope)
        return self._arith(e, scope)

    def _coalesce(self, e: ast.Binary, scope: Scope) -> ir.Node:
        left = self.check(e.left, scope)
        right = self.check(e.right, scope, left.type if left.type.kind is not Kind.ERROR else None)
        if not left.empty_by and left.type.kind is not Kind.ERROR:
            self.diags.add("W0202", "`??` 左边永远不为空，右边的默认值不会用到", e.span,
                           "删除 `?? …`，或检查左边的字段是否应声明为可选（?）")
        result = _join(left.type, right.type)
        if result is None:
            return self.error("E0208", f"`??` 两边类型不一致: {left.type} 与 {right.type}", e,
                              "默认值必须与左边同类型，例如 `replied_at ?? as_of`")
        return ir.Coalesce(left, _settle(right, result), result, right.empty_by, e.span)

    def _pair(self, a: ast.Expr, b: ast.Expr, scope: Scope) -> tuple[ir.Node, ir.Node]:
        """Check two operands where either may be an enum member named by the other's type."""
        left, right = self._try(a, scope), self._try(b, scope)
        if left is None and right is None:
            # neither side means anything here: report the first; the other may well be a
            # member of the enum the first was meant to be, so saying more would mislead
            return self.check(a, scope), _ERROR
        if left is None:
            left = self.check(a, scope, right.type)
        elif right is None:
            right = _ERROR if left.type.kind is Kind.ERROR else self.check(b, scope, left.type)
        typed_by_literal = (Kind.ENUM, Kind.MONTH)
        if left.type.kind in typed_by_literal and right.type.kind is not left.type.kind:
            right = self._retype(b, right, left.type, scope)
        elif right.type.kind in typed_by_literal and left.type.kind is not right.type.kind:
            left = self._retype(a, left, right.type, scope)
        return left, right

    def _try(self, e: ast.Expr, scope: Scope) -> ir.Node | None:
        """None for a bare name that means nothing here (it may be an enum member)."""
        if isinstance(e, ast.Name):
            return self.resolve(e, scope)
        return self.check(e, scope)

    def _retype(self, e: ast.Expr, node: ir.Node, expected: Type, scope: Scope) -> ir.Node:
        coerced = self._as_expected(e, expected, scope)
        return coerced if coerced is not None else node

    def _compare(self, e: ast.Binary, scope: Scope) -> ir.Node:
        op = COMPARE[e.op]
        left, right = self._pair(e.left, e.right, scope)
        if Kind.EMPTY in (left.type.kind, right.type.kind):
            return self.error("E0224", "与 empty 比较的结果永远是待定", e, "判断是否为空请写 `x is empty` 或 `x is not empty`")
        if right.type.calendar and _is_difference(left):
            return self._calendar_compare(op, left, right, e)
        if left.type.calendar and _is_difference(right):
            return self._calendar_compare(FLIP[op], right, left, e)
        if left.type.calendar != right.type.calendar and Kind.ERROR not in (left.type.kind, right.type.kind):
            return self.error("E0212", "按月/年计的时长只能与两个时间之差比较", e,
                              "例如 `as_of - energized_at > 3 months`；或改用天数，例如 90 days")
        if op not in ("eq", "ne") and Kind.ENUM in (left.type.kind, right.type.kind):
            return self.error("E0203", "枚举值只能比较相等或不等", e, "列出要匹配的取值，例如 `satisfaction in (不满意, 基本满意)`")
        if not T.comparable(left.type, right.type):
            hint = "金额只能与金额或数字常量比较" if Kind.MONEY in (left.type.kind, right.type.kind) else \
                "比较两边的类型必须一致，例如日期时间与日期时间、时长与时长"
            return self.error("E0203", f"不能比较 {left.type} 与 {right.type}", e, hint)
        if op not in ("eq", "ne") and left.type.kind in (Kind.BOOL, Kind.LIST, Kind.TEXT) \
                and left.type.kind == right.type.kind and left.type.kind is not Kind.TEXT:
            return self.error("E0203", f"{left.type} 只能比较相等或不等", e)
        left, right = _settle_pair(left, right)
        return ir.Binary(op, left, right, T.BOOL, left.empty_by | right.empty_by, e.span)

    def _calendar_compare(self, op: str, diff: ir.Node, months: ir.Node, e: ast.Binary) -> ir.Node:
        shifted = ir.Binary("add", diff.right, months, diff.right.type, diff.right.empty_by | months.empty_by, e.span)
        return ir.Binary(op, diff.left, shifted, T.BOOL, diff.empty_by | months.empty_by, e.span)

    def _arith(self, e: ast.Binary, scope: Scope) -> ir.Node:
        op = ARITH[e.op]
        if isinstance(e.right, ast.DurationLit) and e.right.unit == "workdays" and op in ("add", "sub"):
            return self._add_workdays(e, scope)
        left = self.check(e.left, scope)
        right = self.check(e.right, scope)
        result = _arith_type(op, left.type, right.type)
        if result is None:
            return self.error("E0210", f"不能计算 {left.type} {e.op} {right.type}", e, _arith_hint(op, left.type, right.type))
        left, right = _settle_pair(left, right)
        if result.kind is Kind.DATE and right.type.kind is Kind.DURATION and not right.type.calendar \
                and not (isinstance(right, ir.Const) and right.value is not None and right.value % _DAY == _ZERO):
            result = T.DATETIME  # a date plus hours is a point in time, not a day
        empty_by = left.empty_by | right.empty_by
        if op == "div" and not (isinstance(right, ir.Const) and right.value):
            empty_by |= {"÷0"}
        return ir.Binary(op, left, right, result, empty_by, e.span)

    def _add_workdays(self, e: ast.Binary, scope: Scope) -> ir.Node:
        base = self.check(e.left, scope)
        if base.type.kind not in (Kind.DATE, Kind.DATETIME, Kind.ERROR):
            return self.error("E0213", f"工作日只能加在日期或日期时间上，这里是 {base.type}", e)
        amount = e.right.amount if e.op == "+" else -e.right.amount
        if amount != int(amount):
            return self.error("E0214", "工作日数必须是整数", e.right)
        n = ir.Const(int(amount), T.INT, span=e.right.span)
        return ir.Call("add_workdays", (base, n), base.type, base.empty_by, e.span)

    def _check_IsEmpty(self, e: ast.IsEmpty, scope: Scope) -> ir.Node:
        operand = self.check(e.operand, scope)
        if not operand.empty_by and operand.type.kind is not Kind.ERROR:
            self.diags.add("W0203", "这个值永远不为空，`is empty` 的结果是固定的", e.span,
                           "检查字段是否应声明为可选（?），或删除这个判断")
        return ir.IsEmpty(operand, e.negated, T.BOOL, frozenset(), e.span)

    def _check_InList(self, e: ast.InList, scope: Scope) -> ir.Node:
        operand = self.check(e.operand, scope)
        items = []
        for item in e.items:
            node = self.check(item, scope, operand.type)
            if not T.comparable(operand.type, node.type):
                self.error("E0203", f"列表中的值 {node.type} 不能与 {operand.type} 比较", item)
            items.append(_settle(node, operand.type))
        return ir.InList(operand, tuple(items), e.negated, T.BOOL, operand.empty_by | _union(items), e.span)

    # ---- calls -------------------------------------------------------------------------------
    def _check_Call(self, e: ast.Call, scope: Scope) -> ir.Node:
        if e.func in AGGREGATES and scope.allow_aggregates and (e.star or e.func != "count" or not self._is_list_arg(e, scope)):
            return self._aggregate(e, scope)
        if e.star:
            return self.error("E0215", f"{e.func}(*) 只能用在 window 的 compute 中", e,
                              "例如 window over ticket by cons_no compute n = count(*)")
        builtin = BUILTINS.get(e.func)
        if builtin is None:
            if e.func in AGGREGATES:
                return self.error("E0215", f"{e.func}(…) 是聚合函数，只能用在 window 的 compute 中", e,
                                  "在规则里先声明 window，再用它算出的名字")
            return self.error("E0204", f"未知函数 `{e.func}`", e, did_you_mean(e.func, [*BUILTINS, *AGGREGATES]))
        args = [self.check(a, scope) for a in e.args]
        if e.func == "add_workdays" and len(args) == 2:
            args[1] = _settle(args[1], T.INT)
        if e.func == "contains" and len(args) == 2 and args[0].type.kind is Kind.LIST and args[0].type.item:
            args[1] = self._retype(e.args[1], args[1], args[0].type.item, scope)
        try:
            result = builtin.signature([a.type for a in args])
        except SignatureError as err:
            return self.error("E0206", f"函数 {e.func} 的参数不对：{err}", e, builtin.doc)
        empty_by = _intersection(args) if builtin.empty_if_all else _union(args)
        return ir.Call(e.func, tuple(args), result, empty_by, e.span)

    def _is_list_arg(self, e: ast.Call, scope: Scope) -> bool:
        if len(e.args) != 1 or not isinstance(e.args[0], ast.Name) or scope.kind is None:
            return False
        f = scope.kind.field(e.args[0].name)
        return f is not None and f.type.kind is Kind.LIST

    def _aggregate(self, e: ast.Call, scope: Scope) -> ir.Node:
        if e.star:
            if e.func != "count":
                return self.error("E0215", f"只有 count 可以写 (*)，{e.func} 需要一个表达式", e)
            return ir.Aggregate("count", None, T.INT, span=e.span)
        if len(e.args) != 1:
            return self.error("E0206", f"聚合函数 {e.func} 需要 1 个参数", e)
        inner = Scope(scope.kind, scope.field_scope, scope.this_kind, scope.names, False,
                      scope.allowed_fields, scope.used_facts, scope.this_fields)
        if e.func == "count":
            arg = self.check_bool(e.args[0], inner, "count(…) 的条件")
            return ir.Aggregate("count", arg, T.INT, span=e.span)
        arg = self.check(e.args[0], inner)
        if not (arg.type.is_numeric or arg.type.kind in (Kind.ERROR, Kind.DURATION)
                or (e.func in ("min", "max") and arg.type.kind in (Kind.DATE, Kind.DATETIME, Kind.MONTH))):
            return self.error("E0206", f"{e.func} 需要数值，这里是 {arg.type}", e)
        result = T.DECIMAL if e.func == "avg" and arg.type.kind is Kind.INT else arg.type
        return ir.Aggregate(e.func, arg, result, frozenset({"no rows"}), e.span)

    # ---- match -------------------------------------------------------------------------------
    def _check_Match(self, e: ast.Match, scope: Scope) -> ir.Node:
        subject = self.check(e.subject, scope)
        arms, default, seen, results = [], None, set(), []
        for arm in e.arms:
            value = self.check(arm.value, scope)
            results.append(value)
            if not arm.patterns:
                default = value
                continue
            pats = []
            for p in arm.patterns:
                node = self.check(p, scope, subject.type)
                if not T.comparable(subject.type, node.type):
                    self.error("E0216", f"match 分支 {node.type} 与被匹配的值 {subject.type} 类型不同，永远匹配不上", p)
                elif not isinstance(node, ir.Const):
                    self.error("E0216", "match 的分支必须是常量", p)
                elif node.value in seen:
                    self.error("E0216", f"match 分支 `{node.value}` 重复", p)
                else:
                    seen.add(node.value)
                pats.append(node)
            arms.append((tuple(pats), value))
        result = results[0].type if results else T.ERROR
        for r in results[1:]:
            result = _join(result, r.type) or self.error("E0208", f"match 各分支结果类型不一致: {result} 与 {r.type}", e).type
        exhaustive = default is not None or (subject.type.enum is not None and set(subject.type.enum.members) <= seen) \
            or (subject.type.kind is Kind.BOOL and {True, False} <= seen)
        empty_by = subject.empty_by | _union(results) | (frozenset() if exhaustive else {"no match arm"})
        arms = tuple((pats, _settle(v, result)) for pats, v in arms)
        default = _settle(default, result) if default is not None else None
        return ir.Case(subject, arms, default, result, empty_by, e.span)

    # ---- values with an expected type (enum members, months, lists) ---------------------------
    def _as_expected(self, e: ast.Expr, expected: Type, scope: Scope) -> ir.Node | None:
        if expected.kind is Kind.ENUM and isinstance(e, (ast.Name, ast.Literal)) and expected.enum:
            if isinstance(e, ast.Name) and self.resolve(e, scope) is not None:
                return None
            if isinstance(e, ast.Literal) and e.tag not in ("string", "number"):
                return None
            member = e.name if isinstance(e, ast.Name) else str(e.value)
            if member not in expected.enum.members:
                return self.error("E0211", f"`{member}` 不是 {expected.enum.name} 的成员", e,
                                  did_you_mean(member, expected.enum.members,
                                               "可选值: " + "、".join(expected.enum.members[:12])))
            return ir.Const(member, expected, span=e.span)
        if expected.kind is Kind.MONTH and isinstance(e, ast.Literal) and e.tag == "string":
            try:
                return ir.Const(Month.parse(e.value), T.MONTH, span=e.span)
            except ValueError:
                return self.error("E0104", f"`{e.value}` 不是月份", e, "月份写作 \"2026-03\"")
        if expected.kind is Kind.LIST and isinstance(e, ast.ListLit) and expected.item is not None:
            items = tuple(self.check(i, scope, expected.item) for i in e.items)
            return ir.ListConst(tuple(_settle(i, expected.item) for i in items), expected, _union(items), e.span)
        return None


# ---- type rules -------------------------------------------------------------------------------
def _is_difference(node: ir.Node) -> bool:
    """`a - b` of two dates, datetimes or months: what calendar months can be compared with."""
    return isinstance(node, ir.Binary) and node.op == "sub" and node.left.type.kind in (Kind.DATE, Kind.DATETIME, Kind.MONTH)


def _guarded(node: ir.Node, op: str) -> frozenset[str]:
    """Fields an and/or chain settles when they are empty: `x is not empty and …` is false and
    `x is empty or …` is true whenever x is empty, so x cannot leave the whole undecided."""
    if isinstance(node, ir.Binary) and node.op == op:
        return _guarded(node.left, op) | _guarded(node.right, op)
    if isinstance(node, ir.IsEmpty) and node.negated == (op == "and") and isinstance(node.operand, ir.FieldRef):
        return node.operand.empty_by
    return frozenset()



def _optional(f, field_scope: str) -> frozenset[str]:
    if not f.optional:
        return frozenset()
    return frozenset({f.name if field_scope == "this" else f"row.{f.name}"})


def _union(nodes) -> frozenset[str]:
    out: frozenset[str] = frozenset()
    for n in nodes:
        out |= n.empty_by
    return out


def _intersection(nodes) -> frozenset[str]:
    if any(not n.empty_by for n in nodes):
        return frozenset()
    return _union(nodes)


def _join(a: Type, b: Type) -> Type | None:
    """The common type of two alternatives (`??`, match arms)."""
    if a.kind in (Kind.ERROR, Kind.EMPTY):
        return b
    if b.kind in (Kind.ERROR, Kind.EMPTY):
        return a
    if a.is_numeric and b.is_numeric:
        return T.numeric_join(a, b)
    if a.is_temporal and b.is_temporal:
        return T.DATETIME if Kind.DATETIME in (a.kind, b.kind) else T.DATE
    if a.kind is Kind.DURATION and b.kind is Kind.DURATION:
        return T.CALENDAR_DURATION if (a.calendar or b.calendar) else T.DURATION
    if a.kind is Kind.ENUM and b.kind is Kind.TEXT:
        return a
    return a if a == b else None


def _arith_type(op: str, a: Type, b: Type) -> Type | None:
    if Kind.ERROR in (a.kind, b.kind):
        return T.ERROR
    if a.is_numeric and b.is_numeric:
        return _numeric_arith(op, a, b)
    if op == "sub" and a.is_temporal and b.is_temporal:
        return T.DURATION
    if op == "sub" and a.kind is Kind.MONTH and b.kind is Kind.MONTH:
        return T.CALENDAR_DURATION
    if op in ("add", "sub") and b.kind is Kind.DURATION:
        if a.kind is Kind.MONTH:
            return T.MONTH if b.calendar else None
        if a.is_temporal:
            return a
        if a.kind is Kind.DURATION and not (a.calendar or b.calendar):
            return T.DURATION
    if op == "add" and a.kind is Kind.DURATION and b.is_temporal and not a.calendar:
        return b
    if a.kind is Kind.DURATION and not a.calendar and b.is_numeric and op in ("mul", "div") and b.kind is not Kind.MONEY:
        return T.DURATION
    if op == "div" and a.kind is Kind.DURATION and b.kind is Kind.DURATION and not (a.calendar or b.calendar):
        return T.DECIMAL
    return None


def _numeric_arith(op: str, a: Type, b: Type) -> Type | None:
    if op in ("add", "sub"):
        return T.numeric_join(a, b)
    money = (a.kind is Kind.MONEY, b.kind is Kind.MONEY)
    if op == "mul":
        if all(money):
            return None
        return T.MONEY if any(money) else (T.INT if a.kind is b.kind is Kind.INT else T.numeric_join(a, b) or T.DECIMAL)
    # division: yuan / kWh is a price (money); yuan / yuan is a ratio; kWh / yuan makes no sense
    if all(money):
        return T.DECIMAL
    if money[1] and a.kind is not Kind.NUMBER:
        return None
    return T.MONEY if money[0] else (T.DECIMAL if a.kind is not Kind.NUMBER or b.kind is not Kind.NUMBER else T.NUMBER)


def _arith_hint(op: str, a: Type, b: Type) -> str:
    if Kind.MONEY in (a.kind, b.kind):
        return "金额（money）只能与金额相加减；乘除时另一边必须是数量或比例"
    if Kind.DURATION in (a.kind, b.kind) and (a.calendar or b.calendar):
        return "按月计的时长只能加在日期、日期时间或月份上"
    if a.is_temporal and b.is_numeric:
        return "日期加减要带单位，例如 accepted_at + 2 hours 或 + 3 days"
    return "两个日期时间相减得到时长；时长可与时长比较，例如 (a - b) > 45 min"


def _settle(node: ir.Node, target: Type) -> ir.Node:
    """Give an untyped number literal its concrete type (int stays int; money stays Decimal)."""
    if isinstance(node, ir.Const) and node.type.kind is Kind.NUMBER and target.is_numeric and target.kind is not Kind.NUMBER:
        value = node.value
        if target.kind is Kind.INT and isinstance(value, Decimal) and value == value.to_integral_value():
            return ir.Const(int(value), T.INT, span=node.span)
        return ir.Const(Decimal(value), target if target.kind is not Kind.INT else T.DECIMAL, span=node.span)
    if isinstance(node, ir.Const) and node.type.kind is Kind.NUMBER and target.kind is Kind.NUMBER:
        return node
    return node


def _settle_pair(left: ir.Node, right: ir.Node) -> tuple[ir.Node, ir.Node]:
    return _settle(left, right.type), _settle(right, left.type)


def const_value(node: ir.Node) -> object:
    """The value of a constant expression (test records, defaults), or raise ValueError."""
    if isinstance(node, ir.Const):
        if isinstance(node.value, Decimal) and node.type.kind is Kind.INT:
            return int(node.value)
        return node.value
    if isinstance(node, ir.ListConst):
        return tuple(const_value(i) for i in node.items)
    if isinstance(node, ir.Binary) and node.op in ("add", "sub"):
        left, right = const_value(node.left), const_value(node.right)
        if isinstance(left, (date, datetime)) and isinstance(right, timedelta):
            return left + right if node.op == "add" else left - right
        if isinstance(left, (int, Decimal)) and isinstance(right, (int, Decimal)):
            return left + right if node.op == "add" else left - right
    raise ValueError("not a constant")
