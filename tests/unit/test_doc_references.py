"""Every `§` reference in the repository points at a numbered heading in `docs/`.

A reference names its document and the section's number: `docs/api.md §12`,
`docs/domain.md §3.3`, `docs/api.md §A.5`. One reference may list more sections of
the same document: `docs/api.md §8, §9.3 and §14.3`, `docs/frontend.md §5 to §9`.
Inside `docs/` a bare `§6` means the page it is written on. A section is a heading
that starts with its number: `## 12. Follows`, `### 12.1 ...`, `## A. Abuse
resistance`, `### A.5 Device trust`.

References written before the contract moved into `docs/` (`api.md §12`,
`api-2 §A "Device trust"`, `security.md §12`) fail here with the rewrite to use;
`python tests/unit/test_doc_references.py FILE...` applies those rewrites in place.
An old `security.md §N` meant the security contract beside the repository, whose
rules now sit where they apply (`SECURITY_SECTIONS`); the threat model in this
repository is cited as `docs/security.md §N` and never rewritten. Applied migrations
keep their old references (editing one would change its checksum); they are checked
through the rewrite.
"""

from __future__ import annotations

import re
import sys
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
DOCS = ROOT / "docs"
# The trees whose text may cite the docs (source, templates, scripts, SQL, tests, docs).
TREES = ("shared", "functions", "frontend", "tests", "benchmarks", "migrations", "docs")
SKIPPED_SUFFIXES = {".pyc", ".png", ".jpg", ".jpeg", ".gif", ".webp", ".heic", ".ico", ".zip"}

SECTION = r"[0-9]+(?:\.[0-9]+)*|[A-Z](?:\.[0-9]+)*"
JOINER = r"(?:,?\s+and\s+|,\s+|-|\u2013|\s+to\s+|\s+or\s+)"  # \u2013: an en dash
# `docs/api.md §8, §9.3 and §14.3` (the document name may be in backticks; a line may
# break where a space is).
REFERENCE = re.compile(
    rf"`?docs/(?P<doc>[a-z0-9-]+)\.md`?\s+§(?P<sections>(?:{SECTION})(?:{JOINER}§(?:{SECTION}))*)"
)
# A bare chain, valid on a page of docs/ only: `§6`, `§9-§10`.
BARE = re.compile(rf"§(?P<sections>(?:{SECTION})(?:{JOINER}§(?:{SECTION}))*)")
SECTION_IN_CHAIN = re.compile(rf"§({SECTION})")
# Sections of a standard, not of these docs.
RFC = re.compile(r"RFC \d+ §[0-9.]+")
HEADING = re.compile(rf"^#{{2,4}} (?P<section>{SECTION})\.? ", re.MULTILINE)
# What precedes a `§` that names some other document.
FOREIGN_NAME = re.compile(
    r"(?:[\w-]+\.md`?|api-2|specification|spec|api|domain|security|operations|frontend)\s+$"
)

# -- the rewrite of references to the documents that used to live outside ----------

# api-2's §A named its rules by title; each is a numbered subsection now.
ABUSE_RULES = {
    "client address": "A.1",
    "public routes": "A.2",
    "order": "A.3",
    "login throttle": "A.4",
    "device trust": "A.5",
    "re-authentication": "A.6",
    "request bodies": "A.7",
    "live stream": "A.8",
    "api origin probes": "A.9",
}
# The security rules were folded into the section of the page where each applies.
SECURITY_SECTIONS = {
    "1": "docs/operations.md §3.2",
    "2": "docs/api.md §5.2",
    "3": "docs/api.md §5.4",
    "4": "docs/api.md §6.3",
    "5": "docs/api.md §6",
    "6": "docs/api.md §7",
    "7": "docs/api.md §5.5",
    "8": "docs/api.md §15.1",
    "9": "docs/api.md §4",
    "10": "docs/api.md §3",
    "11": "docs/domain.md §6.2",
    "12": "docs/domain.md §1.3",
    "13": "docs/operations.md §3.4",
}
OLD_API_2 = re.compile(r'api-2(?:\.md)? §(?P<letter>[A-F])(?P<titles>(?: "[^"]+"(?:,| and)?)*)')
OLD_PAGE = re.compile(r"(?<![/\w`])(?P<doc>api|domain|operations|frontend)\.md(?P<space>\s+)§")
OLD_SECURITY = re.compile(r"(?<![/\w`])security\.md\s+§(?P<section>[0-9]+)")


def rewrite_legacy(text: str) -> str:
    """`text` with every old-style reference written the way this test accepts."""

    def api_2(match: re.Match[str]) -> str:
        titles = re.findall(r'"([^"]+)"', match["titles"])
        sections = [ABUSE_RULES.get(title.lower()) for title in titles]
        if match["letter"] != "A" or not titles or None in sections:
            return f"docs/api.md §{match['letter']}{match['titles']}"
        return "docs/api.md " + ", ".join(f"§{section}" for section in sections)

    text = OLD_API_2.sub(api_2, text)
    text = OLD_PAGE.sub(lambda match: f"docs/{match['doc']}.md{match['space']}§", text)
    return OLD_SECURITY.sub(lambda match: SECURITY_SECTIONS[match["section"]], text)


# -- the check -----------------------------------------------------------------------


@cache
def sections_of(doc: str) -> frozenset[str]:
    """The section numbers `docs/<doc>.md` has headings for (empty: no such page)."""
    page = DOCS / f"{doc}.md"
    if not page.is_file():
        return frozenset()
    return frozenset(match["section"] for match in HEADING.finditer(page.read_text()))


def problems_in(text: str, page: str | None = None) -> list[str]:
    """What is wrong with the `§` references of `text`; `page` names a doc it is on."""
    problems = []
    covered: set[int] = set()
    for match in REFERENCE.finditer(text):
        covered.update(range(match.start(), match.end()))
        for section in SECTION_IN_CHAIN.findall("§" + match["sections"]):
            if section not in sections_of(match["doc"]):
                problems.append(f"docs/{match['doc']}.md has no heading for §{section}")
    for match in RFC.finditer(text):
        covered.update(range(match.start(), match.end()))
    for match in BARE.finditer(text):
        if match.start() in covered:
            continue
        before = text[max(0, match.start() - 30) : match.start()]
        line = text[text.rfind("\n", 0, match.start()) + 1 : text.find("\n", match.end())]
        if page is None or FOREIGN_NAME.search(before):
            suggestion = rewrite_legacy(line)
            hint = f"; write: {suggestion.strip()}" if suggestion != line else ""
            problems.append(f"§{match['sections']} names no page of docs/ in: {line.strip()}{hint}")
            continue
        for section in SECTION_IN_CHAIN.findall(match.group()):
            if section not in sections_of(page):
                problems.append(f"docs/{page}.md has no heading for its own §{section}")
    return problems


def text_files() -> list[Path]:
    files = []
    for tree in TREES:
        for path in sorted((ROOT / tree).rglob("*")):
            if (
                path.is_file()
                and path.suffix not in SKIPPED_SUFFIXES
                and "__pycache__" not in path.parts
                and "node_modules" not in path.parts
            ):
                files.append(path)
    return files


def test_every_section_reference_resolves_to_a_heading_in_docs() -> None:
    problems = []
    for path in text_files():
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        if "§" not in text or path == Path(__file__):
            continue
        if path.parent == ROOT / "migrations":
            # An applied migration is never edited: the runner refuses a file whose
            # checksum changed (phasma/db/migrations.py), so its comments keep the names
            # of their day and are read through the rewrite.
            text = rewrite_legacy(text)
        page = path.stem if path.parent == DOCS and path.suffix == ".md" else None
        problems += [f"{path.relative_to(ROOT)}: {problem}" for problem in problems_in(text, page)]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    "text",
    [
        "see docs/api.md §99",  # no such section
        "see docs/api.md §12, §99.1",  # the second of a chain
        "see docs/nowhere.md §1",  # no such page
        "see api.md §12",  # the old document beside the repository
        'see api-2 §A "Device trust"',
        "see security.md §12",
        "see §12",  # outside docs/ a reference names its page
    ],
)
def test_a_reference_that_does_not_resolve_is_reported(text: str) -> None:
    assert problems_in(text) != []


@pytest.mark.parametrize(
    "text",
    [
        "see docs/api.md §12",
        "see docs/api.md §8, §9.3 and §14.3; docs/domain.md §2.5",
        "see `docs/security.md` §10",
        "see docs/api.md §A.5",
        "see RFC 9110 §5.3",
    ],
)
def test_a_reference_to_a_heading_in_docs_resolves(text: str) -> None:
    assert problems_in(text) == []


def test_a_bare_reference_on_a_docs_page_means_that_page() -> None:
    assert problems_in("the cursor of §8.1", page="api") == []
    assert problems_in("the cursor of §99", page="api") != []
    assert problems_in("as api.md §8.1 says", page="frontend") != []


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("(api.md §12)", "(docs/api.md §12)"),
        ("(frontend.md §8, §7.9)", "(docs/frontend.md §8, §7.9)"),
        ('(api-2 §A "Device trust")', "(docs/api.md §A.5)"),
        ('api-2 §A "Client address", "Public routes", "Order"', "docs/api.md §A.1, §A.2, §A.3"),
        ("(api-2.md §F)", "(docs/api.md §F)"),
        ("security.md §12:", "docs/domain.md §1.3:"),
        ("docs/api.md §12", "docs/api.md §12"),
    ],
)
def test_old_references_are_rewritten(old: str, new: str) -> None:
    assert rewrite_legacy(old) == new


if __name__ == "__main__":
    # Rewrite old references in the files named on the command line, in place.
    for name in sys.argv[1:]:
        file = Path(name)
        try:
            before = file.read_text()
        except UnicodeDecodeError:
            continue
        after = rewrite_legacy(before)
        if after != before:
            file.write_text(after)
            print(f"rewrote {file}")
