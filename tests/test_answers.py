"""helpers.answers.load_answers: a later notebook takes its functions from an earlier one.

Only answer cells (nbgrader ``solution``) and ``setup``-tagged cells run; loading never raises
for a missing, broken or unfinished notebook, but the function it returns explains, when
called, which notebook to finish.
"""

from __future__ import annotations

import math
import traceback
import warnings
from pathlib import Path

import nbformat
import numpy as np
import pytest

from helpers.answers import AnswerNotReady, load_answers

from project import SOURCE

SETUP = "import numpy as np\n"
ANSWER = "def double(x):\n    return np.asarray(x) * 2\n\n\ndef halve(x):\n    return x / 2\n"
# A test cell: it must never run when another notebook loads this one.
TEST = "raise RuntimeError('the test cell ran')\nLEAKED = True\n"


def answer_cell(source: str):
    return nbformat.v4.new_code_cell(
        source,
        metadata={"nbgrader": {"solution": True, "grade": False, "grade_id": "answer"}},
    )


def setup_cell(source: str):
    return nbformat.v4.new_code_cell(source, metadata={"tags": ["setup"]})


def write_notebook(folder: Path, name: str, *cells) -> Path:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("# An exercise"), *cells]
    path = folder / name
    nbformat.write(notebook, path)
    return path


def not_ready_message(function, *args) -> str:
    with pytest.raises(AnswerNotReady) as caught:
        function(*args)
    assert isinstance(caught.value, NotImplementedError)
    return str(caught.value)


@pytest.fixture
def standard(tmp_path) -> Path:
    """A folder holding 01_double.ipynb: a setup cell, an answer cell and a test cell."""
    write_notebook(
        tmp_path,
        "01_double.ipynb",
        setup_cell(SETUP),
        answer_cell(ANSWER),
        nbformat.v4.new_code_cell(TEST),
    )
    return tmp_path


# ---------------------------------------------------------------- loading working answers


def test_one_name_gives_the_function(standard):
    double = load_answers("01_double.ipynb", "double", folder=standard)
    assert callable(double) and double.__name__ == "double"
    np.testing.assert_array_equal(double([1, 2]), [2, 4])  # np comes from the setup cell


def test_several_names_give_a_tuple_in_order(standard):
    loaded = load_answers("01_double.ipynb", "halve", "double", folder=standard)
    assert isinstance(loaded, tuple) and len(loaded) == 2
    halve, double = loaded
    assert halve(8) == 4
    assert double(3) == 6


def test_folder_may_be_a_string(standard):
    double = load_answers("01_double.ipynb", "double", folder=str(standard))
    assert double(1) == 2


def test_default_folder_is_the_current_one(standard, monkeypatch):
    monkeypatch.chdir(standard)
    assert load_answers("01_double.ipynb", "double")(5) == 10


def test_setup_and_answer_cells_run_but_no_other_cell(tmp_path):
    write_notebook(
        tmp_path,
        "nb.ipynb",
        setup_cell("import numpy as np\nSCALE = 3\n"),
        nbformat.v4.new_code_cell("SCALE = 100\n"),  # ordinary cell: must not run
        answer_cell("def scaled(x):\n    return np.multiply(x, SCALE)\n"),
        nbformat.v4.new_code_cell(TEST),
    )
    scaled = load_answers("nb.ipynb", "scaled", folder=tmp_path)
    assert scaled(2) == 6
    assert "LEAKED" not in scaled.__wrapped__.__globals__
    assert scaled.__wrapped__.__globals__["SCALE"] == 3


def test_cells_without_tags_or_solution_flag_are_skipped(tmp_path):
    graded_test = nbformat.v4.new_code_cell(
        TEST, metadata={"nbgrader": {"solution": False, "grade": True, "grade_id": "t"}}
    )
    other_tag = nbformat.v4.new_code_cell(TEST, metadata={"tags": ["demo"]})
    write_notebook(tmp_path, "nb.ipynb", graded_test, other_tag, answer_cell(ANSWER))
    assert load_answers("nb.ipynb", "halve", folder=tmp_path)(4) == 2


def test_an_unanswered_question_does_not_keep_the_functions_back(tmp_path):
    question = answer_cell("raise NotImplementedError()\n")
    question.metadata.tags = ["question"]
    write_notebook(tmp_path, "nb.ipynb", answer_cell(ANSWER), question)
    assert load_answers("nb.ipynb", "halve", folder=tmp_path)(4) == 2


def test_magics_in_a_setup_cell_are_skipped(tmp_path):
    write_notebook(
        tmp_path,
        "nb.ipynb",
        setup_cell(
            "%matplotlib inline\n%load_ext autoreload\n!echo hi\n"
            "x = (10\n     % 3)\n"  # a continuation line starting with % is not a magic
            "import numpy as np\n"
        ),
        answer_cell(ANSWER),
    )
    assert load_answers("nb.ipynb", "double", folder=tmp_path)(2) == 4


def test_loading_twice_gives_independent_namespaces(standard):
    first = load_answers("01_double.ipynb", "double", folder=standard)
    second = load_answers("01_double.ipynb", "double", folder=standard)
    assert first.__wrapped__.__globals__ is not second.__wrapped__.__globals__


# ---------------------------------------------------------------- problems become placeholders


def test_no_names_is_an_error(standard):
    with pytest.raises(ValueError, match="at least one"):
        load_answers("01_double.ipynb", folder=standard)


def test_missing_notebook_gives_placeholders_naming_the_file(tmp_path):
    first, second = load_answers("03_absent.ipynb", "first", "second", folder=tmp_path)
    assert first.__name__ == "first" and second.__name__ == "second"
    message = not_ready_message(first, 1)
    assert "first is not available" in message
    assert "03_absent.ipynb was not found" in message
    assert str(tmp_path) in message
    assert "second is not available" in not_ready_message(second)


@pytest.mark.parametrize(
    ("source", "kind"),
    [
        ("def double(x):\n    return x *\n", "SyntaxError"),
        ("def double(x):\n    return 2 * x\n\n\nSCALE = 1 / 0\n", "ZeroDivisionError"),
        ("undefined_name + 1\n", "NameError"),
    ],
)
def test_failing_answer_cell_gives_placeholders_naming_the_notebook(tmp_path, source, kind):
    write_notebook(tmp_path, "02_broken.ipynb", answer_cell(source))
    double = load_answers("02_broken.ipynb", "double", folder=tmp_path)
    message = not_ready_message(double, 1)
    assert "double is not available" in message
    assert "a cell of 02_broken.ipynb fails" in message
    assert kind in message


def test_failing_setup_cell_is_reported_too(tmp_path):
    write_notebook(
        tmp_path, "nb.ipynb", setup_cell("import module_that_does_not_exist\n"), answer_cell(ANSWER)
    )
    message = not_ready_message(load_answers("nb.ipynb", "double", folder=tmp_path), 1)
    assert "a cell of nb.ipynb fails" in message
    assert "ModuleNotFoundError" in message


def test_later_cells_do_not_run_after_a_failure(tmp_path):
    write_notebook(
        tmp_path,
        "nb.ipynb",
        answer_cell("raise ValueError('first cell')\n"),
        answer_cell(ANSWER),
    )
    message = not_ready_message(load_answers("nb.ipynb", "double", folder=tmp_path), 1)
    assert "ValueError: first cell" in message


def test_undefined_name_gives_a_placeholder_saying_so(standard):
    double, triple = load_answers("01_double.ipynb", "double", "triple", folder=standard)
    assert double(2) == 4  # the defined one still works
    message = not_ready_message(triple, 2)
    assert "01_double.ipynb does not define a function triple" in message


def test_a_name_bound_to_a_non_function_is_not_a_function(tmp_path):
    write_notebook(tmp_path, "nb.ipynb", answer_cell("double = 2\n"))
    message = not_ready_message(load_answers("nb.ipynb", "double", folder=tmp_path))
    assert "does not define a function double" in message


def test_unfinished_stub_raises_answer_not_ready_naming_function_and_notebook(tmp_path):
    stub = "def relu_backward(dH, Z):\n    raise NotImplementedError\n"
    write_notebook(tmp_path, "02_activation.ipynb", answer_cell(stub))
    relu_backward = load_answers("02_activation.ipynb", "relu_backward", folder=tmp_path)
    assert relu_backward.__name__ == "relu_backward"
    with pytest.raises(NotImplementedError) as caught:
        relu_backward(1, 2)
    error = caught.value
    assert isinstance(error, AnswerNotReady)
    assert "relu_backward in 02_activation.ipynb is not finished yet" in str(error)
    assert isinstance(error.__cause__, NotImplementedError)


def test_answer_not_ready_shows_in_a_notebook_as_its_message_alone(tmp_path):
    stub = "def relu_backward(dH, Z):\n    raise NotImplementedError\n"
    write_notebook(tmp_path, "02_activation.ipynb", answer_cell(stub))
    relu_backward = load_answers("02_activation.ipynb", "relu_backward", folder=tmp_path)
    with pytest.raises(AnswerNotReady) as caught:
        relu_backward(1, 2)
    # IPython prints what _render_traceback_ returns instead of the frames
    assert caught.value._render_traceback_() == [
        f"\x1b[0;31mAnswerNotReady\x1b[0m: {caught.value}"
    ]


def test_an_error_in_an_earlier_notebook_shows_that_cell_not_the_notebooks_json(tmp_path):
    answer = "def halve(x):\n    return x / 0\n"
    write_notebook(tmp_path, "01_halve.ipynb", setup_cell(SETUP), answer_cell(answer))
    halve = load_answers("01_halve.ipynb", "halve", folder=tmp_path)
    with pytest.raises(ZeroDivisionError) as caught:
        halve(1)
    frame = traceback.extract_tb(caught.value.__traceback__)[-1]
    assert frame.filename == "<01_halve.ipynb, answer cell 2>"
    assert frame.line == "return x / 0"  # the cell's own line, found by linecache


def test_answer_not_ready_from_an_earlier_notebook_passes_through_unchanged(tmp_path):
    write_notebook(
        tmp_path,
        "02_later.ipynb",
        setup_cell(
            "from helpers.answers import load_answers\n"
            f"earlier = load_answers('01_missing.ipynb', 'earlier', folder={str(tmp_path)!r})\n"
        ),
        answer_cell("def later():\n    return earlier()\n"),
    )
    later = load_answers("02_later.ipynb", "later", folder=tmp_path)
    message = not_ready_message(later)
    assert "earlier is not available" in message
    assert "01_missing.ipynb was not found" in message


def test_other_errors_of_a_loaded_function_are_not_hidden(standard):
    halve = load_answers("01_double.ipynb", "halve", folder=standard)
    with pytest.raises(TypeError):
        halve("text")


@pytest.mark.parametrize(
    "content",
    ['{"cells": [', "not json at all", '{"nbformat": 4}', "[1, 2, 3]"],
    ids=["truncated", "not-json", "no-cells", "a-list"],
)
def test_corrupt_notebook_is_reported(tmp_path, content):
    (tmp_path / "nb.ipynb").write_text(content, encoding="utf-8")
    message = not_ready_message(load_answers("nb.ipynb", "double", folder=tmp_path))
    assert "nb.ipynb cannot be read as a notebook" in message


# ---------------------------------------------------------------- the real notebooks


@pytest.fixture
def keep_showwarning(monkeypatch):
    """The real setup cells call route_warnings_to_stdout(); put warnings.showwarning back."""
    monkeypatch.setattr(warnings, "showwarning", warnings.showwarning)


@pytest.mark.usefixtures("keep_showwarning")
def test_real_compute_loss_gives_ln_10_for_a_uniform_guess(rng):
    compute_loss = load_answers("01_loss.ipynb", "compute_loss", folder=SOURCE)
    m = 7
    HL = np.full((10, m), 0.1)
    Y = np.eye(10)[:, rng.integers(0, 10, size=m)]
    loss = compute_loss(HL, Y)
    assert isinstance(loss, float)
    assert loss == pytest.approx(math.log(10), rel=1e-12)


@pytest.mark.usefixtures("keep_showwarning")
def test_real_L_layer_model_trains_on_tiny_data(rng, monkeypatch):
    # Its setup cell loads notebooks 1, 4 and 5 by name from the current folder.
    monkeypatch.chdir(SOURCE)
    L_layer_model = load_answers("06_model.ipynb", "L_layer_model", folder=SOURCE)
    X = rng.standard_normal((4, 6))
    Y = np.eye(3)[:, rng.integers(0, 3, size=6)]
    parameters, losses = L_layer_model(
        X, Y, [4, 5, 3], learning_rate=0.1, num_iterations=3, seed=0, return_losses=True
    )
    assert {name: value.shape for name, value in parameters.items()} == {
        "W1": (5, 4),
        "b1": (5, 1),
        "W2": (3, 5),
        "b2": (3, 1),
    }
    assert len(losses) == 3
    assert all(np.isfinite(losses))
    assert losses[-1] < losses[0]
