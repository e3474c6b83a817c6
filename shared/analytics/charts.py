"""A small line chart of one series per day, as hand-written SVG (no plotting stack), to embed anywhere."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from xml.sax.saxutils import escape

WIDTH, HEIGHT = 600, 200
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 28, 28


def line_chart(title: str, days: Sequence[date], values: Sequence[float]) -> str:
    """An SVG document: the title, the y axis from 0 to the largest value, one point per day, first and last day."""
    top = max([*values, 0]) or 1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(values) - 1, 1)
    points = " ".join(
        f"{LEFT + i * step:.1f},{TOP + plot_h - (v / top) * plot_h:.1f}" for i, v in enumerate(values)
    )
    first = days[0].isoformat() if days else ""
    last = days[-1].isoformat() if days else ""
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title, {chr(34): "&quot;"})}">',
        f"<title>{escape(title)}</title>",
        '<rect width="100%" height="100%" fill="#fff"/>',
        f'<text x="{LEFT}" y="18" font-family="sans-serif" font-size="13" fill="#222">{escape(title)}</text>',
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}" stroke="#999"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" stroke="#999"/>',
        f'<text x="{LEFT - 4}" y="{TOP + 4}" font-family="sans-serif" font-size="10" text-anchor="end">'
        f"{_number(top)}</text>",
        f'<text x="{LEFT - 4}" y="{TOP + plot_h}" font-family="sans-serif" font-size="10" text-anchor="end">0</text>',
        f'<text x="{LEFT}" y="{HEIGHT - 8}" font-family="sans-serif" font-size="10">{first}</text>',
        f'<text x="{WIDTH - RIGHT}" y="{HEIGHT - 8}" font-family="sans-serif" font-size="10" '
        f'text-anchor="end">{last}</text>',
        f'<polyline fill="none" stroke="#2563eb" stroke-width="2" points="{points}"/>',
        "</svg>",
    ]
    return "\n".join(parts)


def _number(value: float) -> str:
    return f"{value:g}"
