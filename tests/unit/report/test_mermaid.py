"""Mermaid charts: the data keeps every point; the chart says how it drew a long line."""

from __future__ import annotations

from jx_mlops.compare.charts import curve_chart
from jx_mlops.report.mermaid import drawable, legend, render_chart


def test_a_long_line_over_steps_skips_points_and_says_so() -> None:
    points = [(float(step), 1 / (step + 1)) for step in range(300)]
    chart = curve_chart("loss", "step", "loss", [("base main", points), ("head pr", points)])
    assert chart is not None and len(chart.series[0].x) == 300  # the data: every point
    block = render_chart(chart)
    assert block.count("line [") == 2
    assert len(block.split("line [")[1].split("]")[0].split(", ")) == 25
    assert legend(chart) == ("first line: base main; second line: head pr; every 12th point "
                             "(25 of 300)")


def test_uneven_x_values_are_interpolated_and_said_to_be() -> None:
    chart = curve_chart("ROC", "fpr", "tpr", [("base", [(0, 0), (0.2, 0.6), (1, 1)])])
    assert chart is not None and chart.series[0].y == (0, 0.6, 1)
    assert "line [0, 0.75, 1]" in render_chart(chart)
    assert legend(chart) == "drawn at 3 evenly spaced fpr values, interpolated (the data: 3 " \
                            "points)"


def test_a_scatter_is_not_drawn_as_a_line() -> None:
    chart = curve_chart("points", "x", "y", [("base", [(0, 1), (1, 0)])], kind="scatter")
    assert chart is not None and not drawable(chart)
