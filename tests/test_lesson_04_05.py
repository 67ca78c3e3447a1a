"""Notebooks 4 and 5: what their prose and questions claim is what their cells compute.

The cells run here as the instructor wrote them, with the reference solutions in place of the
student's earlier answers (``helpers.answers.answers_from``), so a claim that drifts from the
code fails here rather than misleading a student.
"""

from __future__ import annotations

import ast
import contextlib
import io
import re
import time

import nbformat
import numpy as np
import pytest

from helpers.answers import answers_from
from helpers.forward import L_layer_forward, sigmoid
from helpers.gradcheck import numerical_gradient, random_network
from helpers.instructor import reference
from helpers.training import TAUGHT_RECIPE

from project import SOURCE

NB04 = "04_L_layer_backward.ipynb"
NB05 = "05_update_parameters.ipynb"


def cells_of(notebook: str) -> dict:
    """The notebook's cells by id."""
    return {cell.id: cell for cell in nbformat.read(SOURCE / notebook, as_version=4).cells}


def by_grade_id(notebook: str, grade_id: str):
    (cell,) = [c for c in cells_of(notebook).values()
               if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id]
    return cell


class Notebook:
    """A notebook's cells run in one namespace: its set-up cell first, with the reference
    solutions wherever it (or a later cell) loads an earlier notebook's answers."""

    def __init__(self, notebook: str, monkeypatch):
        # the set-up cell's kernel settings (warnings to stdout, the guard) are the kernel's
        monkeypatch.setattr("helpers.kernel_setup.start_notebook", lambda: None)
        self.cells = cells_of(notebook)
        self.namespace: dict = {"__name__": "__notebook__"}
        self.run(next(i for i, c in self.cells.items() if "setup" in c.metadata.get("tags", [])))

    def run(self, cell_id: str) -> str:
        """Run one cell; what it printed."""
        printed = io.StringIO()
        provider = lambda names: tuple(getattr(reference, name) for name in names)  # noqa: E731
        with answers_from(provider), contextlib.redirect_stdout(printed):
            exec(compile(self.cells[cell_id].source, cell_id, "exec"), self.namespace)
        return printed.getvalue()


def numbers_after(label: str, text: str) -> list[float]:
    """The numbers printed after ``label`` on the line that starts with it."""
    (line,) = [line for line in text.splitlines() if line.strip().startswith(label)]
    rest = line[line.index(label) + len(label):]
    return [float(x) for x in re.findall(r"-?\d+\.?\d*(?:e[-+]?\d+)?", rest)]


def relative_errors(printed: str) -> dict[str, float]:
    """``{"dW1": 8e-10, ...}`` from the lines the gradient-check cells print."""
    return {name: float(value) for name, value
            in re.findall(r"(d[WbH]\d): relative error (\S+)", printed)}


def expected_answer(notebook: str, grade_id: str):
    """The value a question's hidden test expects: the third argument of assert_answer."""
    call = ast.parse(by_grade_id(notebook, grade_id).source).body[0].value
    return ast.literal_eval(call.args[2])


# ------------------------------------------------------------------ notebook 4: saturation (I2)
def test_the_quoted_saturation_points_of_the_sigmoid_are_those_of_float64():
    prose = by_grade_id(NB04, "binary").source
    assert "about $z = 37$ on" in prose and "below about $z = -745$" in prose
    ones = sigmoid(np.array([36.0, 36.8, 37.0]))[0]
    assert ones[0] < 1.0 and ones[1] == 1.0 and ones[2] == 1.0
    zeros = sigmoid(np.array([-745.0, -745.2, -746.0]))[0]
    assert zeros[0] > 0.0 and zeros[1] == 0.0 and zeros[2] == 0.0


def test_the_yes_no_demo_prints_the_thresholds_and_the_nan_of_the_second_text(monkeypatch):
    notebook = Notebook(NB04, monkeypatch)
    notebook.run("04-04")  # the solution of L_layer_backward
    printed = notebook.run("04-09")
    assert numbers_after("sigmoid(z) is exactly 1.0 from z =", printed) == [37.0]
    assert numbers_after("sigmoid(z) is exactly 0.0 up to z =", printed) == [-746.0]
    # the comment no longer promises outputs of exactly 0 and 1: they are printed instead
    outputs = notebook.namespace["AL"]
    assert 0.0 in outputs and 1.0 not in outputs
    assert "nan" in printed.split("dZ = AL - Y")[0]
    assert np.isnan(notebook.namespace["dZ"]).any() and np.isnan(notebook.namespace["dW"]).all()
    assert all(np.isfinite(g).all() for g in notebook.namespace["gradients"].values())
    assert "exactly 0.0 and 1.0" not in notebook.cells["04-09"].source


# ------------------------------------------------------------------ notebook 4: gradient check
def test_the_gradient_check_passes_and_catches_the_missing_1_over_m(monkeypatch):
    notebook = Notebook(NB04, monkeypatch)
    notebook.run("04-04")
    started = time.perf_counter()
    notebook.run("04-13")
    own = relative_errors(notebook.run("04-14"))
    broken = relative_errors(notebook.run("04-16"))
    assert time.perf_counter() - started < 2.0
    assert set(own) == set(broken) == {"dW1", "db1", "dW2", "db2", "dH0"}
    assert max(own.values()) < 1e-7  # CS231n: right
    m = notebook.namespace["X"].shape[1]
    assert [p.shape[0] for p in notebook.namespace["parameters"].values()][::2] == [4, 3]
    assert m == 4 and "`[5, 4, 3]` with $m = 4$" in notebook.cells["04-12"].source
    for name in ("dW1", "db1"):  # the hidden layer's: m times too large
        assert broken[name] == pytest.approx((m - 1) / (m + 1), rel=0.01)
    for name in ("dW2", "db2", "dH0"):  # the output layer's own lines, and dH0, unchanged
        assert broken[name] < 1e-7
    assert expected_answer(NB04, "test_broken_dW1_error_hidden") == pytest.approx(
        (m - 1) / (m + 1))


def test_question_2_of_notebook_4_names_the_call_the_loop_makes(monkeypatch):
    notebook = Notebook(NB04, monkeypatch)
    notebook.run("04-04")
    calls = []

    def recording(dH, memory, activation="relu"):
        calls.append((dH, memory))
        return reference.layer_backward(dH, memory, activation)

    parameters, X, Y = random_network(np.random.default_rng(1), [5, 4, 6, 3], 3)  # L = 3
    HL, memories = L_layer_forward(X, parameters)
    notebook.namespace["layer_backward"] = recording
    gradients = notebook.namespace["L_layer_backward"](HL, Y, memories)
    (dH, memory), = [(dH, memory) for dH, memory in calls if memory is memories[1]]
    assert dH is gradients["dH2"] or np.array_equal(dH, gradients["dH2"])
    letter = expected_answer(NB04, "test_layer_2_call_hidden")
    prose = by_grade_id(NB04, "questions-md").source
    assert f'* ({letter}) `gradients["dH2"]` and `memories[1]`' in prose


def test_the_summary_gives_the_shapes_of_the_course_network():
    summary = by_grade_id(NB04, "summary").source
    quoted = re.findall(r"`(\w+)` \((\d+|m), (\d+|m)\)", summary)
    m = 7
    parameters, X, Y = random_network(np.random.default_rng(2), [784, 45, 10], m)
    HL, memories = L_layer_forward(X, parameters)
    gradients = reference.L_layer_backward(HL, Y, memories)
    arrays = dict(gradients)
    for l, ((_, _, _), Z) in enumerate(memories, start=1):
        arrays[f"Z{l}"] = Z
    arrays["H1"], arrays["H2"] = memories[1][0][0], HL
    arrays["dZ2"] = HL - Y
    arrays["dZ1"] = reference.relu_backward(gradients["dH1"], memories[0][1])
    assert len(quoted) == 12
    for name, rows, columns in quoted:
        shape = tuple(m if size == "m" else int(size) for size in (rows, columns))
        assert arrays[name].shape == shape, name


# ------------------------------------------------------------------ notebook 5
def run_one_step_experiment(monkeypatch, update_parameters=None) -> dict[str, float]:
    notebook = Notebook(NB05, monkeypatch)
    notebook.run("05-04")  # the solution of update_parameters
    if update_parameters is not None:
        notebook.namespace["update_parameters"] = update_parameters
    started = time.perf_counter()
    printed = notebook.run("05-09")
    assert time.perf_counter() - started < 2.0
    losses = {"before": numbers_after("loss on these 64 images before the step:", printed)[-1]}
    for rate, loss in re.findall(r"after one step with learning rate (\S+): (\S+)", printed):
        losses[float(rate)] = float(loss)
    return losses


def test_one_small_step_lowers_the_loss_and_a_large_one_raises_it(monkeypatch):
    losses = run_one_step_experiment(monkeypatch)
    small = TAUGHT_RECIPE["learning_rate"]
    assert set(losses) == {"before", small, 3.0}
    assert losses[small] < losses["before"] < losses[3.0]
    assert "far larger\none, 3." in by_grade_id(NB05, "try-md").source


def test_the_experiment_is_the_same_for_an_update_in_place(monkeypatch):
    def in_place(parameters, gradients, learning_rate):
        for l in range(1, len(parameters) // 2 + 1):
            parameters[f"W{l}"] -= learning_rate * gradients[f"dW{l}"]
            parameters[f"b{l}"] -= learning_rate * gradients[f"db{l}"]
        return parameters

    assert run_one_step_experiment(monkeypatch, in_place) == run_one_step_experiment(monkeypatch)


def test_the_right_statement_of_question_1_of_notebook_5_holds_and_the_others_fail():
    """(c): a small step against the gradient lowers the loss and along it raises it; (b) is
    refuted by a large step, (a) and (d) by the small step along the gradient."""
    assert expected_answer(NB05, "test_update_sign_hidden") == "c"
    parameters, X, Y = random_network(np.random.default_rng(3), [20, 8, 4], 16)
    HL, memories = L_layer_forward(X, parameters)
    gradients = reference.L_layer_backward(HL, Y, memories)

    def loss_after(step):
        stepped = reference.update_parameters(parameters, gradients, step)
        return reference.compute_loss(L_layer_forward(X, stepped)[0], Y)

    before = reference.compute_loss(HL, Y)
    assert loss_after(0.05) < before < loss_after(-0.05)
    assert loss_after(50.0) > before


def test_the_bowl_loss_after_one_step_is_the_answer_of_question_2():
    prose = by_grade_id(NB05, "questions-md").source
    assert r"$\mathcal{L} = 50$" in prose and r"$\alpha = 0.1$" in prose
    rng = np.random.default_rng(4)
    parameters = {name: rng.standard_normal(shape) for name, shape
                  in {"W1": (3, 4), "b1": (3, 1), "W2": (2, 3), "b2": (2, 1)}.items()}

    def bowl(p):
        return 0.5 * sum(np.sum(v**2) for v in p.values())

    gradients = {f"d{name}": g for name, g
                 in zip(parameters, numerical_gradients_of_bowl(bowl, parameters), strict=True)}
    for name, value in parameters.items():  # the bowl's gradients are the parameters
        np.testing.assert_allclose(gradients[f"d{name}"], value, rtol=1e-7)
    stepped = reference.update_parameters(parameters, gradients, 0.1)
    after = 50 * bowl(stepped) / bowl(parameters)
    assert expected_answer(NB05, "test_bowl_loss_after_hidden") == pytest.approx(after)


def numerical_gradients_of_bowl(bowl, parameters: dict) -> list[np.ndarray]:
    return [numerical_gradient(lambda: bowl(parameters), value) for value in parameters.values()]


def test_the_bowl_of_the_test_md_has_its_parentheses():
    text = by_grade_id(NB05, "test-md").source
    assert r"\sum_l \big( \lVert W^{[l]} \rVert_F^2 + \lVert b^{[l]} \rVert^2 \big)" in text


# ------------------------------------------------------------------ both
@pytest.mark.parametrize("notebook, total", [(NB04, 20), (NB05, 10)])
def test_questions_are_worth_one_hidden_point_each_and_the_totals_stay(notebook, total):
    graded = [c for c in cells_of(notebook).values()
              if c.metadata.get("nbgrader", {}).get("grade")]
    assert sum(c.metadata.nbgrader.points for c in graded) == total
    questions = [c for c in graded if "assert_answer(" in c.source]
    assert len(questions) == 2
    for cell in questions:
        assert cell.metadata.nbgrader.points == 1
        assert cell.source.splitlines()[1] == "### BEGIN HIDDEN TESTS"


@pytest.mark.parametrize("notebook", [NB04, NB05])
def test_the_solutions_answer_the_questions_right(notebook, monkeypatch):
    nb = Notebook(notebook, monkeypatch)
    nb.run(next(i for i, c in nb.cells.items()
                if c.metadata.get("nbgrader", {}).get("grade_id") == "questions"))
    for cell_id, cell in nb.cells.items():
        if "assert_answer(" in cell.source:
            nb.run(cell_id)


@pytest.mark.parametrize("notebook", [NB04, NB05])
def test_the_recap_reminds_the_student_to_save(notebook):
    cells = list(cells_of(notebook).values())
    assert cells[-1].metadata.nbgrader.grade_id == "recap"
    assert "**Save this notebook now** (Ctrl+S)" in cells[-1].source
