"""The standard rulebooks encode the compliance office's catalog exactly: every item is one rule
with the same id and metadata, and nothing else. The catalog is vendored in rulebooks/catalog/
(a copy of shared/domain/catalog/, checked equal when that folder is beside the repository)."""

from __future__ import annotations

import filecmp
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from compliance_engine import load_rulebooks

ROOT = Path(__file__).resolve().parents[1]
CATALOG = ROOT / "rulebooks" / "catalog"
SHARED = ROOT.parent / "shared" / "domain" / "catalog"
RULEBOOK_FILES = {
    "complaint_prevention.yaml": "complaint_prevention.rules",
    "network_security.yaml": "network_security.rules",
    "business_process.yaml": "business_process.rules",
}
pytestmark = pytest.mark.skipif(
    not all((ROOT / "rulebooks" / f).exists() for f in RULEBOOK_FILES.values()),
    reason="standard rulebooks not all written yet",
)


def _catalog(name: str) -> dict:
    return YAML(typ="safe").load((CATALOG / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def program():
    return load_rulebooks([ROOT / "rulebooks"]).program


@pytest.mark.skipif(not SHARED.exists(), reason="shared/ not beside the repository")
@pytest.mark.parametrize("name", sorted(RULEBOOK_FILES))
def test_vendored_catalog_is_the_shared_one(name):
    assert filecmp.cmp(CATALOG / name, SHARED / name, shallow=False)


@pytest.mark.parametrize("name", sorted(RULEBOOK_FILES))
def test_ids_match_the_catalog(program, name):
    catalog = _catalog(name)
    wanted = {item["id"] for item in catalog["items"]}
    book = catalog["rulebook"]["id"]
    have = {r.id for r in program.rules if r.rulebook.name == book}
    assert sorted(wanted - have) == [], "catalog items without a rule"
    assert sorted(have - wanted) == [], "rules not in the catalog"


def _expected(item: dict) -> dict:
    return {
        "title": item["title"], "record": item["record"], "link": item["link"], "category": item["category"],
        "level": item["level"], "owner": item["owner"], "supervisor": item["supervisor"],
        "measure": item["measure"], "deadline": item["deadline"], "source": item["source"],
        "depends_on": list(item.get("depends_on") or []), "group_by": list(item.get("group_by") or []),
    }


def _actual(rule) -> dict:
    return {
        "title": rule.title, "record": rule.kind.name, "link": rule.link.id if rule.link else None,
        "category": rule.category, "level": rule.level, "owner": rule.owner.text,
        "supervisor": rule.supervisor.text if rule.supervisor else None, "measure": rule.measure,
        "deadline": rule.deadline.text if rule.deadline else None, "source": rule.source,
        "depends_on": list(rule.depends_on), "group_by": list(rule.group_by),
    }


@pytest.mark.parametrize("name", sorted(RULEBOOK_FILES))
def test_metadata_matches_the_catalog(program, name):
    rules = {r.id: r for r in program.rules}
    differences = {}
    for item in _catalog(name)["items"]:
        rule = rules.get(item["id"])
        if rule is None:
            continue  # reported by test_ids_match_the_catalog
        want, got = _expected(item), _actual(rule)
        diff = {k: (want[k], got[k]) for k in want if want[k] != got[k]}
        if diff:
            differences[item["id"]] = diff
    assert differences == {}


def test_rulebook_headers_match_the_catalog(program):
    books = {b.name: b for b in program.rulebooks if not b.is_module}
    for name in RULEBOOK_FILES:
        meta = _catalog(name)["rulebook"]
        book = books[meta["id"]]
        assert (book.title, book.version, str(book.effective)) == (meta["name"], meta["version"], meta["effective"])


def test_business_process_links_declared_in_order(program):
    links = _catalog("business_process.yaml")["links"]
    for position, link in enumerate(links, start=1):
        declared = program.links[link["id"]]
        assert (declared.title, declared.order, declared.category) == (link["name"], position, link["category"])
    counts = {link["id"]: link["points"] for link in links}
    actual = {}
    for rule in program.rules:
        if rule.link is not None and rule.link.id in counts:
            actual[rule.link.id] = actual.get(rule.link.id, 0) + 1
    assert actual == counts, "control points per link differ from the catalog"
