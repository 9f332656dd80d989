"""The Train page's live curves as small SVG pictures, redrawn two or three times a second while a run trains.

A Plotly figure costs the watching browser tens of milliseconds of CPU at every redraw, and a teacher's
browser often runs on the machine that trains: measured with two charts at 2.5 redraws a second, Plotly
took a quarter of a core, these pictures a twentieth (bench/live_curves.py). Nobody can hover or zoom a
chart that changes twice a second anyway, so while a run trains the page shows these, and once it ends
the interactive Plotly figures (`curve_charts.training_curves`), with the same colours, axes and legend.

Pure functions from numbers to SVG text; every text is escaped, though none of it comes from a user.
"""

from __future__ import annotations

import math
from xml.sax.saxutils import escape, quoteattr

import numpy as np

from digitlab.charts import BLUE, INK, MUTED, SKY, VERMILLION
from digitlab.curve_charts import METRICS, epoch_x, rate_series, thin_points

WIDTH, HEIGHT = 460, 340
LEFT, RIGHT, TOP, BOTTOM = 70, 16, 76, 58  # the plot area's margins: ticks, titles, a two-row legend
FONT = "font-family:'Source Sans Pro',sans-serif;fill:" + INK
TICK_SIZE, TITLE_SIZE, LEGEND_SIZE = 16, 18, 16
GRID = "#E6E9ED"
# name, colour, line width, dash, marker ("" for none): as curve_charts.training_curves draws them
SERIES = (
    ("Training, each batch", SKY, 1.5, "", ""),
    ("Training, end of epoch", BLUE, 3, "", "circle"),
    ("Validation", VERMILLION, 3, "9 6", "diamond"),
)
RATE = ("Learning rate", MUTED, 2, "2 4", "")  # drawn against the plot's height, the largest rate at
RATE_HEIGHT = 0.85  # 85 % of it: clear of the top edge, so a flat rate still shows


def nice_ticks(low: float, high: float, count: int = 5) -> np.ndarray:
    """About `count` round tick values (steps of 1, 2 or 5 times a power of ten) from `low` to `high`."""
    if not high > low:
        high = low + 1.0
    raw = (high - low) / max(count, 1)
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw * 0.999)
    first = math.ceil(low / step - 1e-9) * step
    return np.round(np.arange(first, high + step * 1e-6, step), 10)


def tick_label(value: float, step: float, percent: bool) -> str:
    """'0.25', '3' or '97.5%': as many decimals as the step needs, so neighbouring ticks never read alike."""
    if percent:
        value, step = value * 100, step * 100
    decimals = max(0, -math.floor(math.log10(step) + 1e-9)) if step > 0 else 0
    return f"{value:.{decimals}f}" + ("%" if percent else "")


def value_range(values: np.ndarray, metric: str) -> tuple[float, float]:
    """The y range: loss from zero up, accuracy around its values; 5 % to spare at the open ends."""
    if not len(values):
        return (0.0, 1.0)
    low, high = float(np.min(values)), float(np.max(values))
    if metric == "loss":
        return (0.0, high * 1.05 if high > 0 else 1.0)
    if high == low:  # a flat line: a small band around it
        return (max(0.0, low - 0.005), min(1.0, high + 0.005))
    spare = (high - low) * 0.05
    return (max(0.0, low - spare), min(1.0, high + spare))


def _finite(value) -> bool:
    """A number to draw: a diverged batch's NaN or infinity is left out, as Plotly leaves it out."""
    return value is not None and math.isfinite(value)


def series(batch_events: list[dict], epoch_events: list[dict], metric: str, max_points: int = 300):
    """The three curves as (x, y) arrays: per batch (at most `max_points`), end of epoch, validation."""
    # Thin the events before reading them: a 50-epoch run has tens of thousands.
    keep, _ = thin_points(np.arange(len(batch_events)), np.arange(len(batch_events)), max_points)
    kept = (batch_events[i] for i in keep)
    batches = [(e["progress"], e[metric]) for e in kept if _finite(e.get(metric))]
    curves = [tuple(np.array(v, dtype=float) for v in zip(*batches, strict=True)) if batches else ([], [])]
    for key in (metric, f"val_{metric}"):
        points = [(epoch_x(e), e[key]) for e in epoch_events if _finite(e.get(key))]
        curves.append(
            tuple(np.array(v, dtype=float) for v in zip(*points, strict=True)) if points else ([], [])
        )
    return [(np.asarray(x, dtype=float), np.asarray(y, dtype=float)) for x, y in curves]


def _text(x: float, y: float, text: str, size: int, anchor: str = "middle", extra: str = "") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
        f'style="{FONT}"{extra}>{escape(text)}</text>'
    )


def _marker(kind: str, x: float, y: float, colour: str) -> str:
    if kind == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5.5" fill="{colour}"/>'
    r = 7.0  # a diamond: a square on its corner
    corners = f"M{x:.1f} {y - r:.1f}L{x + r:.1f} {y:.1f}L{x:.1f} {y + r:.1f}L{x - r:.1f} {y:.1f}Z"
    return f'<path d="{corners}" fill="{colour}"/>'


def _legend(shown: list[tuple]) -> list[str]:
    """One row of swatches and names above the plot, wrapped onto a second row when it is too wide."""
    parts, x, y = [], 8.0, 22.0
    for name, colour, width, dash, marker in shown:
        item = 46 + len(name) * LEGEND_SIZE * 0.5 + 18  # swatch, text (average glyph 0.5 em), gap
        if x + item > WIDTH and x > 8:
            x, y = 8.0, y + 26
        stroke = f'stroke="{colour}" stroke-width="{width}"' + (f' stroke-dasharray="{dash}"' if dash else "")
        parts.append(f'<line x1="{x:.1f}" x2="{x + 36:.1f}" y1="{y:.1f}" y2="{y:.1f}" {stroke}/>')
        if marker:
            parts.append(_marker(marker, x + 18, y, colour))
        parts.append(_text(x + 44, y + 5.5, name, LEGEND_SIZE, "start"))
        x += item
    return parts


def live_curves_svg(
    batch_events: list[dict],
    epoch_events: list[dict],
    metric: str,
    epochs: int,
    max_points: int = 300,
    show_rate: bool = False,
) -> str:
    """The live chart of `metric` for a run of `epochs` epochs, as one <svg> element.

    The x axis spans the whole run, so the curves grow from left to right as it trains. The element
    says how many per-batch points it holds (data-batch-points) and, for screen readers, the latest values.
    With `show_rate`, the loss chart also draws the learning rate, its largest value at the top.
    """
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")
    curves = series(batch_events, epoch_events, metric, max_points)
    percent = metric == "accuracy"
    low, high = value_range(np.concatenate([y for _, y in curves]), metric)
    y_ticks = nice_ticks(low, high)
    low, high = min(low, float(y_ticks[0])), max(high, float(y_ticks[-1]))
    x_high = float(max(epochs, 1))
    x_ticks = nice_ticks(0.0, x_high, count=min(6, max(2, int(x_high))))
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def px(x):
        return LEFT + np.asarray(x, dtype=float) / x_high * inner_w

    def py(y):
        return TOP + (high - np.asarray(y, dtype=float)) / (high - low) * inner_h

    parts = [f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>']
    y_step = float(y_ticks[1] - y_ticks[0]) if len(y_ticks) > 1 else 1.0
    for value in y_ticks:
        y = float(py(value))
        colour = MUTED if value == 0 and metric == "loss" else GRID
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="{colour}"/>')
        parts.append(_text(LEFT - 8, y + 5.5, tick_label(value, y_step, percent), TICK_SIZE, "end"))
    x_step = float(x_ticks[1] - x_ticks[0]) if len(x_ticks) > 1 else 1.0
    for value in x_ticks:
        x = float(px(value))
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{HEIGHT - BOTTOM}" stroke="{GRID}"/>')
        parts.append(_text(x, HEIGHT - BOTTOM + 22, tick_label(value, x_step, False), TICK_SIZE))
    parts.append(_text(LEFT + inner_w / 2, HEIGHT - 10, "Epochs", TITLE_SIZE))
    title = metric.capitalize()
    parts.append(
        _text(
            20,
            TOP + inner_h / 2,
            title,
            TITLE_SIZE,
            extra=f' transform="rotate(-90 20 {TOP + inner_h / 2:.1f})"',
        )
    )

    shown = []
    for (xs, ys), (name, colour, width, dash, marker) in zip(curves, SERIES, strict=True):
        if not len(xs):
            continue
        shown.append((name, colour, width, dash, marker))
        points = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(px(xs), py(ys), strict=True))
        style = f'stroke="{colour}" stroke-width="{width}"' + (f' stroke-dasharray="{dash}"' if dash else "")
        parts.append(f'<polyline fill="none" stroke-linejoin="round" {style} points="{points}"/>')
        if marker:
            parts.extend(_marker(marker, x, y, colour) for x, y in zip(px(xs), py(ys), strict=True))
    keep, _ = thin_points(np.arange(len(batch_events)), np.arange(len(batch_events)), max_points)
    rate_x, rate_y = rate_series([batch_events[i] for i in keep])
    if show_rate and metric == "loss" and rate_x:
        top = max(rate_y) or 1.0
        name, colour, width, dash, marker = RATE
        shown.append((f"{name} (top: {top:.2g})", colour, width, dash, marker))
        ys = TOP + (1 - RATE_HEIGHT * np.asarray(rate_y) / top) * inner_h
        points = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(px(rate_x), ys, strict=True))
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="{width}" stroke-dasharray="{dash}" '
            f'points="{points}" data-series="learning-rate"/>'
        )
    parts.extend(_legend(shown))
    if not shown:
        parts.append(_text(LEFT + inner_w / 2, TOP + inner_h / 2, "Waiting for the first batch…", TITLE_SIZE))

    label = describe(curves, metric)
    batch_points = len(curves[0][0])
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" '
        f'role="img" aria-label={quoteattr(label)} data-metric="{metric}" data-batch-points="{batch_points}" '
        f'data-last-progress="{float(curves[0][0][-1]) if batch_points else 0:.4f}">'
        f"<title>{escape(label)}</title>{''.join(parts)}</svg>"
    )


def describe(curves, metric: str) -> str:
    """The chart in words, for screen readers: the latest value of each curve."""
    fmt = "{:.1%}" if metric == "accuracy" else "{:.3f}"
    said = [
        f"{name.lower()} {fmt.format(ys[-1])} at epoch {xs[-1]:.2f}"
        for (xs, ys), (name, *_) in zip(curves, SERIES, strict=True)
        if len(xs)
    ]
    return f"{metric.capitalize()} while training: " + ("; ".join(said) if said else "no batch yet") + "."
