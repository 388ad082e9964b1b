"""Plan → one Python module of plain functions, compiled once per content hash.

Per record kind: `kind_K(r, as_of, A, G)` evaluates every record rule of that kind and
returns `(fired, undetermined)`: the positions (in the kind's record rules) of the rules that
fired and of those undetermined, every other rule passed; per rule an
evidence function returns its lets', facts' and aggregates' values; per window small
functions for `where`, the range bounds and the aggregate arguments; per group rule a
function over the group's key and aggregates; `global_facts(as_of)` computes facts that
need no record. `generate(plan)` returns the source text (for review and golden tests).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ... import ir
from ...model import Fact, Rule, Window
from ...plan import KindPlan, Plan
from .expressions import ExprGen, shapes


@dataclass
class Generated:
    source: str
    constants: list
    global_facts: tuple[str, ...]  # names, in the order `global_facts` returns them


@dataclass
class _Writer:
    constants: list
    global_index: dict[str, int]
    lines: list[str] = field(default_factory=list)

    def emit(self, text: str, indent: int = 1) -> None:
        self.lines.append("    " * indent + text)


def generate(plan: Plan) -> Generated:
    facts = _global_facts(plan)
    w = _Writer([], {f.name: i for i, f in enumerate(facts)})
    _write_global_facts(w, facts)
    for k, kind in enumerate(plan.kinds):
        _write_kind(w, k, kind)
    return Generated("\n".join(w.lines) + "\n", w.constants, tuple(f.name for f in facts))


def _global_facts(plan: Plan) -> list[Fact]:
    ordered: list[Fact] = []
    for rp in plan.rule_plans:
        for fact in rp.rule.facts:
            for needed in (*fact.uses, fact):
                if needed.kind is None and needed not in ordered:
                    ordered.append(needed)
    return ordered


def _write_global_facts(w: _Writer, facts: list[Fact]) -> None:
    w.emit("def global_facts(as_of):", 0)
    names = {("fact", f.name): f"g{i}" for i, f in enumerate(facts)}
    gen = ExprGen(w.constants, names.__getitem__)
    for i, fact in enumerate(facts):
        w.emit(f"g{i} = {gen.gen(fact.value)}")
    w.emit("return (" + "".join(f"g{i}, " for i in range(len(facts))) + ")")


def _write_kind(w: _Writer, k: int, kind: KindPlan) -> None:
    w.emit(f"def kind_{k}(r, as_of, A, G):", 0)
    fields = sorted({n.name for rp in kind.record_rules for n in _this_fields(rp.rule)})
    local = {("field", "this", f): f"f{i}" for i, f in enumerate(fields)}
    for f, name in zip(fields, local.values()):
        w.emit(f"{name} = r[{f!r}]")
    # positions of the fired and the undetermined rules, the rest passed: most records pass
    # most rules, and a branch per rule costs far less than building a 200-outcome tuple
    w.emit("F = []")
    nullable = any(rp.rule.condition.empty_by for rp in kind.record_rules)
    if nullable:
        w.emit("U = []")
    counts = shapes(root for rp in kind.record_rules for root in (rp.rule.condition, *(v for _, v in rp.rule.lets)))
    shared = {s: f"c{i}" for i, s in enumerate(s for s, n in counts.items() if n > 1)}
    start = len(w.lines)
    for i, rp in enumerate(kind.record_rules):
        names = _rule_section(w, rp.rule, rp.slot, local, shared)
        condition = ExprGen(w.constants, names.__getitem__, shared).gen(rp.rule.condition)
        if rp.rule.condition.empty_by:  # may be undetermined
            w.emit(f"if (_v := {condition}):")
            w.emit(f"F.append({i})", 2)
            w.emit("elif _v is None:")
            w.emit(f"U.append({i})", 2)
        else:
            w.emit(f"if {condition}:")
            w.emit(f"F.append({i})", 2)
    w.emit("return F, U" if nullable else "return F, ()")
    used = [c for c in shared.values() if any(f"({c} := " in line for line in w.lines[start:])]
    if used:  # computed at first use, by whichever rule needs it first
        w.lines.insert(start, "    " + " = ".join(used) + " = UNSET")
    for rp in kind.record_rules:
        _write_evidence(w, f"kind_{k}_evidence_{rp.slot}", rp.rule, rp.slot, field_from_record=True)
    for rp in kind.group_rules:
        _write_group(w, k, rp.rule, rp.slot)
    for rp in (*kind.record_rules, *kind.group_rules):
        for window in rp.rule.windows:
            _write_window(w, f"kind_{k}_{'g' if rp.rule.is_group_rule else 'r'}{rp.slot}_w{window.index}", window)


def _this_fields(rule: Rule) -> list[ir.FieldRef]:
    roots = [rule.condition, *(v for _, v in rule.lets), *(f.value for f in rule.facts if f.kind)]
    return [n for root in roots for n in ir.walk(root) if isinstance(n, ir.FieldRef) and n.scope == "this"]


def _rule_section(w: _Writer, rule: Rule, slot: int, fields: dict, shared: dict | None = None) -> dict:
    """Emit the rule's facts, aggregates and lets as locals; return the name map for it."""
    names = dict(fields)
    lookup = _lookup(names, w.global_index)
    gen = ExprGen(w.constants, lookup, shared)
    for j, fact in enumerate(f for f in rule.facts if f.kind):
        w.emit(f"x{slot}_{j} = {gen.gen(fact.value)}")
        names[("fact", fact.name)] = f"x{slot}_{j}"
    for fact in (f for f in rule.facts if f.kind is None):
        names[("fact", fact.name)] = f"G[{w.global_index[fact.name]}]"
    for i, (agg_name, _) in enumerate(a for win in rule.windows for a in win.aggregates):
        names[("aggregate", agg_name)] = f"A[{slot}][{i}]"
    for j, (let_name, value) in enumerate(rule.lets):
        w.emit(f"l{slot}_{j} = {gen.gen(value)}")
        names[("let", let_name)] = f"l{slot}_{j}"
    return names


def _lookup(names: dict, global_index: dict[str, int]):
    def resolve(key: tuple) -> str:
        if key in names:
            return names[key]
        if key[0] == "fact" and key[1] in global_index:
            return f"G[{global_index[key[1]]}]"
        if key[0] == "field":
            return f"r[{key[2]!r}]"
        raise KeyError(key)
    return resolve


def _write_evidence(w: _Writer, fname: str, rule: Rule, slot: int, field_from_record: bool) -> None:
    w.emit(f"def {fname}(r, as_of, A, G):", 0)
    names = _rule_section(w, rule, slot, {})
    values = [(name, code) for (origin, name), code in names.items() if origin in ("let", "fact", "aggregate")]
    w.emit("return {" + "".join(f"{name!r}: {code}, " for name, code in values) + "}")


def _write_group(w: _Writer, k: int, rule: Rule, slot: int) -> None:
    w.emit(f"def kind_{k}_group_{slot}(r, as_of, A, G):", 0)
    names = _rule_section(w, rule, slot, {})
    gen = ExprGen(w.constants, _lookup(names, w.global_index))
    w.emit(f"return {gen.gen(rule.condition)}")
    _write_evidence(w, f"kind_{k}_group_{slot}_evidence", rule, slot, field_from_record=False)


def _write_window(w: _Writer, prefix: str, window: Window) -> None:
    names = {}
    lookup = _row_lookup(names, w.global_index)
    gen = ExprGen(w.constants, lookup)
    if window.where is not None:
        w.emit(f"def {prefix}_where(w, r, as_of, G):", 0)
        w.emit(f"return {gen.gen(window.where)}")
    if window.range is not None:
        for side, node in (("low", window.range.low), ("high", window.range.high)):
            if node is not None:
                w.emit(f"def {prefix}_{side}(r, as_of, G):", 0)
                w.emit(f"return {gen.gen(node)}")
    for i, agg in enumerate(window_aggregates(window)):
        names[("aggregate-node", id(agg))] = f"V[{i}]"
        if agg.arg is not None:
            w.emit(f"def {prefix}_arg{i}(w, r, as_of, G):", 0)
            w.emit(f"return {gen.gen(agg.arg)}")
    for j, (_, value) in enumerate(window.aggregates):
        w.emit(f"def {prefix}_value{j}(V, r, as_of, G):", 0)
        w.emit(f"return {gen.gen(value)}")


def _row_lookup(names: dict, global_index: dict[str, int]):
    def resolve(key: tuple) -> str:
        if key in names:
            return names[key]
        if key[0] == "field":
            return f"{'w' if key[1] == 'row' else 'r'}[{key[2]!r}]"
        if key[0] == "fact" and key[1] in global_index:
            return f"G[{global_index[key[1]]}]"
        raise KeyError(key)
    return resolve


def window_aggregates(window: Window) -> list[ir.Aggregate]:
    """The aggregate nodes of a window, in the order the generated `argN` functions use."""
    return [n for _, value in window.aggregates for n in ir.walk(value) if isinstance(n, ir.Aggregate)]
