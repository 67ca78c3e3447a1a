"""Every sample submission graded by nbgrader gets exactly the score the catalogue says.

The whole catalogue (``helpers/instructor/samples.toml``: the solutions, the untouched release,
typical mistakes, correct answers written differently, hostile and broken notebooks, attacks on
the grader) is staged in a fresh course, graded across two processes with
``helpers.instructor.grade_class`` (each running nbgrader's autograde), and the gradebook is
read back: every test cell listed as failing must score 0, every other test cell full points,
and nothing in ``submitted/`` may change. The attacks' effects are checked in ``attacks.py``'s
terms: canaries, a server on this machine, processes left, what feedback shows.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass

import nbformat
import numpy as np
import pytest

from helpers.instructor.course import Course, folder_contents
from helpers.instructor.grade_class import grade_class
from helpers.instructor.samples import (
    exercise_ids,
    expected_scores,
    load_catalogue,
    markdown_table,
    points_per_test,
    stage_students,
)

import attacks
from project import NOTEBOOKS, PROJECT

SAMPLES = load_catalogue()
TABLE = PROJECT / "docs" / "sample_submissions.md"
CELL_TIMEOUT = 30  # seconds per cell; the endless loop costs one cell this long


@dataclass
class Graded:
    course: Course
    report: object
    before: dict  # submitted/ before grading
    canaries: dict  # path -> bytes before grading
    helpers_before: dict  # the project's helpers/, before grading
    connections: list  # connections the attack's server accepted


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("course")
    course = Course(root, timeout=CELL_TIMEOUT)
    stage_students(course, {s.name: s for s in SAMPLES}, tmp_path_factory.mktemp("built"), PROJECT)
    canaries = attacks.plant_canaries(root)
    before = folder_contents(root / "submitted")
    helpers_before = folder_contents(PROJECT / "helpers")
    with attacks.listening(attacks.SERVER_PORT) as connections:
        report = grade_class(root, workers=2, timeout=CELL_TIMEOUT, progress=False)
    return Graded(course, report, before, canaries, helpers_before, connections)


def test_the_catalogue_has_what_a_trustworthy_grader_needs():
    kinds = [sample.kind for sample in SAMPLES]
    assert kinds.count("attack") >= 8
    assert kinds.count("mistake") >= 15
    assert kinds.count("alternative") >= 6
    assert kinds.count("hostile") >= 10
    points = points_per_test(PROJECT)
    for sample in SAMPLES:
        assert set(sample.failing) <= set(points), f"{sample.name}: unknown tests"
        assert set(sample.zero_notebooks) <= set(NOTEBOOKS), f"{sample.name}: unknown notebook"
        if sample.kind == "mistake":  # one mistake, in one notebook
            assert len({key.split(":")[0] for key in sample.failing}) == 1, sample.name


def test_every_exercise_has_a_whole_answer_in_another_style():
    """One sample answers every exercise whole, written unlike the reference; it must score
    full marks (see test_each_sample_scores_exactly_as_expected)."""
    (another,) = [sample for sample in SAMPLES if sample.name == "another_style"]
    exercises = {
        grade_id for notebook in NOTEBOOKS for grade_id in exercise_ids(notebook, PROJECT)
    }
    assert sorted(edit.grade_id for edit in another.edits if edit.whole) == sorted(exercises)
    assert another.kind == "alternative" and not another.failing


def test_the_answer_in_another_style_really_warns():
    """Its compute_loss warns on log(0): full marks then prove a warning costs nothing."""
    (edit,) = [
        e for s in SAMPLES if s.name == "another_style" for e in s.edits
        if e.grade_id == "compute_loss"
    ]
    namespace = {"np": np}
    exec(edit.whole, namespace)
    with pytest.warns(RuntimeWarning, match="divide by zero"):
        namespace["compute_loss"](np.eye(3)[:, [1, 1, 0]], np.eye(3))


def test_the_table_in_docs_is_generated_from_the_catalogue():
    assert TABLE.read_text() == markdown_table(SAMPLES, PROJECT), (
        "docs/sample_submissions.md is out of date: "
        "python -m helpers.instructor.samples --table > docs/sample_submissions.md"
    )


@pytest.mark.slow
@pytest.mark.parametrize("sample", SAMPLES, ids=[sample.name for sample in SAMPLES])
def test_each_sample_scores_exactly_as_expected(graded, sample):
    course = graded.course
    results = course.test_results()[sample.name]
    failing = set(sample.failing)
    for (notebook, grade_id), (score, max_score) in sorted(results.items()):
        key = f"{notebook}:{grade_id}"
        if sample.base == "untouched" or notebook in sample.zero_notebooks or key in failing:
            assert score == 0, f"{sample.name}: {key} should fail but scored {score}"
        else:
            assert score == max_score, f"{sample.name}: {key} scored {score} of {max_score}"
    assert course.scores()[sample.name] == expected_scores(sample, PROJECT)


@pytest.mark.slow
def test_only_the_broken_notebooks_are_reported(graded):
    report = graded.report
    assert set(report.graded) == {sample.name for sample in SAMPLES}
    broken = {s.name for s in SAMPLES if set(s.zero_notebooks) - {"05_update_parameters"}}
    assert set(report.problems) == broken, report.problems
    assert "DeadKernelError" in report.problems["kernel_killed"]


@pytest.mark.slow
def test_grading_never_touches_submitted(graded):
    course, before = graded.course, graded.before
    assert folder_contents(course.root / "submitted") == before


@pytest.mark.slow
def test_python_files_handed_in_do_not_reach_the_kernel(graded):
    course = graded.course
    autograded = course.root / "autograded" / "extra_files" / "backprop"
    assert (autograded / "notes.txt").exists()
    assert not (autograded / "numpy.py").exists()


@pytest.mark.slow
def test_a_correct_answer_that_warns_keeps_its_points(graded):
    course = graded.course
    notebook = course.root / "autograded" / "log_of_zero_warns" / "backprop" / "01_loss.ipynb"
    outputs = [o for cell in nbformat.read(notebook, 4).cells for o in cell.get("outputs", [])]
    assert any("RuntimeWarning" in o.get("text", "") for o in outputs), "the answer should warn"
    assert not any(o.get("name") == "stderr" for o in outputs)
    assert sum(course.scores()["log_of_zero_warns"].values()) == 100


@pytest.mark.slow
def test_feedback_shows_failures_but_never_hidden_tests(graded):
    course = graded.course
    course.generate_feedback("loss_without_mean")
    feedback = course.root / "feedback" / "loss_without_mean" / "backprop"
    html = (feedback / "01_loss.html").read_text()
    # nbgrader's table of contents: the hidden test is listed, with the points it cost
    assert '<a href="#test_compute_loss_softmax_hidden">Test cell</a> (Score: 0.0 / 2.0)' in html
    assert "loss of the three images" in html, "the visible test's failure message is shown"
    text = re.sub(r"<[^>]+>", "", html)
    for secret in (
        "hidden.start(1101)",
        "hidden.call(",
        "reference.compute_loss",
    ):
        assert secret not in text, f"feedback shows hidden test code: {secret}"
    assert "Traceback (most recent call last)" not in text and "Cell In[" not in text


@pytest.mark.slow
def test_export_gives_the_gradebook_scores(graded, tmp_path):
    course = graded.course
    rows = list(csv.DictReader(course.export(tmp_path / "grades.csv").open()))
    by_student = {row["student_id"]: float(row["score"]) for row in rows}
    for sample in SAMPLES:
        expected = sum(expected_scores(sample, PROJECT).values())
        assert by_student[sample.name] == pytest.approx(expected)


# ---------------------------------------------------------------- what the attacks achieved


@pytest.mark.slow
def test_the_canaries_and_the_course_code_come_out_unchanged(graded):
    root = graded.course.root
    assert {path: path.read_bytes() for path in graded.canaries} == graded.canaries
    assert folder_contents(PROJECT / "helpers") == graded.helpers_before
    assert not (root / "planted.py").exists() and not (root / "submitted" / "planted.txt").exists()
    assert not (root / "submitted" / "intruder").exists()


@pytest.mark.slow
def test_nothing_read_outside_the_folder_shows_in_the_outputs(graded):
    notebook = graded.course.root / "autograded" / "reads_outside_its_folder" / "backprop"
    text = (notebook / "01_loss.ipynb").read_text()
    assert "cannot read" in text, "the attack did run"
    for content in graded.canaries.values():
        assert content.decode() not in text


@pytest.mark.slow
def test_no_kernel_reached_the_network(graded):
    assert graded.connections == []
    notebook = graded.course.root / "autograded" / "uses_the_network" / "backprop"
    assert "no connection to" in (notebook / "03_layer_backward.ipynb").read_text()


@pytest.mark.slow
def test_limits_held_and_no_process_outlived_grading(graded):
    notebook = graded.course.root / "autograded" / "exhausts_resources" / "backprop"
    text = (notebook / "04_L_layer_backward.ipynb").read_text()
    assert "MemoryError" in text and "fork refused after" in text
    assert re.search(r"stopped after \d+ MiB in /tmp", text)
    assert attacks.sandboxed_processes(graded.course.root) == []


@pytest.mark.slow
def test_feedback_of_a_student_who_prints_everything_holds_no_secret(graded):
    course = graded.course
    course.generate_feedback("prints_everything")  # a BEGIN HIDDEN TESTS marker does not break it
    folder = course.root / "feedback" / "prints_everything" / "backprop"
    pages = sorted(folder.glob("*.html"))
    assert len(pages) == len(NOTEBOOKS)
    for page in pages:
        shown = attacks.visible_text(page.read_text())
        assert "history:" in shown, f"{page.name}: the attack did run"
        assert not attacks.secret_pairs_in(shown), page.name
