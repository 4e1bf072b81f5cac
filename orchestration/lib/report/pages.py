"""Pages of the report. A page is a title and a list of sections; a section is a function `(con) -> html`.

To add a page: write section functions (decorate each with `@section("Heading")`, query `marts.*` through `con`,
call `require_tables` first, return the HTML of charts/tables built with `charts`), put them in a `Page`, and
append the page to `PAGES`. A section that fails — a missing table, a missing column — is shown as a note on
its card; it never breaks the report or the run that writes it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import duckdb

from orchestration.lib.report.charts import (
    NOT_SET,
    colour_for,
    esc,
    format_value,
    stacked_bar_chart,
)

log = logging.getLogger(__name__)

SCHEMA = "marts"

SectionFn = Callable[[duckdb.DuckDBPyConnection], str]


@dataclass(frozen=True)
class Page:
    slug: str  # the in-page anchor: `#<slug>`
    title: str
    sections: tuple[SectionFn, ...]
    intro: str = ""


class MissingTable(Exception):
    """A section needs a table the serving file does not have (yet)."""

    def __init__(self, tables: Sequence[str]):
        super().__init__(", ".join(tables))
        self.tables = tuple(tables)


def section(title: str, slug: str | None = None) -> Callable[[SectionFn], SectionFn]:
    """Give a section function its card heading (and anchor); the function itself stays `(con) -> html`."""

    def decorate(fn: SectionFn) -> SectionFn:
        fn.section_title = title  # type: ignore[attr-defined]
        fn.section_slug = slug or fn.__name__.replace("_", "-")  # type: ignore[attr-defined]
        return fn

    return decorate


# ---------------------------------------------------------------------------------------------- query helpers


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def mart_tables(con: duckdb.DuckDBPyConnection, schema: str = SCHEMA) -> list[str]:
    rows = con.execute(
        "select table_name from information_schema.tables where table_schema = ? order by table_name", [schema]
    ).fetchall()
    return [r[0] for r in rows]


def require_tables(con: duckdb.DuckDBPyConnection, *tables: str, schema: str = SCHEMA) -> None:
    """Raise MissingTable (shown as a note on the card) unless every `<schema>.<table>` exists."""
    present = set(mart_tables(con, schema))
    missing = [f"{schema}.{t}" for t in tables if t not in present]
    if missing:
        raise MissingTable(missing)


def month_span(months: Sequence[str]) -> list[str]:
    """Every month "YYYY-MM" from the first to the last given, so months without data show as gaps."""
    if not months:
        return []
    first, last = min(months), max(months)
    year, month = int(first[:4]), int(first[5:7])
    out = []
    while f"{year:04d}-{month:02d}" <= last:
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def table_html(headers: Sequence[str], rows: Sequence[Sequence[str]], numeric: Sequence[bool], foot: str = "") -> str:
    """An HTML table whose cells are already-escaped HTML (so a cell may carry a colour swatch)."""
    head = "".join(f'<th scope="col" class="{"num" if n else "txt"}">{esc(h)}</th>' for h, n in zip(headers, numeric))
    body = "".join(
        "<tr>" + "".join(f'<td class="{"num" if n else "txt"}">{c}</td>' for c, n in zip(row, numeric)) + "</tr>"
        for row in rows
    )
    return (
        f'<div class="table-wrap"><table class="data"><thead><tr>{head}</tr></thead><tbody>{body}</tbody>'
        f"{foot}</table></div>"
    )


def channel_cell(name: str | None) -> str:
    label = NOT_SET if name is None or not str(name).strip() else str(name)
    return f'<span class="swatch" style="background:{colour_for(label)}"></span>{esc(label)}'


def note(text: str, warn: bool = False) -> str:
    return f'<p class="note{" warn" if warn else ""}">{esc(text)}</p>'


# ---------------------------------------------------------------------------------------------- overview


@section("Tables in the serving file", slug="row-counts")
def row_counts(con: duckdb.DuckDBPyConnection) -> str:
    tables = mart_tables(con)
    if not tables:
        return f'<p class="empty">No tables in schema {esc(SCHEMA)} yet.</p>'
    rows = []
    total = 0
    for name in tables:
        n = con.execute(f"select count(*) from {quote_ident(SCHEMA)}.{quote_ident(name)}").fetchone()[0]
        total += n
        rows.append([f"<code>{esc(SCHEMA)}.{esc(name)}</code>", esc(format_value(n))])
    foot = (
        f'<tfoot><tr><td class="txt">{len(tables)} tables</td><td class="num">{esc(format_value(total))}</td>'
        "</tr></tfoot>"
    )
    return table_html(["table", "rows"], rows, [False, True], foot=foot)


@section("Touchpoints by channel and month", slug="touchpoints-by-month")
def touchpoints_by_month(con: duckdb.DuckDBPyConnection) -> str:
    require_tables(con, "fct_touchpoints")
    rows = con.execute(
        f"""
        select strftime(date_trunc('month', occurred_at), '%Y-%m') as month,
               coalesce(nullif(trim(channel), ''), '{NOT_SET}') as channel,
               count(*) as touchpoints
        from {SCHEMA}.fct_touchpoints
        where occurred_at is not null
        group by 1, 2
        order by 1, 2
        """
    ).fetchall()
    months = month_span([r[0] for r in rows])
    total = sum(r[2] for r in rows)
    chart = stacked_bar_chart(
        rows,
        title="Touchpoints per month, stacked by channel",
        x_label="month",
        y_label="touchpoints",
        x_order=months,
        empty_note="No touchpoints yet.",
    )
    summary = (
        note(f"{format_value(total)} touchpoints from {months[0]} to {months[-1]}, by channel.")
        if rows
        else ""
    )
    return summary + chart


@section("Won revenue by lead source channel and month", slug="won-revenue-by-month")
def won_revenue_by_month(con: duckdb.DuckDBPyConnection) -> str:
    require_tables(con, "fct_conversions")
    rows = con.execute(
        f"""
        select strftime(date_trunc('month', converted_at), '%Y-%m') as month,
               coalesce(nullif(trim(source_channel), ''), '{NOT_SET}') as source_channel,
               sum(value) as revenue,
               count(*) as deals
        from {SCHEMA}.fct_conversions
        where conversion_type = 'deal_won' and converted_at is not null
        group by 1, 2
        order by 1, 2
        """
    ).fetchall()
    months = month_span([r[0] for r in rows])
    chart = stacked_bar_chart(
        [(m, c, v) for m, c, v, _ in rows],
        title="Won revenue per month (base currency), stacked by the lead's CRM source channel",
        x_label="month won",
        y_label="won revenue",
        x_order=months,
        kind="money",
        empty_note="No won deals yet.",
    )
    if not rows:
        return chart
    revenue = sum(r[2] or 0.0 for r in rows)
    deals = sum(r[3] for r in rows)
    summary = note(
        f"{format_value(deals)} won deals worth {format_value(revenue, 'money')} (base currency) "
        f"from {months[0]} to {months[-1]}."
    )
    return summary + chart


@section("Top campaigns by touchpoints", slug="top-campaigns")
def top_campaigns(con: duckdb.DuckDBPyConnection) -> str:
    require_tables(con, "dim_campaigns")
    rows = con.execute(
        f"""
        select utm_source, utm_medium, utm_campaign, channel, touchpoints, spend
        from {SCHEMA}.dim_campaigns
        order by touchpoints desc nulls last, spend desc nulls last, utm_campaign
        limit 15
        """
    ).fetchall()
    if not rows:
        return '<p class="empty">No campaigns yet.</p>'

    def text(value: object) -> str:
        return esc(value) if value not in (None, "") else '<span class="note">—</span>'

    body = [
        [
            text(source),
            text(medium),
            text(campaign),
            channel_cell(channel),
            esc(format_value(touchpoints)),
            esc(format_value(spend, "money")),
        ]
        for source, medium, campaign, channel, touchpoints, spend in rows
    ]
    return note(f"The {len(rows)} campaigns with the most touchpoints; spend in base currency.") + table_html(
        ["utm_source", "utm_medium", "utm_campaign", "channel", "touchpoints", "spend"],
        body,
        [False, False, False, False, True, True],
    )


OVERVIEW = Page(
    slug="overview",
    title="Overview",
    intro="What the last run published: table sizes, touchpoints and won revenue over time, the busiest campaigns.",
    sections=(row_counts, touchpoints_by_month, won_revenue_by_month, top_campaigns),
)

def _pages() -> list[Page]:
    """The report, in nav order. Later pages (attribution, customers) are added here. Page modules import the
    helpers above, so they are imported here, once those exist."""
    from orchestration.lib.report.attribution import ATTRIBUTION
    from orchestration.lib.report.customers import CUSTOMERS
    from orchestration.lib.report.funnel import FUNNEL
    from orchestration.lib.report.quality import QUALITY

    return [OVERVIEW, ATTRIBUTION, FUNNEL, CUSTOMERS, QUALITY]


PAGES: list[Page] = _pages()


# ---------------------------------------------------------------------------------------------- rendering


def render_section(fn: SectionFn, con: duckdb.DuckDBPyConnection | None, page_slug: str) -> str:
    title = getattr(fn, "section_title", fn.__name__.replace("_", " ").capitalize())
    slug = getattr(fn, "section_slug", fn.__name__.replace("_", "-"))
    if con is None:
        inner = note("No serving file yet: nothing has been published.", warn=True)
    else:
        try:
            inner = fn(con)
        except MissingTable as exc:
            inner = note(
                f"Not available yet: {', '.join(exc.tables)} is not in the serving file.", warn=True
            )
        except Exception as exc:  # a broken section must not break the report or the run
            log.warning("report section %s failed: %s", slug, exc, exc_info=True)
            inner = note(f"This section could not be drawn: {type(exc).__name__}: {exc}", warn=True)
    return f'<section class="card" id="{esc(page_slug)}-{esc(slug)}"><h3>{esc(title)}</h3>{inner}</section>'


def render_page(page: Page, con: duckdb.DuckDBPyConnection | None, lead: str = "") -> str:
    """A page: heading, intro, `lead` (e.g. the run summary on the first page), then its sections."""
    intro = f'<p class="intro">{esc(page.intro)}</p>' if page.intro else ""
    sections = "".join(render_section(fn, con, page.slug) for fn in page.sections)
    return (
        f'<section class="page" id="{esc(page.slug)}"><h2>{esc(page.title)}</h2>{intro}{lead}{sections}</section>'
    )
