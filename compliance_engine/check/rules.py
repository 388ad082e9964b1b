"""Check one rule: subject, metadata, windows, lets, condition, empty-value declarations, tests."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal

from .. import ast, ir
from .. import types as T
from ..diagnostics import Diagnostics
from ..model import LEVELS, Deadline, Link, Owner, Rule, RulebookInfo, Supervisor, SupervisorEntry, TestCase, Window, WindowRange
from ..schema import RecordKind
from ..types import Kind
from .declarations import Declarations
from .expressions import COMPARE, ExprChecker, Scope, const_value
from .names import did_you_mean

_UNKNOWN_KIND = RecordKind("?", ())
_DEADLINE = re.compile(r"(\d+)\s*(workdays?|days?|hours?|h|minutes?|min)\b")
_DEADLINE_SECONDS = {"day": 86400, "hour": 3600, "h": 3600, "minute": 60, "min": 60}
REQUIRED_META = ("level", "owner")


class RuleChecker:
    def __init__(self, diags: Diagnostics, decls: Declarations, exprs: ExprChecker):
        self.diags, self.decls, self.exprs = diags, decls, exprs

    def check(self, decl: ast.RuleDecl, rulebook: RulebookInfo) -> Rule:
        kind, group_by = self._subject(decl)
        meta = self._meta(decl, kind)
        if kind is _UNKNOWN_KIND:  # already reported; checking the body would only cascade
            return _placeholder(decl, rulebook, meta)
        scope = Scope(kind, allowed_fields=frozenset(group_by) if group_by else None)
        windows = tuple(self._window(i, w, kind, group_by, scope) for i, w in enumerate(decl.of_type(ast.Window)))
        lets = tuple(self._let(let, scope) for let in decl.of_type(ast.Let))
        condition = self._condition(decl, scope)
        empties = self._empties(decl, kind, condition)
        tests = tuple(self._test(t, kind, decl) for t in decl.of_type(ast.TestDecl))
        depends = tuple(ref.id for d in decl.of_type(ast.DependsOn) for ref in d.rules)
        return Rule(
            id=decl.id, title=decl.title, rulebook=rulebook, kind=kind, group_by=group_by,
            category=meta.get("category", ""), link=meta.get("link"), level=meta.get("level", ""),
            owner=meta.get("owner", Owner("", ("",))), supervisor=meta.get("supervisor"),
            measure=meta.get("measure", ""), deadline=meta.get("deadline"), source=meta.get("source", ""),
            tags=meta.get("tags", ()), depends_on=depends, windows=windows, facts=tuple(scope.used_facts),
            lets=lets, condition=condition, empty_means_undetermined=empties, tests=tests, span=decl.span)

    # ---- subject and metadata ----------------------------------------------------------------
    def _subject(self, decl: ast.RuleDecl) -> tuple[RecordKind, tuple[str, ...]]:
        subjects = list(decl.of_type(ast.Subject))
        if not subjects:
            self.diags.add("E0305", f"规则 {decl.id} 没有说明检查哪类记录", decl.span, "在规则开头写 `on ticket` 之类")
            return _UNKNOWN_KIND, ()
        subject = subjects[0]
        for extra in subjects[1:]:
            self.diags.add("E0304", f"规则 {decl.id} 的 on 写了不止一次", extra.span, "一条规则只检查一类记录")
        kind = self.decls.kinds.get(subject.kind)
        if kind is None:
            self.diags.add("E0301", f"规则 {decl.id} 检查的记录类型 `{subject.kind}` 不存在", subject.span,
                           did_you_mean(subject.kind, self.decls.kinds, "先用 record 声明这类记录，或 import 声明它的文件"))
            return _UNKNOWN_KIND, ()
        for name in subject.group_by:
            if kind.field(name.name) is None:
                self.diags.add("E0202", f"记录类型 {kind.name} 没有字段 `{name.name}`", name.span,
                               did_you_mean(name.name, kind.field_names))
        return kind, tuple(n.name for n in subject.group_by)

    def _meta(self, decl: ast.RuleDecl, kind: RecordKind) -> dict:
        out: dict = {}
        for m in decl.of_type(ast.Meta):
            if m.key in out:
                self.diags.add("E0304", f"规则 {decl.id} 的 {m.key} 写了不止一次", m.span)
                continue
            out[m.key] = getattr(self, f"_meta_{m.key}", lambda m, k: m.value)(m, kind)
        for key in REQUIRED_META:
            if key not in out:
                self.diags.add("E0305", f"规则 {decl.id} 缺少 {key}", decl.span,
                               {"level": "写 `level 二级`（一级 红、二级 橙、三级 黄、四级 蓝）",
                                "owner": "写 `owner 部门 / 班组 / 岗位`"}[key])
        return out

    def _meta_level(self, m: ast.Meta, kind: RecordKind) -> str:
        if m.value not in LEVELS:
            same_line = m.value.split()[0] in LEVELS
            self.diags.add("E0302", f"未知预警级别 `{m.value}`", m.span,
                           "元数据的值一直写到行尾：每项元数据单独写一行" if same_line else "级别只能是 一级、二级、三级、四级")
        return m.value

    def _meta_link(self, m: ast.Meta, kind: RecordKind) -> Link | None:
        links = self.decls.links
        link = links.get(m.value) or next((l for l in links.values() if l.title == m.value), None)
        if link is None:
            self.diags.add("E0303", f"未声明的风险环节 `{m.value}`", m.span,
                           did_you_mean(m.value, [*links, *(l.title for l in links.values())],
                                        f"先声明: link {m.value} \"环节名称\""))
        return link

    def _meta_owner(self, m: ast.Meta, kind: RecordKind) -> Owner:
        parts = tuple(p.strip() for p in m.value.split("/"))
        if not all(parts) or len(parts) > 3:
            self.diags.add("E0310", f"责任写法不对: `{m.value}`", m.span, "写作 部门 / 班组 / 岗位，例如 营销部(客户服务中心) / 客户服务班 / 工单处理专责")
        return Owner(m.value, parts)

    def _meta_supervisor(self, m: ast.Meta, kind: RecordKind) -> Supervisor:
        entries = []
        for part in (p.strip() for p in m.value.split(";")):
            words = part.split()
            role = "协同" if words[:1] == ["协同"] else "上级"
            words = words[1:] if words[:1] == ["协同"] else words
            upper = words[:1] == ["上级"]
            words = words[1:] if upper else words
            if not words:
                self.diags.add("E0311", f"监督部门写法不对: `{part}`", m.span, "写作 上级 部门名；多个用 ; 分隔，协同部门前加 协同")
                continue
            entries.append(SupervisorEntry(role, upper, " ".join(words)))
        return Supervisor(m.value, tuple(entries))

    def _meta_deadline(self, m: ast.Meta, kind: RecordKind) -> Deadline:
        text = m.value
        before = re.match(r"before\s+(\w+)$", text)
        if before and kind.field(before.group(1)) is not None:
            return Deadline(text, before_field=before.group(1))
        if before and "_" in before.group(1):
            self.diags.add("W0205", f"期限中的 `{before.group(1)}` 不是记录类型 {kind.name} 的字段", m.span,
                           did_you_mean(before.group(1), kind.field_names, "写成字段名，例如 before start_at"))
        found = _DEADLINE.search(text)
        if found:
            n, unit = int(found.group(1)), found.group(2).rstrip("s") if found.group(2) != "h" else "h"
            if unit == "workday":
                return Deadline(text, workdays=n)
            return Deadline(text, duration=timedelta(seconds=n * _DEADLINE_SECONDS[unit]))
        if text.startswith("immediately"):
            return Deadline(text, duration=timedelta(0))
        return Deadline(text)

    def _meta_tags(self, m: ast.Meta, kind: RecordKind) -> tuple[str, ...]:
        return tuple(t for t in re.split(r"[,\s]+", m.value) if t)

    # ---- windows, lets, condition ------------------------------------------------------------
    def _window(self, index: int, w: ast.Window, subject: RecordKind, group_by: tuple[str, ...], scope: Scope) -> Window:
        if group_by:
            kind, by = self._group_window(w, subject, group_by)
        else:
            kind, by = self._keyed_window(w, subject)
        this_fields = frozenset(group_by) if group_by else None
        row = Scope(kind, "row", subject, {}, False, None, scope.used_facts, this_fields)
        where = self.exprs.check_bool(w.where, row, "window 的 where") if w.where is not None else None
        within = self._range(w.within, kind, row) if w.within is not None else None
        aggregates = []
        agg_scope = Scope(kind, "row", subject, {}, True, None, scope.used_facts, this_fields)
        # an empty range bound (e.g. this.replied_at) leaves the window unplaced: every result empty
        bound_empty = frozenset().union(*(b.empty_by for b in (within.low, within.high) if b is not None)) \
            if within is not None else frozenset()
        for agg in w.aggregates:
            node = self.exprs.check(agg.value, agg_scope)
            self._check_compute(agg, node)
            key_empty = frozenset() if group_by else \
                frozenset(k for k in by if (f := subject.field(k)) is not None and f.optional)
            key_empty |= bound_empty
            own = frozenset({agg.name}) if node.empty_by else frozenset()
            self._bind(scope, agg, ir.LetRef(agg.name, "aggregate", node.type, own | key_empty, agg.span))
            aggregates.append((agg.name, node))
        return Window(index, kind, by, where, within, tuple(aggregates), w.span)

    def _check_compute(self, agg: ast.Let, node: ir.Node) -> None:
        aggregates = [n for n in ir.walk(node) if isinstance(n, ir.Aggregate)]
        if not aggregates:
            self.diags.add("E0307", f"compute 的 `{agg.name}` 必须用聚合函数 count/sum/avg/min/max", agg.span,
                           "例如 n = count(*) 或 total = sum(rows)")
            return
        inside = {id(n) for a in aggregates for n in ir.walk(a)}
        stray = [n for n in ir.walk(node) if isinstance(n, ir.FieldRef) and n.scope == "row" and id(n) not in inside]
        if stray:
            self.diags.add("E0307", f"compute 的 `{agg.name}` 中字段 `{stray[0].name}` 必须写在聚合函数里", agg.span,
                           f"例如 sum({stray[0].name})；窗口结果是对多条记录的汇总")

    def _group_window(self, w: ast.Window, subject: RecordKind, group_by: tuple[str, ...]):
        if w.over is not None or w.by or w.within is not None:
            self.diags.add("E0309", "分组规则的 window 就是该组自己的记录，不能再写 over/by/within", w.span,
                           "删除 over … by … within …；用 where 筛选组内记录")
        return subject, group_by

    def _keyed_window(self, w: ast.Window, subject: RecordKind):
        kind = subject
        if w.over is not None:
            kind = self.decls.kinds.get(w.over.name)
            if kind is None:
                self.diags.add("E0301", f"window 扫描的记录类型 `{w.over.name}` 不存在", w.over.span,
                               did_you_mean(w.over.name, self.decls.kinds))
                kind = _UNKNOWN_KIND
        by = []
        for name in w.by:
            mine, theirs = subject.field(name.name), kind.field(name.name)
            if mine is None or theirs is None:
                owner = subject if mine is None else kind
                self.diags.add("E0202", f"window 的关联字段 `{name.name}` 不在记录类型 {owner.name} 中", name.span,
                               did_you_mean(name.name, owner.field_names, "关联字段必须在两类记录中同名"))
            elif not T.comparable(mine.type, theirs.type):
                self.diags.add("E0203", f"关联字段 `{name.name}` 在两类记录中类型不同: {mine.type} 与 {theirs.type}", name.span)
            by.append(name.name)
        return kind, tuple(by)

    def _range(self, r: ast.Range, kind: RecordKind, row: Scope) -> WindowRange | None:
        f = kind.field(r.field.name)
        if f is None:
            self.diags.add("E0202", f"记录类型 {kind.name} 没有字段 `{r.field.name}`", r.field.span,
                           did_you_mean(r.field.name, kind.field_names))
            return None
        this = Scope(row.this_kind, "this", row.this_kind, {}, False, None, row.used_facts)
        if isinstance(r, ast.Interval):
            low, high = self.exprs.check(r.low, this, f.type), self.exprs.check(r.high, this, f.type)
            for bound in (low, high):
                self._range_type(f, bound, r)
            return WindowRange(f.name, low, high, r.low_closed, r.high_closed)
        value = self.exprs.check(r.value, this, f.type)
        self._range_type(f, value, r)
        op = COMPARE[r.op]
        if op == "eq":
            return WindowRange(f.name, value, value)
        if op == "ne":
            self.diags.add("E0218", "within 不能用 !=", r.span, "把这个条件写进 where")
            return None
        lower = op in ("gt", "ge")
        return WindowRange(f.name, value if lower else None, None if lower else value,
                           low_closed=op != "gt", high_closed=op != "lt")

    def _range_type(self, f, bound: ir.Node, r) -> None:
        if not T.comparable(f.type, bound.type):
            self.diags.add("E0203", f"范围的边界 {bound.type} 不能与字段 {f.name}（{f.type}）比较", r.span)

    def _let(self, let: ast.Let, scope: Scope) -> tuple[str, ir.Node]:
        node = self.exprs.check(let.value, scope)
        self._bind(scope, let, ir.LetRef(let.name, "let", node.type, node.empty_by, let.span))
        return let.name, node

    def _bind(self, scope: Scope, decl, ref: ir.LetRef) -> None:
        hides_fact = self.exprs.lookup_fact(ref.name, scope.kind.name if scope.kind else None) is not None
        if ref.name in scope.names or (scope.kind and scope.kind.field(ref.name)) or hides_fact:
            self.diags.add("E0219", f"名称 `{ref.name}` 已被使用（字段、let 或窗口结果）", decl.span, "换一个名字")
        scope.names[ref.name] = ref

    def _condition(self, decl: ast.RuleDecl, scope: Scope) -> ir.Node:
        whens = list(decl.of_type(ast.When))
        if not whens:
            self.diags.add("E0305", f"规则 {decl.id} 缺少 when 条件", decl.span, "写 `when 条件`，条件成立即预警")
            return ir.Const(None, T.ERROR)
        if len(whens) > 1:
            self.diags.add("E0304", f"规则 {decl.id} 的 when 写了不止一次", whens[1].span, "用 and 把条件合在一起")
        return self.exprs.check_bool(whens[0].condition, scope, "when 条件")

    def _empties(self, decl: ast.RuleDecl, kind: RecordKind, condition: ir.Node) -> tuple[str, ...]:
        declared = [n for e in decl.of_type(ast.EmptyMeans) for n in e.names]
        names = {n.name for n in declared}
        results = {a.name for w in decl.of_type(ast.Window) for a in w.aggregates} | {l.name for l in decl.of_type(ast.Let)}
        for n in declared:
            if n.name in results:
                continue  # a window result or let that may be empty: stated on purpose
            if kind.field(n.name) is None:
                self.diags.add("E0202", f"记录类型 {kind.name} 没有字段 `{n.name}`", n.span, did_you_mean(n.name, kind.field_names))
            elif not kind.field(n.name).optional:
                self.diags.add("W0204", f"字段 `{n.name}` 是必填字段，不会为空", n.span, "删除这条声明")
        when = next(iter(decl.of_type(ast.When)), None)
        for name in sorted(condition.empty_by):
            f = kind.field(name)
            if f is not None and f.optional and name not in names:
                self.diags.add("W0201", f"条件用到可选字段 `{name}`，但没有说明它为空时的含义", when.span if when else decl.span,
                               f"用 `{name} ?? 默认值` 给出默认值，或写 `empty {name} means undetermined`")
        return tuple(n.name for n in declared)

    # ---- tests -------------------------------------------------------------------------------
    def _test(self, t: ast.TestDecl, kind: RecordKind, decl: ast.RuleDecl) -> TestCase:
        as_of, records, expect, subject = None, [], None, None
        for item in t.items:
            if isinstance(item, ast.TestAsOf):
                as_of = self._test_as_of(item)
            elif isinstance(item, ast.Given):
                rec = self._given(item)
                if rec is not None:
                    if subject is None and item.kind == kind.name:
                        subject = len(records)
                    records.append((item.kind, rec))
            elif expect is not None:
                self.diags.add("E0507", f"测试 `{t.name}` 的 expect 写了不止一次", item.span)
            else:
                expect = item
        if subject is None:
            self.diags.add("E0506", f"测试 `{t.name}` 没有给出 {kind.name} 记录", t.span, f"写 given {kind.name} {{ … }}")
        if expect is None:
            self.diags.add("E0507", f"测试 `{t.name}` 缺少 expect", t.span, "写 expect fired、expect passed 或 expect undetermined")
        if as_of is None and not any(isinstance(i, ast.TestAsOf) for i in t.items) and _reads_as_of(decl):
            self.diags.add("E0509", f"测试 `{t.name}` 没有给出 as_of，而规则用到了 as_of", t.span,
                           "在测试中写 as_of 2026-03-01T12:00")
        missing = self._expect_missing(expect, kind, decl)
        return TestCase(t.name, as_of, tuple(records), subject or 0, expect.outcome if expect else "passed", missing, t.span)

    def _test_as_of(self, item: ast.TestAsOf) -> datetime | None:
        node = self.exprs.check(item.value, Scope(None))
        try:
            value = const_value(node)
        except ValueError:
            value = None
        if isinstance(value, date) and not isinstance(value, datetime):
            value = datetime.combine(value, datetime.min.time())
        if not isinstance(value, datetime):
            self.diags.add("E0503", "测试的 as_of 必须是日期时间常量", item.span, "例如 as_of 2026-03-01T12:00")
            return None
        return value

    def _given(self, g: ast.Given) -> dict | None:
        kind = self.decls.kinds.get(g.kind)
        if kind is None:
            self.diags.add("E0501", f"测试记录的类型 `{g.kind}` 不存在", g.span, did_you_mean(g.kind, self.decls.kinds))
            return None
        record = {f.name: None for f in kind.fields}
        given = {fv.name: fv for fv in (*self.decls.defaults.get(g.kind, ()), *g.values)}
        for fv in given.values():
            f = kind.field(fv.name)
            if f is None:
                self.diags.add("E0502", f"记录类型 {kind.name} 没有字段 `{fv.name}`", fv.span, did_you_mean(fv.name, kind.field_names))
                continue
            record[f.name] = self._test_value(fv, f)
        for f in kind.fields:
            if record[f.name] is None and not f.optional:
                given_empty = f.name in given
                self.diags.add("E0505", f"测试记录的必填字段 `{f.name}` {'不能为空' if given_empty else '缺少值'}",
                               given[f.name].span if given_empty else g.span,
                               f"补上 {f.name}: …，或在 defaults {kind.name} {{ … }} 中给出默认值")
        return record

    def _test_value(self, fv: ast.FieldValue, f) -> object:
        node = self.exprs.check(fv.value, Scope(None), f.type)
        try:
            value = const_value(node)
        except ValueError:
            self.diags.add("E0503", f"测试记录中 `{fv.name}` 的值必须是常量", fv.span)
            return None
        if value is None or node.type.kind is Kind.ERROR:
            return None
        return _coerce_test_value(value, f, self.diags, fv)

    def _expect_missing(self, expect: ast.Expect | None, kind: RecordKind, decl: ast.RuleDecl) -> tuple[str, ...]:
        if expect is None:
            return ()
        known = {*kind.field_names, *(a.name for w in decl.of_type(ast.Window) for a in w.aggregates)}
        for n in expect.missing:
            if n.name not in known:
                self.diags.add("E0508", f"expect missing 中的 `{n.name}` 不是字段或窗口结果", n.span, did_you_mean(n.name, known))
        if expect.missing and expect.outcome != "undetermined":
            self.diags.add("E0508", "只有 expect undetermined 才能写 missing", expect.span)
        return tuple(n.name for n in expect.missing)


def _coerce_test_value(value, f, diags: Diagnostics, fv: ast.FieldValue):
    kind = f.type.kind
    ok = {
        Kind.TEXT: isinstance(value, str), Kind.ENUM: isinstance(value, str), Kind.BOOL: isinstance(value, bool),
        Kind.INT: isinstance(value, (int, Decimal)) and not isinstance(value, bool) and value == int(value),
        Kind.DECIMAL: isinstance(value, (int, Decimal)) and not isinstance(value, bool),
        Kind.MONEY: isinstance(value, (int, Decimal)) and not isinstance(value, bool),
        Kind.DATE: isinstance(value, date), Kind.DATETIME: isinstance(value, date),
        Kind.DURATION: isinstance(value, timedelta), Kind.MONTH: isinstance(value, int),
        Kind.LIST: isinstance(value, tuple),
    }.get(kind, True)
    if not ok:
        diags.add("E0504", f"测试记录中 `{fv.name}` 的值与字段类型 {f.type} 不符", fv.span)
        return None
    if kind is Kind.INT:
        return int(value)
    if kind is Kind.DECIMAL:
        return Decimal(value)
    if kind is Kind.MONEY:
        return Decimal(value).quantize(Decimal("0.01"))
    if kind is Kind.DATETIME and not isinstance(value, datetime):
        return datetime.combine(value, datetime.min.time())
    if kind is Kind.DATE and isinstance(value, datetime):
        return value.date()
    return value


def _reads_as_of(decl: ast.RuleDecl) -> bool:
    """Whether a rule's own text mentions as_of (facts it uses are checked by name too)."""
    roots = [w.condition for w in decl.of_type(ast.When)] + [l.value for l in decl.of_type(ast.Let)]
    for win in decl.of_type(ast.Window):
        roots += [a.value for a in win.aggregates] + [x for x in (win.where,) if x is not None]
        if win.within is not None:
            roots += [win.within.low, win.within.high] if isinstance(win.within, ast.Interval) else [win.within.value]
    return any(isinstance(n, ast.Name) and n.name == "as_of" for root in roots for n in ast.walk(root))


def _placeholder(decl: ast.RuleDecl, rulebook: RulebookInfo, meta: dict) -> Rule:
    """A rule whose subject is unknown: kept (so ids and depends on still resolve), never run."""
    return Rule(
        id=decl.id, title=decl.title, rulebook=rulebook, kind=_UNKNOWN_KIND, group_by=(), category=meta.get("category", ""),
        link=meta.get("link"), level=meta.get("level", ""), owner=meta.get("owner", Owner("", ("",))),
        supervisor=meta.get("supervisor"), measure=meta.get("measure", ""), deadline=meta.get("deadline"),
        source=meta.get("source", ""), tags=meta.get("tags", ()),
        depends_on=tuple(ref.id for d in decl.of_type(ast.DependsOn) for ref in d.rules), windows=(), facts=(),
        lets=(), condition=ir.Const(None, T.ERROR), empty_means_undetermined=(), tests=(), span=decl.span)
