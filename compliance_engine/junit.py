"""Test results as JUnit XML, the report format CI systems show: one `<testsuite>` per rulebook,
one `<testcase>` per test (classname: the rule id; a table-driven test: one per case), a
`<failure>` for a wrong outcome or evidence, an `<error>` for a test that could not run."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict
from typing import Iterable

from .testing import TestResult


def to_junit(results: Iterable[TestResult], name: str = "compliance test") -> str:
    suites: dict[str, list[TestResult]] = defaultdict(list)
    for r in results:
        suites[r.rulebook or r.file].append(r)  # a test of an unknown rule: under its test file
    root = ET.Element("testsuites", name=name)
    for suite_name, members in suites.items():
        root.append(_suite(suite_name, members))
    _count(root, [r for members in suites.values() for r in members])
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _suite(name: str, results: list[TestResult]) -> ET.Element:
    suite = ET.Element("testsuite", name=name)
    _count(suite, results)
    suite.set("skipped", "0")
    for r in results:
        suite.append(_case(r))
    return suite


def _count(element: ET.Element, results: list[TestResult]) -> None:
    element.set("tests", str(len(results)))
    element.set("failures", str(sum(1 for r in results if not r.passed and not r.error)))
    element.set("errors", str(sum(1 for r in results if r.error)))
    element.set("time", f"{sum(r.seconds for r in results):.3f}")


def _case(r: TestResult) -> ET.Element:
    title = f"{r.test} [{r.case}]" if r.case else r.test
    case = ET.Element("testcase", name=title, classname=r.rule or r.file, time=f"{r.seconds:.3f}")
    if r.error:
        ET.SubElement(case, "error", message=r.error, type="TestError").text = r.location
    elif not r.passed:
        failure = ET.SubElement(case, "failure", message=r.message, type="TestFailure")
        failure.text = "\n".join([r.location, *r.diff])
    return case

