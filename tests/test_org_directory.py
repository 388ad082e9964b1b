"""The org directory (`examples/org.yaml`): structure, and resolution of every catalog owner
and supervisor.

The directory's format and the resolution rule are documented in `docs/org.md`; the loader,
checker and resolver are `compliance_engine/org.py`. This file checks them on small hand-made
directories and checks the example, against the vendored catalogs in `rulebooks/catalog/*.yaml`:

* the file is well formed: known keys only, unique codes, one root, a unit tree whose types
  follow 市公司 → 县公司 → 供电所, every referenced person and unit exists, dates are valid and
  a post's holders never overlap; plus the example's own rules (fake phone numbers only, every
  person referred to);
* every owner string resolves from every unit (so from every 供电所 and every 县公司, where
  records of the rule can occur), at the level docs/org.md says, and every supervisor entry
  resolves from there;
* the departments of each unit are exactly the ones docs/org.md lists for its level;
* a post is vacant only where docs/org.md says the vacancy is deliberate;
* the org_no values of the example case data are units of the directory.

The tables read from docs/org.md are the ones introduced by `<!-- table: NAME -->`.
"""

from __future__ import annotations

import copy
import csv
import json
import re
from datetime import date, timedelta
from functools import cache
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from compliance_engine.org import (
    UNIT_TYPES,
    Directory,
    OrgError,
    SupervisorRef,
    Unresolved,
    as_date,
    load_directory,
    structure_problems,
)

ROOT = Path(__file__).resolve().parents[1]
ORG_FILE = ROOT / "examples" / "org.yaml"
DOC_FILE = ROOT / "docs" / "org.md"
CATALOG_DIR = ROOT / "rulebooks" / "catalog"
CASES_DIR = ROOT / "examples" / "cases"

FAKE_PHONE = re.compile(r"^1390000\d{4}$")  # the example's reserved, clearly fake range
CHINESE_NAME = re.compile(r"^[\u4e00-\u9fff]{2,4}$")


# ---------------------------------------------------------------------------------------------
# What the example file promises beyond the format (compliance_engine/org.py checks the format)
# ---------------------------------------------------------------------------------------------

def example_problems(data: dict) -> list[str]:
    """The example's own rules: fake phone numbers only, 2-4 character names, unique phones,
    every person referred to (a leaver keeps their holder records)."""
    problems = []
    people = [p for p in data.get("people") or [] if isinstance(p, dict)]
    for p in people:
        if not FAKE_PHONE.match(str(p.get("phone"))):
            problems.append(f"人员 {p.get('id')}.phone: 示例文件只用虚构号码 1390000xxxx，实为 {p.get('phone')!r}")
        if not CHINESE_NAME.match(str(p.get("name"))):
            problems.append(f"人员 {p.get('id')}.name: 应为 2-4 个汉字，实为 {p.get('name')!r}")
    phones = [p.get("phone") for p in people]
    problems += [f"people: phone {v} 重复" for v in sorted({v for v in phones if phones.count(v) > 1}, key=str)]
    referenced = set()
    for u in data.get("units") or []:
        referenced.add(u.get("leader_in_charge"))
        for d in u.get("departments") or []:
            referenced.add(d.get("head"))
            for posts in [d.get("posts") or [], *((t.get("posts") or []) for t in d.get("teams") or [])]:
                referenced |= {h.get("person") for p in posts for h in p.get("holders") or []}
    problems += [f"人员 {pid} 未被任何单位、部门或岗位引用(离岗人员保留其任职记录即可)"
                 for pid in sorted({p.get("id") for p in people} - referenced)]
    return problems


def all_problems(data: dict) -> list[str]:
    return structure_problems(data) + example_problems(data)


# ---------------------------------------------------------------------------------------------
# Loading (cached) and docs tables
# ---------------------------------------------------------------------------------------------

def load_yaml(path: Path):
    with path.open(encoding="utf-8") as f:
        return YAML(typ="safe").load(f)


@cache
def org_data() -> dict:
    return load_yaml(ORG_FILE)


@cache
def directory() -> Directory:
    try:
        return load_directory(ORG_FILE)
    except OrgError as err:
        pytest.fail(f"examples/org.yaml 结构有误:\n{err}")


@cache
def catalog_items() -> tuple[tuple[str, dict], ...]:
    files = sorted(CATALOG_DIR.glob("*.yaml"))
    assert len(files) == 3, files
    return tuple((f.stem, item) for f in files for item in load_yaml(f)["items"])


def supervision_category(catalog: str, item: dict) -> str:
    """The risk category an item's primary supervisor must list in `supervises` (docs/org.md)."""
    if catalog == "complaint_prevention":
        return "舆情" if item["category"] == "舆情" else "投诉预控"
    if catalog == "network_security":
        return "数据安全" if item["category"] == "数据安全" else "网络安全"
    return item["category"]


@cache
def doc_table(name: str) -> tuple[tuple[str, ...], ...]:
    """Rows (header and separator dropped) of the table after `<!-- table: name -->`."""
    lines = DOC_FILE.read_text(encoding="utf-8").splitlines()
    marker = f"<!-- table: {name} -->"
    assert marker in [ln.strip() for ln in lines], f"docs/org.md 缺少表 {marker}"
    i = [ln.strip() for ln in lines].index(marker) + 1
    while i < len(lines) and not lines[i].strip():
        i += 1
    rows = []
    while i < len(lines) and lines[i].strip().startswith("|"):
        cells = [c.strip().strip("`").strip() for c in lines[i].strip().strip("|").split("|")]
        rows.append(tuple(cells))
        i += 1
    assert len(rows) >= 2 and set(rows[1][0]) <= set("-: "), f"表 {name} 格式不对"
    return tuple(rows[2:])


def check_dates(d: Directory) -> list[date]:
    """The effective date and every date on which some holder starts or stops (vacancy changes
    only on these dates)."""
    start = d.org.directory.effective
    days = {start}
    for place in d.posts():
        for h in place.post.holders:
            days.add(h.start)
            if h.end is not None:
                days.add(h.end + timedelta(days=1))
    return sorted(day for day in days if day >= start)


def all_posts(d: Directory):
    """(unit code, department, team or None, post name, post) for every post."""
    for place in d.posts():
        yield place.unit.code, place.department.name, place.team.name if place.team else None, place.post.name, place.post


def owners() -> list[str]:
    return sorted({item["owner"] for _, item in catalog_items()})


def supervisor_cases() -> list[tuple[str, str, str]]:
    return sorted({(item["owner"], item["supervisor"], supervision_category(cat, item))
                   for cat, item in catalog_items()})


def unit_codes(*types: str) -> list[str]:
    return [u["code"] for u in org_data()["units"] if not types or u["type"] in types]


# ---------------------------------------------------------------------------------------------
# The example directory
# ---------------------------------------------------------------------------------------------

def test_structure_is_valid():
    assert all_problems(org_data()) == []
    directory()


def test_tree_has_the_city_counties_and_stations():
    units = org_data()["units"]
    by_type = {t: [u for u in units if u["type"] == t] for t in UNIT_TYPES}
    assert [u["code"] for u in by_type["市公司"]] == ["334"]
    assert {"33401", "33402", "33403"} <= {u["code"] for u in by_type["县公司"]}
    assert len(by_type["供电所"]) >= 8
    assert all(u["parent"] in {c["code"] for c in by_type["县公司"]} for u in by_type["供电所"])


def test_example_case_org_nos_are_units():
    seen: set[str] = set()
    for path in sorted(CASES_DIR.glob("*.csv")):
        with path.open(encoding="utf-8-sig", newline="") as f:
            seen |= {row["org_no"] for row in csv.DictReader(f) if row.get("org_no")}
    for path in sorted(CASES_DIR.glob("*.jsonl")):
        with path.open(encoding="utf-8") as f:
            seen |= {str(json.loads(ln)["org_no"]) for ln in f if ln.strip()}
    assert {"33401", "33402", "33403"} <= seen
    d = directory()
    assert sorted(seen - d.units.keys()) == []
    for code in seen:  # every catalog owner resolves for the example data's units
        for owner in owners():
            d.resolve_owner(code, owner, date(2026, 3, 1))


def test_departments_per_level_match_docs():
    rows = doc_table("departments-by-level")
    expected = {t: {r[0] for r in rows if r[1 + i] == "✓"} for i, t in enumerate(UNIT_TYPES)}
    assert all(r[1 + i] in ("✓", "—") for r in rows for i in range(len(UNIT_TYPES)))
    for u in org_data()["units"]:
        assert {d["name"] for d in u["departments"]} == expected[u["type"]], u["code"]


@pytest.mark.parametrize("owner", owners())
def test_every_owner_resolves_from_every_unit_at_the_documented_level(owner):
    levels = {r[0]: r[1:] for r in doc_table("owner-levels")}
    assert owner in levels, f"docs/org.md 的 owner-levels 表缺少「{owner}」"
    expected_by_record_level = dict(zip(reversed(UNIT_TYPES), levels[owner]))  # 供电所, 县公司, 市公司
    d = directory()
    for code in unit_codes():
        res = d.resolve_owner(code, owner, date(2026, 3, 1))
        record_type = d.units[code].type
        assert d.units[res.unit].type == expected_by_record_level[record_type], (code, res)
        assert res.unit in {u.code for u in d.chain(code)}


def test_owner_levels_table_lists_exactly_the_catalog_owners():
    assert sorted(r[0] for r in doc_table("owner-levels")) == owners()


@pytest.mark.parametrize(("owner", "supervisor", "category"), supervisor_cases())
def test_every_supervisor_resolves_and_supervises_the_category(owner, supervisor, category):
    d = directory()
    for code in unit_codes():
        res = d.resolve_owner(code, owner, date(2026, 3, 1))
        sups = d.resolve_supervisors(res, supervisor)
        primary = sups[0]
        dept = d.units[primary.unit].department(primary.department)
        assert category in dept.supervises, (code, primary, category)
        assert primary.head in d.people
        owner_chain = [u.code for u in d.chain(res.unit)]
        for s in sups:  # supervision never comes from below the owner
            assert s.unit in owner_chain, (code, s)
        if d.units[res.unit].parent is not None:
            # below the top, the primary supervisor is never the owner's own department;
            # at the city company 上级 is the city's own department (docs/org.md)
            assert (primary.unit, primary.department) != (res.unit, res.department), (code, primary)


def test_vacant_posts_are_exactly_the_documented_ones():
    d = directory()
    documented = {}
    for unit, dept, team, post, since, _reason in doc_table("vacancies"):
        key = (unit, dept, None if team in ("—", "-", "") else team, post)
        documented[key] = None if since in ("—", "-", "") else as_date(since)
    posts = {(u, dept, t, p): post for u, dept, t, p, post in all_posts(d)}
    assert sorted(set(documented) - set(posts), key=str) == [], "vacancies 表中的岗位不在目录中"
    days = check_dates(d)
    problems = []
    for key, post in posts.items():
        for day in days:
            vacant = post.holder_on(day) is None
            listed = key in documented and (documented[key] is None or documented[key] <= day)
            if vacant and not listed:
                problems.append(f"{key} 在 {day} 空缺，但 docs/org.md 未说明")
            if listed and not vacant:
                problems.append(f"{key} 在 {day} 有人在岗，docs/org.md 却列为空缺")
    assert problems == []
    assert documented, "示例目录应至少有一个刻意空缺的岗位"
    assert any(not posts[k].holders for k in documented), "应至少有一个从未有人在岗的岗位"


def test_vacant_post_still_resolves_and_reports_the_gap():
    d = directory()
    for unit, dept, team, post, _since, _reason in doc_table("vacancies"):
        owner = " / ".join([dept] + ([] if team in ("—", "-", "") else [team]) + [post])
        res = d.resolve_owner(unit, owner, date(2026, 6, 30))
        assert (res.unit, res.holder) == (unit, None)  # never skipped upward: a routing gap


def test_a_post_change_on_2026_03_15_changes_the_resolved_person():
    d = directory()
    before, after = date(2026, 3, 14), date(2026, 3, 15)
    changed = [(u, dept, t, p) for u, dept, t, p, post in all_posts(d)
               if post.holder_on(before) != post.holder_on(after)]
    assert changed
    held: dict[date, dict[str, set]] = {before: {}, after: {}}
    for when in held:
        for u, dept, t, p, post in all_posts(d):
            if (pid := post.holder_on(when)) is not None:
                held[when].setdefault(pid, set()).add((u, dept, t, p))
    movers = [pid for pid, posts in held[before].items() if held[after].get(pid, posts) != posts]
    assert movers, "应至少有一人在 2026-03-15 调岗"
    for unit, dept, team, post in changed:
        owner = " / ".join([dept] + ([team] if team else []) + [post])
        r1, r2 = d.resolve_owner(unit, owner, before), d.resolve_owner(unit, owner, after)
        assert r1.unit == r2.unit == unit and r1.holder != r2.holder


# ---------------------------------------------------------------------------------------------
# The resolver and the checker on small hand-made directories
# ---------------------------------------------------------------------------------------------

def tiny() -> dict:
    def post(name, *holders):
        return {"name": name, "holders": [{"person": p, "from": f, "to": t} for p, f, t in holders]}

    return {
        "directory": {"name": "t", "version": "1", "effective": "2026-01-01"},
        "units": [
            {"code": "9", "name": "市", "type": "市公司", "parent": None, "leader_in_charge": "A",
             "departments": [
                 {"name": "营销部", "head": "A", "supervises": ["业扩报装"],
                  "posts": [post("业扩报装专责", ("B", "2020-01-01", None))],
                  "teams": [{"name": "客服班", "posts": [post("工单专责", ("B", "2020-01-01", None))]}]},
                 {"name": "纪委办公室", "head": "A", "supervises": ["廉洁"], "teams": []}]},
            {"code": "901", "name": "县", "type": "县公司", "parent": "9", "leader_in_charge": "A",
             "departments": [
                 {"name": "营销部", "head": "C", "supervises": ["业扩报装"],
                  "teams": [{"name": "抄表班", "posts": [
                      post("抄表专责", ("C", "2020-01-01", "2026-03-14"), ("D", "2026-03-15", None)),
                      post("空岗")]}]}]},
            {"code": "90101", "name": "所", "type": "供电所", "parent": "901", "leader_in_charge": "D",
             "departments": [{"name": "营销部", "head": "D", "supervises": [], "teams": []}]},
        ],
        "people": [{"id": x, "name": "张三", "phone": f"139000000{i:02d}", "employee_no": x}
                   for i, x in enumerate("ABCD")],
    }


def test_resolver_walks_up_to_the_nearest_unit_carrying_the_post():
    d = Directory.from_data(tiny())
    r = d.resolve_owner("90101", "营销部 / 抄表班 / 抄表专责", date(2026, 3, 14))
    assert (r.unit, r.holder) == ("901", "C")
    assert d.resolve_owner("90101", "营销部 / 抄表班 / 抄表专责", date(2026, 3, 15)).holder == "D"
    assert d.resolve_owner("90101", "营销部 / 业扩报装专责", date(2026, 3, 1)).unit == "9"
    assert d.resolve_owner("90101", "营销部/客服班/工单专责", date(2026, 3, 1)).unit == "9"
    # a two-part owner names a department-level post, never a team
    with pytest.raises(Unresolved):
        d.resolve_owner("90101", "营销部 / 客服班", date(2026, 3, 1))
    with pytest.raises(Unresolved):
        d.resolve_owner("90101", "营销部 / 抄表班 / 催费专责", date(2026, 3, 1))
    with pytest.raises(Unresolved):
        d.resolve_owner("99999", "营销部 / 业扩报装专责", date(2026, 3, 1))


def test_resolver_reports_a_vacant_post_instead_of_skipping_it():
    d = Directory.from_data(tiny())
    r = d.resolve_owner("90101", "营销部 / 抄表班 / 空岗", date(2026, 3, 1))
    assert (r.unit, r.holder) == ("901", None)
    # before the first holder starts, a post is vacant too
    assert d.resolve_owner("901", "营销部 / 抄表班 / 抄表专责", date(2019, 12, 31)).holder is None


def test_supervisor_entries_resolve_from_the_owners_unit():
    d = Directory.from_data(tiny())
    at_county = d.resolve_owner("90101", "营销部 / 抄表班 / 抄表专责", date(2026, 3, 1))
    sups = d.resolve_supervisors(at_county, "上级 营销部; 协同 纪委办公室")
    assert [(s.unit, s.department, s.head, s.cooperating) for s in sups] == [
        ("9", "营销部", "A", False), ("9", "纪委办公室", "A", True)]  # 县 has no 纪委办公室: walks up
    at_city = d.resolve_owner("9", "营销部 / 业扩报装专责", date(2026, 3, 1))
    assert [(s.unit, s.department) for s in d.resolve_supervisors(at_city, "上级 营销部")] == [("9", "营销部")]
    assert d.resolve_supervisors(at_county, "上级 营销部; 协同 上级 纪委办公室")[1].unit == "9"
    with pytest.raises(Unresolved):
        d.resolve_supervisors(at_county, "上级 安全监察部")
    with pytest.raises(ValueError):
        SupervisorRef.parse_all("协同 纪委办公室")


def test_checker_accepts_the_tiny_directory_and_reports_each_defect():
    assert all_problems(tiny()) == []
    bad = copy.deepcopy(tiny())
    bad["units"][1]["departments"][0]["teams"][0]["posts"][0]["holders"][1]["from"] = "2026-03-01"
    bad["units"][2]["parent"] = "902"
    bad["units"][0]["departments"][0]["head"] = "Z"
    bad["units"][0]["departments"][0]["supervises"].append("业扩")
    bad["units"][1]["code"] = "9"
    bad["people"][0]["phone"] = "13812345678"
    bad["units"][0]["departments"][1]["holder"] = []
    text = "\n".join(all_problems(bad))
    for expected in ("任职期重叠", "上级单位 '902' 不存在", "人员 'Z' 不在 people 中", "未知的督导类别 '业扩'",
                     "单位编号重复", "1390000xxxx", "未知的键 holder"):
        assert expected in text, (expected, text)
    twice = copy.deepcopy(tiny())
    twice["units"][1]["parent"] = None
    assert any("恰有一个根" in p for p in all_problems(twice))
    typed = copy.deepcopy(tiny())
    typed["units"][2]["type"] = "县公司"
    typed["units"][2]["code"] = "90199"
    typed["units"][1]["departments"][0]["teams"][0]["posts"][0]["holders"][0]["to"] = "2026/03/14"
    text = "\n".join(all_problems(typed))
    assert "第 3 级应为 供电所" in text and "YYYY-MM-DD" in text


def test_load_errors_name_the_file_the_line_and_the_entry(tmp_path):
    lines = ORG_FILE.read_text(encoding="utf-8").split("\n")

    def edit(old: str, new: str) -> int:
        """Replace the first line containing `old`; its 1-based number."""
        i = next(i for i, ln in enumerate(lines) if old in ln)
        lines[i] = lines[i].replace(old, new)
        return i + 1

    typo = edit('leader_in_charge: "P0002"', 'leader_in_charge: "P0002"\n    leader: "P0002"')
    lines[:] = "\n".join(lines).split("\n")  # the added line shifts the ones below
    head = edit('head: "P0014"', 'head: "P9999"')
    to = edit('to: "2026-03-14"}', 'to: "2026/03/14"}')
    parent = edit('parent: "33401"', "parent: 33401")
    path = tmp_path / "org.yaml"
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(OrgError) as caught:
        load_directory(path)
    got = {(p.line, p.message) for p in caught.value.problems}
    assert {p.file for p in caught.value.problems} == {str(path)}
    assert (head, "人员 'P9999' 不在 people 中") in got
    assert (to, "日期应写成 \"YYYY-MM-DD\"，实为 '2026/03/14'") in got
    assert (parent, "应为文本(请加引号)，实为 33401") in got
    assert (typo + 1, "未知的键 leader") in got
    wheres = {p.where for p in caught.value.problems}
    assert "单位 334 / 营销部(客户服务中心).head" in wheres
    assert "单位 33401 / 营销部(客户服务中心) / 业扩报装专责 / holders[0].to" in wheres
    assert len(caught.value.problems) == 4  # a malformed unit is reported once, with no follow-on errors
    assert f"{path}:{head}: 单位 334 / 营销部(客户服务中心).head" in str(caught.value)


def test_yaml_syntax_errors_name_the_line(tmp_path):
    path = tmp_path / "org.yaml"
    path.write_text('directory:\n  name: "x"\nunits: [\n', encoding="utf-8")
    with pytest.raises(OrgError) as caught:
        load_directory(path)
    (problem,) = caught.value.problems
    assert problem.file == str(path) and problem.line is not None and "YAML 格式错误" in problem.message
