"""Shared fixtures: a seeded random generator and small networks in the course's conventions."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.forward import L_layer_forward, initialize_parameters


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


def small_network(rng, dimensions, m=4, output="softmax"):
    """Parameters, inputs and targets of a small network whose gradients are O(1).

    Biases are random (not zero) so that every ReLU unit is clearly on or off: no
    pre-activation lies within 1e-3 of the kink, where centred differences with h = 1e-5
    would straddle it and disagree with the analytic derivative.
    """
    parameters = initialize_parameters(dimensions, scheme="he", rng=rng)
    for name in parameters:
        if name.startswith("b"):
            parameters[name] = rng.standard_normal(parameters[name].shape) * 0.5
    X = rng.standard_normal((dimensions[0], m))
    n_out = dimensions[-1]
    if output == "sigmoid":
        Y = rng.integers(0, 2, size=(1, m)).astype(float)
    else:
        Y = np.eye(n_out)[:, rng.integers(0, n_out, size=m)]
    _, memories = L_layer_forward(X, parameters, output=output)
    Z_all = np.concatenate([Z.ravel() for (_, Z) in memories[:-1]] or [np.ones(1)])
    assert np.min(np.abs(Z_all)) > 1e-3, "draw landed on a ReLU kink; change the seed"
    return parameters, X, Y
