"""What one live redraw of the Train page's charts costs the server and the network.

Draws both live pictures (`live_charts.live_curves_svg`, loss and accuracy: what the page sends about
2.5 times a second while a run trains) and both Plotly figures (`curve_charts.training_curves`, serialised
to JSON as `st.plotly_chart` does: what the page shows once the run ends) from the events of runs of
several lengths. Prints the milliseconds (median of `--repeats`) and the bytes sent.
`--curve-charts FILE` loads another version of curve_charts.py instead, to compare before and after a
change.

    python bench/chart_cost.py [--curve-charts path/to/curve_charts.py] [--repeats 20]
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import time

from _common import machine, result_line

STEPS_PER_EPOCH = 469  # 60,000 images in batches of 128
RUN_EPOCHS = (1, 10, 50)


def load_curve_charts(path: str | None):
    if path is None:
        from digitlab import curve_charts

        return curve_charts
    spec = importlib.util.spec_from_file_location("curve_charts_under_test", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_events(epochs: int) -> tuple[list[dict], list[dict]]:
    """Batch and epoch events shaped like LiveProgress's, for a run of `epochs` epochs."""
    steps = epochs * STEPS_PER_EPOCH
    batches = [
        {
            "progress": (i + 1) / STEPS_PER_EPOCH,
            "loss": 2.3 / (1 + i / 50),
            "accuracy": 1 - 0.9 / (1 + i / 50),
        }
        for i in range(steps)
    ]
    ends = [
        {"epoch": e + 1, "progress": float(e + 1), "loss": 0.1, "accuracy": 0.97, "val_loss": 0.12}
        | {"val_accuracy": 0.965}
        for e in range(epochs)
    ]
    return batches, ends


def plotly_redraw(curve_charts, batches, ends, epochs: int) -> int:
    return sum(len(curve_charts.training_curves(batches, ends, m).to_json()) for m in curve_charts.METRICS)


def live_redraw(curve_charts, batches, ends, epochs: int) -> int:
    """The pictures the Train page sends while a run trains (live_charts.py): what is drawn twice a second."""
    from digitlab import live_charts

    return sum(len(live_charts.live_curves_svg(batches, ends, m, epochs)) for m in curve_charts.METRICS)


def median_ms(draw, *args, repeats: int) -> tuple[float, int]:
    size = draw(*args)  # warm-up
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        draw(*args)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), size


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--curve-charts", help="path of a curve_charts.py to measure instead of digitlab.curve_charts"
    )
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    curve_charts = load_curve_charts(args.curve_charts)

    print(f"machine: {machine()}")
    print(f"curve charts: {args.curve_charts or 'digitlab.curve_charts'}")
    print(f"{'run':>10} {'events':>8} {'chart':>14} {'redraw ms':>10} {'bytes sent':>11}")
    for epochs in RUN_EPOCHS:
        batches, ends = run_events(epochs)
        for name, draw in (("Plotly, at end", plotly_redraw), ("live SVG", live_redraw)):
            ms, size = median_ms(draw, curve_charts, batches, ends, epochs, repeats=args.repeats)
            print(f"{epochs:>4} epochs {len(batches):>8} {name:>14} {ms:10.1f} {size:11,}")
    print(result_line("live charts: one redraw of a 50-epoch run", f"{ms:.1f} ms, {size:,} bytes"))


if __name__ == "__main__":
    main()
