"""``check``: the saved notebooks run as the grader runs them, tests judged as it judges."""

from __future__ import annotations

import shutil
import time

import nbformat
import pytest

from helpers.student import check
from helpers.student.check import FAIL, HIDDEN, PASS, grade_test_cell

from student_tools import (
    LOSS_TESTS,
    NAMES,
    answered,
    edit_cell,
    line_of_test,
    run,
    snapshot,
)


@pytest.mark.slow
def test_check_on_the_untouched_release_fails_with_not_implemented(filled, capsys):
    before = snapshot(filled)
    code, out, _ = run(capsys, "check", "01_loss", "--folder", str(filled))
    assert code == 1
    for test in LOSS_TESTS:
        line = line_of_test(out, test)
        assert f"{FAIL}  NotImplementedError" in line
    hidden = line_of_test(out, "test_compute_loss_softmax_hidden")
    assert HIDDEN in hidden and PASS not in hidden
    assert "0 of 3 tests passed (0 of 4 points)" in out
    assert snapshot(filled) == before  # the student's files are not touched


@pytest.mark.slow
def test_check_passes_a_notebook_with_correct_answers(tmp_path, capsys):
    path = answered(tmp_path / "done", "01_loss.ipynb")
    before = path.read_bytes()
    code, out, _ = run(capsys, "check", "01_loss.ipynb", "--folder", str(path.parent))
    assert code == 0, out
    for test in LOSS_TESTS:
        line = line_of_test(out, test)
        assert line.split()[-1] == PASS
    assert "3 of 3 tests passed (4 of 4 points)" in out
    assert path.read_bytes() == before


@pytest.mark.slow
def test_check_fails_a_test_that_runs_too_long_and_goes_on(tmp_path, capsys):
    path = answered(tmp_path / "slow", "01_loss.ipynb")
    slow = "def compute_loss(HL, Y):\n    while True:\n        pass"
    edit_cell(path, "compute_loss", slow)
    code, out, _ = run(capsys, "check", "01_loss", "--folder", str(path.parent), "--timeout", "1")
    assert code == 1
    for test in LOSS_TESTS:  # the second test still ran, after the first was stopped
        line = line_of_test(out, test)
        assert "FAIL  CellTimeoutError: the cell did not finish within 1 s" in line


def test_check_names_an_unknown_notebook_and_a_missing_folder(filled, tmp_path, capsys):
    code, _, err = run(capsys, "check", "08_extra", "--folder", str(filled))
    assert code == 1
    assert "'08_extra' is not a notebook of the assignment" in err
    assert "01_loss, 02_activation_backward" in err
    code, _, err = run(capsys, "check", "--folder", str(tmp_path / "missing"))
    assert code == 1
    assert "there is no folder" in err and "fill" in err


def test_check_runs_the_assignments_notebooks_only(filled, release, capsys, monkeypatch):
    shutil.copy(filled / "01_loss.ipynb", filled / "Untitled.ipynb")
    (filled / "03_layer_backward.ipynb").unlink()
    ran = []
    monkeypatch.setattr(
        check, "check_notebook", lambda path, release, timeout: ran.append(path.name) or
        check.NotebookCheck(path.stem, problem=None if path.exists() else "missing")
    )
    code, out, _ = run(capsys, "check", "--folder", str(filled), "--release", str(release))
    # two at a time: they may start in either order; Untitled.ipynb is not run
    assert sorted(ran) == NAMES
    assert code == 1 and "03_layer_backward  (notebook)" in out  # a missing one is reported


def test_the_report_keeps_the_assignments_order_whichever_notebook_ends_first(
        filled, release, capsys, monkeypatch):
    def slow_first(path, release, timeout):
        time.sleep(0.5 if path.name == NAMES[0] else 0)
        return check.NotebookCheck(path.stem, problem=f"stopped in {path.stem}")

    monkeypatch.setattr(check, "check_notebook", slow_first)
    _, out, _ = run(capsys, "check", "--folder", str(filled), "--release", str(release),
                    "--jobs", "2")
    reported = [line.split()[0] for line in out.splitlines() if "(notebook)" in line]
    assert reported == [name.removesuffix(".ipynb") for name in NAMES]


def test_check_reports_a_missing_notebook(filled, capsys):
    (filled / "03_layer_backward.ipynb").unlink()
    result = check.check_notebook(filled / "03_layer_backward.ipynb")
    assert not result.passed
    assert result.problem == f"03_layer_backward.ipynb is not in {filled}: `make lab` restores it"


def test_check_reports_a_notebook_it_cannot_read(filled, capsys):
    (filled / "01_loss.ipynb").write_text("[]")
    code, out, _ = run(capsys, "check", "01_loss", "--folder", str(filled))
    assert code == 1
    assert "01_loss.ipynb is JSON but not a notebook" in out
    assert "could not be read or run through" in out


def graded_cell(source="assert True", outputs=(), execution_count=1):
    cell = nbformat.v4.new_code_cell(source, outputs=list(outputs))
    cell.execution_count = execution_count
    cell.metadata["nbgrader"] = {"grade": True, "grade_id": "t", "points": 3}
    return cell


def test_a_test_cell_is_judged_as_nbgrader_grades_it():
    ok = {"status": "ok"}
    assert grade_test_cell(graded_cell(), ok, None).status == PASS
    error = nbformat.v4.new_output(
        "error",
        ename="AssertionError",
        evalue="dW: 3 of 4 entries differ\nhint\nmore\nlast\ncut",
        traceback=[],
    )
    failed = grade_test_cell(graded_cell(outputs=[error]), {"status": "error"}, None)
    assert (failed.status, failed.message) == (
        FAIL,
        "AssertionError: dW: 3 of 4 entries differ\nhint\nmore\nlast cut",
    )
    # a long line is wrapped, not cut: a hint at its end is what matters most
    long = nbformat.v4.new_output("error", ename="CheckFailed", traceback=[],
                                  evalue="dZ: " + "x " * 80 + "the mask was taken from dH")
    wrapped = grade_test_cell(graded_cell(outputs=[long]), {"status": "error"}, None).message
    assert " ".join(wrapped.split()).endswith("the mask was taken from dH"), wrapped
    assert all(len(line) <= 100 for line in wrapped.splitlines())
    stderr = nbformat.v4.new_output("stream", name="stderr", text="RuntimeWarning: overflow\n")
    noisy = grade_test_cell(graded_cell(outputs=[stderr]), ok, None)
    assert noisy.status == FAIL and "standard error" in noisy.message
    never_ran = grade_test_cell(graded_cell(execution_count=None), None, "DeadKernelError: died")
    assert never_ran.status == FAIL and "did not run (DeadKernelError: died)" in never_ran.message
    hidden = grade_test_cell(graded_cell("# hidden tests run at grading\n"), ok, None)
    assert (hidden.status, hidden.points) == (HIDDEN, 3.0)
