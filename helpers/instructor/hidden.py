"""The hidden-test kit: instructor-only, like ``helpers.instructor.reference``, its import.

Hidden tests run in the student's kernel, after the student's code. Each begins with
``rng = hidden.start(seed)`` and runs the student's answer through ``hidden.call``, which
    * silences NumPy warnings while the student's code runs: the autograder gives 0 to a test
      cell that writes to stderr, and a correct answer may warn,
    * binds the reference versions of the earlier exercises in the notebook's namespace
      (``uses``), so that a mistake in an earlier notebook never costs points in a later one,
    * fails an answer that calls the reference solution of the exercise (or of ``forbid``),
    * hands the answer copies of the inputs, so that what it changes in place never reaches
      the test, and with ``unchanged=True`` fails an answer that changes its inputs.
The tests then compare with the reference and with centred differences
(``helpers.gradcheck``), so that a grade never rests on the reference implementation alone.
``start`` refuses to grade when the comparison tools were replaced (``assert_untampered``).

Interface:
    start(seed) -> numpy Generator
    call(namespace, name, *args, uses=(), forbid=(), stand_ins=None, unchanged=False, **kwargs)
    graded_answers(names) -> reference functions (entry point backprop.graded_answers)
    forbid_reference(*names)                context manager
    quiet()                                 context manager
    assert_untampered()
"""

from __future__ import annotations

import ast
import contextlib
import copy
import inspect
import os
import sys
import warnings

import numpy as np

from helpers import checks, gradcheck
from helpers.instructor import reference


def start(seed: int) -> np.random.Generator:
    """Begin a hidden test: check that nothing it relies on was replaced; its random draws."""
    assert_untampered()
    return np.random.default_rng(seed)


def call(namespace: dict, name: str, *args, uses=(), forbid=(), stand_ins=None,
         unchanged: bool = False, **kwargs):
    """The student's ``name`` (looked up in ``namespace``, the notebook's ``globals()``) called
    on copies of ``args`` and ``kwargs``, as described in the module's docstring.

    ``stand_ins``: other names bound in ``namespace`` during the call (e.g. a fixed start).
    """
    given_args, given_kwargs = copy.deepcopy((args, kwargs))
    bound = {n: getattr(reference, n) for n in uses} | dict(stand_ins or {})
    with quiet(), checks.replaced(namespace, **bound), forbid_reference(name, *forbid):
        result = namespace[name](*given_args, **given_kwargs)
    if unchanged:
        pairs = zip((*args, *kwargs.values()), (*given_args, *given_kwargs.values()), strict=True)
        for before, after in pairs:
            if isinstance(before, np.ndarray) and not np.array_equal(before, after):
                raise AssertionError(f"{name} changed its inputs: it must leave them as given")
    return result


def graded_answers(names) -> tuple:
    """The reference functions ``names``: what ``helpers.answers.load_answers`` hands a later
    notebook while nbgrader grades (entry point ``backprop.graded_answers``)."""
    return tuple(getattr(reference, name) for name in names)


@contextlib.contextmanager
def forbid_reference(*names: str):
    """Make a call of the reference functions ``names`` raise while the block runs, unless the
    reference itself makes it (``layer_backward`` uses ``linear_backward``).

    Wrapped around a call of the student's answer, it fails an answer that hands the work to
    the reference solution, however it got hold of it. A profile hook sees every call, so the
    reference functions stay plain.
    """
    forbidden = {getattr(reference, name).__code__: name for name in names}
    own_file = reference.__file__
    previous = sys.getprofile()

    def refuse(frame, event, arg):
        if previous is not None:  # an enclosing block's names stay forbidden
            previous(frame, event, arg)
        if event == "call" and frame.f_code in forbidden:
            caller = frame.f_back
            if caller is None or caller.f_code.co_filename != own_file:
                name = forbidden[frame.f_code]
                raise AssertionError(f"this answer calls the reference {name}: write it yourself")

    sys.setprofile(refuse)
    try:
        yield
    finally:
        sys.setprofile(previous)


@contextlib.contextmanager
def quiet():
    """Run code with NumPy's floating-point warnings and Python warnings silenced."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


# NumPy functions a test might compare with; each must still be NumPy's own.
_TRUSTED_NUMPY = {
    "numpy.allclose": (np, "allclose"),
    "numpy.isclose": (np, "isclose"),
    "numpy.array_equal": (np, "array_equal"),
    "numpy.testing.assert_allclose": (np.testing, "assert_allclose"),
    "numpy.testing.assert_array_equal": (np.testing, "assert_array_equal"),
}
_TRUSTED_MODULES = (checks, gradcheck, reference)


def assert_untampered() -> None:
    """Fail when NumPy's comparison functions or the course's helpers have been replaced.

    Student code runs in the same process as the tests and could, say, assign
    ``np.allclose = lambda *a, **k: True``. Every function the tests rely on must still be the
    one defined under its own name in its own module's file.
    """
    for label, (module, attribute) in _TRUSTED_NUMPY.items():
        if not _is_genuine(getattr(module, attribute, None), attribute, "numpy"):
            raise AssertionError(f"{label} has been replaced: grading needs NumPy's own version")
    for module in _TRUSTED_MODULES:
        for name in _top_level_functions(module):
            if not _is_genuine(getattr(module, name, None), name, module.__file__):
                raise AssertionError(f"{module.__name__}.{name} has been replaced")


def _is_genuine(function, name: str, origin: str) -> bool:
    """``function`` is a plain function called ``name`` whose source file matches ``origin``.

    ``origin`` is a module's file, or a package name that must appear as a folder in the path.
    """
    function = inspect.unwrap(function) if callable(function) else function
    if not inspect.isfunction(function) or function.__code__.co_name != name:
        return False
    source = inspect.getsourcefile(function) or ""
    if origin.endswith(".py"):
        return os.path.samefile(source, origin) if os.path.exists(source) else False
    return f"{os.sep}{origin}{os.sep}" in source


def _top_level_functions(module) -> list[str]:
    tree = ast.parse(inspect.getsource(module))
    return [node.name for node in tree.body if isinstance(node, ast.FunctionDef)]
