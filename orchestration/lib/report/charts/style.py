"""The charts' look: a colour-blind-friendly palette (Okabe & Ito plus Paul Tol's muted set) with a fixed colour
per channel name (docs/marts.md *Channels*), so a channel looks the same on every chart, and a colour from a stable
hash for other names; the font stack, the greys of text, grid and axes, and the glyph width and label lengths that
layout estimates use."""

from __future__ import annotations

import zlib
from collections.abc import Sequence

FONT_STACK = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, 'Liberation Sans', sans-serif"

# Twelve colours that stay apart for the common colour-vision deficiencies.
PALETTE: tuple[str, ...] = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#D55E00",  # vermillion
    "#332288",  # indigo
    "#DDCC77",  # sand
    "#882255",  # wine
    "#44AA99",  # teal
    "#999933",  # olive
    "#6F6F6F",  # dark grey
)
NEUTRAL = "#BBBBBB"
NOT_SET = "(not set)"

# The channels of docs/marts.md *Channels* keep these colours on every chart and every page.
CHANNEL_COLOURS: dict[str, str] = {
    "paid_search": "#0072B2",
    "paid_social": "#CC79A7",
    "display": "#E69F00",
    "email": "#009E73",
    "affiliate": "#882255",
    "organic_social": "#56B4E9",
    "organic_search": "#332288",
    "referral": "#D55E00",
    "events": "#DDCC77",
    "direct": "#6F6F6F",
    "other": NEUTRAL,
    "(not set)": "#999933",
}


TEXT = "#374151"
MUTED = "#6B7280"
GRID = "#E5E7EB"
AXIS = "#9CA3AF"
CHAR_W = 6.4  # average glyph width at the 11px axis font, for layout estimates
LEGEND_MAX_CHARS = 24
LABEL_MAX_CHARS = 28


def _channel_key(name: str) -> str:
    return "_".join(name.strip().lower().replace("-", " ").split())


_FIXED = {_channel_key(k): v for k, v in CHANNEL_COLOURS.items()}


def colour_for(name: str) -> str:
    """The colour of a category: fixed for the docs/marts.md *Channels* channels, otherwise from a stable hash of its
    name."""
    key = _channel_key(name)
    if key in _FIXED:
        return _FIXED[key]
    return PALETTE[zlib.crc32(key.encode("utf-8")) % len(PALETTE)]


def colours_for(names: Sequence[str]) -> dict[str, str]:
    """Colours for the categories of one chart: channels keep their fixed colour; a hashed name whose colour is
    already taken in this chart moves to the next free palette colour (so no two categories look alike)."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for name in names:
        if _channel_key(name) in _FIXED:
            out[name] = _FIXED[_channel_key(name)]
            used.add(out[name])
    for name in names:
        if name in out:
            continue
        colour = colour_for(name)
        if colour in used:
            start = PALETTE.index(colour)
            free = [PALETTE[(start + i) % len(PALETTE)] for i in range(1, len(PALETTE))]
            colour = next((c for c in free if c not in used), colour)
        out[name] = colour
        used.add(colour)
    return out


def mix_colours(a: str, b: str, t: float) -> str:
    ca = [int(a[i : i + 2], 16) for i in (1, 3, 5)]
    cb = [int(b[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(x + (y - x) * t):02X}" for x, y in zip(ca, cb, strict=False))
