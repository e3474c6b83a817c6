"""CSV cells and SVG charts of the analytics, without I/O."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from shared.analytics.charts import line_chart
from shared.analytics.exports import CHUNK_ROWS, cell, lines


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@A1", "\tx", "\rx"])
def test_a_cell_starting_like_a_formula_is_quoted(value: str) -> None:
    assert cell(value) == "'" + value


@pytest.mark.parametrize(("value", "text"), [(None, ""), (3, "3"), ("plain", "plain"), (date(2026, 1, 2), "2026-01-02")])
def test_other_cells_are_left_alone(value: object, text: str) -> None:
    assert cell(value) == text


def test_a_long_export_comes_in_chunks_with_crlf_line_ends() -> None:
    chunks = list(lines(["n"], ([n] for n in range(CHUNK_ROWS * 2 + 1))))
    assert len(chunks) == 3
    assert chunks[0].startswith("n\r\n0\r\n")
    assert "".join(chunks).count("\r\n") == CHUNK_ROWS * 2 + 2


def test_a_chart_scales_to_its_largest_value_and_escapes_its_title() -> None:
    days = [date(2026, 11, 1) + timedelta(days=n) for n in range(3)]
    svg = line_chart("a <b> & c", days, [0, 5, 10])
    assert "<title>a &lt;b&gt; &amp; c</title>" in svg
    assert 'points="48.0,172.0 318.0,100.0 588.0,28.0"' in svg
    assert ">2026-11-01<" in svg and ">2026-11-03<" in svg


def test_an_empty_chart_is_still_a_chart() -> None:
    svg = line_chart("nothing", [], [])
    assert svg.startswith("<svg") and svg.endswith("</svg>")
