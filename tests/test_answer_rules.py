"""helpers.answer_rules: answer cells that change the rules are refused, correct answers never
are, and every place that runs a notebook refuses the same cells (grading's Execute, the
student's check, the Validate button, the student's own kernel in JupyterLab)."""

from __future__ import annotations

import nbformat
import pytest

from helpers.answer_rules import answer_cell_problems, guard_answer_cells, protected_names
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


def test_the_guard_replaces_a_refused_cell_and_keeps_the_code_as_a_comment():
    nb = nbformat.read(RELEASE / "01_loss.ipynb", as_version=4)
    answer = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution"))
    answer.source = "np.isclose = None\ndef compute_loss(HL, Y):\n    return 0.0\n"
    refused = guard_answer_cells(nb)
    assert list(refused) == ["compute_loss"] and "np.isclose" in refused["compute_loss"][0]
    assert "raise AnswerRefused(" in answer.source
    assert "# np.isclose = None" in answer.source
    assert answer.metadata["backprop"]["refused"]
    assert "np" in protected_names(nb.cells) and "assert_scalar_close" in protected_names(nb.cells)
    with pytest.raises(PermissionError, match="Grading refuses this answer cell.*np.isclose"):
        exec(answer.source, {})


def test_every_notebook_run_applies_the_guard():
    """Grading's Execute (configured through execution.configure, as the lab's Validate button
    is) and the student's check (execution.client_options) share the hook."""
    from traitlets.config import Config

    from helpers.student import execution

    config = Config()
    execution.configure(config)
    assert config.Execute.on_notebook_start is guard_answer_cells
    assert execution.client_options()["on_notebook_start"] is guard_answer_cells


def test_the_kernel_refuses_an_answer_cell_that_jupyterlab_sends(tmp_path, monkeypatch):
    """The set-up cell's ``start_notebook()`` installs the rules in the kernel. JupyterLab sends
    each cell's metadata with its code (``execute_request`` metadata), so the kernel refuses an
    answer cell, and only an answer cell, that grading would refuse."""
    from jupyter_client.manager import start_new_kernel

    notebook = tmp_path / "01_loss.ipynb"
    notebook.write_bytes((RELEASE / "01_loss.ipynb").read_bytes())
    monkeypatch.setenv("JPY_SESSION_NAME", str(notebook))  # as Jupyter names the notebook
    kernel, client = start_new_kernel(kernel_name="python3", cwd=str(tmp_path))
    try:
        answer = {"nbgrader": {"grade_id": "compute_loss", "solution": True}, "cellId": "01-04"}
        scipy = "from scipy.special import xlogy\ndef compute_loss(HL, Y):\n    return 0.0\n"
        assert _execute(client, "from helpers.kernel_setup import start_notebook\nstart_notebook()")
        error = _execute(client, scipy, answer)
        assert error["ename"] == "AnswerRefused"
        assert "it imports scipy.special: answers may import only numpy" in error["evalue"]
        assert _execute(client, "compute_loss", {})["ename"] == "NameError"  # none of it ran
        # a name the notebook's read-only cells import is protected, read from the notebook
        assert "rebinds assert_scalar_close" in _execute(
            client, "assert_scalar_close = print\n", answer)["evalue"]
        # the same code outside an answer cell runs: grading does not judge the student's
        # other cells either
        assert _execute(client, scipy, {}) is True
    finally:
        client.stop_channels()
        kernel.shutdown_kernel(now=True)


def _execute(client, code: str, metadata: dict | None = None):
    """Run ``code`` with the given request metadata; True, or the error's content."""
    request = client.session.msg("execute_request", {
        "code": code, "silent": False, "store_history": True, "user_expressions": {},
        "allow_stdin": False, "stop_on_error": False}, metadata=metadata or {})
    client.shell_channel.send(request)
    while True:
        reply = client.get_shell_msg(timeout=60)
        if reply["parent_header"].get("msg_id") == request["header"]["msg_id"]:
            break
    content = reply["content"]
    return True if content["status"] == "ok" else content


@pytest.mark.slow
def test_the_validate_button_refuses_what_grading_refuses(tmp_path, monkeypatch):
    """nbgrader's Validate handler, run as the student's lab runs it (``lab_command``'s
    environment and folder), fails notebook 1 when its answer imports SciPy, which passes
    every visible test when run unguarded (the student's check agrees: test_check_agrees)."""
    import logging

    from nbgrader.server_extensions.validate_assignment.handlers import (
        ValidateAssignmentHandler as Handler,
    )

    from helpers.instructor.samples import build
    from helpers.student.lab import lab_command

    sample = next(s for s in load_catalogue() if s.name == "loss_with_scipy")
    folder = build(sample, tmp_path / "backprop", PROJECT)
    _, environment, cwd = lab_command(RELEASE, folder)
    monkeypatch.setattr("os.environ", environment)
    monkeypatch.chdir(cwd)

    class Lab:  # the handler's own methods, without a web server
        settings, log = {"root_dir": str(folder)}, logging.getLogger("validate")
        root_dir, load_config = Handler.root_dir, Handler.load_config
        validate_notebook = Handler.validate_notebook

    reply = Lab().validate_notebook("01_loss.ipynb")
    assert reply["success"], reply  # it ran
    failed = {cell["source"].split("\n")[0] for cell in reply["value"].get("failed", [])}
    assert any("Part 1" in line for line in failed), reply["value"]
    errors = " ".join(cell.get("error", "") for cell in reply["value"]["failed"])
    assert "NameError" in errors and "compute_loss" in errors, errors  # the answer never ran
