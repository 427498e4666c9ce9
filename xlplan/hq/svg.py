"""Charts as inline SVG: HQ's web page draws them without any script or library.

`chart(c)` takes a consolidate.Chart (categories and named series) and returns an
<svg> element: bars for the first series, a line with markers for a second one (plan as
bars, actual as a line), value axis from zero, labels escaped.
"""
from __future__ import annotations

from html import escape

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 28, 46
COLOURS = ("#4e79a7", "#e15759", "#59a14f", "#f28e2b")


def _nice(top: float) -> float:
    if top <= 0:
        return 1.0
    magnitude = 10 ** len(str(int(top))) / 10
    for step in (1, 2, 2.5, 5, 10):
        if top <= step * magnitude:
            return step * magnitude
    return top


def _fmt(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 10 else f"{v:,.2f}".rstrip("0").rstrip(".")


def chart(c) -> str:
    n = max(len(c.categories), 1)
    numbers = [v for _, values in c.series for v in values if isinstance(v, (int, float))]
    top = _nice(max(numbers + [0.0]))
    bottom = min(numbers + [0.0])
    bottom = -_nice(-bottom) if bottom < 0 else 0.0
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / n

    def y(v: float) -> float:
        return TOP + plot_h * (top - v) / (top - bottom or 1)

    out = [f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {HEIGHT}" xmlns="http://www.w3.org/2000/svg">',
           f'<title>{escape(c.title)}</title>',
           f'<text x="{LEFT}" y="16" class="chart-title">{escape(c.title)}</text>']
    for k in range(5):
        v = bottom + (top - bottom) * k / 4
        out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(v):.1f}" y2="{y(v):.1f}" class="grid"/>'
                   f'<text x="{LEFT - 6}" y="{y(v) + 4:.1f}" text-anchor="end" class="tick">{_fmt(v)}</text>')
    for i, label in enumerate(c.categories):
        x = LEFT + step * (i + 0.5)
        out.append(f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" class="tick">'
                   f'{escape(str(label)[:10])}</text>')
    for s, (name, values) in enumerate(c.series):
        colour = COLOURS[s % len(COLOURS)]
        if s == 0:  # bars
            w = step * 0.6
            for i, v in enumerate(values):
                if isinstance(v, (int, float)):
                    y0, y1 = sorted((y(0), y(v)))
                    out.append(f'<rect x="{LEFT + step * i + (step - w) / 2:.1f}" y="{y0:.1f}" width="{w:.1f}" '
                               f'height="{max(y1 - y0, 0.5):.1f}" fill="{colour}"><title>{escape(str(c.categories[i]))}'
                               f': {_fmt(v)}</title></rect>')
        else:  # a line over the months that have a value, with a marker on each
            points = [(LEFT + step * (i + 0.5), y(v)) for i, v in enumerate(values) if isinstance(v, (int, float))]
            if len(points) > 1:
                path = " ".join(f"{x:.1f},{yy:.1f}" for x, yy in points)
                out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2.5"/>')
            for (x, yy), v in zip(points, [v for v in values if isinstance(v, (int, float))]):
                out.append(f'<circle cx="{x:.1f}" cy="{yy:.1f}" r="4" fill="{colour}"><title>{escape(name)}: '
                           f'{_fmt(v)}</title></circle>')
        lx = WIDTH - RIGHT - 140 * (len(c.series) - s)
        out.append(f'<rect x="{lx}" y="6" width="12" height="12" fill="{colour}"/>'
                   f'<text x="{lx + 16}" y="16" class="tick">{escape(name)}</text>')
    out.append("</svg>")
    return "".join(out)
