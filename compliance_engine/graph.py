"""The dependency graph of a program: record kinds, facts, rules and risk links (networkx).

Nodes are strings `kind:ticket`, `fact:首次联系`, `rule:TS-001`, `link:L01`; an edge A → B
means "A uses B". Rules are evaluated upstream first (`order`); a cycle among rules is an
error naming every rule in it.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from . import ir
from .diagnostics import Diagnostics
from .model import Program, Rule


@dataclass(frozen=True)
class DependencyGraph:
    graph: nx.DiGraph
    order: tuple[str, ...]  # rule ids, every rule after the rules it depends on

    def uses(self, node: str) -> set[str]:
        """Everything `node` (e.g. 'rule:TS-003') uses, directly or not."""
        return nx.descendants(self.graph, node) if node in self.graph else set()

    def dependents(self, node: str) -> set[str]:
        """Everything that uses `node` (e.g. 'fact:首次联系'), directly or not."""
        return nx.ancestors(self.graph, node) if node in self.graph else set()

    def upstream_rules(self, rule_id: str) -> list[str]:
        return [n.split(":", 1)[1] for n in self.graph.successors(f"rule:{rule_id}") if n.startswith("rule:")]


def build_graph(program: Program, diags: Diagnostics) -> DependencyGraph:
    g = nx.DiGraph()
    for name in program.kinds:
        g.add_node(f"kind:{name}", type="kind")
    for link in program.links.values():
        g.add_node(f"link:{link.id}", type="link", title=link.title, order=link.order)
    for fact in program.facts.values():
        g.add_node(f"fact:{fact.name}", type="fact")
        if fact.kind:
            g.add_edge(f"fact:{fact.name}", f"kind:{fact.kind}")
        for used in fact.uses:
            g.add_edge(f"fact:{fact.name}", f"fact:{used.name}")
    for rule in program.rules:
        _add_rule(g, rule, program, diags)
    return DependencyGraph(g, _rule_order(g, program, diags))


def _add_rule(g: nx.DiGraph, rule: Rule, program: Program, diags: Diagnostics) -> None:
    node = f"rule:{rule.id}"
    g.add_node(node, type="rule", title=rule.title, level=rule.level)
    g.add_edge(node, f"kind:{rule.kind.name}")
    for w in rule.windows:
        g.add_edge(node, f"kind:{w.kind.name}")
    for fact in rule.facts:
        g.add_edge(node, f"fact:{fact.name}")
    if rule.link is not None:
        g.add_edge(node, f"link:{rule.link.id}")
    known = {r.id for r in program.rules}
    for upstream in rule.depends_on:
        if upstream not in known:  # reported by the checker, at the name
            continue
        g.add_edge(node, f"rule:{upstream}", type="depends")


def _rule_order(g: nx.DiGraph, program: Program, diags: Diagnostics) -> tuple[str, ...]:
    rules = nx.DiGraph()
    rules.add_nodes_from(r.id for r in program.rules)
    rules.add_edges_from((a.split(":", 1)[1], b.split(":", 1)[1]) for a, b in g.edges
                         if a.startswith("rule:") and b.startswith("rule:"))
    position = {r.id: i for i, r in enumerate(program.rules)}
    cycles = []
    for cycle in nx.simple_cycles(rules):  # report each cycle from its first-declared rule, in order
        start = min(range(len(cycle)), key=lambda i: position[cycle[i]])
        cycles.append(cycle[start:] + cycle[:start])
    for cycle in sorted(cycles, key=lambda c: [position[n] for n in c]):
        first = program.rule(cycle[0])
        diags.add("E0402", "规则之间循环依赖: " + " → ".join([*cycle, cycle[0]]), first.span if first else None,
                  "depends on 只能指向上游环节的规则；删除其中一条依赖")
    if cycles:
        return tuple(r.id for r in program.rules)
    return tuple(reversed(list(nx.lexicographical_topological_sort(rules, key=lambda n: -position[n]))))


def names_used(node: ir.Node) -> set[str]:
    """Fields (of the record under test), lets, aggregates and facts an expression reads."""
    out = set()
    for n in ir.walk(node):
        if isinstance(n, ir.FieldRef) and n.scope == "this":
            out.add(n.name)
        elif isinstance(n, ir.LetRef):
            out.add(n.name)
    return out
