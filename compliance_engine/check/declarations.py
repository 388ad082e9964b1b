"""Collect the declarations of every loaded file: enums, record kinds, facts, links, defaults.

Declarations share one namespace across the files of a run (imports make files visible to
each other; duplicates are errors). Facts are checked lazily, in dependency order, so a fact
may use another declared later; a cycle among facts is reported with every fact in it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import ast, ir
from .. import types as T
from ..diagnostics import Diagnostics
from ..model import Fact, Link
from ..schema import Field, RecordKind
from ..types import EnumType, Type
from .expressions import ExprChecker, Scope, _settle
from .names import did_you_mean


@dataclass
class Declarations:
    enums: dict[str, EnumType] = field(default_factory=dict)
    kinds: dict[str, RecordKind] = field(default_factory=dict)
    facts: dict[tuple[str | None, str], Fact] = field(default_factory=dict)
    links: dict[str, Link] = field(default_factory=dict)
    defaults: dict[str, list[ast.FieldValue]] = field(default_factory=dict)


class DeclarationCollector:
    def __init__(self, diags: Diagnostics):
        self.diags = diags
        self.decls = Declarations()
        self._fact_decls: dict[tuple[str | None, str], ast.FactDecl] = {}
        self._in_progress: list[tuple[str | None, str]] = []
        self.exprs = ExprChecker(diags, self.lookup_fact, self.fact_names)

    def collect(self, modules: list[ast.Module]) -> Declarations:
        seen: dict[str, ast.Decl] = {}
        for module in modules:
            for decl in module.decls:
                if isinstance(decl, ast.EnumDecl):
                    self._declare(seen, decl.name, decl) and self._enum(decl)
        for module in modules:
            rulebook = module.header.name if module.header else module.path
            for decl in module.decls:
                if isinstance(decl, ast.RecordDecl):
                    self._declare(seen, decl.name, decl) and self._record(decl)
                elif isinstance(decl, ast.LinkDecl):
                    self._link(decl, rulebook)
                elif isinstance(decl, ast.FactDecl):
                    self._fact_decl(decl)
        for module in modules:  # after every record kind, wherever it is declared
            for decl in module.decls:
                if isinstance(decl, ast.DefaultsDecl):
                    self._defaults(decl)
        for key in list(self._fact_decls):
            self._check_fact(key)
        return self.decls

    def _defaults(self, decl: ast.DefaultsDecl) -> None:
        if decl.kind not in self.decls.kinds:
            self.diags.add("E0501", f"defaults 的记录类型 `{decl.kind}` 不存在", decl.span, did_you_mean(decl.kind, self.decls.kinds))
            return
        self.decls.defaults.setdefault(decl.kind, []).extend(decl.values)

    def _declare(self, seen: dict, name: str, decl) -> bool:
        if name in seen:
            first = seen[name].span
            self.diags.add("E0220", f"名称 `{name}` 重复声明", decl.span, "每个记录类型、枚举的名称只能声明一次",
                           [f"第一次声明在 {first}"] if first else [])
            return False
        seen[name] = decl
        return True

    # ---- enums and record kinds ------------------------------------------------------------
    def _enum(self, decl: ast.EnumDecl) -> None:
        self.decls.enums[decl.name] = EnumType(decl.name, self._members(decl.members))

    def _members(self, members: tuple[ast.Member, ...]) -> tuple[str, ...]:
        names: list[str] = []
        for m in members:
            if m.name in names:
                self.diags.add("E0221", f"枚举值 `{m.name}` 重复", m.span)
            else:
                names.append(m.name)
        return tuple(names)

    def _record(self, decl: ast.RecordDecl) -> None:
        fields: list[Field] = []
        for f in decl.fields:
            if any(x.name == f.name for x in fields):
                self.diags.add("E0222", f"记录类型 {decl.name} 的字段 `{f.name}` 重复", f.span)
                continue
            typ = self.resolve_type(f.type, f"{decl.name}.{f.name}")
            fields.append(Field(f.name, typ, f.optional, f.key, f.label, f.span))
        self.decls.kinds[decl.name] = RecordKind(decl.name, tuple(fields), decl.label, decl.span)

    def resolve_type(self, ref: ast.TypeRef, owner: str) -> Type:
        if isinstance(ref, ast.ListType):
            return T.list_of(self.resolve_type(ref.item, owner))
        if isinstance(ref, ast.InlineEnum):
            return T.enum_of(EnumType(owner, self._members(ref.members)))
        if ref.name in T.SCALARS:
            return T.SCALARS[ref.name]
        if ref.name in self.decls.enums:
            return T.enum_of(self.decls.enums[ref.name])
        hint = "金额请用 money，其他小数请用 decimal（精确小数，不用浮点数）" if ref.name in ("float", "double", "real") \
            else did_you_mean(ref.name, [*T.SCALARS, *self.decls.enums], "可用类型: " + ", ".join(T.SCALARS))
        self.diags.add("E0223", f"未知类型 `{ref.name}`", ref.span, hint)
        return T.ERROR

    # ---- links -------------------------------------------------------------------------------
    def _link(self, decl: ast.LinkDecl, rulebook: str) -> None:
        if decl.id in self.decls.links:
            self.diags.add("E0220", f"风险环节 `{decl.id}` 重复声明", decl.span)
            return
        self.decls.links[decl.id] = Link(decl.id, decl.title or decl.id, decl.order, decl.category, rulebook, decl.span)

    # ---- facts -------------------------------------------------------------------------------
    def _fact_decl(self, decl: ast.FactDecl) -> None:
        key = (decl.kind, decl.name)
        clash = key in self._fact_decls or (decl.kind is None and any(n == decl.name for _, n in self._fact_decls)) \
            or (decl.kind is not None and (None, decl.name) in self._fact_decls)
        if clash:
            self.diags.add("E0220", f"事实 `{decl.name}` 重复声明", decl.span)
            return
        if decl.kind is not None and decl.kind not in self.decls.kinds:
            self.diags.add("E0301", f"事实 `{decl.name}` 所属的记录类型 `{decl.kind}` 不存在", decl.span,
                           did_you_mean(decl.kind, self.decls.kinds))
            return
        self._fact_decls[key] = decl

    def fact_names(self, kind: str | None) -> list[str]:
        return [name for (k, name) in self._fact_decls if k is None or k == kind]

    def lookup_fact(self, name: str, kind: str | None) -> Fact | None:
        for key in ((kind, name), (None, name)):
            if key in self._fact_decls:
                return self._check_fact(key)
        return None

    def _check_fact(self, key: tuple[str | None, str]) -> Fact | None:
        if key in self.decls.facts:
            return self.decls.facts[key]
        if key in self._in_progress:
            cycle = [n for _, n in self._in_progress[self._in_progress.index(key):]] + [key[1]]
            decl = self._fact_decls[key]
            self.diags.add("E0401", "事实之间循环引用: " + " → ".join(cycle), decl.span,
                           "事实不能直接或间接地引用自己；把共同部分提取为一个新事实")
            return Fact(decl.name, decl.kind, ir.Const(None, T.ERROR), decl.span)
        decl = self._fact_decls[key]
        self._in_progress.append(key)
        kind = self.decls.kinds.get(decl.kind) if decl.kind else None
        scope = Scope(kind)
        value = self.exprs.check(decl.value, scope)
        if decl.type is not None:
            declared = self.resolve_type(decl.type, decl.name)
            value = _settle(value, declared)
            if value.type.kind not in (declared.kind, T.Kind.ERROR) or not T.comparable(declared, value.type):
                self.diags.add("E0208", f"事实 `{decl.name}` 声明为 {declared}，但值是 {value.type}", decl.span)
        self._in_progress.pop()
        fact = Fact(decl.name, decl.kind, value, decl.span, tuple(scope.used_facts))
        self.decls.facts[key] = fact
        return fact
