"""Notebooks 1 and 2: the figure of the data, and the numbers their prose and questions quote.

The notebooks' markdown quotes numbers (ln 10, the cost of a clipped log, the range of eps the
tests accept); each is recomputed here, so the prose cannot drift from the code. The answers
the hidden tests of the questions expect are recomputed from the reference as well.
"""

from __future__ import annotations

import re

import nbformat
import numpy as np
import pytest

from helpers.checks import CheckFailed, assert_answer
from helpers.instructor import reference
from helpers.plots import NotebookFigure, plot_digits_with_one_hot

from project import SOURCE

LOSS = SOURCE / "01_loss.ipynb"
ACTIVATIONS = SOURCE / "02_activation_backward.ipynb"


def markdown_of(path) -> str:
    """All the markdown of a notebook, with LaTeX spacing commands removed."""
    nb = nbformat.read(path, as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    return re.sub(r"\\[,;!]", "", text)


def cell(path, grade_id: str):
    nb = nbformat.read(path, as_version=4)
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


# --------------------------------------------------------------------------- the figure


@pytest.fixture
def digits() -> tuple[np.ndarray, np.ndarray]:
    """Fake images X (784, 12) and one-hot targets Y (10, 12) with labels 0..9, 3, 7."""
    rng = np.random.default_rng(0)
    labels = np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 3, 7])
    return rng.random((784, labels.size)), np.eye(10)[:, labels]


def test_digits_sit_above_their_one_hot_columns(digits) -> None:
    X, Y = digits
    fig = plot_digits_with_one_hot(X, Y, indices=[9, 3, 10])
    *images, matrix = fig.axes
    assert len(images) == 3
    for ax, column in zip(images, [9, 3, 10], strict=True):
        np.testing.assert_array_equal(ax.images[0].get_array(), X[:, column].reshape(28, 28))
        assert ax.get_title() == f"digit {Y[:, column].argmax()}"
    np.testing.assert_array_equal(matrix.images[0].get_array(), Y[:, [9, 3, 10]])
    written = {(t.get_position(), t.get_text()) for t in matrix.texts}
    assert written == {((j, k), str(int(Y[k, c]))) for j, c in enumerate([9, 3, 10])
                       for k in range(10)}
    assert [t.get_text() for t in matrix.get_xticklabels()] == ["9", "3", "10"]
    # each image sits above its column of the matrix
    for j, ax in enumerate(images):
        left, right = ax.get_position().x0, ax.get_position().x1
        box = matrix.get_position()
        centre = box.x0 + (j + 0.5) * box.width / 3
        assert left < centre < right


def test_the_digit_figure_shows_the_first_n_by_default_and_hands_over_a_png(digits) -> None:
    X, Y = digits
    fig = plot_digits_with_one_hot(X, Y, n=5)
    assert isinstance(fig, NotebookFigure) and len(fig.axes) == 6
    assert fig._repr_png_().startswith(b"\x89PNG")
    assert len(plot_digits_with_one_hot(X[:, :2], Y[:, :2]).axes) == 3  # n larger than m


def test_the_digit_figure_leaves_its_inputs_alone(digits) -> None:
    X, Y = digits
    X_before, Y_before = X.copy(), Y.copy()
    plot_digits_with_one_hot(X, Y)
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(Y, Y_before)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda X, Y: (X, Y * 2), "not one-hot"),
        (lambda X, Y: (X, Y[:1]), "one-hot columns"),
        (lambda X, Y: (X[:, :5], Y), "length mismatch"),
        (lambda X, Y: (X.T, Y), "not a square image"),
    ],
)
def test_the_digit_figure_says_what_is_wrong(digits, change, match) -> None:
    with pytest.raises(ValueError, match=match):
        plot_digits_with_one_hot(*change(*digits))


@pytest.mark.parametrize("indices", [[], [12], [-1]])
def test_the_digit_figure_rejects_bad_indices(digits, indices) -> None:
    with pytest.raises(ValueError, match="indices"):
        plot_digits_with_one_hot(*digits, indices=indices)


# --------------------------------------------------------------------------- notebook 1


def test_notebook_1_quotes_the_numbers_it_computes() -> None:
    text = markdown_of(LOSS)
    tiny = np.finfo(float).tiny
    assert f"{np.log(10):.3f}" in text  # a uniform guess over 10 digits
    assert f"{-np.log(tiny):.0f}" in text  # a certain wrong image, clipped at the smallest float
    assert f"{-np.log(1e-12):.1f}" in text  # the same, clipped at 1e-12
    mantissa, exponent = f"{tiny:.1e}".split("e")
    assert f"{mantissa} \\cdot 10^{{{int(exponent)}}}" in text
    assert "up to $10^{-7}$" in text  # checked by the next test


def run_loss_tests(compute_loss) -> list[str]:
    """The grade ids of notebook 1's test cells (hidden tests included) that fail for
    ``compute_loss``."""
    nb = nbformat.read(LOSS, as_version=4)
    setup = next(c for c in nb.cells if "setup" in c.metadata.get("tags", []))
    namespace: dict = {}
    exec(setup.source.replace("start_notebook()", ""), namespace)
    failing = []
    for test in nb.cells:
        meta = test.metadata.get("nbgrader", {})
        if meta.get("grade") and "compute_loss" in meta["grade_id"]:
            try:
                exec(test.source, namespace | {"compute_loss": compute_loss})
            except AssertionError:
                failing.append(meta["grade_id"])
    return failing


def loss_clipped_at(eps: float):
    def compute_loss(HL, Y):
        total = np.sum(Y * np.log(np.clip(HL, eps, 1.0)))
        if HL.shape[0] == 1:
            total += np.sum((1 - Y) * np.log(np.clip(1 - HL, eps, 1.0)))
        return float(-total / Y.shape[1])

    return compute_loss


@pytest.mark.parametrize("eps", [np.finfo(float).tiny, 1e-300, 1e-12, 1e-7])
def test_every_eps_the_notebook_allows_passes_its_tests(eps) -> None:
    assert run_loss_tests(loss_clipped_at(eps)) == []


def test_a_larger_eps_than_the_notebook_allows_fails_its_tests() -> None:
    assert "test_compute_loss_saturated" in run_loss_tests(loss_clipped_at(1e-5))


def test_the_answers_of_notebook_1_are_the_reference_losses() -> None:
    """Question 1: probability 1/2 on every true digit, here with 10 digits and a sigmoid row.
    Question 2: the term an image whose answer is 0 pays."""
    labels = np.array([3, 1, 4, 1, 5])
    HL = np.full((10, 5), 0.5 / 9)
    HL[labels, np.arange(5)] = 0.5
    assert reference.compute_loss(HL, np.eye(10)[:, labels]) == pytest.approx(np.log(2))
    assert reference.compute_loss(np.array([[0.5, 0.5]]), np.array([[1.0, 0.0]])) == (
        pytest.approx(np.log(2))
    )
    h = 0.2  # a "no" image pays -log(1 - h), letter (b)
    assert reference.compute_loss(np.array([[h]]), np.array([[0.0]])) == pytest.approx(
        -np.log(1 - h)
    )
    source = cell(LOSS, "test_loss_at_one_half_hidden").source
    assert 'assert_answer("loss_at_one_half", loss_at_one_half, np.log(2))' in source
    assert 'term_paid_for_no, "b")' in cell(LOSS, "test_term_paid_for_no_hidden").source


# --------------------------------------------------------------------------- notebook 2


def test_the_answers_of_notebook_2_are_the_reference_gradients() -> None:
    z = np.linspace(-20, 20, 40001)[None, :]  # holds z = 0
    slopes = reference.sigmoid_backward(np.ones_like(z), z)
    assert slopes.max() == pytest.approx(0.25) and z[0, slopes.argmax()] == 0
    source = cell(ACTIVATIONS, "test_largest_sigmoid_slope_hidden").source
    assert 'assert_answer("largest_sigmoid_slope", largest_sigmoid_slope, 0.25)' in source
    # Z = -2, dH = 5: the unit was off, dZ = 0, letter (b)
    assert reference.relu_backward(np.array([[5.0]]), np.array([[-2.0]]))[0, 0] == 0
    assert 'dZ_of_an_off_unit, "b")' in cell(ACTIVATIONS, "test_dZ_of_an_off_unit_hidden").source


@pytest.mark.parametrize(
    ("notebook", "name", "right", "wrong"),
    [
        ("loss", "loss_at_one_half", np.log(2), 0.5),
        ("loss", "term_paid_for_no", "b", "c"),
        ("activations", "largest_sigmoid_slope", 0.25, 0.5),
        ("activations", "dZ_of_an_off_unit", "b", "a"),
    ],
)
def test_each_questions_hidden_test_takes_the_right_answer_and_refuses_a_typical_wrong_one(
    notebook, name, right, wrong
) -> None:
    path = {"loss": LOSS, "activations": ACTIVATIONS}[notebook]
    source = cell(path, f"test_{name}_hidden").source

    def run(answer):
        exec(source, {"np": np, "assert_answer": assert_answer, name: answer})

    run(right)
    with pytest.raises(CheckFailed):
        run(wrong)
