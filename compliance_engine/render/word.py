"""Word (.docx) rendering of one notice, via python-docx, byte-identical for identical input.

Headings in 黑体, body in 宋体 (`w:eastAsia` set on the styles, so Word uses them for Chinese
text); a metadata table, the cases table, the measures list. Determinism: the core properties
(author, dates, revision) are fixed to the notice's as-of time and the zip entries are rewritten
with that date and a fixed order.
"""

from __future__ import annotations

import io
import zipfile
from datetime import datetime

from docx import Document
from docx.oxml.ns import qn
from docx.shared import Pt, RGBColor

from ..notices import WarningNotice
from .common import CASE_HEADERS, LEVEL_HEX, case_row, feedback_lines, metadata, people

FONTS = {"Normal": ("宋体", "SimSun", 10.5), "Title": ("黑体", "SimHei", 18), "Heading 1": ("黑体", "SimHei", 14),
         "Heading 2": ("黑体", "SimHei", 12), "List Bullet": ("宋体", "SimSun", 10.5)}


def _fonts(doc) -> None:
    for name, (east_asia, latin, size) in FONTS.items():
        style = doc.styles[name]
        style.font.name = latin
        style.font.size = Pt(size)
        rpr = style.element.get_or_add_rPr()
        rfonts = rpr.get_or_add_rFonts()
        rfonts.set(qn("w:eastAsia"), east_asia)
        if name != "Normal":
            style.font.color.rgb = RGBColor(0, 0, 0)


def _table(doc, headers: list[str], rows: list[list[str]]) -> None:
    table = doc.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, headers):
        cell.text = ""
        cell.paragraphs[0].add_run(text).bold = True
    for row in rows:
        for cell, text in zip(table.add_row().cells, row):
            cell.text = text


def _core(doc, n: WarningNotice) -> None:
    props = doc.core_properties
    stamp = n.as_of.replace(microsecond=0)
    props.author = props.last_modified_by = n.issuing_unit.name
    props.title, props.subject, props.identifier = n.title, n.risk[:200], n.number
    props.created = props.modified = stamp
    props.last_printed = stamp
    props.revision = 1
    props.comments = props.keywords = props.category = ""


def build(n: WarningNotice):
    doc = Document()
    _fonts(doc)
    _core(doc, n)
    doc.add_heading(n.title, level=0)
    p = doc.add_paragraph()
    run = p.add_run(f"{n.level}预警（{n.colour}）  编号 {n.number}")
    run.bold = True
    run.font.color.rgb = RGBColor.from_string(LEVEL_HEX.get(n.level, "#555555").lstrip("#").upper())
    meta = doc.add_table(rows=0, cols=2)
    meta.style = "Table Grid"
    for key, value in metadata(n):
        cells = meta.add_row().cells
        cells[0].text, cells[1].text = key, value
    doc.add_heading("风险描述", level=1)
    doc.add_paragraph(n.risk)
    doc.add_heading("预警案例", level=1)
    _table(doc, CASE_HEADERS, [case_row(c) for c in n.cases]) if n.cases else doc.add_paragraph("无。")
    if n.pending:
        doc.add_heading("待核实", level=1)
        doc.add_paragraph("以下记录因数据缺失无法判断，请补录数据后核实：")
        _table(doc, CASE_HEADERS, [case_row(c) for c in n.pending])
    doc.add_heading("预控措施", level=1)
    for m in n.measures:
        doc.add_paragraph(f"{m.rule} {m.title}：{m.measure}", style="List Bullet")
    doc.add_heading("整改及反馈要求", level=1)
    for line in feedback_lines(n):
        doc.add_paragraph(line)
    if n.gaps:
        doc.add_heading("路由缺口", level=1)
        _table(doc, ["案例", "缺口", "原因", "送达"], [[g.finding.id, g.code, g.reason, people(g.deliver_to)] for g in n.gaps])
    return doc


def render(n: WarningNotice) -> bytes:
    buffer = io.BytesIO()
    build(n).save(buffer)
    return _deterministic_zip(buffer.getvalue(), n.as_of)


def _deterministic_zip(data: bytes, stamp: datetime) -> bytes:
    """The same package with every entry dated `stamp` (zip dates start in 1980), in name order
    with [Content_Types].xml first (Word expects it first)."""
    date_time = (max(stamp.year, 1980), stamp.month, stamp.day, stamp.hour, stamp.minute, stamp.second // 2 * 2)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        names = sorted(src.namelist(), key=lambda s: (s != "[Content_Types].xml", s))
        for name in names:
            info = zipfile.ZipInfo(name, date_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            dst.writestr(info, src.read(name))
    return out.getvalue()
