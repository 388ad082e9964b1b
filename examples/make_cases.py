"""Generate the example case files that README's main command runs on.

Regenerate (from the repository root; the output is deterministic, byte for byte):

    .venv/bin/python examples/make_cases.py

Writes examples/cases/ticket.{csv,jsonl,parquet} and examples/cases/billing.{csv,jsonl,parquet}:
the same rows in three formats, in the shapes of shared/domain/records.md (the record kinds are
taken from examples/rulebooks/common.rules, so the files always match the rulebooks).

- ticket: 300 95598 tickets accepted in March 2026 by units 33401/33402/33403, realistic
  content, some optional fields empty, and about 10 % planted violations of the example rules
  (late dispatch, late arrival and restoration, late complaint contact/reply, 不满意 revisits,
  repeat complaints, a ticket with no category or no customer number …);
- billing: 100 customers × periods 2026-01 … 2026-03 (300 rows), a few big swings against the
  three-month average, a customer at exactly +50 % (a boundary that must not fire), zero
  consumption, new customers without an average, and a few unpaid bills;
- BAD_ROWS: 3 deliberately bad rows (2 tickets, 1 bill) that the reader must reject, so the
  README run shows rejections: read = evaluated + rejected. They are values of a wrong
  spelling in text-typed columns (an enum value not in the enum, a month 2026-13), so that the
  typed Parquet copy can hold them too and all three formats read alike.

Randomness comes only from `random.Random(SEED)`; files are written with
`compliance_engine.records.write_records` (the bad rows are patched in afterwards, since
write_records refuses to write a bad record — which is the point of it).
"""

from __future__ import annotations

import csv
import io
import json
import random
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from compliance_engine import load_rulebooks
from compliance_engine.records import write_records

SEED = 20260331
HERE = Path(__file__).resolve().parent
CASES = HERE / "cases"
AS_OF = datetime(2026, 3, 31, 18, 0)  # README: --as-of 2026-03-31T18:00
ORGS = ("33401", "33402", "33403")

# (kind, row index in the written file, field, bad value): an extra row (a copy of the row
# before it under a new key) is written valid, then the field is overwritten with the bad
# value in every format.
BAD_ROWS = (
    ("ticket", 57, "ticket_type", "投拆"),      # a typo of 投诉: not a member of the enum
    ("ticket", 188, "channel", "95598"),        # should be 95598电话
    ("billing", 150, "period", "2026-13"),      # no 13th month
)

# ---- ticket content -----------------------------------------------------------------------
PLACES = ("幸福小区", "城南新村", "解放路", "东湖路", "桥头村", "石门村", "工业园区", "人民医院附近",
          "实验小学门口", "菜市场旁", "滨江花园", "西山村", "建设路", "和平街", "光明小区")
CONTENT = {
    "安全隐患": ("{p}一根电线杆倾斜严重，刮风时晃动，担心倒塌伤人，请尽快处理。",
                 "{p}配电箱门损坏未上锁，小孩可以触碰到，存在安全隐患。",
                 "{p}树枝碰到导线，下雨时有放电火花，请派人修剪。",
                 "{p}一根低压线垂得很低，车辆经过容易挂断。"),
    "家电损坏赔偿": ("昨晚{p}电压突然升高，家里冰箱和电视烧坏了，要求赔偿。",
                     "{p}停电后来电时电压不稳，空调主板损坏，要求供电公司处理。"),
    "停电与电压质量": ("{p}晚上用电高峰电压太低，空调启动不了。",
                       "{p}这个月已经停了三次电，严重影响生活，希望给个说法。",
                       "{p}家里灯光忽明忽暗，电压波动很大。",
                       "{p}停电没有提前通知，冰箱里的东西都坏了。"),
    "线路与房屋邻近纠纷": ("{p}新建房屋离高压线太近，要求迁移线路。",
                           "{p}电力线路从屋顶上方穿过，担心安全，要求改线。"),
    "施工赔偿": ("供电公司在{p}施工挖坏了我家的菜地，要求赔偿损失。",
                 "{p}电缆施工后路面没有恢复，影响出行。"),
    "业扩办理超时": ("{p}店铺申请新装用电已经半个多月，还没有装表接电。",
                     "工厂增容申请提交很久了，{p}现场一直没人来勘查。"),
    "电费": ("本月电费比上月高出一倍，怀疑电表计量不准，要求核实。",
             "家里长期没人住，电费却没有减少，要求查明原因。",
             "执行的电价好像不对，商铺按居民电价登记却按商业电价收费。"),
    "账单信息获取": ("网上国网查不到本月电费账单，要求提供电费明细。",
                     "微信公众号没有推送电费通知，不知道欠费多少。",
                     "需要开具近三个月的电费发票。"),
    "服务行为": ("{p}营业厅工作人员态度生硬，办理业务时推诿。",
                 "抄表员上门时没有出示工作证，服务不规范。"),
    "其他": ("咨询{p}附近充电桩的报装流程。", "询问峰谷分时电价的执行时段。"),
}
REPAIR = ("家里突然停电，邻居家也没电，请尽快派人抢修。", "表箱里有焦糊味，总开关跳闸合不上。",
          "{p}整条街停电，路灯也不亮了。", "{p}变压器有异响并冒烟，附近都停电了。",
          "家里有一路没电，其他房间正常，请派人检查。")
CONSULT = ("咨询居民阶梯电价标准。", "询问峰谷分时电价的执行时段。", "咨询如何在网上国网办理过户。",
           "咨询光伏发电并网需要准备哪些材料。", "询问电费缴费截止日期。")
PRAISE = ("感谢抢修师傅冒雨连夜抢修，服务很热情。", "{p}营业厅工作人员耐心细致，特此表扬。",
          "台区经理上门帮忙检查线路，非常感谢。")
URGE = ("此前反映的问题至今没有处理，请尽快答复。", "上周报的事情还没人联系我，催一下。")
SURNAMES = "王李张刘陈杨黄赵周吴徐孙马朱胡郭何高林罗"

TYPES = (("故障报修", 90), ("咨询", 70), ("投诉", 40), ("意见", 30), ("举报", 10), ("表扬", 15), ("催办", 15),
         ("安全隐患举报", 20), ("家电损坏", 10))
TS_ARRIVAL = {"城区": 45, "农村": 90, "特殊边远": 120}   # minutes (TS-013)
TS_RESTORE = {"城区": 180, "农村": 240, "特殊边远": 360}  # minutes (TS-014)


def _minutes(rng: random.Random, lo: int, hi: int) -> timedelta:
    return timedelta(minutes=rng.randint(lo, hi))


def _open(t: datetime | None) -> datetime | None:
    """A step planned after the as-of time has not happened yet: empty in the export."""
    return t if t is not None and t <= AS_OF else None


def _accepted(rng: random.Random) -> datetime:
    day = datetime(2026, 3, 1) + timedelta(days=rng.randint(0, 30))
    hour = rng.choice((8, 9, 9, 10, 10, 11, 13, 14, 14, 15, 16, 17, 19, 20, 21, 22, 2))
    t = day.replace(hour=hour, minute=rng.randint(0, 59))
    return min(t, datetime(2026, 3, 31, 16, 30))


def _customer(rng: random.Random, org: str) -> str:
    return f"{org}{rng.randint(1, 400):05d}"


def tickets(rng: random.Random) -> list[dict]:
    pool = [name for name, weight in TYPES for _ in range(weight)]
    rows = []
    for _ in range(292):
        rows.append(_ticket(rng, rng.choice(pool)))
    rows.extend(_planted_repeats(rng))
    rows.sort(key=lambda r: (r["accepted_at"], r["org_no"]))
    for n, r in enumerate(rows, 1):
        r["ticket_no"] = f"T{r['accepted_at']:%Y%m%d}{n:04d}"
    _plant_violations(rng, rows)
    return rows


def _ticket(rng: random.Random, kind: str) -> dict:
    org = rng.choice(ORGS)
    p = rng.choice(PLACES)
    area = rng.choice(("城区", "城区", "城区", "农村", "农村", "特殊边远"))
    accepted = _accepted(rng)
    r = {"ticket_no": "", "org_no": org, "cons_no": _customer(rng, org), "category": None, "sub_category": None,
         "fault_scope": None, "channel": rng.choice(("95598电话", "95598电话", "95598电话", "网上国网", "网上国网",
                                                       "微信公众号", "12345热线", "营业厅")),
         "area": area, "accepted_at": accepted, "dispatched_at": None, "contacted_at": None, "arrived_at": None,
         "restored_at": None, "replied_at": None, "closed_at": None, "revisited_at": None, "satisfaction": None,
         "sensitive": False, "content": "", "caller_name": None, "caller_phone": None}
    if rng.random() < 0.8:
        r["caller_name"] = rng.choice(SURNAMES) + rng.choice(("先生", "女士"))
    if rng.random() < 0.85:
        # generated already masked, as in a desensitised export: no real number is in the repository
        r["caller_phone"] = "1" + rng.choice("3589") + str(rng.randint(0, 9)) + "****" + f"{rng.randint(0, 9999):04d}"
    if kind == "故障报修":
        r["ticket_type"] = "故障报修"
        r["category"] = rng.choice(("停电与电压质量", "停电与电压质量", None))  # repair tickets often carry none
        r["fault_scope"] = rng.choice(("供电侧", "供电侧", "客户侧", None))
        r["content"] = rng.choice(REPAIR).format(p=p)
        r["dispatched_at"] = accepted + _minutes(rng, 0, 3)
        r["arrived_at"] = _open(accepted + _minutes(rng, 15, TS_ARRIVAL[area] - 5))
        if r["arrived_at"] is not None:
            r["restored_at"] = _open(r["arrived_at"] + _minutes(rng, 20, TS_RESTORE[area] - 20))
        r["contacted_at"] = _open(accepted + _minutes(rng, 5, 15))
        done = r["restored_at"]
    else:
        if kind == "安全隐患举报":
            r["ticket_type"], r["category"] = rng.choice(("举报", "投诉", "意见", "咨询")), "安全隐患"
        elif kind == "家电损坏":
            r["ticket_type"], r["category"] = rng.choice(("投诉", "意见")), "家电损坏赔偿"
        elif kind == "咨询":
            r["ticket_type"] = "咨询"
            r["category"] = rng.choice(("电费", "账单信息获取", "其他", "其他"))
        elif kind == "表扬":
            r["ticket_type"], r["category"] = "表扬", rng.choice(("服务行为", None))
        elif kind == "催办":
            r["ticket_type"] = "催办"
            r["category"] = rng.choice(("业扩办理超时", "电费", "停电与电压质量"))
        else:
            r["ticket_type"] = kind
            r["category"] = rng.choice(("停电与电压质量", "电费", "服务行为", "账单信息获取", "线路与房屋邻近纠纷",
                                        "施工赔偿", "业扩办理超时"))
        if r["category"] == "停电与电压质量":
            r["sub_category"] = rng.choice(("低电压", "电压波动", "频繁停电", "停电未通知", None))
        elif r["category"] == "电费":
            r["sub_category"] = rng.choice(("电费差错", "缴费渠道", None))
        elif r["category"] == "账单信息获取":
            r["sub_category"] = rng.choice(("票据", "缴费渠道", None))
        special = {"咨询": CONSULT, "表扬": PRAISE, "催办": URGE}.get(r["ticket_type"])
        r["content"] = rng.choice(special or CONTENT[r["category"]]).format(p=p)
        r["sensitive"] = r["ticket_type"] in ("投诉", "举报") and rng.random() < 0.15
        r["dispatched_at"] = accepted + _minutes(rng, 5, 100)
        r["contacted_at"] = _open(accepted + _minutes(rng, 30, 20 * 60))
        if r["category"] == "安全隐患" and r["ticket_type"] != "咨询":
            r["arrived_at"] = _open(accepted + _minutes(rng, 60, 20 * 60))
        r["replied_at"] = _open(accepted + _minutes(rng, 2 * 60, 4 * 24 * 60))
        done = r["replied_at"]
    if done is not None:
        r["closed_at"] = _open(done + _minutes(rng, 30, 24 * 60))
    if r["closed_at"] is not None and r["ticket_type"] in ("投诉", "意见", "举报", "故障报修"):
        r["revisited_at"] = _open(r["closed_at"] + _minutes(rng, 2 * 60, 24 * 60))
        if r["revisited_at"] is not None:
            r["satisfaction"] = rng.choice(("满意",) * 8 + ("基本满意",) * 2)
    return r


def _planted_repeats(rng: random.Random) -> list[dict]:
    """TS-061: three customers complain twice within 30 days (the second complaint fires)."""
    out = []
    for org, first, gap_days in (("33401", datetime(2026, 3, 3, 9, 20), 12), ("33402", datetime(2026, 3, 9, 14, 5), 20),
                                 ("33403", datetime(2026, 3, 2, 10, 40), 27)):
        cons_no = f"{org}{rng.randint(401, 450):05d}"
        for t in (first, first + timedelta(days=gap_days, hours=2)):
            r = _ticket(rng, "投诉")
            r.update(org_no=org, cons_no=cons_no, accepted_at=t, category="电费", sub_category="电费差错",
                     content="电费又算错了，上次反映后没有解决，再次投诉。" if t != first else "本月电费明显偏高，怀疑抄表有误。",
                     dispatched_at=t + timedelta(minutes=20), contacted_at=t + timedelta(hours=3),
                     replied_at=_open(t + timedelta(days=1)), closed_at=_open(t + timedelta(days=1, hours=4)),
                     revisited_at=_open(t + timedelta(days=2)), satisfaction=None)
            if r["revisited_at"] is not None:
                r["satisfaction"] = "基本满意"
            out.append(r)
    return out


def _plant_violations(rng: random.Random, rows: list[dict]) -> None:
    """Turn a few compliant tickets into violations (or undecidable cases) of the example rules."""
    def pick(pred, n):
        found = [r for r in rows if pred(r) and not r.get("_planted")]
        chosen = rng.sample(found, n)
        for r in chosen:
            r["_planted"] = True
        return chosen

    early = lambda r: r["accepted_at"] < datetime(2026, 3, 27)  # noqa: E731
    # TS-001: 安全隐患 dispatched after more than 2 hours, or not at all
    for r, late in zip(pick(lambda r: r["category"] == "安全隐患" and early(r), 4), (125, 190, 300, None)):
        r["dispatched_at"] = None if late is None else r["accepted_at"] + timedelta(minutes=late)
    # TS-001 undetermined: no category, dispatched 3 hours late
    for r in pick(lambda r: r["ticket_type"] == "意见" and early(r), 1):
        r["category"], r["sub_category"], r["dispatched_at"] = None, None, r["accepted_at"] + timedelta(hours=3)
    # TS-012: repair dispatched after 4 … 15 minutes
    for r, late in zip(pick(lambda r: r["ticket_type"] == "故障报修" and early(r), 4), (4, 6, 9, 15)):
        r["dispatched_at"] = r["accepted_at"] + timedelta(minutes=late)
    # TS-013: arrival later than the area's promise (the restoration moves with it)
    for r, extra in zip(pick(lambda r: r["ticket_type"] == "故障报修" and early(r) and r["restored_at"], 5), (1, 10, 25, 40, 70)):
        shift = r["accepted_at"] + timedelta(minutes=TS_ARRIVAL[r["area"]] + extra) - r["arrived_at"]
        r["arrived_at"] += shift
        r["restored_at"] += shift
        for f in ("closed_at", "revisited_at"):
            r[f] = _open(r[f] + shift) if r[f] else None
    # TS-013 fires and TS-014 is undetermined: the arrival was never recorded
    for r in pick(lambda r: r["ticket_type"] == "故障报修" and early(r) and r["fault_scope"] != "客户侧", 2):
        r["arrived_at"] = None
    # TS-014: restoration later than the area's promise (one is a customer-side fault: excused)
    for r, scope in zip(pick(lambda r: r["ticket_type"] == "故障报修" and early(r) and r["arrived_at"], 4),
                        ("供电侧", None, "供电侧", "客户侧")):
        r["fault_scope"] = scope
        r["restored_at"] = r["arrived_at"] + timedelta(minutes=TS_RESTORE[r["area"]] + rng.randint(5, 90))
        r["closed_at"] = _open(r["restored_at"] + timedelta(hours=2))
        r["revisited_at"] = _open(r["closed_at"] + timedelta(hours=3)) if r["revisited_at"] and r["closed_at"] else None
        r["satisfaction"] = r["satisfaction"] if r["revisited_at"] else None
    # TS-056: complaint contacted after more than 24 hours, or replied after more than 5 workdays
    for r in pick(lambda r: r["ticket_type"] == "投诉" and early(r) and r["category"] != "安全隐患", 2):
        r["contacted_at"] = r["accepted_at"] + timedelta(hours=rng.randint(26, 40))
        r["replied_at"] = r["contacted_at"] + timedelta(hours=3)
    for r in pick(lambda r: r["ticket_type"] == "投诉" and r["accepted_at"] < datetime(2026, 3, 20), 2):
        r["replied_at"] = r["accepted_at"] + timedelta(days=10, hours=2)  # ≥ 6 workdays
        r["closed_at"] = r["replied_at"] + timedelta(hours=5)
    # TS-060: revisit found the customer 不满意
    for r in pick(lambda r: r["satisfaction"] is not None, 3):
        r["satisfaction"] = "不满意"
    # TS-061 undetermined: a complaint with no customer number
    for r in pick(lambda r: r["ticket_type"] == "投诉" and early(r), 1):
        r["cons_no"] = None
    for r in rows:
        r.pop("_planted", None)


# ---- billing --------------------------------------------------------------------------------
CLASSES = (("居民", 60, (80, 450), "R101", Decimal("0.5383")),
           ("一般工商业", 25, (800, 12000), "B201", Decimal("0.6812")),
           ("大工业", 8, (50000, 300000), "L301", Decimal("0.6135")),
           ("农业生产", 7, (300, 6000), "A401", Decimal("0.4920")))
MONTHS = ((2025, 10), (2025, 11), (2025, 12), (2026, 1), (2026, 2), (2026, 3))
CENT = Decimal("0.01")


def billing(rng: random.Random) -> list[dict]:
    customers = []
    for cls, count, (lo, hi), tariff, price in CLASSES:
        for _ in range(count):
            customers.append({"class": cls, "base": rng.randint(lo, hi), "tariff": tariff, "price": price})
    rng.shuffle(customers)
    for n, c in enumerate(customers):
        c["org"] = ORGS[n % 3]
        c["cons_no"] = f"{c['org']}{n + 1:05d}"
        c["kwh"] = [Decimal(round(c["base"] * rng.uniform(0.88, 1.12))) for _ in MONTHS]
        c["new"] = False
    nonres = [c for c in customers if c["class"] in ("一般工商业", "大工业")]
    # BP-028: big swings against the three-month average in March (and one in February)
    for c, factor, month in zip(nonres[:5], (1.9, 0.35, 2.6, 0.2, 1.7), (5, 5, 5, 5, 4)):
        c["kwh"][month] = Decimal(round(float(c["kwh"][month]) * factor))
    # BP-028 boundary: exactly +50 % against an average of exactly 10000 → passes
    nonres[5]["kwh"] = [Decimal(9000), Decimal(9500), Decimal(10000), Decimal(10000), Decimal(10000), Decimal(15000)]
    # BP-025 / BP-026: a shop closed since January (zero three months running); a farm idle in February
    nonres[6]["kwh"][3:] = [Decimal(0)] * 3
    next(c for c in customers if c["class"] == "农业生产")["kwh"][4] = Decimal(0)
    # BP-028 undetermined: new customers (connected in January) have no three-month average
    for c in (nonres[7], nonres[8], next(c for c in customers if c["class"] == "居民")):
        c["new"] = True
    rows = []
    for c in customers:
        for i in range(3, 6):
            rows.append(_bill(rng, c, i))
    # unpaid: three January bills in 33401 (BP-039; EX-001 by count), a large February bill in
    # 33402 (EX-001 by amount, not yet 30 days late), a partly paid January bill in 33403
    def bill(org, period, cls=None):
        return next(r for r in rows if r["org_no"] == org and r["period"] == period and r["amount"] > 0
                    and (cls is None or r["customer_class"] == cls) and r["paid_amount"] == r["amount"]
                    and not r.get("_planted") and r["kwh_avg3"] is not None)
    for org, period, cls, paid in (("33401", "2026-01", "居民", "0"), ("33401", "2026-01", "居民", "0"),
                                   ("33401", "2026-01", "一般工商业", "half"), ("33402", "2026-02", "大工业", "0"),
                                   ("33403", "2026-01", "居民", "half")):
        r = bill(org, period, cls)
        r["_planted"] = True
        r["paid_amount"] = Decimal(0) if paid == "0" else (r["amount"] / 2).quantize(CENT)
        r["paid_at"] = None
    for r in rows:
        r.pop("_planted", None)
    rows.sort(key=lambda r: (r["period"], r["org_no"], r["cons_no"]))
    return rows


def _bill(rng: random.Random, c: dict, i: int) -> dict:
    year, month = MONTHS[i]
    kwh = c["kwh"][i]
    history = c["kwh"][3:i] if c["new"] else c["kwh"][i - 3:i]  # the new ones were connected in January
    read_at = datetime(year, month, rng.randint(18, 26), rng.randint(8, 16), rng.randint(0, 59))
    due = read_at.date() + timedelta(days=rng.randint(15, 20))
    amount = (kwh * c["price"]).quantize(CENT, ROUND_HALF_UP)
    paid_at = read_at + timedelta(days=rng.randint(1, (due - read_at.date()).days), hours=rng.randint(0, 6))
    paid = paid_at <= AS_OF and (month != 3 or rng.random() < 0.5)
    adjusted = rng.random() < 0.02
    return {
        "cons_no": c["cons_no"], "org_no": c["org"], "period": f"{year}-{month:02d}", "customer_class": c["class"],
        "tariff_code": c["tariff"], "tariff_code_registered": c["tariff"], "kwh": kwh,
        "kwh_prev": history[-1] if history else None,
        "kwh_avg3": (sum(history) / 3).quantize(CENT, ROUND_HALF_UP) if len(history) == 3 else None,
        "amount": amount, "paid_amount": amount if paid else Decimal(0), "due_date": due,
        "paid_at": paid_at if paid else None,
        "reading_method": rng.choice(("自动采集",) * 17 + ("人工抄表", "人工抄表", "估抄")), "read_at": read_at,
        "adjusted": adjusted, "adjust_approved": True if adjusted else None,
        "adjust_amount": Decimal(rng.randint(-8000, 8000)) / 100 if adjusted else None,
        "adjust_kwh": None,
    }


# ---- writing ------------------------------------------------------------------------------
def _patch_csv(path: Path, patches: list[tuple[int, str, str]]) -> None:
    with open(path, encoding="utf-8", newline="") as f:
        table = list(csv.reader(f))
    header = table[0]
    for index, field, value in patches:
        table[index + 1][header.index(field)] = value
    out = io.StringIO()
    csv.writer(out).writerows(table)  # the same dialect write_records uses
    path.write_text(out.getvalue(), encoding="utf-8", newline="")


def _patch_jsonl(path: Path, patches: list[tuple[int, str, str]]) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    for index, field, value in patches:
        obj = json.loads(lines[index])
        old = json.dumps(field, ensure_ascii=False) + ":" + json.dumps(obj[field], ensure_ascii=False)
        assert lines[index].count(old) == 1, (path, index, old)
        lines[index] = lines[index].replace(old, json.dumps(field, ensure_ascii=False) + ":" + json.dumps(value, ensure_ascii=False))
    path.write_text("".join(lines), encoding="utf-8")


def _patch_parquet(path: Path, patches: list[tuple[int, str, str]]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    rows = table.to_pylist()
    for index, field, value in patches:
        assert pa.types.is_string(table.schema.field(field).type), field
        rows[index][field] = value
    pq.write_table(pa.Table.from_pylist(rows, schema=table.schema), path)


def main() -> None:
    kinds = load_rulebooks([HERE / "rulebooks"]).kinds
    rng = random.Random(SEED)
    data = {"ticket": tickets(rng), "billing": billing(rng)}
    for k, (name, index, _, _) in enumerate(BAD_ROWS):
        extra = dict(data[name][index - 1])
        if name == "ticket":
            extra["ticket_no"] = extra["ticket_no"][:-4] + f"{9001 + k:04d}"
        else:
            extra["cons_no"] = extra["org_no"] + f"{99001 + k:05d}"
        data[name].insert(index, extra)
    CASES.mkdir(exist_ok=True)
    for name, rows in data.items():
        patches = [(i, f, v) for kind, i, f, v in BAD_ROWS if kind == name]
        for suffix, patch in (("csv", _patch_csv), ("jsonl", _patch_jsonl), ("parquet", _patch_parquet)):
            path = CASES / f"{name}.{suffix}"
            n = write_records(path, kinds[name], rows)
            patch(path, patches)
            print(f"{path}: {n} rows ({len(patches)} of them deliberately bad)")


if __name__ == "__main__":
    main()
