"""Lints: what an expert reviewer would point out in rulebooks that already check clean.

The checker rejects what is wrong; lints flag what is legal but suspicious: a rule without
the regulation it comes from, a threshold that repeats a fact, a condition that can never
(or always) hold, a clause that changes nothing, two rules saying the same thing, a fact
nobody uses, a `depends on` between unrelated records, a window that can select no row, a
`match` arm never used. Each lint is one function registered in `LINTS` under a stable code
(L01xx, docs/lint.md); it reads the checked `Program` and yields warnings with a message for
the officer and a hint.

Lints never guess. A condition is judged by enumerating what can be enumerated (enum members,
true/false, empty where a value may be empty); every other part (`x > 5`, an aggregate) is an
unknown that may take any value, the same unknown wherever it is written the same way. So a
verdict ("never true") holds whatever the records contain; when the enumeration would be too
large the lint stays silent. `# lint: allow L0103` on the line a warning points at, or on the
rule's first line, silences it.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Callable, Iterable, Iterator

from .. import ast, ir
from .. import types as T
from ..diagnostics import Diagnostic, Diagnostics, Severity
from ..model import Fact, Program, Rule
from ..source import Source, Span
from ..syntax.parser import parse
from ..types import Kind
from ..values import CalendarDuration

_MAX_CASES = 20_000  # assignments enumerated per question; beyond that a lint stays silent
_COMPARE = frozenset({"eq", "ne", "lt", "le", "gt", "ge"})
_TOP_LEVEL = re.compile(r"(rulebook|module|rule|record|enum|fact|link|defaults|import)\b")
_ALLOW = re.compile(r"#\s*lint:\s*allow\b([^#\n]*)")


@dataclass(frozen=True)
class LintWarning(Diagnostic):
    """A lint finding: always a warning (by code alone `Diagnostic` would call an L-code an error)."""

    @property
    def severity(self) -> Severity:
        return Severity.WARNING


@dataclass(frozen=True)
class LintSpec:
    code: str
    title: str
    check: Callable[[Context], Iterable[Diagnostic]]


LINTS: dict[str, LintSpec] = {}


def lint(code: str, title: str):
    """Register a lint: `@lint("L0101", "规则没有依据")` above `def f(ctx) -> Iterator[Diagnostic]`."""

    def register(check: Callable[[Context], Iterable[Diagnostic]]):
        LINTS[code] = LintSpec(code, title, check)
        return check

    return register


def run_lints(program: Program) -> list[Diagnostic]:
    """Every lint over a checked program (one without errors), silenced ones left out, in file order."""
    ctx = Context(program)
    found = Diagnostics()
    found.extend(d for spec in LINTS.values() for d in spec.check(ctx) if not ctx.allowed(d))
    return list(found)


# ---- what every lint may ask ------------------------------------------------------------------
class Context:
    def __init__(self, program: Program):
        self.program = program
        self.rules = program.rules
        self._verdicts: dict[str, str | None] = {}
        self._extents: dict[str, range] = {}

    @staticmethod
    def warn(code: str, message: str, span: Span | None, hint: str = "", notes: Iterable[str] = ()) -> Diagnostic:
        return LintWarning(code, message, span, hint, tuple(notes))

    def source(self, span: Span | None) -> Source | None:
        return self.program.sources.get(span.path) if span else None

    def text(self, span: Span | None, limit: int = 60) -> str | None:
        """The text a one-line span covers (None when unknown, multi-line or long)."""
        source = self.source(span)
        if source is None or span.end_line != span.line:
            return None
        text = source.line(span.line)[span.column - 1 : span.end_column - 1].strip()
        return text if text and len(text) <= limit else None

    def quoted(self, node: ir.Node | None, fallback: str = "这部分条件") -> str:
        return self.quote(node.span if node is not None else None, fallback)

    def quote(self, span: Span | None, fallback: str) -> str:
        text = self.text(span)
        return f"`{text}`" if text else fallback

    def header(self, rule: Rule) -> Span | None:
        """The rule's id on its first line: where a warning about the whole rule points."""
        s, source = rule.span, self.source(rule.span)
        column = source.line(s.line).find(rule.id) + 1 if source else 0
        return Span(s.path, s.line, column, s.line, column + len(rule.id)) if column > 0 else s

    def scope(self, rule: Rule) -> Scope:
        return Scope(dict(rule.lets), {f.name: f.value for f in rule.facts})

    def verdict(self, rule: Rule) -> str | None:
        """'never' (the condition is never true), 'always' (never false), or None."""
        if rule.id not in self._verdicts:
            values = outcomes(rule.condition, self.scope(rule))
            verdict = None
            if values is not None and True not in values:
                verdict = "never"
            elif values is not None and False not in values:
                verdict = "always"
            self._verdicts[rule.id] = verdict
        return self._verdicts[rule.id]

    def lines(self, rule: Rule) -> range:
        """The lines of a rule's text: from its first line up to the next top-level declaration
        (the model's span of a rule covers only its id)."""
        if rule.id not in self._extents:
            source, first = self.source(rule.span), rule.span.line
            lines = source.text.split("\n") if source else []
            end = next((i for i in range(first, len(lines)) if _TOP_LEVEL.match(lines[i])), len(lines))
            self._extents[rule.id] = range(first, end + 1)
        return self._extents[rule.id]

    def allowed(self, diag: Diagnostic) -> bool:
        """Whether a `# lint: allow CODE` comment on its line, or on its rule's first line, silences it."""
        span, source = diag.span, self.source(diag.span)
        if source is None:
            return False
        lines = {span.line} | {r.span.line for r in self.rules if r.span and r.span.path == span.path
                               and span.line in self.lines(r)}
        return any(diag.code in _allowed_codes(source.line(n)) for n in lines)


def _allowed_codes(line: str) -> set[str]:
    m = _ALLOW.search(line)
    return set(re.findall(r"L\d{4}", m.group(1))) if m else set()


# ---- finite-domain evaluation -----------------------------------------------------------------
@dataclass(frozen=True)
class Scope:
    """What names mean inside a rule: its lets and the values of the facts it uses."""

    lets: dict[str, ir.Node]
    facts: dict[str, ir.Node]


class _Undecidable(Exception):
    """A part that is neither enumerable nor a true/false unknown."""


def _finite(t: T.Type) -> bool:
    return t.kind is Kind.BOOL or (t.kind is Kind.ENUM and t.enum is not None)


def _domain(atom: ir.Node) -> tuple:
    values = (True, False) if atom.type.kind is Kind.BOOL else atom.type.enum.members
    return (*values, None) if atom.empty_by else tuple(values)


def _and(a, b):
    if a is False or b is False:
        return False
    return None if a is None or b is None else True


def _or(a, b):
    if a is True or b is True:
        return True
    return None if a is None or b is None else False


def _not(a):
    return None if a is None else not a


_FOLD = {"and": (_and, True), "or": (_or, False)}


def fold(op: str, values: Iterable) -> object:
    combine, unit = _FOLD[op]
    out = unit
    for v in values:
        out = combine(out, v)
    return out


class _Compiler:
    """Turns a boolean/enum IR node into a function of the values of its unknowns (`atoms`).

    A node is taken apart when its meaning follows from its parts (and, or, not, == and `in`
    between enumerable values, `??`, `match`, `is empty` on a value that may be empty); any
    other true/false or enum node is an atom, enumerated over its type's values."""

    def __init__(self, scope: Scope):
        self.scope = scope
        self.atoms: list[ir.Node] = []

    def compile(self, node: ir.Node) -> Callable[[tuple], object]:
        method = getattr(self, f"_{type(node).__name__}", None)
        fn = method(node) if method is not None else None
        return fn if fn is not None else self._atom(node)

    def _atom(self, node: ir.Node) -> Callable[[tuple], object]:
        if not _finite(node.type):
            raise _Undecidable
        if node not in self.atoms:
            self.atoms.append(node)
        i = self.atoms.index(node)
        return lambda env: env[i]

    def _Const(self, n: ir.Const):
        if n.value is None or _finite(n.type):
            return lambda env: n.value
        return None

    def _LetRef(self, n: ir.LetRef):
        target = {"let": self.scope.lets, "fact": self.scope.facts}.get(n.origin, {}).get(n.name)
        return self.compile(target) if target is not None else None

    def _Unary(self, n: ir.Unary):
        if n.op != "not":
            return None
        a = self.compile(n.operand)
        return lambda env: _not(a(env))

    def _Binary(self, n: ir.Binary):
        if n.op in _FOLD:
            combine, a, b = _FOLD[n.op][0], self.compile(n.left), self.compile(n.right)
            return lambda env: combine(a(env), b(env))
        if n.op in ("eq", "ne") and _finite(n.left.type) and _finite(n.right.type):
            a, b, want = self.compile(n.left), self.compile(n.right), n.op == "eq"
            return lambda env: None if (x := a(env)) is None or (y := b(env)) is None else (x == y) == want
        return None

    def _InList(self, n: ir.InList):
        if not _finite(n.operand.type) or not all(isinstance(i, ir.Const) and i.value is not None for i in n.items):
            return None
        a, values, negated = self.compile(n.operand), frozenset(i.value for i in n.items), n.negated
        return lambda env: None if (x := a(env)) is None else (x in values) != negated

    def _IsEmpty(self, n: ir.IsEmpty):
        if not (_finite(n.operand.type) and n.operand.empty_by):
            return None  # an atom: true or false (never empty)
        a, negated = self.compile(n.operand), n.negated
        return lambda env: (a(env) is None) != negated

    def _Coalesce(self, n: ir.Coalesce):
        if not _finite(n.type):
            return None
        a, b = self.compile(n.left), self.compile(n.right)
        return lambda env: b(env) if (x := a(env)) is None else x

    def _Case(self, n: ir.Case):
        patterns = [p for pats, _ in n.arms for p in pats]
        if not (_finite(n.type) and _finite(n.subject.type)) or not all(isinstance(p, ir.Const) for p in patterns):
            return None
        subject = self.compile(n.subject)
        arms = [(frozenset(p.value for p in pats), self.compile(v)) for pats, v in n.arms]
        default = self.compile(n.default) if n.default is not None else (lambda env: None)

        def run(env):
            x = subject(env)
            if x is None:
                return None
            return next((f for values, f in arms if x in values), default)(env)

        return run


def table(nodes: list[ir.Node], scope: Scope) -> list[tuple] | None:
    """The values of `nodes` under every assignment of their unknowns (None: cannot tell)."""
    compiler = _Compiler(scope)
    try:
        fns = [compiler.compile(n) for n in nodes]
    except _Undecidable:
        return None
    domains = [_domain(a) for a in compiler.atoms]
    if math.prod(len(d) for d in domains) > _MAX_CASES:
        return None
    return [tuple(f(env) for f in fns) for env in itertools.product(*domains)]


def outcomes(node: ir.Node, scope: Scope) -> set | None:
    rows = table([node], scope)
    return None if rows is None else {row[0] for row in rows}


def chain(node: ir.Node, op: str) -> list[ir.Node]:
    """`a and b and c` → [a, b, c] (for op "and"); anything else → [node]."""
    if isinstance(node, ir.Binary) and node.op == op:
        return chain(node.left, op) + chain(node.right, op)
    return [node]


def _minimal(members: list[ir.Node], op: str, scope: Scope, bad: Callable[[set], bool]) -> list[ir.Node]:
    """A smallest-by-deletion subset of an and/or chain whose combination is still `bad`."""
    rows = table(members, scope)
    if rows is None:
        return members
    keep = list(range(len(members)))
    for i in range(len(members)):
        trial = [k for k in keep if k != i]
        if trial and bad({fold(op, (row[k] for k in trial)) for row in rows}):
            keep = trial
    return [members[k] for k in keep]


def _span_of(nodes: list[ir.Node]) -> Span | None:
    spans = [n.span for n in nodes if n.span is not None]
    if not spans:
        return None
    first = min(spans, key=lambda s: (s.line, s.column))
    last = max(spans, key=lambda s: (s.end_line, s.end_column))
    return Span(first.path, first.line, first.column, last.end_line, last.end_column)


def _never_phrase(ctx: Context, parts: list[ir.Node]) -> str:
    if len(parts) == 1:
        return f"{ctx.quoted(parts[0], '条件')} 永远不成立"
    texts = [ctx.text(p.span) for p in parts]
    return (" 与 ".join(f"`{t}`" for t in texts) if all(texts) else "条件的这几部分") + " 不可能同时成立"


# ---- L0101: no source -------------------------------------------------------------------------
@lint("L0101", "规则没有写依据")
def missing_source(ctx: Context) -> Iterator[Diagnostic]:
    for rule in ctx.rules:
        if not rule.source.strip():
            yield ctx.warn("L0101", f"规则 {rule.id} 没有写依据（source）", ctx.header(rule),
                           '写 source "制度名称 条款"，说明规则出自哪项规定，审核和整改时才有据可查')


# ---- L0102: magic numbers that are facts --------------------------------------------------------
@lint("L0102", "阈值直接写了数值，而这个值已是事实")
def magic_numbers(ctx: Context) -> Iterator[Diagnostic]:
    constants = {name: f for name, f in ctx.program.facts.items() if _threshold_value(f.value)}
    if not constants:
        return
    for rule in ctx.rules:
        kind = None if rule.is_group_rule else rule.kind.name
        lets = dict(rule.lets)
        roots = [rule.condition, *lets.values()]
        window_roots = [n for w in rule.windows for n in (w.where, *(v for _, v in w.aggregates)) if n is not None]
        for roots_, visible in ((roots, kind), (window_roots, None)):
            facts = [f for f in constants.values() if f.kind is None or f.kind == visible]
            yield from _magic_in(ctx, roots_, lets, facts)
    for fact in ctx.program.facts.values():
        others = [f for f in constants.values() if f is not fact and (f.kind is None or f.kind == fact.kind)]
        yield from _magic_in(ctx, [fact.value], {}, others)


def _threshold_value(node: ir.Node) -> bool:
    """A fact's value that reads as a threshold: a constant, not empty, not true/false, not zero."""
    if not isinstance(node, ir.Const) or node.value is None or node.type.kind in (Kind.BOOL, Kind.ERROR, Kind.EMPTY):
        return False
    return node.value not in (0, timedelta(0)) if isinstance(node.value, (int, Decimal, timedelta)) else True


def _magic_in(ctx: Context, roots: list[ir.Node], lets: dict, facts: list[Fact]) -> Iterator[Diagnostic]:
    if not facts:
        return
    for root in roots:
        for literal, other in _thresholds(root, lets):
            same = sorted(f.name for f in facts if _fits(literal, other, f))
            if same:
                shown = ctx.text(literal.span) or str(literal.value)
                names = "、".join(f"`{n}`" for n in same)
                yield ctx.warn("L0102", f"`{shown}` 与事实 {names} 的值相同，却直接写成了数值", literal.span,
                               f"改写成 {names if len(same) == 1 else '其中含义相符的事实'}：阈值只在事实中维护一处，调整时不会漏改")


def _fits(literal: ir.Const, other: T.Type, fact: Fact) -> bool:
    value = fact.value
    return (T.comparable(fact.type, other) and T.comparable(fact.type, literal.type)
            and type(literal.value) is not bool and literal.value == value.value
            and isinstance(literal.value, (int, Decimal)) == isinstance(value.value, (int, Decimal)))


def _thresholds(root: ir.Node, lets: dict) -> Iterator[tuple[ir.Const, T.Type]]:
    """(literal, the type it is compared with) for literals on one side of a comparison or in `in (…)`."""
    for node in ir.walk(root):
        if isinstance(node, ir.Binary) and node.op in _COMPARE:
            for side, other in ((node.left, node.right), (node.right, node.left)):
                yield from ((lit, other.type) for lit in _literals(side, lets))
        elif isinstance(node, ir.InList):
            yield from ((item, node.operand.type) for item in node.items if isinstance(item, ir.Const))


def _literals(node: ir.Node, lets: dict) -> Iterator[ir.Const]:
    """The literal values a comparison operand stands for: itself, a match's results, a let's value."""
    if isinstance(node, ir.Const) and node.value is not None:
        yield node
    elif isinstance(node, ir.Case):
        for result in (*(v for _, v in node.arms), *([node.default] if node.default is not None else [])):
            yield from _literals(result, lets)
    elif isinstance(node, ir.LetRef) and node.origin == "let" and node.name in lets:
        yield from _literals(lets[node.name], lets)


# ---- L0103 / L0104: a condition that can never be true, or never false ---------------------------
@lint("L0103", "规则永远不会预警")
def never_fires(ctx: Context) -> Iterator[Diagnostic]:
    for rule in ctx.rules:
        if ctx.verdict(rule) != "never":
            continue
        parts = _minimal(chain(rule.condition, "and"), "and", ctx.scope(rule), lambda v: True not in v)
        yield ctx.warn("L0103", f"规则 {rule.id} 永远不会预警：{_never_phrase(ctx, parts)}",
                       _span_of(parts) or rule.condition.span,
                       "检查枚举取值是否写错（例如把 or 写成了 and，或 in 与 not in 列了同一个值）",
                       ["只考虑枚举字段、是/否字段可能的取值和空值，结论对任何记录都成立"])


@lint("L0104", "规则对每条记录都预警")
def always_fires(ctx: Context) -> Iterator[Diagnostic]:
    for rule in ctx.rules:
        if ctx.verdict(rule) != "always":
            continue
        scope = ctx.scope(rule)
        parts = _minimal(chain(rule.condition, "or"), "or", scope, lambda v: False not in v)
        undetermined = None in (outcomes(rule.condition, scope) or ())
        what = " 或 ".join(ctx.quoted(p) for p in parts) if len(parts) > 1 else ctx.quoted(parts[0], "条件")
        yield ctx.warn("L0104", f"规则 {rule.id} 的条件永远不会为假：{what} 总是成立，每条记录都会预警",
                       _span_of(parts) or rule.condition.span,
                       "检查是否列全了枚举的所有取值、把 and 写成了 or，或 != 与 or 连用",
                       ["相关字段为空时结果为待定"] if undetermined else [])


# ---- L0105: a clause that changes nothing -------------------------------------------------------
@lint("L0105", "条件中有不起作用的部分")
def redundant_clauses(ctx: Context) -> Iterator[Diagnostic]:
    for rule in ctx.rules:
        scope = ctx.scope(rule)
        roots = [rule.condition] if ctx.verdict(rule) is None else []
        roots += [w.where for w in rule.windows if w.where is not None]
        for root in roots:
            for part, op in _redundant(root, scope):
                yield ctx.warn("L0105", f"规则 {rule.id} 的条件 {ctx.quoted(part)} 不起作用：去掉它，任何记录的结果都不变",
                               part.span, "检查取值是否写错（本想写另一个枚举值？），或删除这部分",
                               [f"它被同一个 {op} 连接的其他条件蕴含或覆盖"])


def _redundant(node: ir.Node, scope: Scope) -> Iterator[tuple[ir.Node, str]]:
    """Members of and/or chains whose removal changes no outcome (each removal kept, latest first)."""
    if isinstance(node, ir.Unary) and node.op == "not":
        yield from _redundant(node.operand, scope)
        return
    if not (isinstance(node, ir.Binary) and node.op in _FOLD):
        return
    op, members = node.op, chain(node, node.op)
    rows = table(members, scope)
    keep = list(range(len(members)))
    for i in reversed(range(len(members)) if rows is not None else ()):
        trial = [k for k in keep if k != i]
        if trial and all(fold(op, (row[k] for k in keep)) == fold(op, (row[k] for k in trial)) for row in rows):
            keep = trial
            yield members[i], op
    for k in keep:
        yield from _redundant(members[k], scope)


# ---- L0106: two rules with the same condition -------------------------------------------------------
@lint("L0106", "两条规则的条件完全相同")
def same_condition(ctx: Context) -> Iterator[Diagnostic]:
    first: dict[object, Rule] = {}
    for rule in ctx.rules:
        key = (rule.kind.name, rule.group_by, rule.lets, rule.windows, _canonical(rule.condition))
        earlier = first.setdefault(key, rule)
        if earlier is not rule:
            yield ctx.warn("L0106", f"规则 {rule.id} 与规则 {earlier.id} 检查同一类记录，条件完全相同", rule.condition.span,
                           "合并为一条规则，或修改其中一条的条件；确需两个部门分别处理时，用 # lint: allow L0106 说明",
                           [f"规则 {earlier.id} 在 {earlier.span}"])


def _canonical(node: ir.Node) -> object:
    """The condition with and/or chains as sets: `a and b` is the same condition as `b and a`."""
    if isinstance(node, ir.Binary) and node.op in _FOLD:
        return node.op, frozenset(_canonical(m) for m in chain(node, node.op))
    return node


# ---- L0107: facts nobody uses -----------------------------------------------------------------
@lint("L0107", "事实没有被任何规则使用")
def unused_facts(ctx: Context) -> Iterator[Diagnostic]:
    if not ctx.rules:
        return  # a module of shared declarations linted alone: its facts are for rulebooks not loaded
    used = {f.name for rule in ctx.rules for f in rule.facts}
    for name, fact in ctx.program.facts.items():
        if name not in used:
            yield ctx.warn("L0107", f"事实 `{name}` 没有被本次检查的任何规则使用", fact.span,
                           "删除它，或检查本该用它的规则是否把值直接写成了数值")


# ---- L0108: a `depends on` that never matters --------------------------------------------------------
@lint("L0108", "depends on 的上游规则与本规则无关")
def idle_dependencies(ctx: Context) -> Iterator[Diagnostic]:
    identifiers = {f.name for kind in ctx.program.kinds.values() for f in kind.fields if f.key}
    for rule in ctx.rules:
        for up_id in rule.depends_on:
            upstream = ctx.program.rule(up_id)
            if upstream is None:
                continue
            reason = _idle_reason(ctx, rule, upstream, identifiers)
            if reason:
                message, hint = reason
                yield ctx.warn("L0108", f"规则 {rule.id} 依赖的 {up_id} {message}", _depends_span(ctx, rule, up_id), hint)


def _idle_reason(ctx: Context, rule: Rule, upstream: Rule, identifiers: set[str]) -> tuple[str, str] | None:
    if ctx.verdict(upstream) == "never":
        return "永远不会预警（见 L0103），这条依赖没有意义", "先修正上游规则的条件，或删除这条依赖"
    if not _joined(rule, upstream, identifiers):
        return (f"检查 {upstream.kind.name} 记录，与本规则的 {rule.kind.name} 记录没有共同的关键字段：两者的预警对应不到同一对象",
                "删除这条依赖；或确认两类记录确有共同的编号字段（同名、同类型，在某类记录中标为 key，或在规则中用作 by）")
    return None


def _joined(a: Rule, b: Rule, identifiers: set[str]) -> bool:
    """Same record kind, or a common field (same name, comparable type) that identifies something:
    a `key` field of any record kind loaded, or a `group by` / window `by` field of either rule."""
    if a.kind.name == b.kind.name:
        return True
    keys = identifiers | {f for r in (a, b) for f in (*r.group_by, *(k for w in r.windows for k in w.by))}
    for name in keys:
        fa, fb = a.kind.field(name), b.kind.field(name)
        if fa is not None and fb is not None and T.comparable(fa.type, fb.type):
            return True
    return False


def _depends_span(ctx: Context, rule: Rule, up_id: str) -> Span | None:
    """Where `depends on` names `up_id`. The model keeps no span for it, so the rule's text (up to
    the next top-level declaration) is parsed again, padded to keep the file's lines."""
    source, extent = ctx.source(rule.span), ctx.lines(rule)
    if source is None:
        return ctx.header(rule)
    text = "\n".join(source.line(n) for n in extent)
    module = parse(Source("\n" * (extent.start - 1) + text, source.path), Diagnostics())
    decl = module.decls[0] if module and module.decls else None
    refs = [r for d in decl.of_type(ast.DependsOn) for r in d.rules] if isinstance(decl, ast.RuleDecl) else []
    return next((r.span for r in refs if r.id == up_id), ctx.header(rule))


# ---- L0109: a window range that is always empty --------------------------------------------------
@lint("L0109", "window 的范围永远为空")
def empty_ranges(ctx: Context) -> Iterator[Diagnostic]:
    for rule in ctx.rules:
        for w in rule.windows:
            r = w.range
            if r is None or r.low is None or r.high is None or r.low is r.high:
                continue
            order = _order(r.low, r.high)
            if order is None or order < 0 or (order == 0 and r.low_closed and r.high_closed):
                continue
            low, high = ctx.quoted(r.low, "下界"), ctx.quoted(r.high, "上界")
            why = f"下界 {low} 总是晚于上界 {high}" if order > 0 else f"两端 {low} 与 {high} 总是相同，而范围不含端点"
            yield ctx.warn("L0109", f"规则 {rule.id} 的 window 范围永远为空：{why}", _span_of([r.low, r.high]) or w.span,
                           "范围写作 [较早, 较晚]，检查两端是否写反、加减号是否写错；否则窗口选不到任何记录（count 为 0，其他结果为空）")


def _order(low: ir.Node, high: ir.Node) -> int | None:
    """For `base + a` and `base + b` with the same base and constant offsets: 1 when the low end
    is always later, 0 when always equal, -1 when always earlier; None when that is not fixed."""
    lo, hi = _offset(low), _offset(high)
    if lo is None or hi is None or lo[0] != hi[0]:
        return None
    (unit_a, a), (unit_b, b) = lo[1], hi[1]
    if unit_a and unit_b and unit_a != unit_b:
        return None  # calendar months against exact time: no fixed order
    unit = unit_a or unit_b
    a, b = (a if unit_a else _ZERO.get(unit, 0)), (b if unit_b else _ZERO.get(unit, 0))
    return (a > b) - (a < b)


_ZERO = {"exact": timedelta(0), "months": 0}


def _offset(node: ir.Node) -> tuple[ir.Node, tuple[str, object]] | None:
    """(base, (unit, amount)) for `base ± d1 ± d2 …` with constant durations; unit '' means none."""
    if not (isinstance(node, ir.Binary) and node.op in ("add", "sub") and isinstance(node.right, ir.Const)):
        return node, ("", 0)
    step, inner = node.right.value, _offset(node.left)
    if inner is None or not isinstance(step, (timedelta, CalendarDuration)):
        return None
    base, (unit, amount) = inner
    if isinstance(step, timedelta) and base.type.kind is Kind.DATE and step % timedelta(days=1):
        return None  # a date plus hours: how the part below a day rounds is not ours to assume
    new_unit = "exact" if isinstance(step, timedelta) else "months"
    if unit and unit != new_unit:
        return None
    value = step if new_unit == "exact" else step.months
    return base, (new_unit, (amount if unit else _ZERO[new_unit]) + (value if node.op == "add" else -value))


# ---- L0110: a window `where` that is never true ---------------------------------------------------
@lint("L0110", "window 的 where 永远不成立")
def empty_where(ctx: Context) -> Iterator[Diagnostic]:
    for rule in ctx.rules:
        for w in rule.windows:
            values = outcomes(w.where, ctx.scope(rule)) if w.where is not None else None
            if values is not None and True not in values:
                yield ctx.warn("L0110", f"规则 {rule.id} 的 window 条件 {ctx.quoted(w.where, 'where')} 永远不成立，窗口选不到任何记录",
                               w.where.span, "检查枚举取值是否写错（例如把 or 写成了 and）")


# ---- L0111: a match arm that is never used --------------------------------------------------------
@lint("L0111", "match 分支永远用不到")
def dead_arms(ctx: Context) -> Iterator[Diagnostic]:
    for rule in ctx.rules:
        scope, seen = ctx.scope(rule), set()
        conjuncts = chain(rule.condition, "and") if ctx.verdict(rule) is None else []
        for conjunct in conjuncts:
            for case in _cases(conjunct, scope):
                others = [c for c in conjuncts if c is not conjunct and not any(x is case for x in _cases(c, scope))]
                seen.add(id(case))
                yield from _dead_arms_of(ctx, rule, case, others, scope)
        for root in [*(v for _, v in rule.lets), *(n for w in rule.windows for _, n in w.aggregates)]:
            for case in (n for n in ir.walk(root) if isinstance(n, ir.Case) and id(n) not in seen):
                seen.add(id(case))
                yield from _dead_arms_of(ctx, rule, case, [], scope)


def _cases(node: ir.Node, scope: Scope) -> Iterator[ir.Case]:
    """Every `match` in a condition, also inside the lets it reads."""
    for n in ir.walk(node):
        if isinstance(n, ir.Case):
            yield n
        elif isinstance(n, ir.LetRef) and n.origin == "let" and n.name in scope.lets:
            yield from _cases(scope.lets[n.name], scope)


def _dead_arms_of(ctx: Context, rule: Rule, case: ir.Case, others: list[ir.Node], scope: Scope) -> Iterator[Diagnostic]:
    """An arm is dead when, whenever the subject takes one of its values, another clause of the
    `and` is false: its result never decides anything. `else` is dead when the arms already list
    every value the subject can take."""
    if not all(isinstance(p, ir.Const) for pats, _ in case.arms for p in pats):
        return
    rows = table([case.subject, *others], scope)
    if rows is None:
        return
    listed = frozenset(p.value for pats, _ in case.arms for p in pats)
    arms = [(frozenset(p.value for p in pats), [*pats, v]) for pats, v in case.arms]
    arms += [(None, [case.default])] if case.default is not None else []
    for values, nodes in arms:
        hits = [row for row in rows if row[0] is not None and (row[0] not in listed if values is None else row[0] in values)]
        if all(False in row[1:] for row in hits):
            arm = "else 分支" if values is None else f"分支 {ctx.quote(_span_of(nodes), '、'.join(map(str, values)))} "
            because = ("前面的分支已列出它能取的全部值" if values is None else "被匹配的值取不到这些值") if not hits \
                else "取这些值时条件的其他部分不成立，规则不会预警"
            yield ctx.warn("L0111", f"规则 {rule.id} 的 match {arm}永远用不到：{because}", _span_of(nodes),
                           "删除这个分支，或检查条件中对同一字段的限定是否写错")
