"""Nothing an officer writes is executed as Python.

Rulebooks whose ids, titles, strings, enum members, field names, metadata and test names are
Python-injection attempts compile and evaluate correctly; the generated module contains user
text only inside string literals (checked with Python's own `ast` and `tokenize`), reads
fields by string key, and running it creates no file.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compliance_engine.api import load_rulebooks
from compliance_engine.backends.python.runtime import EXPORTED
from compliance_engine.testing import run_tests

PWN = "__import__('os').system('touch PWNED')"
PAYLOADS = {
    "close_paren": f"'); {PWN} #",
    "close_dquote": f'"); {PWN} #',
    "triple": f'""" + {PWN} + """',
    "triple_single": f"''' + {PWN} + '''",
    "backslash": "a\\b\\'c\\\\",
    "newline": f"x\n{PWN}\ny",
    "fstring": "{__import__('os').system('touch PWNED')}",
    "percent": "%s%r%(x)s {0} }}{{",
}


def rules_string(value: str) -> str:
    """A rulebook string literal holding exactly `value` (backslash, quote, newlines escaped)."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{escaped}"'


ENUM_MEMBERS = [PAYLOADS["close_paren"], PAYLOADS["triple"], PAYLOADS["backslash"], PAYLOADS["newline"]]

INJECTED = (
    f"rulebook 注入 {rules_string(PAYLOADS['close_dquote'])} version {rules_string(PAYLOADS['triple_single'])}\n"
    f"enum 渠道 {{ {', '.join(rules_string(m) for m in ENUM_MEMBERS)} }}\n"
    f"record __import__ {rules_string(PAYLOADS['fstring'])} {{\n"
    f"  __builtins__: text key {rules_string(PAYLOADS['close_paren'])}\n"
    "  os: text\n"
    "  system: 渠道\n"
    "  K: int\n"
    "  r: text?\n"
    "  CAL: bool\n"
    "  exec: datetime\n"
    "}\n"
    f"link L'\\ {rules_string(PAYLOADS['triple'])} {{ order 1 category x'); {PWN} }}\n"
    f"fact eval on __import__ = os == {rules_string(PAYLOADS['percent'])}\n"
    f"fact __class__ = as_of\n"
    "rule R-1'\\ " + rules_string(PAYLOADS["close_paren"]) + " {\n"
    "  on __import__\n"
    "  link L'\\\n"
    "  level 一级\n"
    f"  owner x'); {PWN} / 班 / 岗\n"
    f"  supervisor 上级 x'); {PWN}\n"
    f"  category {rules_string(PAYLOADS['triple'])}\n"
    f"  measure x\"); {PWN}\n"
    f"  source {rules_string(PAYLOADS['newline'])}\n"
    "  deadline 3 workdays\n"
    "  let exec2 = os == " + rules_string(PAYLOADS["close_paren"]) + "\n"
    "  let G = system == " + rules_string(PAYLOADS["triple"]) + "\n"
    "  let A = (r ?? \"none\") == " + rules_string(PAYLOADS["backslash"]) + "\n"
    "  when exec2 or G or A or eval or contains(os, " + rules_string(PAYLOADS["newline"]) + ")"
    " or (K > 1 and CAL and exec < __class__)\n"
    "  test " + rules_string(PAYLOADS["close_dquote"]) + " {\n"
    "    given __import__ { __builtins__: " + rules_string(PAYLOADS["triple_single"]) + ", os: "
    + rules_string(PAYLOADS["close_paren"]) + ", system: " + rules_string(PAYLOADS["newline"])
    + ", K: 0, CAL: false, exec: 2026-01-01T00:00 }\n"
    "    expect fired\n"
    "  }\n"
    "}\n"
    "rule R-2 " + rules_string(PAYLOADS["fstring"]) + " {\n"
    "  on __import__\n"
    "  level 二级\n"
    "  owner 部\n"
    "  window over __import__ by os compute __builtins__2 = count(system == " + rules_string(PAYLOADS["triple"]) + ")\n"
    "  when __builtins__2 >= 2\n"
    "}\n"
)

FIELDS = ("__builtins__", "os", "system", "K", "r", "CAL", "exec")


def record(key: str, **values) -> dict:
    base = {"__builtins__": key, "os": "plain", "system": PAYLOADS["backslash"], "K": 0, "r": None,
            "CAL": False, "exec": "2026-01-01T00:00"}
    return {**base, **values}


ROWS = [
    record("k1", os=PAYLOADS["close_paren"]),  # exec2
    record("k2", system=PAYLOADS["triple"]),  # G
    record("k3", r=PAYLOADS["backslash"]),  # A
    record("k4", os=PAYLOADS["percent"]),  # the fact `eval`
    record("k5", os=f"..{PAYLOADS['newline']}.."),  # contains
    record("k6", K=2, CAL=True),  # exec < __class__ (as_of)
    record("k7"),  # nothing: passed
    record("k8", system=PAYLOADS["triple"]),  # G
]


@pytest.fixture
def injected(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a PWNED file would land here
    path = tmp_path / "inject.rules"
    path.write_text(INJECTED, encoding="utf-8")
    rb = load_rulebooks([path])
    yield rb
    assert not (tmp_path / "PWNED").exists()
    assert not Path("PWNED").exists()


def test_injection_attempts_compile_and_evaluate_correctly(injected, run, tmp_path):
    rb = injected
    assert rb.program.enums["渠道"].members == tuple(ENUM_MEMBERS)
    rule = rb.program.rule("R-1'\\")
    assert rule.title == PAYLOADS["close_paren"]
    assert rule.owner.parts == (f"x'); {PWN}", "班", "岗")
    assert rule.category == PAYLOADS["triple"] and rule.source == PAYLOADS["newline"]
    assert rule.link.id == "L'\\" and rule.link.category == f"x'); {PWN}"
    assert rb.program.rulebooks[0].title == PAYLOADS["close_dquote"]
    assert rb.program.rulebooks[0].version == PAYLOADS["triple_single"]
    assert rb.kinds["__import__"].label == PAYLOADS["fstring"]
    out = run(rb, {"__import__": ROWS}, datetime(2026, 3, 1))
    r1 = {key: f.outcome for (rid, key), f in out.items() if rid == "R-1'\\"}
    assert r1 == {"k1": "fired", "k2": "fired", "k3": "fired", "k4": "fired", "k5": "fired", "k6": "fired",
                  "k7": "passed", "k8": "fired"}
    r2 = {key: f.outcome for (rid, key), f in out.items() if rid == "R-2"}
    # every row with os == 'plain' sees two rows (k2, k8) whose system is the 'triple' member
    assert r2 == {"k1": "passed", "k2": "fired", "k3": "fired", "k4": "passed", "k5": "passed", "k6": "fired",
                  "k7": "fired", "k8": "fired"}
    f = out[("R-1'\\", "k1")]
    assert f.title == PAYLOADS["close_paren"] and f.category == PAYLOADS["triple"]
    assert f.evidence["exec2"] is True and f.evidence["os"] == PAYLOADS["close_paren"]
    assert f.model_dump(mode="json")["evidence"]["os"] == PAYLOADS["close_paren"]
    assert not (tmp_path / "PWNED").exists()


def test_tests_with_injected_names_run(injected):
    results = run_tests(injected)
    assert [(r.rule, r.test, r.passed) for r in results] == [("R-1'\\", PAYLOADS["close_dquote"], True)]


def _names_and_strings(source: str):
    tree = ast.parse(source)
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    strings = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    attrs = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    return tree, names, strings, attrs


GENERATED_NAME = re.compile(r"(r|w|V|A|G|K|F|U|CAL|as_of|_v|_t\d+|c\d+|f\d+|g\d+|l\d+_\d+|x\d+_\d+)")


def test_generated_source_holds_user_text_only_in_literals(injected):
    source = injected.backend.source
    compile(source, "<check>", "exec")
    tree, names, strings, attrs = _names_and_strings(source)
    # every name is one the generator makes up, a runtime helper or an allowed builtin
    allowed_builtins = set(injected.backend.namespace["__builtins__"])
    strange = {n for n in names if not GENERATED_NAME.fullmatch(n) and n not in EXPORTED and n not in allowed_builtins}
    assert not strange, strange
    # no call to anything but helpers, calendar methods, builtins and value methods
    for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
        func = call.func
        if isinstance(func, ast.Name):
            assert func.id in EXPORTED or func.id in allowed_builtins, ast.unparse(call)
        else:
            assert isinstance(func, ast.Attribute), ast.unparse(call)
            if func.attr == "append":  # the kind function's lists of fired / undetermined rules
                assert isinstance(func.value, ast.Name) and func.value.id in ("F", "U"), ast.unparse(call)
                continue
            assert func.attr in {"workdays_between", "add_workdays", "is_workday", "get", "isoweekday",
                                 "startswith", "endswith"}, ast.unparse(call)
    assert not attrs & {"system", "__class__", "__subclasses__", "__globals__", "__import__"}
    # payloads used as values appear verbatim as string constants (escaped by repr, not spliced)
    for key in ("close_paren", "newline", "backslash"):
        assert PAYLOADS[key] in strings, key
    # every token that carries a payload fragment is a string literal
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if "PWNED" in tok.string or "__import__" in tok.string or "__builtins__" in tok.string:
            assert tok.type == tokenize.STRING, tok
    # metadata, titles, ids and test names never reach the generated code at all
    for text in (PAYLOADS["close_dquote"], PAYLOADS["fstring"], f"x'); {PWN}", "R-1'\\", "L'\\"):
        assert text not in strings


def test_fields_are_read_by_string_key(injected):
    tree, names, strings, _ = _names_and_strings(injected.backend.source)
    keys = {n.slice.value for n in ast.walk(tree)
            if isinstance(n, ast.Subscript) and isinstance(n.value, ast.Name) and n.value.id in ("r", "w")
            and isinstance(n.slice, ast.Constant)}
    assert {"os", "system", "K", "r", "CAL", "exec"} <= keys
    # the user's field names are never Python names in the generated code (`r`, `K` are the generator's own)
    assert not {"__builtins__", "os", "system", "exec", "eval", "__class__"} & names
    # the generated module only sees a few builtins: no import, open, exec or eval
    assert not {"__import__", "open", "exec", "eval", "compile", "getattr"} & set(injected.backend.namespace["__builtins__"])


# ---- any string value -------------------------------------------------------------------------
_values = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=40)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=_values, other=_values)
def test_any_string_literal_is_data(tmp_path_factory, value, other):
    d = tmp_path_factory.mktemp("lit")
    text = ('rulebook L\nrecord r { id: text key\n  t: text? }\n'
            f'rule R-1 "t" {{\n  on r\n  level 一级\n  owner 部\n  when t == {rules_string(value)}\n'
            "  empty t means undetermined\n}\n")
    (d / "l.rules").write_text(text, encoding="utf-8")
    rb = load_rulebooks([d / "l.rules"])
    source = rb.backend.source
    _, _, strings, _ = _names_and_strings(source)
    assert value in strings
    typed = {"r": [rb.coerce("r", {"id": "a", "t": value}), rb.coerce("r", {"id": "b", "t": other})]}
    got = {o.record["id"]: o.value for o in rb.outcomes(typed, datetime(2026, 3, 1))}
    for row in typed["r"]:  # input text may be read as empty (""), which leaves the rule undetermined
        assert got[row["id"]] is (None if row["t"] is None else row["t"] == value)
    if value.strip() == value and value:
        assert got["a"] is True
    assert not (Path.cwd() / "PWNED").exists()
