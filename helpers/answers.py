"""Use the functions you wrote in an earlier notebook of the series.

In the course text everything lives in one file; here each step has its own notebook, and a
later notebook loads the earlier answers from its neighbours in the same folder, so that the
network you train at the end is built from your own code.

    relu_backward, sigmoid_backward = load_answers(
        "02_activation_backward.ipynb", "relu_backward", "sigmoid_backward")

Only the notebook's answer cells and its set-up cells (tagged ``setup``) run; its tests and
demonstrations do not. Loading never fails: when the notebook is missing, broken or unfinished,
you get a function that explains which notebook to finish when you call it.

While nbgrader grades, the tests run in the grading process, which builds their namespace
inside ``answers_from(provider)``: there ``load_answers`` returns ``provider(names)`` (the
reference versions), so that a mistake in an earlier notebook costs points there, never again
in a later one. The student's kernel, even while graded, always keeps the student's own; this
module knows nothing of the instructor's code.

Interface:
    load_answers(notebook, *names, folder=None) -> one function, or a tuple of them
    answers_from(provider)  context manager: load_answers returns provider(names) meanwhile
    AnswerNotReady: the error raised by such a function (a NotImplementedError)
"""

from __future__ import annotations

import contextlib
import functools
import json
import linecache
from collections.abc import Callable
from pathlib import Path

from IPython.core.inputtransformer2 import TransformerManager

from helpers.answer_rules import answer_cell_problems, is_answer_cell, protected_names
from helpers.checks import headline


class AnswerNotReady(NotImplementedError):
    """An earlier notebook's function is missing, broken or not written yet.

    In a notebook it shows as its one-line message: the frames it passed through belong to
    the earlier notebook and to this module, and would only bury the message.
    """

    def _render_traceback_(self) -> list[str]:
        return [headline(self)]


def load_answers(notebook: str, *names: str, folder: str | Path | None = None):
    """Load the functions ``names`` defined by the answer cells of ``notebook``.

    Args:
        notebook: file name of an earlier notebook, e.g. ``"01_loss.ipynb"``.
        names: the functions to take from it.
        folder: where the notebook is; by default the current folder (a notebook's own).

    Returns:
        The function, or a tuple of functions in the order of ``names``.
    """
    if not names:
        raise ValueError("name at least one function to load")
    if _provider is not None:
        graded = tuple(_provider(names))
        return graded[0] if len(graded) == 1 else graded
    path = Path(folder or Path.cwd()) / notebook
    namespace, problem = _run_answer_cells(path)
    functions = []
    for name in names:
        function = namespace.get(name)
        if problem is not None:
            functions.append(_not_ready(name, problem))
        elif not callable(function):
            functions.append(_not_ready(name, f"{notebook} does not define a function {name}"))
        else:
            functions.append(_explain_unfinished(function, notebook))
    return functions[0] if len(functions) == 1 else tuple(functions)


_provider = None  # set by answers_from, in the grading process only


@contextlib.contextmanager
def answers_from(provider: Callable):
    """While the block runs, ``load_answers`` returns ``provider(names)`` instead of running
    the earlier notebook: how the grading process gives its tests the reference versions."""
    global _provider
    previous, _provider = _provider, provider
    try:
        yield
    finally:
        _provider = previous


def _run_answer_cells(path: Path) -> tuple[dict, str | None]:
    """Run the set-up and answer cells of a notebook; return its names and any problem."""
    namespace: dict = {"__name__": f"answers_of_{path.stem}", "get_ipython": _IgnoreMagics}
    if not path.exists():
        return namespace, f"{path.name} was not found in {path.parent}"
    try:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        return namespace, f"{path.name} cannot be read as a notebook ({error})"
    try:
        sources = [
            "".join(c["source"])
            for c in cells
            if c["cell_type"] == "code" and _is_answer_or_setup(c)
        ]
        protected = protected_names(cells)
        refused = [problem for c in cells if c["cell_type"] == "code" and is_answer_cell(c)
                   for problem in answer_cell_problems("".join(c["source"]), protected)]
    except (AttributeError, KeyError, TypeError) as error:
        return namespace, f"{path.name} is not a valid notebook ({type(error).__name__}: {error})"
    if refused:  # as when graded: that notebook's functions are not there
        return namespace, f"grading refuses an answer cell of {path.name}: {'; '.join(refused)}"
    for number, source in enumerate(sources, start=1):
        try:
            code = _without_magics(source)
            exec(compile(code, _remember_source(path, number, code), "exec"), namespace)
        except Exception as error:  # any mistake in the student's cell is reported, not raised
            return namespace, f"a cell of {path.name} fails: {type(error).__name__}: {error}"
    return namespace, None


def _remember_source(path: Path, number: int, code: str) -> str:
    """A name for one cell's code, under which tracebacks find that code and not the lines of
    the notebook's JSON file (``linecache`` keeps entries without a modification time)."""
    name = f"<{path.name}, answer cell {number}>"
    linecache.cache[name] = (len(code), None, code.splitlines(keepends=True), name)
    return name


def _is_answer_or_setup(cell: dict) -> bool:
    """Set-up cells and the answer cells that define functions; not a notebook's questions,
    whose answers later notebooks do not need (an unanswered one raises NotImplementedError)."""
    tags = (cell.get("metadata") or {}).get("tags", [])
    return (is_answer_cell(cell) and "question" not in tags) or "setup" in tags


def _without_magics(source: str) -> str:
    """Turn IPython syntax (``%matplotlib``, ``!pip``) into plain Python, as IPython does."""
    return TransformerManager().transform_cell(source)


class _IgnoreMagics:
    """Stands in for ``get_ipython()``: earlier notebooks' magics and shell commands do nothing."""

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


def _not_ready(name: str, reason: str) -> Callable:
    def not_ready(*args, **kwargs):
        raise AnswerNotReady(f"{name} is not available: {reason}.")

    not_ready.__name__ = name
    return not_ready


def _explain_unfinished(function: Callable, notebook: str) -> Callable:
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except AnswerNotReady:
            raise
        except NotImplementedError as error:
            raise AnswerNotReady(
                f"{function.__name__} in {notebook} is not finished yet: complete it there, "
                "save that notebook, and run this notebook again"
            ) from error

    return wrapper
