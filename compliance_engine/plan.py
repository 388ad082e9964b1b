"""The backend-neutral plan: which rules run on which record kind, in which order, and what
each finding must report (evidence names, the fields whose emptiness leaves it undetermined).

Every backend (generated Python now, SQL later) consumes a `Plan` and nothing above it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from . import ir
from .graph import DependencyGraph, names_used
from .model import Program, Rule


@dataclass(frozen=True)
class RulePlan:
    rule: Rule
    slot: int  # position among the rules of its kind
    evidence: tuple[str, ...]  # fields, lets, aggregates and facts the condition reads
    empty_fields: tuple[str, ...]  # optional fields and keys that can leave it undetermined
    empty_names: tuple[str, ...]  # lets/aggregates that can leave it undetermined


@dataclass(frozen=True)
class KindPlan:
    kind: str
    record_rules: tuple[RulePlan, ...]  # one outcome per record
    group_rules: tuple[RulePlan, ...]  # one outcome per group of records


@dataclass(frozen=True)
class Plan:
    program: Program
    graph: DependencyGraph
    kinds: tuple[KindPlan, ...]
    fingerprint: str  # content hash of the rulebooks: the cache key of compiled backends

    def kind(self, name: str) -> KindPlan | None:
        return next((k for k in self.kinds if k.kind == name), None)

    @property
    def rule_plans(self) -> tuple[RulePlan, ...]:
        return tuple(rp for k in self.kinds for rp in (*k.record_rules, *k.group_rules))


def lower(program: Program, graph: DependencyGraph) -> Plan:
    order = {rule_id: i for i, rule_id in enumerate(graph.order)}
    kinds = []
    for kind in program.kinds:
        rules = sorted((r for r in program.rules if r.kind.name == kind), key=lambda r: order.get(r.id, 0))
        record = tuple(_rule_plan(r, i) for i, r in enumerate(x for x in rules if not x.is_group_rule))
        group = tuple(_rule_plan(r, i) for i, r in enumerate(x for x in rules if x.is_group_rule))
        kinds.append(KindPlan(kind, record, group))
    return Plan(program, graph, tuple(kinds), fingerprint(program))


def _rule_plan(rule: Rule, slot: int) -> RulePlan:
    lets = dict(rule.lets)
    facts = {f.name: f.value for f in rule.facts}
    names = _closure(names_used(rule.condition), lets, facts)
    window_keys = {k for w in rule.windows for k in w.by if not rule.is_group_rule}
    evidence = tuple(sorted(names | window_keys))
    fields = set(rule.kind.field_names)
    empties = rule.condition.empty_by
    empty_fields = tuple(sorted(n for n in empties if n in fields))
    empty_names = tuple(sorted(n for n in empties if n not in fields and n in names))
    return RulePlan(rule, slot, evidence, empty_fields, empty_names)


def _closure(names: set[str], *tables: dict[str, ir.Node]) -> set[str]:
    """Names read directly, plus what the lets and facts among them read."""
    todo, out = list(names), set()
    while todo:
        name = todo.pop()
        if name in out:
            continue
        out.add(name)
        for table in tables:
            if name in table:
                todo.extend(names_used(table[name]))
    return out


def fingerprint(program: Program) -> str:
    h = hashlib.sha256()
    for path in sorted(program.sources):
        h.update(path.encode())
        h.update(program.sources[path].text.encode())
    return h.hexdigest()[:16]
