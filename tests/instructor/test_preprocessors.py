"""helpers.instructor.preprocessors on small synthetic notebooks, in nbgrader's own style, and the
reading of why nbgrader could not grade a notebook (helpers.instructor.course).

The graded samples (test_samples.py) prove these pieces inside nbgrader's pipeline; here each
is pinned down on its own, in milliseconds.
"""

from __future__ import annotations

from types import SimpleNamespace

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from traitlets.config import Config

from helpers.instructor.course import _failure_reason
from helpers.instructor.judge import NotebookTests
from helpers.instructor.preprocessors import (
    GradingExecute,
    RestoreDeletedTests,
    StripTestTracebacks,
)


def grade_cell(grade_id: str, source: str = "assert True", points: int = 2):
    meta = {"grade": True, "solution": False, "locked": True, "grade_id": grade_id}
    return new_code_cell(source, metadata={"nbgrader": {**meta, "points": points}})


def read_only_cell(grade_id: str, text: str = "# Tests"):
    meta = {"grade": False, "solution": False, "locked": True, "grade_id": grade_id}
    return new_markdown_cell(text, metadata={"nbgrader": meta})


def answer_cell(grade_id: str, source: str = "x = 1"):
    meta = {"grade": False, "solution": True, "locked": False, "grade_id": grade_id}
    return new_code_cell(source, metadata={"nbgrader": meta})


# ---------------------------------------------------------------- StripTestTracebacks


def test_feedback_keeps_one_line_of_a_failed_test_and_leaves_other_cells_alone():
    traceback = ["--------", "Cell In[3], line 4", "  secret = hidden_expected()", "AssertionError"]
    failed = grade_cell("test_x")
    error = {"ename": "CheckFailed", "evalue": "dW: no", "traceback": traceback}
    failed.outputs = [new_output("error", **error)]
    student = new_code_cell("1/0")
    student.outputs = [new_output("error", ename="ZeroDivisionError", evalue="division by zero",
                                  traceback=traceback)]  # fmt: skip
    nb = new_notebook(cells=[student, failed])
    nb, _ = StripTestTracebacks().preprocess(nb, {})
    assert nb.cells[1].outputs[0].traceback == ["CheckFailed: dW: no"]
    assert nb.cells[0].outputs[0].traceback == traceback  # the student's own cell: unchanged


# ---------------------------------------------------------------- RestoreDeletedTests


def fake_gradebook(source_cells, points):
    """What RestoreDeletedTests asks of nbgrader's gradebook: the source notebook's cells."""
    cells = [
        SimpleNamespace(name=c.metadata.nbgrader["grade_id"], cell_type=c.cell_type,
                        source=c.source, locked=True, checksum="abc")
        for c in source_cells
    ]  # fmt: skip
    grade = [SimpleNamespace(name=name, max_score=score) for name, score in points.items()]
    notebook = SimpleNamespace(source_cells=cells, grade_cells=grade, solution_cells=[])
    return SimpleNamespace(find_notebook=lambda notebook_id, assignment_id: notebook)


def restore(submitted, source_cells, points):
    step = RestoreDeletedTests()
    step.gradebook = fake_gradebook(source_cells, points)
    step.notebook_id, step.assignment_id = "01_loss", "backprop"
    nb, _ = step.add_missing_grade_cells(new_notebook(cells=submitted), {})
    nb = nbformat.from_dict(nb)  # nbgrader inserts plain dicts
    return [c.metadata.nbgrader["grade_id"] for c in nb.cells], nb


def test_a_test_deleted_after_a_read_only_cell_comes_back_in_its_place():
    """nbgrader 0.9.6 raises KeyError here: the cell before the test is read-only."""
    source = [answer_cell("answer"), read_only_cell("heading"), grade_cell("test_a"),
              grade_cell("test_b")]  # fmt: skip
    order, nb = restore([answer_cell("answer"), read_only_cell("heading"), grade_cell("test_b")],
                        source, {"test_a": 2, "test_b": 3})  # fmt: skip
    assert order == ["answer", "heading", "test_a", "test_b"]
    restored = nb.cells[2]
    assert restored.metadata.nbgrader["points"] == 2 and "test_a" in restored.source
    assert restored.cell_type == "code" and restored.outputs == []


def test_every_deleted_test_comes_back_in_source_order():
    source = [answer_cell("answer"), grade_cell("test_a"), read_only_cell("m")]
    source.append(grade_cell("test_b"))
    order, _ = restore([answer_cell("answer"), read_only_cell("m")], source,
                       {"test_a": 1, "test_b": 1})  # fmt: skip
    assert order == ["answer", "test_a", "m", "test_b"]


def test_tests_deleted_with_everything_before_them_go_first():
    source = [read_only_cell("intro"), grade_cell("test_a")]
    order, _ = restore([], source, {"test_a": 1})
    assert order == ["test_a"]


# ---------------------------------------------------------------- why grading failed


def test_the_reason_is_the_last_exception_nbgrader_logged_but_its_own_summary():
    log = (
        "[AutogradeApp | ERROR] Error executing notebook\n"
        "nbclient.exceptions.DeadKernelError: Kernel died\n"
        "nbgrader.apps.baseapp.NbGraderException: Please see the error log above\n"
    )
    assert _failure_reason({"log": log}) == "DeadKernelError: Kernel died"


def test_a_json_error_is_named_and_an_empty_log_says_so():
    error = "json.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)"
    assert _failure_reason({"error": error}) == (
        "JSONDecodeError: Expecting value: line 1 column 1 (char 0)"
    )
    assert _failure_reason({"log": "", "error": None}) == "nbgrader could not grade it"


def test_the_judges_set_up_runs_in_the_notebooks_order_whatever_the_gradebooks():
    """PostgreSQL returns a notebook's source cells in any order; a set-up cell that uses
    ``np`` must still run after the one that imports it."""
    def cell(name, source):
        return SimpleNamespace(name=name, source=source, cell_type="code")

    cells = [cell("toy", "toy = np.eye(2)"), cell("test_x", "assert True"),
             cell("setup", "import numpy as np"), cell("x", "def x():\n    return 1")]
    found = SimpleNamespace(source_cells=cells, grade_cells=[cells[1]], solution_cells=[cells[3]])
    gradebook = SimpleNamespace(find_notebook=lambda notebook, assignment: found)
    tests = NotebookTests.from_gradebook(gradebook, "nb", "a", ["setup", "x", "toy", "test_x"])
    assert tests.setup == ("import numpy as np", "toy = np.eye(2)")
    assert tests.tests == {"test_x": "assert True"} and tests.answer_functions == ("x",)


def test_a_grading_kernel_is_killed_after_the_last_cell_unless_configured_otherwise():
    # nothing of the sandboxed kernel is needed once its notebook has run
    assert GradingExecute().shutdown_kernel == "immediate"
    config = Config()
    config.GradingExecute.shutdown_kernel = "graceful"
    assert GradingExecute(config=config).shutdown_kernel == "graceful"
