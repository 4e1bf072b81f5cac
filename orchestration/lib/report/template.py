"""The page shell of the report: inline CSS, header, run summary, nav. Nothing is loaded from outside the file."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from orchestration.lib.report.charts import FONT_STACK, esc, format_value

CSS = f"""
:root {{ color-scheme: light; --ink: #1F2937; --muted: #6B7280; --line: #E5E7EB; --bg: #F5F6F8; --card: #FFFFFF;
  --accent: #0072B2; }}
* {{ box-sizing: border-box; }}
html {{ scroll-behavior: smooth; scroll-padding-top: 56px; }}
body {{ margin: 0; background: var(--bg); color: var(--ink); font: 14px/1.5 {FONT_STACK};
  -webkit-font-smoothing: antialiased; }}
header.top {{ background: #111827; color: #F9FAFB; padding: 20px 0 16px; }}
.wrap {{ max-width: 1000px; margin: 0 auto; padding: 0 20px; }}
header.top h1 {{ margin: 0; font-size: 22px; font-weight: 650; letter-spacing: -0.01em; }}
header.top p {{ margin: 4px 0 0; color: #D1D5DB; font-size: 13px; }}
nav.pages {{ position: sticky; top: 0; z-index: 2; background: #FFFFFFEE; border-bottom: 1px solid var(--line);
  backdrop-filter: blur(4px); }}
nav.pages ul {{ list-style: none; margin: 0 auto; padding: 0 20px; max-width: 1000px; display: flex; gap: 4px;
  flex-wrap: wrap; }}
nav.pages a {{ display: inline-block; padding: 10px 12px; color: var(--ink); text-decoration: none;
  font-weight: 550; border-bottom: 2px solid transparent; }}
nav.pages a:hover, nav.pages a:focus {{ border-bottom-color: var(--accent); color: var(--accent); }}
main {{ padding: 8px 0 40px; }}
section.page > h2 {{ font-size: 20px; margin: 28px 0 4px; letter-spacing: -0.01em; }}
section.page > p.intro {{ margin: 0 0 12px; color: var(--muted); }}
section.card {{ background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 16px 20px;
  margin: 14px 0; }}
section.card > h3 {{ margin: 0 0 10px; font-size: 16px; font-weight: 650; }}
section.card.banner {{ border: 2px solid #F59E0B; background: #FFFBEB; margin-top: 20px; }}
.note {{ color: var(--muted); margin: 6px 0; }}
.note.warn {{ color: #92400E; background: #FFFBEB; border: 1px solid #FDE68A; border-radius: 6px; padding: 8px 12px; }}
p.empty {{ color: var(--muted); background: #F9FAFB; border: 1px dashed #D1D5DB; border-radius: 6px;
  padding: 18px; text-align: center; margin: 4px 0; }}
figure.chart {{ margin: 0; }}
figure.chart figcaption {{ font-weight: 600; font-size: 13px; color: var(--muted); margin: 0 0 6px; }}
svg.chart-svg {{ display: block; width: 100%; height: auto; max-width: 100%; }}
svg.chart-svg text {{ font-family: inherit; }}
svg.chart-svg rect.bar:hover, svg.chart-svg rect.cell:hover {{ opacity: 0.8; }}
details.chart-data {{ margin-top: 6px; font-size: 13px; }}
details.chart-data summary {{ cursor: pointer; color: var(--accent); }}
.table-wrap {{ overflow-x: auto; }}
table.data {{ border-collapse: collapse; width: 100%; font-size: 13px; font-variant-numeric: tabular-nums;
  margin: 6px 0; }}
table.data th, table.data td {{ padding: 5px 10px; border-bottom: 1px solid var(--line); text-align: left;
  white-space: nowrap; }}
table.data thead th {{ font-weight: 600; color: var(--muted); border-bottom: 2px solid var(--line); }}
table.data .num {{ text-align: right; }}
table.data tbody th {{ font-weight: 500; }}
table.data tbody tr:hover {{ background: #F9FAFB; }}
table.data tfoot td {{ font-weight: 600; border-top: 2px solid var(--line); border-bottom: 0; }}
.swatch {{ display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px;
  vertical-align: baseline; }}
.run {{ display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 8px 24px; }}
dl.kv {{ display: grid; grid-template-columns: max-content 1fr; gap: 4px 14px; margin: 0; }}
dl.kv dt {{ color: var(--muted); }}
dl.kv dd {{ margin: 0; font-variant-numeric: tabular-nums; overflow-wrap: anywhere; }}
code {{ font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, 'DejaVu Sans Mono', monospace; font-size: 12px;
  background: #F3F4F6; padding: 1px 5px; border-radius: 4px; }}
ul.chips {{ list-style: none; padding: 0; margin: 0; display: flex; flex-wrap: wrap; gap: 4px; }}
footer {{ color: var(--muted); font-size: 12px; padding: 20px 0 30px; }}
@media (max-width: 720px) {{ .run {{ grid-template-columns: 1fr; }} }}
@media print {{ nav.pages {{ display: none; }} section.card {{ break-inside: avoid; }}
  details.chart-data {{ display: none; }} }}
"""


def render_run_summary(run_summary: Mapping[str, object] | None) -> str:
    """The last run, as the orchestrator reported it: id, finish time, rows loaded per source, marts built."""
    if not run_summary:
        return ""
    scalars = [
        (key, value)
        for key, value in run_summary.items()
        if key not in ("rows_loaded", "marts") and not isinstance(value, (Mapping, list, tuple, set))
    ]
    facts = "".join(f"<dt>{esc(k.replace('_', ' '))}</dt><dd>{esc(v)}</dd>" for k, v in scalars)
    left = f'<dl class="kv">{facts}</dl>' if facts else ""

    rows_loaded = run_summary.get("rows_loaded")
    if isinstance(rows_loaded, Mapping) and rows_loaded:
        body = "".join(
            f'<tr><th scope="row" class="txt">{esc(name)}</th><td class="num">{esc(_count(n))}</td></tr>'
            for name, n in rows_loaded.items()
        )
        left += (
            '<table class="data"><thead><tr><th scope="col" class="txt">source</th>'
            f'<th scope="col" class="num">rows loaded</th></tr></thead><tbody>{body}</tbody></table>'
        )
    marts = run_summary.get("marts")
    right = ""
    if isinstance(marts, (list, tuple)) and marts:
        chips = "".join(f"<li><code>{esc(m)}</code></li>" for m in marts)
        right = f'<p class="note">Marts built ({len(marts)}):</p><ul class="chips">{chips}</ul>'
    return (
        '<section class="card" id="run-summary"><h3>Last run</h3>'
        f'<div class="run"><div>{left}</div><div>{right}</div></div></section>'
    )


def _count(value: object) -> str:
    return format_value(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else str(value)


def render_document(
    *,
    title: str,
    subtitle: str,
    nav: Sequence[tuple[str, str]],
    body: str,
    footer: str,
) -> str:
    links = "".join(f'<li><a href="#{esc(anchor)}">{esc(label)}</a></li>' for anchor, label in nav)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
        f'<header class="top"><div class="wrap"><h1>{esc(title)}</h1><p>{esc(subtitle)}</p></div></header>'
        f'<nav class="pages" aria-label="Report pages"><ul>{links}</ul></nav>'
        f'<main class="wrap">{body}</main>'
        f'<footer class="wrap">{esc(footer)}</footer>'
        "</body></html>\n"
    )
