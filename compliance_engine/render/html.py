"""HTML rendering: printable A4 (CSS `@page`), one notice per page, a summary chart as inline SVG.

Self-contained: no JavaScript, no external fonts, images or style sheets.
"""

from __future__ import annotations

from html import escape

from ..model import LEVELS
from ..notices import NoticeSet, WarningNotice
from .common import (CASE_HEADERS, LEVEL_HEX, case_row, feedback_lines, level_counts, metadata, people, unit, when)

CSS = """
@page { size: A4; margin: 18mm 16mm; }
body { font-family: "SimSun", "Songti SC", "Noto Serif CJK SC", serif; font-size: 10.5pt; color: #000; margin: 0; }
h1, h2 { font-family: "SimHei", "Heiti SC", "Noto Sans CJK SC", sans-serif; }
h1 { font-size: 18pt; text-align: center; margin: 0 0 4mm; }
h2 { font-size: 12pt; margin: 5mm 0 2mm; border-left: 4px solid #444; padding-left: 2mm; }
.page { page-break-after: always; break-after: page; padding: 10mm; }
.page:last-child { page-break-after: auto; break-after: auto; }
.level { display: inline-block; padding: 1mm 4mm; color: #fff; font-weight: bold; border-radius: 2mm; }
table { border-collapse: collapse; width: 100%; margin: 2mm 0; }
th, td { border: 1px solid #555; padding: 1.2mm 2mm; vertical-align: top; text-align: left; word-break: break-all; }
th { background: #eee; }
table.meta th { width: 22%; }
tr { page-break-inside: avoid; }
"""


def _page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n<title>{escape(title)}</title>\n'
            f"<style>{CSS}</style>\n</head>\n<body>\n{body}</body>\n</html>\n")


def _table(headers: list[str], rows: list[list[str]], cls: str = "") -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in r) + "</tr>\n" for r in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead>\n<tbody>\n{body}</tbody></table>\n'


def _meta(n: WarningNotice) -> str:
    rows = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>\n" for k, v in metadata(n))
    return f'<table class="meta"><tbody>\n{rows}</tbody></table>\n'


def notice_section(n: WarningNotice) -> str:
    colour = LEVEL_HEX.get(n.level, "#555")
    parts = [f'<section class="page" id="{escape(n.number)}">\n<h1>{escape(n.title)}</h1>\n',
             f'<p><span class="level" style="background:{colour}">{escape(n.level)}预警（{escape(n.colour)}）</span> '
             f"编号 {escape(n.number)}</p>\n", _meta(n), f"<h2>风险描述</h2>\n<p>{escape(n.risk)}</p>\n",
             "<h2>预警案例</h2>\n", _table(CASE_HEADERS, [case_row(c) for c in n.cases]) if n.cases else "<p>无。</p>\n"]
    if n.pending:
        parts += ["<h2>待核实</h2>\n<p>以下记录因数据缺失无法判断，请补录数据后核实：</p>\n",
                  _table(CASE_HEADERS, [case_row(c) for c in n.pending])]
    parts += ["<h2>预控措施</h2>\n<ul>\n", *(f"<li>{escape(m.rule)} {escape(m.title)}：{escape(m.measure)}</li>\n"
                                            for m in n.measures), "</ul>\n",
              f"<h2>整改要求</h2>\n<p>整改期限：{escape(when(n.deadline))}</p>\n<h2>反馈要求</h2>\n",
              "".join(f"<p>{escape(line)}</p>\n" for line in feedback_lines(n))]
    if n.gaps:
        parts += ["<h2>路由缺口</h2>\n", _table(["案例", "缺口", "原因", "送达"],
                                             [[g.finding.id, g.code, g.reason, people(g.deliver_to)] for g in n.gaps])]
    return "".join(parts) + "</section>\n"


def notice(n: WarningNotice) -> str:
    return _page(n.number, notice_section(n))


def chart(s: NoticeSet) -> str:
    """Stacked horizontal bars: fired findings per unit + department, one colour per level."""
    rows = [(f"{r.unit.name} {r.department or ''}".strip(), level_counts(r.counts)) for r in s.summary]
    top = max((sum(f for _, f, _ in c) for _, c in rows), default=0) or 1
    bar_w, label_w, row_h = 360, 260, 22
    height = row_h * len(rows) + 40
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + bar_w + 60}" height="{height}" '
           f'role="img" aria-label="各单位部门预警数量">\n']
    for i, (label, counts) in enumerate(rows):
        y, x = 10 + i * row_h, label_w
        out.append(f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end" font-size="12">{escape(label)}</text>\n')
        for lv, fired, _ in counts:
            w = round(bar_w * fired / top)
            if w:
                out.append(f'<rect x="{x}" y="{y}" width="{w}" height="{row_h - 6}" fill="{LEVEL_HEX[lv]}"><title>{lv} {fired}</title></rect>\n')
            x += w
        out.append(f'<text x="{x + 4}" y="{y + 14}" font-size="12">{sum(f for _, f, _ in counts)}</text>\n')
    legend_y = height - 12
    for i, lv in enumerate(LEVELS):
        out.append(f'<rect x="{label_w + i * 80}" y="{legend_y - 10}" width="12" height="12" fill="{LEVEL_HEX[lv]}"/>'
                   f'<text x="{label_w + i * 80 + 16}" y="{legend_y}" font-size="12">{lv}</text>\n')
    return "".join(out) + "</svg>\n"


def summary(s: NoticeSet) -> str:
    rows = []
    for r in s.summary:
        counts = level_counts(r.counts)
        rows.append([unit(r.unit), r.department or "—"] + [f"{f}/{u}" for _, f, u in counts]
                    + ["、".join(r.notices)])
    notices = [[n.number, f"{n.level}（{n.colour}）", unit(n.receiving_unit), n.department or "—",
                str(len(n.cases)), str(len(n.pending)), when(n.deadline)] for n in s.notices]
    body = (f'<section class="page">\n<h1>风险预警汇总（{escape(when(s.as_of))}）</h1>\n'
            f"<p>组织目录：{escape(s.directory)}；通知单 {len(s.notices)} 份；路由缺口 {len(s.routing_gaps)} 项。</p>\n"
            f"<h2>预警数量（按单位和部门）</h2>\n{chart(s)}<h2>事后考评（预警/待核实）</h2>\n"
            + _table(["单位", "部门", "一级", "二级", "三级", "四级", "通知单"], rows)
            + "<h2>通知单</h2>\n" + _table(["编号", "级别", "接收单位", "部门", "预警", "待核实", "整改期限"], notices)
            + "</section>\n")
    return _page("风险预警汇总", body)
