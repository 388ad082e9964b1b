"""The dependency graph drawn for review: Graphviz DOT, Mermaid flowchart, JSON.

Input is the networkx graph of graph.py (nodes `kind:…`, `fact:…`, `rule:…`, `link:…` with
their attributes; an edge A → B means "A uses B", `type=depends` for `depends on`). Output is
deterministic: nodes and edges in the graph's order (declaration order), so a golden file or a
pull-request diff of the drawing changes only where the rulebooks changed.

In DOT and Mermaid a risk link is drawn as a box (cluster / subgraph) around its rules instead
of a node with an edge from each rule; rules are filled with their level's colour. JSON keeps
every node and edge as they are, and `graph_from_json` reads it back.
"""

from __future__ import annotations

import json
import re

import networkx as nx

from .graph import DependencyGraph

# 一级 red, 二级 orange, 三级 yellow, 四级 blue (docs/language.md): (fill, text colour).
LEVEL_STYLE = {"一级": ("#d32f2f", "#ffffff"), "二级": ("#f57c00", "#000000"),
               "三级": ("#fbc02d", "#000000"), "四级": ("#1976d2", "#ffffff")}
LEVEL_CLASS = {"一级": "level1", "二级": "level2", "三级": "level3", "四级": "level4"}
LEGEND = 'an edge A -> B means "A uses B"; a rule sits in the box of its risk link'


def focus(dep: DependencyGraph, rule_id: str) -> nx.DiGraph:
    """The part of the graph that rule `rule_id` uses or that depends on it, transitively."""
    node = f"rule:{rule_id}"
    keep = {node} | dep.uses(node) | dep.dependents(node)
    # built by hand: networkx's subgraph view iterates the kept set, losing declaration order
    out = nx.DiGraph()
    out.add_nodes_from((n, attrs) for n, attrs in dep.graph.nodes(data=True) if n in keep)
    out.add_edges_from((a, b, attrs) for a, b, attrs in dep.graph.edges(data=True) if a in keep and b in keep)
    return out


def _name(node: str) -> str:
    return node.split(":", 1)[1]


def _type(node: str) -> str:
    return node.split(":", 1)[0]


def _label_lines(node: str, attrs: dict) -> list[str]:
    """What a node says: its name, then its title and level when it has them (a rule)."""
    lines = [_name(node)]
    if attrs.get("title"):
        lines.append(attrs["title"])
    if attrs.get("level"):
        lines.append(attrs["level"])
    return lines


def _link_title(node: str, attrs: dict) -> str:
    title = attrs.get("title")
    return f"{_name(node)} {title}" if title and title != _name(node) else _name(node)


def _members(graph: nx.DiGraph) -> dict[str, list[str]]:
    """Risk link node → its rules (in graph order); rules without a link are not listed."""
    out: dict[str, list[str]] = {n: [] for n in graph if _type(n) == "link"}
    for node in graph:
        if _type(node) == "rule":
            for target in graph.successors(node):
                if _type(target) == "link":
                    out[target].append(node)
    return out


def _drawn_edges(graph: nx.DiGraph) -> list[tuple[str, str, bool]]:
    """(source, target, is depends-on) for every edge not shown by a link's box."""
    return [(a, b, d.get("type") == "depends") for a, b, d in graph.edges(data=True) if _type(b) != "link"]


# ---- DOT ----

DOT_SHAPES = {"kind": 'shape=cylinder', "fact": 'shape=ellipse', "rule": 'shape=box, style="rounded,filled"'}


def _dot_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _dot_node(node: str, attrs: dict) -> str:
    parts = [f"label={_dot_string(chr(10).join(_label_lines(node, attrs)))}", DOT_SHAPES.get(_type(node), "shape=box")]
    if attrs.get("level") in LEVEL_STYLE:
        fill, text = LEVEL_STYLE[attrs["level"]]
        parts += [f'fillcolor="{fill}"', f'fontcolor="{text}"']
    return f"  {_dot_string(node)} [{', '.join(parts)}];"


def _dot_cluster(link: str, attrs: dict, rules: list[str], graph: nx.DiGraph) -> list[str]:
    lines = [f"  subgraph {_dot_string('cluster_' + _name(link))} {{",
             f"    label={_dot_string(_link_title(link, attrs))};",
             '    style="rounded,dashed";']
    lines += ["  " + _dot_node(rule, graph.nodes[rule]) for rule in rules]
    if not rules:  # Graphviz draws no empty cluster: keep the link visible
        lines.append(f'    {_dot_string(link)} [label="(无规则)", shape=plaintext];')
    return lines + ["  }"]


def to_dot(graph: nx.DiGraph) -> str:
    members = _members(graph)
    in_cluster = {rule for rules in members.values() for rule in rules}
    lines = [f"// compliance graph: {LEGEND}", "digraph compliance {",
             '  graph [rankdir=LR, fontname="sans-serif"];',
             '  node [fontname="sans-serif", fontsize=11];',
             '  edge [fontname="sans-serif", fontsize=9];']
    lines += [_dot_node(n, a) for n, a in graph.nodes(data=True) if _type(n) != "link" and n not in in_cluster]
    for link, rules in members.items():
        lines += _dot_cluster(link, graph.nodes[link], rules, graph)
    for a, b, depends in _drawn_edges(graph):
        style = ' [label="depends on", style=bold]' if depends else ""
        lines.append(f"  {_dot_string(a)} -> {_dot_string(b)}{style};")
    return "\n".join(lines + ["}"]) + "\n"


# ---- Mermaid ----

MERMAID_SHAPES = {"kind": ('[(', ')]'), "fact": ('([', '])'), "rule": ('[', ']')}
_MERMAID_ESCAPES = (("#", "#35;"), ("&", "#38;"), ('"', "#quot;"), ("<", "#lt;"), (">", "#gt;"), ("`", "#96;"))


def _mermaid_text(text: str) -> str:
    """A quoted Mermaid label: entity codes for what would end or reinterpret it (`#` first)."""
    for char, code in _MERMAID_ESCAPES:
        text = text.replace(char, code)
    return '"' + text.replace("\n", "<br/>") + '"'


def _mermaid_ids(graph: nx.DiGraph) -> dict[str, str]:
    """Mermaid ids are plain ASCII words: `rule_R_001`, or `fact_4` for a Chinese name."""
    ids: dict[str, str] = {}
    taken: set[str] = set()
    for i, node in enumerate(graph):
        name = _name(node)
        slug = re.sub(r"[^A-Za-z0-9]", "_", name) if name.isascii() else str(i)
        candidate = f"{_type(node)}_{slug}"
        while candidate in taken:  # R-1 and R_1 slug alike
            candidate += "_"
        ids[node] = candidate
        taken.add(candidate)
    return ids


def _mermaid_node(node: str, attrs: dict, ids: dict[str, str]) -> str:
    left, right = MERMAID_SHAPES.get(_type(node), ("[", "]"))
    return f"  {ids[node]}{left}{_mermaid_text(chr(10).join(_label_lines(node, attrs)))}{right}"


def to_mermaid(graph: nx.DiGraph) -> str:
    ids, members = _mermaid_ids(graph), _members(graph)
    in_box = {rule for rules in members.values() for rule in rules}
    lines = [f"%% compliance graph: {LEGEND}", "flowchart LR"]
    lines += [_mermaid_node(n, a, ids) for n, a in graph.nodes(data=True) if _type(n) != "link" and n not in in_box]
    for link, rules in members.items():
        lines.append(f"  subgraph {ids[link]}[{_mermaid_text(_link_title(link, graph.nodes[link]))}]")
        lines += ["  " + _mermaid_node(rule, graph.nodes[rule], ids) for rule in rules]
        lines.append("  end")
    for a, b, depends in _drawn_edges(graph):
        lines.append(f"  {ids[a]} ==>|depends on| {ids[b]}" if depends else f"  {ids[a]} --> {ids[b]}")
    for level, name in LEVEL_CLASS.items():
        fill, text = LEVEL_STYLE[level]
        lines.append(f"  classDef {name} fill:{fill},color:{text}")
    for node, attrs in graph.nodes(data=True):
        if attrs.get("level") in LEVEL_CLASS:
            lines.append(f"  class {ids[node]} {LEVEL_CLASS[attrs['level']]}")
    return "\n".join(lines) + "\n"


# ---- JSON ----

def to_json(graph: nx.DiGraph) -> str:
    """`{"nodes": [{"id", "type", …attributes}], "edges": [{"source", "target", "type"}]}`;
    an edge's type is `uses`, or `depends` for `depends on`."""
    nodes = [{"id": node, **attrs} for node, attrs in graph.nodes(data=True)]
    edges = [{"source": a, "target": b, **attrs, "type": attrs.get("type", "uses")}
             for a, b, attrs in graph.edges(data=True)]
    return json.dumps({"nodes": nodes, "edges": edges}, ensure_ascii=False, indent=2) + "\n"


def graph_from_json(text: str) -> nx.DiGraph:
    """The graph `to_json` wrote (a plain `uses` edge carries no attribute, as in graph.py)."""
    data = json.loads(text)
    graph = nx.DiGraph()
    for node in data["nodes"]:
        graph.add_node(node["id"], **{k: v for k, v in node.items() if k != "id"})
    for edge in data["edges"]:
        attrs = {k: v for k, v in edge.items() if k not in ("source", "target")}
        if attrs.get("type") == "uses":
            del attrs["type"]
        graph.add_edge(edge["source"], edge["target"], **attrs)
    return graph


RENDERERS = {"dot": to_dot, "mermaid": to_mermaid, "json": to_json}
