"""Static SVG bar charts for the PDF, written by hand (no browser, no kaleido, no JavaScript).

Labels are user text (project names, regions): every string is XML-escaped here, and the chart reaches
the page as a `data:` URI image, so it cannot add markup to the report nor fetch anything.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from xml.sax.saxutils import escape

PALETTE = ("#1b5e20", "#66bb6a", "#0277bd", "#9e9e9e", "#f9a825", "#6d4c41")
FONT = "DejaVu Sans, sans-serif"


def _text(x: float, y: float, text: str, *, size: float = 9, anchor: str = "start", fill: str = "#222") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-family="{FONT}" font-size="{size}" text-anchor="{anchor}" '
        f'fill="{fill}">{escape(text)}</text>'
    )


def _fmt(value: float) -> str:
    return f"{value:,.1f}" if abs(value) >= 10 else f"{value:,.3f}"


def hbar_chart(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    unit: str,
    width: int = 640,
    label_width: int = 210,
) -> str:
    """Horizontal grouped bars: one group per label, one bar per series, value printed after the bar."""
    labels = [label[:48] for label in labels]
    bar, gap = 12, 10
    group = bar * len(series) + gap
    legend = 22 if len(series) > 1 else 0
    height = legend + group * max(1, len(labels)) + 24
    peak = max([v for _, values in series for v in values if v is not None] + [0.0]) or 1.0
    plot = width - label_width - 70
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
    ]
    for s, (name, _) in enumerate(series if len(series) > 1 else []):
        x = label_width + s * 150
        parts.append(f'<rect x="{x}" y="4" width="10" height="10" fill="{PALETTE[s % len(PALETTE)]}"/>')
        parts.append(_text(x + 14, 13, name, size=8.5))
    for i, label in enumerate(labels):
        top = legend + i * group
        parts.append(_text(label_width - 6, top + bar * len(series) / 2 + 3, label, size=8.5, anchor="end"))
        for s, (_, values) in enumerate(series):
            value = values[i] or 0.0
            length = max(0.0, value / peak * plot)
            y = top + s * bar
            colour = PALETTE[s % len(PALETTE)]
            parts.append(f'<rect x="{label_width}" y="{y}" width="{length:.1f}" height="{bar - 2}" fill="{colour}"/>')
            parts.append(_text(label_width + length + 4, y + bar - 4, _fmt(value), size=7.5, fill="#444"))
    axis_y = legend + group * max(1, len(labels))
    parts.append(f'<line x1="{label_width}" y1="{legend}" x2="{label_width}" y2="{axis_y}" stroke="#888"/>')
    parts.append(_text(label_width, axis_y + 14, f"{unit}", size=8, fill="#555"))
    parts.append("</svg>")
    return "".join(parts)


def stacked_columns(
    categories: Sequence[str], series: Sequence[tuple[str, Sequence[float]]], *, unit: str, width: int = 640
) -> str:
    """Vertical stacked columns (e.g. months × scopes) with a legend."""
    height, left, bottom, top = 220, 56, 34, 26
    plot_w, plot_h = width - left - 10, height - top - bottom
    totals = [sum((values[i] or 0.0) for _, values in series) for i in range(len(categories))]
    peak = max(totals + [0.0]) or 1.0
    step = plot_w / max(1, len(categories))
    col = min(36.0, step * 0.7)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
    ]
    for s, (name, _) in enumerate(series):
        x: float = left + s * 150
        parts.append(f'<rect x="{x}" y="4" width="10" height="10" fill="{PALETTE[s % len(PALETTE)]}"/>')
        parts.append(_text(x + 14, 13, name, size=8.5))
    for tick in range(5):
        value = peak * tick / 4
        y = top + plot_h - plot_h * tick / 4
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - 10}" y2="{y:.1f}" stroke="#e0e0e0"/>')
        parts.append(_text(left - 4, y + 3, _fmt(value), size=7.5, anchor="end", fill="#555"))
    for i, category in enumerate(categories):
        x = left + i * step + (step - col) / 2
        base: float = top + plot_h
        for s, (_, values) in enumerate(series):
            h = (values[i] or 0.0) / peak * plot_h
            base -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{base:.1f}" width="{col:.1f}" height="{h:.1f}" '
                f'fill="{PALETTE[s % len(PALETTE)]}"/>'
            )
        parts.append(_text(x + col / 2, top + plot_h + 14, category[:10], size=7.5, anchor="middle"))
    parts.append(_text(left, height - 4, unit, size=8, fill="#555"))
    parts.append("</svg>")
    return "".join(parts)


def data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")
