"""Customer units: a customer's archive (customer), its meter, its bill(s), its 业扩 application,
its 95598 ticket(s) and, for some, a past 欠费停电 — every cons_no-keyed window of the catalog
stays inside one unit."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from .common import (REPAIR_HOUR_WEIGHTS, Clock, Slots, UniqueNames, caller, dec, fake_phone, money, place)
from .core import Family, Unit
from .oracle import Mon
from .texts import NOTICE_CHANNELS, OUTAGE_REASONS, ticket_content

LIMIT_ARRIVE = {"城区": 45, "农村": 90, "特殊边远": 120}  # minutes (TS-013)
LIMIT_RESTORE = {"城区": 180, "农村": 240, "特殊边远": 360}  # minutes after arrival (TS-014)
TYPE_WEIGHTS = {"咨询": 42, "故障报修": 36, "催办": 6, "意见": 5, "表扬": 4, "投诉": 3, "举报": 1}
CATEGORY_WEIGHTS = {
    "故障报修": {"停电与电压质量": 85, "安全隐患": 10, "其他": 5},
    "咨询": {"电费": 28, "账单信息获取": 14, "业扩办理超时": 8, "其他": 38, "停电与电压质量": 8, "安全隐患": 2,
             "线路与房屋邻近纠纷": 2},
    "催办": {"业扩办理超时": 40, "停电与电压质量": 30, "电费": 20, "其他": 10},
    "意见": {"服务行为": 30, "电费": 20, "停电与电压质量": 25, "线路与房屋邻近纠纷": 10, "账单信息获取": 10, "其他": 5},
    "投诉": {"服务行为": 35, "停电与电压质量": 35, "电费": 20, "账单信息获取": 5, "其他": 5},
    "表扬": {"服务行为": 80, "其他": 20},
    "举报": {"其他": 60, "安全隐患": 30, "线路与房屋邻近纠纷": 10},
}
RARE = {"家电损坏赔偿": 0.006, "施工赔偿": 0.003}  # share of 投诉/意见/咨询 tickets, when a slot is free
CHANNEL_WEIGHTS = {"95598电话": 55, "网上国网": 20, "微信公众号": 10, "12345热线": 8, "营业厅": 5, "其他": 2}
CLASS_WEIGHTS = {"居民": 86, "一般工商业": 9, "农业生产": 3, "大工业": 2}
PRICE = {"居民": (Decimal("0.5283"), Decimal("0.6200")), "一般工商业": (Decimal("0.6200"), Decimal("0.7800")),
         "大工业": (Decimal("0.5500"), Decimal("0.7000")), "农业生产": (Decimal("0.4500"), Decimal("0.5200"))}
TARIFF = {"居民": ("R101", "R101", "R101", "R102"), "一般工商业": ("C201", "C201", "C202"),
          "大工业": ("L301", "L302"), "农业生产": ("A401",)}
ANY = object()  # "let the generator choose"
BIG = ("一般工商业", "大工业")  # customers that may be important, or large


@dataclass
class Cust:
    """One customer of a unit and the facts its records share."""

    rec: dict
    cls: str
    org: str
    area: str
    method: str  # how its meter is read: 自动采集 or 人工抄表
    app_class: str
    place: str
    meter: dict | None = None
    bills: list = field(default_factory=list)
    app: dict | None = None
    tickets: list = field(default_factory=list)


def _w(rng, weights: dict):
    return rng.choices(tuple(weights), tuple(weights.values()))[0]


class CustomerFamily(Family):
    name = "customer"
    kinds = ("customer", "meter", "billing", "connection_app", "ticket", "outage")

    def __init__(self, ctx):
        super().__init__(ctx)
        self.as_of, self.cal, self.orgs = ctx.as_of, ctx.cal, ctx.orgs.stations
        self.clock = Clock(self.rng, ctx.cal, ctx.as_of)
        m = Mon.of(ctx.as_of.year, ctx.as_of.month)
        self.period = m if ctx.as_of.day >= 26 else Mon(m - 1)  # the latest billed month
        self.seq = {"cons": 0, "ticket": 0, "app": 0, "meter": 0, "outage": 0}
        a = ctx.as_of
        # org-wide windows (TS-009: 3 in 24 h; TS-031: 3 in 30 days) stay quiet: one record per slot
        self.damage_slots = Slots(a - timedelta(days=2), timedelta(hours=13), timedelta(minutes=90), a - timedelta(days=180))
        self.claim_slots = Slots(a - timedelta(days=3), timedelta(days=17), timedelta(days=3), a - timedelta(days=360))
        self.arrears_outages = 0
        self.names = UniqueNames(ctx.seed)
        self._register()

    # ---- ids -----------------------------------------------------------------------------------
    def next(self, what: str) -> int:
        self.seq[what] += 1
        return self.seq[what]

    # ---- a unit ----------------------------------------------------------------------------------
    def build(self, i: int, needs: dict) -> Unit:
        unit = Unit(self.name, i)
        cls = needs.get("cls")
        if isinstance(cls, tuple):
            cls = self.rng.choices(cls, [CLASS_WEIGHTS[c] for c in cls])[0]
        self.chain(unit, cls, arrears=needs.get("arrears"), method=needs.get("method"),
                   app_class=needs.get("app_class"))
        return unit

    def chain(self, unit: Unit, cls=None, org=None, arrears=None, method=None, app_class=None,
              ticket=True, **ticket_spec) -> Cust:
        rng = self.rng
        cls = cls or _w(rng, CLASS_WEIGHTS)
        org = org or rng.choice(self.orgs)
        area = rng.choices(("城区", "农村", "特殊边远"), (45, 50, 5))[0]
        if method is None:
            method = "人工抄表" if rng.random() < (0.25 if cls == "农业生产" or area != "城区" else 0.05) else "自动采集"
        if app_class is None:
            app_class = {"居民": "低压居民", "农业生产": "低压非居民"}.get(cls)
            if cls == "一般工商业":
                app_class = "高压单电源" if rng.random() < 0.15 else "低压非居民"
            elif cls == "大工业":
                app_class = "高压单电源"
        c = Cust({}, cls, org, area, method, app_class, place(rng))
        unit.extra.append(c)
        n = self.next("cons")
        c.rec = self.clean(unit, "customer", lambda: self.customer(c, n))
        if cls == "大工业" and c.rec["important"] and app_class == "高压单电源":
            c.app_class = "高压双电源"
        need = self.ctx.needed
        if "meter" in need:
            c.meter = self.clean(unit, "meter", lambda: self.meter(c))
        if "billing" in need:
            c.bills.append(self.clean(unit, "billing", lambda: self.bill(c, self.period)))
        if "connection_app" in need:
            c.app = self.clean(unit, "connection_app", lambda: self.app(c))
        if ticket and "ticket" in need:
            c.tickets.append(self.clean(unit, "ticket", lambda: self.ticket(c, **ticket_spec)))
            if c.tickets[0]["ticket_type"] == "投诉" and c.rec["complaints_12m"] == 0:
                c.rec["complaints_12m"] = 1
        if arrears and c.rec["important"]:  # a 欠费停电 of an important customer is a finding (BP-069)
            c.rec["important"] = False
        if "outage" in need and (arrears or (arrears is None and not c.rec["important"] and rng.random() < 0.12)):
            self.clean(unit, "outage", lambda: self.arrears_outage(c))
            self.arrears_outages += 1
            c.rec["arrears_count_12m"] = max(c.rec["arrears_count_12m"], 1)
        return c

    # ---- customer ----------------------------------------------------------------------------
    def customer(self, c: Cust, n: int) -> dict:
        rng = self.rng
        cls = c.cls
        kwh = {"居民": lambda: rng.randint(600, 9000), "一般工商业": lambda: rng.randint(5_000, 300_000),
               "大工业": lambda: rng.randint(2_000_000, 20_000_000), "农业生产": lambda: rng.randint(2_000, 80_000)}[cls]()
        lo, hi = PRICE[cls]
        amount = money(Decimal(kwh) * (lo + (hi - lo) * Decimal(rng.randint(0, 100)) / 100))
        important = rng.random() < {"大工业": 0.3, "一般工商业": 0.03}.get(cls, 0)
        cap = {"居民": lambda: rng.choice((4, 6, 8, 8, 10, 12, 16)), "一般工商业": lambda: rng.choice((20, 30, 50, 80, 100, 125, 160, 200, 250)),
               "大工业": lambda: rng.choice((315, 400, 630, 800, 1000, 1250, 2000, 3150, 5000)),
               "农业生产": lambda: rng.choice((10, 16, 30, 50, 80))}[cls]()
        big = important or amount >= Decimal("1000000.00")
        expires = None
        if big or cls != "居民" or rng.random() < 0.4:
            expires = self.as_of.date() + timedelta(days=rng.randint(45, 1500))
        return {
            "cons_no": f"33{n:08d}", "org_no": c.org, "customer_class": cls, "annual_kwh": Decimal(kwh),
            "annual_amount": amount, "arrears_count_12m": rng.choices((0, 1, 2), (85, 10, 5))[0],
            "complaints_12m": 0 if important else rng.choices((0, 1), (92, 8))[0], "important": important,
            "supply_contract_expires": expires, "dual_source": important or (cls == "大工业" and rng.random() < 0.25),
            "self_generator": important or rng.random() < 0.03, "contract_capacity_kva": Decimal(cap),
        }

    # ---- meter -------------------------------------------------------------------------------
    def meter(self, c: Cust) -> dict:
        rng, clock = self.rng, self.clock
        acc = {"居民": "2.0", "农业生产": rng.choice(("2.0", "1.0"))}.get(c.cls)
        if c.cls == "一般工商业":
            acc = "0.5S" if c.app_class.startswith("高压") else "1.0"
        elif c.cls == "大工业":
            acc = rng.choice(("0.5S", "0.2S"))
        back = rng.randint(60, 2700)
        installed = clock.office_time(clock.workday_on_or_before(self.as_of.date() - timedelta(days=back)))
        if acc in ("0.2S", "0.5S"):
            verified = clock.office_time(clock.random_workday(5, min(330, back - 1)))
        else:
            verified = clock.office_time(clock.random_workday(30, back - 1)) if rng.random() < 0.3 else None
        if verified is not None and verified <= installed:
            verified = installed + timedelta(days=1)
        rate = rng.randint(980, 989) if c.method == "人工抄表" else rng.choices((1000, rng.randint(990, 999)), (60, 40))[0]
        fault = fixed = None
        if rng.random() < 0.05:
            fault = clock.office_time(clock.random_workday(10, 200))
            fixed = clock.after_workdays(fault, rng.randint(0, 4))
            fixed = fixed if fixed <= self.as_of else None
        return {
            "meter_no": f"{c.org[:5]}{self.next('meter'):010d}", "org_no": c.org, "cons_no": c.rec["cons_no"],
            "installed_at": installed, "last_verified_at": verified, "accuracy_class": acc, "seal_intact": True,
            "collection_rate_30d": Decimal(rate).scaleb(-3),
            "clock_error_s": None if rng.random() < 0.4 else dec(rng.uniform(-90, 90), 1),
            "fault_reported_at": fault, "fault_fixed_at": fixed,
        }

    # ---- billing -----------------------------------------------------------------------------
    def read_time(self, period: Mon, method: str) -> datetime:
        rng, clock = self.rng, self.clock
        day = date(period.year, period.month, rng.randint(18, 25))
        if method == "自动采集":
            t = datetime.combine(day, time(rng.randint(0, 5), rng.randint(0, 59)))
        else:
            d = clock.workday_on_or_before(day)
            if d.month != period.month:
                d = clock.workday_on_or_after(day)
            t = clock.office_time(d)
        return min(t, self.as_of - timedelta(hours=2))

    def bill(self, c: Cust, period: Mon, kwh=None, method=None, tariff=None, paid=ANY, adjusted=False,
             kwh_avg3=ANY, read_at=None, due_days=None) -> dict:
        rng = self.rng
        method = method or c.method
        read_at = read_at or self.read_time(period, method)
        if kwh is None:
            kwh = max(1, int(c.rec["annual_kwh"] / 12 * Decimal(rng.randint(85, 115)) / 100))
        kwh = Decimal(kwh)
        prev = max(1, int(kwh * Decimal(rng.randint(86, 114)) / 100))
        if prev == kwh:
            prev += 1
        avg3 = Decimal(max(1, int(kwh * Decimal(rng.randint(90, 112)) / 100))) if kwh_avg3 is ANY else kwh_avg3
        lo, hi = PRICE[c.cls]
        price = lo + (hi - lo) * Decimal(rng.randint(0, 100)) / 100
        amount = money(kwh * price)
        if c.cls == "大工业":
            amount += money(c.rec["contract_capacity_kva"] * Decimal("22.00"))
        due = read_at.date() + timedelta(days=due_days or rng.randint(15, 20))
        r = {
            "cons_no": c.rec["cons_no"], "org_no": c.org, "period": str(period), "customer_class": c.cls,
            "tariff_code": tariff or TARIFF[c.cls][int(c.rec["cons_no"]) % len(TARIFF[c.cls])],
            "tariff_code_registered": None, "kwh": kwh, "kwh_prev": Decimal(prev), "kwh_avg3": avg3,
            "amount": amount, "paid_amount": Decimal("0.00"), "due_date": due, "paid_at": None,
            "reading_method": method, "read_at": read_at, "adjusted": False, "adjust_approved": None,
            "adjust_amount": None, "adjust_kwh": None,
        }
        r["tariff_code_registered"] = r["tariff_code"]
        if paid is ANY:
            paid = due < self.as_of.date() or rng.random() < 0.65
        if paid and amount > 0:
            latest = min(datetime.combine(due, time(20, 0)), self.as_of - timedelta(minutes=30))
            if latest > read_at + timedelta(hours=1):
                span = int((latest - read_at).total_seconds())
                r["paid_at"] = read_at + timedelta(seconds=rng.randint(3600, span))
                r["paid_amount"] = amount
        elif paid:
            r["paid_amount"] = amount
        if adjusted or rng.random() < 0.02:
            r["adjusted"], r["adjust_approved"] = True, True
            sign = rng.choice((1, -1))
            r["adjust_kwh"] = Decimal(sign * rng.randint(5, 900))
            r["adjust_amount"] = money(r["adjust_kwh"] * price)
        return r

    # ---- 业扩 application ----------------------------------------------------------------------
    def app(self, c: Cust, state=None, app_class=None, accepted=None) -> dict:
        rng, clock, cal, a = self.rng, self.clock, self.cal, self.as_of
        ac = app_class or c.app_class
        high = ac.startswith("高压")
        state = state or rng.choices(("archived", "open", "terminated"), (72, 23, 5))[0]
        if accepted is None:
            if state == "open":
                back = {"低压居民": (0, 4), "低压非居民": (0, 45), "高压单电源": (0, 260), "高压双电源": (0, 300)}[ac]
            else:
                back = (300, 900) if high else (60, 900)
            accepted = clock.office_time(clock.random_workday(*back))
            if accepted > a:
                accepted = a - timedelta(minutes=rng.randint(10, 120))
        aw = clock.after_workdays
        steps: list[tuple[str, datetime, bool]] = []  # (field, time, customer's own stage before it)
        surveyed = aw(accepted, rng.randint(1, 2) if high else rng.randint(0, 1))
        steps.append(("surveyed_at", surveyed, False))
        if ac == "低压居民":
            scheme = aw(surveyed, rng.randint(0, 1 - cal.workdays_between(accepted, surveyed)))
        elif ac == "低压非居民":
            scheme = aw(surveyed, rng.randint(0, 2 - cal.workdays_between(accepted, surveyed)))
        else:
            scheme = aw(surveyed, rng.randint(2, 9 - cal.workdays_between(accepted, surveyed)))
        steps.append(("scheme_replied_at", scheme, False))
        if ac == "低压居民":
            w1 = rng.choices((0, rng.randint(1, 8)), (70, 30))[0]
            ready = aw(scheme, w1) if w1 else scheme
            steps.append(("energized_at", aw(ready, rng.randint(1, 2)), bool(w1)))
        elif ac == "低压非居民":
            req = aw(scheme, rng.randint(3, 30))
            steps.append(("completion_requested_at", req, True))
            chk = aw(req, rng.randint(1, 2))
            steps.append(("completion_checked_at", chk, False))
            steps.append(("energized_at", aw(chk, rng.randint(0, 1)), False))
        else:
            sub = aw(scheme, rng.randint(10, 50))
            steps.append(("design_submitted_at", sub, True))
            rev = aw(sub, rng.randint(2, 5))
            steps.append(("design_reviewed_at", rev, False))
            mid = aw(rev, rng.randint(15, 60))
            steps.append(("mid_inspected_at", mid, True))
            req = aw(mid, rng.randint(10, 40))
            steps.append(("completion_requested_at", req, True))
            chk = aw(req, rng.randint(1, 3))
            steps.append(("completion_checked_at", chk, False))
            steps.append(("energized_at", aw(chk, rng.randint(1, 3)), False))
        stop = None
        if state == "terminated":
            stop = rng.randint(1, min(2, len(steps)))  # stopped after the survey or the scheme
        r = {
            "app_no": f"YK{accepted:%Y%m}{self.next('app'):08d}", "org_no": c.org, "cons_no": c.rec["cons_no"],
            "customer_class": ac, "capacity_kva": Decimal({"低压居民": rng.choice((4, 6, 8, 10, 12, 16)),
                                                           "低压非居民": rng.choice((20, 30, 50, 80, 100, 160)),
                                                           "高压单电源": rng.choice((250, 315, 400, 630, 800, 1250)),
                                                           "高压双电源": rng.choice((1250, 2000, 3150, 5000))}[ac]),
            "accepted_at": accepted, "surveyed_at": None, "scheme_replied_at": None, "design_reviewed_at": None,
            "mid_inspected_at": None, "completion_checked_at": None, "energized_at": None, "docs_complete": True,
            "design_submitted_at": None, "completion_requested_at": None, "customer_wait_workdays": None,
            "designated_party": False, "extra_fee_charged": False, "status": "在途",
        }
        wait, prev = 0, accepted
        for n, (f, t, customer_stage) in enumerate(steps):
            if stop is not None and n >= stop:
                break
            if t > a:
                if customer_stage:
                    wait += max(0, cal.workdays_between(prev, a))
                break
            r[f] = t
            if customer_stage:
                wait += cal.workdays_between(prev, t)
            prev = t
        r["customer_wait_workdays"] = wait if wait or rng.random() < 0.5 else None
        if stop is not None:
            r["status"] = "终止"
        elif r["energized_at"] is not None and aw(r["energized_at"], rng.randint(1, 3)) <= a:
            r["status"] = "归档"
        return r

    # ---- 95598 ticket --------------------------------------------------------------------------
    def pick_category(self, c: Cust, ttype: str):
        rng = self.rng
        if ttype in ("投诉", "意见", "咨询"):
            for cat, share in RARE.items():
                if rng.random() < share:
                    return cat
        return _w(rng, CATEGORY_WEIGHTS[ttype])

    def ticket(self, c: Cust, ttype=None, cat=ANY, sub=ANY, accepted=None, channel=None, sensitive=None,
               scope=ANY, days=(0, 180)) -> dict:
        rng, clock, a = self.rng, self.clock, self.as_of
        ttype = ttype or _w(rng, TYPE_WEIGHTS)
        if cat is ANY:
            cat = self.pick_category(c, ttype)
        if accepted is None and cat in RARE:
            slots = self.damage_slots if cat == "家电损坏赔偿" else self.claim_slots
            accepted = slots.take(c.org, rng)
            if accepted is None:  # the org's slots are used up: an everyday category instead
                cat = _w(rng, CATEGORY_WEIGHTS[ttype])
        if sub is ANY:
            sub = None
            if cat == "停电与电压质量":
                subs = ("低电压", "电压波动", "频繁停电", "停电未通知", "抢修质量")
                sub = rng.choice(subs) if ttype in ("投诉", "意见") or rng.random() < 0.4 else None
            elif cat == "电费":
                sub = rng.choice(("电费差错", "缴费渠道", "票据", "其他", None))
            elif cat == "账单信息获取":
                sub = rng.choice(("票据", "缴费渠道", None))
        repair = ttype == "故障报修"
        if scope is ANY:
            scope = rng.choices(("供电侧", "客户侧", None), (65, 30, 5))[0] if repair else None
        if channel is None:
            channel = _w(rng, CHANNEL_WEIGHTS)
            if cat == "账单信息获取" and ttype in ("投诉", "意见") and channel in ("网上国网", "微信公众号"):
                channel = "95598电话"
            if repair and channel in ("营业厅", "12345热线"):
                channel = "95598电话"
        if sensitive is None:
            sensitive = ttype != "表扬" and rng.random() < (0.12 if ttype in ("投诉", "举报") else 0.03)
        if accepted is None:
            day = a.date() - timedelta(days=rng.randint(*days))
            if channel == "营业厅":
                accepted = clock.office_time(clock.workday_on_or_before(day))
            else:
                accepted = clock.any_time(day, REPAIR_HOUR_WEIGHTS if repair else None)
            if accepted > a - timedelta(minutes=5):
                accepted = a - timedelta(minutes=rng.randint(5, 90))
        mins = lambda lo, hi: timedelta(minutes=rng.randint(lo, hi))  # noqa: E731
        area = c.area
        arrived = restored = contacted = None
        if repair:
            dispatched = accepted + timedelta(seconds=rng.randint(30, 170))
            arrived = accepted + mins(10, LIMIT_ARRIVE[area] - 3)
            contacted = dispatched + mins(1, 8)
            if not (scope == "客户侧" and rng.random() < 0.5):
                restored = arrived + mins(15, LIMIT_RESTORE[area] - 10)
            replied = (restored or arrived) + mins(5, 60)
        else:
            dispatched = accepted + mins(5, 100)
            if cat == "安全隐患":
                arrived = accepted + mins(60, 20 * 60)
            elif cat == "家电损坏赔偿":
                arrived = accepted + mins(90, 22 * 60)
            elif cat == "施工赔偿":
                arrived = clock.after_workdays(accepted, rng.randint(0, 2))
            elif cat == "停电与电压质量" and sub in ("低电压", "电压波动") and ttype in ("投诉", "意见"):
                arrived = clock.after_workdays(accepted, rng.randint(0, 1))
            if sensitive:
                contacted = accepted + mins(10, 180)
            elif ttype == "投诉":
                contacted = accepted + mins(15, 18 * 60)
            elif ttype not in ("咨询", "表扬"):
                contacted = accepted + mins(20, 20 * 60)
            limit = {"咨询": 1, "投诉": 4, "意见": 7, "举报": 7, "表扬": 3, "催办": 1}[ttype]
            if cat == "线路与房屋邻近纠纷":
                limit = min(limit, 3 if channel == "12345热线" else 5)
            elif cat in ("施工赔偿", "家电损坏赔偿"):
                limit = min(limit, 5)
            elif cat == "账单信息获取":
                limit = 1
            if sensitive:
                limit = 1
            if ttype == "咨询" and rng.random() < 0.6:  # answered on the call: nothing to dispatch
                replied = accepted + mins(3, 25)
                dispatched = None
            else:
                replied = clock.after_workdays(accepted, rng.randint(0, limit))
            floor = max(t for t in (accepted, contacted, arrived) if t is not None)
            if replied <= floor:
                replied = floor + mins(5, 40)
        closed = replied + mins(1, 30) if ttype == "咨询" else clock.after_workdays(replied, rng.randint(0, 1))
        revisited = satisfaction = None
        if ttype in ("投诉", "意见", "举报", "故障报修"):
            revisited = clock.after_workdays(closed, rng.randint(0, 1))
            satisfaction = "满意" if rng.random() < 0.88 else "基本满意"
        r = {
            "ticket_no": f"{accepted:%Y%m%d}{self.next('ticket'):08d}", "org_no": c.org, "cons_no": c.rec["cons_no"],
            "ticket_type": ttype, "category": cat, "sub_category": sub, "fault_scope": scope, "channel": channel,
            "area": area, "accepted_at": accepted, "dispatched_at": dispatched, "contacted_at": contacted,
            "arrived_at": arrived, "restored_at": restored, "replied_at": replied, "closed_at": closed,
            "revisited_at": revisited, "satisfaction": satisfaction, "sensitive": sensitive,
            "content": ticket_content(rng, ttype, cat, c.place),
            "caller_name": caller(rng) if rng.random() < 0.8 else None,
            "caller_phone": fake_phone(rng) if rng.random() < 0.85 else None,
        }
        return self.cut(r)

    def cut(self, r: dict) -> dict:
        """Steps planned after the as-of time have not happened yet: empty in the export."""
        a = self.as_of
        for f in ("dispatched_at", "contacted_at", "arrived_at", "restored_at", "replied_at", "closed_at", "revisited_at"):
            if r[f] is not None and r[f] > a:
                r[f] = None
        if r["arrived_at"] is None:
            r["restored_at"] = None
        if r["replied_at"] is None:
            r["closed_at"] = None
        if r["closed_at"] is None:
            r["revisited_at"] = None
        if r["revisited_at"] is None:
            r["satisfaction"] = None
        return r

    # ---- 欠费停电 --------------------------------------------------------------------------------
    def arrears_outage(self, c: Cust, start=None) -> dict:
        rng, clock = self.rng, self.clock
        start = start or clock.office_time(clock.random_workday(5, 180), (9, 0), (16, 0))
        notice = start - timedelta(days=3, hours=rng.randint(1, 96))
        paid = start + timedelta(hours=rng.randint(2, 72))
        end = paid + timedelta(minutes=rng.randint(30, 20 * 60))
        paid = paid if paid <= self.as_of else None
        end = end if paid is not None and end <= self.as_of else None
        return {
            "outage_no": f"TD{start:%Y%m}{self.next('outage'):07d}Q", "org_no": c.org, "cons_no": c.rec["cons_no"],
            "approved": True, "paid_at": paid, "kind": "欠费停电", "notice_at": notice, "start_at": start,
            "planned_end_at": None, "end_at": end, "customers_affected": 1, "important_customers": 0,
            "notified_channels": ["短信", "书面通知"], "reason": rng.choice(OUTAGE_REASONS["欠费停电"]),
        }

    # ---- injections ------------------------------------------------------------------------------
    def _register(self) -> None:
        self._register_all()
        # injections that remove a record and those that change it must not share a unit
        removes = {("BP-023", "undetermined"): "meter", ("BP-055", "undetermined"): "meter",
                   ("BP-034", "undetermined"): "cust", ("BP-035", "undetermined"): "cust",
                   ("BP-021", "fired"): "bills"}
        uses = {"cust": {("TS-006", "fired"), ("BP-034", "fired"), ("BP-035", "fired")},
                "bills": {("TS-050", "fired")}}
        own = {"meter": "meter", "customer": "cust", "billing": "bills", "connection_app": "app"}
        for key, inj in self.injections.items():
            if inj.kind in own:
                inj.needs[own[inj.kind]] = "some"
            if key in removes:
                inj.needs[removes[key]] = "none"
            for what, keys in uses.items():
                if key in keys:
                    inj.needs[what] = "some"
        for key in (("BP-023", "fired"), ("BP-055", "fired"), ("BP-064", "fired")):
            self.injections[key].needs["meter"] = "set by a bill's injection"
        self.injections[("TS-042", "fired")].needs["app"] = "reopened by TS-042"
        self.injections[("TS-006", "fired")].needs["cust"] = "made important by TS-006"

    def _register_all(self) -> None:  # noqa: C901 - one short function per catalog item
        rng, clock, a, cal = self.rng, self.clock, self.as_of, self.cal
        inj = self.inject
        hrs = lambda lo, hi: timedelta(minutes=rng.randint(int(lo * 60), int(hi * 60)))  # noqa: E731

        def C(unit) -> Cust:
            return unit.extra[0]

        def retick(unit, c=None, **spec) -> dict:
            """Replace the unit's (first) ticket by one made to `spec` (clean apart from what the
            caller changes next)."""
            c = c or C(unit)
            for t in c.tickets:
                unit.remove("ticket", t)
            c.tickets = []
            t = self.clean(unit, "ticket", lambda: self.ticket(c, **spec))
            c.tickets.append(t)
            return t

        def more(unit, c=None, **spec) -> dict:
            c = c or C(unit)
            t = self.ticket(c, **spec)
            c.tickets.append(unit.add("ticket", t))
            return t

        def old(days_lo=20, days_hi=150):
            return clock.any_time(a.date() - timedelta(days=rng.randint(days_lo, days_hi)))

        # --- tickets: 安全隐患 ---
        @inj("TS-001", "ticket")
        def _(fam, unit):
            t = retick(unit, ttype=rng.choice(("咨询", "举报")), cat="安全隐患", accepted=old())
            t["dispatched_at"] = t["accepted_at"] + hrs(2.1, 9)
            return t

        @inj("TS-001", "ticket", "undetermined")
        def _(fam, unit):
            t = retick(unit, ttype="咨询", cat="其他", accepted=old())
            t["category"], t["dispatched_at"] = None, t["accepted_at"] + hrs(2.5, 6)
            return t

        @inj("TS-002", "ticket")
        def _(fam, unit):
            t = retick(unit, ttype=rng.choice(("投诉", "意见", "举报", "咨询")), cat="安全隐患", accepted=old())
            t["arrived_at"] = t["accepted_at"] + hrs(25, 60)
            return t

        @inj("TS-002", "ticket", "undetermined")
        def _(fam, unit):
            t = retick(unit, ttype="举报", cat="其他", accepted=old())
            t["category"], t["arrived_at"] = None, t["accepted_at"] + hrs(26, 50)
            return t

        @inj("TS-003", "ticket")
        def _(fam, unit):
            t = retick(unit, ttype="咨询", cat="安全隐患", accepted=old(30, 120))
            more(unit, ttype="举报", cat="安全隐患", accepted=t["accepted_at"] - hrs(30, 28 * 24))
            return t

        @inj("TS-003", "ticket", "undetermined")
        def _(fam, unit):
            t = retick(unit, ttype="咨询", cat="安全隐患", accepted=old())
            t["cons_no"] = None
            return t

        @inj("TS-004", "ticket")
        def _(fam, unit):
            t = retick(unit, ttype="举报", cat="安全隐患", accepted=old(12, 60))
            t["closed_at"] = t["revisited_at"] = t["satisfaction"] = None
            return t

        @inj("TS-005", "ticket")
        def _(fam, unit):
            t = retick(unit, ttype="投诉", cat="安全隐患", sensitive=True, accepted=old())
            t["contacted_at"] = t["accepted_at"] + hrs(4.2, 8)
            t["replied_at"] = max(t["replied_at"], t["contacted_at"] + hrs(0.2, 1))
            return t

        @inj("TS-006", "ticket", cls=BIG)
        def _(fam, unit):
            c = C(unit)
            c.rec.update(important=True, dual_source=True, self_generator=True, complaints_12m=0)
            if c.rec["supply_contract_expires"] is None:
                c.rec["supply_contract_expires"] = a.date() + timedelta(days=400)
            return retick(unit, ttype="咨询", cat="安全隐患", accepted=old())

        # --- tickets: 家电损坏赔偿 ---
        def damage(unit, c=None, n_slots=1, **spec):
            c = c or C(unit)
            t0 = self.damage_slots.take(c.org, rng, n_slots, old=True) or old()  # no quiet slot left
            return retick(unit, c, cat="家电损坏赔偿", accepted=t0, **spec)

        @inj("TS-007", "ticket")
        def _(fam, unit):
            t = damage(unit, ttype="投诉")
            t["arrived_at"] = t["accepted_at"] + hrs(25, 40)
            return t

        @inj("TS-008", "ticket")
        def _(fam, unit):
            t = damage(unit, ttype="意见")
            t["replied_at"] = clock.after_workdays(t["accepted_at"], rng.randint(6, 9))
            t["closed_at"] = clock.after_workdays(t["replied_at"], 1)
            t["revisited_at"] = clock.after_workdays(t["closed_at"], 1)
            return self.cut(t)

        def damage_cluster(unit, extra_empty: bool):
            c0 = C(unit)
            t0 = self.damage_slots.take(c0.org, rng, 3) or old()
            tickets = [retick(unit, c0, ttype="投诉", cat="家电损坏赔偿", accepted=t0)]
            for k in (1, 2):
                c = self.chain(unit, org=c0.org, ticket=False)
                tickets.append(more(unit, c, ttype=rng.choice(("投诉", "意见", "咨询")), cat="家电损坏赔偿",
                                    accepted=t0 + timedelta(minutes=20 * k + rng.randint(0, 15))))
            if extra_empty:
                c = self.chain(unit, org=c0.org, ticket=False)
                t = more(unit, c, ttype="咨询", cat="其他", accepted=t0 + timedelta(minutes=90))
                t["category"] = None
                return t
            return tickets[-1]

        inj("TS-009", "ticket")(lambda fam, unit: damage_cluster(unit, False))
        inj("TS-009", "ticket", "undetermined")(lambda fam, unit: damage_cluster(unit, True))

        @inj("TS-010", "ticket")
        def _(fam, unit):
            t = damage(unit, ttype="投诉")
            if t["revisited_at"] is None:
                t["revisited_at"] = t["closed_at"] = t["replied_at"] = None
                t["replied_at"] = t["accepted_at"] + hrs(30, 40)
                t["closed_at"] = t["replied_at"] + hrs(1, 2)
                t["revisited_at"] = t["closed_at"] + hrs(2, 3)
            t["satisfaction"] = "不满意"
            return t

        @inj("TS-011", "ticket")
        def _(fam, unit):
            c = C(unit)
            t0 = self.damage_slots.take(c.org, rng, 2) or old()
            first = retick(unit, c, ttype="意见", cat="家电损坏赔偿", accepted=t0)
            return more(unit, c, ttype="投诉", cat="家电损坏赔偿", accepted=first["accepted_at"] + hrs(13.5, 14))

        @inj("TS-011", "ticket", "undetermined")
        def _(fam, unit):
            t = damage(unit, ttype="咨询")
            t["cons_no"] = None
            return t

        # --- tickets: 故障报修 ---
        @inj("TS-012", "ticket")
        def _(fam, unit):
            t = retick(unit, ttype="故障报修", accepted=old())
            t["dispatched_at"] = t["accepted_at"] + timedelta(seconds=rng.randint(181, 1800))
            return t

        @inj("TS-013", "ticket")
        def _(fam, unit):
            t = retick(unit, ttype="故障报修", accepted=old())
            lim = LIMIT_ARRIVE[t["area"]]
            t["arrived_at"] = t["accepted_at"] + timedelta(minutes=rng.randint(lim + 1, lim + 90))
            t["restored_at"] = t["arrived_at"] + timedelta(minutes=40)
            return t

        @inj("TS-014", "ticket")
        def _(fam, unit):
            t = retick(unit, ttype="故障报修", scope="供电侧", accepted=old())
            lim = LIMIT_RESTORE[t["area"]]
            t["restored_at"] = t["arrived_at"] + timedelta(minutes=rng.randint(lim + 1, lim + 240))
            t["replied_at"] = t["restored_at"] + timedelta(minutes=20)
            return t

        @inj("TS-014", "ticket", "undetermined")
        def _(fam, unit):
            t = retick(unit, ttype="故障报修", scope="供电侧", accepted=old())
            t["arrived_at"] = None
            return t

        @inj("TS-015", "ticket")
        def _(fam, unit):
            t = retick(unit, ttype="故障报修", scope=rng.choice(("供电侧", None)), accepted=old())
            t["restored_at"] = None
            return t

        @inj("TS-016", "ticket")
        def _(fam, unit):
            t = retick(unit, ttype="故障报修", scope="供电侧", accepted=old())
            return more(unit, ttype="故障报修", scope="供电侧", accepted=t["accepted_at"] + hrs(3, 20))

        @inj("TS-016", "ticket", "undetermined")
        def _(fam, unit):
            t = retick(unit, ttype="故障报修", scope="供电侧", accepted=old())
            t["cons_no"] = None
            return t

        # --- tickets: 停电与电压质量 ---
        @inj("TS-023", "ticket")
        def _(fam, unit):
            t = retick(unit, ttype="故障报修", cat="停电与电压质量", sub=None, accepted=old(80, 150))
            more(unit, ttype="投诉", cat="停电与电压质量", sub="频繁停电", accepted=t["accepted_at"] + timedelta(days=rng.randint(5, 25)))
            return more(unit, ttype="故障报修", cat="停电与电压质量", sub=None, accepted=t["accepted_at"] + timedelta(days=rng.randint(30, 55)))

        @inj("TS-023", "ticket", "undetermined")
        def _(fam, unit):
            t = retick(unit, ttype="故障报修", cat="停电与电压质量", sub=None, accepted=old())
            t["cons_no"] = None
            return t

        @inj("TS-024", "ticket")
        def _(fam, unit):
            t = retick(unit, ttype="投诉", cat="停电与电压质量", sub="低电压", accepted=old())
            t["arrived_at"] = clock.after_workdays(t["accepted_at"], rng.randint(2, 4))
            return t

        @inj("TS-024", "ticket", "undetermined")
        def _(fam, unit):
            t = retick(unit, ttype="意见", cat="停电与电压质量", sub="频繁停电", accepted=old())
            t["sub_category"] = None
            t["arrived_at"] = clock.after_workdays(t["accepted_at"], rng.randint(2, 4))
            return t

        # --- tickets: 线路与房屋邻近纠纷 ---
        @inj("TS-025", "ticket")
        def _(fam, unit):
            t = retick(unit, ttype="投诉", cat="线路与房屋邻近纠纷", channel="95598电话", accepted=old())
            t["replied_at"] = clock.after_workdays(t["accepted_at"], rng.randint(6, 9))
            t["closed_at"] = clock.after_workdays(t["replied_at"], 1)
            t["revisited_at"] = clock.after_workdays(t["closed_at"], 0)
            return self.cut(t)

        @inj("TS-026", "ticket")
        def _(fam, unit):
            t = retick(unit, ttype="意见", cat="线路与房屋邻近纠纷", accepted=old(100, 170))
            return more(unit, ttype="咨询", cat="线路与房屋邻近纠纷", accepted=t["accepted_at"] + timedelta(days=rng.randint(30, 85)))

        @inj("TS-026", "ticket", "undetermined")
        def _(fam, unit):
            t = retick(unit, ttype="意见", cat="线路与房屋邻近纠纷", accepted=old())
            t["cons_no"] = None
            return t

        @inj("TS-027", "ticket")
        def _(fam, unit):
            t = retick(unit, ttype="举报", cat="线路与房屋邻近纠纷", sensitive=True, channel="95598电话", accepted=old())
            t["contacted_at"] = clock.after_workdays(t["accepted_at"], rng.randint(2, 3))
            t["replied_at"] = clock.after_workdays(t["contacted_at"], 0)
            t["closed_at"] = clock.after_workdays(t["replied_at"], 1)
            t["revisited_at"] = clock.after_workdays(t["closed_at"], 1)
            return self.cut(t)

        @inj("TS-028", "ticket")
        def _(fam, unit):
            t = retick(unit, ttype="意见", cat="线路与房屋邻近纠纷", channel="12345热线", accepted=old())
            t["replied_at"] = clock.after_workdays(t["accepted_at"], 4)
            t["closed_at"] = clock.after_workdays(t["replied_at"], 0)
            t["revisited_at"] = clock.after_workdays(t["closed_at"], 1)
            return self.cut(t)

        # --- tickets: 施工赔偿 ---
        def claim(unit, c=None, n_slots=1, **spec):
            c = c or C(unit)
            t0 = self.claim_slots.take(c.org, rng, n_slots, old=True) or old()  # no quiet slot left
            return retick(unit, c, cat="施工赔偿", accepted=t0, **spec)

        @inj("TS-029", "ticket")
        def _(fam, unit):
            t = claim(unit, ttype="投诉")
            t["arrived_at"] = clock.after_workdays(t["accepted_at"], rng.randint(3, 5))
            t["replied_at"] = max(t["replied_at"], t["arrived_at"] + hrs(1, 3))
            return self.cut(t)

        @inj("TS-030", "ticket")
        def _(fam, unit):
            t = claim(unit, ttype="意见")
            t["replied_at"] = clock.after_workdays(t["accepted_at"], rng.randint(6, 9))
            t["closed_at"] = clock.after_workdays(t["replied_at"], 1)
            t["revisited_at"] = clock.after_workdays(t["closed_at"], 0)
            return self.cut(t)

        def claim_cluster(unit, extra_empty: bool):
            c0 = C(unit)
            t0 = self.claim_slots.take(c0.org, rng, 2) or old(40, 300)
            tickets = [retick(unit, c0, ttype="意见", cat="施工赔偿", accepted=t0)]
            for k in (1, 2):
                c = self.chain(unit, org=c0.org, ticket=False)
                tickets.append(more(unit, c, ttype=rng.choice(("投诉", "意见", "咨询")), cat="施工赔偿",
                                    accepted=t0 + timedelta(days=3 * k, minutes=rng.randint(0, 300))))
            if extra_empty:
                c = self.chain(unit, org=c0.org, ticket=False)
                t = more(unit, c, ttype="咨询", cat="其他", accepted=t0 + timedelta(days=8))
                t["category"] = None
                return t
            return tickets[-1]

        inj("TS-031", "ticket")(lambda fam, unit: claim_cluster(unit, False))
        inj("TS-031", "ticket", "undetermined")(lambda fam, unit: claim_cluster(unit, True))

        # --- tickets: 业扩 ---
        @inj("TS-041", "ticket")
        def _(fam, unit):
            t = retick(unit, ttype="催办", cat="业扩办理超时", accepted=old())
            return more(unit, ttype="催办", cat="业扩办理超时", accepted=t["accepted_at"] + timedelta(days=rng.randint(2, 14)))

        @inj("TS-041", "ticket", "undetermined")
        def _(fam, unit):
            t = retick(unit, ttype="催办", cat="业扩办理超时", accepted=old())
            t["cons_no"] = None
            return t

        def open_app(unit, c):
            unit.remove("connection_app", c.app)
            c.app = self.clean(unit, "connection_app", lambda: self.app(c, state="open"))
            if c.app["status"] != "在途":  # it finished after all: reopen it as a recent one
                unit.remove("connection_app", c.app)
                c.app = self.clean(unit, "connection_app", lambda: self.app(
                    c, state="open", accepted=clock.office_time(clock.random_workday(0, 1))))
            return c.app

        @inj("TS-042", "ticket")
        def _(fam, unit):
            c = C(unit)
            app = open_app(unit, c)
            return retick(unit, ttype="投诉", cat="业扩办理超时", accepted=max(app["accepted_at"] + hrs(1, 3), a - hrs(20, 30)))

        @inj("TS-042", "ticket", "undetermined")
        def _(fam, unit):
            t = retick(unit, ttype="投诉", cat="业扩办理超时", accepted=old())
            t["cons_no"] = None
            return t

        # --- tickets: 电费, 账单 ---
        @inj("TS-048", "ticket")
        def _(fam, unit):
            t = retick(unit, ttype="咨询", cat="电费", accepted=old())
            return more(unit, ttype=rng.choice(("意见", "咨询")), cat="电费", accepted=t["accepted_at"] + timedelta(days=rng.randint(1, 28)))

        @inj("TS-048", "ticket", "undetermined")
        def _(fam, unit):
            t = retick(unit, ttype="咨询", cat="电费", accepted=old())
            t["cons_no"] = None
            return t

        @inj("TS-050", "ticket")
        def _(fam, unit):
            c = C(unit)
            b = c.bills[0]
            b["tariff_code_registered"] = {"R101": "R102", "R102": "R101", "C201": "C202", "C202": "C201",
                                           "L301": "L302", "L302": "L301", "A401": "R101"}[b["tariff_code"]]
            when = b["read_at"] + (a - b["read_at"]) * rng.randint(2, 8) / 10
            return retick(unit, ttype=rng.choice(("投诉", "意见")), cat="电费", accepted=when)

        @inj("TS-050", "ticket", "undetermined")
        def _(fam, unit):
            t = retick(unit, ttype="投诉", cat="电费", accepted=old())
            t["cons_no"] = None
            return t

        @inj("TS-051", "ticket")
        def _(fam, unit):
            t = retick(unit, ttype="咨询", cat="账单信息获取", accepted=old())
            t["replied_at"] = clock.after_workdays(t["accepted_at"], rng.randint(2, 4))
            t["closed_at"] = t["replied_at"] + hrs(0.1, 0.5)
            return self.cut(t)

        @inj("TS-052", "ticket")
        def _(fam, unit):
            t = retick(unit, ttype="咨询", cat="账单信息获取", accepted=old(60, 150))
            return more(unit, ttype="咨询", cat="账单信息获取", accepted=t["accepted_at"] + timedelta(days=rng.randint(10, 58)))

        @inj("TS-052", "ticket", "undetermined")
        def _(fam, unit):
            t = retick(unit, ttype="咨询", cat="账单信息获取", accepted=old())
            t["cons_no"] = None
            return t

        @inj("TS-055", "ticket")
        def _(fam, unit):
            return retick(unit, ttype=rng.choice(("投诉", "意见")), cat="账单信息获取",
                          channel=rng.choice(("网上国网", "微信公众号")), accepted=old())

        @inj("TS-055", "ticket", "undetermined")
        def _(fam, unit):
            t = retick(unit, ttype="意见", cat="其他", channel="网上国网", accepted=old())
            t["category"] = None
            return t

        # --- tickets: 投诉, 意见, 回访 ---
        @inj("TS-056", "ticket")
        def _(fam, unit):
            t = retick(unit, ttype="投诉", cat="服务行为", sensitive=False, accepted=old())
            t["contacted_at"] = t["accepted_at"] + hrs(25, 47)
            t["replied_at"] = max(t["replied_at"], t["contacted_at"] + hrs(1, 2))
            return self.cut(t)

        @inj("TS-057", "ticket")
        def _(fam, unit):
            d = clock.workdays_back(rng.choice((4, 5)))
            t = retick(unit, ttype="投诉", cat=rng.choice(("服务行为", "电费")), sensitive=False,
                       accepted=clock.office_time(d))
            t["contacted_at"] = t["accepted_at"] + hrs(1, 6)
            t["replied_at"] = t["closed_at"] = t["revisited_at"] = t["satisfaction"] = None
            return t

        @inj("TS-058", "ticket")
        def _(fam, unit):
            t = retick(unit, ttype=rng.choice(("意见", "举报")), cat="其他", sensitive=False, accepted=old(30, 150))
            t["replied_at"] = clock.after_workdays(t["accepted_at"], rng.randint(10, 14))
            t["closed_at"] = clock.after_workdays(t["replied_at"], 0)
            t["revisited_at"] = clock.after_workdays(t["closed_at"], 1)
            return self.cut(t)

        @inj("TS-059", "ticket")
        def _(fam, unit):
            t = retick(unit, ttype=rng.choice(("故障报修", "意见")), accepted=old())
            t["revisited_at"] = clock.after_workdays(t["closed_at"], rng.randint(2, 5))
            return self.cut(t)

        @inj("TS-060", "ticket")
        def _(fam, unit):
            t = retick(unit, ttype="故障报修", accepted=old())
            t["satisfaction"] = "不满意"
            return t

        @inj("TS-061", "ticket")
        def _(fam, unit):
            t = retick(unit, ttype="投诉", cat="服务行为", accepted=old())
            return more(unit, ttype="投诉", cat=rng.choice(("服务行为", "停电与电压质量")), accepted=t["accepted_at"] + timedelta(days=rng.randint(3, 28)))

        @inj("TS-061", "ticket", "undetermined")
        def _(fam, unit):
            t = retick(unit, ttype="投诉", cat="服务行为", channel="95598电话", accepted=old())
            t["cons_no"] = None
            return t

        @inj("TS-062", "ticket")
        def _(fam, unit):
            t = retick(unit, ttype="咨询", cat="其他", channel="95598电话", accepted=old())
            return more(unit, ttype=rng.choice(("投诉", "举报")), cat="服务行为", channel="12345热线",
                        accepted=t["accepted_at"] + timedelta(days=rng.randint(2, 25)))

        @inj("TS-062", "ticket", "undetermined")
        def _(fam, unit):
            t = retick(unit, ttype="举报", cat="其他", channel="12345热线", accepted=old())
            t["cons_no"] = None
            return t

        @inj("TS-063", "ticket")
        def _(fam, unit):
            t = retick(unit, ttype=rng.choice(("意见", "投诉")), cat="服务行为", sensitive=True, accepted=old())
            t["replied_at"] = clock.after_workdays(t["accepted_at"], rng.randint(2, 3))
            t["closed_at"] = clock.after_workdays(t["replied_at"], 0)
            t["revisited_at"] = clock.after_workdays(t["closed_at"], 1)
            return self.cut(t)

        @inj("TS-064", "ticket")
        def _(fam, unit):
            t = retick(unit, ttype="催办", cat="其他", accepted=old())
            return more(unit, ttype="催办", cat="其他", accepted=t["accepted_at"] + timedelta(days=rng.randint(1, 6)))

        @inj("TS-064", "ticket", "undetermined")
        def _(fam, unit):
            t = retick(unit, ttype="催办", cat="其他", accepted=old())
            t["cons_no"] = None
            return t

        @inj("TS-065", "ticket")
        def _(fam, unit):
            t = retick(unit, ttype=rng.choice(("投诉", "意见", "举报")), cat="其他", accepted=old())
            t["replied_at"] = None
            return t

        # --- billing ------------------------------------------------------------------------
        def B(unit) -> dict:
            return C(unit).bills[0]

        def earlier(unit, months_back: int, **kw) -> dict:
            c = C(unit)
            b = self.bill(c, Mon(self.period - months_back), **kw)
            c.bills.append(unit.add("billing", b))
            return b

        def reprice(b, kwh, c):
            lo, hi = PRICE[c.cls]
            b["kwh"] = Decimal(kwh)
            b["amount"] = money(Decimal(kwh) * (lo + hi) / 2)
            if b["paid_amount"] > 0:
                b["paid_amount"] = b["amount"]
            return b

        def unpaid(b):
            b["paid_amount"], b["paid_at"] = Decimal("0.00"), None
            return b

        @inj("BP-022", "billing")
        def _(fam, unit):
            b = B(unit)
            b["reading_method"] = "估抄"
            earlier(unit, 1, method="估抄")
            return b

        @inj("BP-023", "billing", method="人工抄表")
        def _(fam, unit):
            C(unit).meter["collection_rate_30d"] = Decimal(rng.randint(990, 1000)) / 1000
            return B(unit)

        @inj("BP-023", "billing", "undetermined", method="人工抄表")
        def _(fam, unit):
            unit.remove("meter", C(unit).meter)
            return B(unit)

        @inj("BP-024", "billing")
        def _(fam, unit):
            b = B(unit)
            start = date(self.period.year, self.period.month, 1)
            b["read_at"] = datetime.combine(start - timedelta(days=rng.randint(1, 4)), time(9, 30))
            b["due_date"] = b["read_at"].date() + timedelta(days=20)
            return b

        @inj("BP-025", "billing", cls="农业生产")
        def _(fam, unit):
            return reprice(B(unit), 0, C(unit))

        @inj("BP-026", "billing")
        def _(fam, unit):
            c = C(unit)
            b = reprice(B(unit), 0, c)
            earlier(unit, 1, kwh=0)
            earlier(unit, 2, kwh=0)
            return b

        @inj("BP-027", "billing", cls="居民")
        def _(fam, unit):
            b = reprice(B(unit), rng.randint(2000, 3200), C(unit))
            b["kwh_avg3"] = b["kwh"] * Decimal("0.9")
            b["kwh_prev"] = b["kwh"] - 37
            return b

        @inj("BP-028", "billing", cls="一般工商业")
        def _(fam, unit):
            b = B(unit)
            b["kwh_avg3"] = (b["kwh"] / Decimal(rng.choice(("1.6", "1.8", "2.5")))).quantize(Decimal(1))
            return b

        @inj("BP-028", "billing", "undetermined", cls="一般工商业")
        def _(fam, unit):
            b = B(unit)
            b["kwh_avg3"] = None
            return b

        @inj("BP-029", "billing", cls="居民")
        def _(fam, unit):
            b = B(unit)
            b["amount"] = money(b["kwh"] * Decimal(rng.choice(("1.20", "1.45", "0.25"))))
            if b["paid_amount"] > 0:
                b["paid_amount"] = b["amount"]
            return b

        @inj("BP-030", "billing", method="人工抄表")
        def _(fam, unit):
            b = B(unit)
            b["kwh_prev"] = b["kwh"]
            return b

        @inj("BP-031", "billing")
        def _(fam, unit):
            b = B(unit)
            b["kwh"] = Decimal(-rng.randint(10, 400))
            b["amount"] = b["paid_amount"] = money(b["kwh"] * Decimal("0.55"))
            b["paid_at"] = b["paid_at"] or b["read_at"] + timedelta(hours=3)
            return b

        @inj("BP-032", "billing")
        def _(fam, unit):
            b = B(unit)
            b["amount"] = b["paid_amount"] = Decimal("0.00")
            return b

        @inj("BP-033", "billing")
        def _(fam, unit):
            b = B(unit)
            b["tariff_code_registered"] = b["tariff_code"][0] + "9" + b["tariff_code"][2:]
            return b

        @inj("BP-034", "billing", cls="大工业")
        def _(fam, unit):
            C(unit).rec["contract_capacity_kva"] = Decimal(rng.choice((160, 200, 250)))
            return B(unit)

        @inj("BP-034", "billing", "undetermined", cls="大工业")
        def _(fam, unit):
            unit.remove("customer", C(unit).rec)
            return B(unit)

        @inj("BP-035", "billing", cls="一般工商业")
        def _(fam, unit):
            C(unit).rec["contract_capacity_kva"] = Decimal(rng.choice((315, 400, 630)))
            return B(unit)

        @inj("BP-035", "billing", "undetermined", cls="一般工商业")
        def _(fam, unit):
            unit.remove("customer", C(unit).rec)
            return B(unit)

        @inj("BP-036", "billing", cls="农业生产")
        def _(fam, unit):
            b = reprice(B(unit), rng.randint(12000, 30000), C(unit))
            b["kwh_avg3"] = (b["kwh"] / 4).quantize(Decimal(1))
            return b

        @inj("BP-036", "billing", "undetermined", cls="农业生产")
        def _(fam, unit):
            b = reprice(B(unit), rng.randint(10000, 20000), C(unit))
            b["kwh_avg3"] = None
            return b

        @inj("BP-037", "billing", cls="一般工商业")
        def _(fam, unit):
            b = B(unit)
            other = "C202" if b["tariff_code"] == "C201" else "C201"
            earlier(unit, 1, tariff=other)["tariff_code_registered"] = other
            return b

        @inj("BP-038", "billing", cls="大工业")
        def _(fam, unit):
            c = C(unit)
            b = earlier(unit, 1, paid=False, kwh=rng.randint(250_000, 400_000))
            b["paid_amount"] = money(b["amount"] * Decimal("0.1"))
            b["paid_at"] = None
            return b

        @inj("BP-039", "billing")
        def _(fam, unit):
            b = unpaid(earlier(unit, 2, paid=False))
            return b

        @inj("BP-040", "billing")
        def _(fam, unit):
            unpaid(earlier(unit, 2, paid=False))
            return unpaid(earlier(unit, 1, paid=False))

        @inj("BP-041", "billing", cls="一般工商业")
        def _(fam, unit):
            b = unpaid(B(unit))
            b["kwh_avg3"] = (b["kwh"] / Decimal("0.2")).quantize(Decimal(1))
            return b

        @inj("BP-041", "billing", "undetermined", cls=BIG)
        def _(fam, unit):
            b = unpaid(B(unit))
            b["kwh_avg3"] = None
            return b

        @inj("BP-043", "billing")
        def _(fam, unit):
            b = B(unit)
            b["paid_amount"], b["paid_at"] = b["amount"], None
            return b

        @inj("BP-044", "billing")
        def _(fam, unit):
            b = B(unit)
            b.update(adjusted=True, adjust_approved=rng.choice((False, None)), adjust_kwh=Decimal(rng.randint(20, 300)),
                     adjust_amount=money(rng.randint(10, 150)))
            return b

        @inj("BP-045", "billing", cls=BIG)
        def _(fam, unit):
            b = B(unit)
            b.update(adjusted=True, adjust_approved=True, adjust_kwh=Decimal(-rng.randint(80_000, 150_000)),
                     adjust_amount=money(-rng.randint(50_000, 90_000)))
            return b

        @inj("BP-045", "billing", "undetermined")
        def _(fam, unit):
            b = B(unit)
            b.update(adjusted=True, adjust_approved=True, adjust_kwh=Decimal(rng.randint(10, 90)), adjust_amount=None)
            return b

        @inj("BP-046", "billing")
        def _(fam, unit):
            b = B(unit)
            b.update(adjusted=True, adjust_approved=True, adjust_kwh=Decimal(12), adjust_amount=money(6))
            earlier(unit, 2, adjusted=True)
            earlier(unit, 5, adjusted=True)
            return b

        @inj("BP-047", "billing")
        def _(fam, unit):
            b = B(unit)
            b.update(adjusted=True, adjust_approved=True, adjust_kwh=Decimal(-35), adjust_amount=money(-19))
            earlier(unit, 1, method="估抄")
            return b

        @inj("BP-055", "billing", method="自动采集")
        def _(fam, unit):
            C(unit).meter["collection_rate_30d"] = Decimal(rng.randint(500, 899)) / 1000
            return B(unit)

        @inj("BP-055", "billing", "undetermined", method="自动采集")
        def _(fam, unit):
            unit.remove("meter", C(unit).meter)
            return B(unit)

        @inj("BP-064", "billing")
        def _(fam, unit):
            c = C(unit)
            c.meter["seal_intact"] = False
            b = B(unit)
            b["kwh_avg3"] = b["kwh"] * 3
            return b

        @inj("TS-043", "billing", cls="居民")
        def _(fam, unit):
            b = reprice(B(unit), rng.randint(700, 1500), C(unit))
            b["kwh_avg3"] = Decimal(rng.randint(150, 300))
            return b

        @inj("TS-043", "billing", "undetermined", cls="居民")
        def _(fam, unit):
            b = B(unit)
            b["kwh_avg3"] = None
            return b

        @inj("TS-044", "billing")
        def _(fam, unit):
            b = B(unit)
            b["reading_method"] = "估抄"
            return b

        @inj("TS-047", "billing")
        def _(fam, unit):
            b = B(unit)
            b["paid_amount"] = b["amount"] + money(rng.randint(1, 200))
            b["paid_at"] = b["paid_at"] or b["read_at"] + timedelta(days=2)
            return b

        @inj("TS-053", "billing")
        def _(fam, unit):
            p = Mon(self.period - 1)
            end = date(p.year, p.month, 28) + timedelta(days=4)
            end = date(end.year, end.month, 1) - timedelta(days=1)
            return earlier(unit, 1, read_at=datetime.combine(end + timedelta(days=rng.randint(6, 9)), time(10, 0)))

        @inj("TS-054", "billing")
        def _(fam, unit):
            b = B(unit)
            b["due_date"] = b["read_at"].date() + timedelta(days=rng.randint(3, 9))
            if b["paid_at"] is None and b["due_date"] < a.date():
                b["paid_amount"], b["paid_at"] = b["amount"], b["read_at"] + timedelta(days=1)
            return b

        # --- meter --------------------------------------------------------------------------
        def M(unit) -> dict:
            return C(unit).meter

        @inj("BP-048", "meter")
        def _(fam, unit):
            m = M(unit)
            m["seal_intact"] = False
            return m

        @inj("BP-049", "meter", cls="居民")
        def _(fam, unit):
            m = M(unit)
            m["installed_at"] = clock.office_time(clock.random_workday(8 * 366 + 5, 9 * 366))
            m["last_verified_at"] = None
            return m

        @inj("BP-050", "meter", cls=BIG, app_class="高压单电源")
        def _(fam, unit):
            m = M(unit)
            m["last_verified_at"] = clock.office_time(clock.random_workday(400, 600))
            m["installed_at"] = m["last_verified_at"] - timedelta(days=700)
            return m

        @inj("BP-051", "meter", cls=BIG, app_class="高压单电源")
        def _(fam, unit):
            m = M(unit)
            m["last_verified_at"] = None
            return m

        @inj("BP-052", "meter")
        def _(fam, unit):
            m = M(unit)
            m["clock_error_s"] = dec(rng.choice((1, -1)) * rng.uniform(301, 900), 1)
            return m

        @inj("BP-053", "meter")
        def _(fam, unit):
            m = M(unit)
            m["collection_rate_30d"] = Decimal(rng.randint(600, 979)) / 1000
            return m

        @inj("BP-054", "meter")
        def _(fam, unit):
            m = M(unit)
            m["collection_rate_30d"] = Decimal("0.000")
            return m

        @inj("TS-049", "meter")
        def _(fam, unit):
            m = M(unit)
            m["fault_reported_at"] = clock.office_time(clock.random_workday(15, 120))
            fixed = clock.after_workdays(m["fault_reported_at"], rng.randint(6, 12))
            m["fault_fixed_at"] = fixed if fixed <= a and rng.random() < 0.6 else None
            return m

        # --- customer -----------------------------------------------------------------------
        def K(unit) -> dict:
            return C(unit).rec

        @inj("BP-042", "customer", cls=BIG)
        def _(fam, unit):
            k = K(unit)
            k["arrears_count_12m"] = rng.randint(3, 6)
            k["annual_amount"] = max(k["annual_amount"], Decimal("1200000.00"))
            return k

        @inj("BP-065", "customer", cls="居民")
        def _(fam, unit):
            k = K(unit)
            k["annual_kwh"] = Decimal(rng.randint(30000, 60000))
            k["annual_amount"] = money(k["annual_kwh"] * Decimal("0.5583"))
            return k

        @inj("BP-070", "customer", cls=BIG)
        def _(fam, unit):
            k = K(unit)
            k.update(important=True, dual_source=False, self_generator=True, complaints_12m=0)
            return k

        @inj("BP-071", "customer", cls=BIG)
        def _(fam, unit):
            k = K(unit)
            k.update(important=True, dual_source=True, self_generator=False, complaints_12m=0)
            return k

        @inj("BP-072", "customer", cls=BIG)
        def _(fam, unit):
            k = K(unit)
            k.update(important=True, dual_source=True, self_generator=True, complaints_12m=0)
            k["supply_contract_expires"] = rng.choice((None, a.date() + timedelta(days=rng.randint(-60, 29))))
            return k

        @inj("BP-073", "customer", cls=BIG)
        def _(fam, unit):
            k = K(unit)
            k.update(important=True, dual_source=True, self_generator=True, complaints_12m=rng.randint(2, 4))
            return k

        # --- connection_app -----------------------------------------------------------------
        def P(unit, state="archived", app_class=None, accepted=None) -> dict:
            c = C(unit)
            unit.remove("connection_app", c.app)
            for _ in range(30):
                c.app = self.clean(unit, "connection_app", lambda: self.app(c, state=state, app_class=app_class, accepted=accepted))
                if state != "archived" or c.app["status"] == "归档":
                    break
                unit.remove("connection_app", c.app)
            else:
                unit.add("connection_app", c.app)
            return c.app

        def back_workdays(n):
            return clock.office_time(clock.workdays_back(n))

        @inj("BP-001", "connection_app")
        def _(fam, unit):
            p = P(unit)
            p["docs_complete"] = False
            return p

        @inj("BP-002", "connection_app")
        def _(fam, unit):
            p = P(unit)
            p["surveyed_at"] = p["accepted_at"] - timedelta(days=1)
            return p

        @inj("BP-003", "connection_app")
        def _(fam, unit):
            c = C(unit)
            first = P(unit, "open")
            first["status"] = "在途"
            second = self.app(c, state="open")
            second["status"] = "在途"
            unit.add("connection_app", second)
            return c.rec["cons_no"]

        @inj("BP-004", "connection_app", cls="一般工商业", app_class="低压非居民")
        def _(fam, unit):
            p = P(unit)
            p["capacity_kva"] = Decimal(rng.choice((200, 250, 315, 400)))
            return p

        @inj("BP-005", "connection_app")
        def _(fam, unit):
            p = P(unit)
            p["surveyed_at"] = None
            return p

        @inj("BP-006", "connection_app", cls=BIG, app_class="高压单电源")
        def _(fam, unit):
            p = P(unit)
            p["surveyed_at"] = p["accepted_at"] + timedelta(minutes=rng.randint(5, 29))
            return p

        @inj("BP-007", "connection_app", cls="一般工商业", app_class="低压非居民")
        def _(fam, unit):
            p = P(unit, "open", accepted=back_workdays(rng.randint(13, 20)))
            for f in ("scheme_replied_at", "completion_requested_at", "completion_checked_at", "energized_at"):
                p[f] = None
            p["surveyed_at"] = clock.after_workdays(p["accepted_at"], 1)
            p["status"] = "在途"
            return p

        @inj("BP-008", "connection_app", cls="居民")
        def _(fam, unit):
            p = P(unit)
            p["scheme_replied_at"] = clock.after_workdays(p["accepted_at"], 2)
            p["surveyed_at"] = min(p["surveyed_at"], p["scheme_replied_at"])
            return p

        @inj("BP-009", "connection_app", cls=BIG, app_class="高压单电源")
        def _(fam, unit):
            p = P(unit, "open", app_class="高压单电源", accepted=back_workdays(rng.randint(12, 14)))
            for f in ("scheme_replied_at", "design_submitted_at", "design_reviewed_at", "mid_inspected_at",
                      "completion_requested_at", "completion_checked_at", "energized_at"):
                p[f] = None
            p["surveyed_at"] = clock.after_workdays(p["accepted_at"], 2)
            p["status"], p["customer_wait_workdays"] = "在途", None
            return p

        @inj("BP-010", "connection_app", cls="一般工商业", app_class="低压非居民")
        def _(fam, unit):
            p = P(unit, "open", accepted=clock.office_time(clock.random_workday(110, 160)))
            for f in ("completion_requested_at", "completion_checked_at", "energized_at"):
                p[f] = None
            p["status"] = "在途"
            p["customer_wait_workdays"] = cal.workdays_between(p["scheme_replied_at"], a)
            return p

        @inj("BP-011", "connection_app")
        def _(fam, unit):
            p = P(unit)
            p["scheme_replied_at"] = p["surveyed_at"] - timedelta(hours=rng.randint(1, 5))
            if p["scheme_replied_at"] < p["accepted_at"]:
                p["surveyed_at"] = p["accepted_at"] + timedelta(hours=6)
                p["scheme_replied_at"] = p["accepted_at"] + timedelta(hours=3)
            return p

        @inj("BP-012", "connection_app", cls=BIG, app_class="高压单电源")
        def _(fam, unit):
            p = P(unit)
            p["design_reviewed_at"] = None
            return p

        @inj("BP-013", "connection_app", cls=BIG, app_class="高压单电源")
        def _(fam, unit):
            p = P(unit)
            p["mid_inspected_at"] = None
            return p

        @inj("BP-014", "connection_app", cls="一般工商业", app_class="低压非居民")
        def _(fam, unit):
            p = P(unit)
            p["energized_at"] = p["completion_checked_at"] - timedelta(hours=rng.randint(2, 30))
            return p

        @inj("BP-015", "connection_app", cls=BIG, app_class="高压单电源")
        def _(fam, unit):
            p = P(unit)
            p["design_reviewed_at"] = clock.after_workdays(p["design_submitted_at"], rng.randint(11, 14))
            if p["mid_inspected_at"] <= p["design_reviewed_at"]:
                p["mid_inspected_at"] = clock.after_workdays(p["design_reviewed_at"], 3)
            return p

        @inj("BP-016", "connection_app", cls="一般工商业", app_class="低压非居民")
        def _(fam, unit):
            p = P(unit)
            p["completion_checked_at"] = clock.after_workdays(p["completion_requested_at"], rng.randint(6, 8))
            p["energized_at"] = clock.after_workdays(p["completion_checked_at"], 0)
            return p

        @inj("BP-017", "connection_app")
        def _(fam, unit):
            p = P(unit)
            p["energized_at"] = None
            return p

        @inj("BP-018", "connection_app", cls="居民")
        def _(fam, unit):
            p = P(unit, accepted=back_workdays(rng.randint(9, 15)))
            p["status"] = "在途"
            p["energized_at"] = clock.office_time(clock.workdays_back(rng.randint(4, 6)))
            return p

        @inj("BP-021", "connection_app")
        def _(fam, unit):
            c = C(unit)
            p = P(unit, accepted=clock.office_time(clock.random_workday(400, 700)))
            for b in c.bills:
                unit.remove("billing", b)
            c.bills = []
            return p

        @inj("TS-033", "connection_app", cls="居民")
        def _(fam, unit):
            p = P(unit)
            p["energized_at"] = clock.after_workdays(p["scheme_replied_at"], rng.randint(6, 9))
            p["customer_wait_workdays"] = rng.choice((None, 0))
            return p

        @inj("TS-034", "connection_app", cls="一般工商业", app_class="低压非居民")
        def _(fam, unit):
            p = P(unit)
            total = cal.workdays_between(p["accepted_at"], p["energized_at"])
            if total < 8:
                p["energized_at"] = clock.after_workdays(p["energized_at"], 8 - total)
                total = 8
            p["customer_wait_workdays"] = max(0, total - 6 - rng.randint(1, 3))
            return p

        @inj("TS-035", "connection_app", cls="居民")
        def _(fam, unit):
            p = P(unit, "open", accepted=back_workdays(rng.choice((4, 5))))
            p["surveyed_at"] = clock.after_workdays(p["accepted_at"], 0)
            p["scheme_replied_at"] = clock.after_workdays(p["surveyed_at"], 1)
            p["energized_at"], p["status"], p["customer_wait_workdays"] = None, "在途", None
            return p

        @inj("TS-036", "connection_app", cls=BIG, app_class="高压单电源")
        def _(fam, unit):
            p = P(unit, app_class="高压单电源")
            p["scheme_replied_at"] = clock.after_workdays(p["accepted_at"], rng.randint(16, 19))
            if p["design_submitted_at"] <= p["scheme_replied_at"]:
                p["design_submitted_at"] = clock.after_workdays(p["scheme_replied_at"], 2)
            return p

        @inj("TS-037", "connection_app", cls=BIG, app_class="高压单电源")
        def _(fam, unit):
            p = P(unit)
            p["energized_at"] = clock.after_workdays(p["completion_checked_at"], rng.randint(6, 9))
            return p

        @inj("TS-038", "connection_app", cls="居民")
        def _(fam, unit):
            p = P(unit)
            p["surveyed_at"] = clock.after_workdays(p["accepted_at"], rng.randint(2, 3))
            p["scheme_replied_at"] = max(p["scheme_replied_at"], p["surveyed_at"] + timedelta(hours=1))
            return p

        @inj("TS-039", "connection_app")
        def _(fam, unit):
            p = P(unit)
            p["designated_party"] = True
            return p

        @inj("TS-040", "connection_app")
        def _(fam, unit):
            p = P(unit)
            p["extra_fee_charged"] = True
            return p

        # --- 欠费停电 -------------------------------------------------------------------------
        def O(unit) -> dict:
            return unit.of("outage")[0]

        @inj("BP-069", "outage", arrears=True)
        def _(fam, unit):
            o = O(unit)
            o["important_customers"] = 1
            return o

        @inj("TS-045", "outage", arrears=True)
        def _(fam, unit):
            o = O(unit)
            how = rng.randint(0, 3)
            if how == 0:
                o["approved"] = False
            elif how == 1:
                o["notice_at"] = o["start_at"] - timedelta(hours=rng.randint(2, 60))
            elif how == 2:
                o["notice_at"] = None
            else:
                o["start_at"] = o["start_at"].replace(hour=rng.choice((7, 18, 19)))
            return o

        @inj("TS-046", "outage", arrears=True)
        def _(fam, unit):
            o = O(unit)
            paid = o["start_at"] + timedelta(hours=rng.randint(3, 40))
            o["paid_at"] = paid
            end = paid + timedelta(hours=rng.randint(25, 60))
            o["end_at"] = end if end <= a else None
            return o
