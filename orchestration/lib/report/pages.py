"""The report's pages in nav order, and how a page and its sections are rendered.

To add a page: write its sections in a module of its own (see `sections`), put them in a `Page`, and append the
page to `PAGES`. A section that fails — a missing table, a missing column — is shown as a note on its card; it
never breaks the report or the run that writes it.
"""

from __future__ import annotations

import logging

import duckdb

from orchestration.lib.report.attribution import ATTRIBUTION
from orchestration.lib.report.customers import CUSTOMERS
from orchestration.lib.report.funnel import FUNNEL
from orchestration.lib.report.html import Markup, render
from orchestration.lib.report.overview import OVERVIEW
from orchestration.lib.report.quality import QUALITY
from orchestration.lib.report.sections import MissingTable, Page, SectionFn, note

log = logging.getLogger(__name__)

PAGES: list[Page] = [OVERVIEW, ATTRIBUTION, FUNNEL, CUSTOMERS, QUALITY]


def render_section(fn: SectionFn, con: duckdb.DuckDBPyConnection | None, page_slug: str) -> Markup:
    title = getattr(fn, "section_title", fn.__name__.replace("_", " ").capitalize())
    slug = getattr(fn, "section_slug", fn.__name__.replace("_", "-"))
    if con is None:
        inner = note("No serving file yet: nothing has been published.", warn=True)
    else:
        try:
            inner = Markup(fn(con))
        except MissingTable as exc:
            inner = note(f"Not available yet: {', '.join(exc.tables)} is not in the serving file.", warn=True)
        except Exception as exc:  # a broken section must not break the report or the run
            log.warning("report section %s failed: %s", slug, exc, exc_info=True)
            inner = note(f"This section could not be drawn: {type(exc).__name__}: {exc}", warn=True)
    return render("section.html.j2", page_slug=page_slug, slug=slug, title=title, inner=inner)


def render_page(page: Page, con: duckdb.DuckDBPyConnection | None, lead: str = "") -> Markup:
    """A page: heading, intro, `lead` (e.g. the run summary on the first page), then its sections."""
    sections = [render_section(fn, con, page.slug) for fn in page.sections]
    return render("page.html.j2", page=page, lead=Markup(lead), sections=sections)
