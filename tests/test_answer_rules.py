"""helpers.answer_rules and the GuardAnswerCells preprocessor: answer cells that change the rules
are refused, correct answers never are."""

from __future__ import annotations

import nbformat
import pytest

from helpers.answer_rules import answer_cell_problems, protected_names
from helpers.instructor.preprocessors import GuardAnswerCells
from helpers.instructor.samples import load_catalogue, solution_code

from project import NOTEBOOKS, PROJECT, RELEASE

PROTECTED = frozenset({"assert_close", "layer_forward", "np"})


@pytest.mark.parametrize(
    "source, reason",
    [
        ("np.allclose = lambda *a, **k: True\n", "assigns to or deletes the attribute np.allclose"),
        ("del np.testing.assert_allclose\n", "assigns to or deletes"),
        ("assert_close = lambda *a, **k: None\n", "rebinds assert_close"),
        ("for i in range(3):\n    f = lambda: 0; assert_close = f\n", "rebinds assert_close"),
        ("[assert_close := 1]\n", "rebinds assert_close"),
        ("def f():\n    global assert_close\n    assert_close = None\n", "rebinds assert_close"),
        ("import numpy\nnp = numpy.ma\n", "rebinds np"),
        (
            "from helpers.instructor.reference import relu_backward\n",
            "imports helpers.instructor.reference",
        ),
        ("import helpers.checks\n", "imports helpers.checks"),
        ("import os\nos.kill(os.getpid(), 9)\n", "imports os"),
        ("from . import x\n", "imports ."),
        ("def f(g):\n    return g.__wrapped__(1)\n", "private attribute .__wrapped__"),
        ("results = {}\nresults._cache.clear()\n", "private attribute ._cache"),
        ("setattr(np, 'allclose', print)\n", "setattr"),
        ("exec('x = 1')\n", "exec"),
        ("open('helpers/reference.py').read()\n", "open"),
        ("x = __builtins__\n", "__builtins__"),
        ("!kill -9 $PPID\n", "shell command or an IPython magic"),
        ("%run other.ipynb\n", "shell command or an IPython magic"),
    ],
)
def test_tampering_is_refused_with_its_reason(source, reason):
    problems = answer_cell_problems(source, PROTECTED)
    assert problems and any(reason in problem for problem in problems), problems


@pytest.mark.parametrize(
    "source",
    [
        "def f(x):\n    import numpy as np\n    return np.where(x > 0, x, 0) @ x.T\n",
        "import copy\ndef u(p):\n    p = copy.deepcopy(p)\n    p['W1'] -= 1\n    return p\n",
        "def f(x):\n    assert_close = 3  # a local name: harmless\n    return x\n",
        "from numpy import einsum\nfrom math import log\n",
        "def f(:\n",  # not Python: it fails on its own when it runs
    ],
)
def test_ordinary_code_is_accepted(source):
    assert answer_cell_problems(source, PROTECTED) == []


def test_no_solution_and_no_alternative_sample_is_refused():
    cells = {nb: solution_code(nb, PROJECT) for nb in NOTEBOOKS}
    for nb, answers in cells.items():
        for grade_id, code in answers.items():
            assert answer_cell_problems(code, _protected(nb)) == [], f"{nb}:{grade_id}"
    for sample in load_catalogue():
        if sample.kind != "alternative":
            continue
        for edit in sample.edits:
            code = edit.applied_to(cells[edit.notebook][edit.grade_id])
            assert answer_cell_problems(code, _protected(edit.notebook)) == [], sample.name


def _protected(notebook: str) -> frozenset[str]:
    return protected_names(nbformat.read(RELEASE / f"{notebook}.ipynb", as_version=4).cells)


def test_the_preprocessor_replaces_a_refused_cell_and_keeps_the_code_as_a_comment():
    nb = nbformat.read(RELEASE / "01_loss.ipynb", as_version=4)
    answer = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution"))
    answer.source = "np.isclose = None\ndef compute_loss(HL, Y):\n    return 0.0\n"
    nb, _ = GuardAnswerCells().preprocess(nb, {})
    assert answer.source.startswith("raise PermissionError(")
    assert "# np.isclose = None" in answer.source
    assert answer.metadata["backprop"]["refused"]
    assert "np" in protected_names(nb.cells) and "assert_scalar_close" in protected_names(nb.cells)
