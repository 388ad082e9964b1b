"""Present a `RulebookDiff` and its `Impact`: text for a terminal, JSON for tools, Markdown for
a pull-request comment (a summary table first, then the details in `<details>` blocks).

Renderers only format: every number and text comes from diff.py and impact.py.
"""

from __future__ import annotations

import html
import json
from dataclasses import asdict
from datetime import datetime
from typing import Callable, Iterable

from rich.cells import cell_len

from .diff import Change, DeclChange, RuleChange, RulebookDiff, literal
from .findings import json_value
from .impact import Impact, ImpactEntry, Tally, tally

ASPECTS = {
    "title": "标题", "rulebook": "规则集", "subject": "检查对象", "category": "风险类别", "link": "风险环节",
    "level": "预警级别", "owner": "责任", "supervisor": "监督", "deadline": "整改时限", "measure": "防控措施",
    "source": "依据", "tags": "标签", "depends_on": "依赖", "empty": "空值待定", "window": "窗口", "let": "let",
    "condition": "条件", "threshold": "阈值", "constant": "常量", "fact": "事实", "tests": "测试",
    "version": "版本", "effective": "生效日期", "is_module": "模块", "label": "名称", "field": "字段",
    "members": "成员", "on": "记录类型", "order": "顺序",
}
WHAT = {"rulebook": "规则集", "record": "记录类型", "enum": "枚举", "fact": "事实", "link": "风险环节"}
STATUS = {"added": "+", "removed": "-", "changed": "~"}
_DECL_STATUS = {"added": "新增", "removed": "删除", "changed": "改变"}
OUTCOMES = {"fired": "预警", "undetermined": "待定", "passed": "通过", "absent": "无"}
CHANGES = {"appears": "新增", "disappears": "消失", "changes": "结论改变", "reassigned": "改派"}
MARKS = {"appears": "+", "disappears": "−", "changes": "~", "reassigned": "→"}
MAX_ROWS = 50  # findings listed per rule in Markdown; a PR comment holds at most 65,536 characters
_SHORT = 48


def render(fmt: str, diff: RulebookDiff, impact: Impact | None, old: str, new: str) -> str:
    renderers: dict[str, Callable[..., str]] = {"text": render_text, "json": render_json, "markdown": render_markdown}
    return renderers[fmt](diff, impact, old, new)


# ---- shared words ----------------------------------------------------------------------------------


def summary(diff: RulebookDiff) -> str:
    c = diff.counts()
    retitled = f"（其中改标题 {c['retitled']}）" if c["retitled"] else ""
    return (f"规则改变 {c['changed']}{retitled} · 新增 {c['added']} · 删除 {c['removed']} · 改编号 {c['renamed']}"
            f" · 声明变更 {c['declarations']}")


def aspect(change: Change) -> str:
    name = ASPECTS.get(change.aspect, change.aspect)
    return f"{name} · {change.part}" if change.part else name


def value_text(value: object) -> str:
    """An evidence value as a reviewer reads it (`45 minutes`, `2026-03-02T10:30`, text bare)."""
    if isinstance(value, str):
        return value
    if value is None:
        return "空"
    if isinstance(value, (list, tuple)):
        return "(" + ", ".join(map(value_text, value)) + ")"
    return literal(value)


def evidence_text(entry: ImpactEntry) -> str:
    """The values that decided, `old → new` where the two versions computed them differently."""
    before = entry.evidence_before
    shown = " · ".join(f"{k} {value_text(before[k])} → {value_text(v)}" if k in before and before[k] != v
                       else f"{k} {value_text(v)}" for k, v in entry.evidence.items())
    return shown + (f"（缺 {', '.join(entry.missing)}）" if entry.missing else "")


def tally_text(t: Tally) -> str:
    parts = [f"+{t.appears}" * bool(t.appears), f"−{t.disappears}" * bool(t.disappears),
             f"~{t.changes}" * bool(t.changes), f"→{t.reassigned_in}" * bool(t.reassigned_in)]
    return " ".join(p for p in parts if p) or "0"


def _short(text: str | None, limit: int = _SHORT) -> str:
    if text is None:
        return "—"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _as_of(t: datetime) -> str:
    return t.isoformat(sep=" ", timespec="minutes")


def _files(impact: Impact) -> str:
    return f"{len(impact.files)} 个案例文件 ({', '.join(impact.files)})"


def _run_line(name: str, run) -> str:
    skipped = f"；未读取 {', '.join(run.skipped)}（没有对应的记录类型）" if run.skipped else ""
    return (f"{name}: 读取 {run.read} 条记录，拒收 {run.rejected}；预警 fired {run.count('fired')}，"
            f"待定 undetermined {run.count('undetermined')}{skipped}")


def _rule_rows(impact: Impact, moved: bool) -> list[list[str]]:
    tallies, entries = impact.by_rule(), dict(_by_rule(impact.entries))
    rows = []
    for rule in impact.rules():
        t, mine = tallies.get(rule, Tally()), entries.get(rule, [])
        rows.append([rule, impact.titles.get(rule, ""),
                     f"{impact.old.count('fired', rule)} → {impact.new.count('fired', rule)}",
                     f"{impact.old.count('undetermined', rule)} → {impact.new.count('undetermined', rule)}",
                     str(t.appears), str(t.disappears), str(t.changes), *([str(t.reassigned_in)] * moved),
                     "、".join(dict.fromkeys(_owner_move(e) for e in mine)) or "—",
                     " · ".join(f"{unit} {tally_text(u)}" for unit, u in _tally_units(mine).items()) or "—"])
    return rows


def _tally_units(entries: list[ImpactEntry]) -> dict[str, Tally]:
    return tally(entries, lambda e: e.org_no or "-", lambda e: e.org_no or "-")


def _tally_rows(tallies: dict[str, Tally], moved: bool) -> list[list[str]]:
    return [[name or "—", str(t.appears), str(t.disappears), str(t.changes),
             *([str(t.reassigned_in), str(t.reassigned_out)] * moved)] for name, t in tallies.items()]


def _rule_head(moved: bool) -> list[str]:
    return ["规则", "标题", "预警 旧→新", "待定 旧→新", "新增", "消失", "结论改变", *(["改派"] * moved), "责任", "涉及单位"]


def _tally_head(moved: bool) -> list[str]:
    return ["新增", "消失", "结论改变", *(["改派转入", "改派转出"] * moved)]


def _moved(impact: Impact) -> bool:
    return any(e.change == "reassigned" for e in impact.entries)


# ---- text --------------------------------------------------------------------------------------------


def render_text(diff: RulebookDiff, impact: Impact | None, old: str, new: str) -> str:
    lines = [f"compliance diff {old} → {new}", summary(diff)]
    if not diff.has_changes:
        return "\n".join([*lines, "没有语义变化 (no semantic change)"]) + "\n"
    for rc in diff.changed:
        lines += ["", f"~ {rc.id} {rc.title}  ({rc.location})"] + [f"    {x}" for c in rc.changes for x in _change_lines(c)]
    for mark, infos in (("+", diff.added), ("-", diff.removed)):
        for r in infos:
            lines += ["", f"{mark} {r.id} {r.title}  [{r.subject} · {r.level} · {r.owner}]  ({r.location})",
                      *(f"    {c}" for c in r.clauses), f"    when {r.condition}"]
    for r in diff.renamed:
        lines += ["", f"= {r.old_id} → {r.new_id} {r.title}  编号改变，内容相同 (id renamed)  ({r.location})"]
    for d in diff.declarations:
        lines += ["", f"{STATUS[d.status]} {WHAT[d.what]} {d.name}"] + [f"    {x}" for c in d.changes for x in _change_lines(c)]
    if impact is not None:
        lines += ["", *_impact_text(impact)]
    return "\n".join(lines) + "\n"


def _change_lines(c: Change) -> list[str]:
    head = aspect(c)
    if c.old is None or c.new is None:
        return [f"{head}: {'+ ' + c.new if c.old is None else '- ' + c.old}"]
    if c.aspect in ("threshold", "constant"):
        lines = [f"{head}: {c.old} → {c.new}"]
        return lines + ([f"      {c.context[0]}", f"    → {c.context[1]}"] if c.context else [])
    if len(c.old) + len(c.new) <= _SHORT:
        return [f"{head}: {c.old} → {c.new}"]
    return [f"{head}:", f"  - {c.old}", f"  + {c.new}"]


def _impact_text(impact: Impact) -> list[str]:
    t = impact.totals()
    lines = [f"影响 impact: {_files(impact)}, as_of {_as_of(impact.as_of)}",
             "  " + _run_line("旧 old", impact.old), "  " + _run_line("新 new", impact.new),
             f"  新增 {t.appears} · 消失 {t.disappears} · 结论改变 {t.changes} · 改派 {t.reassigned_in}"]
    if not impact.rules():
        return lines + ["  案例上的结论没有变化 (no finding changes on these cases)"]
    moved = _moved(impact)
    lines += ["", *_columns([_rule_head(moved), *_rule_rows(impact, moved)], "  ")]
    for title, tallies in (("按责任 by owner", impact.by_owner()), ("按单位 by unit (org_no)", impact.by_unit())):
        lines += ["", f"  {title}:", *_columns([["", *_tally_head(moved)], *_tally_rows(tallies, moved)], "    ")]
    for rule, entries in _by_rule(impact.entries):
        lines += ["", f"  {rule} {entries[0].title}:"]
        lines += _columns([[MARKS[e.change], e.record_key, e.org_no or "-", f"{e.old} → {e.new}", _owner_move(e),
                            evidence_text(e)] for e in entries], "    ")
    return lines


def _owner_move(e: ImpactEntry) -> str:
    return f"{e.owner_old} → {e.owner_new}" if e.change == "reassigned" else e.owner


def _by_rule(entries: Iterable[ImpactEntry]) -> list[tuple[str, list[ImpactEntry]]]:
    out: dict[str, list[ImpactEntry]] = {}
    for e in entries:
        out.setdefault(e.rule, []).append(e)
    return list(out.items())


def _columns(rows: list[list[str]], indent: str) -> list[str]:
    widths = [max(cell_len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [indent + "  ".join(c + " " * (w - cell_len(c)) for c, w in zip(r, widths)).rstrip() for r in rows]


# ---- JSON --------------------------------------------------------------------------------------------


def render_json(diff: RulebookDiff, impact: Impact | None, old: str, new: str) -> str:
    doc = {"old": old, "new": new, "changed": diff.has_changes, "summary": diff.counts(),
           "rules": {"changed": [_rule_change_json(c) for c in diff.changed],
                     "added": [asdict(r) for r in diff.added], "removed": [asdict(r) for r in diff.removed],
                     "renamed": [asdict(r) for r in diff.renamed]},
           "declarations": [_decl_json(d) for d in diff.declarations],
           "impact": _impact_json(impact) if impact is not None else None}
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


def _change_json(c: Change) -> dict:
    out = {"aspect": c.aspect, "part": c.part, "old": c.old, "new": c.new}
    if c.context:
        out["context"] = {"old": c.context[0], "new": c.context[1]}
    if c.words:
        out["words"] = {"old": c.words[0], "new": c.words[1]}
    return out


def _rule_change_json(rc: RuleChange) -> dict:
    return {"id": rc.id, "title": rc.title, "location": rc.location, "changes": [_change_json(c) for c in rc.changes]}


def _decl_json(d: DeclChange) -> dict:
    return {"what": d.what, "name": d.name, "status": d.status, "changes": [_change_json(c) for c in d.changes]}


def _impact_json(impact: Impact) -> dict:
    def version(run) -> dict:
        return {"read": run.read, "rejected": run.rejected, "fired": run.count("fired"),
                "undetermined": run.count("undetermined"), "skipped": list(run.skipped)}

    def tallies(d: dict[str, Tally]) -> dict:
        return {name: asdict(t) for name, t in d.items()}

    rules = {rule: {"title": impact.titles.get(rule, ""),
                    "fired": [impact.old.count("fired", rule), impact.new.count("fired", rule)],
                    "undetermined": [impact.old.count("undetermined", rule), impact.new.count("undetermined", rule)],
                    **asdict(impact.by_rule().get(rule, Tally()))} for rule in impact.rules()}
    return {"as_of": impact.as_of.isoformat(), "files": list(impact.files), "old": version(impact.old),
            "new": version(impact.new), "totals": asdict(impact.totals()), "by_rule": rules,
            "by_owner": tallies(impact.by_owner()), "by_unit": tallies(impact.by_unit()),
            "findings": [_entry_json(e) for e in impact.entries]}


def _entry_json(e: ImpactEntry) -> dict:
    out = asdict(e)
    out["missing"] = list(e.missing)
    out["evidence"] = {k: json_value(v) for k, v in e.evidence.items()}
    out["evidence_before"] = {k: json_value(v) for k, v in e.evidence_before.items()}
    return out


# ---- Markdown ----------------------------------------------------------------------------------------


def render_markdown(diff: RulebookDiff, impact: Impact | None, old: str, new: str) -> str:
    out = [f"## 规则变更 `{old}` → `{new}`", "", f"**{summary(diff)}**", ""]
    if not diff.has_changes:
        return "\n".join([*out, "没有语义变化：只改了格式或注释 (no semantic change)."]) + "\n"
    tallies = impact.by_rule() if impact is not None else None
    out += _md_change_table(diff, tallies)
    if impact is not None:
        out += ["", *_md_impact(impact)]
    out += ["", *_md_details(diff)]
    return "\n".join(out).rstrip() + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _code(text: str | None, limit: int = _SHORT) -> str:
    return "—" if text is None else f"`{_cell(_short(text, limit))}`"


def _table(head: list[str], rows: list[list[str]], right: Iterable[int] = ()) -> list[str]:
    align = ["---:" if i in set(right) else "---" for i in range(len(head))]
    return ["| " + " | ".join(head) + " |", "| " + " | ".join(align) + " |",
            *("| " + " | ".join(_cell(c) if "`" not in c else c for c in row) + " |" for row in rows)]


def _md_change_table(diff: RulebookDiff, tallies: dict[str, Tally] | None) -> list[str]:
    """One row per change: rule, what, old, new, and (with cases) how many findings it moves."""
    rows = []

    def impact_of(rule: str) -> str:
        return tally_text(tallies.get(rule, Tally())) if tallies is not None else ""

    for rc in diff.changed:
        for i, c in enumerate(rc.changes):
            first = i == 0
            rows.append([f"**{rc.id}** {rc.title}" if first else "", aspect(c), _code(c.old), _code(c.new),
                         impact_of(rc.id) if first else ""])
    for mark, infos in (("新增规则", diff.added), ("删除规则", diff.removed)):
        for r in infos:
            text = _code(r.condition)
            rows.append([f"**{r.id}** {r.title}", mark, "—" if mark == "新增规则" else text,
                         text if mark == "新增规则" else "—", impact_of(r.id)])
    for r in diff.renamed:
        rows.append([f"**{r.new_id}** {r.title}", "改编号（内容相同）", f"`{r.old_id}`", f"`{r.new_id}`", impact_of(r.new_id)])
    for d in diff.declarations:
        name = f"{WHAT[d.what]} `{d.name}`"
        if not d.changes:
            rows.append([name, _DECL_STATUS[d.status], "", "", ""])
        rows += [[name if i == 0 else "", aspect(c), _code(c.old), _code(c.new), ""] for i, c in enumerate(d.changes)]
    head = ["规则", "改变", "旧", "新"] + (["对案例的影响"] if tallies is not None else [])
    table = _table(head, [r if tallies is not None else r[:4] for r in rows])
    return table + (["", "对案例的影响：+ 新增的预警/待定，− 消失的，~ 结论改变的，→ 改派给新责任的。"] if tallies is not None else [])


def _md_impact(impact: Impact) -> list[str]:
    t = impact.totals()
    out = [f"### 对案例的影响 · {_files(impact)} · as_of {_as_of(impact.as_of)}", ""]
    fired = (impact.old.count("fired"), impact.new.count("fired"))
    undetermined = (impact.old.count("undetermined"), impact.new.count("undetermined"))
    out += _table(["", "旧", "新", "变化"], [
        ["读取记录", str(impact.old.read), str(impact.new.read), _delta(impact.old.read, impact.new.read)],
        ["拒收", str(impact.old.rejected), str(impact.new.rejected), _delta(impact.old.rejected, impact.new.rejected)],
        ["预警 fired", str(fired[0]), str(fired[1]), _delta(*fired)],
        ["待定 undetermined", str(undetermined[0]), str(undetermined[1]), _delta(*undetermined)],
    ], right=(1, 2, 3))
    out += ["", f"结论变化的记录：**新增 {t.appears}** · **消失 {t.disappears}** · 结论改变 {t.changes} · 改派 {t.reassigned_in}"]
    skipped = [f"- {name}未读取 {', '.join(run.skipped)}（没有对应的记录类型）"
               for name, run in (("旧版本", impact.old), ("新版本", impact.new)) if run.skipped]
    out += ["", *skipped] if skipped else []
    if not impact.rules():
        return out + ["", "案例上的结论没有变化。"]
    moved, counts = _moved(impact), (1, 2, 3, 4, 5)
    out += ["", "**按规则**", "", *_table(_rule_head(moved), _rule_rows(impact, moved), right=(4, 5, 6, 7)[:3 + moved])]
    out += ["", "**按责任**", "", *_table(["责任", *_tally_head(moved)], _tally_rows(impact.by_owner(), moved), right=counts)]
    out += ["", "**按单位 (org_no)**", "", *_table(["单位", *_tally_head(moved)], _tally_rows(impact.by_unit(), moved),
                                                  right=counts)]
    for rule, entries in _by_rule(impact.entries):
        out += ["", *_md_findings(rule, entries)]
    return out


def _delta(a: int, b: int) -> str:
    return "0" if a == b else (f"+{b - a}" if b > a else f"−{a - b}")


def _md_findings(rule: str, entries: list[ImpactEntry]) -> list[str]:
    counts = {}
    for e in entries:
        counts[e.change] = counts.get(e.change, 0) + 1
    said = "，".join(f"{CHANGES[k]} {n}" for k, n in counts.items())
    rows = [[MARKS[e.change], f"`{_cell(e.record_key)}`", e.org_no or "—", f"{OUTCOMES[e.old]} → {OUTCOMES[e.new]}",
             _owner_move(e), evidence_text(e)] for e in entries[:MAX_ROWS]]
    out = [f"<details><summary><b>{html.escape(rule)}</b> {html.escape(entries[0].title)}：{said}</summary>", "",
           *_table(["", "记录", "单位", "旧 → 新", "责任", "依据 (evidence)"], rows)]
    if len(entries) > MAX_ROWS:
        out += ["", f"……另有 {len(entries) - MAX_ROWS} 条，完整列表见 `--format json`。"]
    return out + ["", "</details>"]


def _md_details(diff: RulebookDiff) -> list[str]:
    body: list[str] = []
    for rc in diff.changed:
        body += [f"#### {rc.id} {rc.title}", "", f"`{rc.location}`", ""]
        for c in rc.changes:
            body += _md_change(c)
        body.append("")
    for heading, infos in (("新增规则", diff.added), ("删除规则", diff.removed)):
        for r in infos:
            body += [f"#### {heading} {r.id} {r.title}", "", f"`{r.location}` · {r.subject} · {r.level} · {r.owner}", "",
                     "```", *r.clauses, f"when {r.condition}", "```", "", f"即：{r.words}", ""]
    for r in diff.renamed:
        body += [f"#### {r.old_id} → {r.new_id} {r.title}", "", f"`{r.location}`：编号改变，内容相同。", ""]
    for d in diff.declarations:
        body += [f"#### {WHAT[d.what]} {d.name}（{_DECL_STATUS[d.status]}）", ""]
        for c in d.changes:
            body += _md_change(c)
        body.append("")
    return ["<details><summary>变更详情（条件改写为规则语言，并附中文说明）</summary>", "", *body, "</details>"]


def _md_change(c: Change) -> list[str]:
    head = f"- **{aspect(c)}**"
    if c.aspect in ("threshold", "constant"):
        out = [f"{head}：`{c.old}` → `{c.new}`"]
        if c.context:
            out += ["", "  ```diff", f"  - {c.context[0]}", f"  + {c.context[1]}", "  ```"]
    elif c.old is None or c.new is None or len(c.old) + len(c.new) > _SHORT or "\n" in c.old + c.new:
        lines = ([f"  - {c.old}"] if c.old is not None else []) + ([f"  + {c.new}"] if c.new is not None else [])
        out = [f"{head}：", "", "  ```diff", *lines, "  ```"]
    else:
        out = [f"{head}：`{c.old}` → `{c.new}`"]
    if c.words and c.words[0] != c.words[1]:
        out += ["", f"  即：{c.words[0]} → {c.words[1]}"]
    return out
