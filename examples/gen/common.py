"""Shared pieces of the generator: the org units, time on the working-day calendar, per-org time
slots (which keep org-wide windows quiet in the baseline), unique names, and text pools."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
ORG_YAML = HERE.parent / "org.yaml"

# Used when examples/org.yaml is absent: counties 33401-33403 and their 供电所.
FALLBACK_UNITS = [
    ("334", "市公司"), ("33401", "县公司"), ("33402", "县公司"), ("33403", "县公司"),
    ("3340101", "供电所"), ("3340102", "供电所"), ("3340103", "供电所"),
    ("3340201", "供电所"), ("3340202", "供电所"), ("3340203", "供电所"),
    ("3340301", "供电所"), ("3340302", "供电所"), ("3340303", "供电所"),
]


@dataclass(frozen=True)
class Orgs:
    """Unit codes by level, from examples/org.yaml."""

    all: tuple[str, ...]
    companies: tuple[str, ...]  # 市公司 and 县公司: own accounts, systems
    stations: tuple[str, ...]  # 供电所: own customers, 台区, field work, outages
    names: dict = field(default_factory=dict)


def load_orgs(path: Path = ORG_YAML) -> Orgs:
    units: list[tuple[str, str]] = []
    names = {}
    if path.exists():
        from ruamel.yaml import YAML

        data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
        for u in data.get("units", []):
            units.append((str(u["code"]), str(u.get("type", ""))))
            names[str(u["code"])] = u.get("name", "")
    if not units:
        units = FALLBACK_UNITS
    stations = tuple(c for c, t in units if t == "供电所") or tuple(c for c, _ in units)
    companies = tuple(c for c, t in units if t in ("市公司", "县公司")) or tuple(c for c, _ in units)
    return Orgs(tuple(c for c, _ in units), companies, stations, names)


# ---- money and numbers -------------------------------------------------------------------------

CENT = Decimal("0.01")


def money(x) -> Decimal:
    return Decimal(x).quantize(CENT, rounding=ROUND_HALF_UP)


def dec(x, places: int = 2) -> Decimal:
    return Decimal(x).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


# ---- time ----------------------------------------------------------------------------------------


class Clock:
    """Random times that respect the working-day calendar."""

    def __init__(self, rng: random.Random, cal, as_of: datetime):
        self.rng, self.cal, self.as_of = rng, cal, as_of

    def office_time(self, d: date, lo: tuple = (8, 30), hi: tuple = (17, 30)) -> datetime:
        start = lo[0] * 60 + lo[1]
        end = hi[0] * 60 + hi[1]
        m = self.rng.randint(start, end - 1)
        return datetime.combine(d, time(m // 60, m % 60, self.rng.randint(0, 59)))

    def workday_on_or_before(self, d: date) -> date:
        while not self.cal.is_workday(d):
            d -= timedelta(days=1)
        return d

    def workday_on_or_after(self, d: date) -> date:
        while not self.cal.is_workday(d):
            d += timedelta(days=1)
        return d

    def random_day(self, days_back_lo: int, days_back_hi: int) -> date:
        return self.as_of.date() - timedelta(days=self.rng.randint(days_back_lo, days_back_hi))

    def random_workday(self, days_back_lo: int, days_back_hi: int) -> date:
        return self.workday_on_or_before(self.random_day(days_back_lo, days_back_hi))

    def after_workdays(self, t: datetime, n: int, lo=(8, 30), hi=(17, 30)) -> datetime:
        """A time on the n-th working day after t's day (n = 0: later the same day, in office
        hours when possible)."""
        if n <= 0:
            end = datetime.combine(t.date(), time(hi[0], hi[1]))
            if t >= end - timedelta(minutes=20):
                return t + timedelta(minutes=self.rng.randint(5, 20))
            span = int((end - t).total_seconds() // 60)
            return t + timedelta(minutes=self.rng.randint(5, max(6, span)))
        d = self.cal.add_workdays(t.date(), n)
        return self.office_time(d, lo, hi)

    def workdays_back(self, n: int) -> date:
        """The latest working day d with workdays_between(d, as_of) == n (n >= 1)."""
        d = self.as_of.date() - timedelta(days=1)
        while not (self.cal.is_workday(d) and self.cal.workdays_between(d, self.as_of) == n):
            d -= timedelta(days=1)
        return d

    def any_time(self, d: date, weights=None) -> datetime:
        """A time of day with a daytime-heavy profile (95598 is open around the clock)."""
        hour = self.rng.choices(range(24), weights or HOUR_WEIGHTS)[0]
        return datetime.combine(d, time(hour, self.rng.randint(0, 59), self.rng.randint(0, 59)))


# calls per hour of day at a 95598 centre: quiet at night, peaks mid-morning and evening
HOUR_WEIGHTS = (2, 1, 1, 1, 1, 2, 4, 8, 12, 14, 14, 12, 9, 10, 12, 12, 11, 11, 12, 12, 10, 8, 5, 3)
REPAIR_HOUR_WEIGHTS = (4, 3, 2, 2, 2, 3, 5, 8, 9, 9, 9, 9, 9, 9, 9, 10, 10, 11, 13, 14, 13, 10, 7, 5)


class Slots:
    """Per-org time slots for records that an org-wide window counts: slot k of an org covers
    `[start - (k + 1) * width, start - k * width)`, and a record placed in it lands within `jitter`
    of the slot's start, so records of one org are at least `width - jitter` apart. Slots are
    handed out newest first, or oldest first (`old=True`, for injections that need time to have
    passed); None when an org has no slot left (the caller then makes something no org window
    counts)."""

    def __init__(self, start: datetime, width: timedelta, jitter: timedelta, oldest: datetime):
        self.start, self.width, self.jitter = start, width, jitter
        self.total = int((start - oldest) / width)
        self.new: dict[str, int] = {}
        self.old: dict[str, int] = {}

    def take(self, org: str, rng: random.Random, n: int = 1, old: bool = False) -> datetime | None:
        hi, lo = self.new.get(org, 0), self.old.get(org, 0)
        if hi + lo + n > self.total:
            return None
        if old:
            k = self.total - lo - n
            self.old[org] = lo + n
        else:
            k = hi
            self.new[org] = hi + n
        t0 = self.start - (k + n) * self.width
        return t0 + timedelta(seconds=rng.randint(0, int(self.jitter.total_seconds())))


# ---- names ---------------------------------------------------------------------------------------

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
            "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
GIVEN = ("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂华建国志红兵辉玉萍鹏飞波斌宇浩凯健俊帆帅旭宁龙林欢阳"
         "晨瑶琳婷雪慧颖倩玲燕佳嘉思雨欣怡梓轩子涵博文然宏海春晓亮新德永成荣福生东峰云振家"
         "立安晶彤蕾薇莉倩韵琪璐颜诗梦semi翔宸皓睿泽铭远航晖毅坤鑫楠柏松岩钧豪")
GIVEN = "".join(ch for ch in GIVEN if "\u4e00" <= ch <= "\u9fff")
COMPOUND_SURNAMES = ("欧阳", "上官", "司马", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐")


class UniqueNames:
    """Distinct Chinese names for indices 0…n-1 (a fixed permutation of surname × given-name
    pairs of one or two characters), so that two people never share a name by accident."""

    def __init__(self, salt: int):
        g1 = list(dict.fromkeys(GIVEN))
        g2 = [a + b for a in g1 for b in g1 if a != b]
        self.given = g1 + g2
        self.surnames = list(dict.fromkeys(SURNAMES)) + list(COMPOUND_SURNAMES)
        self.total = len(self.surnames) * len(self.given)
        self.mult = 2_654_435_761 % self.total
        while _gcd(self.mult, self.total) != 1:
            self.mult += 1
        self.salt = salt % self.total

    def __call__(self, i: int) -> str:
        j = (i * self.mult + self.salt) % self.total
        s, g = divmod(j, len(self.given))
        name = self.surnames[s] + self.given[g]
        lap = i // self.total  # past ~1.7 million people: namesakes told apart as HR systems do
        return name if lap == 0 else f"{name}{chr(ord('A') + lap - 1)}"


def _gcd(a: int, b: int) -> int:
    while b:
        a, b = b, a % b
    return a


def fake_phone(rng: random.Random) -> str:
    """Masked, as in a desensitised export (org.yaml keeps real-looking numbers out too)."""
    return "1" + rng.choice("3589") + str(rng.randint(0, 9)) + "****" + f"{rng.randint(0, 9999):04d}"


def caller(rng: random.Random) -> str:
    return rng.choice(SURNAMES[:40]) + rng.choice(("先生", "女士", "先生", "女士", "师傅"))


# ---- places -------------------------------------------------------------------------------------

PLACES = ("幸福小区", "城南新村", "解放路", "东湖路", "桥头村", "石门村", "工业园区", "人民医院附近", "实验小学门口",
          "菜市场旁", "滨江花园", "西山村", "建设路", "和平街", "光明小区", "柳塘镇", "桂溪村", "白沙街道", "枫林苑",
          "云台山庄", "河口村", "青山路", "芦湾新村", "石桥老街", "站前路", "汽车站旁", "开发区三号路", "农贸市场",
          "锦绣家园", "东岚中学", "西麓卫生院", "南汀大道", "文化广场", "体育馆北侧")


def place(rng: random.Random) -> str:
    return rng.choice(PLACES)
