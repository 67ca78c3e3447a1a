"""The hidden-test kit: instructor-only, like ``helpers.instructor.reference``, its import.

While nbgrader grades, test cells run in the grading process (``helpers.instructor.judge``) and
the student's functions are ``KernelFunction``s that run in the student's sandboxed kernel; in
the instructor's own runs of ``source/`` they are plain functions. Hidden tests begin with
``rng = hidden.start(seed)`` and run the student's answer through ``hidden.call``, which
    * binds the reference versions of the earlier exercises (``uses``) and any stand-ins where
      the answer looks them up, so that a mistake in an earlier notebook never costs points in a
      later one (while grading they stay in this process and the kernel calls back for them),
    * hands the answer copies of the inputs, and with ``unchanged=True`` fails an answer that
      changes its inputs,
    * silences NumPy warnings: the autograder gives 0 to a test cell that writes to stderr, and a
      correct answer may warn.
The tests then compare with the reference and with centred differences (``helpers.gradcheck``),
here, where the student's code cannot reach.

Interface:
    start(seed) -> numpy Generator
    call(namespace, name, *args, uses=(), stand_ins=None, unchanged=False, **kwargs)
    quiet()                                 context manager
"""

from __future__ import annotations

import contextlib
import copy
import warnings

import numpy as np

from helpers import checks
from helpers.instructor import reference
from helpers.instructor.judge import KernelFunction


def start(seed: int) -> np.random.Generator:
    """The random draws of a hidden test."""
    return np.random.default_rng(seed)


def call(namespace: dict, name: str, *args, uses=(), stand_ins=None, unchanged: bool = False,
         **kwargs):
    """The student's ``name`` (looked up in ``namespace``, the tests' ``globals()``) called on
    copies of ``args`` and ``kwargs``, as described in the module's docstring.

    ``stand_ins``: other names bound in ``namespace`` during the call (e.g. a fixed start).
    """
    given_args, given_kwargs = copy.deepcopy((args, kwargs))
    bound = {n: getattr(reference, n) for n in uses} | dict(stand_ins or {})
    function = namespace[name]
    with quiet(), checks.replaced(namespace, **bound):
        if isinstance(function, KernelFunction):
            result, (given_args, given_kwargs) = function.call(*given_args, **given_kwargs)
        else:
            result = function(*given_args, **given_kwargs)
    if unchanged:
        pairs = zip((*args, *kwargs.values()), (*given_args, *dict(given_kwargs).values()),
                    strict=False)  # the kernel may report fewer: those cannot be checked
        for before, after in pairs:
            if isinstance(before, np.ndarray) and not np.array_equal(before, after):
                raise AssertionError(f"{name} changed its inputs: it must leave them as given")
    return result


@contextlib.contextmanager
def quiet():
    """Run code with NumPy's floating-point warnings and Python warnings silenced."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield
