"""Tools of the hidden tests: instructor-only, like ``helpers.instructor.reference``, its import.

Hidden tests run in the student's kernel, after the student's code. They
    * draw fresh random cases (``random_network``, ``random_layer``),
    * run the student's function with the reference versions of the earlier exercises swapped
      into the notebook's namespace (``reference_versions``), so that a mistake in an earlier
      notebook never costs points in a later one,
    * silence NumPy warnings while the student's code runs (``quiet``): the autograder gives 0
      to a test cell that writes to stderr, and a correct answer may warn,
    * check the answer against centred differences too (``numerical_*``), so that a grade never
      rests on the reference implementation alone,
    * refuse to grade when the comparison tools they rely on were replaced (``assert_untampered``).

Interface:
    graded_answers(names) -> reference functions (entry point backprop.graded_answers)
    reference_versions(namespace, *names)   context manager
    forbid_reference(*names)                context manager
    quiet()                                 context manager
    random_network(rng, dimensions, m=4, output="softmax") -> (parameters, X, Y)
    random_layer(rng, n_prev, n, m, activation) -> (dH, memory)
    numerical_activation_backward(dH, Z, activation)       -> dZ
    numerical_layer_backward(dH, memory, activation)       -> (dH_prev, dW, db)
    numerical_network_gradients(parameters, X, Y, output)  -> {"dW1": ..., "dH0": ...}
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
from helpers.forward import (
    L_layer_forward,
    initialize_parameters,
    layer_forward,
    linear_forward,
    relu,
    sigmoid,
)
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


def random_network(rng: np.random.Generator, dimensions: list[int], m: int = 4, output="softmax"):
    """Parameters, inputs and targets of a small network whose gradients are of order 1.

    Biases are random (not zero) and the draw is repeated until every hidden pre-activation is
    at least 1e-3 away from ReLU's kink, where centred differences would straddle it.

    Returns:
        ``(parameters, X, Y)``: ``X`` is ``(dimensions[0], m)``; ``Y`` is one-hot
        ``(n_L, m)``, or a 0/1 row ``(1, m)`` for a sigmoid output.
    """
    while True:
        parameters = initialize_parameters(dimensions, scheme="he", rng=rng)
        for l in range(1, len(dimensions)):
            parameters[f"b{l}"] = rng.standard_normal((dimensions[l], 1)) * 0.5
        X = rng.standard_normal((dimensions[0], m))
        _, memories = L_layer_forward(X, parameters, output=output)
        hidden_Z = [Z for (_, Z) in memories[:-1]]
        if all(np.min(np.abs(Z)) > 1e-3 for Z in hidden_Z):
            break
    n_out = dimensions[-1]
    if output == "sigmoid":
        Y = rng.integers(0, 2, size=(1, m)).astype(float)
    else:
        Y = np.eye(n_out)[:, rng.integers(0, n_out, size=m)]
    return parameters, X, Y


def random_layer(rng: np.random.Generator, n_prev: int, n: int, m: int, activation="relu"):
    """An upstream gradient and a layer memory, with every ``Z`` at least 1e-3 from 0.

    Returns:
        ``(dH, memory)`` with ``dH`` ``(n, m)`` and ``memory = ((H_prev, W, b), Z)``.
    """
    while True:
        H_prev, W = rng.standard_normal((n_prev, m)), rng.standard_normal((n, n_prev))
        b = rng.standard_normal((n, 1))
        Z, linear_memory = linear_forward(H_prev, W, b)
        if activation != "relu" or np.min(np.abs(Z)) > 1e-3:
            return rng.standard_normal((n, m)), (linear_memory, Z)


def numerical_activation_backward(dH: np.ndarray, Z: np.ndarray, activation: str) -> np.ndarray:
    """``dZ`` by centred differences of ``sum(dH * g(Z))``; ``Z`` must keep away from 0 for ReLU."""
    g = {"relu": relu, "sigmoid": sigmoid}[activation]
    Z = Z.astype(float)  # a copy: centred differences perturb it
    return gradcheck.numerical_gradient_array(lambda: g(Z)[0], Z, dH)


def numerical_layer_backward(dH: np.ndarray, memory, activation: str):
    """``(dH_prev, dW, db)`` by centred differences, in the course's convention.

    ``dW`` and ``db`` carry the ``1/m`` of the averaged loss; ``dH_prev`` is per example.
    """
    (H_prev, W, b), _ = memory
    H_prev, W, b = H_prev.astype(float), W.astype(float), b.astype(float)
    m = H_prev.shape[1]

    def output():
        return layer_forward(H_prev, W, b, activation)[0]

    return (
        gradcheck.numerical_gradient_array(output, H_prev, dH),
        gradcheck.numerical_gradient_array(output, W, dH) / m,
        gradcheck.numerical_gradient_array(output, b, dH) / m,
    )


def numerical_network_gradients(parameters: dict, X: np.ndarray, Y: np.ndarray, output="softmax"):
    """Every ``dW<l>``, ``db<l>`` and ``dH0`` by centred differences of the averaged loss.

    ``dH0`` is per example (the loss's gradient times ``m``), as ``L_layer_backward`` returns it.
    """
    parameters = {name: value.astype(float) for name, value in parameters.items()}
    X = X.astype(float)
    m = X.shape[1]

    def loss(p=parameters):
        return reference.compute_loss(L_layer_forward(X, p, output=output)[0], Y)

    gradients = gradcheck.numerical_parameter_gradients(loss, parameters)
    gradients["dH0"] = gradcheck.numerical_gradient(loss, X) * m
    return gradients


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
