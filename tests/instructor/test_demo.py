"""make demo's tables, figure and course folder, on made-up gradebook results (no grading)."""

from __future__ import annotations

import pytest

from helpers.instructor.demo import (
    DEMO_MARK,
    fresh_course_folder,
    pass_rate_table,
    score_table,
    summary_figure,
)

POINTS = {"01_loss:test_a": 4.0, "01_loss:test_b": 6.0, "02_relu:test_c": 5.0}
RESULTS = {
    "ann": {("01_loss", "test_a"): (4.0, 4.0), ("01_loss", "test_b"): (6.0, 6.0),
            ("02_relu", "test_c"): (0.0, 5.0)},
    "bob": {("01_loss", "test_a"): (0.0, 4.0), ("01_loss", "test_b"): (6.0, 6.0),
            ("02_relu", "test_c"): (5.0, 5.0)},
}  # fmt: skip
SCORES = {"ann": {"01_loss": 10.0, "02_relu": 0.0}, "bob": {"01_loss": 6.0, "02_relu": 5.0}}


def test_the_score_table_has_a_row_per_student_and_a_column_per_notebook():
    assert score_table(SCORES, POINTS).splitlines() == [
        "student    01   02  total",
        "ann        10    0     10",
        "bob         6    5     11",
    ]


def test_the_pass_rate_table_lists_every_test_in_notebook_order():
    assert pass_rate_table(RESULTS, POINTS).splitlines() == [
        "test            passed by",
        "01_loss:test_a     50%",
        "01_loss:test_b    100%",
        "02_relu:test_c     50%",
    ]


def test_the_summary_figure_shows_both():
    left, right, _colorbar = summary_figure(SCORES, RESULTS, POINTS).axes
    assert [t.get_text() for t in left.get_xticklabels()] == ["01", "02"]
    assert [round(p.get_width(), 2) for p in right.patches] == [0.5, 1.0, 0.5]


def test_the_demo_empties_only_a_course_folder_it_made(tmp_path):
    root = fresh_course_folder(tmp_path / "course")
    (root / "submitted" / "solved").mkdir(parents=True)
    assert fresh_course_folder(root) == root and (root / DEMO_MARK).is_file()
    assert not (root / "submitted").exists()
    other = tmp_path / "someone_elses"
    (other / "submitted" / "alice").mkdir(parents=True)
    with pytest.raises(SystemExit, match="not made by the demo"):
        fresh_course_folder(other)
    assert (other / "submitted" / "alice").is_dir()
