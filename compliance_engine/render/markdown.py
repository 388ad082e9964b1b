"""Markdown rendering of notices, the summary, the per-owner tasks and the routing gaps."""

from __future__ import annotations

from ..notices import NoticeSet, WarningNotice
from .common import (CASE_HEADERS, OUTCOME_WORDS, case_row, feedback_lines, level_counts, metadata, people, unit,
                     when)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def table(headers: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    return out + ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]


def notice(n: WarningNotice) -> str:
    lines = [f"# {n.title}", "", *table(["项目", "内容"], [[k, v] for k, v in metadata(n)]), "",
             "## 风险描述", "", n.risk, "", "## 预警案例", ""]
    lines += table(CASE_HEADERS, [case_row(c) for c in n.cases]) if n.cases else ["无。"]
    if n.pending:
        lines += ["", "## 待核实", "", "以下记录因数据缺失无法判断，请补录数据后核实：", "",
                  *table(CASE_HEADERS, [case_row(c) for c in n.pending])]
    lines += ["", "## 预控措施", ""] + [f"- {m.rule} {m.title}：{m.measure}" for m in n.measures]
    lines += ["", "## 整改要求", "", f"整改期限：{when(n.deadline)}", "", "## 反馈要求", "", *feedback_lines(n)]
    if n.gaps:
        lines += ["", "## 路由缺口", "", *gap_table(n.gaps)]
    return "\n".join(lines) + "\n"


def gap_table(gaps) -> list[str]:
    return table(["案例", "缺口", "原因", "送达", "抄送"],
                 [[g.finding.id, g.code, g.reason, people(g.deliver_to), people(g.copy_to)] for g in gaps])


def summary(s: NoticeSet) -> str:
    lines = [f"# 风险预警汇总（{when(s.as_of)}）", "", f"组织目录：{s.directory}；分组：{s.grouping}；"
             f"通知单 {len(s.notices)} 份；路由缺口 {len(s.routing_gaps)} 项。", "", "## 按单位和部门（事后考评）", ""]
    rows = []
    for r in s.summary:
        counts = level_counts(r.counts)
        rows.append([unit(r.unit), r.department or "—"] + [f"{f}/{u}" for _, f, u in counts]
                    + [str(sum(f for _, f, _ in counts)), "、".join(r.notices)])
    lines += table(["单位", "部门", "一级", "二级", "三级", "四级", "预警合计", "通知单"], rows)
    lines += ["", "（各级别格式：预警/待核实）", "", "## 通知单", ""]
    lines += table(["编号", "级别", "接收单位", "部门", "预警", "待核实", "整改期限"],
                   [[n.number, f"{n.level}（{n.colour}）", unit(n.receiving_unit), n.department or "—",
                     str(len(n.cases)), str(len(n.pending)), when(n.deadline)] for n in s.notices])
    if s.run:
        lines += ["", "## 运行概况", "", f"读取 {s.run['read']} 条，评估 {s.run['evaluated']} 条，拒收 {s.run['rejected']} 条。"]
    return "\n".join(lines) + "\n"


def tasks(s: NoticeSet) -> str:
    lines = [f"# 责任人任务清单（{when(s.as_of)}）"]
    for t in s.tasks:
        lines += ["", f"## {t.owner.name or t.owner.id}（{t.owner.phone or '无电话'}）· {t.unit.name} {t.department}", ""]
        lines += table(["通知单", "规则", "记录", "级别", "结论", "期限"],
                       [[x.notice, f"{x.rule} {x.title}", x.record_key, x.level, OUTCOME_WORDS.get(x.outcome, x.outcome),
                         when(x.due)] for x in t.tasks])
    return "\n".join(lines) + "\n"


def routing_gaps(s: NoticeSet) -> str:
    lines = [f"# 路由缺口（{when(s.as_of)}）", ""]
    if not s.routing_gaps:
        return "\n".join(lines + ["无：每条预警都已落实到岗位和人员。"]) + "\n"
    return "\n".join(lines + gap_table(s.routing_gaps)) + "\n"
