"""The org directory (组织目录): units, departments, teams, posts and who holds them when.

Owns loading and checking an `org.yaml` (format and resolution rule: docs/org.md) and resolving
a rule's owner and supervisor strings for a record's `org_no` on the evaluation's as-of date.

Loading reads the file with ruamel.yaml's round-trip loader (for line numbers), validates every
entry with pydantic models, then checks what a schema cannot say (one root, the unit tree,
references to people, overlapping holders …). Every problem is collected, so an officer fixes
them in one go; `OrgError` lists them, each naming the file, the line and the entry.

Resolution (docs/org.md § Resolution): an owner resolves at the record's unit or, when that unit
lacks the department or the named team/post, at the nearest unit above that has it; the holder
is the person in the post on the as-of date (a vacant post is reported, never skipped).
`上级 X` resolves from the owner's unit one level up, `协同 Y` at the owner's unit, both walking
up while the unit lacks the department.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, StrictStr, ValidationError
from ruamel.yaml import YAML, YAMLError
from ruamel.yaml.constructor import RoundTripConstructor

from .errors import ComplianceError
from .model import Owner, Supervisor

__all__ = [
    "UNIT_TYPES", "SUPERVISION_CATEGORIES", "OrgError", "OrgProblem", "Unresolved", "Directory", "OrgFile",
    "Unit", "Department", "Team", "Post", "Holder", "Person", "OwnerRef", "SupervisorRef", "OwnerResolution",
    "SupervisorResolution", "PostPlace", "load_directory", "check_data", "structure_problems", "as_date",
]

UNIT_TYPES = ("市公司", "县公司", "供电所")  # by depth in the tree
SUPERVISION_CATEGORIES = frozenset({
    "业扩报装", "电费抄核收", "计量管理", "现场作业", "供电服务", "客户服务", "线损管理",
    "投诉预控", "舆情", "网络安全", "数据安全", "廉洁",
})
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_CHILD_CODE = re.compile(r"\d{2}")  # a child's code is its parent's code + 2 digits

Loc = tuple[str | int, ...]  # path of an entry in the document, e.g. ("units", 2, "departments", 0)


# ---------------------------------------------------------------------------------------------
# Problems
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class OrgProblem:
    """One thing wrong with a directory: file, line (None for data not read from a file), the
    entry in words (`单位 33401 / 营销部(客户服务中心) / 抄表班`) and what is wrong, in Chinese."""

    file: str
    line: int | None
    where: str
    message: str

    def __str__(self) -> str:
        at = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{at}: {self.where}: {self.message}" if self.where else f"{at}: {self.message}"


class OrgError(ComplianceError):
    """The directory could not be loaded; `problems` lists everything found."""

    def __init__(self, problems: list[OrgProblem]):
        self.problems = problems
        head = f"组织目录有 {len(problems)} 处错误，请逐条修正：" if len(problems) > 1 else "组织目录有错误："
        super().__init__("\n".join([head, *(f"  {p}" for p in problems)]))


class Unresolved(ComplianceError, LookupError):
    """An org_no, owner or supervisor string that names nothing in the directory.

    `reason` is one of: unknown_org_no, owner_invalid, owner_not_found, supervisor_invalid,
    supervisor_not_found (the routing-gap codes of responsibility.py use the same words)."""

    def __init__(self, reason: str, message: str):
        self.reason = reason
        super().__init__(message)


# ---------------------------------------------------------------------------------------------
# The schema (pydantic): one model per kind of entry
# ---------------------------------------------------------------------------------------------

def as_date(value: Any) -> date:
    """A date written as "YYYY-MM-DD" (or a date object, e.g. an unquoted YAML date)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _DATE_RE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f"日期应写成 \"YYYY-MM-DD\"，实为 {value!r}")


def _non_empty(value: str) -> str:
    if not value.strip():
        raise ValueError("不能为空")
    return value.strip()


def _digits(value: str) -> str:
    if not value.isdigit():
        raise ValueError(f"单位编号应全为数字，实为 {value!r}")
    return value


Text = Annotated[StrictStr, AfterValidator(_non_empty)]
Code = Annotated[Text, AfterValidator(_digits)]
Day = Annotated[date, BeforeValidator(as_date)]


class _Entry(BaseModel):
    """An entry of the file: immutable, unknown keys rejected, remembers where it was read."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    _loc: Loc = PrivateAttr(default=())


class Holder(_Entry):
    """A person in a post from `from` to `to`, both inclusive; `to` None = still in post."""

    person: Text
    start: Day = Field(alias="from")
    end: Day | None = Field(alias="to")

    def holds_on(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


class Post(_Entry):
    name: Text
    holders: list[Holder]

    def holder_on(self, day: date) -> str | None:
        """The person id in the post on `day`, or None (vacant)."""
        return next((h.person for h in self.holders if h.holds_on(day)), None)


class Team(_Entry):
    name: Text
    posts: list[Post]


class Department(_Entry):
    name: Text
    head: Text
    supervises: list[Text]
    posts: list[Post] = []
    teams: list[Team]

    def find_post(self, team: str | None, post: str) -> Post | None:
        """A department-level post (team None) or a post of the named team."""
        if team is None:
            posts = self.posts
        else:
            posts = next((t.posts for t in self.teams if t.name == team), [])
        return next((p for p in posts if p.name == post), None)


class Unit(_Entry):
    code: Code
    name: Text
    type: Literal["市公司", "县公司", "供电所"]
    parent: Code | None
    leader_in_charge: Text
    departments: list[Department]

    def department(self, name: str) -> Department | None:
        return next((d for d in self.departments if d.name == name), None)


class Person(_Entry):
    id: Text
    name: Text
    phone: Text
    employee_no: Text


class DirectoryInfo(_Entry):
    name: Text
    version: Text
    effective: Day


class OrgFile(_Entry):
    directory: DirectoryInfo
    units: list[Unit]
    people: list[Person]


def _list_item_model(annotation: Any) -> type[_Entry] | None:
    """`X` when a field is typed `list[X]` with X an entry model."""
    if typing.get_origin(annotation) is list:
        (item,) = typing.get_args(annotation)
        if isinstance(item, type) and issubclass(item, _Entry):
            return item
    return None


_LIST_FIELDS = {cls: [(f.alias or name, item) for name, f in cls.model_fields.items()
                      if (item := _list_item_model(f.annotation)) is not None]
                for cls in (OrgFile, Unit, Department, Team, Post)}


# ---------------------------------------------------------------------------------------------
# Reading and checking
# ---------------------------------------------------------------------------------------------

class _StrDatesConstructor(RoundTripConstructor):
    """Round-trip loading that keeps timestamps as text: we check dates ourselves, with the
    entry's position, instead of ruamel failing (or guessing) inside the loader."""


_StrDatesConstructor.add_constructor("tag:yaml.org,2002:timestamp", RoundTripConstructor.construct_yaml_str)

_ERROR_WORDS = {
    "missing": lambda e, key: f"缺少 {key}",
    "extra_forbidden": lambda e, key: f"未知的键 {key}",
    "string_type": lambda e, key: f"应为文本(请加引号)，实为 {e['input']!r}",
    "list_type": lambda e, key: f"应为列表，实为 {e['input']!r}",
    "model_type": lambda e, key: f"应为映射(key: value)，实为 {e['input']!r}",
    "model_attributes_type": lambda e, key: f"应为映射(key: value)，实为 {e['input']!r}",
    "literal_error": lambda e, key: f"应为 {'/'.join(UNIT_TYPES)} 之一，实为 {e['input']!r}",  # Unit.type is the only Literal
    "value_error": lambda e, key: str(e["ctx"]["error"]),
}


class _Check:
    """One load: the raw document, its line table, the problems found so far."""

    def __init__(self, raw: Any, file: str, lines: dict[Loc, int] | None = None):
        self.raw, self.file, self.lines = raw, file, lines or {}
        self.problems: list[OrgProblem] = []

    def add(self, loc: Loc, message: str) -> None:
        self.problems.append(OrgProblem(self.file, self._line(loc), _where(self.raw, loc), message))

    def _line(self, loc: Loc) -> int | None:
        for n in range(len(loc), -1, -1):  # the entry itself, else the nearest enclosing one
            if loc[:n] in self.lines:
                return self.lines[loc[:n]]
        return None

    def build(self, cls: type[_Entry], raw: Any, loc: Loc) -> _Entry | None:
        """Validate `raw` as `cls`, list items one by one: a bad item is reported and left out,
        so the rest can still be checked (every problem in one go, no cascade)."""
        data = raw
        if isinstance(raw, dict):
            data = dict(raw)
            for key, item_cls in _LIST_FIELDS.get(cls, ()):
                if isinstance(data.get(key), list):
                    built = [self.build(item_cls, item, (*loc, key, i)) for i, item in enumerate(data[key])]
                    data[key] = [b for b in built if b is not None]
        try:
            entry = cls.model_validate(data)
        except ValidationError as err:
            for e in err.errors():
                self._shape_error(loc, e)
            return None
        entry._loc = loc
        return entry

    def _shape_error(self, loc: Loc, e: dict) -> None:
        where = (*loc, *e["loc"])
        key = e["loc"][-1] if e["loc"] else ""
        words = _ERROR_WORDS.get(e["type"])
        if e["type"] == "missing":
            where = where[:-1]  # report at the entry that lacks the key
        self.add(where, words(e, key) if words else e["msg"])


def _where(raw: Any, loc: Loc) -> str:
    """An entry in words: `单位 33401 / 营销部(客户服务中心) / 抄表班 / 抄表专责 / holders[1].to`."""
    names, field, node, i = [], "", raw, 0
    while i < len(loc):
        key = loc[i]
        child = node.get(key) if isinstance(node, dict) else None
        if isinstance(child, list) and i + 1 < len(loc) and isinstance(loc[i + 1], int):
            index = loc[i + 1]
            item = child[index] if index < len(child) else None
            names.append(_entry_name(key, index, item))
            node, i = item, i + 2
        else:
            field = ".".join(str(k) for k in loc[i:])
            break
    text = " / ".join(names)
    return f"{text}.{field}" if text and field else text or field


def _entry_name(key: str, index: int, item: Any) -> str:
    label = {"units": "code", "people": "id", "departments": "name", "teams": "name", "posts": "name"}.get(key)
    value = item.get(label) if isinstance(item, dict) and label else None
    if not isinstance(value, str):
        return f"{key}[{index}]"
    return {"units": f"单位 {value}", "people": f"人员 {value}"}.get(key, value)


def _plain(node: Any, loc: Loc, lines: dict[Loc, int]) -> Any:
    """ruamel's round-trip nodes as plain dicts, lists and scalars; lines recorded per path."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if (at := _lc(node, key=key)) is not None:
                lines[(*loc, str(key))] = at
            out[str(key)] = _plain(value, (*loc, str(key)), lines)
        return out
    if isinstance(node, list):
        for i in range(len(node)):
            if (at := _lc(node, item=i)) is not None:
                lines[(*loc, i)] = at
        return [_plain(v, (*loc, i), lines) for i, v in enumerate(node)]
    if isinstance(node, str):
        return str(node)
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    return node


def _lc(node: Any, key: Any = None, item: int | None = None) -> int | None:
    try:
        return (node.lc.key(key) if item is None else node.lc.item(item))[0] + 1
    except (AttributeError, KeyError, IndexError, TypeError):
        return None


def _read(path: Path) -> tuple[Any, dict[Loc, int]]:
    yaml = YAML(typ="rt")
    yaml.Constructor = _StrDatesConstructor
    try:
        text = path.read_bytes().decode("utf-8")
        doc = yaml.load(text)
    except OSError as e:
        raise OrgError([OrgProblem(str(path), None, "", f"无法读取：{e.strerror or e}")]) from e
    except UnicodeDecodeError as e:
        raise OrgError([OrgProblem(str(path), None, "", "不是 UTF-8 编码")]) from e
    except YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(e, "problem", None) or str(e)
        raise OrgError([OrgProblem(str(path), line, "", f"YAML 格式错误：{problem}")]) from e
    lines: dict[Loc, int] = {}
    return _plain(doc, (), lines), lines


def check_data(raw: Any, file: str = "<data>", lines: dict[Loc, int] | None = None) -> tuple[OrgFile | None, list[OrgProblem]]:
    """Validate a directory given as plain data: the model (None if the top level is unusable)
    and every problem found, shape and structure."""
    check = _Check(raw, file, lines)
    if raw is None:
        check.add((), "文件为空")
        return None, check.problems
    org = check.build(OrgFile, raw, ())
    if org is None and isinstance(raw, dict) and isinstance(raw.get("units"), list):
        org = _salvage(check, raw)  # the top level is broken, but the units can still be checked
    if org is not None:
        _Structure(check, org).run()
    return org, sorted(check.problems, key=lambda p: p.line if p.line is not None else 1 << 30)


def _salvage(check: _Check, raw: dict) -> OrgFile:
    units = [u for i, x in enumerate(raw["units"]) if (u := _quiet_build(check, Unit, x, ("units", i)))]
    people = [p for i, x in enumerate(raw.get("people") or []) if (p := _quiet_build(check, Person, x, ("people", i)))]
    info = DirectoryInfo.model_construct(name="", version="", effective=date.min)
    return OrgFile.model_construct(directory=info, units=units, people=people)


def _quiet_build(check: _Check, cls, raw, loc):
    """Build without reporting again (the whole-file pass already reported these entries)."""
    shadow = _Check(check.raw, check.file, check.lines)
    return shadow.build(cls, raw, loc)


def structure_problems(raw: Any) -> list[str]:
    """Every problem of a directory given as plain data, as text (for tests and tools)."""
    return [f"{p.where}: {p.message}" if p.where else p.message for p in check_data(raw)[1]]


def load_directory(path: str | Path) -> Directory:
    """Read, validate and index an org directory; `OrgError` lists every problem found."""
    path = Path(path)
    raw, lines = _read(path)
    org, problems = check_data(raw, str(path), lines)
    if problems or org is None:
        raise OrgError(problems)
    return Directory(org, str(path))


class _Structure:
    """What the schema cannot say: references, uniqueness, holders' periods, the unit tree."""

    def __init__(self, check: _Check, org: OrgFile):
        self.check, self.org = check, org
        raw_people = check.raw.get("people") if isinstance(check.raw, dict) else None
        # people are known by the raw file, so a malformed person entry (reported already)
        # does not also make every reference to it "unknown"
        self.people = {p.get("id") for p in raw_people or [] if isinstance(p, dict)} | {p.id for p in org.people}
        raw_units = check.raw.get("units") if isinstance(check.raw, dict) else None
        self.unit_codes = {u.get("code") for u in raw_units or [] if isinstance(u, dict)}

    def run(self) -> None:
        self.unique_people()
        codes = self.unique_codes()
        for unit in self.org.units:
            self.unit(unit)
        self.tree(codes)

    def add(self, entry: _Entry, message: str, field: str | None = None) -> None:
        self.check.add(entry._loc if field is None else (*entry._loc, field), message)

    def person(self, pid: str, entry: _Entry, field: str) -> None:
        if pid not in self.people:
            self.add(entry, f"人员 {pid!r} 不在 people 中", field)

    def unique_people(self) -> None:
        for attr, words in (("id", "人员编号"), ("employee_no", "员工编号")):
            seen: set[str] = set()
            for p in self.org.people:
                if getattr(p, attr) in seen:
                    self.add(p, f"{words} {getattr(p, attr)} 重复", attr)
                seen.add(getattr(p, attr))

    def unique_codes(self) -> dict[str, Unit]:
        codes: dict[str, Unit] = {}
        for unit in self.org.units:
            if unit.code in codes:
                self.add(unit, "单位编号重复", "code")
            codes.setdefault(unit.code, unit)
        return codes

    def unit(self, unit: Unit) -> None:
        self.person(unit.leader_in_charge, unit, "leader_in_charge")
        self.duplicates(unit.departments, "部门在本单位重复")
        for dept in unit.departments:
            self.department(unit, dept)

    def department(self, unit: Unit, dept: Department) -> None:
        self.person(dept.head, dept, "head")
        for i, category in enumerate(dept.supervises):
            if category not in SUPERVISION_CATEGORIES:
                self.check.add((*dept._loc, "supervises", i), f"未知的督导类别 {category!r}(见 docs/org.md)")
        if unit.type == "供电所" and dept.supervises:
            self.add(dept, "供电所没有下级单位，supervises 应为空", "supervises")
        self.duplicates(dept.teams, "班组重复")
        for posts in (dept.posts, *(t.posts for t in dept.teams)):
            self.duplicates(posts, "岗位重复")
            for post in posts:
                self.post(post)

    def duplicates(self, entries: list, message: str) -> None:
        seen: set[str] = set()
        for e in entries:
            if e.name in seen:
                self.add(e, f"{message}：{e.name}", "name")
            seen.add(e.name)

    def post(self, post: Post) -> None:
        for h in post.holders:
            self.person(h.person, h, "person")
            if h.end is not None and h.end < h.start:
                self.add(h, f"to {h.end} 早于 from {h.start}", "to")
        latest = None  # the period ending last so far
        for h in sorted(post.holders, key=lambda h: (h.start, h.end or date.max)):
            if latest is not None and h.start <= (latest.end or date.max):
                end = latest.end or "至今"
                self.add(h, f"任职期重叠 {latest.person}({latest.start}~{end}) 与 {h.person}(自 {h.start})")
            if latest is None or (h.end or date.max) > (latest.end or date.max):
                latest = h

    def tree(self, codes: dict[str, Unit]) -> None:
        roots = [u.code for u in self.org.units if u.parent is None]
        if len(roots) != 1:
            self.check.add(("units",), f"单位树应恰有一个根(parent: null)，实有 {roots}")
        for unit in codes.values():
            if unit.parent is not None and unit.parent not in self.unit_codes:
                self.add(unit, f"上级单位 {unit.parent!r} 不存在", "parent")
            elif unit.parent is None or unit.parent in codes:  # else: the parent entry is malformed
                self.level(unit, codes)

    def level(self, unit: Unit, codes: dict[str, Unit]) -> None:
        depth, cur, seen = 0, unit, {unit.code}
        while cur.parent is not None:
            cur = codes.get(cur.parent)
            if cur is None:
                return  # an ancestor's parent is missing: reported at that ancestor
            if cur.code in seen:
                self.add(unit, "上级关系成环", "parent")
                return
            seen.add(cur.code)
            depth += 1
        if depth >= len(UNIT_TYPES):
            self.add(unit, "层级过深(市公司 → 县公司 → 供电所)", "parent")
        elif unit.type != UNIT_TYPES[depth]:
            self.add(unit, f"第 {depth + 1} 级应为 {UNIT_TYPES[depth]}，实为 {unit.type}", "type")
        if unit.parent is not None and not (unit.code.startswith(unit.parent)
                                            and _CHILD_CODE.fullmatch(unit.code[len(unit.parent):])):
            self.add(unit, f"编号应为上级编号 {unit.parent} 加两位数字", "code")


# ---------------------------------------------------------------------------------------------
# Resolution
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class OwnerRef:
    """An owner string split: `部门 / 岗位` (department-level post) or `部门 / 班组 / 岗位`."""

    department: str
    team: str | None
    post: str

    @classmethod
    def parse(cls, text: str | Owner) -> OwnerRef:
        text = text.text if isinstance(text, Owner) else text
        parts = [p.strip() for p in text.strip().split("/")]
        if len(parts) in (2, 3) and all(parts):
            return cls(parts[0], parts[1] if len(parts) == 3 else None, parts[-1])
        raise ValueError(f"owner 应为「部门 / 岗位」或「部门 / 班组 / 岗位」: {text!r}")

    def __str__(self) -> str:
        return " / ".join(p for p in (self.department, self.team, self.post) if p)


@dataclass(frozen=True)
class SupervisorRef:
    department: str
    upper: bool  # 上级: starts one level above the owner's unit
    cooperating: bool  # 协同: a cooperating department (not the primary supervisor)

    @classmethod
    def parse_all(cls, text: str | Supervisor) -> list[SupervisorRef]:
        """`上级 X` then zero or more `协同 [上级] Y`, separated by `;` (or `；`)."""
        text = text.text if isinstance(text, Supervisor) else text
        refs = []
        for entry in filter(None, (e.strip() for e in re.split(r"[;；]", text))):
            m = re.fullmatch(r"(协同\s+)?(上级\s+)?(\S.*)", entry)
            refs.append(cls(m.group(3).strip(), bool(m.group(2)), bool(m.group(1))))
        if not refs or refs[0].cooperating or not refs[0].upper or any(not r.cooperating for r in refs[1:]):
            raise ValueError(f"supervisor 应为「上级 X」后接零或多个「协同 [上级] Y」: {text!r}")
        return refs


@dataclass(frozen=True)
class OwnerResolution:
    unit: str  # code of the unit whose department carries the post
    department: str
    team: str | None
    post: str
    holder: str | None  # person id on the as-of date; None = the post is vacant
    steps_up: int = 0  # levels above the record's unit (0: the record's own unit)


@dataclass(frozen=True)
class SupervisorResolution:
    unit: str
    department: str
    head: str
    cooperating: bool
    upper: bool = True


@dataclass(frozen=True)
class PostPlace:
    """Where a post sits: unit, department, team (None: department-level) and the post."""

    unit: Unit
    department: Department
    team: Team | None
    post: Post

    @property
    def owner_text(self) -> str:
        return " / ".join([self.department.name, *([self.team.name] if self.team else []), self.post.name])


def _day(as_of: date | datetime) -> date:
    return as_of.date() if isinstance(as_of, datetime) else as_of


class Directory:
    """A checked directory, indexed for resolution. Immutable once built."""

    def __init__(self, org: OrgFile, source: str = "<data>"):
        self.org = org
        self.source = source
        self.units = {u.code: u for u in org.units}
        self.people = {p.id: p for p in org.people}
        self.root = next(u for u in org.units if u.parent is None)

    @classmethod
    def from_data(cls, raw: Any, source: str = "<data>") -> Directory:
        """A directory from plain data (e.g. a dict built in a test); `OrgError` if it is bad."""
        org, problems = check_data(raw, source)
        if problems or org is None:
            raise OrgError(problems)
        return cls(org, source)

    @property
    def title(self) -> str:
        return f"{self.org.directory.name} {self.org.directory.version}"

    def chain(self, code: str) -> list[Unit]:
        """The unit and its ancestors, nearest first."""
        if code not in self.units:
            raise Unresolved("unknown_org_no", f"供电单位编号 {code!r} 不在组织目录中")
        out = [self.units[code]]
        while out[-1].parent is not None:
            out.append(self.units[out[-1].parent])
        return out

    def person(self, pid: str) -> Person | None:
        return self.people.get(pid)

    def posts(self) -> Iterator[PostPlace]:
        """Every post of every unit, in file order."""
        for unit in self.org.units:
            for dept in unit.departments:
                for post in dept.posts:
                    yield PostPlace(unit, dept, None, post)
                for team in dept.teams:
                    for post in team.posts:
                        yield PostPlace(unit, dept, team, post)

    def resolve_owner(self, org_no: str, owner: str | Owner | OwnerRef, as_of: date | datetime) -> OwnerResolution:
        """Walk up from the record's unit to the first unit whose department carries the post."""
        try:
            ref = owner if isinstance(owner, OwnerRef) else OwnerRef.parse(owner)
        except ValueError as e:
            raise Unresolved("owner_invalid", str(e)) from None
        for steps, unit in enumerate(self.chain(org_no)):
            dept = unit.department(ref.department)
            post = dept.find_post(ref.team, ref.post) if dept is not None else None
            if post is not None:
                return OwnerResolution(unit.code, ref.department, ref.team, ref.post, post.holder_on(_day(as_of)), steps)
        raise Unresolved("owner_not_found", f"责任岗位「{ref}」在单位 {org_no} 及其上级单位中均不存在")

    def resolve_supervisors(self, owner: OwnerResolution, supervisor: str | Supervisor) -> list[SupervisorResolution]:
        """Each entry from the owner's unit (上级: from its parent; the root is its own 上级)."""
        try:
            refs = SupervisorRef.parse_all(supervisor)
        except ValueError as e:
            raise Unresolved("supervisor_invalid", str(e)) from None
        return [self._supervisor(owner.unit, ref) for ref in refs]

    def _supervisor(self, owner_unit: str, ref: SupervisorRef) -> SupervisorResolution:
        chain = self.chain(owner_unit)
        if ref.upper and len(chain) > 1:
            chain = chain[1:]
        for unit in chain:
            if (dept := unit.department(ref.department)) is not None:
                return SupervisorResolution(unit.code, dept.name, dept.head, ref.cooperating, ref.upper)
        level = "上级" if ref.upper else "本级"
        raise Unresolved("supervisor_not_found", f"督导部门「{ref.department}」在单位 {owner_unit} 的{level}及以上单位中均不存在")
