"""Why a rule fired, passed or was undetermined for one record (or group): clause by clause.

Owns the `Explanation` (pydantic, JSON; docs/responsibility.md § Explain) and its text form.
It evaluates the batch once with the engine (for the outcome, the window results and the other
findings that root causes need), then re-evaluates the one rule on the one record with the IR
interpreter, which records the value of every node. Each clause of the condition is shown with
its source text (sliced by span), its value, the fields/lets/aggregates it reads, and — for a
comparison of a time difference with a duration, of two numbers or of two times — the margin
and the counterfactual ("到达现场超时 13 分钟；到达现场时间不晚于 … 则不预警"), checked by
re-evaluating the rule with the boundary value (or, when the compared value is not a record
field, by flipping the clause in the condition's logic). The responsibility chain and the root
causes come from responsibility.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, field_serializer

from . import ir
from .api import Rulebooks
from .backends.python import runtime as rt
from .backends.python.evaluator import Outcome
from .backends.python.interpreter import Env, Interpreter, trace_rule
from .describe import window_words
from .errors import ComplianceError
from .findings import Finding, json_value
from .model import Program, Rule, Window
from .org import Directory
from .responsibility import (
    ChainBuilder, PersonRef, RecordLookup, ResponsibilityChain, RootCause, RootCauses, root_cause,
)
from .values import Month

EXPLAIN_CONTRACT = "1.0"
VERDICTS = {True: "预警", False: "未预警", None: "无法判断"}
OUTCOME_WORDS = {"fired": "预警", "passed": "未预警", "undetermined": "无法判断"}
_CLAUSE_VERDICTS = {True: "成立", False: "不成立", None: "无法判断"}
_ORDER_OPS = ("lt", "le", "gt", "ge")
_NEGATE = {"lt": "ge", "le": "gt", "gt": "le", "ge": "lt"}
_REVERSE = {"lt": "gt", "le": "ge", "gt": "lt", "ge": "le"}  # a op b ⇔ b REVERSE[op] a
_TIME_WORDS = {"lt": "早于", "le": "不晚于", "gt": "晚于", "ge": "不早于"}
_NUMBER_WORDS = {"lt": "小于", "le": "不大于", "gt": "大于", "ge": "不小于"}


class ExplainError(ComplianceError):
    """The rule or the case asked for does not exist (message in Chinese)."""


# ---------------------------------------------------------------------------------------------
# The data model (schema: docs/responsibility.md § Explain)
# ---------------------------------------------------------------------------------------------

class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class ValueRead(_Model):
    """A value a clause reads: a record field, a let, a window aggregate, a fact or as_of."""

    name: str
    origin: Literal["field", "let", "aggregate", "fact", "as_of"]
    label: str  # the field's label, or what kind of name it is
    value: Any
    text: str  # the value in words ("空" for empty)

    @field_serializer("value")
    def _value(self, v: Any) -> Any:
        return json_value(v)


class Margin(_Model):
    """How far a comparison is from its threshold: `difference` = left − right."""

    family: Literal["duration", "number", "time"]
    left: Any
    right: Any
    difference: Any
    text: str

    @field_serializer("left", "right", "difference")
    def _values(self, v: Any) -> Any:
        return json_value(v)


class Counterfactual(_Model):
    """The value that would flip the clause: `variable` `relation` `boundary`."""

    text: str
    variable: str  # what would have to change, in words
    field: str | None  # the record field, when it is one
    relation: Literal["lt", "le", "gt", "ge"]
    boundary: Any
    flips_outcome: bool  # whether that change alone changes the rule's outcome
    checked_by: Literal["re-evaluation", "logic"]  # rule re-run with the boundary value, or the clause flipped

    @field_serializer("boundary")
    def _boundary(self, v: Any) -> Any:
        return json_value(v)


class Clause(_Model):
    """A clause of the condition; `and`/`or` clauses have `parts`, the others `reads`."""

    source: str  # the rulebook text of the clause
    location: str | None  # file:line:column
    connective: Literal["and", "or"] | None = None
    value: bool | None
    verdict: str  # 成立 / 不成立 / 无法判断
    deciding: bool  # this clause decides the outcome (see docs)
    reads: list[ValueRead] = []
    empty: list[str] = []  # for an undecided clause: the empty names that left it undecided
    margin: Margin | None = None
    counterfactual: Counterfactual | None = None
    parts: list[Clause] = []


class NamedValue(_Model):
    """A let or a fact the rule computes, with its definition and value."""

    name: str
    origin: Literal["let", "fact"]
    source: str
    value: Any
    text: str
    reads: list[ValueRead]

    @field_serializer("value")
    def _value(self, v: Any) -> Any:
        return json_value(v)


class WindowView(_Model):
    description: str  # the window in words (describe.window_words)
    aggregates: list[ValueRead]
    rows: list[str]  # record keys of the rows the window counted (at most 20)
    rows_total: int


class RuleInfo(_Model):
    id: str
    title: str
    rulebook: str
    version: str
    level: str
    kind: str
    group_by: list[str]
    owner: str
    supervisor: str | None
    deadline: str | None
    depends_on: list[str]
    location: str | None


class Explanation(_Model):
    contract: str = EXPLAIN_CONTRACT
    rule: RuleInfo
    case: str
    as_of: datetime
    outcome: Literal["fired", "passed", "undetermined"]
    verdict: str  # 预警 / 未预警 / 无法判断
    finding: Finding
    condition: Clause
    names: list[NamedValue]
    windows: list[WindowView]
    missing: list[str]
    summary: list[str]
    responsibility: ResponsibilityChain | None
    root_causes: list[RootCause]
    notes: list[str]

    def masked(self) -> Explanation:
        """The same explanation with the chain's and root causes' people masked."""
        if self.responsibility is None:
            return self
        chain = self.responsibility.masked()
        return self.model_copy(update={"responsibility": chain, "root_causes": chain.root_causes})


# ---------------------------------------------------------------------------------------------
# Building an explanation
# ---------------------------------------------------------------------------------------------

def explain(rulebooks: Rulebooks, rule_id: str, case: str, records: Mapping[str, list[dict]], as_of: datetime,
            directory: Directory | None = None) -> Explanation:
    """Explain `rule_id` on the record (or group) whose key is `case` among `records`."""
    program = rulebooks.program
    rule = program.rule(rule_id)
    if rule is None:
        raise ExplainError(f"没有规则 {rule_id}；已加载的规则: {', '.join(r.id for r in program.rules[:20])}"
                           + (" …" if len(program.rules) > 20 else ""))
    if rule.kind.name not in records:
        raise ExplainError(f"规则 {rule_id} 检查 {rule.kind.name} 记录，但所给 cases 中没有该类记录")
    target, finding, others, duplicates = _evaluate(rulebooks, rule, case, records, as_of)
    lookup = RecordLookup(program, records)
    causes = RootCauses([finding, *others], program, lookup).of(finding) if finding.outcome != "passed" else []
    analysis = _Analysis(rulebooks, rule, target, as_of, records)
    condition = analysis.clauses()
    chain = None
    if directory is not None:
        chain = ChainBuilder(program, directory, rulebooks.backend.calendar, records).chain(finding, causes)
    notes = [f"有 {duplicates + 1} 条记录的键为 {case}，只解释第一条"] if duplicates else []
    return Explanation(
        rule=_rule_info(rule), case=case, as_of=as_of, outcome=finding.outcome, verdict=VERDICTS[target.value],
        finding=finding, condition=condition, names=analysis.named_values(), windows=analysis.windows(),
        missing=finding.missing, summary=_summary(condition, finding, rule), responsibility=chain,
        root_causes=chain.root_causes if chain else [root_cause(c) for c in causes], notes=notes)


def _evaluate(rulebooks: Rulebooks, rule: Rule, case: str, records,
              as_of: datetime) -> tuple[Outcome, Finding, list[Finding], int]:
    """The target outcome and its finding, every other fired/undetermined finding of the batch,
    and how many more outcomes of the rule share the key."""
    G = rulebooks.backend.global_facts(as_of)
    target, duplicates, others = None, 0, []
    for o in rulebooks.backend.evaluate(dict(records), as_of, G, include_passed=True):
        mine = o.plan.rule is rule and _outcome_key(o) == case
        if mine and target is None:
            target = o
        else:
            duplicates += mine
            if o.value is not False:
                others.append(rulebooks.finding(o, as_of, G))
    if target is None:
        keys = "、".join(rule.group_by) if rule.is_group_rule else "、".join(rule.kind.key_fields)
        raise ExplainError(f"在所给 {rule.kind.name} 记录中找不到键为 {case} 的{'分组' if rule.is_group_rule else '记录'}"
                           f"（键字段: {keys}，多个键值用 | 连接）")
    return target, rulebooks.finding(target, as_of, G), others, duplicates


def _outcome_key(o: Outcome) -> str:
    """The finding's record_key (api.Rulebooks.finding): group values, else the record key."""
    if o.group is not None:
        return "|".join(str(v) for v in o.group.values())
    return o.plan.rule.kind.record_key(o.record)


def _rule_info(rule: Rule) -> RuleInfo:
    return RuleInfo(
        id=rule.id, title=rule.title, rulebook=rule.rulebook.name, version=rule.rulebook.version, level=rule.level,
        kind=rule.kind.name, group_by=list(rule.group_by), owner=rule.owner.text,
        supervisor=rule.supervisor.text if rule.supervisor else None,
        deadline=rule.deadline.text if rule.deadline else None, depends_on=list(rule.depends_on),
        location=str(rule.span) if rule.span else None)


def _kleene(op: str, values: list[bool | None]) -> bool | None:
    dominant = op == "or"  # True decides an `or`, False an `and`
    if any(v is dominant for v in values):
        return dominant
    return None if any(v is None for v in values) else not dominant


def _parts(node: ir.Node) -> tuple[str, list[ir.Node]] | None:
    """An `and`/`or` clause as its operator and its operands (a chain of one operator flattened)."""
    if not (isinstance(node, ir.Binary) and node.op in ("and", "or")):
        return None
    out: list[ir.Node] = []
    for side in (node.left, node.right):
        sub = _parts(side)
        out += sub[1] if sub and sub[0] == node.op else [side]
    return node.op, out


class _Analysis:
    """The rule re-evaluated on the record by the interpreter, every node's value kept."""

    def __init__(self, rulebooks: Rulebooks, rule: Rule, outcome: Outcome, as_of: datetime, records):
        self.program: Program = rulebooks.program
        self.rule, self.outcome, self.as_of, self.records = rule, outcome, as_of, records
        self.interpreter = Interpreter(rulebooks.backend.calendar)
        self.facts = rulebooks.backend.global_facts_by_name(rulebooks.backend.global_facts(as_of))
        self.trace = trace_rule(self.interpreter, rule, outcome.record, as_of, self.facts, outcome.aggregates)
        self.env = Env(outcome.record, as_of, dict(self.trace.names))
        self.values: dict[int, object] = {}
        self._evaluate(rule.condition)  # every clause, even those the engine short-circuited
        self.result = self.values[id(rule.condition)]

    def _evaluate(self, node: ir.Node) -> None:
        split = _parts(node)
        if split is None:
            self.interpreter.evaluate(node, self.env, self.values)
            return
        for part in split[1]:
            self._evaluate(part)
        self.values[id(node)] = _kleene(split[0], [self.values[id(p)] for p in split[1]])

    # ---- text of the rulebook ------------------------------------------------------------------
    def source(self, node: ir.Node) -> str:
        span = node.span
        src = self.program.sources.get(span.path) if span else None
        if src is None:
            return ""
        lines = src.text.split("\n")[span.line - 1:span.end_line]
        if len(lines) == 1:
            text = lines[0][span.column - 1:span.end_column - 1]
        else:
            text = "\n".join([lines[0][span.column - 1:], *lines[1:-1], lines[-1][:span.end_column - 1]])
        return " ".join(text.split())

    def label(self, name: str) -> str:
        f = self.rule.kind.field(name)
        return (f.label or name) if f is not None else name

    def describe(self, node: ir.Node) -> str:
        """An operand in words: a field by its label, a let by its name, else its source text."""
        if (name := _field_of(node)) is not None:
            return self.label(name)
        if isinstance(node, ir.LetRef):
            return node.name
        return "评估时点" if isinstance(node, ir.AsOf) else self.source(node)

    # ---- clauses -------------------------------------------------------------------------------
    def clauses(self) -> Clause:
        return self._clause(self.rule.condition, True)

    def _clause(self, node: ir.Node, deciding: bool) -> Clause:
        value = self.values.get(id(node))
        common = dict(source=self.source(node), location=str(node.span) if node.span else None, value=value,
                      verdict=_CLAUSE_VERDICTS[value], deciding=deciding)
        split = _parts(node)
        if split is None:
            return self._leaf(node, common)
        op, parts = split
        decisive = _decisive(op, value, [self.values[id(p)] for p in parts])
        return Clause(connective=op, parts=[self._clause(p, deciding and d) for p, d in zip(parts, decisive)], **common)

    def _leaf(self, node: ir.Node, common: dict) -> Clause:
        reads = self.reads(node)
        value = common["value"]
        empty = _empty_names(node, reads, self.outcome.record) if value is None else []
        margin = counterfactual = None
        threshold = _Threshold.of(self, node) if value is not None else None
        if threshold is not None:
            margin = threshold.margin()
            if common["deciding"] and self.result is not None:
                counterfactual = threshold.counterfactual()
        return Clause(reads=reads, empty=empty, margin=margin, counterfactual=counterfactual, **common)

    def reads(self, node: ir.Node) -> list[ValueRead]:
        seen: dict[tuple[str, str], ValueRead] = {}
        for n in ir.walk(node):
            read = self._read(n)
            if read is not None:
                seen.setdefault((read.origin, read.name), read)
        return list(seen.values())

    def _read(self, n: ir.Node) -> ValueRead | None:
        if isinstance(n, ir.FieldRef) and n.scope == "this":
            value = self.outcome.record.get(n.name)
            return ValueRead(name=n.name, origin="field", label=self.label(n.name), value=value, text=words(value))
        if isinstance(n, ir.LetRef):
            value = self.trace.names.get((n.origin, n.name))
            label = {"let": "中间量", "aggregate": "窗口统计", "fact": "事实"}[n.origin]
            return ValueRead(name=n.name, origin=n.origin, label=label, value=value, text=words(value))
        if isinstance(n, ir.AsOf):
            return ValueRead(name="as_of", origin="as_of", label="评估时点", value=self.as_of, text=words(self.as_of))
        return None

    # ---- lets, facts, windows ------------------------------------------------------------------
    def named_values(self) -> list[NamedValue]:
        out = []
        for fact in self.rule.facts:
            value = self.trace.names.get(("fact", fact.name))
            out.append(NamedValue(name=fact.name, origin="fact", source=f"fact {fact.name} = {self.source(fact.value)}",
                                  value=value, text=words(value), reads=self.reads(fact.value)))
        for name, node in self.rule.lets:
            value = self.trace.names.get(("let", name))
            out.append(NamedValue(name=name, origin="let", source=f"let {name} = {self.source(node)}",
                                  value=value, text=words(value), reads=self.reads(node)))
        return out

    def windows(self) -> list[WindowView]:
        return [self._window(w) for w in self.rule.windows]

    def _window(self, window: Window) -> WindowView:
        aggregates = [self._read(ir.LetRef(name, "aggregate", node.type)) for name, node in window.aggregates]
        rows = [window.kind.record_key(r) for r in self._window_rows(window)]
        return WindowView(description=window_words(self.rule, window), aggregates=aggregates, rows=rows[:20],
                          rows_total=len(rows))

    def _window_rows(self, window: Window) -> list[dict]:
        """The rows the window counted, found again with the interpreter (records.md § Windows)."""
        this = self.outcome.record
        fields = self.rule.group_by if self.rule.is_group_rule else window.by
        if self.outcome.missing_key or any(this.get(f) is None for f in fields):
            return []
        rows = [r for r in self.records.get(window.kind.name, []) if all(r.get(f) == this.get(f) for f in fields)]
        if window.where is not None:
            rows = [r for r in rows if self._row_value(window.where, r) is True]
        if window.range is not None and not self.rule.is_group_rule:
            rows = [r for r in rows if self._in_range(window, r)]
        return rows

    def _row_value(self, node: ir.Node, row: dict):
        env = Env(self.outcome.record, self.as_of, self.env.names, row=row)
        return self.interpreter.evaluate(node, env)

    def _in_range(self, window: Window, row: dict) -> bool:
        rng = window.range
        value = row.get(rng.field)
        low = self.interpreter.evaluate(rng.low, self.env) if rng.low is not None else None
        high = self.interpreter.evaluate(rng.high, self.env) if rng.high is not None else None
        if value is None or (rng.low is not None and low is None) or (rng.high is not None and high is None):
            return False
        value, low, high = _comparable(value, low, high)
        above = low is None or (value >= low if rng.low_closed else value > low)
        below = high is None or (value <= high if rng.high_closed else value < high)
        return above and below

    # ---- re-evaluation for counterfactuals -----------------------------------------------------
    def rerun_with(self, field: str, value: Any) -> bool | None:
        record = {**self.outcome.record, field: value}
        return trace_rule(self.interpreter, self.rule, record, self.as_of, self.facts, self.outcome.aggregates).value

    def flipped(self, leaf: ir.Node) -> bool | None:
        """The condition's value with `leaf` taking the opposite truth value."""
        def value(node: ir.Node):
            if node is leaf:
                return not self.values[id(leaf)]
            split = _parts(node)
            return self.values[id(node)] if split is None else _kleene(split[0], [value(p) for p in split[1]])
        return value(self.rule.condition)


def _decisive(op: str, value: bool | None, parts: list[bool | None]) -> list[bool]:
    """Which parts decide an and/or: the dominant ones when one dominates (False for `and`,
    True for `or`), the undecided ones when the result is undecided, else all of them."""
    dominant = op == "or"
    if value is dominant:
        return [p is dominant for p in parts]
    if value is None:
        return [p is None for p in parts]
    return [True] * len(parts)


def _field_of(node: ir.Node) -> str | None:
    """The record field an operand is (`f`, or `f ?? default`), if it is one."""
    if isinstance(node, ir.Coalesce):
        node = node.left
    return node.name if isinstance(node, ir.FieldRef) and node.scope == "this" else None


def _empty_names(node: ir.Node, reads: list[ValueRead], record: dict) -> list[str]:
    """The names whose emptiness can leave `node` undecided (`empty_by`) and are empty here."""
    values = {r.name: r.value for r in reads}
    return [n for n in sorted(node.empty_by, key=lambda n: (n not in values, n))
            if values.get(n, record.get(n)) is None]


def _comparable(*values):
    """Dates and datetimes compared together as datetimes (a date means 00:00)."""
    if any(isinstance(v, datetime) for v in values):
        return tuple(rt.to_datetime(v) for v in values)
    return values


# ---------------------------------------------------------------------------------------------
# Thresholds: margin and counterfactual of a comparison
# ---------------------------------------------------------------------------------------------

def _family(a: Any, b: Any) -> str | None:
    if isinstance(a, timedelta) and isinstance(b, timedelta):
        return "duration"
    if all(isinstance(v, (int, Decimal)) and not isinstance(v, (bool, Month)) for v in (a, b)):
        return "number"
    if all(isinstance(v, (date, datetime)) for v in (a, b)):
        return "time"
    return None


class _Threshold:
    """A comparison `left op right` with both sides measured (durations, numbers or times)."""

    def __init__(self, analysis: _Analysis, node: ir.Binary, family: str, left: Any, right: Any):
        self.a, self.node, self.family = analysis, node, family
        self.left, self.right = _comparable(left, right) if family == "time" else (left, right)
        self.value = analysis.values[id(node)]

    @classmethod
    def of(cls, analysis: _Analysis, node: ir.Node) -> _Threshold | None:
        if not (isinstance(node, ir.Binary) and node.op in _ORDER_OPS):
            return None
        left, right = analysis.values.get(id(node.left)), analysis.values.get(id(node.right))
        family = _family(left, right)
        return cls(analysis, node, family, left, right) if family else None

    # ---- margin --------------------------------------------------------------------------------
    def margin(self) -> Margin:
        diff = self.left - self.right
        return Margin(family=self.family, left=self.left, right=self.right, difference=diff, text=self._margin_text(diff))

    def _margin_text(self, diff) -> str:
        if self.family == "time":
            return self._time_margin(diff)
        stem = self._stem()
        if stem and self.node.op in ("gt", "ge"):
            state = f"{stem}超时 {words(diff)}" if diff > timedelta(0) else f"{stem}未超时"
            return f"{state}（用时 {words(self.left)}，限值 {words(self.right)}{self._pending()}）"
        subject = f"{self.a.describe(self.node.left)} 为 {words(self.left)}，"
        more, less = ("长于", "短于") if self.family == "duration" else ("高于", "低于")
        zero = diff * 0
        if diff == zero:
            return subject + f"恰好等于 {words(self.right)}"
        if diff > zero:
            return subject + f"{more} {words(self.right)}（差 {words(diff)}）"
        return subject + f"{less} {words(self.right)}（差 {words(-diff)}）"

    def _time_margin(self, diff: timedelta) -> str:
        left, right = self.a.describe(self.node.left), self.a.describe(self.node.right)
        if diff > timedelta(0):
            return f"{left}晚于{right} {words(diff)}"
        return f"{left}早于{right} {words(-diff)}" if diff else f"{left}与{right}相同"

    def _pending(self) -> str:
        """`(f ?? as_of) − B` with f empty: the step has not happened, measured to as_of."""
        minuend = self.node.left.left
        if isinstance(minuend, ir.Coalesce) and isinstance(minuend.right, ir.AsOf) \
                and self.a.outcome.record.get(_field_of(minuend)) is None:
            return f"；{self.a.label(_field_of(minuend))}为空，计至评估时点"
        return ""

    def _stem(self) -> str | None:
        """For `A − B` compared with a duration, A's label without 时间 (到达现场时间 → 到达现场)."""
        left = self.node.left
        if self.family != "duration" or not (isinstance(left, ir.Binary) and left.op == "sub"):
            return None
        name = _field_of(left.left)
        if name is None:
            return None
        label = self.a.label(name)
        for suffix in ("时间", "时刻", "日期"):
            label = label.removesuffix(suffix)
        return label

    # ---- counterfactual ------------------------------------------------------------------------
    def counterfactual(self) -> Counterfactual | None:
        solved = self._solve()
        if solved is None:
            return None
        variable, relation, boundary = solved
        if self.value:  # flip the clause: the relation must fail
            relation = _NEGATE[relation]
        field = _field_of(variable)
        flips, how = self._check(field, relation, boundary)
        rel_words = (_TIME_WORDS if isinstance(boundary, (date, datetime)) else _NUMBER_WORDS)[relation]
        desc = self.a.describe(variable)
        condition = f"{_join(desc, rel_words)} {words(boundary)}"
        if flips:
            text = f"{condition} 则{'不预警' if self.a.result else '预警'}"
        else:
            text = f"{condition} 时本条件{'不成立' if self.value else '成立'}，但其他条件仍使结论不变"
        return Counterfactual(text=text, variable=desc, field=field, relation=relation, boundary=boundary,
                              flips_outcome=flips, checked_by=how)

    def _solve(self) -> tuple[ir.Node, str, Any] | None:
        """(operand, relation, boundary) such that `operand relation boundary` ⇔ the clause holds."""
        node, left = self.node, self.node.left
        if self.family == "duration" and isinstance(left, ir.Binary) and left.op == "sub":
            a, b = _comparable(self.a.values.get(id(left.left)), self.a.values.get(id(left.right)))
            if a is None or b is None:
                return None
            if _variable(left.left) or not _variable(left.right):
                return left.left, node.op, b + self.right  # A − B op R ⇔ A op B + R
            return left.right, _REVERSE[node.op], a - self.right  # ⇔ B rev(op) A − R
        if isinstance(left, ir.Const) and not isinstance(node.right, ir.Const):
            return node.right, _REVERSE[node.op], self.left
        return left, node.op, self.right

    def _check(self, field: str | None, relation: str, boundary: Any) -> tuple[bool, str]:
        """Whether making `operand relation boundary` true changes the rule's outcome."""
        step = _step(boundary)
        if field is not None and not self.a.rule.is_group_rule and step is not None:
            value = boundary - step if relation == "lt" else boundary + step if relation == "gt" else boundary
            try:
                new = self.a.rerun_with(field, value)
            except (TypeError, ValueError):  # a boundary of another type than the field's: use the logic
                pass
            else:
                return new is not None and new != self.a.result, "re-evaluation"
        new = self.a.flipped(self.node)
        return new is not None and new != self.a.result, "logic"


def _variable(node: ir.Node) -> bool:
    """Whether an operand depends on the record (a field or a name), not only on as_of."""
    return any(isinstance(n, (ir.FieldRef, ir.LetRef)) for n in ir.walk(node))


def _join(subject: str, verb: str) -> str:
    """`到达现场时间不晚于` but `first_contact 不晚于`: a space only after Latin text."""
    return f"{subject}{verb}" if subject and ord(subject[-1]) > 0x2E7F else f"{subject} {verb}"


def _step(value: Any) -> Any:
    """The smallest change of a value of this type (for a strict boundary)."""
    if isinstance(value, datetime):
        return timedelta(seconds=1)
    if isinstance(value, date):
        return timedelta(days=1)
    if isinstance(value, Decimal):
        return Decimal(1).scaleb(min(value.as_tuple().exponent, 0))
    if isinstance(value, int) and not isinstance(value, bool):
        return 1
    return None


# ---------------------------------------------------------------------------------------------
# Summary and words
# ---------------------------------------------------------------------------------------------

def _leaves(clause: Clause) -> list[Clause]:
    return [leaf for p in clause.parts for leaf in _leaves(p)] if clause.parts else [clause]


def _summary(condition: Clause, finding: Finding, rule: Rule) -> list[str]:
    deciding = [c for c in _leaves(condition) if c.deciding]
    if finding.outcome == "undetermined":
        labels = "、".join(_named(rule, n) for n in finding.missing) or "（无）"
        out = [f"无法判断：{labels}为空"]
        out += [f"「{c.source}」无法判断，因 {'、'.join(_named(rule, n) for n in c.empty)}为空"
                for c in deciding if c.empty]
        return out
    return [_leaf_sentence(c) for c in deciding]


def _leaf_sentence(c: Clause) -> str:
    text = f"「{c.source}」{c.verdict}"
    if c.margin is not None:
        text += f"：{c.margin.text}"
    if c.counterfactual is not None:
        text += f"；{c.counterfactual.text}"
    return text


def _named(rule: Rule, name: str) -> str:
    f = rule.kind.field(name)
    return f"{f.label}（{name}）" if f is not None and f.label else name


def words(value: Any) -> str:
    """A value as an officer reads it: 空, 是/否, 2026-03-02 10:45, 1 小时 13 分钟, 12.50 …"""
    if value is None:
        return "空"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M" + (":%S" if value.second else ""))
    if isinstance(value, timedelta):
        return duration_words(value)
    if isinstance(value, (tuple, list)):
        return "、".join(words(v) for v in value)
    return str(value)


def duration_words(d: timedelta) -> str:
    seconds = int(d.total_seconds())
    sign, seconds = ("−", -seconds) if seconds < 0 else ("", seconds)
    parts = []
    for unit, size in (("天", 86400), ("小时", 3600), ("分钟", 60), ("秒", 1)):
        n, seconds = divmod(seconds, size)
        if n:
            parts.append(f"{n} {unit}")
    return sign + (" ".join(parts) if parts else "0 分钟")


# ---------------------------------------------------------------------------------------------
# Text
# ---------------------------------------------------------------------------------------------

_MARKS = {True: "✓", False: "✗", None: "?"}


def render_text(e: Explanation, unmask: bool = False) -> str:
    """The explanation for a terminal: rule, clauses, summary, chain, root causes."""
    out: list[str] = []
    r = e.rule
    out.append(f"{r.id} {r.title}  [{r.level} · {r.rulebook} {r.version}]")
    scope = f"分组 {'、'.join(r.group_by)} = {e.case}" if r.group_by else f"记录 {r.kind} {e.case}"
    org = f"（org_no {e.finding.org_no}）" if e.finding.org_no and "org_no" not in r.group_by else ""
    out.append(f"{scope}{org} · 评估时点 {words(e.as_of)}")
    out.append(f"结论：{e.verdict} ({e.outcome})")
    out += [f"注意：{n}" for n in e.notes]
    out += ["", f"条件  {e.condition.location or ''}".rstrip(), f"  when {e.condition.source}"]
    out += _names_text(e)
    out += ["", "逐条"]
    out += _clause_text(e.condition, 1, top=True)
    out += ["", f"为何{e.verdict}" + ("" if e.outcome == "undetermined" else "（决定性条件）")]
    out += [f"  · {s}" for s in e.summary]
    out += [""] + _chain_text(e, unmask)
    out += [""] + _causes_text(e, unmask)
    return "\n".join(out) + "\n"


def _names_text(e: Explanation) -> list[str]:
    out = []
    for n in e.names:
        reads = "；".join(f"{x.name} = {x.text}" for x in n.reads)
        out.append(f"  {n.source}")
        out.append(f"      = {n.text}" + (f"  （{reads}）" if reads else ""))
    for w in e.windows:
        out.append(f"  窗口：{w.description}")
        out.append("      " + "；".join(f"{a.name} = {a.text}" for a in w.aggregates)
                   + (f"  （计入 {w.rows_total} 条：{'、'.join(w.rows)}{' …' if w.rows_total > len(w.rows) else ''}）"
                      if w.rows_total else "  （计入 0 条）"))
    return (["中间量与窗口"] + out) if out else []


def _clause_text(c: Clause, depth: int, top: bool = False) -> list[str]:
    pad = "  " * depth
    star = "  ★决定结论" if c.deciding else ""
    if c.parts:
        head = "全部成立才成立 (and)" if c.connective == "and" else "任一成立即成立 (or)"
        lines = [] if top else [f"{pad}{_MARKS[c.value]} {c.verdict}  ({c.source}){star}"]
        lines.append(f"{pad}{'' if top else '  '}{head}：")
        return lines + [x for p in c.parts for x in _clause_text(p, depth + (1 if top else 2))]
    lines = [f"{pad}{_MARKS[c.value]} {c.verdict}  {c.source}{star}"]
    if c.reads:
        lines.append(f"{pad}    " + "；".join(f"{x.name}（{x.label}）= {x.text}" for x in c.reads))
    if c.empty:
        lines.append(f"{pad}    为空：{'、'.join(c.empty)}")
    if c.margin is not None:
        lines.append(f"{pad}    差额：{c.margin.text}")
    if c.counterfactual is not None:
        how = "重新评估验证" if c.counterfactual.checked_by == "re-evaluation" else "按条件逻辑推得"
        lines.append(f"{pad}    反事实：{c.counterfactual.text}（{how}）")
    return lines


def _person(p: PersonRef, unmask: bool) -> str:
    p = p if unmask else p.masked()
    extra = f" {p.phone}" if unmask and p.phone else ""
    return f"{p.id} {p.name or '(未登记)'}{extra}"


def _people(people: list[PersonRef], unmask: bool) -> str:
    return "、".join(_person(p, unmask) for p in people) or "无人"


def _chain_text(e: Explanation, unmask: bool) -> list[str]:
    c = e.responsibility
    if c is None:
        return ["责任链：未提供组织目录 (--org)，只列规则所写：",
                f"  责任岗位：{e.rule.owner}", f"  督导部门：{e.rule.supervisor or '—'}", f"  整改期限：{e.rule.deadline or '—'}"]
    out = [f"责任链（{c.directory}）" + ("：规则未预警，以下仅列归属，不派发" if e.outcome == "passed" else "")]
    if c.units:
        out.append("  记录单位：" + " → ".join(f"{u.name} ({u.code})" for u in c.units))
    if c.owner is not None:
        out += _owner_text(c.owner, unmask)
    for s in c.supervisors:
        role = "主" if s.role == "primary" else "协同"
        out.append(f"  督导部门：[{role}] {s.unit.name} {s.department}，负责人 {_person(s.head, unmask)}")
    out.append(f"  整改期限：{c.deadline.text or '—'} — {c.deadline.note}")
    if c.escalation and e.outcome != "passed":
        out.append("  逐级督办：")
        for s in c.escalation:
            cc = f"，抄送 {_people(s.copy_to, unmask)}" if s.copy_to else ""
            note = f"（{s.note}）" if s.note else ""
            out.append(f"    {s.step}. {s.title}：{_people(s.recipients, unmask)}{cc}{note}  "
                       f"{words(s.starts_at)} → {words(s.due)}")
    out += [f"  路由缺口 [{g.code}]：{g.reason}；送达 {_people(g.deliver_to, unmask)}"
            + (f"，抄送 {_people(g.copy_to, unmask)}" if g.copy_to else "") for g in c.gaps]
    return out


def _owner_text(o, unmask: bool) -> list[str]:
    where = "记录单位本级" if o.steps_up == 0 else f"记录单位上 {o.steps_up} 级"
    post = " / ".join(p for p in (o.department, o.team, o.post) if p)
    return [f"  责任岗位：{o.unit.name} ({o.unit.code}) {post}（{where}）",
            f"  在岗人员：{_people(o.holders, unmask) if o.holders else '空缺'}",
            f"  部门负责人：{_person(o.department_head, unmask)}",
            f"  分管领导：{_person(o.leader_in_charge, unmask)}"]


def _causes_text(e: Explanation, unmask: bool) -> list[str]:
    if not e.rule.depends_on:
        return ["根因：规则没有 depends on，不追溯上游"]
    if e.outcome == "passed":
        return ["根因：规则未预警，不追溯上游"]
    if not e.root_causes:
        return [f"根因：上游规则（depends on {', '.join(e.rule.depends_on)}）在本记录及相关记录上均未预警，根因即本条"]
    total = e.responsibility.root_causes_total if e.responsibility else len(e.root_causes)
    out = [f"根因（共 {total} 条）："]
    for rc in e.root_causes:
        f = rc.finding
        relation = "同一记录" if rc.relation == "same_record" else "相关记录：" + "、".join(
            f"{k} = {words(v)}" for k, v in rc.keys.items())
        out.append(f"  - {f.rule} {f.title} · {f.record_kind} {f.record_key} · {OUTCOME_WORDS[f.outcome]}（{relation}）")
        if rc.via:
            out.append("    经由：" + " → ".join(v.id for v in rc.via))
        if rc.owner is not None:
            o = rc.owner
            post = " / ".join(p for p in (o.department, o.team, o.post) if p)
            out.append(f"    责任：{o.unit.name} {post}，{_people(o.holders, unmask) if o.holders else '岗位空缺'}")
        else:
            out.append(f"    责任：{rc.owner_text}")
    return out
