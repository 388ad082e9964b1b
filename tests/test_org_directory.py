"""The org directory (`examples/org.yaml`): structure, and resolution of every catalog owner
and supervisor.

The directory's format and the resolution rule are documented in `docs/org.md`; this file
holds a small reference resolver implementing that rule (a later issue moves it into the
package) and checks, against the vendored catalogs in `rulebooks/catalog/*.yaml`:

* the file is well formed: known keys only, unique codes, one root, a unit tree whose types
  follow 市公司 → 县公司 → 供电所, every referenced person and unit exists, dates are valid and
  a post's holders never overlap;
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
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path

import pytest
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[1]
ORG_FILE = ROOT / "examples" / "org.yaml"
DOC_FILE = ROOT / "docs" / "org.md"
CATALOG_DIR = ROOT / "rulebooks" / "catalog"
CASES_DIR = ROOT / "examples" / "cases"

UNIT_TYPES = ("市公司", "县公司", "供电所")  # by depth in the tree
SUPERVISION_CATEGORIES = frozenset({
    "业扩报装", "电费抄核收", "计量管理", "现场作业", "供电服务", "客户服务", "线损管理",
    "投诉预控", "舆情", "网络安全", "数据安全", "廉洁",
})
KEYS = {
    "top": ({"directory", "units", "people"}, set()),
    "directory": ({"name", "version", "effective"}, set()),
    "unit": ({"code", "name", "type", "parent", "leader_in_charge", "departments"}, set()),
    "department": ({"name", "head", "supervises", "teams"}, {"posts"}),
    "team": ({"name", "posts"}, set()),
    "post": ({"name", "holders"}, set()),
    "holder": ({"person", "from", "to"}, set()),
    "person": ({"id", "name", "phone", "employee_no"}, set()),
}
FAKE_PHONE = re.compile(r"^1390000\d{4}$")  # the example's reserved, clearly fake range
CHINESE_NAME = re.compile(r"^[\u4e00-\u9fff]{2,4}$")
CHILD_CODE = re.compile(r"^\d{2}$")  # a child's code is its parent's code + 2 digits


# ---------------------------------------------------------------------------------------------
# Reference resolver (the rule of docs/org.md § "Resolution")
# ---------------------------------------------------------------------------------------------

class Unresolved(LookupError):
    """An owner or supervisor string that names nothing in the directory."""


@dataclass(frozen=True)
class OwnerRef:
    department: str
    team: str | None  # None: a department-level post (two-part owner)
    post: str

    @classmethod
    def parse(cls, text: str) -> OwnerRef:
        parts = [p.strip() for p in re.split(r"\s*/\s*", text.strip())]
        if len(parts) == 2 and all(parts):
            return cls(parts[0], None, parts[1])
        if len(parts) == 3 and all(parts):
            return cls(parts[0], parts[1], parts[2])
        raise ValueError(f"owner 应为「部门 / 岗位」或「部门 / 班组 / 岗位」: {text!r}")


@dataclass(frozen=True)
class SupervisorRef:
    department: str
    upper: bool        # 上级: starts one level above the owner's unit
    cooperating: bool  # 协同: a cooperating department (not the primary supervisor)

    @classmethod
    def parse_all(cls, text: str) -> list[SupervisorRef]:
        refs = []
        for entry in re.split(r"[;；]", text):
            entry = entry.strip()
            if not entry:
                continue
            m = re.fullmatch(r"(协同\s+)?(上级\s+)?(\S.*)", entry)
            assert m is not None
            refs.append(cls(m.group(3).strip(), bool(m.group(2)), bool(m.group(1))))
        if not refs or refs[0].cooperating or any(not r.cooperating for r in refs[1:]):
            raise ValueError(f"supervisor 应为「上级 X」后接零或多个「协同 [上级] Y」: {text!r}")
        return refs


@dataclass(frozen=True)
class OwnerResolution:
    unit: str             # code of the unit whose department carries the post
    department: str
    team: str | None
    post: str
    holder: str | None    # person id on the as-of date; None = the post is vacant


@dataclass(frozen=True)
class SupervisorResolution:
    unit: str
    department: str
    head: str
    cooperating: bool


def as_date(value) -> date:
    """A date written as "YYYY-MM-DD" (or an unquoted YAML date)."""
    if isinstance(value, date):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return date.fromisoformat(value)
    raise ValueError(f"日期应写成 \"YYYY-MM-DD\": {value!r}")


def holder_on(post: dict, as_of: date) -> str | None:
    """The person holding `post` on `as_of` (`from` and `to` both inclusive), or None."""
    for h in post.get("holders") or []:
        if as_date(h["from"]) <= as_of and (h["to"] is None or as_of <= as_date(h["to"])):
            return h["person"]
    return None


class Directory:
    def __init__(self, data: dict):
        self.data = data
        self.units = {u["code"]: u for u in data["units"]}
        self.people = {p["id"]: p for p in data["people"]}

    def chain(self, code: str) -> list[dict]:
        """The unit and its ancestors, nearest first."""
        if code not in self.units:
            raise Unresolved(f"供电单位编号 {code!r} 不在组织目录中")
        out, seen = [], set()
        while code is not None:
            if code in seen:
                raise Unresolved(f"单位 {code} 的上级关系成环")
            seen.add(code)
            unit = self.units[code]
            out.append(unit)
            code = unit["parent"]
        return out

    @staticmethod
    def department(unit: dict, name: str) -> dict | None:
        return next((d for d in unit["departments"] if d["name"] == name), None)

    @staticmethod
    def post(department: dict, team: str | None, post: str) -> dict | None:
        if team is None:
            posts = department.get("posts") or []
        else:
            t = next((t for t in department.get("teams") or [] if t["name"] == team), None)
            posts = t["posts"] if t is not None else []
        return next((p for p in posts if p["name"] == post), None)

    def resolve_owner(self, org_no: str, owner: str, as_of: date) -> OwnerResolution:
        """Walk up from the record's unit to the first unit whose department carries the post."""
        ref = OwnerRef.parse(owner)
        for unit in self.chain(org_no):
            dept = self.department(unit, ref.department)
            post = self.post(dept, ref.team, ref.post) if dept is not None else None
            if post is not None:
                return OwnerResolution(unit["code"], ref.department, ref.team, ref.post,
                                       holder_on(post, as_of))
        raise Unresolved(f"责任岗位「{owner}」在单位 {org_no} 及其上级单位中均不存在")

    def resolve_supervisors(self, owner: OwnerResolution, supervisor: str) -> list[SupervisorResolution]:
        """Each entry from the owner's unit (上级: from its parent; the root is its own 上级)."""
        out = []
        for ref in SupervisorRef.parse_all(supervisor):
            chain = self.chain(owner.unit)
            if ref.upper and len(chain) > 1:
                chain = chain[1:]
            for unit in chain:
                dept = self.department(unit, ref.department)
                if dept is not None:
                    out.append(SupervisorResolution(unit["code"], dept["name"], dept["head"], ref.cooperating))
                    break
            else:
                raise Unresolved(f"督导部门「{ref.department}」在单位 {owner.unit} 的"
                                 f"{'上级' if ref.upper else '本级'}及以上单位中均不存在")
        return out


# ---------------------------------------------------------------------------------------------
# Structure checks (every problem listed, so an officer can fix them in one go)
# ---------------------------------------------------------------------------------------------

def structure_problems(data) -> list[str]:
    problems: list[str] = []
    add = problems.append

    def keys(obj, kind: str, where: str) -> bool:
        if not isinstance(obj, dict):
            add(f"{where}: 应为映射(key: value)，实为 {type(obj).__name__}")
            return False
        required, optional = KEYS[kind]
        for k in sorted(required - obj.keys()):
            add(f"{where}: 缺少 {k}")
        for k in sorted(obj.keys() - required - optional):
            add(f"{where}: 未知的键 {k}")
        return required <= obj.keys()

    def text(value, where: str) -> bool:
        if not isinstance(value, str) or not value.strip():
            add(f"{where}: 应为非空文本(请加引号)，实为 {value!r}")
            return False
        return True

    def a_date(value, where: str) -> date | None:
        try:
            return as_date(value)
        except ValueError as e:
            add(f"{where}: {e}")
            return None

    if not keys(data, "top", "文件顶层"):
        return problems
    if keys(data["directory"], "directory", "directory"):
        a_date(data["directory"]["effective"], "directory.effective")

    people = data["people"] if isinstance(data["people"], list) else []
    ids: dict[str, int] = {}
    for i, p in enumerate(people):
        where = f"people[{i}]"
        if not keys(p, "person", where):
            continue
        if text(p["id"], where + ".id"):
            if p["id"] in ids:
                add(f"{where}: 人员编号 {p['id']} 重复")
            ids[p["id"]] = i
        if text(p["name"], where + ".name") and not CHINESE_NAME.match(p["name"]):
            add(f"{where}.name: 应为 2-4 个汉字，实为 {p['name']!r}")
        if not isinstance(p["phone"], str) or not FAKE_PHONE.match(p["phone"]):
            add(f"{where}.phone: 示例文件只用虚构号码 1390000xxxx，实为 {p['phone']!r}")
        text(p["employee_no"], where + ".employee_no")
    for field in ("employee_no", "phone"):
        values = [p.get(field) for p in people if isinstance(p, dict)]
        for v in sorted({v for v in values if values.count(v) > 1}, key=str):
            add(f"people: {field} {v} 重复")

    referenced: set[str] = set()

    def person_ref(pid, where: str) -> None:
        referenced.add(pid)
        if pid not in ids:
            add(f"{where}: 人员 {pid!r} 不在 people 中")

    units = data["units"] if isinstance(data["units"], list) else []
    codes: dict[str, dict] = {}
    for i, u in enumerate(units):
        where = f"units[{i}]"
        if not keys(u, "unit", where):
            continue
        where = f"单位 {u['code']}"
        if text(u["code"], f"units[{i}].code"):
            if not u["code"].isdigit():
                add(f"{where}: 单位编号应全为数字")
            if u["code"] in codes:
                add(f"{where}: 单位编号重复")
            codes[u["code"]] = u
        text(u["name"], where + ".name")
        if u["type"] not in UNIT_TYPES:
            add(f"{where}.type: 应为 {'/'.join(UNIT_TYPES)} 之一，实为 {u['type']!r}")
        person_ref(u["leader_in_charge"], where + ".leader_in_charge")
        if not isinstance(u["departments"], list):
            add(f"{where}.departments: 应为列表")
            continue
        dnames = set()
        for j, d in enumerate(u["departments"]):
            dwhere = f"{where} departments[{j}]"
            if not keys(d, "department", dwhere):
                continue
            dwhere = f"{where} {d['name']}"
            if d["name"] in dnames:
                add(f"{dwhere}: 部门在本单位重复")
            dnames.add(d["name"])
            person_ref(d["head"], dwhere + ".head")
            if not isinstance(d["supervises"], list):
                add(f"{dwhere}.supervises: 应为列表")
            else:
                for c in d["supervises"]:
                    if c not in SUPERVISION_CATEGORIES:
                        add(f"{dwhere}.supervises: 未知的督导类别 {c!r}(见 docs/org.md)")
            post_lists = [(None, d.get("posts") or [])]
            if not isinstance(d["teams"], list):
                add(f"{dwhere}.teams: 应为列表")
            else:
                tnames = set()
                for k, t in enumerate(d["teams"]):
                    if keys(t, "team", f"{dwhere} teams[{k}]"):
                        if t["name"] in tnames:
                            add(f"{dwhere}: 班组 {t['name']} 重复")
                        tnames.add(t["name"])
                        post_lists.append((t["name"], t["posts"]))
            for team, posts in post_lists:
                pwhere0 = f"{dwhere}{' / ' + team if team else ''}"
                if not isinstance(posts, list):
                    add(f"{pwhere0}.posts: 应为列表")
                    continue
                pnames = set()
                for k, post in enumerate(posts):
                    if not keys(post, "post", f"{pwhere0} posts[{k}]"):
                        continue
                    pwhere = f"{pwhere0} / {post['name']}"
                    if post["name"] in pnames:
                        add(f"{pwhere}: 岗位重复")
                    pnames.add(post["name"])
                    if not isinstance(post["holders"], list):
                        add(f"{pwhere}.holders: 应为列表(空缺写 [])")
                        continue
                    periods = []
                    for m, h in enumerate(post["holders"]):
                        hwhere = f"{pwhere} holders[{m}]"
                        if not keys(h, "holder", hwhere):
                            continue
                        person_ref(h["person"], hwhere)
                        start = a_date(h["from"], hwhere + ".from")
                        end = None if h["to"] is None else a_date(h["to"], hwhere + ".to")
                        if start is None or (h["to"] is not None and end is None):
                            continue
                        if end is not None and end < start:
                            add(f"{hwhere}: to {end} 早于 from {start}")
                        periods.append((start, end or date.max, h["person"]))
                    periods.sort()
                    latest = None  # the period ending last so far
                    for period in periods:
                        if latest is not None and period[0] <= latest[1]:
                            s1, e1, p1 = latest
                            add(f"{pwhere}: 任职期重叠 {p1}({s1}~{e1 if e1 != date.max else '至今'}) 与 "
                                f"{period[2]}(自 {period[0]})")
                        if latest is None or period[1] > latest[1]:
                            latest = period

    # the tree
    roots = [c for c, u in codes.items() if u["parent"] is None]
    if len(roots) != 1:
        add(f"单位树应恰有一个根(parent: null)，实有 {roots}")
    for c, u in codes.items():
        if u["parent"] is not None and u["parent"] not in codes:
            add(f"单位 {c}: 上级单位 {u['parent']!r} 不存在")
    for c, u in codes.items():
        seen, depth, cur = set(), 0, u
        while cur is not None and cur["parent"] is not None and cur["parent"] in codes:
            if cur["code"] in seen:
                add(f"单位 {c}: 上级关系成环")
                break
            seen.add(cur["code"])
            depth, cur = depth + 1, codes[cur["parent"]]
        else:
            if depth >= len(UNIT_TYPES):
                add(f"单位 {c}: 层级过深(市公司 → 县公司 → 供电所)")
            elif u["type"] != UNIT_TYPES[depth]:
                add(f"单位 {c}: 第 {depth + 1} 级应为 {UNIT_TYPES[depth]}，实为 {u['type']}")
            if u["parent"] in codes and not (u["code"].startswith(u["parent"])
                                             and CHILD_CODE.match(u["code"][len(u["parent"]):])):
                add(f"单位 {c}: 编号应为上级编号 {u['parent']} 加两位数字")
    for c, u in codes.items():
        if u["type"] == "供电所" and isinstance(u["departments"], list):
            for d in u["departments"]:
                if isinstance(d, dict) and d.get("supervises"):
                    add(f"单位 {c} {d.get('name')}: 供电所没有下级单位，supervises 应为空")

    for pid in sorted(set(ids) - referenced):
        add(f"人员 {pid} 未被任何单位、部门或岗位引用(离岗人员保留其任职记录即可)")
    return problems


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
    data = org_data()
    if structure_problems(data):
        pytest.fail("examples/org.yaml 结构有误，先修正 test_structure_is_valid 列出的问题")
    return Directory(data)


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


def check_dates(data: dict) -> list[date]:
    """The effective date and every date on which some holder starts or stops (vacancy changes
    only on these dates)."""
    start = as_date(data["directory"]["effective"])
    days = {start}
    for post in all_posts(data):
        for h in post[4]["holders"]:
            days.add(as_date(h["from"]))
            if h["to"] is not None:
                days.add(as_date(h["to"]) + timedelta(days=1))
    return sorted(d for d in days if d >= start)


def all_posts(data: dict):
    """(unit code, department, team or None, post name, post) for every post."""
    for u in data["units"]:
        for d in u["departments"]:
            for p in d.get("posts") or []:
                yield u["code"], d["name"], None, p["name"], p
            for t in d["teams"]:
                for p in t["posts"]:
                    yield u["code"], d["name"], t["name"], p["name"], p


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
    assert structure_problems(org_data()) == []


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
        record_type = d.units[code]["type"]
        assert d.units[res.unit]["type"] == expected_by_record_level[record_type], (code, res)
        assert res.unit in {u["code"] for u in d.chain(code)}


def test_owner_levels_table_lists_exactly_the_catalog_owners():
    assert sorted(r[0] for r in doc_table("owner-levels")) == owners()


@pytest.mark.parametrize(("owner", "supervisor", "category"), supervisor_cases())
def test_every_supervisor_resolves_and_supervises_the_category(owner, supervisor, category):
    d = directory()
    for code in unit_codes():
        res = d.resolve_owner(code, owner, date(2026, 3, 1))
        sups = d.resolve_supervisors(res, supervisor)
        primary = sups[0]
        dept = Directory.department(d.units[primary.unit], primary.department)
        assert category in dept["supervises"], (code, primary, category)
        assert primary.head in d.people
        owner_chain = [u["code"] for u in d.chain(res.unit)]
        for s in sups:  # supervision never comes from below the owner
            assert s.unit in owner_chain, (code, s)
        if d.units[res.unit]["parent"] is not None:
            # below the top, the primary supervisor is never the owner's own department;
            # at the city company 上级 is the city's own department (docs/org.md)
            assert (primary.unit, primary.department) != (res.unit, res.department), (code, primary)


def test_vacant_posts_are_exactly_the_documented_ones():
    data = org_data()
    documented = {}
    for unit, dept, team, post, since, _reason in doc_table("vacancies"):
        key = (unit, dept, None if team in ("—", "-", "") else team, post)
        documented[key] = None if since in ("—", "-", "") else as_date(since)
    posts = {(u, d, t, p): post for u, d, t, p, post in all_posts(data)}
    assert sorted(set(documented) - set(posts), key=str) == [], "vacancies 表中的岗位不在目录中"
    days = check_dates(data)
    problems = []
    for key, post in posts.items():
        for day in days:
            vacant = holder_on(post, day) is None
            listed = key in documented and (documented[key] is None or documented[key] <= day)
            if vacant and not listed:
                problems.append(f"{key} 在 {day} 空缺，但 docs/org.md 未说明")
            if listed and not vacant:
                problems.append(f"{key} 在 {day} 有人在岗，docs/org.md 却列为空缺")
    assert problems == []
    assert documented, "示例目录应至少有一个刻意空缺的岗位"
    assert any(not posts[k]["holders"] for k in documented), "应至少有一个从未有人在岗的岗位"


def test_vacant_post_still_resolves_and_reports_the_gap():
    d = directory()
    for unit, dept, team, post, _since, _reason in doc_table("vacancies"):
        owner = " / ".join([dept] + ([] if team in ("—", "-", "") else [team]) + [post])
        res = d.resolve_owner(unit, owner, date(2026, 6, 30))
        assert (res.unit, res.holder) == (unit, None)  # never skipped upward: a routing gap


def test_a_post_change_on_2026_03_15_changes_the_resolved_person():
    data, d = org_data(), directory()
    before, after = date(2026, 3, 14), date(2026, 3, 15)
    changed = [(u, dept, t, p) for u, dept, t, p, post in all_posts(data)
               if holder_on(post, before) != holder_on(post, after)]
    assert changed
    held: dict[date, dict[str, set]] = {before: {}, after: {}}
    for when in held:
        for u, dept, t, p, post in all_posts(data):
            if (pid := holder_on(post, when)) is not None:
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
    d = Directory(tiny())
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
    d = Directory(tiny())
    r = d.resolve_owner("90101", "营销部 / 抄表班 / 空岗", date(2026, 3, 1))
    assert (r.unit, r.holder) == ("901", None)
    # before the first holder starts, a post is vacant too
    assert d.resolve_owner("901", "营销部 / 抄表班 / 抄表专责", date(2019, 12, 31)).holder is None


def test_supervisor_entries_resolve_from_the_owners_unit():
    d = Directory(tiny())
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
    assert structure_problems(tiny()) == []
    bad = copy.deepcopy(tiny())
    bad["units"][1]["departments"][0]["teams"][0]["posts"][0]["holders"][1]["from"] = "2026-03-01"
    bad["units"][2]["parent"] = "902"
    bad["units"][0]["departments"][0]["head"] = "Z"
    bad["units"][0]["departments"][0]["supervises"].append("业扩")
    bad["units"][1]["code"] = "9"
    bad["people"][0]["phone"] = "13812345678"
    bad["units"][0]["departments"][1]["holder"] = []
    text = "\n".join(structure_problems(bad))
    for expected in ("任职期重叠", "上级单位 '902' 不存在", "人员 'Z' 不在 people 中", "未知的督导类别 '业扩'",
                     "单位编号重复", "1390000xxxx", "未知的键 holder"):
        assert expected in text, (expected, text)
    twice = copy.deepcopy(tiny())
    twice["units"][1]["parent"] = None
    assert any("恰有一个根" in p for p in structure_problems(twice))
    typed = copy.deepcopy(tiny())
    typed["units"][2]["type"] = "县公司"
    typed["units"][2]["code"] = "90199"
    typed["units"][1]["departments"][0]["teams"][0]["posts"][0]["holders"][0]["to"] = "2026/03/14"
    text = "\n".join(structure_problems(typed))
    assert "第 3 级应为 供电所" in text and "YYYY-MM-DD" in text
