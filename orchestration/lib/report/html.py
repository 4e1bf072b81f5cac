"""The report's HTML through Jinja2 with autoescaping: a value is escaped unless it is `Markup`.

Markup is what a template or a chart builder (`charts`, which escapes its own labels) returned; anything else —
a campaign name, a rejection reason — is text and gets escaped, so no caller has to remember to.
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

ENV = Environment(
    loader=PackageLoader("orchestration.lib.report", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
)

__all__ = ["Markup", "part", "render", "safe"]


def render(template: str, **context: Any) -> Markup:
    """A template of `templates/`, rendered: trusted HTML."""
    return Markup(ENV.get_template(template).render(**context))


def part(name: str, *args: Any, **kwargs: Any) -> Markup:
    """A macro of `templates/parts.html.j2` (note, empty, dash, channel_cell, table)."""
    return Markup(getattr(ENV.get_template("parts.html.j2").module, name)(*args, **kwargs))


def safe(*fragments: str) -> Markup:
    """Fragments already HTML (templates' and charts' output), joined: `+` on Markup would escape a plain str."""
    return Markup("".join(str(fragment) for fragment in fragments))
