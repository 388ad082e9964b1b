"""Diagnostics as reports for people and for CI: text, JSON, SARIF 2.1.0, GitHub annotations.

`Report.limit` applies `--max-errors` (what is listed, how many errors and warnings are left
out); `render(fmt, report, sources)` turns a report into the text a command prints. Text and
JSON are the formats `compliance check` always had, unchanged when nothing is left out.

SARIF follows what GitHub code scanning reads (docs/ci.md): it shows `message.text` as the alert
and ignores `message.markdown` and result properties, so the hint is written into
`message.text` (after the message, on its own line) and, for other tools, in
`properties.hint`. Locations are relative to the current directory (the repository root in
CI) under `uriBaseId` `%SRCROOT%`; columns count Unicode code points, end column exclusive.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from urllib.parse import quote

from .diagnostics import Diagnostic, Severity, render_json, render_text
from .source import Source, Span

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
TOOL_NAME = "compliance"
SRCROOT = "%SRCROOT%"

# What each diagnostic code is about: the SARIF rule's short description (GitHub shows it next
# to every alert). A new code needs a line here; tests/test_check_formats.py checks that.
CODE_TITLES = {
    "E0101": "无法识别的字符",
    "E0102": "此处不应出现的写法",
    "E0103": "文件在声明结束之前就结束了",
    "E0104": "日期、时间或月份写法无效",
    "E0105": "找不到或无法读取规则文件",
    "E0106": "文本中的反斜杠转义写法不对",
    "E0107": "没有找到规则文件",
    "E0201": "未知名称",
    "E0202": "记录类型没有这个字段",
    "E0203": "两个值不能比较",
    "E0204": "未知函数",
    "E0205": "this 的用法不对",
    "E0206": "函数的参数不对",
    "E0207": "这个值不能取负",
    "E0208": "类型不一致",
    "E0209": "这里必须是条件（是/否）",
    "E0210": "不能进行的算术运算",
    "E0211": "不是枚举的成员",
    "E0212": "按月/年计的时长只能与两个时间之差比较",
    "E0213": "工作日的用法不对",
    "E0214": "时长的数值不对",
    "E0215": "聚合函数只能用在 window 的 compute 中",
    "E0216": "match 的分支不对",
    "E0217": "按记录计算的事实不能用在 window 中",
    "E0218": "within 不能用 !=",
    "E0219": "名称已被使用",
    "E0220": "名称重复声明",
    "E0221": "枚举值重复",
    "E0222": "字段重复",
    "E0223": "未知类型",
    "E0224": "与 empty 比较的结果永远是待定",
    "E0301": "记录类型不存在",
    "E0302": "未知预警级别",
    "E0303": "未声明的风险环节",
    "E0304": "同一项写了不止一次",
    "E0305": "规则缺少必需的项",
    "E0306": "含有规则的文件必须以 rulebook 声明开头",
    "E0307": "compute 的写法不对",
    "E0308": "分组规则用了分组字段和窗口结果以外的值",
    "E0309": "分组规则的 window 不能写 over/by/within",
    "E0310": "责任（owner）写法不对",
    "E0311": "监督部门写法不对",
    "E0312": "规则编号重复",
    "E0313": "依赖的规则不存在",
    "E0401": "事实之间循环引用",
    "E0402": "规则之间循环依赖",
    "E0501": "测试或 defaults 的记录类型不存在",
    "E0502": "测试记录没有这个字段",
    "E0503": "测试中的值必须是常量",
    "E0504": "测试记录的值与字段类型不符",
    "E0505": "测试记录缺少必填字段",
    "E0506": "测试没有给出被检查的记录",
    "E0507": "测试缺少 expect 或写了不止一次",
    "E0508": "expect missing 的写法不对",
    "E0509": "规则用到 as_of，测试却没有给出",
    "E0601": "SQL 后端无法翻译的写法",
    "W0201": "可选字段为空时的含义没有说明",
    "W0202": "`??` 的默认值永远用不到",
    "W0203": "`is empty` 的结果是固定的",
    "W0204": "必填字段不会为空",
    "W0205": "期限中引用的不是字段",
}

# Codes are grouped by their first digits (diagnostics.py); the group names the SARIF tag.
CODE_GROUPS = {"E01": ("syntax", "语法"), "E02": ("names-and-types", "名称与类型"),
               "E03": ("rules-and-metadata", "规则与元数据"), "E04": ("dependency-graph", "依赖关系"),
               "E05": ("rule-tests", "规则测试"), "W": ("warning", "警告"), "L": ("lint", "审查建议")}


@dataclass(frozen=True)
class Report:
    """The diagnostics to list, and how many errors and warnings `--max-errors` left out."""

    shown: tuple[Diagnostic, ...]
    omitted_errors: int = 0
    omitted_warnings: int = 0

    @classmethod
    def limit(cls, diags: list[Diagnostic], max_errors: int | None = None) -> Report:
        """Everything up to and including the `max_errors`-th error (in source order)."""
        if max_errors is None:
            return cls(tuple(diags))
        cut, seen = len(diags), 0
        for i, d in enumerate(diags):
            seen += d.severity is Severity.ERROR
            if seen == max_errors:
                cut = i + 1
                break
        rest = diags[cut:]
        n_err = sum(d.severity is Severity.ERROR for d in rest)
        return cls(tuple(diags[:cut]), n_err, len(rest) - n_err)

    @property
    def omitted(self) -> int:
        return self.omitted_errors + self.omitted_warnings

    @property
    def errors(self) -> int:
        return sum(d.severity is Severity.ERROR for d in self.shown) + self.omitted_errors

    @property
    def warnings(self) -> int:
        return len(self.shown) + self.omitted - self.errors


def summary_line(report: Report) -> str:
    """The closing count of the text format (the same words as diagnostics.render_all)."""
    e, w = report.errors, report.warnings
    return f"{e} 个错误, {w} 个警告 ({e} error(s), {w} warning(s))"


def omitted_line(report: Report) -> str:
    e, w = report.omitted_errors, report.omitted_warnings
    return (f"另有 {e} 个错误、{w} 个警告未列出 ({e} more error(s), {w} more warning(s) "
            f"not shown: --max-errors)")


def render(fmt: str, report: Report, sources: dict[str, Source]) -> str:
    return RENDERERS[fmt](report, sources)


# ---- text and JSON: the formats `compliance check` always had ----

def render_text_report(report: Report, sources: dict[str, Source]) -> str:
    parts = [render_text(d, sources) for d in report.shown]
    if report.omitted:
        parts.append(omitted_line(report))
    parts.append(summary_line(report))
    return "\n\n".join(parts)


def render_json_report(report: Report, sources: dict[str, Source]) -> str:
    return render_json(report.shown)  # a list, as before; the omitted count goes to stderr


# ---- SARIF 2.1.0 ----

def render_sarif(report: Report, sources: dict[str, Source], cwd: Path | None = None) -> str:
    cwd = (cwd or Path.cwd()).resolve()
    levels = {d.code: d.severity.value for d in report.shown}
    codes = sorted(levels)
    index = {code: i for i, code in enumerate(codes)}  # result.ruleIndex points into driver.rules
    run = {
        "tool": {"driver": {"name": TOOL_NAME, **_tool_version(), "rules": [_sarif_rule(c, levels[c]) for c in codes]}},
        "invocations": [_sarif_invocation(report)],
        "originalUriBaseIds": {SRCROOT: {"uri": cwd.as_uri() + "/"}},
        "columnKind": "unicodeCodePoints",
        "results": [_sarif_result(d, index[d.code], cwd) for d in report.shown],
    }
    log = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}
    return json.dumps(log, ensure_ascii=False, indent=2)


def _tool_version() -> dict:
    try:
        version = metadata.version("compliance-engine")
    except metadata.PackageNotFoundError:  # running from a source tree that was never installed
        return {}
    return {"version": version, "semanticVersion": version}


def code_title(code: str) -> str:
    return CODE_TITLES.get(code) or _code_group(code)[1]


def _code_group(code: str) -> tuple[str, str]:
    return CODE_GROUPS.get(code[:3]) or CODE_GROUPS.get(code[:1]) or ("other", "其他")


def _sarif_rule(code: str, level: str) -> dict:
    tag, group = _code_group(code)
    title = code_title(code)
    return {
        "id": code,
        "shortDescription": {"text": title},
        "fullDescription": {"text": f"{code} {title}（{group}）"},
        "help": {"text": f"{code} {title}。每条结果的消息说明位置和原因，并给出修改提示；"
                         f"规则文件的写法见语言参考 docs/language.md。"},
        "defaultConfiguration": {"level": level},
        "properties": {"tags": ["compliance-rulebook", tag], "precision": "very-high",
                       "problem.severity": level},
    }


def _sarif_invocation(report: Report) -> dict:
    invocation: dict = {"executionSuccessful": True}
    if report.omitted:
        invocation["toolExecutionNotifications"] = [{"level": "note", "message": {"text": omitted_line(report)}}]
    return invocation


def _sarif_result(diag: Diagnostic, rule_index: int, cwd: Path) -> dict:
    result = {
        "ruleId": diag.code,
        "ruleIndex": rule_index,
        "level": diag.severity.value,
        "message": {"text": _message_lines(diag)},
    }
    if diag.span is not None:
        result["locations"] = [{"physicalLocation": {
            "artifactLocation": _artifact_location(diag.span.path, cwd),
            "region": _region(diag.span)}}]
    properties = {k: v for k, v in (("hint", diag.hint), ("notes", list(diag.notes))) if v}
    if properties:
        result["properties"] = properties
    return result


def _message_lines(diag: Diagnostic) -> str:
    lines = [diag.message, *(f"注: {note}" for note in diag.notes)]
    if diag.hint:
        lines.append(f"提示: {diag.hint}")
    return "\n".join(lines)


def _artifact_location(path: str, cwd: Path) -> dict:
    relative = relative_path(path, cwd)
    if relative is None:
        return {"uri": Path(path).resolve().as_uri()}
    return {"uri": quote(relative), "uriBaseId": SRCROOT}


def relative_path(path: str, cwd: Path | None = None) -> str | None:
    """`path` relative to `cwd` with forward slashes, or None when it lies outside `cwd`."""
    cwd = (cwd or Path.cwd()).resolve()
    try:
        return Path(path).resolve().relative_to(cwd).as_posix()
    except ValueError:
        return None


def _region(span: Span) -> dict:
    return {"startLine": span.line, "startColumn": span.column,
            "endLine": span.end_line, "endColumn": span.end_column}


# ---- GitHub Actions workflow commands ----

def render_github(report: Report, sources: dict[str, Source], cwd: Path | None = None) -> str:
    lines = [github_annotation(d, cwd) for d in report.shown]
    if report.omitted:
        lines.append(f"::notice title={_escape_property('--max-errors')}::{_escape_data(omitted_line(report))}")
    lines.append(summary_line(report))
    return "\n".join(lines)


def github_annotation(diag: Diagnostic, cwd: Path | None = None) -> str:
    """`::error file=…,line=…,col=…,endLine=…,endColumn=…,title=E0201::message (提示: hint)`."""
    props = []
    if diag.span is not None:
        s = diag.span
        where = relative_path(s.path, cwd) or str(Path(s.path).resolve())
        props += [("file", where), ("line", s.line), ("col", s.column), ("endLine", s.end_line),
                  ("endColumn", s.end_column)]
    props.append(("title", diag.code))
    text = ",".join(f"{key}={_escape_property(str(value))}" for key, value in props)
    return f"::{diag.severity.value} {text}::{_escape_data(_one_line(diag))}"


def _one_line(diag: Diagnostic) -> str:
    notes = "".join(f"；{note}" for note in diag.notes)
    hint = f" (提示: {diag.hint})" if diag.hint else ""
    return f"{diag.message}{notes}{hint}"


def _escape_data(text: str) -> str:
    """What the runner's command parser unescapes in a message: % first, then CR and LF."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    """A property value also ends at `,` and `::`, so those are escaped too."""
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


RENDERERS = {"text": render_text_report, "json": render_json_report, "sarif": render_sarif,
             "github": render_github}
FORMATS = tuple(RENDERERS)
