"""The notebook series: structure, signatures, release in sync, stubs that fail, and no leaks.

The source notebooks themselves run under nbval (``make test`` passes ``--nbval-lax``); here we
check what nbval cannot: the generated release and its relation to the source.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbgrader.nbgraderformat import MetadataValidator
from nbgrader.preprocessors import ClearSolutions

from helpers.student.notebooks import run as run_notebook

from project import PROJECT, RELEASE, SOURCE

# The course text's functions, notebook by notebook, with their exact parameters.
EXERCISES = {
    "01_loss.ipynb": {"compute_loss": "HL, Y"},
    "02_activation_backward.ipynb": {
        "sigmoid_backward": "dH, sigmoid_memory",
        "relu_backward": "dH, relu_memory",
    },
    "03_layer_backward.ipynb": {"layer_backward": "dH, memory, activation='relu'"},
    "04_L_layer_backward.ipynb": {"L_layer_backward": "HL, Y, memories"},
    "05_update_parameters.ipynb": {"update_parameters": "parameters, gradients, learning_rate"},
    "06_model.ipynb": {
        "L_layer_model": "X, Y, dimensions, learning_rate=0.0075, num_iterations=3000, "
        "print_loss=False, *, init='course', seed=None, batch_size=None, return_losses=False"
    },
    "07_predict.ipynb": {"predict": "X, y, parameters"},
}
TOTAL_POINTS = 100
STUB_ERRORS = {"NotImplementedError", "AnswerNotReady"}
STUB = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}


def read(path: Path):
    return nbformat.read(path, as_version=4)


def nbgrader_meta(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def code_cells(nb, **wanted):
    return [
        c
        for c in nb.cells
        if c.cell_type == "code" and all(nbgrader_meta(c).get(k) == v for k, v in wanted.items())
    ]


def test_the_series_has_its_seven_notebooks():
    assert sorted(p.name for p in SOURCE.glob("*.ipynb")) == sorted(EXERCISES)
    assert sorted(p.name for p in RELEASE.glob("*.ipynb")) == sorted(EXERCISES)


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_exercises_keep_the_course_signatures(name):
    defined = {}
    for cell in code_cells(read(RELEASE / name), solution=True):
        for node in ast.parse(cell.source).body:
            if isinstance(node, ast.FunctionDef):
                defined[node.name] = ast.unparse(node.args)
    assert defined == EXERCISES[name]


@pytest.mark.parametrize("folder", [SOURCE, RELEASE], ids=["source", "release"])
def test_cells_are_well_formed_and_carry_no_outputs(folder):
    total = 0
    for path in sorted(folder.glob("*.ipynb")):
        nb = read(path)
        nbformat.validate(nb)
        MetadataValidator().validate_nb(nb)  # nbgrader's own rules: unique ids, points, locks
        for cell in nb.cells:
            meta = nbgrader_meta(cell)
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, f"{path.name}: output"
            if meta.get("grade"):
                assert meta["locked"] and meta["points"] > 0, f"{path.name}: {meta['grade_id']}"
                total += meta["points"]
            if "BEGIN HIDDEN TESTS" in cell.source:
                assert meta.get("grade"), f"{path.name}: hidden tests outside a test cell"
        assert code_cells(nb, solution=True), f"{path.name} has no exercise"
    assert total == TOTAL_POINTS


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_every_exercise_has_a_visible_and_a_hidden_test_of_its_own(name):
    tests = code_cells(read(SOURCE / name), grade=True)
    for function in EXERCISES[name]:
        hidden = [c for c in tests if f'hidden.call(globals(), "{function}"' in c.source]
        visible = [
            c for c in tests
            if "BEGIN HIDDEN TESTS" not in c.source and re.search(rf"\b{function}\(", c.source)
        ]
        assert hidden, f"{name}: no hidden test calls {function}"
        assert visible, f"{name}: no visible test calls {function}"


# ---------------------------------------------------------------- the release is generated
def nbgrader_env() -> dict:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


@pytest.mark.slow
def test_release_is_exactly_what_nbgrader_generates_from_source(tmp_path):
    shutil.copytree(SOURCE, tmp_path / "source" / "backprop")
    shutil.copy(PROJECT / "nbgrader_config.py", tmp_path)
    subprocess.run(
        [sys.executable, "-m", "nbgrader", "generate_assignment", "backprop", "--force"],
        cwd=tmp_path,
        env=nbgrader_env(),
        check=True,
        capture_output=True,
    )
    generated = tmp_path / "release" / "backprop"
    assert sorted(p.name for p in generated.iterdir()) == sorted(p.name for p in RELEASE.iterdir())
    for path in sorted(generated.iterdir()):
        assert path.read_text() == (RELEASE / path.name).read_text(), (
            f"release/backprop/{path.name} differs from what source/ generates: run `make release`"
        )


# ---------------------------------------------------------------- untouched stubs
def execute(folder: Path, names: str = "*.ipynb", env: dict | None = None) -> dict:
    """Run every notebook of ``folder`` top to bottom, errors and all (the course's one
    runner, as the student's check uses it)."""
    executed = {}
    for path in sorted(folder.glob(names)):
        nb = read(path)
        _, problem = run_notebook(nb, folder, timeout=120, env=env)
        assert problem is None, f"{path.name}: {problem}"
        executed[path.name] = nb
    return executed


@pytest.fixture(scope="module")
def executed_release(tmp_path_factory):
    """Every release notebook run as a student would before writing anything."""
    folder = tmp_path_factory.mktemp("release") / "backprop"
    shutil.copytree(RELEASE, folder)
    return execute(folder)


@pytest.fixture(scope="module")
def executed_stubs_with_hidden_tests(tmp_path_factory):
    """The source notebooks with nbgrader's stubs for the solutions but every hidden test kept:
    what the autograder runs for a student who wrote nothing."""
    folder = tmp_path_factory.mktemp("stubs") / "backprop"
    folder.mkdir(parents=True)
    for path in SOURCE.glob("*.ipynb"):
        nb, _ = ClearSolutions(code_stub=STUB).preprocess(read(path), {})
        nbformat.write(nb, folder / path.name)
    return execute(folder)


def errors_of(cell) -> list[str]:
    return [o.ename for o in cell.get("outputs", []) if o.output_type == "error"]


@pytest.mark.slow
def test_release_fails_only_where_a_stub_is_not_written(executed_release):
    """Errors come from unwritten stubs, or from names that a cell failing so never assigned."""
    for name, nb in executed_release.items():
        never_assigned = set()
        for cell in nb.cells:
            for error in (o for o in cell.get("outputs", []) if o.output_type == "error"):
                missing = re.fullmatch(r"name '(\w+)' is not defined", error.evalue)
                cascade = error.ename == "NameError" and missing and missing[1] in never_assigned
                assert error.ename in STUB_ERRORS or cascade, (
                    f"{name}: {cell.source[:60]!r} raised {error.ename}: {error.evalue}"
                )
            if errors_of(cell):
                never_assigned |= assigned_names(cell.source)
        for cell in code_cells(nb, solution=True):
            if "question" in cell.metadata.get("tags", []):  # unanswered: raises, as it should
                assert set(errors_of(cell)) == {"NotImplementedError"}, f"{name}: {cell.source}"
                continue
            assert not errors_of(cell), f"{name}: defining the stub fails"


def assigned_names(source: str) -> set[str]:
    tree = ast.parse(_python_only(source))
    return {
        n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
    }


@pytest.mark.slow
def test_every_test_cell_fails_on_the_untouched_stubs(executed_stubs_with_hidden_tests):
    """No test passes vacuously: with nothing written, every graded cell must fail."""
    for name, nb in executed_stubs_with_hidden_tests.items():
        for cell in code_cells(nb, grade=True):
            assert errors_of(cell), f"{name}: {nbgrader_meta(cell)['grade_id']} passes on a stub"
            assert set(errors_of(cell)) <= STUB_ERRORS, f"{name}: {errors_of(cell)}"


def _python_only(source: str) -> str:
    return "\n".join(
        "" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()
    )


# ---------------------------------------------------------------- figures
FIGURE_TAG = "figure"  # a cell meant to show a figure carries this tag
FIGURE_CELLS = {"01_loss.ipynb": 2, "03_layer_backward.ipynb": 1, "04_L_layer_backward.ipynb": 1,
                "06_model.ipynb": 3, "07_predict.ipynb": 5}


def images_of(cell) -> list:
    return [o for o in cell.get("outputs", []) if "image/png" in o.get("data", {})]


def shows_figure_as_text(cell) -> bool:
    """``<Figure size 600x600 with 1 Axes>`` instead of the picture."""
    return any(
        "Figure size" in o.get("data", {}).get("text/plain", "") and "image/png" not in o.data
        for o in cell.get("outputs", [])
        if o.output_type in ("execute_result", "display_data")
    )


def check_figures(executed: dict) -> dict[str, int]:
    """Every figure cell shows exactly one image; no cell shows a figure as text. Returns the
    number of figure cells per notebook."""
    counted = {}
    for name, nb in executed.items():
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            assert not errors_of(cell), f"{name}: {cell.source[:60]!r} raised {errors_of(cell)}"
            assert not shows_figure_as_text(cell), f"{name}: {cell.source[:60]!r}"
            if FIGURE_TAG in cell.metadata.get("tags", []):
                assert len(images_of(cell)) == 1, f"{name}: no image from {cell.source[:60]!r}"
                counted[name] = counted.get(name, 0) + 1
    return counted


@pytest.mark.slow
def test_every_figure_cell_of_the_solved_series_shows_its_image(tmp_path):
    folder = tmp_path / "backprop"
    shutil.copytree(SOURCE, folder)
    assert check_figures(execute(folder)) == FIGURE_CELLS


@pytest.mark.slow
@pytest.mark.parametrize(
    "backend", [None, "Agg", "svg", "module://matplotlib_inline.backend_inline"]
)
def test_figures_show_whatever_backend_the_environment_sets(tmp_path, backend):
    """JupyterLab's kernels get whatever MPLBACKEND the student's shell had, or none."""
    folder = tmp_path / "backprop"
    shutil.copytree(SOURCE, folder)
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    env.update({} if backend is None else {"MPLBACKEND": backend})
    executed = execute(folder, "01_loss.ipynb", env=env)
    assert check_figures(executed) == {"01_loss.ipynb": 2}
