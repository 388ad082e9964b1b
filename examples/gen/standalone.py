"""Families whose records stand alone (system, field_job, opinion_event, the outages that are not
欠费停电) and the 台区 family (station_daily: one 台区's days per unit)."""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from .common import REPAIR_HOUR_WEIGHTS, Clock, Slots, dec
from .core import Family, Unit
from .texts import NOTICE_CHANNELS, OUTAGE_REASONS, SYSTEM_NAMES


def _w(rng, weights: dict):
    return rng.choices(tuple(weights), tuple(weights.values()))[0]


def _set(rec, **kw):
    rec.update(kw)
    return rec


# ==== system =======================================================================================

class SystemFamily(Family):
    name = "system"
    kinds = ("system",)

    def __init__(self, ctx):
        super().__init__(ctx)
        self.clock = Clock(self.rng, ctx.cal, ctx.as_of)
        self.as_of = ctx.as_of
        self.orgs = ctx.orgs.companies
        self.names = ctx.orgs.names
        self.n = 0
        self._register()

    def build(self, i: int, needs: dict) -> Unit:
        unit = Unit(self.name, i)
        self.clean(unit, "system", lambda: self.system(**needs))
        return unit

    def system(self, zone=None, level=None, exposed=None) -> dict:
        rng, a = self.rng, self.as_of
        self.n += 1
        org = rng.choice(self.orgs)
        zone = zone or _w(rng, {"内网营销重要系统": 25, "内网营销信息系统": 45, "外网营销信息系统": 30})
        level = level or (3 if zone == "内网营销重要系统" else rng.choice((2, 2, 3)))
        exposed = (zone == "外网营销信息系统") if exposed is None else exposed
        vulns = 0 if rng.random() < 0.85 else rng.randint(1, 2)
        found = None
        if vulns:
            found = a - (timedelta(hours=rng.randint(1, 70)) if exposed else timedelta(days=rng.randint(1, 14)))
        short = (self.names.get(org) or org).replace("供电公司", "").replace("供电所", "所")
        days = lambda lo, hi: a - timedelta(days=rng.randint(lo, hi), minutes=rng.randint(0, 600))  # noqa: E731
        return {
            "system_id": f"XT{org}{self.n:06d}", "org_no": org, "name": f"{rng.choice(SYSTEM_NAMES[zone])}（{short}）",
            "zone": zone, "mlps_level": level, "last_assessed_at": days(20, 350 if level == 3 else 700),
            "log_retention_days": rng.choice((180, 180, 190, 365, 400)), "vuln_high_open": vulns,
            "vuln_high_found_at": found, "last_scan_at": days(1, 29 if exposed else 89), "self_built": False,
            "registered": True, "internet_exposed": exposed, "waf": exposed or rng.random() < 0.3,
            "backup_tested_at": days(10, 350 if level == 3 else 700), "admin_accounts": rng.randint(1, 3),
        }

    def _register(self) -> None:
        rng, a = self.rng, self.as_of
        inj = self.inject
        S = lambda u: u.one("system")  # noqa: E731
        ago = lambda lo, hi: a - timedelta(days=rng.randint(lo, hi), minutes=rng.randint(0, 600))  # noqa: E731
        inj("NS-28", "system", level=3)(lambda f, u: _set(S(u), last_assessed_at=rng.choice((None, ago(366, 800)))))
        inj("NS-29", "system", level=2, zone="内网营销信息系统")(lambda f, u: _set(S(u), last_assessed_at=rng.choice((None, ago(731, 1200)))))
        inj("NS-30", "system", zone="内网营销重要系统")(lambda f, u: _set(S(u), mlps_level=2))
        inj("NS-31", "system")(lambda f, u: _set(S(u), log_retention_days=rng.choice((30, 90, 120, 179))))
        inj("NS-32", "system", exposed=False, zone="内网营销信息系统")(lambda f, u: _set(
            S(u), vuln_high_open=rng.randint(1, 3), vuln_high_found_at=ago(16, 90)))
        inj("NS-32", "system", "undetermined", exposed=False, zone="内网营销信息系统")(lambda f, u: _set(
            S(u), vuln_high_open=rng.randint(1, 3), vuln_high_found_at=None))
        inj("NS-33", "system", zone="外网营销信息系统")(lambda f, u: _set(
            S(u), vuln_high_open=1, vuln_high_found_at=a - timedelta(hours=rng.randint(73, 400))))
        inj("NS-33", "system", "undetermined", zone="外网营销信息系统")(lambda f, u: _set(
            S(u), vuln_high_open=2, vuln_high_found_at=None))
        inj("NS-34", "system")(lambda f, u: _set(S(u), last_scan_at=rng.choice((None, ago(95, 200)))))
        inj("NS-35", "system")(lambda f, u: _set(S(u), self_built=True))
        inj("NS-36", "system")(lambda f, u: _set(S(u), registered=False))
        inj("NS-37", "system", zone="外网营销信息系统")(lambda f, u: _set(S(u), waf=False))
        inj("NS-38", "system", zone="内网营销信息系统")(lambda f, u: _set(S(u), internet_exposed=True, waf=True, last_scan_at=ago(1, 20)))
        inj("NS-39", "system")(lambda f, u: _set(S(u), backup_tested_at=rng.choice((None, ago(740, 1100)))))
        inj("NS-40", "system")(lambda f, u: _set(S(u), admin_accounts=rng.randint(4, 9)))


# ==== field_job ====================================================================================

JOB_WEIGHTS = {"装表接电": 20, "计量装拆": 15, "用电检查": 15, "故障抢修": 25, "抄表催费": 15, "停复电": 10}
CREWED = ("装表接电", "计量装拆", "故障抢修", "停复电")


class FieldJobFamily(Family):
    name = "field_job"
    kinds = ("field_job",)

    def __init__(self, ctx):
        super().__init__(ctx)
        self.clock = Clock(self.rng, ctx.cal, ctx.as_of)
        self.as_of = ctx.as_of
        self.orgs = ctx.orgs.stations
        self.n = 0
        self._register()

    def build(self, i: int, needs: dict) -> Unit:
        unit = Unit(self.name, i)
        self.clean(unit, "field_job", lambda: self.job(needs.get("job_type")))
        return unit

    def job(self, job_type=None) -> dict:
        rng, clock, a = self.rng, self.clock, self.as_of
        self.n += 1
        jt = job_type or _w(rng, JOB_WEIGHTS)
        if jt == "故障抢修":
            started = clock.any_time(clock.random_day(0, 120), REPAIR_HOUR_WEIGHTS)
        else:
            started = clock.office_time(clock.random_workday(0, 120), (8, 30), (16, 0))
        if started > a:
            started = a - timedelta(minutes=rng.randint(20, 300))
        ended = started + timedelta(minutes=rng.randint(30, 360))
        crew = rng.randint(1, 2) if jt == "抄表催费" else rng.randint(2, 5)
        return {
            "job_no": f"ZY{started:%Y%m%d}{self.n:07d}", "org_no": rng.choice(self.orgs), "job_type": jt,
            "work_ticket": True, "crew_size": crew, "guardian_present": crew >= 2, "safety_confirmed": True,
            "started_at": started, "ended_at": ended if ended <= a else None,
            "customer_signed": jt in ("装表接电", "用电检查") or rng.random() < 0.5,
            "photos": rng.randint(3, 8) if jt in ("装表接电", "计量装拆") else rng.randint(2, 6) if jt == "故障抢修" else rng.randint(0, 4),
        }

    def _register(self) -> None:
        rng, a = self.rng, self.as_of
        inj = self.inject
        J = lambda u: u.one("field_job")  # noqa: E731

        def done(j):
            if j["ended_at"] is None:
                j["started_at"] -= timedelta(days=2)
                j["ended_at"] = j["started_at"] + timedelta(hours=3)
            return j

        inj("BP-019", "field_job", job_type="装表接电")(lambda f, u: _set(done(J(u)), customer_signed=False))
        inj("BP-020", "field_job", job_type="计量装拆")(lambda f, u: _set(done(J(u)), photos=rng.randint(0, 2)))
        inj("BP-057", "field_job")(lambda f, u: _set(J(u), work_ticket=False))
        inj("BP-058", "field_job", job_type="停复电")(lambda f, u: _set(J(u), crew_size=1, guardian_present=False))
        inj("BP-059", "field_job", job_type="装表接电")(lambda f, u: _set(J(u), crew_size=rng.randint(2, 4), guardian_present=False))
        inj("BP-060", "field_job")(lambda f, u: _set(J(u), safety_confirmed=False))
        inj("BP-061", "field_job")(lambda f, u: _set(J(u), ended_at=None, started_at=a - timedelta(hours=rng.randint(25, 200))))
        inj("BP-062", "field_job", job_type="用电检查")(lambda f, u: _set(J(u), crew_size=1, guardian_present=False))
        inj("BP-063", "field_job", job_type="用电检查")(lambda f, u: _set(done(J(u)), customer_signed=False))
        inj("TS-032", "field_job", job_type="故障抢修")(lambda f, u: _set(done(J(u)), photos=rng.randint(0, 1)))


# ==== opinion_event ================================================================================

LIMIT_RESPONSE = {"特别重大": 60, "重大": 60, "较大": 120, "一般": 240}  # minutes (TS-066)
LIMIT_STATEMENT = {"特别重大": 5, "重大": 5, "较大": 24}  # hours (TS-067)


class OpinionFamily(Family):
    name = "opinion_event"
    kinds = ("opinion_event",)

    def __init__(self, ctx):
        super().__init__(ctx)
        self.clock = Clock(self.rng, ctx.cal, ctx.as_of)
        self.as_of = a = ctx.as_of
        self.orgs = ctx.orgs.all
        self.n = 0
        # TS-070 (2 events of one org in 30 days) stays quiet while slots last (5 years back)
        self.slots = Slots(a - timedelta(days=1), timedelta(days=34), timedelta(days=3), a - timedelta(days=5 * 365))
        self._register()

    def build(self, i: int, needs: dict) -> Unit:
        unit = Unit(self.name, i)
        org = self.orgs[i % len(self.orgs)]
        t = self.slots.take(org, self.rng)
        if t is None:  # more events than quiet slots: the rest cluster as they will (TS-070 fires)
            t = self.as_of - timedelta(minutes=self.rng.randint(60, 365 * 24 * 60))
        self.clean(unit, "opinion_event", lambda: self.event(org, t, needs.get("level")))
        return unit

    def event(self, org, detected, level=None) -> dict:
        rng, a = self.rng, self.as_of
        self.n += 1
        level = level or _w(rng, {"一般": 70, "较大": 20, "重大": 8, "特别重大": 2})
        media = (_w(rng, {"自媒体": 80, "地方媒体": 20}) if level == "一般"
                 else _w(rng, {"自媒体": 40, "地方媒体": 35, "省级媒体": 20, "中央媒体": 5}))
        reposts = {"一般": (10, 900), "较大": (200, 5000), "重大": (1000, 50000), "特别重大": (5000, 200000)}[level]
        first = detected + timedelta(minutes=rng.randint(10, LIMIT_RESPONSE[level] - 5))
        statement = None
        if level in LIMIT_STATEMENT:
            statement = detected + timedelta(minutes=rng.randint(40, LIMIT_STATEMENT[level] * 60 - 20))
        elif rng.random() < 0.3:
            statement = detected + timedelta(hours=rng.randint(2, 30))
        resolved = detected + timedelta(hours=rng.randint(6, 6 * 24))
        cut = lambda t: t if t is not None and t <= a else None  # noqa: E731
        return {
            "event_no": f"YQ{detected:%Y%m}{self.n:06d}", "org_no": org, "detected_at": detected,
            "first_response_at": cut(first), "statement_at": cut(statement), "level": level, "media": media,
            "reposts": rng.randint(*reposts), "resolved_at": cut(resolved),
        }

    def _register(self) -> None:
        rng, a = self.rng, self.as_of
        inj = self.inject
        E = lambda u: u.one("opinion_event")  # noqa: E731

        def late(e, minutes):
            e["first_response_at"] = e["detected_at"] + timedelta(minutes=minutes)
            if e["first_response_at"] > a:
                e["detected_at"] -= timedelta(days=2)
                e["first_response_at"] -= timedelta(days=2)
            return e

        inj("TS-066", "opinion_event")(lambda f, u: late(E(u), LIMIT_RESPONSE[E(u)["level"]] + rng.randint(5, 300)))

        @inj("TS-067", "opinion_event", level="较大")
        def _(f, u):
            e = E(u)
            e["statement_at"] = rng.choice((None, e["detected_at"] + timedelta(hours=rng.randint(25, 60))))
            if e["detected_at"] > a - timedelta(days=3):
                e["detected_at"] -= timedelta(days=3)
                e["first_response_at"] -= timedelta(days=3)
            if e["statement_at"] is not None and e["statement_at"] > a:
                e["statement_at"] = None
            return e

        inj("TS-068", "opinion_event", level="一般")(lambda f, u: _set(
            E(u), **rng.choice(({"media": "省级媒体"}, {"media": "中央媒体"}, {"reposts": rng.randint(1000, 20000)}))))

        @inj("TS-069", "opinion_event")
        def _(f, u):
            e = E(u)
            if e["detected_at"] > a - timedelta(days=8):
                e["detected_at"] -= timedelta(days=10)
                e["first_response_at"] = e["detected_at"] + timedelta(minutes=30)
                e["statement_at"] = e["statement_at"] and e["detected_at"] + timedelta(hours=3)
            e["resolved_at"] = None
            return e

        @inj("TS-070", "opinion_event")
        def _(f, u):
            first = E(u)
            org = first["org_no"]
            t0 = self.slots.take(org, rng, 2) or a - timedelta(days=rng.randint(30, 360))  # no quiet slot left
            u.records["opinion_event"] = []
            u.add("opinion_event", self.event(org, t0))
            return u.add("opinion_event", self.event(org, t0 + timedelta(days=rng.randint(1, 25), minutes=rng.randint(0, 600))))


# ==== outage (all but 欠费停电, which live with their customer) =======================================

class OutageFamily(Family):
    name = "outage"
    kinds = ("outage",)

    def __init__(self, ctx, count: int):
        super().__init__(ctx)
        self.clock = Clock(self.rng, ctx.cal, ctx.as_of)
        self.as_of = a = ctx.as_of
        self.orgs = ctx.orgs.stations
        self.count = count
        self.n = 0
        # BP-067 (3 临时停电 of one org in 30 days) stays quiet: one per 17-day slot per org
        self.slots = Slots(a + timedelta(days=2), timedelta(days=17), timedelta(days=3), a - timedelta(days=365))
        self._register()

    def n_units(self) -> int:
        return self.count

    def build(self, i: int, needs: dict) -> Unit:
        unit = Unit(self.name, i)
        kind = needs.get("okind") or _w(self.rng, {"计划停电": 35, "故障停电": 50, "临时停电": 15})
        org = self.rng.choice(self.orgs)
        start = None
        if kind == "临时停电":
            start = self.slots.take(org, self.rng)
            if start is None:
                kind = "故障停电"
        self.clean(unit, "outage", lambda: self.outage(kind, org, start))
        return unit

    def outage(self, kind, org, start=None) -> dict:
        rng, clock, a = self.rng, self.clock, self.as_of
        self.n += 1
        planned_end = end = notice = None
        important = rng.choices((0, 1, 2), (85, 10, 5))[0]
        if kind == "计划停电":
            d = clock.workday_on_or_before(a.date() + timedelta(days=rng.randint(-200, 6)))
            start = start or datetime.combine(d, time(rng.randint(6, 8), rng.choice((0, 30))))
            notice = start - timedelta(days=rng.randint(7, 10), hours=rng.randint(0, 8))
            planned_end = start + timedelta(hours=rng.randint(3, 9), minutes=rng.choice((0, 30)))
            end = planned_end - timedelta(minutes=rng.randint(0, 90))
            affected = rng.randint(50, 3000)
            channels = rng.sample(NOTICE_CHANNELS, rng.randint(2, 3))
        elif kind == "临时停电":
            start = start or clock.office_time(clock.random_workday(0, 300))
            notice = start - timedelta(hours=rng.randint(25, 72))
            planned_end = start + timedelta(hours=rng.randint(2, 6))
            end = planned_end - timedelta(minutes=rng.randint(0, 60))
            affected = rng.randint(20, 800)
            channels = rng.sample(NOTICE_CHANNELS, rng.randint(2 if important else 1, 3))
        else:
            start = start or clock.any_time(clock.random_day(0, 200), REPAIR_HOUR_WEIGHTS)
            if start > a:
                start = a - timedelta(minutes=rng.randint(40, 600))
            notice = start + timedelta(minutes=rng.randint(5, 25))
            end = start + timedelta(minutes=rng.randint(30, 210))
            affected = rng.randint(5, 2500)
            channels = rng.choice(([], ["网上国网"], ["短信", "网上国网"]))
        return {
            "outage_no": f"TD{start:%Y%m}{self.n:07d}", "org_no": org, "cons_no": None, "approved": True,
            "paid_at": None, "kind": kind, "notice_at": notice if notice <= a else None, "start_at": start,
            "planned_end_at": planned_end, "end_at": end if end <= a else None, "customers_affected": affected,
            "important_customers": important, "notified_channels": channels, "reason": rng.choice(OUTAGE_REASONS[kind]),
        }

    def _register(self) -> None:
        rng, a = self.rng, self.as_of
        inj = self.inject
        O = lambda u: u.one("outage")  # noqa: E731

        def past(o):
            if o["start_at"] > a - timedelta(days=1):
                shift = (o["start_at"] - a) + timedelta(days=rng.randint(3, 30))
                for f in ("notice_at", "start_at", "planned_end_at", "end_at"):
                    if o[f] is not None:
                        o[f] -= shift
                o["end_at"] = o["end_at"] or (o["planned_end_at"] or o["start_at"] + timedelta(hours=2))
            return o

        inj("BP-066", "outage", okind="计划停电")(lambda f, u: _set(O(u), notified_channels=[], important_customers=0))

        @inj("BP-067", "outage", okind="故障停电")
        def _(f, u):
            org = O(u)["org_no"]
            t0 = self.slots.take(org, rng, 2) or a - timedelta(days=rng.randint(30, 360))  # no quiet slot left
            u.records["outage"] = []
            last = None
            for k, days in enumerate((0, rng.randint(5, 10), rng.randint(12, 20))):
                last = u.add("outage", self.outage("临时停电", org, t0 + timedelta(days=days, hours=k)))
            return last

        inj("BP-068", "outage", okind="计划停电")(lambda f, u: _set(
            O(u), planned_end_at=O(u)["start_at"] + timedelta(hours=rng.randint(11, 16)),
            end_at=O(u)["end_at"] and O(u)["start_at"] + timedelta(hours=10, minutes=30)))
        inj("BP-068", "outage", "undetermined", okind="计划停电")(lambda f, u: _set(O(u), planned_end_at=None))
        inj("TS-017", "outage", okind="计划停电")(lambda f, u: _set(
            O(u), notice_at=rng.choice((None, O(u)["start_at"] - timedelta(days=rng.randint(1, 6))))))
        inj("TS-018", "outage", okind="故障停电")(lambda f, u: self._temp_short_notice(u))
        inj("TS-019", "outage", okind="计划停电")(lambda f, u: _set(
            past(O(u)), end_at=O(u)["planned_end_at"] + timedelta(minutes=rng.randint(20, 300))))
        inj("TS-019", "outage", "undetermined", okind="计划停电")(lambda f, u: _set(
            past(O(u)), planned_end_at=None))
        inj("TS-020", "outage", okind="故障停电")(lambda f, u: _set(
            past(O(u)), notice_at=O(u)["start_at"] + timedelta(minutes=rng.randint(31, 180))))
        inj("TS-021", "outage", okind="计划停电")(lambda f, u: _set(
            O(u), important_customers=rng.randint(1, 3), notified_channels=[rng.choice(NOTICE_CHANNELS)]))
        inj("TS-022", "outage", okind="故障停电")(lambda f, u: _set(
            past(O(u)), customers_affected=rng.randint(1000, 6000),
            end_at=rng.choice((None, O(u)["start_at"] + timedelta(hours=rng.randint(5, 12))))))

    def _temp_short_notice(self, u):
        rng = self.rng
        o = u.one("outage")
        t = self.slots.take(o["org_no"], rng) or self.as_of - timedelta(days=rng.randint(3, 360))
        u.records["outage"] = []
        o = u.add("outage", self.outage("临时停电", o["org_no"], t))
        o["notice_at"] = rng.choice((None, o["start_at"] - timedelta(hours=rng.randint(1, 23))))
        return o


# ==== station_daily: one 台区 per unit ==============================================================

class StationFamily(Family):
    name = "station_daily"
    kinds = ("station_daily",)
    DAYS = 30

    def __init__(self, ctx):
        super().__init__(ctx)
        self.as_of = ctx.as_of
        self.orgs = ctx.orgs.stations
        self.days = min(self.DAYS, max(1, ctx.per_kind))
        self.tgs = math.ceil(ctx.per_kind / self.days)
        self.first = ctx.as_of.date() - timedelta(days=self.days)
        self.pending: dict[str, list] = {}  # org → [date, how many more 台区 to break that day] (BP-078)
        self._register()

    def n_units(self) -> int:
        return self.tgs

    def tgs_of(self, org_index: int) -> int:
        n = len(self.orgs)
        return self.tgs // n + (1 if org_index < self.tgs % n else 0)

    def build(self, i: int, needs: dict) -> Unit:
        unit = Unit(self.name, i)
        org = self.orgs[i % len(self.orgs)]
        base = self.rng.randint(300, 6000)
        for d in range(self.days):
            day = self.first + timedelta(days=d)
            self.clean(unit, "station_daily", lambda: self.day(f"TG{org}{i:06d}", org, day, base))
        todo = self.pending.get(org)
        if todo and todo[1] > 0:  # a BP-078 injection asked for more bad 台区 of this org that day
            todo[1] -= 1
            self.bad(unit, todo[0], Decimal("0.1500"))
            unit.injected.append(("BP-078", "follow-up"))
        return unit

    def day(self, tg, org, day: date, base: int, loss=None) -> dict:
        rng = self.rng
        supply = Decimal(int(base * rng.uniform(0.85, 1.15)))
        loss = loss if loss is not None else Decimal(rng.randint(150, 850)) / 10000
        sales = (supply * (1 - loss)).quantize(Decimal("0.01"))
        return {"tg_no": tg, "org_no": org, "date": day, "supply_kwh": supply, "sales_kwh": sales,
                "loss_rate": loss if rng.random() < 0.7 else None}

    def bad(self, unit, day: date, loss: Decimal):
        for r in unit.of("station_daily"):
            if r["date"] == day:
                r["sales_kwh"] = (r["supply_kwh"] * (1 - loss)).quantize(Decimal("0.01"))
                r["loss_rate"] = loss if r["loss_rate"] is not None else None
                return r
        return None

    def _register(self) -> None:
        rng = self.rng
        inj = self.inject

        def pick(u, lo=0):
            rows = u.of("station_daily")
            return rows[rng.randint(min(lo, len(rows) - 1), len(rows) - 1)]

        @inj("BP-056", "station_daily")
        def _(f, u):
            return _set(pick(u), supply_kwh=Decimal("0"), loss_rate=None)

        @inj("BP-074", "station_daily")
        def _(f, u):
            r = pick(u)
            return self.bad(u, r["date"], Decimal(rng.randint(1100, 3000)) / 10000)

        def zero(f, u):
            return _set(pick(u), supply_kwh=Decimal("0"), sales_kwh=Decimal("0"), loss_rate=None)

        inj("BP-074", "station_daily", "undetermined")(zero)
        inj("BP-075", "station_daily", "undetermined")(zero)

        @inj("BP-075", "station_daily")
        def _(f, u):
            r = pick(u)
            return self.bad(u, r["date"], -Decimal(rng.randint(200, 1000)) / 10000)

        @inj("BP-076", "station_daily")
        def _(f, u):
            rows = u.of("station_daily")
            if len(rows) < 3:
                return None
            k = rng.randint(0, len(rows) - 3)
            for j in range(3):
                self.bad(u, rows[k + j]["date"], Decimal(rng.randint(1100, 2500)) / 10000)
            return rows[k + 2]

        @inj("BP-077", "station_daily")
        def _(f, u):
            r = pick(u)
            computed = (r["supply_kwh"] - r["sales_kwh"]) / r["supply_kwh"]
            return _set(r, loss_rate=(computed + Decimal(rng.randint(20, 300)) / 10000).quantize(Decimal("0.0001")))

        @inj("BP-078", "station_daily")
        def _(f, u):
            r = pick(u)
            org = r["org_no"]
            if self.pending.get(org, [None, 0])[1] > 0:
                return None  # one pending break per org at a time
            n_tg = self.tgs_of(self.orgs.index(org))
            need = math.floor(Decimal("0.005") * n_tg) + 1  # bad 台区 that make n_ok / n_tg < 0.995
            self.bad(u, r["date"], Decimal("0.1500"))
            left = min(need - 1, (n_tg - 1 - u.index // len(self.orgs)))
            if left > 0:
                self.pending[org] = [r["date"], left]
            return f"{org}|{r['date']}"
