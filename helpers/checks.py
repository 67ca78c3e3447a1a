"""Assertions for the notebooks' tests, with messages that say what is wrong and why it might be.

A failed check names the array, then compares shapes (expected first), then reports the largest
error and where it is (a single number is reported as a number), then adds a hint when the
mistake looks like a common one (a missing ``1/m``, a missing ``keepdims=True``, a transpose, a
flipped sign). A test names the slips of its own exercise with ``slips``: a hint, and what that
mistake would give; an answer that gives exactly that gets the hint.

In a notebook, a failed check shows its message first and then only the lines of the test
cell that led to it, not the frames inside this module (``CheckFailed``).

Interface:
    assert_close(name, got, expected, *, m=None, slips=None, rtol=1e-6, atol=1e-9)
    assert_scalar_close(name, got, expected, *, m=None, slips=None, rtol=1e-6, atol=1e-9)
    assert_gradient(name, analytic, numeric, *, m=None, slips=None, tolerance=1e-7)
    assert_finite(name, got)
    assert_printed_number(name, printed, expected)   any honest rendering of a printed number
    assert_answer(name, got, expected, *, rtol=0.02)   a question's answer: a letter or a number
    replaced(namespace, **stand_ins)   context manager: names swapped for the block's duration
    route_warnings_to_stdout()
    CheckFailed: the AssertionError every check raises
"""

from __future__ import annotations

import contextlib
import re
import sys
import sysconfig
import traceback
import warnings
from pathlib import Path

import numpy as np

from helpers.gradcheck import rel_error

# Frames from these folders say nothing about the student's code: this package, the
# installed libraries (IPython's own, which runs the cell), the standard library.
NOT_THE_STUDENTS = tuple(
    Path(folder).resolve()
    for folder in {Path(__file__).parent, *map(sysconfig.get_path, ("purelib", "stdlib"))}
)


def headline(error: BaseException) -> str:
    """``Name: message``, the name in red as IPython prints it: the first line of an error."""
    return f"\x1b[0;31m{type(error).__name__}\x1b[0m: {error}"


class CheckFailed(AssertionError):
    """A check of a test cell failed. IPython shows the message (what is wrong, then a hint)
    first, then the test cell's line that failed; frames of ``helpers`` and of the libraries
    are left out."""

    def _render_traceback_(self) -> list[str]:
        lines = [headline(self)]
        for frame in traceback.extract_tb(self.__traceback__):
            path = Path(frame.filename).resolve()
            if not any(path.is_relative_to(folder) for folder in NOT_THE_STUDENTS):
                lines.append(f"    line {frame.lineno}: {frame.line}")
        return lines


def route_warnings_to_stdout() -> None:
    """Print Python and NumPy warnings to standard output instead of standard error.

    The autograder scores a test cell 0 when it writes anything to stderr; a harmless NumPy
    warning raised by a correct answer must not cost points, yet students should still see it.
    """

    def show(message, category, filename, lineno, file=None, line=None):
        sys.stdout.write(warnings.formatwarning(message, category, filename, lineno, line))

    warnings.showwarning = show


def _as_array(name: str, got) -> np.ndarray:
    if isinstance(got, tuple):
        raise CheckFailed(
            f"{name} should be an array but is a tuple of {len(got)} items: "
            "did you return several values where one was expected?"
        )
    if got is None:
        raise CheckFailed(f"{name} is None: did the function forget to `return` it?")
    array = np.asarray(got)
    if not np.issubdtype(array.dtype, np.number) and array.dtype != bool:
        raise CheckFailed(
            f"{name} should hold numbers, got {type(got).__name__} of {array.dtype}"
        )
    return array


def _shape_hint(got: tuple, expected: tuple) -> str:
    if len(expected) == 2 and got == expected[::-1]:
        return "it looks transposed: check which factor of the product needs .T"
    if len(expected) == 2 and expected[1] == 1 and got == (expected[0],):
        return "the column was flattened: sum with keepdims=True to keep shape (n, 1)"
    if got == ():
        return "it is a single number: did the sum run over every axis instead of one?"
    if len(expected) == 2 and got == (expected[1],):
        return "summed over the wrong axis: axis=0 adds down the rows, axis=1 along them"
    if len(expected) == 2 and expected[1] == 1 and len(got) == 2 and got[0] == 1 != got[1]:
        return ("a row instead of a column: the sum ran over axis 0, the units; the examples "
                "are the columns, axis=1")
    return ""


def _value_hint(got: np.ndarray, expected: np.ndarray, m: int | None) -> str:
    def near(a, b):
        return bool(np.allclose(a, b, rtol=1e-6, atol=1e-12))

    subject = "it is" if got.ndim == 0 else "every entry is"
    if m and m > 1 and near(got, expected * m):
        return f"{subject} m = {m} times too large: the mean needs a factor 1/m"
    if m and m > 1 and near(got * m, expected):
        return f"{subject} m = {m} times too small: 1/m was applied twice"
    if np.any(expected) and near(got, -expected):
        return "the sign is flipped"
    if not np.any(got) and np.any(expected):
        return f"{subject} 0"
    return ""


def _slip_hint(got: np.ndarray, slips: dict | None) -> str:
    """The hint of the named slip whose result ``got`` is, if any. A tuple holds what the
    variants of one slip give (``A @ B`` or ``B @ A``)."""
    for hint, values in (slips or {}).items():
        for value in values if isinstance(values, tuple) else (values,):
            value = np.asarray(value, dtype=float)
            if got.shape == value.shape and np.allclose(got, value, rtol=1e-6, atol=1e-9):
                return hint
    return ""


def _same_shape_and_finite(name: str, got, expected, slips=None) -> tuple[np.ndarray, np.ndarray]:
    """Both as arrays, after checking the shape (with a hint) and that ``got`` is finite."""
    # float copies: booleans (masks) cannot be subtracted
    got, expected = _as_array(name, got).astype(float), np.asarray(expected, dtype=float)
    if got.shape != expected.shape:
        hint = _slip_hint(got, slips) or _shape_hint(got.shape, expected.shape)
        raise CheckFailed(
            f"{name}: expected shape {expected.shape}, got {got.shape}"
            + (f"; {hint}" if hint else "")
        )
    assert_finite(name, got)
    return got, expected


def assert_close(name: str, got, expected, *, m: int | None = None, slips: dict | None = None,
                 rtol=1e-6, atol=1e-9):
    """Check an array against the expected one and explain the first difference found.

    Args:
        name: what the array is called in the exercise, e.g. ``"dW"``.
        got: the student's array.
        expected: the expected array.
        m: the number of examples, when the array carries a ``1/m`` (for the hint).
        slips: ``{hint: what that mistake gives}`` for the exercise's typical slips; a tuple
            of results when the slip has variants.
        rtol, atol: tolerances as in ``numpy.allclose``.
    """
    got, expected = _same_shape_and_finite(name, got, expected, slips)
    error = np.abs(got - expected)
    bad = error > atol + rtol * np.abs(expected)
    if np.any(bad):
        hint = _slip_hint(got, slips) or _value_hint(got, expected, m)
        if got.ndim == 0:
            raise _numbers_differ(name, float(got), float(expected), hint)
        where = np.unravel_index(np.argmax(np.where(bad, error, -1)), error.shape)
        raise CheckFailed(
            f"{name}: {np.count_nonzero(bad)} of {got.size} entries differ; the largest error is "
            f"{error[where]:.3g} at index {list(map(int, where))} (expected {expected[where]:.6g}, "
            f"got {got[where]:.6g})" + (f"; {hint}" if hint else "")
        )


def assert_scalar_close(name: str, got, expected, *, m: int | None = None,
                        slips: dict | None = None, rtol=1e-6, atol=1e-9):
    """Check a number (e.g. the loss) and say if it came back as an array instead.

    ``m``, the number of examples, lets the message spot a missing or doubled ``1/m``;
    ``slips`` as for ``assert_close``.
    """
    if np.ndim(_as_array(name, got)) != 0:
        raise CheckFailed(
            f"{name} should be a single number, got an array of shape {np.shape(got)}: "
            "sum over every entry (or take the mean) to reduce it"
        )
    got, expected = float(got), float(expected)
    assert_finite(name, got)
    if abs(got - expected) > atol + rtol * abs(expected):
        hint = _slip_hint(np.array(got), slips) or _value_hint(np.array(got), np.array(expected), m)
        raise _numbers_differ(name, got, expected, hint)


def _numbers_differ(name: str, got: float, expected: float, hint: str) -> CheckFailed:
    return CheckFailed(f"{name}: expected {expected:.6g}, got {got:.6g}"
                       + (f"; {hint}" if hint else ""))


def assert_gradient(name: str, analytic, numeric, *, m: int | None = None,
                    slips: dict | None = None, tolerance=1e-7):
    """Check a backward pass's gradient against a numerical one (from ``helpers.gradcheck``).

    ``m``, the number of examples, lets the message spot a missing or doubled ``1/m``;
    ``slips`` as for ``assert_close``.
    """
    analytic, numeric = _same_shape_and_finite(name, analytic, numeric, slips)
    error = rel_error(analytic, numeric)
    if error > tolerance:
        assert_close(name, analytic, numeric, m=m, slips=slips, rtol=tolerance, atol=tolerance)
        raise CheckFailed(f"{name}: relative error {error:.2e} against the numerical gradient")


@contextlib.contextmanager
def replaced(namespace: dict, **stand_ins):
    """Within the block, the names in ``namespace`` (a notebook's ``globals()``) are the
    stand-ins; afterwards the originals are back, whatever happened in the block.

    A context manager rather than ``try``/``finally`` in the test cell: IPython then points at
    the line that failed, not at the ``finally`` block.
    """
    missing = object()
    saved = {name: namespace.get(name, missing) for name in stand_ins}
    namespace.update(stand_ins)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is missing:
                namespace.pop(name, None)
            else:
                namespace[name] = value


def assert_finite(name: str, got) -> None:
    """Fail with a clear message when an array holds nan or inf."""
    got = _as_array(name, got)
    if not np.all(np.isfinite(got)):
        nan, inf = int(np.isnan(got).sum()), int(np.isinf(got).sum())
        raise CheckFailed(
            f"{name} holds {nan} nan and {inf} inf values: a log or division of 0 somewhere?"
        )


# A number as printed: digits with an optional exponent, then an optional per cent sign.
PRINTED_NUMBER = re.compile(r"(\d+(?:\.(\d*))?|\.(\d+))(?:[eE]([-+]?\d+))?(\s*%)?")


def printed_numbers(text: str) -> list[tuple[float, float, bool]]:
    """Each number in ``text`` as ``(value, half of its last digit, followed by %)``."""
    numbers = []
    for match in PRINTED_NUMBER.finditer(text):
        decimals = len(match.group(2) or match.group(3) or "")
        exponent = int(match.group(4) or 0)
        value = float(match.group(1)) * 10.0**exponent
        numbers.append((value, 0.5 * 10.0 ** (exponent - decimals), bool(match.group(5))))
    return numbers


def assert_printed_number(name: str, printed: str, expected: float) -> None:
    """Check that ``printed`` (what a function printed) shows the fraction ``expected`` honestly:
    exactly, or rounded to the digits shown with at least 2 decimals (``0.087`` for
    ``0.0869565``), or as a percentage with a % sign (``8.7%``, ``9%``)."""
    percentages = []
    for value, half, percent in printed_numbers(printed):
        target, precision = (100 * expected, half / 100) if percent else (expected, half)
        if abs(value - target) <= 1e-9 * max(1.0, abs(target)):
            return
        if precision <= 0.005 + 1e-12 and abs(value - target) <= half * (1 + 1e-9):
            return
        if not percent and half <= 0.5 + 1e-12 and abs(value - 100 * expected) <= half * (1 + 1e-9):
            percentages.append(value)
    shown = printed.strip()
    if percentages:
        raise CheckFailed(
            f"{name}: printed {percentages[0]:g}, which is the {name} as a percentage: print the "
            f"fraction ({expected:.3f}) or add a % sign ({100 * expected:.1f}%)")
    raise CheckFailed(
        f"{name}: expected {expected:.6g} (e.g. {expected:.3f} or {100 * expected:.1f}%), "
        + (f"printed {shown!r}" if shown else "nothing was printed"))


def assert_answer(name: str, got, expected, *, rtol: float = 0.02) -> None:
    """Check ``got``, the answer to a question of a notebook held in the variable ``name``: a
    letter (``"b"``) or a short string (``"4,9"``), whose case and spaces do not matter, or a
    number (within ``rtol`` of ``expected``, since a student may round).

    An unanswered question (still None) raises NotImplementedError, as an unwritten exercise
    does."""
    if got is None:
        raise NotImplementedError(f"{name} is not answered yet")
    if isinstance(expected, str):
        if not isinstance(got, str) or "".join(got.split()).lower() != expected.lower():
            raise CheckFailed(f"{name}: {got!r} is not the right choice")
        return
    try:
        value = float(got)
    except (TypeError, ValueError):
        raise CheckFailed(f"{name} should be a number, got {got!r}") from None
    if not abs(value - expected) <= rtol * abs(expected):
        raise CheckFailed(f"{name}: {value:g} is not the right value")
