"""Warning notices (docs/notices.md): grouping, numbering, masking, routing gaps, renderings.

A small run: the example rulebooks over the first rows of the example case files, routed with
examples/org.yaml, as of 2026-03-31 18:00.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from compliance_engine.api import load_rulebooks
from compliance_engine.cli.run import run_command
from compliance_engine.masking import mask_text, mask_value
from compliance_engine.notices import GROUPINGS, NOTICE_SCHEMA_VERSION, NoticeSet, notices_for_run
from compliance_engine.org import load_directory
from compliance_engine.render import markdown, write_notices
from compliance_engine.render.jsonfile import dump
from compliance_engine.responsibility import build_chains
from compliance_engine.runner import evaluate, read_cases

ROOT = Path(__file__).parent.parent
AS_OF = datetime(2026, 3, 31, 18, 0)
NUMBER = re.compile(r"^YJ-\d+-20260331-\d{3}$")


def head(src: Path, dst: Path, rows: int) -> Path:
    lines = src.read_text(encoding="utf-8").splitlines(keepends=True)
    dst.write_text("".join(lines[: rows + 1]), encoding="utf-8")
    return dst


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """(rulebooks, findings, run, directory, case files) of a small run."""
    tmp = tmp_path_factory.mktemp("cases")
    files = [head(ROOT / "examples/cases/ticket.csv", tmp / "ticket.csv", 80),
             head(ROOT / "examples/cases/billing.csv", tmp / "billing.csv", 60)]
    rulebooks = load_rulebooks([ROOT / "examples/rulebooks"])
    kinds = rulebooks.program.kinds
    run = read_cases(rulebooks, [(p, kinds[p.stem]) for p in files])
    findings = list(evaluate(rulebooks, run, AS_OF, False))
    return rulebooks, findings, run, load_directory(ROOT / "examples/org.yaml"), files


def notice_set(small, grouping="unit-department", unmask=False, findings=None) -> NoticeSet:
    rulebooks, fs, run, directory, _ = small
    return notices_for_run(rulebooks, findings or fs, directory, AS_OF, run.records, grouping,
                           run.summary.to_dict(), unmask)


def case_ids(ns: NoticeSet, outcome: str) -> Counter:
    section = "cases" if outcome == "fired" else "pending"
    return Counter(c.finding.id for n in ns.notices for c in getattr(n, section))


# --- grouping, numbering, content -------------------------------------------------------------

@pytest.mark.parametrize("grouping", GROUPINGS)
def test_every_finding_in_exactly_one_notice(small, grouping):
    ns = notice_set(small, grouping)
    fired = [f"{f.rule}:{f.record_key}" for f in small[1] if f.outcome == "fired"]
    undetermined = [f"{f.rule}:{f.record_key}" for f in small[1] if f.outcome == "undetermined"]
    assert fired and undetermined
    assert case_ids(ns, "fired") == Counter(fired)
    assert case_ids(ns, "undetermined") == Counter(undetermined)  # the 待核实 sections


def test_one_notice_per_unit_and_department_numbered_in_order(small):
    ns = notice_set(small)
    keys = [(n.receiving_unit.code, n.department) for n in ns.notices]
    assert len(set(keys)) == len(keys) and keys == sorted(keys)
    for n in ns.notices:
        assert NUMBER.match(n.number), n.number
        assert n.number.startswith(f"YJ-{n.receiving_unit.code}-")
    seqs = Counter(n.receiving_unit.code for n in ns.notices)
    for code, count in seqs.items():
        assert sorted(n.number[-3:] for n in ns.notices if n.receiving_unit.code == code) == \
            [f"{i:03d}" for i in range(1, count + 1)]


def test_notice_fields(small):
    ns = notice_set(small, unmask=True)
    levels = "一级 二级 三级 四级".split()
    for n in ns.notices:
        fired = [c.finding.level for c in n.cases] or [c.finding.level for c in n.pending]
        assert n.level == min(fired, key=levels.index)
        assert n.colour == dict(zip(levels, "红橙黄蓝"))[n.level]
        dues = [c.due for c in n.cases + n.pending if c.due]
        assert n.deadline == min(dues) and n.feedback.due == n.deadline
        assert n.measures and all(m.measure for m in n.measures)
        assert n.owners and n.supervisors and n.schema_version == NOTICE_SCHEMA_VERSION
    county = next(n for n in ns.notices if n.receiving_unit.code == "33401")
    assert county.issuing_unit.code == "334"  # the parent unit issues
    city = next(n for n in ns.notices if n.receiving_unit.code == "334")
    assert city.issuing_unit.code == "334"  # the top unit issues to its own departments


def test_owner_grouping_and_task_list(small):
    ns = notice_set(small, "owner", unmask=True)
    for n in ns.notices:
        holders = {tuple(p.id for p in c.owners) for c in n.cases + n.pending}
        assert len(holders) == 1
    tasks = {t.owner.id: t for t in ns.tasks}
    for n in ns.notices:
        for c in n.cases:
            for p in c.owners:
                assert (n.number, c.finding.record_key) in {(t.notice, t.record_key) for t in tasks[p.id].tasks}


def test_summary_counts_by_unit_department_and_level(small):
    ns = notice_set(small)
    total = sum(v["fired"] for row in ns.summary for v in row.counts.values())
    assert total == sum(f.outcome == "fired" for f in small[1])
    assert ns.run["read"] == 140


# --- routing gaps ---------------------------------------------------------------------------

def test_routing_gaps_get_their_own_notice_addressed_as_deliver_to(small):
    rulebooks, fs, run, directory, _ = small
    fired = [f for f in fs if f.outcome == "fired"]
    unknown = fired[0].model_copy(update={"org_no": "99999", "record_key": "GAP-1"})
    vacant = fired[1].model_copy(update={"record_key": "GAP-2", "as_of": datetime(2000, 1, 1)})
    ns = notice_set(small, unmask=True, findings=fs + [unknown, vacant])
    chains = {c.finding.id: c for c in build_chains([unknown, vacant], rulebooks.program, directory,
                                                   rulebooks.backend.calendar)}
    gap_notice = next(n for n in ns.notices if n.kind == "routing_gap")
    assert [c.finding.record_key for c in gap_notice.cases] == ["GAP-1"]
    assert [p.id for p in gap_notice.owners] == [p.id for p in chains[f"{unknown.rule}:GAP-1"].gaps[0].deliver_to]
    assert gap_notice.gaps[0].code == "unknown_org_no"
    vacant_notice = next(n for n in ns.notices if any(c.finding.record_key == "GAP-2" for c in n.cases))
    assert vacant_notice.kind == "warning" and [g.code for g in vacant_notice.gaps] == ["vacant_post"]
    assert {g.code for g in ns.routing_gaps} == {"unknown_org_no", "vacant_post"}
    text = markdown.routing_gaps(ns)
    assert "unknown_org_no" in text and "vacant_post" in text and "GAP-1" in text


# --- masking ---------------------------------------------------------------------------------

PERSONAL_DATA = [
    ("来电号码13912341234", "来电号码139****1234"),
    ("请回拨 139-1234-5678。", "请回拨 139****5678。"),
    ("+86 13812345678", "138****5678"),
    ("身份证330102199001011234核实", "身份证330102********1234核实"),
    ("证件号 11010519491231002X", "证件号 110105********002X"),
    ("座机0571-88886666", "座机0571-****66"),
    ("地址：杭州市西湖区文三路街道文三路123号5幢2单元301室", "地址：杭州市西湖区文三路街道文三路***"),
    ("青禾市东岚县城关镇新华路18号漏电", "青禾市东岚县城关镇新华路***漏电"),
    ("联系人：张三，已回访", "联系人：张*，已回访"),
    ("客户：欧阳娜娜", "客户：欧***"),
]


@pytest.mark.parametrize(("text", "masked"), PERSONAL_DATA)
def test_masking_patterns(text, masked):
    assert mask_text(text) == masked


def test_masking_keeps_non_personal_values():
    for text in ("2026-03-31 18:00", "T202603010008", "3340100001|2026-01", "金额 6741.16 元", "33401"):
        assert mask_text(text) == text
    assert mask_value("caller_name", "张三") == "张*" and mask_value("caller_name", "黄先生") == "黄先生"


def test_notices_are_masked_by_default_everywhere(small, tmp_path):
    masked, clear = notice_set(small), notice_set(small, unmask=True)
    assert masked.masked and not clear.masked
    phones = {p.phone for n in clear.notices for p in n.owners + n.copy_to}
    names = {p.name for n in clear.notices for p in n.owners + n.copy_to}
    write_notices(masked, tmp_path)
    for path in tmp_path.iterdir():
        text = path.read_text(encoding="utf-8") if path.suffix != ".docx" else _docx_text(path)
        assert not any(p in text for p in phones), path.name
        assert not any(n in text for n in names), path.name
    assert any(p in dump(clear) for p in phones)


# --- renderings --------------------------------------------------------------------------------

def test_markdown_snapshot(small, snapshot):
    ns = notice_set(small)
    assert markdown.notice(ns.notices[0]) == snapshot
    assert markdown.summary(ns) == snapshot
    assert markdown.tasks(ns).splitlines()[:12] == snapshot


def test_json_snapshot_and_schema(small, snapshot):
    jsonschema = pytest.importorskip("jsonschema")
    ns = notice_set(small)
    assert dump(ns.notices[0]) == snapshot
    data = NoticeSet.model_validate_json(dump(ns)).model_dump(mode="json")
    jsonschema.validate(data, NoticeSet.model_json_schema())
    assert data["schema_version"] == NOTICE_SCHEMA_VERSION


def _docx_text(path: Path) -> str:
    import docx
    doc = docx.Document(str(path))
    cells = [c.text for t in doc.tables for r in t.rows for c in r.cells]
    return "\n".join([p.text for p in doc.paragraphs] + cells)


def test_word_file_contents(small, tmp_path):
    import docx
    from docx.oxml.ns import qn
    ns = notice_set(small)
    n = next(x for x in ns.notices if x.pending)
    write_notices(ns, tmp_path, ["docx"])
    doc = docx.Document(str(tmp_path / f"{n.number}.docx"))
    meta = {r.cells[0].text: r.cells[1].text for r in doc.tables[0].rows}
    assert meta["编号"] == n.number and meta["预警级别"] == f"{n.level}（{n.colour}）"
    assert n.receiving_unit.name in meta["接收单位"] and n.issuing_unit.name in meta["签发单位"]
    assert meta["责任部门"] == n.department
    case_keys = [r.cells[0].text for r in doc.tables[1].rows[1:]]
    assert case_keys == [c.finding.record_key for c in n.cases]
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    assert {"预警案例", "待核实", "预控措施"} <= set(headings)
    bullets = [p.text for p in doc.paragraphs if p.style.name == "List Bullet"]
    assert len(bullets) == len(n.measures)
    fonts = {name: doc.styles[name].element.rPr.rFonts.get(qn("w:eastAsia")) for name in ("Normal", "Heading 1")}
    assert fonts == {"Normal": "宋体", "Heading 1": "黑体"}
    assert doc.core_properties.identifier == n.number and doc.core_properties.created.replace(tzinfo=None) == AS_OF


def test_html_is_self_contained_a4_with_svg_chart(small):
    from compliance_engine.render import html
    ns = notice_set(small)
    page, summary = html.notice(ns.notices[0]), html.summary(ns)
    assert "@page { size: A4" in page and "break-after: page" in page
    assert "<svg" in summary and "<rect" in summary
    for text in (page, summary):
        assert "<script" not in text and "http://" not in text.replace("http://www.w3.org/2000/svg", "")
        assert "https://" not in text and "<link" not in text


def test_html_lays_out_in_headless_chromium(small, tmp_path):
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("chromium is not on PATH (Debian: apt-get install -y chromium)")
    ns = notice_set(small)
    write_notices(ns, tmp_path / "notices", ["html"])
    page = tmp_path / "notices" / f"{ns.notices[0].number}.html"
    png = tmp_path / "notice.png"
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={png}", "--window-size=1240,1754",
                    page.as_uri()], check=True, capture_output=True, timeout=120)
    assert png.exists()
    assert _not_blank(png.read_bytes())


def _not_blank(png: bytes) -> bool:
    """A PNG with more than one colour: decoded with zlib (no imaging library needed)."""
    import struct
    import zlib
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, depth = 8, b"", 0, 0
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos:pos + 8])
        body = png[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, _, bits, colour = struct.unpack(">IIBB", body[:10])
            depth = {2: 3, 6: 4}.get(colour, 1) * bits // 8
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * depth + 1
    # Rows are still filtered (PNG filters), but a one-colour page filters to a handful of
    # identical rows, while text and tables give many different ones.
    rows = {raw[i:i + stride] for i in range(0, len(raw), stride)}
    return len(rows) > 20


# --- determinism and the CLI -------------------------------------------------------------------

def test_identical_inputs_give_byte_identical_files(small, tmp_path):
    _, _, _, _, files = small
    args = ["--rulebook", str(ROOT / "examples/rulebooks"), *[a for f in files for a in ("--cases", str(f))],
            "--as-of", "2026-03-31T18:00", "--org", str(ROOT / "examples/org.yaml")]
    outs = []
    for name in ("a", "b"):
        result = CliRunner().invoke(run_command, [*args, "--notices", str(tmp_path / name), "--out", str(tmp_path / f"o{name}")])
        assert result.exit_code == 0, result.output
        outs.append(tmp_path / name)
    names = sorted(p.name for p in outs[0].iterdir())
    assert names == sorted(p.name for p in outs[1].iterdir())
    assert {"summary.md", "summary.html", "summary.json", "tasks.md", "routing_gaps.md"} <= set(names)
    assert sum(n.endswith(".docx") for n in names) == sum(n.endswith(".md") for n in names) - 3
    for n in names:
        assert (outs[0] / n).read_bytes() == (outs[1] / n).read_bytes(), n


def test_cli_notice_options(small, tmp_path):
    _, _, _, _, files = small
    base = ["--rulebook", str(ROOT / "examples/rulebooks"), "--cases", str(files[0]), "--as-of", "2026-03-31T18:00"]
    result = CliRunner().invoke(run_command, [*base, "--notices", str(tmp_path / "x")])
    assert result.exit_code == 2 and "--org" in result.output
    org = ["--org", str(ROOT / "examples/org.yaml")]
    result = CliRunner().invoke(run_command, [*base, *org, "--notices", str(tmp_path / "x"), "--notice-format", "md,pdf"])
    assert result.exit_code == 2 and "pdf" in result.output
    result = CliRunner().invoke(run_command, [*base, *org, "--notices", str(tmp_path / "y"), "--notice-format", "md",
                                              "--notice-group", "unit", "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    suffixes = {p.suffix for p in (tmp_path / "y").iterdir() if p.name.startswith("YJ-")}
    assert suffixes == {".md"}
