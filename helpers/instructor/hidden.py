"""Tools of the hidden tests: instructor-only, like ``helpers.instructor.reference``, its import.

Hidden tests run in the student's kernel, after the student's code. They
    * draw fresh random cases (``helpers.gradcheck.random_network``, ``random_layer``),
    * run the student's function with the reference versions of the earlier exercises swapped
      into the notebook's namespace (``reference_versions``), so that a mistake in an earlier
      notebook never costs points in a later one,
    * silence NumPy warnings while the student's code runs (``quiet``): the autograder gives 0
      to a test cell that writes to stderr, and a correct answer may warn,
    * check the answer against centred differences too (``helpers.gradcheck.numerical_*``), so
      that a grade never rests on the reference implementation alone,
    * refuse to grade when the comparison tools they rely on were replaced (``assert_untampered``).

Interface:
    graded_answers(names) -> reference functions (entry point backprop.graded_answers)
    reference_versions(namespace, *names)   context manager
    forbid_reference(*names)                context manager
    quiet()                                 context manager
    assert_untampered()
"""

from __future__ import annotations

import ast
import contextlib
import inspect
import os
import warnings

import numpy as np

from helpers import checks, gradcheck
from helpers.instructor import reference


def graded_answers(names) -> tuple:
    """The reference functions ``names``: what ``helpers.answers.load_answers`` hands a later
    notebook while nbgrader grades (entry point ``backprop.graded_answers``)."""
    return tuple(getattr(reference, name) for name in names)


@contextlib.contextmanager
def reference_versions(namespace: dict, *names: str):
    """Bind ``names`` in ``namespace`` (a notebook's ``globals()``) to the reference functions.

    The student's functions look their helpers up in that namespace when they run, so inside
    the ``with`` block they call the reference versions. The old bindings come back afterwards.
    """
    with checks.replaced(namespace, **{name: getattr(reference, name) for name in names}):
        yield


@contextlib.contextmanager
def forbid_reference(*names: str):
    """Make the reference functions ``names`` raise while the block runs.

    Wrapped around a call of the student's answer, it fails an answer that hands the work to
    the reference solution, however it got hold of it.
    """
    added = set(names) - reference._forbidden
    reference._forbidden.update(added)
    try:
        yield
    finally:
        reference._forbidden.difference_update(added)


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
