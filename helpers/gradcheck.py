"""Numerical gradients by centred differences, to check hand-written backward passes.

For a scalar function ``f`` of an array ``x``, ``df/dx[i] ~ (f(x + h e_i) - f(x - h e_i)) / 2h``
with an error of order ``h**2``. In float64 with ``h = 1e-5`` the relative error of a correct
analytic gradient is typically below 1e-8; a wrong one is off by more than 1e-2.

Interface:
    numerical_gradient(f, x, h=1e-5)                   -> array shaped like x
    numerical_gradient_array(f, x, df, h=1e-5)         -> array shaped like x
    numerical_parameter_gradients(loss, parameters, h) -> {"dW1": ..., "db1": ..., ...}
    rel_error(x, y)                                    -> float

Random cases (every ReLU pre-activation at least 1e-3 from its kink, where centred differences
straddle it), and the course's backward steps computed numerically:
    random_network(rng, dimensions, m=4, output="softmax") -> (parameters, X, Y)
    random_layer(rng, n_prev, n, m, activation)            -> (dH, memory)
    random_backward_case(rng, dimensions, m=3, output)     -> (HL, Y, memories, G): dZ_L = G
    numerical_activation_backward(dH, Z, activation)       -> dZ
    numerical_layer_backward(dH, memory, activation)       -> (dH_prev, dW, db)
                                     (activation None: the affine map alone, dH is dZ)
    numerical_network_gradients(parameters, X, loss_of_output, output, on="HL")
                                                     -> {"dW1": ..., "db1": ..., "dH0": ...}
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from helpers.forward import (
    L_layer_forward,
    initialize_parameters,
    layer_forward,
    linear_forward,
    relu,
    sigmoid,
)


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


# --------------------------------------------------------------------------- random cases
# Inputs for checking backward passes, shared by the visible tests, the hidden tests and the
# project's own tests. They hold no answer: only the forward pass and centred differences.


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


def random_backward_case(rng: np.random.Generator, dimensions: list[int], m: int = 3,
                         output="softmax"):
    """A network's forward pass and targets that make ``L_layer_backward`` backpropagate an
    arbitrary ``dZ_L = G``: it only ever uses ``HL - Y``, so ``Y = HL - G`` does it.

    Returns:
        ``(HL, Y, memories, G)``.
    """
    parameters, X, _ = random_network(rng, dimensions, m, output)
    G = rng.standard_normal((dimensions[-1], m))
    HL, memories = L_layer_forward(X, parameters, output=output)
    return HL, HL - G, memories, G


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
    return numerical_gradient_array(lambda: g(Z)[0], Z, dH)


def numerical_layer_backward(dH: np.ndarray, memory, activation: str | None):
    """``(dH_prev, dW, db)`` by centred differences, in the course's convention.

    ``dW`` and ``db`` carry the ``1/m`` of the averaged loss; ``dH_prev`` is per example.
    ``activation=None`` differentiates ``Z = W H_prev + b`` alone: then ``dH`` is ``dZ``, as at
    the output layer, where ``dZ = HL - Y``.
    """
    (H_prev, W, b), _ = memory
    H_prev, W, b = H_prev.astype(float), W.astype(float), b.astype(float)
    m = H_prev.shape[1]

    def output():
        if activation is None:
            return linear_forward(H_prev, W, b)[0]
        return layer_forward(H_prev, W, b, activation)[0]

    return (
        numerical_gradient_array(output, H_prev, dH),
        numerical_gradient_array(output, W, dH) / m,
        numerical_gradient_array(output, b, dH) / m,
    )


def numerical_network_gradients(
    parameters: dict,
    X: np.ndarray,
    loss_of_output: Callable[[np.ndarray], float],
    output="softmax",
    *,
    on: str = "HL",
) -> dict[str, np.ndarray]:
    """Every ``dW<l>``, ``db<l>`` and ``dH0`` by centred differences of
    ``loss_of_output(HL)`` (or of ``loss_of_output(Z_L)``, the output layer's pre-activation,
    with ``on="ZL"``), a loss averaged over the ``m`` examples (columns of ``X``).

    ``dH0`` is per example (the loss's gradient times ``m``), as ``L_layer_backward`` returns it.
    """
    if on not in ("HL", "ZL"):
        raise ValueError(f'on must be "HL" or "ZL", got {on!r}')
    parameters = {name: value.astype(float) for name, value in parameters.items()}
    X = X.astype(float)
    m = X.shape[1]

    def loss(p=parameters):
        HL, memories = L_layer_forward(X, p, output=output)
        return loss_of_output(HL if on == "HL" else memories[-1][1])

    gradients = numerical_parameter_gradients(loss, parameters)
    gradients["dH0"] = numerical_gradient(loss, X) * m
    return gradients
