"""Test files kept apart from the rulebook (`*.test.yaml`), read into `RuleTest`s.

```yaml
tests:
  - name: 城区 50 分钟到达
    rule: R-001
    as_of: 2026-03-02 12:00
    given:
      - kind: ticket
        record: {arrived_at: 2026-03-02 10:50}
    expect: {outcome: fired, evidence: {limit: PT45M}}   # or just: expect: fired
  - name: 到达时限按区域                                    # table-driven: one `given` template,
    rule: R-001                                           # a row per case of overrides of the
    as_of: 2026-03-02 12:00                               # record under test, and its `expect`
    given: [{kind: ticket, record: {}}]
    cases:
      - {name: 农村 80 分钟, area: 农村, arrived_at: 2026-03-02 11:20, expect: passed}
```

Every scalar is kept as written (dates, numbers and booleans are not YAML's but the field's
type's, as CSV cells: coerce.py), fields not given come from the rulebook's `defaults KIND`
(evaluated by the checker's own code, as for the tests beside rules), and every mistake becomes
a test in error at its file:line:column, never an exception. docs/testing.md is the reference.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from ruamel.yaml import YAML, YAMLError
from ruamel.yaml.constructor import RoundTripConstructor

from . import ast
from .check.declarations import DeclarationCollector
from .check.names import did_you_mean
from .check.rules import RuleChecker
from .coerce import Invalid, RecordValueError, coerce_record, to_datetime
from .diagnostics import Diagnostics
from .model import Program, Rule
from .syntax.parser import parse
from .testing import OUTCOMES, RuleTest, value_types

TEST_SUFFIX = ".test.yaml"
_TEST_KEYS = ("name", "rule", "as_of", "given", "expect", "cases")
_CASE_KEYS = ("name", "as_of", "expect")
_EXPECT_KEYS = ("outcome", "missing", "evidence")
_MENTIONS_DEFAULTS = re.compile(r"^\s*defaults\s", re.MULTILINE)


class _TextScalars(RoundTripConstructor):
    """Round-trip loading (for line numbers) that keeps every scalar as the text written;
    a subclass, so the shared RoundTripConstructor is left untouched."""


for _tag in ("timestamp", "int", "float", "bool"):
    _TextScalars.add_constructor(f"tag:yaml.org,2002:{_tag}", RoundTripConstructor.construct_yaml_str)


class _Bad(Exception):
    """A mistake in a test file, at `where` (file:line:column) when known."""

    def __init__(self, message: str, where: str = ""):
        super().__init__(message)
        self.message, self.where = message, where


# ---- discovery ----------------------------------------------------------------------------
def discover(paths: Iterable[str | Path], extra: Iterable[str | Path] = ()) -> list[Path]:
    """Test files for rulebook `paths`: `x.test.yaml` beside a rulebook file `x.rules`, every
    `*.test.yaml` below a directory; then `extra` (files, or directories searched the same way)."""
    found: list[Path] = []
    for p in map(Path, paths):
        found += sorted(p.rglob(f"*{TEST_SUFFIX}")) if p.is_dir() else [p.with_name(p.stem + TEST_SUFFIX)]
    for p in map(Path, extra):
        found += sorted(p.rglob(f"*{TEST_SUFFIX}")) if p.is_dir() else [p]
    out: list[Path] = []
    for f in found:
        if f.is_file() and f.resolve() not in {o.resolve() for o in out}:
            out.append(f)
    return out


# ---- loading ------------------------------------------------------------------------------
def load_test_files(files: Iterable[str | Path], program: Program) -> list[RuleTest]:
    defaults = _Defaults(program)
    return [t for f in files for t in _load_file(Path(f), program, defaults)]


def _load_file(path: Path, program: Program, defaults: _Defaults) -> list[RuleTest]:
    try:
        doc = _read_yaml(path)
        entries = doc.get("tests") if isinstance(doc, Mapping) else None
        if not isinstance(entries, list):
            raise _Bad("测试文件应是 `tests:` 开头的测试列表", f"{path}:1:1")
    except _Bad as bad:
        return [RuleTest("", path.name, location=bad.where or f"{path}:1:1", file=str(path), error=bad.message)]
    return [t for i in range(len(entries)) for t in _entry(path, entries, i, program, defaults)]


def _read_yaml(path: Path) -> object:
    yaml = YAML(typ="rt")
    yaml.Constructor = _TextScalars
    try:
        return yaml.load(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError:
        raise _Bad("测试文件必须是 UTF-8 文本") from None
    except OSError as err:
        raise _Bad(f"无法读取测试文件: {err.strerror or err}") from None
    except YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
        raise _Bad(f"YAML 格式错误: {getattr(err, 'problem', None) or err}", where) from None


def _at(path: Path, node: object, key: object = None, item: int | None = None) -> str:
    """file:line:column of a mapping key or sequence item (ruamel's `lc`, 0-based)."""
    try:
        line, col = node.lc.key(key) if item is None else node.lc.item(item)
    except (AttributeError, KeyError, IndexError, TypeError):
        return f"{path}:1:1"
    return f"{path}:{line + 1}:{col + 1}"


def _entry(path: Path, entries: list, i: int, program: Program, defaults: _Defaults) -> list[RuleTest]:
    item, where = entries[i], _at(path, entries, item=i)
    try:
        return _Entry(path, item, where, program, defaults).tests()
    except _Bad as bad:
        name = str(item.get("name") or f"#{i + 1}") if isinstance(item, Mapping) else f"#{i + 1}"
        rule = str(item.get("rule") or "") if isinstance(item, Mapping) else ""
        return [RuleTest(rule, name, location=bad.where or where, file=str(path), error=bad.message)]


class _Entry:
    """One entry of `tests:`: a test, or with `cases:` one test per row of the table."""

    def __init__(self, path: Path, item: object, where: str, program: Program, defaults: _Defaults):
        self.path, self.where, self.program, self.defaults = path, where, program, defaults
        self.item = _mapping(item, "每个测试应是含 name、rule、given、expect 的映射", where)
        _known_keys(self.item, _TEST_KEYS, "测试", self._at)
        self.name = _text(self.item, "name", "测试", where)
        self.rule = self._rule(_text(self.item, "rule", f"测试「{self.name}」", where))
        self.as_of = self._as_of(self.item)
        self.given = self._given()
        self.subject = next((j for j, (kind, _, _) in enumerate(self.given) if kind == self.rule.kind.name), None)
        if self.subject is None:
            raise _Bad(f"测试「{self.name}」没有给出 {self.rule.kind.name} 记录（被检查的记录）", self._at("given"))

    def _at(self, key: str) -> str:
        return _at(self.path, self.item, key=key) if key in self.item else self.where

    def tests(self) -> list[RuleTest]:
        if ("expect" in self.item) == ("cases" in self.item):
            raise _Bad(f"测试「{self.name}」应有 expect（单个测试）或 cases（表格测试）之一", self.where)
        if "expect" in self.item:
            return [self._test(self.as_of, {}, self.item["expect"], self._at("expect"), "", self.where)]
        cases = self.item["cases"]
        if not isinstance(cases, list) or not cases:
            raise _Bad(f"测试「{self.name}」的 cases 应是非空列表", self._at("cases"))
        return [self._case(cases, k) for k in range(len(cases))]

    def _case(self, cases: list, k: int) -> RuleTest:
        where = _at(self.path, cases, item=k)
        row = cases[k]
        label = str(row.get("name") or f"#{k + 1}") if isinstance(row, Mapping) else f"#{k + 1}"
        try:
            row = _mapping(row, "cases 的每一行应是映射：字段覆盖值加 expect", where)
            if "expect" not in row:
                raise _Bad(f"cases 的「{label}」缺少 expect", where)
            overrides = {str(key): _plain(value) for key, value in row.items() if key not in _CASE_KEYS}
            as_of = self._as_of(row) if "as_of" in row else self.as_of
            return self._test(as_of, overrides, row["expect"], where, label, where)
        except _Bad as bad:
            return RuleTest(self.rule.id, self.name, case=label, location=bad.where or where, file=str(self.path),
                            error=bad.message)

    def _test(self, as_of, overrides: dict, expect: object, expect_at: str, case: str, where: str) -> RuleTest:
        if as_of is None and self.rule.uses_as_of:
            raise _Bad(f"规则 {self.rule.id} 用到了 as_of，测试「{self.name}」必须给出 as_of", where)
        outcome, missing, evidence = self._expect(expect, expect_at)
        records = tuple((kind, self._record(kind, raw, at)) if j != self.subject or not overrides
                        else (kind, self._record(kind, {**raw, **overrides}, where))  # the row overriding
                        for j, (kind, raw, at) in enumerate(self.given))
        return RuleTest(self.rule.id, self.name, as_of, records, self.subject, outcome, missing, evidence,
                        case, where, str(self.path))

    # ---- parts ---------------------------------------------------------------------------
    def _rule(self, rule_id: str) -> Rule:
        rule = self.program.rule(rule_id)
        if rule is None:
            hint = did_you_mean(rule_id, [r.id for r in self.program.rules])
            raise _Bad(f"规则 {rule_id} 不存在" + (f"；{hint}" if hint else ""), self._at("rule"))
        return rule

    def _as_of(self, node: Mapping) -> object:
        value = _plain(node.get("as_of"))
        if value is None:
            return None
        try:
            return to_datetime(value)
        except Invalid:
            raise _Bad(f"as_of 的值 `{value}` 不是日期时间（应为 YYYY-MM-DD HH:MM）",
                       _at(self.path, node, key="as_of")) from None

    def _given(self) -> list[tuple[str, dict, str]]:
        given = self.item.get("given")
        if not isinstance(given, list) or not given:
            raise _Bad(f"测试「{self.name}」的 given 应是非空列表：- {{kind: …, record: {{…}}}}", self._at("given"))
        return [self._one_given(given, j) for j in range(len(given))]

    def _one_given(self, given: list, j: int) -> tuple[str, dict, str]:
        where = _at(self.path, given, item=j)
        g = _mapping(given[j], "given 的每一项应是 {kind: 记录类型, record: {字段: 值}}", where)
        _known_keys(g, ("kind", "record"), "given", lambda key: _at(self.path, g, key=key))
        kind = _text(g, "kind", "given", where)
        if kind not in self.program.kinds:
            hint = did_you_mean(kind, self.program.kinds)
            raise _Bad(f"记录类型 `{kind}` 不存在" + (f"；{hint}" if hint else ""), where)
        record = g.get("record") or {}
        record = _mapping(record, "record 应是 {字段: 值} 的映射", where)
        return kind, {str(k): _plain(v) for k, v in record.items()}, where

    def _record(self, kind_name: str, raw: dict, where: str) -> dict:
        kind = self.program.kinds[kind_name]
        for name in raw:
            if kind.field(name) is None:
                hint = did_you_mean(name, kind.field_names)
                raise _Bad(f"记录类型 {kind_name} 没有字段 `{name}`" + (f"；{hint}" if hint else ""), where)
        try:
            return coerce_record(kind, {**self.defaults.record(kind_name), **raw})
        except RecordValueError as err:
            raise _Bad(f"{kind_name} 记录: {err}", where) from None

    def _expect(self, node: object, where: str) -> tuple[str, tuple[str, ...], dict]:
        if isinstance(node, str):
            node = {"outcome": node}
        node = _mapping(node, "expect 应是 fired、passed、undetermined，或 {outcome, missing, evidence}", where)
        _known_keys(node, _EXPECT_KEYS, "expect", lambda key: where)
        outcome = node.get("outcome")
        if outcome not in OUTCOMES:
            raise _Bad(f"expect 的 outcome 应是 fired、passed 或 undetermined，而不是 `{outcome}`", where)
        missing = tuple(str(n) for n in _names(_plain(node.get("missing"))))
        if missing and outcome != "undetermined":
            raise _Bad("只有 undetermined 才能写 missing", where)
        types = value_types(self.rule)
        missing_ok = {*self.rule.kind.field_names, *(n for w in self.rule.windows for n, _ in w.aggregates)}
        evidence = _mapping(node.get("evidence") or {}, "evidence 应是 {名称: 值} 的映射", where)
        evidence = {str(k): _plain(v) for k, v in evidence.items()}
        _known_names(missing, missing_ok, "missing 中的 `{}` 不是规则的字段或窗口结果", where)
        _known_names(evidence, types, "evidence 中的 `{}` 不是规则的字段、let、事实或窗口结果", where)
        return outcome, missing, evidence


def _mapping(node: object, message: str, where: str) -> Mapping:
    if not isinstance(node, Mapping):
        raise _Bad(message, where)
    return node


def _known_keys(node: Mapping, known: tuple[str, ...], what: str, at) -> None:
    for key in node:
        if key not in known:
            hint = did_you_mean(str(key), known, f"可写: {', '.join(known)}")
            raise _Bad(f"{what} 中不认识 `{key}`；{hint}", at(key))


def _known_names(names: Iterable[str], known: Iterable[str], message: str, where: str) -> None:
    for name in names:
        if name not in known:
            hint = did_you_mean(name, known)
            raise _Bad(message.format(name) + (f"；{hint}" if hint else ""), where)


def _text(node: Mapping, key: str, what: str, where: str) -> str:
    value = node.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _Bad(f"{what}缺少 {key}", where)
    return value.strip()


def _names(value: object) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [n.strip() for n in str(value).split(",")]


def _plain(value: object) -> object:
    """ruamel's scalar and list types as plain `str` and `list` (coerce.py checks exact types)."""
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return str(value) if isinstance(value, str) else value


# ---- defaults -----------------------------------------------------------------------------
class _Defaults:
    """Typed default records per kind, from the `defaults KIND { … }` of the loaded files.

    The program does not keep them, so the files that declare defaults are parsed again (only
    those: parsing every file would cost a second on the standard rulebooks) and the checker's
    own collector and test-record builder evaluate them, with the program's kinds and enums."""

    def __init__(self, program: Program):
        self.program = program
        self._records: dict[str, dict] | None = None

    def record(self, kind: str) -> dict:
        if self._records is None:
            self._records = self._build()
        return self._records.get(kind, {})

    def _build(self) -> dict[str, dict]:
        diags = Diagnostics()  # the rulebook checked clean: nothing new can be reported here
        modules = [m for s in self.program.sources.values()
                   if _MENTIONS_DEFAULTS.search(s.text) and (m := parse(s, diags)) is not None]
        collector = DeclarationCollector(diags)
        collector.decls.enums.update(self.program.enums)
        collector.decls.kinds.update(self.program.kinds)
        decls = collector.collect(modules)
        checker = RuleChecker(diags, decls, collector.exprs)
        return {kind: {k: v for k, v in checker._given(ast.Given(kind, ())).items() if v is not None}
                for kind in decls.defaults}
