"""Numerical gradients by centred differences, to check hand-written backward passes.

For a scalar function ``f`` of an array ``x``, ``df/dx[i] ~ (f(x + h e_i) - f(x - h e_i)) / 2h``
with an error of order ``h**2``. In float64 with ``h = 1e-5`` the relative error of a correct
analytic gradient is typically below 1e-8; a wrong one is off by more than 1e-2.

Interface:
    numerical_gradient(f, x, h=1e-5)                   -> array shaped like x
    numerical_gradient_array(f, x, df, h=1e-5)         -> array shaped like x
    numerical_parameter_gradients(loss, parameters, h) -> {"dW1": ..., "db1": ..., ...}
    rel_error(x, y)                                    -> float
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def numerical_gradient(f: Callable[[], float], x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Gradient of the scalar ``f()`` with respect to the array ``x`` that ``f`` reads.

    ``x`` is perturbed in place one entry at a time (so ``f`` sees the change) and every entry
    is restored to its exact original value before returning.

    Args:
        f: a function of no arguments returning a scalar; it must read ``x``.
        x: a float array of any shape.
        h: the step.

    Returns:
        An array shaped like ``x``.
    """
    return numerical_gradient_array(lambda: np.asarray(f(), dtype=float), x, np.ones(()), h)


def numerical_gradient_array(
    f: Callable[[], np.ndarray], x: np.ndarray, df: np.ndarray, h: float = 1e-5
) -> np.ndarray:
    """Gradient of ``sum(f() * df)`` with respect to ``x``: the chain rule with upstream ``df``.

    This is what a backward function computes: given the gradient ``df`` of the loss with
    respect to the output of ``f``, the gradient with respect to its input ``x``.

    Args:
        f: a function of no arguments returning an array shaped like ``df``; it must read ``x``.
        x: a float array of any shape, perturbed in place and restored.
        df: upstream gradient shaped like ``f()``.
        h: the step.

    Returns:
        An array shaped like ``x``.
    """
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"x must be a float array to be perturbed, got dtype {x.dtype}")
    grad = np.zeros_like(x, dtype=np.float64)
    for index in np.ndindex(x.shape):
        original = x[index]
        x[index] = original + h
        plus = f()
        x[index] = original - h
        minus = f()
        x[index] = original
        grad[index] = np.sum((plus - minus) * df) / (2 * h)
    return grad


def numerical_parameter_gradients(
    loss: Callable[[dict], float], parameters: dict, h: float = 1e-5
) -> dict:
    """Numerical ``d<name>`` for every array in ``parameters``.

    Args:
        loss: function of the parameters dict returning the scalar loss.
        parameters: ``{"W1": ..., "b1": ..., ...}``; perturbed in place and restored.
        h: the step.

    Returns:
        ``{"dW1": ..., "db1": ..., ...}`` with the shapes of the parameters.
    """
    return {
        f"d{name}": numerical_gradient(lambda: loss(parameters), value, h)
        for name, value in parameters.items()
    }


def rel_error(x: np.ndarray, y: np.ndarray) -> float:
    """Largest relative difference ``|x - y| / max(1e-8, |x| + |y|)`` over all entries.

    The floor of 1e-8 keeps entries where both gradients are (nearly) zero from dividing
    zero by zero.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.shape != y.shape:
        raise ValueError(f"shapes differ: {x.shape} vs {y.shape}")
    if x.size == 0:
        return 0.0
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))
