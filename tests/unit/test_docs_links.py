"""The README and docs/ hold together: every relative link points at a file that exists, and at a heading that exists
in it (GitHub's anchors); every docs page is reachable from the README; every `make` target they mention exists."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

FENCE = re.compile(r"^\s*(```|~~~)")
# [text](target) and ![alt](target); the target ends at the first space or closing parenthesis
LINK = re.compile(r"!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
INLINE_CODE = re.compile(r"`+[^`]*`+")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def prose_lines(text: str) -> list[str]:
    """The lines outside fenced code blocks (a `# comment` in a shell block is not a heading)."""
    lines, fenced = [], False
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            lines.append(line)
    return lines


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: link text kept, markup and punctuation dropped, lowercased, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link in a heading keeps its text
    text = re.sub(r"<[^>]+>", "", text).lower()
    text = "".join(c for c in text if c in " -_" or unicodedata.category(c)[0] in "LNM")
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    found: set[str] = set()
    seen: dict[str, int] = {}
    for line in prose_lines(path.read_text(encoding="utf-8")):
        match = HEADING.match(line)
        if not match:
            continue
        base = slug(match.group(2))
        n = seen.get(base, 0)
        seen[base] = n + 1
        found.add(base if n == 0 else f"{base}-{n}")
    return found


def links(path: Path) -> list[str]:
    targets = []
    for line in prose_lines(path.read_text(encoding="utf-8")):
        targets += LINK.findall(INLINE_CODE.sub("", line))
    return targets


def relative_links(path: Path) -> list[str]:
    return [t for t in links(path) if not re.match(r"^[a-z][a-z0-9+.-]*:", t, re.IGNORECASE)]


def test_the_slug_follows_githubs_rules():
    assert slug("Customers, LTV and RFM") == "customers-ltv-and-rfm"
    assert slug("For analysts: what failed last night") == "for-analysts-what-failed-last-night"
    assert slug('"Now"') == "now"
    assert slug("Markov + Shapley") == "markov--shapley"
    assert slug("The `deals` snapshot") == "the-deals-snapshot"


def test_the_pages_exist_and_link_somewhere():
    assert (ROOT / "docs").is_dir() and len(PAGES) > 1
    assert relative_links(ROOT / "README.md"), "the README links to no page"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(page: Path):
    broken = []
    for target in relative_links(page):
        file_part, _, anchor = target.partition("#")
        resolved = (page.parent / file_part).resolve() if file_part else page
        if not resolved.exists():
            shown = resolved.relative_to(ROOT) if resolved.is_relative_to(ROOT) else resolved
            broken.append(f"{target}: no file {shown}")
            continue
        if anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
            broken.append(f"{target}: no heading with anchor #{anchor} in {resolved.relative_to(ROOT)}")
    assert not broken, f"{page.relative_to(ROOT)} has broken links:\n" + "\n".join(broken)


def test_every_docs_page_is_linked_from_the_readme():
    linked = {(ROOT / t.partition("#")[0]).resolve() for t in relative_links(ROOT / "README.md") if t.partition("#")[0]}
    missing = [p.name for p in PAGES[1:] if p.resolve() not in linked]
    assert not missing, f"docs pages the README does not link: {missing}"


def test_the_readme_opens_with_the_two_commands():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    quick_start = text[text.index("## Quick start") :]
    block = quick_start[: quick_start.index("```", quick_start.index("```") + 3)]
    assert [line.split()[:2] for line in block.splitlines() if line.startswith("make ")] == [
        ["make", "run"],
        ["make", "test"],
    ]


def test_every_make_target_mentioned_exists():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([A-Za-z][\w-]*):", makefile, re.MULTILINE))
    mentioned = set()
    for page in PAGES:  # in code: `make lint`, or a line of a shell block
        text = page.read_text(encoding="utf-8")
        code = INLINE_CODE.findall(text) + re.findall(r"^make .*$", text, re.MULTILINE)
        mentioned |= {t for span in code for t in re.findall(r"\bmake ([a-z][\w-]*)", span)}
    assert mentioned, "no make target is mentioned"
    assert not mentioned - targets, f"mentioned but not in the Makefile: {sorted(mentioned - targets)}"


def test_no_page_points_outside_the_repository():
    outside = []
    for page in PAGES:
        for target in relative_links(page):
            file_part = target.partition("#")[0]
            if file_part and not (page.parent / file_part).resolve().is_relative_to(ROOT):
                outside.append(f"{page.relative_to(ROOT)}: {target}")
    assert not outside, "links that leave the repository:\n" + "\n".join(outside)
