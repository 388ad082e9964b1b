"""`compliance graph`: DOT, Mermaid and JSON drawings of the dependency graph, `--rule`, `--out`.

Golden files: tests/golden/graph/sample.{dot,mmd,json} (run with UPDATE_GOLDEN=1 to rewrite them,
then read the diff).
"""

from __future__ import annotations

import json
import os
import re
from functools import cache
from pathlib import Path

import networkx as nx
import pytest
from click.testing import CliRunner

from compliance_engine.api import check
from compliance_engine.cli.graph import graph_command
from compliance_engine.graph_formats import focus, graph_from_json, to_dot, to_json, to_mermaid

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "tests" / "rulebooks" / "sample.rules"
TOUR = ROOT / "examples" / "language_tour.rules"
STANDARD = ROOT / "rulebooks"
EXAMPLES = ROOT / "examples" / "rulebooks"  # link ids in Chinese, rules depending across files
GOLDEN = ROOT / "tests" / "golden" / "graph"
SUFFIX = {"dot": "dot", "mermaid": "mmd", "json": "json"}


def invoke(*args: str):
    return CliRunner().invoke(graph_command, list(args), catch_exceptions=False)


def hostile_graph() -> nx.DiGraph:
    """Names and titles with everything that could break a quoted label."""
    g = nx.DiGraph()
    g.add_node("kind:ticket", type="kind")
    g.add_node("link:95598工单", type="link", title='环节 "甲" (一)', order=1)
    g.add_node("link:L09", type="link", title="没有规则的环节", order=9)
    g.add_node("fact:首次联系", type="fact")
    g.add_node("rule:R-1", type="rule", title='a "quoted" \\ back\nslash (括号) <b>#1</b> `x` & [y] {z}', level="一级")
    g.add_node("rule:R_1", type="rule", title="same id once slugged", level="四级")
    g.add_edge("fact:首次联系", "kind:ticket")
    g.add_edge("rule:R-1", "kind:ticket")
    g.add_edge("rule:R-1", "fact:首次联系")
    g.add_edge("rule:R-1", "link:95598工单")
    g.add_edge("rule:R_1", "rule:R-1", type="depends")
    return g


@cache
def graph_of(name: str) -> nx.DiGraph:
    if name == "hostile":
        return hostile_graph()
    return check([{"examples": EXAMPLES, "standard": STANDARD, "tour": TOUR}[name]]).graph.graph


# ---- golden files ----

@pytest.mark.parametrize("fmt", ["dot", "mermaid", "json"])
def test_golden(fmt):
    result = invoke("--format", fmt, str(SAMPLE))
    assert result.exit_code == 0
    golden = GOLDEN / f"sample.{SUFFIX[fmt]}"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(result.stdout, encoding="utf-8")
    assert result.stdout == golden.read_text(encoding="utf-8")


def test_default_format_is_dot_and_out_writes_a_file(tmp_path):
    out = tmp_path / "g.dot"
    result = invoke("--out", str(out), str(SAMPLE))
    assert result.exit_code == 0 and result.stdout == ""
    assert out.read_text(encoding="utf-8") == (GOLDEN / "sample.dot").read_text(encoding="utf-8")


# ---- DOT ----

def dot_is_balanced(text: str) -> bool:
    """Braces and brackets balance outside quoted strings, and every string is closed."""
    stack, in_string, escaped = [], False, False
    for ch in text:
        if in_string:
            in_string, escaped = (ch != '"' or escaped), (ch == "\\" and not escaped)
        elif ch == '"':
            in_string = True
        elif ch in "{[":
            stack.append("}" if ch == "{" else "]")
        elif ch in "}]":
            if not stack or stack.pop() != ch:
                return False
    return not stack and not in_string


@pytest.mark.parametrize("name", ["hostile", "examples", "standard"])
def test_dot_is_balanced(name):
    graph = graph_of(name)
    text = to_dot(graph)
    assert dot_is_balanced(text)
    assert all(f'"{n}" [' in text for n in graph if n.startswith("rule:"))  # every rule drawn


@pytest.mark.parametrize("name", ["hostile", "examples"])
def test_dot_parses(name):
    pydot = pytest.importorskip("pydot")
    (parsed,) = pydot.graph_from_dot_data(to_dot(graph_of(name)))
    assert parsed.get_name() == "compliance"
    clusters = [s.get_name() for s in parsed.get_subgraphs()]
    assert len(clusters) == sum(1 for n in graph_of(name) if n.startswith("link:"))


def test_dot_labels_survive_quoting():
    pydot = pytest.importorskip("pydot")
    (parsed,) = pydot.graph_from_dot_data(to_dot(hostile_graph()))
    (cluster,) = [s for s in parsed.get_subgraphs() if "95598" in s.get_name()]
    (rule,) = [n for n in cluster.get_nodes() if n.get_name() == '"rule:R-1"']
    assert rule.get("label") == r'"R-1\na \"quoted\" \\ back\nslash (括号) <b>#1</b> `x` & [y] {z}\n一级"'
    assert rule.get("fillcolor") == '"#d32f2f"'  # 一级 red


def test_dot_draws_links_as_clusters():
    text = to_dot(hostile_graph())
    assert 'subgraph "cluster_L09"' in text and '"link:L09" [label="(无规则)"' in text  # empty link stays visible
    assert "-> \"link:" not in text  # membership is the cluster, not an edge
    assert '"rule:R_1" -> "rule:R-1" [label="depends on", style=bold];' in text


# ---- Mermaid ----

MERMAID_ID = r"[A-Za-z0-9_]+"
NODE_LINE = re.compile(rf'^  (?:  )?({MERMAID_ID})(\[\(|\(\[|\[)"([^"]*)"(\)\]|\]\)|\])$')


def mermaid_structure(text: str) -> tuple[set[str], list[tuple[str, str]]]:
    """Check the lines a flowchart may have; return the defined ids and the edges."""
    lines = text.splitlines()
    assert lines[0].startswith("%% ") and lines[1] == "flowchart LR"
    defined, edges, depth = set(), [], 0
    for line in lines[2:]:
        if m := NODE_LINE.match(line):
            assert m.group(1) not in defined
            defined.add(m.group(1))
        elif m := re.match(rf'^  subgraph ({MERMAID_ID})\["([^"]*)"\]$', line):
            defined.add(m.group(1))
            depth += 1
        elif line == "  end":
            depth -= 1
            assert depth == 0
        elif m := re.match(rf"^  ({MERMAID_ID}) (?:-->|==>\|depends on\|) ({MERMAID_ID})$", line):
            edges.append((m.group(1), m.group(2)))
        elif m := re.match(rf"^  class ({MERMAID_ID}) level[1-4]$", line):
            assert m.group(1) in defined
        else:
            assert re.match(r"^  classDef level[1-4] fill:#[0-9a-f]{6},color:#[0-9a-f]{6}$", line), line
    assert depth == 0
    assert {a for a, b in edges} | {b for a, b in edges} <= defined
    return defined, edges


@pytest.mark.parametrize("name", ["hostile", "examples", "standard"])
def test_mermaid_structure(name):
    graph = graph_of(name)
    defined, edges = mermaid_structure(to_mermaid(graph))
    assert len(defined) == graph.number_of_nodes()
    assert len(edges) == sum(1 for _, b in graph.edges if not b.startswith("link:"))


def test_mermaid_escapes_labels():
    text = to_mermaid(hostile_graph())
    assert ('rule_R_1["R-1<br/>a #quot;quoted#quot; \\ back<br/>slash (括号) #lt;b#gt;#35;1#lt;/b#gt; #96;x#96; '
            '#38; [y] {z}<br/>一级"]') in text
    assert 'subgraph link_1["95598工单 环节 #quot;甲#quot; (一)"]' in text  # Chinese id: ASCII Mermaid id
    assert "rule_R_1_[" in text  # R_1 slugs like R-1: made unique
    assert "class rule_R_1 level1" in text and "class rule_R_1_ level4" in text


# ---- JSON ----

@pytest.mark.parametrize("name", ["hostile", "tour", "standard"])
def test_json_round_trip(name):
    graph = graph_of(name)
    back = graph_from_json(to_json(graph))
    assert nx.utils.graphs_equal(graph, back)
    assert list(back.nodes) == list(graph.nodes) and list(back.edges) == list(graph.edges)
    assert to_json(back) == to_json(graph)


def test_json_edge_types():
    edges = json.loads(to_json(hostile_graph()))["edges"]
    assert {(e["source"], e["type"]) for e in edges if e["target"] == "rule:R-1"} == {("rule:R_1", "depends")}
    assert {e["type"] for e in edges} == {"uses", "depends"}


# ---- --rule ----

def test_rule_keeps_what_it_uses_and_what_depends_on_it():
    drawn = json.loads(invoke("--format", "json", "--rule", "R-001", str(SAMPLE)).stdout)
    nodes = [n["id"] for n in drawn["nodes"]]
    assert nodes == ["kind:ticket", "link:L01", "rule:R-001", "rule:R-002"]  # R-002 depends on R-001


def test_rule_follows_facts_transitively():
    dep = check([TOUR]).graph
    assert set(focus(dep, "BL-002")) == {"rule:BL-002", "kind:billing", "link:L03", "fact:一年前", "fact:欠费", "fact:欠费比例"}


def test_focus_keeps_declaration_order():
    dep = check([STANDARD]).graph
    order = {node: i for i, node in enumerate(dep.graph)}
    for rule in list(dep.order)[::15]:
        positions = [order[n] for n in focus(dep, rule)]
        assert positions == sorted(positions)


def test_unknown_rule_is_a_usage_error():
    result = CliRunner().invoke(graph_command, ["--rule", "R-01", str(SAMPLE)])
    assert result.exit_code == 2 and "R-001" in result.output


def test_broken_rulebook_lists_errors(tmp_path):
    broken = tmp_path / "broken.rules"
    broken.write_text(SAMPLE.read_text(encoding="utf-8").replace("when ticket_type ==", "when ticket_typ =="), encoding="utf-8")
    result = invoke(str(broken))
    assert result.exit_code == 1 and "E0201" in result.output and "digraph" not in result.output
