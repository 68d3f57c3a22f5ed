"""The one markdown-table builder, and the document model that renders it."""

from __future__ import annotations

import math

import pandas as pd

from chipwar.runs.core.tables import metric_markdown
from chipwar.runs.core.textdoc import Document, Paragraph, Table, md_frame, md_table


def test_a_pipe_table_with_right_aligned_numbers() -> None:
    text = md_table(["metric", "a", "b"], [["gap", "1.0x", "2.0x"]], [False, True, True])
    assert text == "| metric | a | b |\n|---|---:|---:|\n| gap | 1.0x | 2.0x |\n"
    assert md_table(["x"], []) == "| x |\n|---|\n"


def test_cells_cannot_break_the_table() -> None:
    text = md_table(["name", "note"], [["a|b", "two\nlines"]])
    assert text.splitlines()[2] == "| a\\|b | two lines |"
    assert len(text.splitlines()) == 3


def test_a_frame_with_its_index_and_formatted_cells() -> None:
    frame = pd.DataFrame({"p": [0.012345, math.nan], "n": [1, 2]}, index=["x", "y"])
    plain = md_frame(frame, cell=lambda v: "" if v != v else f"{v:.3g}")
    assert plain == "| p | n |\n|---|---|\n| 0.0123 | 1 |\n|  | 2 |\n"
    labelled = md_frame(frame, index="row", right=True, cell=str)
    assert labelled.splitlines()[:2] == ["| row | p | n |", "|---|---:|---:|"]
    assert labelled.splitlines()[2] == "| x | 0.012345 | 1 |"


def test_metric_tables_label_the_rows_and_right_align_the_scenarios() -> None:
    frame = pd.DataFrame({"porous": ["3.1x"], "closed": ["9.0x"]}, index=["gap @ 2028-12"])
    assert metric_markdown(frame) == (
        "| metric | porous | closed |\n|---|---:|---:|\n| gap @ 2028-12 | 3.1x | 9.0x |\n"
    )


def test_a_document_table_renders_the_same_in_markdown_and_html() -> None:
    doc = Document("T").add(
        Paragraph("`x` and **y**"), Table(["k", "v"], [["a", "1"]], [False, True])
    )
    assert doc.to_markdown() == ("# T\n\n`x` and **y**\n\n| k | v |\n|---|---:|\n| a | 1 |\n")
    page = doc.to_html()
    assert "<code>x</code> and <b>y</b>" in page and '<td class="num">1</td>' in page
