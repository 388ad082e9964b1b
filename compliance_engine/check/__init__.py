"""The checker: AST modules in, one resolved and typed `Program` out, diagnostics collected.

Passes, in order: declarations (enums, kinds, links, facts, defaults) → rules (metadata,
windows, lets, condition, tests) → duplicate rule ids. Each pass reports and goes on, so
one run lists every mistake.
"""

from __future__ import annotations

from .. import ast
from ..diagnostics import Diagnostics
from ..model import Program, Rule, RulebookInfo
from ..source import Source
from .names import did_you_mean
from .declarations import DeclarationCollector
from .rules import RuleChecker


def check(modules: list[ast.Module], sources: dict[str, Source], diags: Diagnostics) -> Program:
    collector = DeclarationCollector(diags)
    decls = collector.collect(modules)
    checker = RuleChecker(diags, decls, collector.exprs)
    infos, rules = [], []
    for module in modules:
        info = _rulebook_info(module)
        infos.append(info)
        rule_decls = [d for d in module.decls if isinstance(d, ast.RuleDecl)]
        if rule_decls and (module.header is None or module.header.is_module):
            diags.add("E0306", "含有规则的文件必须以 rulebook 声明开头", rule_decls[0].span,
                      'rulebook 名称 "标题" version "2026.1" effective 2026-01-01')
        rules.extend(checker.check(d, info) for d in rule_decls)
    _duplicate_ids(rules, diags)
    _unknown_dependencies(modules, {r.id for r in rules}, diags)
    facts = {name: fact for (_, name), fact in decls.facts.items()}
    return Program(tuple(infos), decls.kinds, decls.enums, facts, decls.links, tuple(rules), sources)


def _rulebook_info(module: ast.Module) -> RulebookInfo:
    h = module.header
    if h is None:
        stem = module.path.rsplit("/", 1)[-1].removesuffix(".rules")
        return RulebookInfo(stem, "", "", None, module.path, True)
    return RulebookInfo(h.name, h.title, h.version, h.effective, module.path, h.is_module)


def _duplicate_ids(rules: list[Rule], diags: Diagnostics) -> None:
    seen: dict[str, Rule] = {}
    for rule in rules:
        if rule.id in seen:
            diags.add("E0312", f"规则编号 {rule.id} 重复", rule.span, "每条规则的编号必须唯一",
                      [f"第一次出现在 {seen[rule.id].span}"])
        else:
            seen[rule.id] = rule


def _unknown_dependencies(modules: list[ast.Module], known: set[str], diags: Diagnostics) -> None:
    for module in modules:
        for decl in module.decls:
            if not isinstance(decl, ast.RuleDecl):
                continue
            for ref in (r for d in decl.of_type(ast.DependsOn) for r in d.rules):
                if ref.id not in known:
                    prefix = ref.id.split("-")[0]  # suggest ids of the same series only (BP-… for BP-…)
                    same_series = {k for k in known - {decl.id} if k.split("-")[0] == prefix}
                    diags.add("E0313", f"规则 {decl.id} 依赖的规则 `{ref.id}` 不存在", ref.span,
                              did_you_mean(ref.id, same_series, "检查规则编号；依赖其他规则集的规则时，用 import 载入那个规则集"))
