"""Person units: one member of staff, their system account(s) and the exports made with them —
every account_id- and owner_name-keyed window of the catalog stays inside one unit. The
privileged accounts of an (org, system) are counted across the run (NS-16), so the baseline
keeps them under a quota."""

from __future__ import annotations

from datetime import timedelta

from .common import Clock, UniqueNames
from .core import Family, Unit
from .texts import (EXPORT_FIELDS_PERSONAL, EXPORT_FIELDS_PLAIN, EXPORT_PURPOSES, POSTS, PRIVILEGED_POSTS,
                    SYSTEM_ZONE, SYSTEMS)

PRIVILEGED_QUOTA = 2  # per (org_no, system) in the baseline; NS-16 fires above 3


class AccountFamily(Family):
    name = "account"
    kinds = ("account", "data_export")

    def __init__(self, ctx):
        super().__init__(ctx)
        self.as_of = ctx.as_of
        self.clock = Clock(self.rng, ctx.cal, ctx.as_of)
        self.orgs = ctx.orgs.companies + ctx.orgs.stations
        self.names = UniqueNames(ctx.seed * 7 + 3)
        self.people = 0
        self.accounts = 0
        self.exports = 0
        self.privileged: dict[tuple, int] = {}  # (org, system) → active privileged accounts so far
        self._register()

    def n_units(self) -> int:
        return self.ctx.per_kind

    # ---- a unit ------------------------------------------------------------------------------------
    def build(self, i: int, needs: dict) -> Unit:
        unit = Unit(self.name, i)
        privileged = needs.get("privileged")
        org = system = None
        if privileged:  # a group with room, so that the injection alone decides NS-16
            free = [(o, s) for o in self.orgs for s in SYSTEMS if self.privileged.get((o, s), 0) < PRIVILEGED_QUOTA]
            if free:
                org, system = self.rng.choice(free)
        self.person(unit, privileged=privileged, zone=needs.get("zone"), org=org, system=system,
                    active=True if privileged is not None else None)
        return unit

    def person(self, unit: Unit, privileged=None, zone=None, org=None, system=None, exports=None, active=None):
        rng = self.rng
        self.people += 1
        name = self.names(self.people)
        org = org or rng.choice(self.orgs)
        if privileged is None:
            privileged = rng.random() < 0.05
        if privileged:
            post = rng.choice(tuple(PRIVILEGED_POSTS))
            system = system or rng.choice(SYSTEMS)
            if self.privileged.get((org, system), 0) >= PRIVILEGED_QUOTA and not self.injecting and active is None:
                privileged, post = False, None
        if not privileged:
            choices = [p for p, (s, _) in POSTS.items() if zone is None or SYSTEM_ZONE[s] == zone]
            post = rng.choice(choices)
            system = POSTS[post][0]
        acct = self.clean(unit, "account", lambda: self.account(org, name, post, system, privileged, active))
        unit.extra.append(acct)
        if privileged and not acct["disabled"]:
            self.privileged[(org, system)] = self.privileged.get((org, system), 0) + 1
        if exports is None:
            exports = 0 if acct["disabled"] or privileged else (2 if rng.random() < 0.09 else 1)
        last = None
        for _ in range(exports):
            last = self.clean(unit, "data_export", lambda: self.export(acct, after=last))
        return acct

    def account(self, org, name, post, system, privileged, active=None) -> dict:
        rng, clock = self.rng, self.clock
        self.accounts += 1
        created = clock.office_time(clock.random_workday(30, 2000))
        if privileged:
            roles = list(PRIVILEGED_POSTS[post])
            pw_days = rng.randint(1, 28)
        else:
            pool = POSTS[post][1]
            roles = rng.sample(pool, rng.randint(1, len(pool)))
            pw_days = rng.randint(1, 85)
        disabled = rng.random() < 0.08 if active is None else not active
        pw = max(created, clock.office_time(clock.random_workday(pw_days, pw_days)))
        login = self.as_of - timedelta(minutes=rng.randint(30, 60 * 24 * 80))
        login = max(login, created + timedelta(hours=1))
        return {
            "account_id": f"{system_code(system)}{self.accounts:07d}", "org_no": org, "system": system,
            "zone": SYSTEM_ZONE[system], "owner_name": name, "real_name_verified": True, "post": post,
            "roles": roles, "privileged": privileged, "shared": False, "mfa": privileged or SYSTEM_ZONE[system] == "外网" or rng.random() < 0.4,
            "password_changed_at": pw,
            "last_login_at": login if not disabled else (login - timedelta(days=rng.randint(100, 400))),
            "created_at": created, "disabled": disabled, "owner_left": disabled and rng.random() < 0.6,
        }

    def export(self, acct: dict, after=None, personal=None, rows=None, at=None) -> dict:
        rng, clock = self.rng, self.clock
        self.exports += 1
        if at is None:
            at = clock.office_time(clock.random_workday(0, 90), (8, 30), (18, 0))
            if at > self.as_of:
                at = self.as_of - timedelta(hours=rng.randint(1, 5))
            if after is not None and abs(at - after["at"]) < timedelta(hours=30):
                at = after["at"] - timedelta(days=rng.randint(2, 20))
        personal = rng.random() < 0.3 if personal is None else personal
        fields = rng.sample(EXPORT_FIELDS_PLAIN, rng.randint(2, 5))
        if personal:
            fields += rng.sample(EXPORT_FIELDS_PERSONAL, rng.randint(1, 3))
        if rows is None:
            rows = int(rng.lognormvariate(5.5, 1.3)) + 1
            rows = min(rows, 40_000)
        purpose = rng.choice(EXPORT_PURPOSES) if personal or rows >= 1000 or rng.random() < 0.8 else None
        return {
            "export_no": f"DC{at:%Y%m%d}{self.exports:07d}", "org_no": acct["org_no"], "account_id": acct["account_id"],
            "system": acct["system"], "at": at, "rows": rows, "fields": fields, "contains_personal": personal,
            "desensitized": True, "watermarked": True, "approved": personal or rows >= 10_000 or rng.random() < 0.5,
            "purpose": purpose,
        }

    # ---- injections ------------------------------------------------------------------------------
    def _register(self) -> None:
        self._register_all()
        # NS-25 and NS-26 change the account itself: not in the same unit as an account's injection
        for (rule, mode), inj in self.injections.items():
            if rule in ("NS-25", "NS-26"):
                inj.needs["account"] = "changed for an export"
            elif inj.kind == "account":
                inj.needs["account"] = "own"

    def _register_all(self) -> None:  # noqa: C901
        rng, clock, a = self.rng, self.clock, self.as_of
        inj = self.inject

        def A(unit) -> dict:
            return unit.extra[0]

        def X(unit) -> dict:
            acct = A(unit)
            rows = unit.of("data_export")
            if rows:
                return rows[0]
            return unit.add("data_export", self.export(acct))

        def set_(rec, **kw):
            rec.update(kw)
            return rec

        inj("NS-01", "account", privileged=False)(lambda f, u: set_(A(u), real_name_verified=False, disabled=False))
        inj("NS-02", "account", privileged=False)(lambda f, u: set_(A(u), owner_name=None, disabled=False))
        inj("NS-03", "account", privileged=False)(lambda f, u: set_(A(u), shared=True, disabled=False))
        inj("NS-04", "account", privileged=True)(lambda f, u: set_(A(u), shared=True, disabled=False))
        inj("NS-05", "account", privileged=False)(lambda f, u: set_(A(u), owner_left=True, disabled=False))
        inj("NS-06", "account", privileged=False)(lambda f, u: set_(
            A(u), disabled=False, last_login_at=a - timedelta(days=rng.randint(91, 400)),
            created_at=a - timedelta(days=rng.randint(700, 1500))))

        @inj("NS-07", "account", privileged=False)
        def _(f, u):
            acct = set_(A(u), disabled=False)
            acct["password_changed_at"] = rng.choice((None, a - timedelta(days=rng.randint(91, 300))))
            acct["created_at"] = a - timedelta(days=rng.randint(400, 1500))
            return acct

        inj("NS-08", "account", privileged=True)(lambda f, u: set_(
            A(u), disabled=False, password_changed_at=a - timedelta(days=rng.randint(31, 90))))
        inj("NS-09", "account", privileged=False, zone="外网")(lambda f, u: set_(A(u), mfa=False, disabled=False))
        inj("NS-10", "account", privileged=True)(lambda f, u: set_(A(u), mfa=False, disabled=False))
        inj("NS-11", "account", privileged=True)(lambda f, u: set_(A(u), post=rng.choice(("营业厅业务员", "客户经理")), disabled=False))
        inj("NS-12", "account", privileged=False)(lambda f, u: set_(
            A(u), disabled=False, roles=rng.sample(["系统管理员", "安全管理员", "审计管理员"], 2)))
        inj("NS-13", "account", privileged=False)(lambda f, u: set_(
            A(u), disabled=False, roles=list(rng.choice((("电费收费", "退补审批"), ("电费核算", "电费发行审核"), ("业扩受理", "业扩审批"))))))
        inj("NS-14", "account", privileged=False)(lambda f, u: set_(
            A(u), disabled=False, roles=["业扩受理", "客户档案查询", "工单处理", "现场勘查", "催费", "远程抄表", "回访"][: rng.randint(6, 7)]))

        @inj("NS-15", "account")
        def _(f, u):
            acct = set_(A(u), disabled=False)
            twin = dict(acct, roles=list(acct["roles"]))
            self.accounts += 1
            twin["account_id"] = f"{system_code(acct['system'])}{self.accounts:07d}"
            twin["created_at"] = acct["created_at"] + timedelta(days=rng.randint(30, 300))
            if twin["created_at"] > a:
                twin["created_at"] = a - timedelta(days=3)
            twin["last_login_at"] = max(twin["last_login_at"], twin["created_at"] + timedelta(hours=2))
            twin["password_changed_at"] = max(twin["password_changed_at"] or twin["created_at"], twin["created_at"])
            u.add("account", twin)
            return f"{acct['owner_name']}|{acct['system']}"

        inj("NS-15", "account", "undetermined", privileged=False)(lambda f, u: set_(A(u), owner_name=None))

        @inj("NS-16", "account", privileged=True)
        def _(f, u):
            acct = set_(A(u), disabled=False)
            key = (acct["org_no"], acct["system"])
            while self.privileged.get(key, 0) < 4:
                self.person(u, privileged=True, org=acct["org_no"], system=acct["system"], exports=0, active=True)
            return f"{key[0]}|{key[1]}"

        # --- exports ---
        def personal(u):
            x = X(u)
            x["fields"] = [f for f in x["fields"] if f not in EXPORT_FIELDS_PERSONAL] + [rng.choice(EXPORT_FIELDS_PERSONAL)]
            return set_(x, contains_personal=True, approved=True, desensitized=True, watermarked=True,
                        purpose=x["purpose"] or rng.choice(EXPORT_PURPOSES))

        inj("NS-17", "data_export", privileged=False)(lambda f, u: set_(personal(u), desensitized=False))
        inj("NS-18", "data_export", privileged=False)(lambda f, u: set_(personal(u), approved=False))
        inj("NS-19", "data_export", privileged=False)(lambda f, u: set_(personal(u), watermarked=False))
        inj("NS-20", "data_export", privileged=False)(lambda f, u: set_(X(u), rows=rng.randint(10_000, 40_000), approved=False,
                                                                          purpose=X(u)["purpose"] or "营销月报统计"))
        inj("NS-21", "data_export", privileged=False)(lambda f, u: set_(personal(u), rows=rng.randint(100_000, 300_000)))
        inj("NS-22", "data_export", privileged=False)(lambda f, u: set_(X(u), purpose=None, rows=rng.randint(1000, 9000)))

        @inj("NS-23", "data_export", privileged=False)
        def _(f, u):
            x = set_(X(u), rows=rng.randint(25_000, 30_000), approved=True, purpose=X(u)["purpose"] or "线损治理")
            y = self.export(A(u), rows=rng.randint(25_000, 35_000), personal=False,
                            at=x["at"] + timedelta(minutes=rng.randint(30, 600)))
            y.update(approved=True, purpose="线损治理")
            if y["at"] > a:
                y["at"] = a - timedelta(minutes=5)
                x["at"] = y["at"] - timedelta(hours=2)
            u.add("data_export", y)
            return y

        @inj("NS-24", "data_export", privileged=False)
        def _(f, u):
            x = personal(u)
            if rng.random() < 0.5:
                x["at"] = x["at"].replace(hour=rng.choice((20, 21, 22, 6, 7)))
            else:
                d = x["at"].date()
                while f.ctx.cal.is_workday(d):
                    d -= timedelta(days=1)
                x["at"] = x["at"].replace(year=d.year, month=d.month, day=d.day)
            if x["at"] > a:
                x["at"] -= timedelta(days=7)
            return x

        @inj("NS-25", "data_export", privileged=False)
        def _(f, u):
            x = X(u)
            acct = A(u)
            if rng.random() < 0.5:
                acct["disabled"] = True
            else:
                acct["owner_left"] = True
            return x

        @inj("NS-26", "data_export", privileged=False)
        def _(f, u):
            A(u).update(shared=True, disabled=False)
            return personal(u)

        @inj("NS-27", "data_export", privileged=False)
        def _(f, u):
            x = X(u)
            x["fields"] = x["fields"] + [rng.choice(EXPORT_FIELDS_PERSONAL)]
            return set_(x, contains_personal=False, purpose=x["purpose"] or "稽查核对")


def system_code(system: str) -> str:
    return {"营销业务系统": "YX", "网上国网": "WS", "用电信息采集": "CJ", "95598客服": "KF", "移动作业": "YD"}[system]
