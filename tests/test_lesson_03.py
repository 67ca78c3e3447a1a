"""Notebook 3: the numbers its prose writes, the answers its questions expect, its points.

The markdown works a small layer by hand (matrices and single entries) and states what the
course text's example will print; each number is recomputed here with the reference, and the
cells that repeat the worked example's arrays must hold the arrays the markdown shows.
"""

from __future__ import annotations

import ast
import contextlib
import io
import operator
import re

import nbformat
import numpy as np
import pytest

from helpers.checks import CheckFailed, assert_answer
from helpers.forward import layer_forward
from helpers.instructor import reference
from helpers.plots import NotebookFigure

from project import SOURCE

NOTEBOOK = SOURCE / "03_layer_backward.ipynb"
MATRIX = re.compile(
    r"(d?[A-Za-z]+(?:_\{\\text\{prev\}\})?) = \\begin\{pmatrix\}(.*?)\\end\{pmatrix\}"
)
# "$dW_{12} = \frac{1}{2}(0 \cdot 3 + 1 \cdot (-1)) = -0.5$", "$(dH_{\text{prev}})_{21} = ... = -1$"
ENTRY = re.compile(
    r"\$\(?(dW|db|dH_\{\\text\{prev\}\})\)?_\{?(\d)(\d)?\}? = ([^$=]+) = (-?[\d.]+)\$"
)


def cell(key: str):
    """The cell of notebook 3 with this grade_id, or else this cell id."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    return next(
        c
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("grade_id", c.id) == key or c.id == key
    )


def plain(name: str) -> str:
    return name.replace(r"_{\text{prev}}", "_prev")


def matrices_of(markdown: str) -> dict[str, np.ndarray]:
    """Every ``name = \\begin{pmatrix} ... \\end{pmatrix}`` of the markdown; "?" reads as nan."""
    found = {}
    for name, body in MATRIX.findall(markdown):
        rows = [row.split("&") for row in body.split(r"\\")]
        found[plain(name)] = np.array(
            [[np.nan if x.strip() == "?" else float(x) for x in row] for row in rows]
        )
    return found


def run_cell(key: str, **names) -> dict:
    """Execute a demonstration cell's code with ``np`` and ``names``; returns its namespace."""
    namespace = {"np": np, **names}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(cell(key).source, namespace)
    return namespace


_OPERATORS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul}


def arithmetic(text: str) -> float:
    """The value of the hand computation written in LaTeX, e.g. ``\\frac{1}{2}(0 \\cdot 1 + 2)``."""
    python = text.replace(r"\frac{1}{2}", "0.5 *").replace(r"\cdot", "*")

    def value(node):
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return node.value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -value(node.operand)
        if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
            return _OPERATORS[type(node.op)](value(node.left), value(node.right))
        raise ValueError(f"not plain arithmetic: {text!r}")

    return value(ast.parse(python, mode="eval").body)


@pytest.fixture(scope="module")
def worked() -> dict[str, np.ndarray]:
    """The reference's answers for the worked example's arrays, as the markdown writes them."""
    shown = matrices_of(cell("worked-example").source)
    _, memory = layer_forward(shown["H_prev"], shown["W"], shown["b"], "relu")
    dH_prev, dW, db = reference.layer_backward(shown["dH"], memory, "relu")
    dZ = reference.relu_backward(shown["dH"], memory[1])
    return {"Z": memory[1], "dZ": dZ, "dW": dW, "db": db, "dH_prev": dH_prev, "shown": shown}


# --------------------------------------------------------------------------- worked example


def test_the_cells_hold_the_arrays_the_worked_example_shows(worked) -> None:
    shown = worked["shown"]
    printed = run_cell("03-memory", layer_forward=layer_forward)
    checked = run_cell(
        "03-worked-check", layer_forward=layer_forward, layer_backward=reference.layer_backward
    )
    for name in ("H_prev", "W", "b"):
        np.testing.assert_array_equal(printed[name], shown[name], err_msg=name)
        np.testing.assert_array_equal(checked[name], shown[name], err_msg=name)
    np.testing.assert_array_equal(checked["dH"], shown["dH"])
    np.testing.assert_array_equal(printed["activation_memory"], shown["Z"])
    # the cell after the exercise prints what the markdown worked out by hand
    for name in ("dW", "db", "dH_prev"):
        np.testing.assert_allclose(checked[name], worked[name], err_msg=name)
    # the keepdims demonstration starts from the worked example's dZ and b
    demo = run_cell("03-keepdims", b=shown["b"])
    np.testing.assert_array_equal(demo["dZ"], shown["dZ"])


def test_every_matrix_of_the_worked_example_is_the_reference(worked) -> None:
    shown = worked["shown"]
    assert set(shown) == {"H_prev", "W", "b", "Z", "dH", "dZ", "dW", "db", "dH_prev"}
    for name in ("Z", "dZ", "db", "dH_prev"):
        np.testing.assert_array_equal(shown[name], worked[name], err_msg=name)
    unknown = np.isnan(shown["dW"])
    assert unknown.sum() == 1  # the entry question 2 asks for
    np.testing.assert_array_equal(shown["dW"][~unknown], worked["dW"][~unknown])
    # the example shows what it is meant to: a unit off for one example, and m = 2
    assert (worked["Z"] < 0).sum() == 1 and shown["H_prev"].shape[1] == 2


def test_each_entry_worked_by_hand_adds_up_to_the_reference(worked) -> None:
    entries = ENTRY.findall(cell("worked-example").source)
    assert len(entries) == 3 + 2 + 4  # dW (one left to question 2), db, dH_prev
    for name, row, column, computation, result in entries:
        index = (int(row) - 1, int(column or 1) - 1)
        assert arithmetic(computation) == pytest.approx(float(result)), computation
        assert worked[plain(name)][index] == pytest.approx(float(result)), (name, index)


def test_arithmetic_reads_only_numbers() -> None:
    assert arithmetic(r"\frac{1}{2}((-1) \cdot 3 + 2 \cdot (-1))") == -2.5
    with pytest.raises(ValueError, match="not plain arithmetic"):
        arithmetic("__import__('os')")


# --------------------------------------------------------------------------- questions


def hidden_expectation(grade_id: str, variable: str):
    source = cell(grade_id).source
    match = re.search(rf'assert_answer\("{variable}", {variable}, (.+)\)', source)
    return ast.literal_eval(match[1])


def solution_answers() -> dict:
    namespace: dict = {}
    exec(cell("questions").source, namespace)
    return namespace


def test_question_2_asks_for_the_entry_left_blank(worked) -> None:
    unknown = tuple(int(i) for i in np.argwhere(np.isnan(worked["shown"]["dW"]))[0])
    assert f"`dW[{unknown[0]}, {unknown[1]}]`" in cell("questions-md").source
    expected = hidden_expectation("test_dW21_by_hand_hidden", "dW21_by_hand")
    assert expected == pytest.approx(worked["dW"][unknown])
    assert solution_answers()["dW21_by_hand"] == pytest.approx(expected)
    # the slips the question is there to catch lose the point
    for wrong in (2 * expected, worked["dW"][unknown[::-1]]):  # no 1/m; the transposed entry
        with pytest.raises(CheckFailed):
            assert_answer({"dW21_by_hand": wrong}, "dW21_by_hand", expected)


def test_question_1_expects_the_letter_of_the_per_example_answer() -> None:
    expected = hidden_expectation("test_why_no_1_over_m_hidden", "why_no_1_over_m")
    assert solution_answers()["why_no_1_over_m"] == expected
    options = dict(re.findall(r"^\* \(([a-d])\) (.+)$", cell("questions-md").source, re.M))
    assert sorted(options) == ["a", "b", "c", "d"]
    assert "feeds only example" in options[expected]


def test_points_of_notebook_3() -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    points = {
        c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"]["points"]
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("grade")
    }
    assert points == {
        "test_layer_backward_dW_db": 3,
        "test_layer_backward_dW_db_hidden": 5,
        "test_layer_backward_dH_prev": 2,
        "test_layer_backward_dH_prev_hidden": 3,
        "test_why_no_1_over_m_hidden": 1,
        "test_dW21_by_hand_hidden": 1,
    }


# --------------------------------------------------------------------------- the other cells


def test_the_figure_cell_draws_the_layer_graph() -> None:
    figure_cell = cell("03-figure")
    assert figure_cell.metadata.get("tags") == ["figure"]
    *statements, last = figure_cell.source.strip().splitlines()
    namespace: dict = {}
    exec("\n".join(statements), namespace)
    assert isinstance(eval(last, namespace), NotebookFigure)  # what the cell shows


def test_the_course_examples_predictions_hold() -> None:
    ran = run_cell("03-09", layer_forward=layer_forward, layer_backward=reference.layer_backward)
    said = cell("course-example").source
    for name in ("dH_prev", "dW", "db"):
        shape = re.search(rf"`{name}` \$(\(\d+, \d+\))\$", said)[1]
        assert ran[name].shape == ast.literal_eval(shape), name
    # "row 2 of dH_prev is 5 times row 1 of dH"
    np.testing.assert_allclose(ran["dH_prev"][1], 5 * ran["dH"][0])
    assert "5 times row 1" in said
    # "unit 3 ... exactly 0 for example 2 ... adds nothing to row 3 of dW"
    Z = ran["memory"][1]
    assert Z[2, 1] == 0 and np.count_nonzero(Z == 0) == 1
    dZ = reference.relu_backward(ran["dH"], Z)
    without_example_2 = np.delete(dZ, 1, axis=1) @ np.delete(ran["H_prev"], 1, axis=1).T / 5
    np.testing.assert_allclose(ran["dW"][2], without_example_2[2])
